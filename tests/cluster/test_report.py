"""fwctl report and fwctl inspect against a real API server, and the HTML report opened in a
real headless Chromium: what an auditor sees is what the cluster holds.

Two kubeconfig contexts name the same local cluster ("bank-eu", "bank-us"): the fleet path
(one read per context, one report) is exercised with the one cluster there is.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import browser
import pytest
import workloads as wl
import yaml
from conftest import Kube, Operator
from kubernetes import client
from support import eventually

pytestmark = pytest.mark.cluster

NAME = "ledger"
CONTEXTS = ("bank-eu", "bank-us")
FWCTL = str(Path(sys.executable).parent / "fwctl")
SCREENSHOT = os.environ.get("FWOP_REPORT_SCREENSHOT")
"""Where to keep the page's screenshot (make docs-screenshot sets it for the README)."""


def fleet_kubeconfig(kube: Kube, path: Path) -> Path:
    """The cluster under test under two context names, as a fleet's kubeconfig would."""
    admin = json.loads(
        kube.kubectl("config", "view", "--raw", "--minify", "--flatten", "-o", "json").stdout
    )
    admin["contexts"] = [
        {"name": name, "context": dict(admin["contexts"][0]["context"])} for name in CONTEXTS
    ]
    admin["current-context"] = CONTEXTS[0]
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(admin))
    return path


def fwctl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"KUBECONFIG": str(kubeconfig)}
    return subprocess.run(
        [FWCTL, *args], capture_output=True, text=True, check=False, env=env, timeout=120
    )


