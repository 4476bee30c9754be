"""The Deployment and its pod template carry every pod-level control."""

from __future__ import annotations

from typing import Any

import pytest

from fwop.render import deployment, meta

from .conftest import IMAGE, ContextFactory

VAULT = {
    "provider": "vault",
    "mountPath": "/mnt/secrets",
    "vault": {"address": "https://vault:8200", "role": "app"},
    "objects": [{"name": "db", "path": "secret/data/db", "key": "password"}],
}


def render(make_ctx: ContextFactory, **fields: Any) -> dict[str, Any]:
    (manifest,) = deployment.render(make_ctx(**fields))
    return manifest


def pod_spec(make_ctx: ContextFactory, **fields: Any) -> dict[str, Any]:
    spec: dict[str, Any] = render(make_ctx, **fields)["spec"]["template"]["spec"]
    return spec


def only_container(make_ctx: ContextFactory, **fields: Any) -> dict[str, Any]:
    (container,) = pod_spec(make_ctx, **fields)["containers"]
    assert isinstance(container, dict)
    return container


def test_pod1_non_root_with_fixed_non_zero_ids(make_ctx: ContextFactory) -> None:
    spec = pod_spec(make_ctx)
    assert spec["securityContext"]["runAsNonRoot"] is True
    for key in ("runAsUser", "runAsGroup", "fsGroup"):
        assert spec["securityContext"][key] == 10001
    assert only_container(make_ctx)["securityContext"]["runAsNonRoot"] is True


def test_pod2_read_only_root_with_tmp_empty_dir(make_ctx: ContextFactory) -> None:
    spec = pod_spec(make_ctx)
    container = spec["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert spec["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]


def test_pod3_no_escalation_and_no_capabilities(make_ctx: ContextFactory) -> None:
    security = only_container(make_ctx)["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}


def test_pod4_runtime_default_seccomp(make_ctx: ContextFactory) -> None:
    assert pod_spec(make_ctx)["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}


@pytest.mark.parametrize("profile", ["baseline", "pci"])
def test_pod5_nothing_privileged_or_host_level_is_ever_rendered(
    make_ctx: ContextFactory, profile: str
) -> None:
    fields: dict[str, Any] = {"profile": profile, "replicas": 2, "secrets": VAULT}
    spec = pod_spec(make_ctx, **fields)
    assert not {"hostNetwork", "hostPID", "hostIPC", "hostUsers", "nodeName"} & set(spec)
    assert all("hostPath" not in volume for volume in spec["volumes"])
    assert only_container(make_ctx, **fields)["securityContext"]["privileged"] is False
    assert "add" not in only_container(make_ctx, **fields)["securityContext"]["capabilities"]


def test_pod6_resources_are_copied(make_ctx: ContextFactory) -> None:
    assert only_container(make_ctx)["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "1", "memory": "256Mi"},
    }


def test_rbac1_own_service_account_without_token_by_default(make_ctx: ContextFactory) -> None:
    spec = pod_spec(make_ctx)
    assert spec["serviceAccountName"] == "app"
    assert spec["automountServiceAccountToken"] is False


def test_rbac1_token_mounted_when_permissions_are_declared(make_ctx: ContextFactory) -> None:
    permissions = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]
    assert pod_spec(make_ctx, permissions=permissions)["automountServiceAccountToken"] is True


def test_sec1_secrets_are_a_read_only_csi_volume_never_env(make_ctx: ContextFactory) -> None:
    spec = pod_spec(make_ctx, secrets=VAULT, env=[{"name": "MODE", "value": "live"}])
    assert spec["volumes"][1] == {
        "name": "secrets-store",
        "csi": {
            "driver": "secrets-store.csi.k8s.io",
            "readOnly": True,
            "volumeAttributes": {"secretProviderClass": "app"},
        },
    }
    container = spec["containers"][0]
    assert container["volumeMounts"][1] == {
        "name": "secrets-store",
        "mountPath": "/mnt/secrets",
        "readOnly": True,
    }
    assert container["env"] == [{"name": "MODE", "value": "live"}]
    assert "envFrom" not in container


def test_res1_node_affinity_on_declared_regions(make_ctx: ContextFactory) -> None:
    spec = pod_spec(make_ctx, residency={"regions": ["eu-west-1", "eu-central-1"]})
    required = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required == {
        "nodeSelectorTerms": [
            {
                "matchExpressions": [
                    {
                        "key": "topology.kubernetes.io/region",
                        "operator": "In",
                        "values": ["eu-west-1", "eu-central-1"],
                    }
                ]
            }
        ]
    }


def test_no_affinity_without_residency(make_ctx: ContextFactory) -> None:
    assert "affinity" not in pod_spec(make_ctx)


def _spread(make_ctx: ContextFactory, **fields: Any) -> dict[str, dict[str, Any]]:
    constraints = pod_spec(make_ctx, **fields)["topologySpreadConstraints"]
    return {constraint["topologyKey"]: constraint for constraint in constraints}


def test_avl1_pci_spreads_hard_over_zones_and_soft_over_nodes(make_ctx: ContextFactory) -> None:
    spread = _spread(make_ctx, profile="pci", replicas=3)
    zone = spread["topology.kubernetes.io/zone"]
    host = spread["kubernetes.io/hostname"]
    assert zone["whenUnsatisfiable"] == "DoNotSchedule"
    assert zone["nodeTaintsPolicy"] == "Honor"
    assert host["whenUnsatisfiable"] == "ScheduleAnyway"
    for constraint in (zone, host):
        assert constraint["maxSkew"] == 1
        assert constraint["labelSelector"] == {
            "matchLabels": {"finance.compliance.dev/workload": "app"}
        }
        assert constraint["matchLabelKeys"] == ["pod-template-hash"]


def test_baseline_spreads_softly(make_ctx: ContextFactory) -> None:
    spread = _spread(make_ctx)
    assert {c["whenUnsatisfiable"] for c in spread.values()} == {"ScheduleAnyway"}
    assert set(spread) == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}


