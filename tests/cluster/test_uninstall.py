"""`make install` then `make uninstall` on a real cluster: nothing of the operator is left.

On the local cluster, install puts the whole of manifests/ in place, with the webhook's
certificate; the operator's pods are admitted under Pod Security "restricted" and turn
Running on the kwok nodes, but run no code, so the webhook configuration (failurePolicy
Fail, nothing behind it) is removed before workloads are created, and the operator that
reconciles them is the session's subprocess under the ServiceAccount identity. Then
uninstall: the FinancialWorkloads go first and garbage collection takes their children
(no orphans), then every installed object. Marked `uninstall`, it runs after every other
test (conftest orders it); on another cluster it runs only with FWOP_E2E_UNINSTALL=1.
"""

from __future__ import annotations

import base64
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import workloads as wl
import yaml
from conftest import OPERATOR_NAMESPACE, REPO, InstalledOperator, Kube, Operator
from kubernetes import client
from support import eventually

pytestmark = [pytest.mark.cluster, pytest.mark.uninstall]

CRDS = (
    "financialworkloads.finance.compliance.dev",
    "financialworkloadpolicies.finance.compliance.dev",
)
# What install creates outside fwop-system (that namespace takes the rest with it).
CLUSTER_OBJECTS = (
    ("namespace", OPERATOR_NAMESPACE),
    ("clusterrole", "fwop"),
    ("clusterrolebinding", "fwop"),
    ("validatingwebhookconfiguration", "fwop"),
    *(("crd", name) for name in CRDS),
    *(
        (doc["kind"].lower(), doc["metadata"]["name"])
        for generated in ("guard-policy.yaml", "tenant-guard.yaml")
        for doc in yaml.safe_load_all((REPO / "manifests" / generated).read_text())
        if doc
    ),
)


def make(kube: Kube, target: str, build: Path) -> subprocess.CompletedProcess[str]:
    """Run a Makefile target against the cluster under test, with the suite's kubectl."""
    env = {
        **os.environ,
        "PATH": f"{Path(kube.kubectl_path).parent}{os.pathsep}{os.environ['PATH']}",
        "FWOP_BUILD_DIR": str(build),
        "FWOP_INSTALL_WAIT": "60",
    }
    args = [
        "make",
        "--no-print-directory",
        "-C",
        str(REPO),
        target,
        f"KUBECONFIG={kube.kubeconfig}",
    ]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"make {target}:\n{done.stdout}\n{done.stderr}"
    return done


def exists(kube: Kube, kind: str, name: str, namespace: str | None = None) -> bool:
    scope = ["-n", namespace] if namespace else []
    found = kube.kubectl("get", kind, name, *scope, "--ignore-not-found", "-o", "name")
    return bool(found.stdout.strip())


def check_install(kube: Kube) -> None:
    """The webhook's certificate chains to the CA injected into the webhook configuration,
    and the operator's pods passed Pod Security "restricted" onto two nodes."""
    secret = client.CoreV1Api(kube.api).read_namespaced_secret(
        "fwop-webhook-tls", OPERATOR_NAMESPACE
    )
    assert {"tls.crt", "tls.key", "ca.crt"} <= set(secret.data)
    hook = client.AdmissionregistrationV1Api(kube.api).read_validating_webhook_configuration("fwop")
    assert hook.webhooks[0].client_config.ca_bundle == secret.data["ca.crt"]
    assert hook.webhooks[0].failure_policy == "Fail"
    ca, cert = (base64.b64decode(secret.data[key]) for key in ("ca.crt", "tls.crt"))
    assert chains(ca, cert), "tls.crt does not chain to the injected CA"
    pods = client.CoreV1Api(kube.api).list_namespaced_pod(
        OPERATOR_NAMESPACE, label_selector="app.kubernetes.io/name=fwop"
    )
    assert len(pods.items) == 2
    assert len({p.spec.node_name for p in pods.items}) == 2  # spread over nodes
    for pod in pods.items:
        assert pod.status.phase == "Running"
        assert pod.spec.security_context.run_as_non_root is True


def chains(ca: bytes, cert: bytes) -> bool:
    """Whether `cert` is signed by `ca` and valid as a TLS server certificate now."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "ca.crt").write_bytes(ca)
        (Path(tmp) / "tls.crt").write_bytes(cert)
        done = subprocess.run(
            ["openssl", "verify", "-purpose", "sslserver", "-CAfile", f"{tmp}/ca.crt",
             f"{tmp}/tls.crt"],
            capture_output=True,
            check=False,
        )  # fmt: skip
        return done.returncode == 0


def owned_by(kube: Kube, namespace: str, uids: set[str]) -> list[str]:
    """Objects of every child kind in `namespace` whose owner is one of `uids`."""
    left = []
    for kind, (api_name, method) in wl.CHILD_LISTERS.items():
        for item in getattr(getattr(client, api_name)(kube.api), method)(namespace).items:
            if any(ref.uid in uids for ref in item.metadata.owner_references or []):
                left.append(f"{kind}/{item.metadata.name}")
    return left


def test_uninstall_leaves_no_workload_child_or_installed_object(
    kube: Kube, operator: Operator, namespace: str, tmp_path: Path
) -> None:
    if not kube.local and os.environ.get("FWOP_E2E_UNINSTALL") != "1":
        pytest.skip("uninstalls the operator: local cluster only, or FWOP_E2E_UNINSTALL=1")
    if not isinstance(operator, InstalledOperator):
        make(kube, "install", tmp_path / "build")
        check_install(kube)
        kube.kubectl("delete", "validatingwebhookconfiguration", "fwop")

    workloads: dict[str, dict[str, Any]] = {
        "plain": wl.spec(),
        "pci": wl.spec(
            profile="pci",
            replicas=2,
            ports=[{"name": "http", "containerPort": 8080}],
            permissions=[{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
        ),
    }
    uids = set()
    for name, body in workloads.items():
        wl.apply(kube, wl.manifest(name, namespace, body))
    for name in workloads:
        uids.add(wl.wait_ready(kube, namespace, name)["metadata"]["uid"])
    before = owned_by(kube, namespace, uids)
    assert {"Deployment", "Role", "RoleBinding", "PodDisruptionBudget"} <= {
        child.split("/")[0] for child in before
    }

    make(kube, "uninstall", tmp_path / "build")

    assert owned_by(kube, namespace, uids) == []
    pods = client.CoreV1Api(kube.api).list_namespaced_pod(namespace)
    eventually(
        lambda: not client.CoreV1Api(kube.api).list_namespaced_pod(namespace).items,
        60,
        f"pods of the workloads gone (had {len(pods.items)})",
    )
    left = [f"{kind}/{name}" for kind, name in CLUSTER_OBJECTS if exists(kube, kind, name)]
    assert left == []
    # What install did not create stays: another project's CRD, the workloads' namespace.
    assert exists(kube, "crd", "secretproviderclasses.secrets-store.csi.x-k8s.io")
    assert exists(kube, "namespace", namespace)
