"""ServiceAccount, RBAC, NetworkPolicies, SecretProviderClass, Service, PDB, namespace labels."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from fwop.render import (
    autoscaler,
    namespace,
    networkpolicy,
    pdb,
    rbac,
    secretproviderclass,
    service,
    serviceaccount,
)

from .conftest import ContextFactory

RULE = {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cfg"], "verbs": ["get"]}
DB = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgres"}}}
SELECTS_APP = {"matchLabels": {"finance.compliance.dev/workload": "app"}}


def test_ns1_namespace_gets_only_pinned_restricted_pss_labels(make_ctx: ContextFactory) -> None:
    (ns,) = namespace.render(make_ctx())
    assert ns == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "team",
            "labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "v1.37",
                "pod-security.kubernetes.io/audit": "restricted",
                "pod-security.kubernetes.io/audit-version": "v1.37",
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/warn-version": "v1.37",
            },
        },
    }


@pytest.mark.parametrize(("permissions", "token"), [([], False), ([RULE], True)])
def test_rbac1_service_account_token_follows_permissions(
    make_ctx: ContextFactory, permissions: list[dict[str, Any]], token: bool
) -> None:
    (account,) = serviceaccount.render(make_ctx(permissions=permissions))
    assert account["kind"] == "ServiceAccount"
    assert account["metadata"]["name"] == "app"
    assert account["automountServiceAccountToken"] is token


def test_rbac2_no_role_without_permissions(make_ctx: ContextFactory) -> None:
    assert rbac.render(make_ctx()) == []


def test_rbac2_role_holds_exactly_the_declared_rules(make_ctx: ContextFactory) -> None:
    second = {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]}
    role, binding = rbac.render(make_ctx(permissions=[RULE, second]))
    assert (role["apiVersion"], role["kind"], role["metadata"]["name"]) == (
        "rbac.authorization.k8s.io/v1",
        "Role",
        "app",
    )
    assert role["rules"] == [RULE, second]
    assert binding["kind"] == "RoleBinding"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "app",
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "app", "namespace": "team"}]


def test_net1_default_deny_alone_when_nothing_is_allowed(make_ctx: ContextFactory) -> None:
    (deny,) = networkpolicy.render(make_ctx())
    assert deny["metadata"]["name"] == "app-default-deny"
    assert deny["spec"] == {"podSelector": SELECTS_APP, "policyTypes": ["Ingress", "Egress"]}
    assert deny["metadata"]["annotations"] == {"finance.compliance.dev/controls": "NET-1"}


def test_net2_allow_policy_opens_exactly_the_declared_flows(make_ctx: ContextFactory) -> None:
    net = {
        "ingress": [
            {
                "from": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "edge"}
                        },
                        "podSelector": {"matchLabels": {"app": "gw"}},
                    }
                ],
                "ports": [{"port": "http"}],
            }
        ],
        "egress": [
            {"to": [DB], "ports": [{"port": 5432}]},
            {
                "to": [{"ipBlock": {"cidr": "10.40.0.0/16", "except": ["10.40.1.0/24"]}}],
                "ports": [{"port": 443, "protocol": "TCP"}],
            },
        ],
    }
    _, allow = networkpolicy.render(make_ctx(network=net))
    assert allow["metadata"]["name"] == "app-allow"
    assert allow["metadata"]["annotations"] == {"finance.compliance.dev/controls": "NET-2"}
    assert allow["spec"] == {
        "podSelector": SELECTS_APP,
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {
                "from": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "edge"}
                        },
                        "podSelector": {"matchLabels": {"app": "gw"}},
                    }
                ],
                "ports": [{"port": "http", "protocol": "TCP"}],
            }
        ],
        "egress": [
            {"to": [DB], "ports": [{"port": 5432, "protocol": "TCP"}]},
            {
                "to": [{"ipBlock": {"cidr": "10.40.0.0/16", "except": ["10.40.1.0/24"]}}],
                "ports": [{"port": 443, "protocol": "TCP"}],
            },
        ],
    }


def test_net2_dns_only_egress_to_cluster_dns(make_ctx: ContextFactory) -> None:
    _, allow = networkpolicy.render(make_ctx(network={"allowDNS": True}))
    assert allow["spec"]["policyTypes"] == ["Egress"]
    assert "ingress" not in allow["spec"]
    assert allow["spec"]["egress"] == [
        {
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                    },
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
        }
    ]


def test_net2_ingress_only_policy_does_not_claim_egress(make_ctx: ContextFactory) -> None:
    net = {"ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": 8080}]}]}
    _, allow = networkpolicy.render(make_ctx(network=net))
    assert allow["spec"]["policyTypes"] == ["Ingress"]
    assert allow["spec"]["ingress"][0]["from"] == [{"podSelector": {}}]


def _spc(make_ctx: ContextFactory, secrets: dict[str, Any]) -> dict[str, Any]:
    (spc,) = secretproviderclass.render(make_ctx(secrets=secrets))
    assert spc["apiVersion"] == "secrets-store.csi.x-k8s.io/v1"
    assert spc["kind"] == "SecretProviderClass"
    assert spc["metadata"]["name"] == "app"
    assert "secretObjects" not in spc["spec"]  # SEC-1: never synced into Kubernetes Secrets
    assert all(isinstance(value, str) for value in spc["spec"]["parameters"].values())
    return spc


def test_sec1_no_secret_provider_class_without_secrets(make_ctx: ContextFactory) -> None:
    assert secretproviderclass.render(make_ctx()) == []


def test_sec1_vault_parameters(make_ctx: ContextFactory) -> None:
    secrets = {
        "provider": "vault",
        "vault": {"address": "https://vault:8200", "role": "app", "authMountPath": "k8s-prod"},
        "objects": [
            {"name": "db-password", "path": "secret/data/db", "key": "password"},
            {"name": "bundle", "path": "secret/data/bundle"},
        ],
    }
    spec = _spc(make_ctx, secrets)["spec"]
    assert spec["provider"] == "vault"
    params = spec["parameters"]
    assert params["roleName"] == "app"
    assert params["vaultAddress"] == "https://vault:8200"
    assert params["vaultKubernetesMountPath"] == "k8s-prod"
    assert yaml.safe_load(params["objects"]) == [
        {"objectName": "db-password", "secretPath": "secret/data/db", "secretKey": "password"},
        {"objectName": "bundle", "secretPath": "secret/data/bundle"},
    ]


def test_sec1_aws_parameters(make_ctx: ContextFactory) -> None:
    secrets = {
        "provider": "aws",
        "aws": {"region": "eu-west-1", "objectType": "ssmparameter"},
        "objects": [{"name": "api-key", "path": "/prod/api-key"}],
    }
    params = _spc(make_ctx, secrets)["spec"]["parameters"]
    assert params["region"] == "eu-west-1"
    assert yaml.safe_load(params["objects"]) == [
        {"objectName": "/prod/api-key", "objectAlias": "api-key", "objectType": "ssmparameter"}
    ]


def test_sec1_aws_defaults_to_secrets_manager_and_cluster_region(make_ctx: ContextFactory) -> None:
    secrets = {"provider": "aws", "objects": [{"name": "a", "path": "prod/a"}]}
    params = _spc(make_ctx, secrets)["spec"]["parameters"]
    assert set(params) == {"objects"}
    assert yaml.safe_load(params["objects"])[0]["objectType"] == "secretsmanager"


def test_sec1_azure_parameters_use_the_nested_array_shape(make_ctx: ContextFactory) -> None:
    secrets = {
        "provider": "azure",
        "azure": {"keyvaultName": "kv-prod", "tenantId": "tenant-1", "clientId": "client-1"},
        "objects": [{"name": "tls.key", "path": "gateway-tls-key"}],
    }
    params = _spc(make_ctx, secrets)["spec"]["parameters"]
    assert params["keyvaultName"] == "kv-prod"
    assert params["tenantId"] == "tenant-1"
    assert params["clientID"] == "client-1"
    assert params["usePodIdentity"] == "false"
    outer = yaml.safe_load(params["objects"])
    assert [yaml.safe_load(entry) for entry in outer["array"]] == [
        {"objectName": "gateway-tls-key", "objectAlias": "tls.key", "objectType": "secret"}
    ]


def test_sec1_gcp_parameters(make_ctx: ContextFactory) -> None:
    resource = "projects/bank/secrets/api-key/versions/3"
    secrets = {"provider": "gcp", "objects": [{"name": "api-key", "path": resource}]}
    params = _spc(make_ctx, secrets)["spec"]["parameters"]
    assert yaml.safe_load(params["secrets"]) == [{"resourceName": resource, "path": "api-key"}]


def test_service_only_with_ports(make_ctx: ContextFactory) -> None:
    assert service.render(make_ctx()) == []
    ports = [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090}]
    (svc,) = service.render(make_ctx(ports=ports))
    assert svc["spec"] == {
        "type": "ClusterIP",
        "selector": {"finance.compliance.dev/workload": "app"},
        "ports": [
            {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"},
            {"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"},
        ],
    }


def test_avl1_pdb_only_under_pci(make_ctx: ContextFactory) -> None:
    assert pdb.render(make_ctx()) == []
    (budget,) = pdb.render(make_ctx(profile="pci", replicas=2))
    assert (budget["apiVersion"], budget["kind"]) == ("policy/v1", "PodDisruptionBudget")
    assert budget["spec"] == {
        "maxUnavailable": 1,
        "selector": SELECTS_APP,
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }
    assert budget["metadata"]["annotations"] == {"finance.compliance.dev/controls": "AVL-1"}


def test_the_autoscaler_scales_the_workloads_deployment_on_its_targets(
    make_ctx: ContextFactory,
) -> None:
    assert autoscaler.render(make_ctx()) == []
    scaled = {"minReplicas": 2, "maxReplicas": 8, "targetCPUUtilization": 70,
              "targetMemoryUtilization": 80, "scaleDownStabilizationSeconds": 120}  # fmt: skip
    (hpa,) = autoscaler.render(make_ctx(profile="pci", replicas=2, autoscaling=scaled))
    assert (hpa["apiVersion"], hpa["kind"]) == ("autoscaling/v2", "HorizontalPodAutoscaler")
    assert hpa["metadata"]["ownerReferences"][0]["controller"] is True
    spec = hpa["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "app"}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 8)
    targets = {m["resource"]["name"]: m["resource"]["target"] for m in spec["metrics"]}
    assert targets == {
        "cpu": {"type": "Utilization", "averageUtilization": 70},
        "memory": {"type": "Utilization", "averageUtilization": 80},
    }
    assert spec["behavior"] == {"scaleDown": {"stabilizationWindowSeconds": 120}}