def test_replicas_selector_and_template_labels(make_ctx: ContextFactory) -> None:
    manifest = render(make_ctx, replicas=4)
    assert manifest["spec"]["replicas"] == 4
    assert manifest["spec"]["selector"] == {
        "matchLabels": {"finance.compliance.dev/workload": "app"}
    }
    assert manifest["spec"]["template"]["metadata"]["labels"] == meta.labels("app")


def test_an_autoscaled_deployment_starts_at_its_minimum(make_ctx: ContextFactory) -> None:
    # Later writes carry the live count over (test_drift); the creation sets this one.
    manifest = render(make_ctx, replicas=3, externallyManaged=["replicas"])
    assert manifest["spec"]["replicas"] == 3
    scaled = {"minReplicas": 4, "maxReplicas": 9, "targetCPUUtilization": 70}
    assert render(make_ctx, autoscaling=scaled)["spec"]["replicas"] == 4
    assert "strategy" not in manifest["spec"]


def test_a_declared_rollout_becomes_the_rolling_update(make_ctx: ContextFactory) -> None:
    manifest = render(make_ctx, rollout={"maxSurge": 1, "maxUnavailable": "0%"})
    assert manifest["spec"]["strategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "0%"}
    }  # fmt: skip


def test_container_carries_the_declared_process(make_ctx: ContextFactory) -> None:
    container = only_container(
        make_ctx,
        command=["/app/server"],
        args=["--port=8080"],
        ports=[
            {"name": "http", "containerPort": 8080},
            {"name": "dns", "containerPort": 5353, "protocol": "UDP"},
        ],
        probes={
            "liveness": {"tcpSocket": {"port": "http"}, "periodSeconds": 20},
            "readiness": {"httpGet": {"path": "/ready", "port": 8080}},
        },
    )
    assert container["name"] == "app"
    assert container["image"] == IMAGE
    assert container["command"] == ["/app/server"]
    assert container["args"] == ["--port=8080"]
    assert container["ports"] == [
        {"name": "http", "containerPort": 8080, "protocol": "TCP"},
        {"name": "dns", "containerPort": 5353, "protocol": "UDP"},
    ]
    assert container["livenessProbe"] == {
        "tcpSocket": {"port": "http"},
        "initialDelaySeconds": 0,
        "periodSeconds": 20,
        "timeoutSeconds": 1,
        "failureThreshold": 3,
        "successThreshold": 1,
    }
    assert container["readinessProbe"]["httpGet"] == {
        "path": "/ready", "port": 8080, "scheme": "HTTP"
    }  # fmt: skip


