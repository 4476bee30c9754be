"""The Helm charts render the objects of manifests/, change only what their values name,
and refuse bad values with a message that names the value.

Offline: `helm lint` and `helm template` with the helm cluster/build.sh builds, and
`kubectl kustomize manifests/` as the reference. Installing the charts on the cluster is
test_helm.py.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import charts
import pytest
import support
import yaml
from charts import CRDS, OPERATOR, HelmError, by_key, differences, template, without_helm
from installs import chains, verify

pytestmark = pytest.mark.cluster

EXAMPLE_POLICY = yaml.safe_load((support.REPO / "examples" / "policy" / "default.yaml").read_text())
SERVICE_DNS = "fwop-webhook.fwop-system.svc"


def kustomize(folder: Path) -> list[dict[str, Any]]:
    done = subprocess.run(
        [support.binary("kubernetes", "kubectl"), "kustomize", str(folder)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def part_of_fwop(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` with the label manifests/kustomization.yaml puts on everything it installs,
    which the charts put on everything too (the files below are not in that kustomization)."""
    doc["metadata"].setdefault("labels", {})["app.kubernetes.io/part-of"] = "fwop"
    return doc


def operator_objects(values: dict[str, Any] | None = None) -> dict[charts.Key, dict[str, Any]]:
    return by_key(template(OPERATOR, values))


def deployment(values: dict[str, Any] | None = None) -> dict[str, Any]:
    return operator_objects(values)[("Deployment", "fwop-system", "fwop")]


@pytest.mark.parametrize(
    ("chart", "values"),
    [
        (CRDS, {}),
        (CRDS, {"keep": False, "policyReports": False}),
        (OPERATOR, {}),
        (OPERATOR, {"webhook.certificate.mode": "cert-manager", "replicas": 1}),
        (OPERATOR, {"webhook.certificate.mode": "secret", "webhook.certificate.caBundle": "Zm9v"}),
        (
            OPERATOR,
            {
                "metrics": {
                    k: {"enabled": True} for k in ("serviceMonitor", "prometheusRule", "dashboard")
                },
                "policy": {"create": True, "spec": EXAMPLE_POLICY["spec"]},
            },
        ),
    ],
    ids=["crds", "crds-unkept", "operator", "cert-manager", "secret", "metrics-policy"],
)
def test_charts_pass_helm_lint_strict(chart: Path, values: dict[str, Any]) -> None:
    out = charts.helm("lint", "--strict", str(chart), *charts.sets(values))
    assert "1 chart(s) linted, 0 chart(s) failed" in out


def test_the_charts_render_the_objects_kustomize_renders() -> None:
    """One source of truth: with default values, the two charts are manifests/ plus the
    webhook's certificate (a Secret and the CA given to the API server)."""
    reference = by_key(kustomize(support.REPO / "manifests"))
    rendered = by_key([*template(CRDS, {"policyReports": False}), *template(OPERATOR)])
    secret = rendered.pop(("Secret", "fwop-system", "fwop-webhook-tls"))
    hook = rendered[("ValidatingWebhookConfiguration", "", "fwop")]
    assert hook["webhooks"][0]["clientConfig"].pop("caBundle") == secret["data"]["ca.crt"]

    assert sorted(rendered) == sorted(reference)
    for found, doc in rendered.items():
        assert doc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
        assert differences(without_helm(doc), reference[found]) == [], found


def test_packaged_charts_render_what_the_folders_render(tmp_path: Path) -> None:
    """`helm package` follows the files/ links, so a published chart needs no checkout."""
    charts.helm("package", str(CRDS), str(OPERATOR), "--destination", str(tmp_path))
    for chart in (CRDS, OPERATOR):
        (packaged,) = tmp_path.glob(f"{chart.name}-[0-9]*.tgz")
        values = {"webhook.certificate.mode": "cert-manager"} if chart == OPERATOR else {}
        assert template(packaged, values, release=chart.name) == template(chart, values)


