"""Rewrite the README's benchmark rows from the figures the benchmarks saved.

    .venv/bin/python bench/readme.py       # make bench runs it after the benchmarks

Reads build/bench-drift.json and build/bench-webhook.json (bench/drift_heal.py and
bench/webhook_latency.py write them) and replaces the figure cell of the README's "drift:"
and "webhook:" rows; a row whose figures are missing is left as it is. The other rows
(cold build, scale from several runs, HA) are measured by other commands and kept.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def drift(f: dict[str, Any]) -> str:
    parts = f.get("status_parts") or {}
    changed = ", ".join(f"{k} {v:.2f}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1]))
    what = f" (what they changed, per heal: {changed})" if changed else ""
    return (
        f"p50 {f['p50']} ms, p90 {f['p90']} ms, p99 {f['p99']} ms, max {f['max']} ms;"
        f" {f['children']:.2f} child write, {f['status']:.2f} status writes{what},"
        f" {f['events']:.2f} Event per heal ({f['refused']} writes refused, retried;"
        f" measured {f['measured']})"
    )


def webhook(f: dict[str, Any]) -> str:
    one, many = f["one"], f["many"]
    return (
        f"1 client: p50 {one['p50']} ms, p99 {one['p99']} ms, {one['rate']} reviews/s;"
        f" {f['clients']} client processes: p50 {many['p50']} ms, p99 {many['p99']} ms,"
        f" {many['rate']} reviews/s; inside the operator: {f['under_2_5_ms']}% judged under"
        f" 2.5 ms (measured {f['measured']})"
    )


ROWS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "| drift:": ("drift", drift),
    "| webhook:": ("webhook", webhook),
}


def rewrite(text: str, figures: dict[str, dict[str, Any]]) -> str:
    """The README with each row whose figures exist rewritten; the rest unchanged."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        for prefix, (name, cell) in ROWS.items():
            if line.startswith(prefix) and name in figures:
                what, _, command = (part.strip() for part in line.strip().strip("|").split(" | "))
                lines[i] = f"| {what} | {cell(figures[name])} | {command} |\n"
    return "".join(lines)


def main() -> int:
    figures = {}
    for name in ("drift", "webhook"):
        path = REPO / "build" / f"bench-{name}.json"
        if path.exists():
            figures[name] = json.loads(path.read_text())
    README.write_text(rewrite(README.read_text(encoding="utf-8"), figures), encoding="utf-8")
    print(f"README rows rewritten: {', '.join(sorted(figures)) or 'none'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
