"""Admission on a real API server: the webhook refuses every bad file of tests/data with
the expected message, nothing is created, and `fwctl check` gives the same verdicts; the
webhook fails closed; policy changes turn existing workloads non-compliant, not broken.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import webhook
import workloads as wl
import yaml
from conftest import REPO, Kube, Operator
from kubernetes import client
from support import eventually

pytestmark = pytest.mark.cluster

DATA = REPO / "tests" / "data"
FWCTL = str(Path(sys.executable).parent / "fwctl")


@dataclass(frozen=True)
class Expect:
    field: str
    control: str
    substring: str


def expectations(path: Path) -> tuple[list[Expect], str]:
    expects, policy = [], "policy.yaml"
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        if m := re.match(r"# expect: (\S+) (\S+) (.+)$", line):
            expects.append(Expect(m[1], m[2], m[3].strip()))
        elif m := re.match(r"# policy: (\S+)", line):
            policy = m[1]
    return expects, policy


INVALID = sorted((DATA / "invalid").glob("*.yaml"))
BY_POLICY: dict[str, list[Path]] = {}
for _path in INVALID:
    BY_POLICY.setdefault(expectations(_path)[1], []).append(_path)


_IN_FORCE: list[Path] = []


def apply_policy(kube: Kube, path: Path) -> None:
    """Install a policy and wait until the operator has taken it (its status says so)."""
    if [path] == _IN_FORCE:
        return
    _IN_FORCE[:] = [path]
    kube.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(path))
    api = client.CustomObjectsApi(kube.api)

    def taken() -> bool:
        obj = api.get_cluster_custom_object(
            "finance.compliance.dev", "v1alpha1", "financialworkloadpolicies", "default"
        )
        status = obj.get("status", {})
        return status.get("observedGeneration") == obj["metadata"]["generation"]

    eventually(taken, 30, f"operator took policy {path.name}")
    time.sleep(0.5)  # the webhook reads the same cache; give the event a moment


@pytest.fixture(scope="module")
def data_policy(kube: Kube, operator: Operator) -> Iterator[None]:
    yield
    _IN_FORCE.clear()
    apply_policy(kube, REPO / "tests" / "cluster" / "policy.yaml")


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


@pytest.mark.parametrize(
    "path", [p for paths in BY_POLICY.values() for p in paths], ids=lambda p: p.stem
)
def test_webhook_refuses_with_the_expected_message(
    kube: Kube, operator: Operator, data_policy: None, path: Path
) -> None:
    expects, policy = expectations(path)
    assert expects, f"{path.name} has no expect lines"
    apply_policy(kube, DATA / policy)
    docs = _docs(path)
    namespace = next((d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"), None)
    created_ns = namespace or f"adm-{uuid.uuid4().hex[:8]}"
    namespaces = [d for d in docs if d["kind"] == "Namespace"] or [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": created_ns}}
    ]
    for ns_doc in namespaces:
        kube.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(ns_doc))
    try:
        workload_docs = [d for d in docs if d["kind"] == "FinancialWorkload"]
        result = kube.kubectl(
            "apply",
            "-n",
            created_ns,
            "-f",
            "-",
            stdin=yaml.safe_dump_all(workload_docs),
            check=False,
        )
        assert result.returncode != 0, f"{path.name} was admitted"
        for expect in expects:
            assert expect.field in result.stderr, (expect, result.stderr)
            assert expect.substring in result.stderr, (expect, result.stderr)
        listed = client.CustomObjectsApi(kube.api).list_namespaced_custom_object(
            wl.GROUP, wl.VERSION, created_ns, wl.PLURAL
        )
        assert listed["items"] == [], "nothing may be created for a refused file"
        # The same file, offline, gets the same verdict word for word.
        offline = subprocess.run(
            [FWCTL, "check", "--policy", str(DATA / policy), str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert offline.returncode == 1, offline.stdout + offline.stderr
        for expect in expects:
            line = next((x for x in offline.stdout.splitlines() if expect.field in x), None)
            assert line, (expect, offline.stdout)
            assert expect.substring in line, (expect, offline.stdout)
    finally:
        client.CoreV1Api(kube.api).delete_namespace(created_ns)


def test_valid_files_are_admitted(kube: Kube, operator: Operator, data_policy: None) -> None:
    valid = sorted((DATA / "valid").glob("*.yaml"), key=lambda p: (expectations(p)[1], p.name))
    for path in valid:  # grouped by the policy each file names (a header line)
        apply_policy(kube, DATA / expectations(path)[1])
        ns = f"ok-{uuid.uuid4().hex[:8]}"
        docs = _docs(path)
        namespace = next((d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"), ns)
        kube.kubectl("create", "namespace", namespace, check=False)
        result = kube.kubectl("apply", "-n", namespace, "-f", str(path), check=False)
        assert result.returncode == 0, (path.name, result.stderr)
        client.CoreV1Api(kube.api).delete_namespace(namespace)


def test_policy_change_marks_existing_workloads_non_compliant(
    kube: Kube, operator: Operator, data_policy: None, namespace: str
) -> None:
    _IN_FORCE.clear()
    apply_policy(kube, REPO / "tests" / "cluster" / "policy.yaml")
    _IN_FORCE.clear()  # the test edits the policy below
    wl.apply(kube, wl.manifest("legacy", namespace, wl.spec()))
    wl.wait_ready(kube, namespace, "legacy")
    before = wl.children(kube, namespace, "legacy")
    # The platform team narrows the registries; the running workload is not broken.
    narrowed = yaml.safe_load((REPO / "tests" / "cluster" / "policy.yaml").read_text())
    narrowed["spec"]["allowedRegistries"] = ["registry.bank.example/payments/"]
    kube.kubectl(
        "apply", "--server-side", "--force-conflicts", "-f", "-", stdin=yaml.safe_dump(narrowed)
    )

    def non_compliant() -> dict[str, Any] | None:
        obj = wl.get(kube, namespace, "legacy")
        cond = wl.condition(obj, "Compliant")
        return obj if cond and cond["reason"] == "PolicyViolation" else None

    obj = eventually(non_compliant, 30, "Compliant=False/PolicyViolation")
    assert "IMG-2" in wl.condition(obj, "Compliant")["message"]
    assert wl.condition(obj, "Ready")["status"] == "True"  # still running, not broken
    assert set(wl.children(kube, namespace, "legacy")) == set(before)
    events = client.CoreV1Api(kube.api).list_namespaced_event(
        namespace, field_selector="involvedObject.name=legacy,reason=PolicyViolation"
    )
    assert any("IMG-2" in e.message for e in events.items)

    def counted() -> bool:
        policy = client.CustomObjectsApi(kube.api).get_cluster_custom_object(
            "finance.compliance.dev", "v1alpha1", "financialworkloadpolicies", "default"
        )
        return bool(policy.get("status", {}).get("nonCompliant", 0) >= 1)

    eventually(counted, 30, "policy status counts the non-compliant workload")


def test_fail_closed_and_readiness_says_why(
    kube: Kube, operator: Operator, tmp_path: Path, namespace: str
) -> None:
    """An operator without its certificate is not ready, says why, and admits nothing."""
    if not kube.local:
        pytest.skip("re-points the webhook registration at a local process")
    broken = Operator(kube, tmp_path / "operator.log", kubeconfig=operator.kubeconfig)
    broken.cert_dir = tmp_path / "no-certificates"  # nothing mounted there
    broken.make_certs = False
    ca = (operator.cert_dir / "tls.crt").read_bytes()
    try:
        broken.extra_args = ["--namespace", "fwop-nothing-here"]
        broken.start()

        def readiness() -> tuple[int, str] | None:
            url = f"http://127.0.0.1:{broken.http_port}/readyz"
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    return resp.status, resp.read().decode()
            except urllib.error.HTTPError as exc:
                return exc.code, exc.read().decode()
            except OSError:
                return None

        status, why = eventually(readiness, 30, "readiness answer")
        assert status == 503
        assert "webhook" in why
        assert "certificate files not found" in why
        # Point the API server at the instance that cannot serve: writes are refused.
        kube.kubectl(
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            "-",
            stdin=yaml.safe_dump(webhook.registration(broken.webhook_port, ca)),
        )
        result = wl.apply(kube, wl.manifest("closed", namespace, wl.spec()), check=False)
        assert result.returncode != 0
        assert "failed calling webhook" in result.stderr
        listed = client.CustomObjectsApi(kube.api).list_namespaced_custom_object(
            wl.GROUP, wl.VERSION, namespace, wl.PLURAL
        )
        assert listed["items"] == []
    finally:
        kube.kubectl(
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            "-",
            stdin=yaml.safe_dump(webhook.registration(operator.webhook_port, ca)),
        )
        broken.stop()