def test_policy_report_crds_are_the_ones_in_crds() -> None:
    files = by_key(
        [
            yaml.safe_load(p.read_text())
            for p in sorted((support.REPO / "crds" / "wgpolicyk8s").glob("*.yaml"))
        ]
    )
    # Offline, helm cannot look for them in a cluster, so `auto` renders them.
    for values in ({}, {"policyReports": True, "keep": False}):
        rendered = by_key(template(CRDS, values))
        for found, doc in files.items():
            # Other tools' reports may live in them: kept on uninstall whatever `keep` says.
            assert rendered[found]["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
            assert differences(without_helm(rendered[found]), part_of_fwop(doc)) == []
    assert not set(files) & set(by_key(template(CRDS, {"policyReports": False})))


def test_crds_are_kept_on_uninstall_unless_told() -> None:
    crd = ("CustomResourceDefinition", "", "financialworkloads.finance.compliance.dev")
    kept = by_key(template(CRDS))[crd]
    assert kept["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
    unkept = by_key(template(CRDS, {"keep": False}))[crd]
    assert "annotations" not in unkept["metadata"]


def test_monitoring_renders_what_kustomize_renders() -> None:
    reference = by_key(kustomize(support.REPO / "manifests" / "monitoring"))
    enabled = {
        f"metrics.{k}.enabled": True for k in ("serviceMonitor", "prometheusRule", "dashboard")
    }
    rendered = operator_objects(enabled)
    assert set(reference) <= set(rendered)
    for found, doc in reference.items():
        assert differences(without_helm(rendered[found]), part_of_fwop(doc)) == [], found
    assert not set(reference) & set(operator_objects())  # off by default


def test_values_change_only_their_own_fields() -> None:
    digest = "sha256:" + "ab" * 32
    values = {
        "image": {
            "repository": "registry.bank.example/platform/fwop",
            "digest": digest,
            "pullPolicy": "Always",
        },
        "imagePullSecrets": ["bank-registry"],
        "replicas": 3,
        "resources": {
            "requests": {"cpu": "200m", "memory": "256Mi"},
            "limits": {"cpu": "2", "memory": "512Mi"},
        },
        "logLevel": "DEBUG",
        "nodeSelector": {"node-role.bank.example/platform": "true"},
        "tolerations": [{"key": "platform", "operator": "Exists", "effect": "NoSchedule"}],
        "priorityClassName": "platform-critical",
    }
    before, after = deployment(), deployment(values)
    pod = ".spec.template.spec"
    assert sorted(differences(after, before)) == sorted(
        [
            ".spec.replicas",
            f"{pod}.containers[0].image",
            f"{pod}.containers[0].imagePullPolicy",
            f"{pod}.containers[0].env[2].value",
            f"{pod}.containers[0].resources.limits.cpu",
            f"{pod}.containers[0].resources.limits.memory",
            f"{pod}.containers[0].resources.requests.cpu",
            f"{pod}.containers[0].resources.requests.memory",
            f"{pod}.imagePullSecrets",
            f"{pod}.nodeSelector",
            f"{pod}.priorityClassName",
            f"{pod}.tolerations",
        ]
    )
    container = after["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"registry.bank.example/platform/fwop@{digest}"
    assert container["env"][2] == {"name": "FWOP_LOG_LEVEL", "value": "DEBUG"}
    assert after["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "bank-registry"}]
    assert after["spec"]["replicas"] == 3


def test_one_replica_has_no_disruption_budget_that_would_block_drains() -> None:
    budget = ("PodDisruptionBudget", "fwop-system", "fwop")
    assert budget in operator_objects()
    assert budget not in operator_objects({"replicas": 1})


def test_one_replica_rolls_out_without_a_moment_of_no_webhook() -> None:
    assert deployment()["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 1, "maxSurge": 0}
    alone = deployment({"replicas": 1})["spec"]["strategy"]["rollingUpdate"]
    assert alone == {"maxSurge": 1, "maxUnavailable": 0}


def test_renewal_must_leave_the_certificate_half_its_life() -> None:
    with pytest.raises(HelmError, match=r"renewBeforeDays: at most half of validityDays"):
        template(
            OPERATOR,
            {"webhook.certificate.validityDays": 60, "webhook.certificate.renewBeforeDays": 30},
        )
    template(
        OPERATOR,
        {"webhook.certificate.validityDays": 60, "webhook.certificate.renewBeforeDays": 29},
    )


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"image.digest": "latest"}, "at '/image/digest'"),
        ({"image.repository": "Registry/UPPER"}, "at '/image/repository'"),
        ({"replica": 2}, "additional properties 'replica' not allowed"),
        ({"replicas": 0}, "at '/replicas'"),
        ({"webhook.timeoutSeconds": 31}, "at '/webhook/timeoutSeconds'"),
        ({"webhook.failurePolicy": "Ignore"}, "additional properties 'failurePolicy' not allowed"),
        ({"webhook.certificate.mode": "vault"}, "at '/webhook/certificate/mode'"),
        ({"webhook.certificate.caBundle": "not base64!"}, "at '/webhook/certificate/caBundle'"),
        ({"webhook.certificate.validityDays": 3650}, "at '/webhook/certificate/validityDays'"),
        ({"logLevel": "TRACE"}, "at '/logLevel'"),
        ({"resources.limits.memory": "lots"}, "at '/resources/limits/memory'"),
        ({"imagePullSecrets": ["Not_A_Name"]}, "at '/imagePullSecrets/0'"),
        ({"policy.spec": "allow everything"}, "at '/policy/spec'"),
        ({"resources.limits.memory": "1m"}, "at '/resources/limits/memory'"),
        ({"resources.limits.memory": None}, "at '/resources/limits': missing property 'memory'"),
        ({"tolerations": [{"operator": "Exists"}]}, "at '/tolerations/0'"),
        ({"nodeSelector": {"a\nb": "x"}}, "invalid propertyName 'a\\nb'"),
        ({"priorityClassName": "Not A Name"}, "at '/priorityClassName'"),
        # The policy's own schema, from its CRD (tools/chart_schema.py): offline, by name.
        ({"policy.spec": {"allowedRegistry": ["x/"]}}, "additional properties 'allowedRegistry'"),
        ({"policy.spec": {"residency": "maybe"}}, "at '/policy/spec/residency'"),
        (
            {"policy.spec": {"profiles": [{"name": "pci", "enforcement": "lax"}]}},
            "at '/policy/spec/profiles/0",
        ),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else ",".join(v),
)
def test_bad_values_are_refused_naming_the_value(values: dict[str, Any], said: str) -> None:
    with pytest.raises(HelmError, match="values don't meet the specifications") as refused:
        template(OPERATOR, values)
    assert said in str(refused.value)


def test_crds_chart_refuses_bad_values() -> None:
    with pytest.raises(HelmError, match="at '/policyReports'"):
        template(CRDS, {"policyReports": "sometimes"})


def test_the_release_cannot_live_in_the_namespace_the_chart_deletes() -> None:
    with pytest.raises(HelmError, match=r"namespace\.create: the chart creates and deletes"):
        template(OPERATOR, namespace="fwop-system")
    owned_elsewhere = operator_objects()
    assert ("Namespace", "", "fwop-system") in owned_elsewhere
    yours = by_key(template(OPERATOR, {"namespace.create": False}, namespace="fwop-system"))
    assert ("Namespace", "", "fwop-system") not in yours


def test_a_self_generated_certificate_serves_the_webhook_service() -> None:
    objects = operator_objects()
    secret = objects[("Secret", "fwop-system", "fwop-webhook-tls")]
    assert secret["type"] == "kubernetes.io/tls"
    ca, cert = (base64.b64decode(secret["data"][k]) for k in ("ca.crt", "tls.crt"))
    hook = objects[("ValidatingWebhookConfiguration", "", "fwop")]["webhooks"][0]["clientConfig"]
    assert base64.b64decode(hook["caBundle"]) == ca
    assert verify(ca, cert, SERVICE_DNS).returncode == 0
    assert verify(ca, cert, "fwop-webhook.other.svc").returncode != 0
    assert chains(ca, cert)
    # Two renders make two CAs: offline there is no earlier Secret to keep.
    again = operator_objects()[("Secret", "fwop-system", "fwop-webhook-tls")]
    assert again["data"]["ca.crt"] != secret["data"]["ca.crt"]


def test_cert_manager_issues_the_secret_the_pods_mount() -> None:
    objects = operator_objects(
        {
            "webhook.certificate.mode": "cert-manager",
            "webhook.certificate.secretName": "webhook-serving",
        }
    )
    assert ("Secret", "fwop-system", "webhook-serving") not in objects
    certificate = objects[("Certificate", "fwop-system", "fwop-webhook")]
    assert certificate["spec"]["secretName"] == "webhook-serving"
    assert SERVICE_DNS in certificate["spec"]["dnsNames"]
    assert {"Issuer"} == {
        k[0]
        for k in objects
        if k[2] in ("fwop-selfsigned", "fwop-webhook-ca") and k[0] != "Certificate"
    }
    hook = objects[("ValidatingWebhookConfiguration", "", "fwop")]
    assert hook["metadata"]["annotations"] == {
        "cert-manager.io/inject-ca-from": "fwop-system/fwop-webhook"
    }
    assert "caBundle" not in hook["webhooks"][0]["clientConfig"]
    assert _mounted_secret(objects) == "webhook-serving"


def _mounted_secret(objects: dict[charts.Key, dict[str, Any]]) -> str:
    pod = objects[("Deployment", "fwop-system", "fwop")]["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == "webhook-tls"]
    return str(volume["secret"]["secretName"])


def test_a_provided_secret_is_mounted_and_its_ca_given_to_the_api_server() -> None:
    bundle = base64.b64encode(b"-----BEGIN CERTIFICATE-----\n...").decode()
    objects = operator_objects(
        {
            "webhook.certificate.mode": "secret",
            "webhook.certificate.secretName": "bank-pki-fwop",
            "webhook.certificate.caBundle": bundle,
        }
    )
    assert not [k for k in objects if k[0] in ("Secret", "Certificate", "Issuer")]
    hook = objects[("ValidatingWebhookConfiguration", "", "fwop")]
    assert hook["webhooks"][0]["clientConfig"]["caBundle"] == bundle
    assert _mounted_secret(objects) == "bank-pki-fwop"


def test_a_provided_secret_needs_its_ca() -> None:
    with pytest.raises(HelmError, match=r"webhook\.certificate\.caBundle: mode secret needs"):
        template(OPERATOR, {"webhook.certificate.mode": "secret"})


def test_the_policy_from_values_is_the_policy_object() -> None:
    assert not [k for k in operator_objects() if k[0] == "FinancialWorkloadPolicy"]
    objects = operator_objects({"policy": {"create": True, "spec": EXAMPLE_POLICY["spec"]}})
    policy = objects[("FinancialWorkloadPolicy", "", "default")]
    assert policy["apiVersion"] == EXAMPLE_POLICY["apiVersion"]
    assert differences(policy["spec"], EXAMPLE_POLICY["spec"]) == []
