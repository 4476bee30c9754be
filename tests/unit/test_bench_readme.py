"""bench/readme.py: the README's benchmark rows come from the figures the benchmarks saved."""

from __future__ import annotations

import importlib.util
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]
_SPEC = importlib.util.spec_from_file_location("bench_readme", REPO / "bench" / "readme.py")
assert _SPEC is not None
assert _SPEC.loader is not None
readme = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(readme)

DRIFT = {"measured": "2026-12-05", "p50": "17.7", "p90": "47.0", "p99": "151.5",
         "max": "211.5", "children": 1.0, "status": 1.98, "events": 1.0, "refused": 23}  # fmt: skip


def test_only_the_rows_with_figures_are_rewritten() -> None:
    text = (
        "| what | figure | command |\n|---|---|---|\n"
        "| drift: edit → healed | old figure | `make bench` |\n"
        "| webhook: 500 reviews | old webhook | `make bench` |\n"
        "| HA takeover | 5.0 s | `pytest` |\n"
    )
    out = readme.rewrite(text, {"drift": DRIFT})
    lines = out.splitlines()
    assert lines[2] == (
        "| drift: edit → healed | p50 17.7 ms, p90 47.0 ms, p99 151.5 ms, max 211.5 ms; 1.00"
        " child write, 1.98 status writes, 1.00 Event per heal (23 writes refused, retried;"
        " measured 2026-12-05) | `make bench` |"
    )
    assert lines[3:] == text.splitlines()[3:]


def test_the_readme_has_the_rows_it_rewrites() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    for prefix in readme.ROWS:
        assert sum(line.startswith(prefix) for line in text.splitlines()) == 1, prefix
