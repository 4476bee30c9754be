"""What an install of the operator leaves in a cluster, shared by the tests of `make
install` / `make uninstall` (test_uninstall.py) and of the Helm charts (test_helm.py)."""

from __future__ import annotations

import base64
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import workloads as wl
import yaml
from conftest import OPERATOR_NAMESPACE, REPO, Kube
from kubernetes import client

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


def verify(ca: bytes, cert: bytes, hostname: str | None = None) -> subprocess.CompletedProcess[str]:
    """`openssl verify` of `cert` as a TLS server certificate against `ca` (and for
    `hostname`, when given)."""
    name = ["-verify_hostname", hostname] if hostname else []
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "ca.crt").write_bytes(ca)
        (Path(tmp) / "tls.crt").write_bytes(cert)
        return subprocess.run(
            ["openssl", "verify", "-purpose", "sslserver", *name, "-CAfile", f"{tmp}/ca.crt",
             f"{tmp}/tls.crt"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip


def chains(ca: bytes, cert: bytes) -> bool:
    """Whether `cert` is signed by `ca` and valid as a TLS server certificate now."""
    return verify(ca, cert).returncode == 0


def owned_by(kube: Kube, namespace: str, uids: set[str]) -> list[str]:
    """Objects of every child kind in `namespace` whose owner is one of `uids`."""
    left = []
    for kind, (api_name, method) in wl.CHILD_LISTERS.items():
        for item in getattr(getattr(client, api_name)(kube.api), method)(namespace).items:
            if any(ref.uid in uids for ref in item.metadata.owner_references or []):
                left.append(f"{kind}/{item.metadata.name}")
    return left


def ready_workloads(kube: Kube, namespace: str) -> set[str]:
    """Two workloads, a plain one and a pci one with a port and a permission, made Ready by
    the operator under test; their uids."""
    workloads: dict[str, dict[str, Any]] = {
        "plain": wl.spec(),
        "pci": wl.spec(
            profile="pci",
            replicas=2,
            ports=[{"name": "http", "containerPort": 8080}],
            permissions=[{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
        ),
    }
    for name, body in workloads.items():
        wl.apply(kube, wl.manifest(name, namespace, body))
    return {wl.wait_ready(kube, namespace, name)["metadata"]["uid"] for name in workloads}
