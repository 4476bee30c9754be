"""Operator options: flags with environment defaults, parsed once at start-up.

Must not: do I/O beyond reading the environment.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
from collections.abc import Mapping, Sequence
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Options:
    """How this operator instance runs."""

    log_level: str = "INFO"
    namespaces: tuple[str, ...] = ()
    """Watch only these namespaces; empty: the whole cluster."""
    peering: str | None = None
    """kopf peering object for active/standby HA; None: standalone."""
    priority: int = 0
    """Peering priority: the highest runs, the others stand by (must differ per replica)."""
    peering_lifetime: int = 15
    """Seconds after which a silent peer counts as gone: bounds the takeover time."""
    webhook_cert_dir: Path = Path("/etc/fwop/tls")
    """Holds tls.crt and tls.key for the admission webhook (mounted files, never Secrets)."""
    webhook_addr: str = "0.0.0.0"
    webhook_port: int = 9443
    http_addr: str = "0.0.0.0"
    http_port: int = 8080
    """/healthz, /readyz and /metrics; 0 disables the server."""

    @property
    def webhook_enabled(self) -> bool:
        """A webhook port of 0 turns admission off (e.g. for `make run` without TLS)."""
        return self.webhook_port != 0


def parse(argv: Sequence[str] | None = None, env: Mapping[str, str] = os.environ) -> Options:
    """Options from the command line, falling back to FWOP_* environment variables."""
    d = Options()
    parser = argparse.ArgumentParser(prog="fwop-operator", description="Run the fwop operator.")
    parser.add_argument("--log-level", default=env.get("FWOP_LOG_LEVEL", d.log_level))
    parser.add_argument(
        "--namespace",
        action="append",
        default=[],
        help="watch only this namespace (repeatable); default: the whole cluster",
    )
    parser.add_argument(
        "--peering",
        default=env.get("FWOP_PEERING"),
        help="kopf peering name for HA (active/standby); default: standalone",
    )
    parser.add_argument(
        "--priority",
        type=int,
        default=int(env.get("FWOP_PEERING_PRIORITY", random.randint(1, 1_000_000))),
        help="peering priority; default: random, so replicas never tie",
    )
    parser.add_argument(
        "--peering-lifetime",
        type=int,
        default=int(env.get("FWOP_PEERING_LIFETIME", d.peering_lifetime)),
        help="seconds after which a silent peer counts as gone (bounds takeover time)",
    )
    parser.add_argument(
        "--webhook-cert-dir",
        type=Path,
        default=Path(env.get("FWOP_WEBHOOK_CERT_DIR", str(d.webhook_cert_dir))),
    )
    parser.add_argument("--webhook-addr", default=env.get("FWOP_WEBHOOK_ADDR", d.webhook_addr))
    parser.add_argument(
        "--webhook-port",
        type=int,
        default=int(env.get("FWOP_WEBHOOK_PORT", d.webhook_port)),
        help="0 disables the admission webhook",
    )
    parser.add_argument("--http-addr", default=env.get("FWOP_HTTP_ADDR", d.http_addr))
    parser.add_argument(
        "--http-port",
        type=int,
        default=int(env.get("FWOP_HTTP_PORT", d.http_port)),
        help="port of /healthz, /readyz, /metrics; 0 disables them",
    )
    args = parser.parse_args(argv)
    return Options(
        log_level=args.log_level,
        namespaces=tuple(args.namespace),
        peering=args.peering,
        priority=args.priority,
        peering_lifetime=args.peering_lifetime,
        webhook_cert_dir=args.webhook_cert_dir,
        webhook_addr=args.webhook_addr,
        webhook_port=args.webhook_port,
        http_addr=args.http_addr,
        http_port=args.http_port,
    )
