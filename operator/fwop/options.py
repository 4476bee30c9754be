"""Operator options: flags with environment defaults, parsed once at start-up.

Must not: do I/O beyond reading the environment (and, in a pod, its namespace file).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Options:
    """How this operator instance runs."""

    log_level: str = "INFO"
    namespaces: tuple[str, ...] = ()
    """Watch only these namespaces; empty: the whole cluster."""
    lease: str | None = None
    """Name of the Lease for leader election (HA: one replica writes); None: standalone."""
    lease_namespace: str = "fwop-system"
    """Namespace of the Lease (in a pod: its own namespace)."""
    lease_duration: float = 15.0
    """Seconds without renewal after which a standby takes over: bounds the takeover time."""
    identity: str = ""
    """This replica's name in the Lease (default: host name and process id)."""
    resync_seconds: float = 600.0
    """Period of the fresh list that catches what a watch missed (jittered by 10%)."""
    workers: int = 16
    """Reconciles that run at once (docs/scale.md: sized from measurement)."""
    api_connections: int = 32
    """Requests to the API server that run at once (threads and pooled connections)."""
    webhook_cert_dir: Path = Path("/etc/fwop/tls")
    """Holds tls.crt and tls.key for the admission webhook (mounted files, never Secrets)."""
    webhook_addr: str = "0.0.0.0"
    webhook_port: int = 9443
    http_addr: str = "0.0.0.0"
    http_port: int = 8080
    """/healthz, /readyz and /metrics; 0 disables the server."""
    evidence_file: Path | None = None
    """Also append the evidence trail here (a persistent volume), and continue its chain
    after a restart; the trail always goes to stdout."""

    @property
    def webhook_enabled(self) -> bool:
        """A webhook port of 0 turns admission off (e.g. for `make run` without TLS)."""
        return self.webhook_port != 0


SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def _own_namespace() -> str | None:
    """The namespace of the pod this runs in, if it runs in one."""
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or None
    except OSError:
        return None


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
        "--lease",
        default=env.get("FWOP_LEASE"),
        help="Lease name for leader election (HA: only the holder writes); default: standalone",
    )
    parser.add_argument(
        "--lease-namespace",
        default=env.get("FWOP_LEASE_NAMESPACE", _own_namespace() or d.lease_namespace),
    )
    parser.add_argument(
        "--lease-duration",
        type=float,
        default=float(env.get("FWOP_LEASE_DURATION", d.lease_duration)),
        help="seconds without renewal after which a standby takes over",
    )
    parser.add_argument(
        "--identity",
        default=env.get("FWOP_IDENTITY", f"{socket.gethostname()}-{os.getpid()}"),
        help="this replica's name in the Lease",
    )
    parser.add_argument(
        "--resync-seconds",
        type=float,
        default=float(env.get("FWOP_RESYNC_SECONDS", d.resync_seconds)),
        help="period of the fresh list that catches missed watch events",
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
    parser.add_argument(
        "--workers",
        type=int,
        default=int(env.get("FWOP_WORKERS", d.workers)),
        help="reconciles that run at once",
    )
    parser.add_argument(
        "--api-connections",
        type=int,
        default=int(env.get("FWOP_API_CONNECTIONS", d.api_connections)),
        help="requests to the API server that run at once",
    )
    parser.add_argument(
        "--evidence-file",
        type=Path,
        default=env.get("FWOP_EVIDENCE_FILE") or None,
        help="also append the evidence trail to this file and continue its chain on restart",
    )
    args = parser.parse_args(argv)
    return Options(
        log_level=args.log_level,
        namespaces=tuple(args.namespace),
        lease=args.lease,
        lease_namespace=args.lease_namespace,
        lease_duration=args.lease_duration,
        identity=args.identity,
        resync_seconds=args.resync_seconds,
        workers=max(args.workers, 1),
        api_connections=max(args.api_connections, 1),
        webhook_cert_dir=args.webhook_cert_dir,
        webhook_addr=args.webhook_addr,
        webhook_port=args.webhook_port,
        http_addr=args.http_addr,
        http_port=args.http_port,
        evidence_file=args.evidence_file,
    )
