"""The webhook's TLS context, reloaded when its certificate files change.

cert-manager renews the serving certificate weeks before it ends, and the chart's
self-generated mode makes a new one at an upgrade; the kubelet then swaps the mounted files.
kopf loads the certificate into its SSL context once, at start, so a replica that ran past
the old certificate's end would fail every TLS handshake, and with failurePolicy Fail the
API server would refuse every FinancialWorkload. The operator hands kopf a context of its
own and loads the new pair into it when the files change: new connections get the new
certificate, without a restart.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from fwop import logs

_log = logs.get(__name__)

# How often the files are looked at. The kubelet's own sync of a Secret volume takes up to
# about a minute, so polling more often would not make a renewal visible sooner.
POLL_SECONDS = 30.0

Stamp = tuple[tuple[int, int, int], ...]


def _stamp(*paths: Path) -> Stamp:
    """What changes when a file is replaced (stat follows the kubelet's ..data symlink)."""
    stats = [os.stat(p) for p in paths]
    return tuple((s.st_ino, s.st_mtime_ns, s.st_size) for s in stats)


def _load_checked(context: ssl.SSLContext, cert: Path, key: Path) -> None:
    """Load the pair into `context` only if the pair loads.

    A failed load_cert_chain leaves the new certificate in the context beside the old key,
    and every handshake fails. So the files are read once, and the very bytes are tried on
    a scratch context first: a file replaced in between cannot slip past the check. The
    copies live in a private folder under /tmp, which the operator's pod mounts in memory
    (manifests/deployment.yaml). This runs on the event loop's thread, as do the
    handshakes, so none sees the certificate before its key.
    """
    with tempfile.TemporaryDirectory(prefix="fwop-tls-") as scratch_dir:
        cert_copy, key_copy = Path(scratch_dir) / "tls.crt", Path(scratch_dir) / "tls.key"
        cert_copy.write_bytes(cert.read_bytes())
        key_copy.write_bytes(key.read_bytes())
        scratch = ssl.create_default_context(purpose=ssl.Purpose.CLIENT_AUTH)
        scratch.load_cert_chain(cert_copy, key_copy)
        context.load_cert_chain(cert_copy, key_copy)


@dataclass
class ReloadingContext:
    """A server SSL context holding the pair in `cert` and `key`, reloadable in place."""

    cert: Path
    key: Path
    context: ssl.SSLContext = field(init=False)
    _loaded: Stamp = field(init=False)

    def __post_init__(self) -> None:
        self.context = ssl.create_default_context(purpose=ssl.Purpose.CLIENT_AUTH)
        self._loaded = _stamp(self.cert, self.key)
        self.context.load_cert_chain(self.cert, self.key)

    def reload_if_changed(self) -> bool:
        """Load the pair again if either file changed since the last load.

        A pair that does not load (a key that does not match, a file half written by some
        other tool than the kubelet) keeps the previous certificate and is tried again at
        the next poll. Returns whether a new pair was loaded.
        """
        try:
            stamp = _stamp(self.cert, self.key)
        except OSError as exc:
            _log.warning("webhook certificate unreadable, keeping the loaded one", error=str(exc))
            return False
        if stamp == self._loaded:
            return False
        try:
            _load_checked(self.context, self.cert, self.key)
        except (OSError, ssl.SSLError) as exc:
            _log.warning("webhook certificate does not load, keeping the loaded one",
                         error=str(exc))  # fmt: skip
            return False
        self._loaded = stamp
        _log.info("webhook certificate reloaded", cert=str(self.cert))
        return True

    async def watch(self, interval: float = POLL_SECONDS) -> None:
        """Reload whenever the files change, until cancelled."""
        while True:
            await asyncio.sleep(interval)
            self.reload_if_changed()
