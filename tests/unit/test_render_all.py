"""render_all: order, identity, ownership and server-side-apply readiness of every child."""

from __future__ import annotations

from typing import Any

import pytest

from fwop.render import meta, workload

from .conftest import OWNER, SpecFactory

FULL: dict[str, Any] = {
    "profile": "pci",
    "replicas": 3,
    "ports": [{"name": "http", "containerPort": 8080}],
    "permissions": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
    "network": {"allowDNS": True},
    "secrets": {
        "provider": "gcp",
        "objects": [{"name": "k", "path": "projects/p/secrets/k/versions/1"}],
    },
    "residency": {"regions": ["eu-west-1"]},
}
NAMESPACED_KINDS = {
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "NetworkPolicy",
    "SecretProviderClass",
    "Service",
    "Deployment",
    "PodDisruptionBudget",
}


def kinds_and_names(manifests: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(m["kind"], m["metadata"]["name"]) for m in manifests]


def test_full_workload_renders_every_child_in_apply_order(make_spec: SpecFactory) -> None:
    manifests = workload.render_all("team", "app", make_spec(**FULL), OWNER)
    assert kinds_and_names(manifests) == [
        ("Namespace", "team"),
        ("ServiceAccount", "app"),
        ("Role", "app"),
        ("RoleBinding", "app"),
        ("NetworkPolicy", "app-default-deny"),
        ("NetworkPolicy", "app-allow"),
        ("SecretProviderClass", "app"),
        ("Service", "app"),
        ("Deployment", "app"),
        ("PodDisruptionBudget", "app"),
    ]


def test_minimal_workload_renders_only_what_it_needs(make_spec: SpecFactory) -> None:
    manifests = workload.render_all("team", "app", make_spec(), None)
    assert kinds_and_names(manifests) == [
        ("Namespace", "team"),
        ("ServiceAccount", "app"),
        ("NetworkPolicy", "app-default-deny"),
        ("Deployment", "app"),
    ]


def test_rendering_is_deterministic(make_spec: SpecFactory) -> None:
    first = workload.render_all("team", "app", make_spec(**FULL), OWNER)
    second = workload.render_all("team", "app", make_spec(**FULL), OWNER)
    assert first == second
    assert first is not second


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        assert all(type(key) is str for key in value)
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def test_manifests_are_plain_json_data(make_spec: SpecFactory) -> None:
    manifests = workload.render_all("team", "app", make_spec(**FULL), OWNER)
    assert {type(leaf) for leaf in _leaves(manifests)} <= {str, int, bool}


@pytest.mark.parametrize("owner", [OWNER, None], ids=["owned", "offline"])
def test_every_child_is_valid_server_side_apply_input(
    make_spec: SpecFactory, owner: meta.OwnerRef | None
) -> None:
    for manifest in workload.render_all("team", "app", make_spec(**FULL), owner):
        assert set(manifest) >= {"apiVersion", "kind", "metadata"}
        assert "status" not in manifest
        metadata = manifest["metadata"]
        assert metadata["name"]
        assert not {"uid", "resourceVersion", "creationTimestamp", "managedFields"} & set(metadata)
        if manifest["kind"] == "Namespace":
            assert set(metadata) == {"name", "labels"}
            continue
        assert manifest["kind"] in NAMESPACED_KINDS
        assert metadata["namespace"] == "team"
        assert metadata["labels"] == {
            "app.kubernetes.io/name": "app",
            "app.kubernetes.io/managed-by": "fwop",
            "finance.compliance.dev/workload": "app",
        }
        if owner is None:
            assert "ownerReferences" not in metadata
        else:
            assert metadata["ownerReferences"] == [
                {
                    "apiVersion": "finance.compliance.dev/v1alpha1",
                    "kind": "FinancialWorkload",
                    "name": "app",
                    "uid": OWNER.uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ]


def test_children_follow_the_workload_name(make_spec: SpecFactory) -> None:
    manifests = workload.render_all("payments", "payments-api", make_spec(**FULL), None)
    names = {name for _, name in kinds_and_names(manifests)}
    assert names == {"payments", "payments-api", "payments-api-default-deny", "payments-api-allow"}
