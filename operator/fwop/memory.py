"""Where the operator's memory goes, on demand: a tracemalloc breakdown for operators.

With ``FWOP_TRACEMALLOC=1`` the operator traces allocations from its start, and each
SIGUSR1 logs the largest holders by source line and by module (one JSON log line), so the
memory a store, a memo or kopf holds per workload can be read off a running operator
(docs/scale.md). Tracing costs CPU and memory itself: for measurement, never in production.
Must not: change what the operator does.
"""

from __future__ import annotations

import asyncio
import os
import signal
import tracemalloc

from fwop import logs

_log = logs.get(__name__)
ENV = "FWOP_TRACEMALLOC"


def start() -> None:
    """Trace allocations when FWOP_TRACEMALLOC=1, and dump a breakdown on SIGUSR1."""
    if os.environ.get(ENV) != "1":
        return
    tracemalloc.start(1)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump)


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
    )