def unhardened(namespace: str) -> dict[str, Any]:
    """A Deployment a team applied by hand: none of the baseline."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "legacy", "namespace": namespace},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "legacy"}},
            "template": {
                "metadata": {"labels": {"app": "legacy"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


@pytest.fixture
def estate(
    kube: Kube, operator: Operator, tmp_path: Path
) -> Iterator[tuple[str, dict[str, Any], Path]]:
    """A workload in audit mode with a tamper left in place, and an unmanaged Deployment."""
    ns = f"r-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    wl.apply(kube, wl.manifest(NAME, ns, wl.spec(enforcement="audit", network={"allowDNS": True})))
    obj = wl.wait_ready(kube, ns, NAME)
    client.AppsV1Api(kube.api).create_namespaced_deployment(ns, unhardened(ns))
    ops = [{"op": "replace", "path": "/spec/template/spec/containers/0/securityContext/"
            "allowPrivilegeEscalation", "value": True}]  # fmt: skip
    kube.kubectl(
        "patch", "deployment", NAME, "-n", ns, "--type=json", "-p", json.dumps(ops), *wl.AS_TRUSTED
    )
    api = client.CustomObjectsApi(kube.api)

    def failing() -> bool | None:
        try:
            doc = api.get_namespaced_custom_object(
                "wgpolicyk8s.io", "v1alpha2", ns, "policyreports", f"fwop-{obj['metadata']['uid']}"
            )
        except client.ApiException:
            return None
        return any(r["rule"] == "POD-3" and r["result"] == "fail" for r in doc["results"]) or None

    eventually(failing, 60, "POD-3 failing in the PolicyReport")
    try:
        yield ns, obj, fleet_kubeconfig(kube, tmp_path / "kubeconfig")
    finally:
        core.delete_namespace(ns)


def test_report_json_holds_every_context_every_control_and_the_evidence(
    kube: Kube, estate: tuple[str, dict[str, Any], Path]
) -> None:
    ns, obj, kubeconfig = estate
    done = fwctl(kubeconfig, "report", "-o", "json", *(f"--context={c}" for c in CONTEXTS))
    assert done.returncode == 0, done.stderr
    built = json.loads(done.stdout)
    assert built["schema"] == "fwop.report/v1"
    assert [c["context"] for c in built["clusters"]] == list(CONTEXTS)
    deployment = client.AppsV1Api(kube.api).read_namespaced_deployment(NAME, ns)
    for cluster in built["clusters"]:
        item = next(w for w in cluster["workloads"] if (w["namespace"], w["name"]) == (ns, NAME))
        assert item["uid"] == obj["metadata"]["uid"]
        assert item["state"] == "non-compliant"
        assert {"POD-3", "DRF-1"} <= set(item["failing"])
        pod3 = next(c for c in item["controls"] if c["control"] == "POD-3")
        assert pod3["frameworks"]["pci-dss"]
        assert any(e["uid"] == deployment.metadata.uid
                   and "allowPrivilegeEscalation" in e["field"] + e["observed"]
                   for e in pod3["evidence"]), pod3["evidence"]  # fmt: skip
        incident = next(i for i in cluster["drift"]["incidents"] if i["workload"] == NAME
                        and i["namespace"] == ns)  # fmt: skip
        assert incident["healedAt"] is None  # audit mode: reported, not healed
        judged = {(j["namespace"], j["name"]): j for j in cluster["fleet"]["judged"]}
        assert judged[(ns, "legacy")]["managedBy"] is None
        assert {"POD-1", "POD-3", "RBAC-1"} <= set(judged[(ns, "legacy")]["failing"])
        assert judged[(ns, NAME)]["managedBy"] == NAME
    pci = next(f for f in built["frameworks"] if f["key"] == "pci-dss")
    assert pci["failed"] >= 1
    assert "1 cluster" not in done.stderr
    assert "2 cluster(s)" in done.stderr


def test_report_csv_and_inspect(estate: tuple[str, dict[str, Any], Path]) -> None:
    ns, _, kubeconfig = estate
    done = fwctl(kubeconfig, "report", "-o", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    ours = [r for r in rows if r["namespace"] == ns and r["source"] == "operator"]
    assert len({r["control"] for r in ours}) == len(ours)
    assert next(r for r in ours if r["control"] == "POD-3")["result"] == "fail"
    legacy = [r for r in rows if r["namespace"] == ns and r["name"] == "legacy"]
    assert {r["source"] for r in legacy} == {"inspect"}

    inspected = fwctl(kubeconfig, "inspect", "-o", "json")
    assert inspected.returncode == 1, inspected.stderr  # a workload outside the baseline
    cluster = json.loads(inspected.stdout)["clusters"][0]
    namespace = next(n for n in cluster["namespaces"] if n["name"] == ns)
    assert (namespace["workloads"], namespace["managed"], namespace["outside"]) == (2, 1, 2)
    assert 0 < namespace["score"] < 1
    table = fwctl(kubeconfig, "inspect").stdout
    assert any(ns in line and "legacy" in line and "POD-3" in line for line in table.splitlines())
    missing = fwctl(kubeconfig, "inspect", "--context", "nowhere")
    assert missing.returncode == 2
    assert "no context 'nowhere'" in missing.stderr
    unwritable = fwctl(kubeconfig, "report", "--out", str(kubeconfig.parent / "no" / "r.json"))
    assert unwritable.returncode == 2
    assert unwritable.stderr.startswith("fwctl report: cannot write ")
    assert "Traceback" not in unwritable.stderr


def test_the_html_report_shows_the_auditor_what_the_cluster_holds(
    operator: Operator, estate: tuple[str, dict[str, Any], Path], tmp_path: Path
) -> None:
    ns, _, kubeconfig = estate
    page_file = tmp_path / "report.html"
    done = fwctl(kubeconfig, "report", "-o", "html", "--out", str(page_file),
                 "--evidence", str(operator.log_path))  # fmt: skip
    assert done.returncode == 0, done.stderr

    async def seen(page: browser.Page) -> dict[str, Any]:
        found: dict[str, Any] = await page.evaluate(
            f"""({{
              text: document.body.innerText,
              title: document.title,
              charts: document.querySelectorAll('svg[role=img]').length,
              bars: document.querySelectorAll('svg rect').length,
              scripts: document.scripts.length,
              open: document.getElementById('w-{CONTEXTS[0]}-{ns}-{NAME}').open,
              failCells: [...document.querySelectorAll('#w-{CONTEXTS[0]}-{ns}-{NAME} td.fail')]
                .map(td => td.parentElement.cells[0].innerText),
              width: document.documentElement.scrollWidth,
            }})"""
        )
        found["png"] = await page.screenshot()
        return found

    shown = browser.look(page_file.as_uri(), seen)
    if SCREENSHOT:
        Path(SCREENSHOT).write_bytes(shown["png"])
    text = shown["text"]
    assert shown["title"] == f"Compliance report: {CONTEXTS[0]}"
    for expected in ("PCI DSS v4.0.1", "DORA", "ISO/IEC 27001:2022", "Drift incidents",
                     f"{ns}/{NAME}", f"{ns}/legacy", "Audit period", "hash chain intact",
                     "Time to heal"):  # fmt: skip
        assert expected in text, expected
    assert shown["open"] is True  # a non-compliant workload opens with its controls
    assert {"POD-3", "DRF-1"} <= set(shown["failCells"])
    assert shown["charts"] >= 3
    assert shown["bars"] > 10
    assert shown["scripts"] == 0
    assert shown["width"] <= 1300  # nothing runs off the side of the page
    assert shown["png"].startswith(b"\x89PNG\r\n\x1a\n")
