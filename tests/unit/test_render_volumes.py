"""Volumes: rendered as declared, read-only unless writable, bounded by admission."""

from __future__ import annotations

from typing import Any

import pytest

from fwop.admission import permissions, review
from fwop.api import guardrails, spec
from fwop.api import policy as policy_api
from fwop.render import deployment

from . import pss
from .conftest import DIGEST, RESOURCES, ContextFactory, workload_doc

CONFIG = {"name": "config", "configMap": {"name": "app-config",
          "items": [{"key": "app.yaml", "path": "app.yaml"}]}}  # fmt: skip
TOKENS = {
    "name": "tokens",
    "projected": {
        "sources": [
            {"serviceAccountToken": {"audience": "vault", "path": "vault-token"}},
            {"downwardAPI": [{"path": "labels", "fieldPath": "metadata.labels"}]},
            {"configMap": {"name": "ca-bundle"}},
        ]
    },
}
CACHE = {"name": "cache", "emptyDir": {"sizeLimit": "1Gi", "medium": "Memory"}}
DATA = {"name": "data", "persistentVolumeClaim": {"claimName": "ledger-data"}}
SCRATCH = {"name": "scratch", "ephemeral": {"storageClassName": "fast", "size": "10Gi"}}
ALL = [CONFIG, TOKENS, CACHE, DATA, SCRATCH]
MOUNTS = [
    {"name": "config", "mountPath": "/etc/app"},
    {"name": "tokens", "mountPath": "/var/run/vault"},
    {"name": "cache", "mountPath": "/var/cache/app", "writable": True},
    {"name": "data", "mountPath": "/var/lib/ledger"},
    {"name": "scratch", "mountPath": "/scratch", "writable": True},
]
POLICY = policy_api.FinancialWorkloadPolicySpec(
    allowed_registries=("registry.bank.example/",),
    allowed_regions=("eu-west-1",),
    profiles=(
        guardrails.ProfileGuardrails(
            name=spec.Profile.BASELINE,
            identity=guardrails.IdentityGuardrails(token_audiences=("vault",)),
        ),
    ),
)


def pod_spec(make_ctx: ContextFactory, **fields: Any) -> dict[str, Any]:
    (manifest,) = deployment.render(make_ctx(**fields))
    out: dict[str, Any] = manifest["spec"]["template"]["spec"]
    return out


def test_every_volume_kind_renders_as_kubernetes_spells_it(make_ctx: ContextFactory) -> None:
    rendered = pod_spec(make_ctx, volumes=ALL, volumeMounts=MOUNTS, tmpSizeLimit="256Mi")
    volumes = {v["name"]: v for v in rendered["volumes"]}
    assert volumes["tmp"] == {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}
    assert volumes["config"]["configMap"] == CONFIG["configMap"]
    sources = volumes["tokens"]["projected"]["sources"]
    assert sources[0] == {"serviceAccountToken": {"audience": "vault", "expirationSeconds": 3600,
                                                  "path": "vault-token"}}  # fmt: skip
    assert sources[1]["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"] == "metadata.labels"
    assert volumes["cache"]["emptyDir"] == {"sizeLimit": "1Gi", "medium": "Memory"}
    # Nobody writes the claim: it is attached read-only, not only mounted so.
    assert volumes["data"]["persistentVolumeClaim"] == {
        "claimName": "ledger-data",
        "readOnly": True,
    }
    claim = volumes["scratch"]["ephemeral"]["volumeClaimTemplate"]
    assert claim["spec"]["storageClassName"] == "fast"
    assert claim["spec"]["resources"] == {"requests": {"storage": "10Gi"}}
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["metadata"]["labels"]["finance.compliance.dev/workload"] == "app"
    assert pss.restricted(rendered) == []


def test_mounts_are_read_only_unless_writable(make_ctx: ContextFactory) -> None:
    rendered = pod_spec(make_ctx, volumes=ALL, volumeMounts=MOUNTS)
    (app,) = rendered["containers"]
    mounts = {m["name"]: m for m in app["volumeMounts"]}
    assert mounts["tmp"] == {"name": "tmp", "mountPath": "/tmp"}
    assert {name: m.get("readOnly", False) for name, m in mounts.items() if name != "tmp"} == {
        "config": True, "tokens": True, "cache": False, "data": True, "scratch": False,
    }  # fmt: skip
    assert "readOnly" not in mounts["cache"]  # as the API server stores a false


def test_a_written_claim_is_attached_read_write(make_ctx: ContextFactory) -> None:
    mounts = [{"name": "data", "mountPath": "/var/lib/ledger", "writable": True}]
    rendered = pod_spec(make_ctx, volumes=[DATA], volumeMounts=mounts)
    assert rendered["volumes"][-1]["persistentVolumeClaim"] == {"claimName": "ledger-data"}


def test_each_container_sees_only_its_own_mounts(make_ctx: ContextFactory) -> None:
    shipper = {"name": "shipper", "image": f"registry.bank.example/t/s@sha256:{DIGEST}",
               "resources": RESOURCES,
               "volumeMounts": [{"name": "cache", "mountPath": "/var/log/app"}]}  # fmt: skip
    mounts = [{"name": "cache", "mountPath": "/var/log/app", "writable": True}]
    rendered = pod_spec(make_ctx, volumes=[CACHE], volumeMounts=mounts, containers=[shipper])
    app, side = rendered["containers"]
    assert "readOnly" not in app["volumeMounts"][-1]
    assert side["volumeMounts"][-1] == {"name": "cache", "mountPath": "/var/log/app",
                                        "readOnly": True}  # fmt: skip


