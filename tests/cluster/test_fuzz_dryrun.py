"""The API server's PodSecurity admits the pods of fuzzed workloads that admission accepts.

A fixed sample of admitted documents (the strategies of tests/unit/fuzzing.py, fixed seed)
is rendered; a Pod built from each Deployment's pod template is created with server-side
dry run in a namespace carrying the Pod Security labels the operator renders (enforce,
audit and warn restricted, at the example policy's version), so the real PodSecurity
admission plugin judges it, and tests/unit/pss.py must agree. A pod with hostNetwork shows
that the namespace does enforce.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import Kube
from kubernetes import client
from kubernetes.client.rest import ApiException

from fwop.api import workload as workload_api
from fwop.compliance import verdicts
from fwop.render import namespace as namespace_render
from fwop.render import workload as render

# tests/unit is a package (unit.*) that pytest puts on the path only once it collects it,
# which is never under `pytest tests/cluster`, and after tests/cluster under `pytest tests`.
TESTS = str(Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.append(TESTS)
from unit import fuzzing, pss  # noqa: E402

pytestmark = pytest.mark.cluster

SAMPLE = 30
FORBIDDEN = 403


@pytest.fixture(scope="module")
def restricted_namespace(kube: Kube, crds: None) -> Iterator[str]:
    """A fresh namespace with the operator's PSS labels (enforce=restricted), deleted after."""
    name = f"fuzz-{uuid.uuid4().hex[:8]}"
    labels = namespace_render.pss_labels(fuzzing.POLICY.pod_security_version)
    core = client.CoreV1Api(kube.api)
    core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels=labels))
    )
    try:
        yield name
    finally:
        core.delete_namespace(name)


def pod_of(case: fuzzing.Case, namespace: str, index: int) -> dict[str, Any]:
    """A Pod with the pod template of the Deployment (or CronJob) rendered for the case."""
    workload = workload_api.parse(case.doc)
    children = render.render_all(
        namespace,
        workload.name,
        workload.spec,
        None,
        pod_security_version=fuzzing.POLICY.pod_security_version,
    )
    controller = next(c for c in children if c["kind"] in ("Deployment", "CronJob"))
    _, template = verdicts.template_of(controller)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"fuzz-{index:02d}",
            "namespace": namespace,
            "labels": template["metadata"]["labels"],
        },
        "spec": template["spec"],
    }


def _refusal(core: client.CoreV1Api, namespace: str, pod: dict[str, Any]) -> str | None:
    """None when the API server would create the pod (dry run), else its refusal."""
    try:
        core.create_namespaced_pod(namespace, pod, dry_run="All")
    except ApiException as exc:
        return f"HTTP {exc.status}: {json.loads(exc.body or '{}').get('message', exc.body)}"
    return None


@contextmanager
def classes_of(kube: Kube, pods: list[dict[str, Any]]) -> Iterator[None]:
    """The PriorityClasses and RuntimeClasses the pods name, as a platform team provides them:
    the Priority and RuntimeClass admission plugins refuse a pod naming a missing one."""
    scheduling, node = client.SchedulingV1Api(kube.api), client.NodeV1Api(kube.api)
    priorities = sorted(
        {p["spec"]["priorityClassName"] for p in pods if "priorityClassName" in p["spec"]}
    )
    runtimes = sorted(
        {p["spec"]["runtimeClassName"] for p in pods if "runtimeClassName" in p["spec"]}
    )
    made: list[tuple[Any, str]] = []
    try:
        for name in priorities:
            meta = client.V1ObjectMeta(name=name)
            scheduling.create_priority_class(client.V1PriorityClass(metadata=meta, value=100))
            made.append((scheduling.delete_priority_class, name))
        for name in runtimes:
            meta = client.V1ObjectMeta(name=name)
            node.create_runtime_class(client.V1RuntimeClass(metadata=meta, handler="runc"))
            made.append((node.delete_runtime_class, name))
        yield
    finally:
        for delete, name in made:
            delete(name)


def test_fuzzed_pods_pass_pod_security(kube: Kube, restricted_namespace: str) -> None:
    sample = fuzzing.accepted_sample(SAMPLE)
    assert len(sample) == SAMPLE, "the fixed seed should give enough admitted documents"
    core = client.CoreV1Api(kube.api)
    pods = [pod_of(case, restricted_namespace, index) for index, case in enumerate(sample)]
    # The pods run as the workload's own ServiceAccount, which must exist to be admitted.
    for account in sorted({pod["spec"]["serviceAccountName"] for pod in pods}):
        body = client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=account))
        core.create_namespaced_service_account(restricted_namespace, body)
    refused = []
    with classes_of(kube, pods):
        for case, pod in zip(sample, pods, strict=True):
            assert pss.template(pod) == [], case.dump()
            why = _refusal(core, restricted_namespace, pod)
            if why:
                refused.append(f"{pod['metadata']['name']}: {why}\n{case.dump()}")
    assert not refused, "\n\n".join(refused)


def test_namespace_enforces_restricted(kube: Kube, restricted_namespace: str) -> None:
    """A pod on the host network is refused by PodSecurity there, and by our checker."""
    case = fuzzing.accepted_sample(1, budget=10)[0]
    pod = pod_of(case, restricted_namespace, 99)
    pod["spec"]["serviceAccountName"] = "default"
    pod["spec"]["hostNetwork"] = True
    assert any(line.startswith("Host Namespaces") for line in pss.template(pod))
    why = _refusal(client.CoreV1Api(kube.api), restricted_namespace, pod)
    assert why is not None, "a hostNetwork pod was admitted in a restricted namespace"
    assert f"HTTP {FORBIDDEN}" in why, why
    assert "PodSecurity" in why, why
    assert "hostNetwork" in why, why
