"""manifests/monitoring: every query of the Grafana dashboard and of the alerts names a
metric the operator exports, and the alerts cover what docs/compliance.md promises."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from fwop import metrics

MONITORING = Path(__file__).resolve().parents[2] / "manifests" / "monitoring"
METRIC = re.compile(r"\b((?:fwop|process)_[a-z_]+)\b")
SUFFIXES = ("_bucket", "_sum", "_count", "_total", "_created", "_info")


def exported() -> set[str]:
    names: set[str] = set()
    for family in metrics.REGISTRY.collect():
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names


def known(name: str) -> bool:
    found = exported()
    return name in found or any(name.removesuffix(s) in found for s in SUFFIXES)


def queries() -> list[tuple[str, str]]:
    dashboard: dict[str, Any] = json.loads((MONITORING / "fwop-dashboard.json").read_text())
    found = [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p["targets"]]
    rules = yaml.safe_load((MONITORING / "prometheusrule.yaml").read_text())
    found += [(r["alert"], r["expr"]) for g in rules["spec"]["groups"] for r in g["rules"]]
    return found


def test_every_query_names_only_exported_metrics() -> None:
    for title, expr in queries():
        names = METRIC.findall(expr)
        assert names or "up{" in expr, (title, expr)
        for name in names:
            assert known(name), f"{title}: {name} is not exported by fwop.metrics"


def test_the_alerts_promised() -> None:
    rules = yaml.safe_load((MONITORING / "prometheusrule.yaml").read_text())
    alerts = {r["alert"] for g in rules["spec"]["groups"] for r in g["rules"]}
    assert alerts == {
        "FwopWorkloadNonCompliant",
        "FwopDriftUnhealed",
        "FwopWebhookDown",
        "FwopNoLeader",
        "FwopReconcileErrors",
    }


def test_the_dashboard_panels_do_not_overlap() -> None:
    dashboard = json.loads((MONITORING / "fwop-dashboard.json").read_text())
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        pos = panel["gridPos"]
        mine = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                for y in range(pos["y"], pos["y"] + pos["h"])}  # fmt: skip
        assert not cells & mine, panel["title"]
        assert pos["x"] + pos["w"] <= 24
        cells |= mine
