"""spec.identity on a real API server (IDN-1): the ServiceAccount carries the provider's
annotation and the pods the pull secrets; a tamper of the annotation is healed; IDN-1
passes in the PolicyReport; a role outside the policy's allowance and two clouds at once
are refused with the field and the control named."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import workloads as wl
from conftest import Kube, Operator
from kubernetes import client
from support import eventually

from fwop.api import identity

pytestmark = pytest.mark.cluster

NAME = "ledger-sync"
ROLE = "arn:aws:iam::123456789012:role/ledger-sync"  # tests/cluster/policy.yaml allows ledger-*
IDENTITY = {"imagePullSecrets": ["registry-bank-example"], "cloud": {"aws": {"roleArn": ROLE}}}


@pytest.fixture
def assumed(kube: Kube, operator: Operator) -> Iterator[tuple[str, dict[str, Any]]]:
    ns = f"i-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    wl.apply(kube, wl.manifest(NAME, ns, wl.spec(identity=IDENTITY)))
    yield ns, wl.wait_ready(kube, ns, NAME)
    core.delete_namespace(ns)


def test_the_account_is_annotated_the_pods_pull_with_the_secret_and_a_tamper_heals(
    kube: Kube, assumed: tuple[str, dict[str, Any]]
) -> None:
    ns, obj = assumed
    core = client.CoreV1Api(kube.api)
    account = core.read_namespaced_service_account(NAME, ns)
    assert account.metadata.annotations[identity.AWS_ANNOTATION] == ROLE
    template = client.AppsV1Api(kube.api).read_namespaced_deployment(NAME, ns).spec.template
    assert [s.name for s in template.spec.image_pull_secrets] == ["registry-bank-example"]
    report = eventually(lambda: wl.policy_report(kube, ns, obj["metadata"]["uid"]), 60, "report")
    idn = next(r for r in report["results"] if r["rule"] == "IDN-1")
    assert idn["result"] == "pass", idn["message"]

    admin = ROLE.replace("ledger-sync", "cluster-admin")
    path = "/metadata/annotations/" + identity.AWS_ANNOTATION.replace("/", "~1")
    ops = [{"op": "replace", "path": path, "value": admin}]
    kube.kubectl("patch", "serviceaccount", NAME, "-n", ns, "--type=json", "-p", json.dumps(ops))

    def healed() -> bool | None:
        found = core.read_namespaced_service_account(NAME, ns).metadata.annotations
        return found[identity.AWS_ANNOTATION] == ROLE or None

    eventually(healed, 30, "the role annotation healed")


@pytest.mark.parametrize(
    ("cloud", "message"),
    [({"aws": {"roleArn": "arn:aws:iam::123456789012:role/payments-admin"}},
      "spec.identity.cloud.aws.roleArn: cloud identity"),
     ({"aws": {"roleArn": ROLE}, "gcp": {"serviceAccount": "x@p.iam.gserviceaccount.com"}},
      "spec.identity.cloud sets exactly one of aws, gcp or azure (IDN-1)"),
     ({"aws": {"roleArn": "arn:aws:iam::123456789012:role/ledger-x/../admin"}},
      "spec.identity.cloud.aws.roleArn")],
    ids=["role-not-allowed", "two-clouds", "walked-out-of-the-prefix"],
)  # fmt: skip
def test_the_api_server_refuses_identities_the_policy_does_not_allow(
    kube: Kube, operator: Operator, namespace: str, cloud: dict[str, Any], message: str
) -> None:
    body = wl.spec(identity={"cloud": cloud})
    done = wl.apply(kube, wl.manifest("bad", namespace, body), check=False)
    assert done.returncode != 0
    assert message in done.stderr, done.stderr
