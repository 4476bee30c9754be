"""Small helpers shared by the cluster tests: polling with a deadline, Argo CD's health,
kstatus (what Flux reads) as sigs.k8s.io/cli-utils computes it."""

from __future__ import annotations

import functools
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from lupa import lua51

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout: float = 60, what: str = "") -> T:
    """Call `probe` until it returns something truthy; fail with its last value on timeout."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or probe}: last={last!r}")


HEALTH_SCRIPT = (
    Path(__file__).resolve().parents[2] / "manifests" / "argocd" / "health-financialworkload.lua"
).read_text()


def argo_health(obj: dict[str, Any]) -> tuple[str, str]:
    """(status, message) as Argo CD computes them for `obj` (Lua 5.1, as gopher-lua)."""
    lua = lua51.LuaRuntime()
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(HEALTH_SCRIPT)
    return str(result["status"]), str(result["message"])


REPO = Path(__file__).resolve().parents[2]
ARGO_TO_KSTATUS = {"Healthy": "Current", "Progressing": "InProgress", "Degraded": "Failed"}
"""What kstatus must say where Argo CD's health check says each status."""


@functools.cache
def _built() -> dict[str, str]:
    """The folders cluster/build.sh built (or found cached), by module: FWOP_BIN_<MODULE>."""
    out = subprocess.run(
        [str(REPO / "cluster" / "build.sh")], check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    return dict(
        line.removeprefix("export ").split("=", 1) for line in out.splitlines() if "=" in line
    )


def binary(module: str, name: str) -> str:
    """The path of the program `name` that cluster/build.sh built from cluster/gomod/<module>."""
    return str(Path(_built()[f"FWOP_BIN_{module.upper()}"]) / "bin" / name)


def kstatus(obj: dict[str, Any]) -> tuple[str, str]:
    """(status, message) of `obj` as kstatus computes them (cluster/gomod/kstatus)."""
    done = subprocess.run(
        [binary("kstatus", "kstatus")],
        input=json.dumps(obj),
        capture_output=True,
        text=True,
        check=True,
    )
    verdict = json.loads(done.stdout)
    return str(verdict["status"]), str(verdict["message"])


def agree(obj: dict[str, Any]) -> tuple[str, str]:
    """Argo CD's health of `obj`, after checking that kstatus says the same."""
    health, message = argo_health(obj)
    judged, why = kstatus(obj)
    assert judged == ARGO_TO_KSTATUS[health], (health, message, judged, why)
    return health, message
