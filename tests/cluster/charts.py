"""The Helm charts under test (charts/), driven by the helm that cluster/build.sh builds.

helm v4 from the pinned module cluster/gomod/helm: lint, template (offline) and install
(against the cluster under test).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import support
import yaml

CHARTS = support.REPO / "charts"
OPERATOR, CRDS = CHARTS / "fwop", CHARTS / "fwop-crds"
# What helm adds to the objects of manifests/ (the release's labels, the keep policy).
HELM_LABELS = ("app.kubernetes.io/managed-by", "app.kubernetes.io/instance", "helm.sh/chart")
HELM_ANNOTATIONS = ("helm.sh/resource-policy",)

Key = tuple[str, str, str]


class HelmError(AssertionError):
    """helm refused: its message, without the chart loader's notes about symlinks."""


def helm(*args: str, kubeconfig: Path | None = None, timeout: float = 300) -> str:
    """Run helm; its stdout, or HelmError with what it said."""
    scope = ["--kubeconfig", str(kubeconfig)] if kubeconfig else []
    done = subprocess.run(
        [support.binary("helm", "helm"), *args, *scope],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        # charts/*/files link to manifests/ and crds/; helm logs each link it follows.
        said = [line for line in done.stderr.splitlines() if "symbolic link" not in line]
        raise HelmError("\n".join([*said, done.stdout]).strip())
    return done.stdout


def sets(values: dict[str, Any]) -> list[str]:
    """`--set-json` arguments for each dotted key of `values`."""
    return [
        arg for key, value in values.items() for arg in ("--set-json", f"{key}={json.dumps(value)}")
    ]


def template(
    chart: Path,
    values: dict[str, Any] | None = None,
    *,
    namespace: str = "default",
    release: str | None = None,
) -> list[dict[str, Any]]:
    """The objects `helm template` renders for `chart` with `values` (dotted keys), as the
    release `release` (the chart folder's name by default)."""
    args = ["--namespace", namespace, *sets(values or {})]
    out = helm("template", release or chart.name, str(chart), *args)
    return [doc for doc in yaml.safe_load_all(out) if doc]


def key(doc: dict[str, Any]) -> Key:
    meta = doc["metadata"]
    return doc["kind"], meta.get("namespace", ""), meta["name"]


def by_key(docs: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    found: dict[Key, dict[str, Any]] = {}
    for doc in docs:
        assert key(doc) not in found, f"{key(doc)} rendered twice"
        found[key(doc)] = doc
    return found


def without_helm(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` without what helm adds, to compare with what kustomize renders."""
    meta = doc["metadata"]
    for field, drop in (("labels", HELM_LABELS), ("annotations", HELM_ANNOTATIONS)):
        kept = {k: v for k, v in (meta.get(field) or {}).items() if k not in drop}
        if kept:
            meta[field] = kept
        else:
            meta.pop(field, None)
    return doc


def differences(left: Any, right: Any, path: str = "") -> list[str]:
    """The paths at which two parsed documents differ."""
    if isinstance(left, dict) and isinstance(right, dict):
        return [
            found
            for k in sorted(set(left) | set(right))
            for found in differences(left.get(k), right.get(k), f"{path}.{k}")
        ]
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [
            found
            for i, (a, b) in enumerate(zip(left, right, strict=True))
            for found in differences(a, b, f"{path}[{i}]")
        ]
    return [] if left == right else [path or "."]
