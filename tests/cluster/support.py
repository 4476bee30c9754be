"""Small helpers shared by the cluster tests: polling with a deadline, Argo CD's health."""

from __future__ import annotations

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
