"""Where the operator's memory goes, on demand: a tracemalloc breakdown for operators.

With ``FWOP_TRACEMALLOC=1`` the operator traces allocations from its start, and each
SIGUSR1 logs one JSON line: where the traced heap was allocated (by source line and by
module), and what holds it: the deep size of each registered holder (the store's
workloads, children, references and pods, the verdict memo), counting an object shared by
two holders once, for the first. So the memory per workload and per child can be read off
a running operator (docs/scale.md). Tracing costs CPU and memory itself: for measurement,
never in production.
Must not: change what the operator does.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import tracemalloc
from collections.abc import Callable, Mapping

from fwop import logs

_log = logs.get(__name__)
ENV = "FWOP_TRACEMALLOC"
Holders = Callable[[], Mapping[str, object]]
_holders: list[Holders] = []


def start() -> None:
    """Trace allocations when FWOP_TRACEMALLOC=1, and dump a breakdown on SIGUSR1."""
    if os.environ.get(ENV) != "1":
        return
    tracemalloc.start(1)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump)


def hold(holders: Holders) -> None:
    """Register named roots whose deep size each dump reports (cheap until a dump)."""
    _holders.append(holders)


def deep_sizes(roots: Mapping[str, object]) -> dict[str, int]:
    """Bytes reachable from each root through containers, each object counted once.

    Follows dicts, lists, tuples and sets, and the attributes of the project's own objects
    and pydantic models (what the caches are made of), so a root never drags in modules or
    the event loop; the stdlib has no deep sizeof and this one needs no dependency in the
    operator's image.
    """
    seen: set[int] = set()
    sizes: dict[str, int] = {}
    for name, root in roots.items():
        total, stack = 0, [root]
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            total += sys.getsizeof(obj)
            if isinstance(obj, dict | list | tuple | set | frozenset) or _ours(obj):
                stack.extend(gc.get_referents(obj))
        sizes[name] = total
    return sizes


def _ours(obj: object) -> bool:
    module = type(obj).__module__
    return not isinstance(obj, type) and (
        module.startswith("fwop.") or hasattr(type(obj), "__pydantic_fields__")
    )


def dump(top: int = 25) -> None:
    """Log the biggest allocation sites and modules of the traced heap."""
    snapshot = tracemalloc.take_snapshot().filter_traces(
        (tracemalloc.Filter(False, tracemalloc.__file__),)
    )
    lines = snapshot.statistics("lineno")
    modules: dict[str, int] = {}
    for stat in snapshot.statistics("filename"):
        path = stat.traceback[0].filename
        name = path.split("site-packages/")[-1].split("/fwop/")[-1]
        modules[name] = modules.get(name, 0) + stat.size
    _log.info(
        "memory",
        traced_mib=round(sum(s.size for s in lines) / 2**20, 1),
        by_line=[
            f"{s.traceback[0].filename.split('/')[-1]}:{s.traceback[0].lineno} "
            f"{s.size / 2**20:.1f} MiB ({s.count} blocks)"
            for s in lines[:top]
        ],
        by_module={
            k: round(v / 2**20, 1) for k, v in sorted(modules.items(), key=lambda kv: -kv[1])[:top]
        },
        held_mib={
            k: round(v / 2**20, 2) for holders in _holders for k, v in deep_sizes(holders()).items()
        },
    )
