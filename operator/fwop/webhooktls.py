"""The webhook's TLS context, reloaded when its certificate files change.

cert-manager renews the serving certificate weeks before it ends, and the chart's
self-generated mode makes a new one at an upgrade; the kubelet then swaps the mounted files.
kopf loads the certificate into its SSL context once, at start, so a replica that ran past
the old certificate's end would fail every TLS handshake, and with failurePolicy Fail the
API server would refuse every FinancialWorkload. The operator hands kopf a context of its
own, and when the files change new handshakes are served from a fresh context with the new
pair, without a restart.
"""

from __future__ import annotations

import asyncio
import os
import ssl
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


def _server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A fresh server context holding one pair; raises if the pair does not load."""
    context = ssl.create_default_context(purpose=ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@dataclass
class ReloadingContext:
    """The context kopf serves with (`context`), handing each handshake to the latest pair.

    A renewed pair is loaded into a fresh context, never into the one in use: a failed
    load_cert_chain would leave a new certificate beside the old key, and a pair of
    another key type (ECDSA to RSA) would sit beside the old one rather than replace it,
    so the old certificate would still be served. The swap happens in the handshake's
    server-name callback, which OpenSSL calls for every handshake, with or without SNI.
    """

    cert: Path
    key: Path
    context: ssl.SSLContext = field(init=False)
    _current: ssl.SSLContext = field(init=False)
    _loaded: Stamp = field(init=False)

    def __post_init__(self) -> None:
        self._loaded = _stamp(self.cert, self.key)
        self.context = _server_context(self.cert, self.key)
        self._current = self.context
        self.context.sni_callback = self._choose

    def _choose(self, conn: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
        if self._current is not self.context:
            conn.context = self._current

    def reload_if_changed(self) -> bool:
        """Load the pair again if either file changed since the last load.

        A pair that does not load (a key that does not match, a pair read in the middle
        of a swap) keeps the previous one serving and is tried again at the next poll.
        Returns whether a new pair was loaded.
        """
        try:
            stamp = _stamp(self.cert, self.key)
        except OSError as exc:
            _log.warning("webhook certificate unreadable, keeping the loaded one", error=str(exc))
            return False
        if stamp == self._loaded:
            return False
        try:
            fresh = _server_context(self.cert, self.key)
        except (OSError, ssl.SSLError) as exc:
            _log.warning("webhook certificate does not load, keeping the loaded one",
                         error=str(exc))  # fmt: skip
            return False
        self._current, self._loaded = fresh, stamp
        _log.info("webhook certificate reloaded", cert=str(self.cert))
        return True

    async def watch(self, interval: float = POLL_SECONDS) -> None:
        """Reload whenever the files change, until cancelled."""
        while True:
            await asyncio.sleep(interval)
            self.reload_if_changed()
