"""The compliance report as one self-contained HTML page an auditor opens in a browser.

Rendered by Jinja2 with autoescaping on (values come from cluster objects a team wrote:
a name, a message or an observed value must never become markup) from the report's JSON
shape (``report.build``). Charts are inline SVG drawn from numbers computed here; the page
loads nothing (its Content-Security-Policy forbids scripts and remote content), so it
opens the same offline, from an e-mail or an evidence archive. Must not: do I/O beyond
reading its own template.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jinja2

MAX_DETAILED = 2000
"""Workloads shown with every control and its evidence (non-compliant first); the JSON and
CSV outputs hold them all."""
HEAL_BUCKETS = ((1.0, "< 1 s"), (5.0, "1-5 s"), (30.0, "5-30 s"), (300.0, "30 s-5 min"),
                (float("inf"), "> 5 min"))  # fmt: skip
"""Time-to-heal histogram buckets: upper bound (exclusive) and label."""
MAX_CHART_NAMESPACES = 30
MAX_FLEET_ROWS = 2000
"""Pod controllers outside the baseline listed per cluster; JSON and CSV hold them all."""

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("fwop.compliance", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


_ENVIRONMENT.filters["percent"] = _percent
_ENVIRONMENT.filters["seconds"] = _seconds


def heal_histogram(seconds: Sequence[float]) -> list[dict[str, Any]]:
    """Counts per bucket, with each bar's share of the largest (for the SVG)."""
    counts = [0] * len(HEAL_BUCKETS)
    for value in seconds:
        index = next(i for i, (bound, _) in enumerate(HEAL_BUCKETS) if value < bound)
        counts[index] += 1
    top = max(counts) or 1
    return [
        {"label": label, "count": count, "share": count / top}
        for (_, label), count in zip(HEAL_BUCKETS, counts, strict=True)
    ]


def _detailed(report: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """(cluster, workload) pairs to show in full, non-compliant first; and how many not."""
    every = [{"context": c["context"], **w} for c in report["clusters"] for w in c["workloads"]]
    rank = {"non-compliant": 0, "incomplete": 1, "not-judged": 2, "compliant": 3}
    every.sort(key=lambda w: (rank.get(w["state"], 3), w["context"], w["namespace"], w["name"]))
    return every[:MAX_DETAILED], max(0, len(every) - MAX_DETAILED)


def render(report: Mapping[str, Any]) -> str:
    """The HTML page for a report."""
    detailed, left_out = _detailed(report)
    heal = [
        i["secondsToHeal"]
        for c in report["clusters"]
        for i in c["drift"]["incidents"]
        if i["secondsToHeal"] is not None
    ]
    return _ENVIRONMENT.get_template("report.html.j2").render(
        report=report,
        detailed=detailed,
        left_out=left_out,
        histogram=heal_histogram(heal),
        max_chart_namespaces=MAX_CHART_NAMESPACES,
        max_fleet_rows=MAX_FLEET_ROWS,
    )
