"""`helm install` of the two charts on a real cluster runs the operator; `helm uninstall`
of both leaves nothing.

It runs after test_uninstall.py has removed `make install`'s objects (conftest orders the
`uninstall` tests), so the charts install into a cluster without fwop. As there, the
operator's pods are admitted under Pod Security "restricted" and turn Running on the kwok
nodes but run no code, so the operator that reconciles is the session's subprocess, now
under the ServiceAccount and RBAC the chart installed and bounded by the chart's guard
policies; the chart's webhook configuration (its rules, match conditions and failurePolicy)
is pointed at that subprocess, and the cluster policy comes from the chart's values.
"""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import charts
import pytest
import webhook
import workloads as wl
import yaml
from conftest import REPO, InstalledOperator, Kube, Operator, token_kubeconfig
from installs import (
    CLUSTER_OBJECTS,
    CRDS,
    chains,
    check_install,
    exists,
    owned_by,
    ready_workloads,
)
from kubernetes import client
from support import eventually

pytestmark = [pytest.mark.cluster, pytest.mark.uninstall(order=1)]

POLICY = yaml.safe_load((REPO / "tests" / "cluster" / "policy.yaml").read_text())


def helm(kube: Kube, *args: str) -> str:
    return charts.helm(*args, kubeconfig=kube.kubeconfig)


def point_webhook_at(kube: Kube, operator: Operator) -> None:
    """The chart's webhook configuration, sent to the subprocess operator on loopback."""
    session = webhook.registration(
        operator.webhook_port, (operator.cert_dir / "tls.crt").read_bytes()
    )
    patch = [
        {
            "op": "replace",
            "path": "/webhooks/0/clientConfig",
            "value": session["webhooks"][0]["clientConfig"],
        }
    ]
    kube.kubectl(
        "patch", "validatingwebhookconfiguration", "fwop", "--type=json", "-p", json.dumps(patch)
    )
    # Admission now goes through the chart's configuration only.
    kube.kubectl("delete", "validatingwebhookconfiguration", webhook.NAME, "--ignore-not-found")


def tls(kube: Kube) -> dict[str, bytes]:
    secret = client.CoreV1Api(kube.api).read_namespaced_secret("fwop-webhook-tls", "fwop-system")
    return {k: base64.b64decode(v) for k, v in secret.data.items()}


def rotation_keeps_the_old_ca_trusted(kube: Kube, values: list[str]) -> None:
    """An upgrade keeps the self-generated certificate; one within renewBeforeDays of its
    end makes a new one, and the API server trusts the new CA and the previous one."""
    first = tls(kube)
    helm(kube, "upgrade", "fwop", str(charts.OPERATOR), "-n", "default", "--wait", *values)
    assert tls(kube) == first
    # Time passes: the recorded end comes within renewBeforeDays (30), so the next upgrade
    # renews (forcing past the field ownership of this very edit).
    soon = str(int(time.time()) + 86400)
    kube.kubectl("annotate", "secret", "fwop-webhook-tls", "-n", "fwop-system", "--overwrite",
                 f"fwop.finance.compliance.dev/not-after={soon}")  # fmt: skip
    upgrade = ["upgrade", "fwop", str(charts.OPERATOR), "-n", "default", "--wait"]
    helm(kube, *upgrade, "--force-conflicts", *values)
    second = tls(kube)
    assert second["tls.crt"] != first["tls.crt"]
    assert second["ca.crt"].count(b"BEGIN CERTIFICATE") == 2
    assert second["ca.crt"].endswith(first["ca.crt"].strip() + b"\n")
    assert chains(second["ca.crt"], second["tls.crt"])
    assert chains(second["ca.crt"], first["tls.crt"])  # the pods' old one, until they reload
    hook = client.AdmissionregistrationV1Api(kube.api).read_validating_webhook_configuration("fwop")
    assert base64.b64decode(hook.webhooks[0].client_config.ca_bundle) == second["ca.crt"]
    # An end further away than a certificate made today could have is not believed.
    kube.kubectl("annotate", "secret", "fwop-webhook-tls", "-n", "fwop-system", "--overwrite",
                 "fwop.finance.compliance.dev/not-after=9223372036854775807")  # fmt: skip
    helm(kube, *upgrade, "--force-conflicts", *values)
    third = tls(kube)
    assert third["tls.crt"] != second["tls.crt"]
    assert chains(third["ca.crt"], second["tls.crt"])


