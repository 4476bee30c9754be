"""The install (manifests/, Dockerfile) keeps its promises; read offline, no cluster.

tests/cluster/test_rbac.py checks the permissions on the rendered install and against the
API server, tests/cluster/test_uninstall.py installs and uninstalls it for real.
"""

from __future__ import annotations

import pathlib
import re
from typing import Any

import pytest
import yaml
from lupa import lua51

REPO = pathlib.Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def load(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((MANIFESTS / name).read_text()) if d]


def one(name: str, kind: str) -> dict[str, Any]:
    return next(d for d in load(name) if d["kind"] == kind)


def test_crds_kustomization_lists_every_crd() -> None:
    listed = yaml.safe_load((REPO / "crds" / "Kustomization").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in (REPO / "crds").glob("*.yaml"))


def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())["resources"]
    assert "../crds" in listed
    assert sorted(r for r in listed if r != "../crds") == sorted(
        p.name for p in MANIFESTS.glob("*.yaml") if p.name != "kustomization.yaml"
    )


def test_operator_image_is_pinned_by_digest() -> None:
    images = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())["images"]
    assert [i["name"] for i in images] == ["fwop"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", images[0]["digest"])
    pod = one("deployment.yaml", "Deployment")["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "fwop"  # the name the images: entry replaces


def test_namespace_enforces_restricted() -> None:
    labels = one("namespace.yaml", "Namespace")["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


def test_operator_pod_is_restricted_and_probed() -> None:
    deployment = one("deployment.yaml", "Deployment")
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"
    (container,) = pod["containers"]
    ctx = container["securityContext"]
    assert ctx["allowPrivilegeEscalation"] is False
    assert ctx["readOnlyRootFilesystem"] is True
    assert ctx["capabilities"] == {"drop": ["ALL"]}
    assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
    assert {"cpu", "memory"} <= container["resources"]["limits"].keys()
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"webhook": 9443, "http": 8080}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["FWOP_WEBHOOK_CERT_DIR"] == "/etc/fwop/tls"
    assert (env["FWOP_WEBHOOK_PORT"], env["FWOP_HTTP_PORT"]) == ("9443", "8080")
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["webhook-tls"] == "/etc/fwop/tls"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["webhook-tls"]["secret"]["secretName"] == "fwop-webhook-tls"


def test_webhook_reaches_the_operator() -> None:
    (hook,) = one("webhook.yaml", "ValidatingWebhookConfiguration")["webhooks"]
    assert hook["failurePolicy"] == "Fail"
    assert hook["sideEffects"] == "None"
    assert hook["admissionReviewVersions"] == ["v1"]
    assert hook["timeoutSeconds"] == 5
    assert hook["rules"][0]["operations"] == ["CREATE", "UPDATE"]
    assert hook["rules"][0]["resources"] == ["financialworkloads"]
    assert "caBundle" not in hook["clientConfig"]  # injected at install time
    target = hook["clientConfig"]["service"]
    assert target["path"] == "/validate-financialworkload"
    service = next(s for s in load("service.yaml") if s["metadata"]["name"] == target["name"])
    (port,) = service["spec"]["ports"]
    assert (port["port"], port["targetPort"]) == (target["port"], "webhook")


def test_dockerfile_base_is_pinned_and_user_is_not_root() -> None:
    text = (REPO / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert base
    assert DIGEST.search(base.group(1)), base.group(1)
    assert re.findall(r"^FROM (\S+)", text, re.MULTILINE) == ["${PYTHON_IMAGE}"] * 2
    final = text.rsplit("\nFROM ", 1)[1]
    assert "USER 10001:10001" in final
    assert not re.search(r"apt-get|gcc|build-essential", final)
    # Every distribution installed from a hashed lock (make image-lock), nothing resolved.
    installs = [line for line in text.splitlines() if "pip install" in line or "install --" in line]
    assert installs
    assert text.count("--require-hashes") == 2
    assert "-r requirements-build.txt" in text
    assert "-r requirements-image.txt" in text


# ---- the Argo CD health check, on hand-made objects (tests/cluster runs it on real ones) ----

LUA = (MANIFESTS / "argocd" / "health-financialworkload.lua").read_text()


def argo_health(obj: dict[str, Any]) -> tuple[str, str]:
    lua = lua51.LuaRuntime()
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(LUA)
    return str(result["status"]), str(result["message"])


def workload(generation: int, status: dict[str, Any] | None) -> dict[str, Any]:
    obj: dict[str, Any] = {"metadata": {"name": "app", "generation": generation}}
    if status is not None:
        obj["status"] = status
    return obj


def cond(type_: str, status: str, reason: str, message: str = "m", gen: int = 2) -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "observedGeneration": gen,
    }


READY = cond("Ready", "True", "Available", "2 of 2 pods available")
HEALTH_CASES = [
    ("no-status", None, "Progressing", "Waiting for the operator"),
    ("old-generation", {"observedGeneration": 1, "conditions": [READY]}, "Progressing", "2"),
    ("no-ready", {"observedGeneration": 2, "conditions": []}, "Progressing", "Ready"),
    ("ready", {"observedGeneration": 2, "conditions": [READY]}, "Healthy", "2 of 2 pods"),
    (
        "rolling-out",
        {"observedGeneration": 2, "conditions": [cond("Ready", "False", "Progressing")]},
        "Progressing",
        "Progressing",
    ),
    (
        "unknown",
        {"observedGeneration": 2, "conditions": [cond("Ready", "Unknown", "Reconciling")]},
        "Progressing",
        "Reconciling",
    ),
    (
        "apply-failed",
        {"observedGeneration": 2, "conditions": [cond("Ready", "False", "ApplyFailed", "x")]},
        "Degraded",
        "Not ready (ApplyFailed): x",
    ),
    (
        "not-compliant",
        {
            "observedGeneration": 2,
            "conditions": [READY, cond("Compliant", "False", "InvalidSpec", "bad image")],
        },
        "Degraded",
        "Not compliant (InvalidSpec): bad image",
    ),
    (
        "drifted",
        {
            "observedGeneration": 2,
            "conditions": [READY, cond("Drifted", "True", "DriftDetected", "replicas")],
        },
        "Degraded",
        "Drifted (DriftDetected): replicas",
    ),
    (
        "stalled",
        {
            "observedGeneration": 2,
            "conditions": [READY, cond("Stalled", "True", "PolicyViolation", "IMG-2")],
        },
        "Degraded",
        "Stalled (PolicyViolation): IMG-2",
    ),
    (
        "reconciling",
        {
            "observedGeneration": 2,
            "conditions": [
                cond("Ready", "False", "Progressing"),
                cond("Reconciling", "True", "Progressing", "1 of 2"),
            ],
        },
        "Progressing",
        "Reconciling (Progressing): 1 of 2",
    ),
    (
        "stale-ready",
        {"observedGeneration": 2, "conditions": [cond("Ready", "True", "Available", gen=1)]},
        "Progressing",
        "older generation",
    ),
]


@pytest.mark.parametrize(
    ("status", "health", "message"),
    [c[1:] for c in HEALTH_CASES],
    ids=[c[0] for c in HEALTH_CASES],
)
def test_argocd_health(status: dict[str, Any] | None, health: str, message: str) -> None:
    got, text = argo_health(workload(2, status))
    assert got == health
    assert message in text
    assert len(text) <= 240


def test_argocd_health_shortens_long_messages() -> None:
    long = cond("Ready", "False", "ApplyFailed", "x" * 1000)
    _, text = argo_health(workload(2, {"observedGeneration": 2, "conditions": [long]}))
    assert len(text) == 240
    assert text.endswith("...")


def test_argocd_cm_snippet_embeds_the_script() -> None:
    snippet = yaml.safe_load((MANIFESTS / "argocd" / "argocd-cm.yaml").read_text())
    key = "resource.customizations.health.finance.compliance.dev_FinancialWorkload"
    assert snippet["data"][key] == LUA


def test_install_doc_explains_every_rule() -> None:
    doc = (REPO / "docs" / "install.md").read_text()
    rows = [line.split("|")[1:4] for line in doc.splitlines() if line.startswith("| ")]
    rows = [[cell.strip() for cell in row] for row in rows if len(row) == 3]
    for rule in one("clusterrole.yaml", "ClusterRole")["rules"]:
        group, verbs = rule["apiGroups"][0] or '""', ", ".join(rule["verbs"])
        for resource in rule["resources"]:
            assert any(
                g == group and resource in c.split("(")[0].replace(",", " ").split() and v == verbs
                for g, c, v in rows
            ), f"docs/install.md has no row for {group} {resource}: {verbs}"
