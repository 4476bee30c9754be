"""Shared set-up for the benchmarks: a local cluster (or KUBECONFIG), the CRDs, a policy,
and the operator as a subprocess. Standalone scripts, not tests: they print figures.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
LOCALCLUSTER = [sys.executable, str(REPO / "cluster" / "localcluster.py")]


@dataclass(frozen=True)
class Cluster:
    kubeconfig: Path
    state: Path | None  # the local cluster's state folder; None for KUBECONFIG

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        out = subprocess.run(
            [str(REPO / "cluster" / "build.sh")], check=True, capture_output=True, text=True
        ).stdout
        bindir = next(line.split("=", 1)[1] for line in out.splitlines() if "KUBERNETES" in line)
        return subprocess.run(
            [f"{bindir}/bin/kubectl", "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            check=True,
            capture_output=True,
            text=True,
        ).stdout


@contextlib.contextmanager
def cluster(name: str) -> Iterator[Cluster]:
    """KUBECONFIG's cluster, or a local one in .cluster/<name> torn down afterwards."""
    external = os.environ.get("KUBECONFIG")
    if external:
        yield Cluster(Path(external), None)
        return
    state = REPO / ".cluster" / name
    subprocess.run([*LOCALCLUSTER, "up", "--state-dir", str(state)], check=True)
    try:
        yield Cluster(state / "kubeconfig", state)
    finally:
        subprocess.run([*LOCALCLUSTER, "down", "--state-dir", str(state)], check=False)


def install(c: Cluster) -> None:
    """The project's CRDs, the PolicyReport CRDs, and the cluster tests' policy."""
    c.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
    c.kubectl("apply", "--server-side", "-f", str(REPO / "crds" / "wgpolicyk8s"))  # fresh cluster
    c.kubectl("wait", "--for=condition=Established", "crd", "--all")
    c.kubectl(
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        str(REPO / "tests" / "cluster" / "policy.yaml"),
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def operator(
    c: Cluster, log: Path, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes] | None]:
    """`fwop-operator` against the cluster, on loopback ports, until the block ends.

    Yields its process (None on an external cluster, which runs its own operator).
    """
    if c.state is None:  # an external cluster runs its own operator
        yield None
        return
    full = {
        **os.environ,
        "KUBECONFIG": str(c.kubeconfig),
        "FWOP_LOG_LEVEL": "WARNING",
        "FWOP_HTTP_PORT": "0",
        "FWOP_WEBHOOK_PORT": "0",
        "FWOP_WEBHOOK_ADDR": "127.0.0.1",
        **(env or {}),
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "fwop-operator")],
            env=full,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:  # never leave it running behind the benchmark
            proc.kill()
            proc.wait(30)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def save_figures(name: str, figures: dict[str, Any]) -> Path:
    """Write a benchmark's figures to build/bench-<name>.json, with the date measured."""
    out = REPO / "build" / f"bench-{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    stamped = {"measured": datetime.date.today().isoformat(), **figures}
    out.write_text(json.dumps(stamped, indent=2) + "\n")
    return out