def test_every_probe_handler_renders_as_kubernetes_spells_it(make_ctx: ContextFactory) -> None:
    probes = {
        "liveness": {"exec": {"command": ["/bin/check", "--quick"]}},
        "readiness": {"httpGet": {"path": "/ready", "port": 8443, "scheme": "HTTPS",
                                  "httpHeaders": [{"name": "Accept", "value": "text/plain"}]},
                      "successThreshold": 2},
        "startup": {"grpc": {"port": 9090, "service": "ledger"}, "failureThreshold": 30},
    }  # fmt: skip
    container = only_container(make_ctx, probes=probes)
    assert container["livenessProbe"]["exec"] == {"command": ["/bin/check", "--quick"]}
    assert container["readinessProbe"]["httpGet"] == {
        "path": "/ready", "port": 8443, "scheme": "HTTPS",
        "httpHeaders": [{"name": "Accept", "value": "text/plain"}],
    }  # fmt: skip
    assert container["readinessProbe"]["successThreshold"] == 2
    assert container["startupProbe"]["grpc"] == {"port": 9090, "service": "ledger"}
    assert container["startupProbe"]["failureThreshold"] == 30
    bare = only_container(make_ctx, probes={"startup": {"grpc": {"port": 9090}}})
    assert bare["startupProbe"]["grpc"] == {"port": 9090}


def test_optional_container_fields_are_omitted_not_empty(make_ctx: ContextFactory) -> None:
    container = only_container(make_ctx)
    assert not {"command", "args", "env", "ports", "livenessProbe", "readinessProbe",
                "startupProbe"} & set(container)  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "POD-1,POD-2,POD-3,POD-4,POD-5,POD-6,RBAC-1"),
        (
            {
                "profile": "pci",
                "replicas": 2,
                "secrets": VAULT,
                "residency": {"regions": ["eu-west-1"]},
            },
            "POD-1,POD-2,POD-3,POD-4,POD-5,POD-6,RBAC-1,SEC-1,RES-1,AVL-1",
        ),
    ],
)
def test_controls_annotation_lists_the_evidence(
    make_ctx: ContextFactory, fields: dict[str, Any], expected: str
) -> None:
    annotations = render(make_ctx, **fields)["metadata"]["annotations"]
    assert annotations == {"finance.compliance.dev/controls": expected}


def test_pod_metadata_placement_and_shutdown_render_as_declared(make_ctx: ContextFactory) -> None:
    declared = {
        "podMetadata": {"labels": {"team": "payments"},
                        "annotations": {"prometheus.io/port": "9090"}},
        "placement": {"nodeSelector": {"pool": "cde"}, "priorityClassName": "payments-high",
                      "runtimeClassName": "gvisor",
                      "tolerations": [{"key": "dedicated", "operator": "Exists",
                                       "effect": "NoSchedule"}]},
        "shutdown": {"terminationGracePeriodSeconds": 45, "preStop": {"exec": ["/bin/drain"]}},
    }  # fmt: skip
    template = render(make_ctx, **declared)["spec"]["template"]
    assert template["metadata"]["labels"] == {"team": "payments", **meta.labels("app")}
    assert template["metadata"]["annotations"] == {"prometheus.io/port": "9090"}
    spec = template["spec"]
    assert spec["nodeSelector"] == {"pool": "cde"}
    assert spec["tolerations"] == [
        {"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}
    ]
    assert (spec["priorityClassName"], spec["runtimeClassName"]) == ("payments-high", "gvisor")
    assert spec["terminationGracePeriodSeconds"] == 45
    assert spec["containers"][0]["lifecycle"] == {"preStop": {"exec": {"command": ["/bin/drain"]}}}
    bare = render(make_ctx)["spec"]["template"]
    assert "annotations" not in bare["metadata"]
    assert not {"nodeSelector", "tolerations", "priorityClassName", "runtimeClassName",
                "terminationGracePeriodSeconds"} & set(bare["spec"])  # fmt: skip
