"""Test-side webhook plumbing: point the API server at a subprocess operator on loopback.

The registration and the self-signed certificate are the ones `make run` uses
(cluster/devrun.py), so the tests exercise exactly that set-up.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "cluster"))

import devrun

NAME = devrun.WEBHOOK_NAME


def registration(port: int, ca: bytes) -> dict[str, Any]:
    """The ValidatingWebhookConfiguration for an operator listening on 127.0.0.1:port."""
    return devrun.registration(ca, port)


def certificate(directory: Path) -> bytes:
    """A self-signed serving certificate for 127.0.0.1 in `directory` (tls.crt, tls.key)."""
    return devrun.certificate(directory)
