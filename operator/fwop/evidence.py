"""Writes the evidence trail (fwop.compliance.trail), one JSON line per record.

Records go to stdout for the log pipeline, and to a file when configured.

Retention past the cluster belongs to the log pipeline or SIEM that collects stdout. With a
file (``--evidence-file``, on a persistent volume) a restart continues the chain from the
file's last record; without one, each start opens a new chain with a ``chain-start`` record
that ``fwctl evidence verify`` reports as a notice, not a break.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from fwop import logs
from fwop.compliance import trail

_log = logs.get(__name__)
TAIL_BYTES = 256 * 1024
"""How much of the file's end is read to find its last record (records are capped)."""


def last_record(path: Path) -> dict[str, Any] | None:
    """The last trail record in ``path``, or None when there is none (or no file)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - TAIL_BYTES))
            text = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    found = None
    for _, record in trail.records(text.splitlines()):
        if "unreadable" not in record:
            found = record
    return found


class Trail:
    """The operator's evidence trail: ``trail(kind, **fields)`` writes one record."""

    def __init__(
        self,
        now: Callable[[], str],
        path: Path | None = None,
        out: TextIO | None = sys.stdout,
        replica: str = "",
    ) -> None:
        self.now = now
        self.path = path
        self.out = out
        last = last_record(path) if path is not None else None
        self.chain = trail.Chain.after(last)
        self(
            trail.START,
            continues=last["hash"] if last else None,
            file=str(path or ""),
            replica=replica,
        )

    def __call__(self, type_: str, /, **fields: Any) -> None:
        """Write one record of type ``type_`` (children-written, drift-healed...)."""
        record = self.chain.next(type_, self.now(), fields)
        line = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if self.out is not None:
            self.out.write(line + "\n")
            self.out.flush()
        if self.path is not None:
            try:
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(line + "\n")
            except OSError as exc:  # the record still went to stdout
                _log.error("evidence file not written", path=str(self.path), error=str(exc))


def workload(body: Mapping[str, Any]) -> dict[str, str]:
    """How a record names a FinancialWorkload."""
    meta = body.get("metadata") or {}
    return {
        "namespace": str(meta.get("namespace", "")),
        "name": str(meta.get("name", "")),
        "uid": str(meta.get("uid", "")),
    }


def silent() -> Callable[..., None]:
    """A trail that records nothing (unit tests, benchmarks of the pure parts)."""
    return lambda type_, /, **fields: None