def test_helm_install_runs_the_operator_and_uninstall_leaves_nothing(
    kube: Kube, operator: Operator, namespace: str, tmp_path: Path
) -> None:
    if not kube.local and os.environ.get("FWOP_E2E_UNINSTALL") != "1":
        pytest.skip(
            "installs and uninstalls the charts: local cluster only, or FWOP_E2E_UNINSTALL=1"
        )
    if isinstance(operator, InstalledOperator):
        pytest.skip("runs the operator as a subprocess under the chart's identity")
    assert not exists(kube, "crd", CRDS[0]), "test_uninstall.py runs first and removes fwop"

    helm(
        kube,
        "install",
        "fwop-crds",
        str(charts.CRDS),
        "-n",
        "default",
        "--set",
        "keep=false",
        "--wait",
    )
    policy = charts.sets({"policy": {"create": True, "spec": POLICY["spec"]}})
    helm(kube, "install", "fwop", str(charts.OPERATOR), "-n", "default", "--wait", *policy)
    check_install(kube)
    rotation_keeps_the_old_ca_trusted(kube, policy)
    check_install(kube)
    live = kube.kubectl("get", "financialworkloadpolicy", "default", "-o", "json").stdout
    assert json.loads(live)["spec"]["allowedRegistries"] == POLICY["spec"]["allowedRegistries"]

    # The operator under the identity the chart installed (its ServiceAccount is new).
    operator.stop()
    operator.kubeconfig = token_kubeconfig(kube, tmp_path / "chart-operator.kubeconfig")
    operator.start()
    operator.wait_ready()
    point_webhook_at(kube, operator)

    # The chart's webhook and policy refuse an image from outside the policy's registries.
    foreign = wl.manifest("foreign", namespace, wl.spec(image=f"docker.io/library/app@{wl.DIGEST}"))
    refused = wl.apply(kube, foreign, check=False)
    assert refused.returncode != 0
    assert "IMG-2" in refused.stderr, refused.stderr

    uids = ready_workloads(kube, namespace)
    # Drift is healed under the chart's RBAC and guard policies: a deleted Role comes back.
    (role,) = [n for (kind, n) in wl.children(kube, namespace, "pci") if kind == "Role"]
    kube.kubectl("delete", "role", role, "-n", namespace)
    eventually(lambda: exists(kube, "role", role, namespace), 60, f"Role {role} recreated")

    helm(kube, "uninstall", "fwop", "-n", "default", "--wait", "--timeout", "120s")
    operator.stop()  # its pods went with the release
    # The CRDs' release keeps the workloads, and so their children, until it goes too.
    assert exists(kube, "financialworkload", "pci", namespace)
    helm(kube, "uninstall", "fwop-crds", "-n", "default", "--wait", "--timeout", "120s")

    eventually(lambda: not owned_by(kube, namespace, uids), 120, "children collected")
    eventually(
        lambda: not client.CoreV1Api(kube.api).list_namespaced_pod(namespace).items, 60, "pods gone"
    )
    left = [f"{kind}/{name}" for kind, name in CLUSTER_OBJECTS if exists(kube, kind, name)]
    assert left == []
    assert json.loads(helm(kube, "list", "--all-namespaces", "-o", "json")) == []
    records = kube.kubectl("get", "secrets", "--all-namespaces", "-l", "owner=helm", "-o", "name")
    assert records.stdout.strip() == ""
    # What the charts did not create stays: the PolicyReport CRDs the suite created before
    # (another tool's, as far as the chart can tell), another project's CRD, the namespace.
    assert exists(kube, "crd", "policyreports.wgpolicyk8s.io")
    assert exists(kube, "crd", "secretproviderclasses.secrets-store.csi.x-k8s.io")
    assert exists(kube, "namespace", namespace)