def problems(**fields: Any) -> list[tuple[str, str | None, str]]:
    doc = workload_doc(residency={"regions": ["eu-west-1"]}, **fields)
    return [(p.field, p.control, p.message) for p in review.review(doc, POLICY)]


def test_a_valid_set_of_volumes_is_admitted() -> None:
    assert problems(volumes=ALL, volumeMounts=MOUNTS) == []


@pytest.mark.parametrize(
    ("volumes", "mounts", "field", "control", "text"),
    [
        ([CACHE], [{"name": "cache", "mountPath": "/c"}, {"name": "cahce", "mountPath": "/d"}],
         "spec.volumeMounts[1].name", None,
         'no volume named "cahce" in spec.volumes; declared volumes: cache'),
        ([CONFIG], [{"name": "config", "mountPath": "/etc/app", "writable": True}],
         "spec.volumeMounts[0].writable", None, "volume config (configMap) is read-only"),
        ([CACHE], [{"name": "cache", "mountPath": "/tmp/cache"}],
         "spec.volumeMounts[0].mountPath", None, "overlaps /tmp"),
        ([CACHE], [{"name": "cache", "mountPath": "/var/run/secrets/kubernetes.io"}],
         "spec.volumeMounts[0].mountPath", None, "the ServiceAccount token"),
        ([CACHE, CONFIG], [{"name": "cache", "mountPath": "/c"}], "spec.volumes[1].name", None,
         "volume config is mounted by no container"),
        ([{"name": "t", "projected": {"sources": [{"serviceAccountToken": {
            "audience": "https://kubernetes.default.svc", "path": "token"}}]}}],
         [{"name": "t", "mountPath": "/var/run/t"}],
         "spec.volumes[0].projected.sources[0].serviceAccountToken.audience", "IDN-1",
         "token audience 'https://kubernetes.default.svc' is not allowed"),
    ],
)  # fmt: skip
def test_admission_refuses_with_the_field_and_why(
    volumes: list[Any], mounts: list[Any], field: str, control: str | None, text: str
) -> None:
    found = problems(volumes=volumes, volumeMounts=mounts)
    assert [(f, c) for f, c, _ in found] == [(field, control)], found
    assert text in found[0][2]


def test_sizes_are_bounded() -> None:
    scratch = {"storageClassName": "fast", "size": "5Ti"}
    huge = [{"name": "cache", "emptyDir": {"sizeLimit": "100Pi"}},
            {"name": "scratch", "ephemeral": scratch}]  # fmt: skip
    mounts = [{"name": "cache", "mountPath": "/c", "writable": True},
              {"name": "scratch", "mountPath": "/s", "writable": True}]  # fmt: skip
    found = problems(volumes=huge, volumeMounts=mounts, tmpSizeLimit="17Gi")
    assert [(f, m) for f, _, m in found] == [
        ("spec.tmpSizeLimit", "17Gi is more than a pod may take; allowed: at most 16Gi"),
        ("spec.volumes[0].emptyDir.sizeLimit",
         "100Pi is more than a pod may take; allowed: at most 64Gi"),
        ("spec.volumes[1].ephemeral.size",
         "5Ti is more than a pod may take; allowed: at most 4Ti"),
    ]  # fmt: skip


def test_a_mount_over_the_secrets_mount_is_refused() -> None:
    secrets = {
        "provider": "vault",
        "mountPath": "/mnt/secrets",
        "vault": {"address": "https://vault:8200", "role": "app"},
        "objects": [{"name": "db", "path": "secret/data/db", "key": "password"}],
    }
    found = problems(secrets=secrets, volumes=[CACHE],
                     volumeMounts=[{"name": "cache", "mountPath": "/mnt/secrets/x"}])  # fmt: skip
    assert [(f, c) for f, c, _ in found] == [("spec.volumeMounts[0].mountPath", None)]


def test_the_webhook_asks_to_read_each_config_map_and_claim() -> None:
    parsed = spec.FinancialWorkloadSpec.model_validate(
        {
            "profile": "baseline",
            "image": f"registry.bank.example/t/a@sha256:{DIGEST}",
            "resources": RESOURCES,
            "volumes": ALL,
            "volumeMounts": MOUNTS,
        }
    )
    asked = [(f, a.resource, a.verb, a.name) for f, a in permissions.volume_accesses(parsed)]
    assert asked == [
        ("spec.volumes[0]", "configmaps", "get", "app-config"),
        ("spec.volumes[1]", "configmaps", "get", "ca-bundle"),
        ("spec.volumes[3]", "persistentvolumeclaims", "get", "ledger-data"),
    ]
    denied = {a for _, a in permissions.volume_accesses(parsed)[2:]}
    (problem,) = permissions.volume_problems(parsed, denied, "alice", "team")
    assert problem.field == "spec.volumes[3]"
    assert problem.control == "RBAC-4"
    assert "alice may not get on persistentvolumeclaims named ledger-data" in problem.message
