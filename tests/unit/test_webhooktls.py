"""The webhook serves a renewed certificate without a restart, and never a broken pair.

A real TLS server on loopback with the operator's context; the certificates are made by
openssl, and the renewal is done the way the kubelet updates a Secret volume: a new
timestamped folder, then the `..data` symlink swapped to it.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
from pathlib import Path

import pytest

from fwop import webhooktls

EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
RSA = ["-newkey", "rsa:2048"]


def _pair(folder: Path, name: str, key: list[str] = EC) -> bytes:
    """A self-signed certificate and its key in `folder`; returns the certificate in DER."""
    folder.mkdir(parents=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-nodes", *key, "-days", "1", "-subj", f"/CN={name}",
         "-keyout", str(folder / "tls.key"), "-out", str(folder / "tls.crt")],
        check=True, capture_output=True,
    )  # fmt: skip
    return ssl.PEM_cert_to_DER_cert((folder / "tls.crt").read_text())


def _mount(root: Path, version: str) -> None:
    """Point root/..data at root/<version>, atomically, as the kubelet does."""
    link = root / "..data.tmp"
    link.symlink_to(version)
    os.replace(link, root / "..data")


@pytest.fixture
def volume(tmp_path: Path) -> Path:
    """A Secret volume as the kubelet lays it out: tls.crt -> ..data/tls.crt."""
    root = tmp_path / "tls"
    root.mkdir()
    for name in ("tls.crt", "tls.key"):
        (root / name).symlink_to(Path("..data") / name)
    return root


async def _served(context: ssl.SSLContext, sni: str | None = None) -> bytes:
    """The certificate a fresh TLS connection to a server with `context` is shown (the API
    server sends the Service's name as SNI; a webhook called by IP gets none)."""
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    client = ssl.create_default_context()
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    try:
        _, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=client, server_hostname=sni
        )
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
    assert der is not None
    return bytes(der)


async def test_a_renewed_pair_is_served_to_new_connections(volume: Path) -> None:
    first = _pair(volume / "..v1", "first")
    _mount(volume, "..v1")
    tls = webhooktls.ReloadingContext(volume / "tls.crt", volume / "tls.key")
    assert await _served(tls.context) == first
    assert tls.reload_if_changed() is False  # nothing changed

    second = _pair(volume / "..v2", "second")
    _mount(volume, "..v2")
    assert tls.reload_if_changed() is True
    assert await _served(tls.context) == second


async def test_a_pair_that_does_not_match_keeps_the_loaded_one(volume: Path) -> None:
    first = _pair(volume / "..v1", "first")
    _pair(volume / "..v2", "second")
    _mount(volume, "..v1")
    tls = webhooktls.ReloadingContext(volume / "tls.crt", volume / "tls.key")
    mixed = volume / "..v3"
    mixed.mkdir()
    (mixed / "tls.crt").write_bytes((volume / "..v2" / "tls.crt").read_bytes())
    (mixed / "tls.key").write_bytes((volume / "..v1" / "tls.key").read_bytes())
    _mount(volume, "..v3")

    assert tls.reload_if_changed() is False
    assert await _served(tls.context) == first
    # Retried at the next poll: once the pair matches again, it loads.
    (mixed / "tls.key").unlink()
    (mixed / "tls.key").write_bytes((volume / "..v2" / "tls.key").read_bytes())
    assert tls.reload_if_changed() is True


async def test_files_gone_keep_the_loaded_pair(volume: Path) -> None:
    first = _pair(volume / "..v1", "first")
    _mount(volume, "..v1")
    tls = webhooktls.ReloadingContext(volume / "tls.crt", volume / "tls.key")
    (volume / "..data").unlink()
    assert tls.reload_if_changed() is False
    assert await _served(tls.context) == first


async def test_watch_reloads_on_its_own(volume: Path) -> None:
    _pair(volume / "..v1", "first")
    _mount(volume, "..v1")
    tls = webhooktls.ReloadingContext(volume / "tls.crt", volume / "tls.key")
    watcher = asyncio.create_task(tls.watch(interval=0.01))
    try:
        second = _pair(volume / "..v2", "second")
        _mount(volume, "..v2")
        for _ in range(200):
            if await _served(tls.context) == second:
                break
            await asyncio.sleep(0.01)
        assert await _served(tls.context) == second
    finally:
        watcher.cancel()


@pytest.mark.parametrize("sni", [None, "fwop-webhook.fwop-system.svc"])
async def test_a_pair_of_another_key_type_replaces_the_old_one(
    volume: Path, sni: str | None
) -> None:
    """ECDSA to RSA (a bank PKI's certificate under the same Secret): loaded into the live
    context, OpenSSL would keep both, one per key type, and go on serving the ECDSA one."""
    _pair(volume / "..v1", "ecdsa")
    _mount(volume, "..v1")
    tls = webhooktls.ReloadingContext(volume / "tls.crt", volume / "tls.key")
    rsa = _pair(volume / "..v2", "rsa", RSA)
    _mount(volume, "..v2")
    assert tls.reload_if_changed() is True
    assert await _served(tls.context, sni) == rsa
