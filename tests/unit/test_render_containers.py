"""Extra containers: app containers, init containers and native sidecars, hardened alike."""

from __future__ import annotations

from typing import Any

from fwop.admission import review
from fwop.api import policy as policy_api
from fwop.render import deployment, pod, service
from fwop.render import networkpolicy as netpol

from . import pss
from .conftest import DIGEST, RESOURCES, ContextFactory, workload_doc

SHIPPER = f"registry.bank.example/team/shipper@sha256:{DIGEST}"
VAULT = {
    "provider": "vault",
    "mountPath": "/mnt/secrets",
    "vault": {"address": "https://vault:8200", "role": "app"},
    "objects": [{"name": "db", "path": "secret/data/db", "key": "password"}],
}


def extra(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": SHIPPER, "resources": RESOURCES, **fields}


PROXY = extra(
    "proxy",
    restartPolicy="Always",
    ports=[{"name": "https", "containerPort": 8443}],
    probes={"readiness": {"httpGet": {"path": "/ready", "port": "https", "scheme": "HTTPS"}}},
)
FULL: dict[str, Any] = {
    "ports": [{"name": "http", "containerPort": 8080}],
    "initContainers": [extra("migrate", args=["migrate", "up"], mountSecrets=True), PROXY],
    "containers": [extra("shipper", ports=[{"name": "metrics", "containerPort": 9102}])],
    "secrets": VAULT,
    "shutdown": {"preStop": {"sleepSeconds": 5}},
}


def pod_spec(make_ctx: ContextFactory, **fields: Any) -> dict[str, Any]:
    (manifest,) = deployment.render(make_ctx(**fields))
    spec: dict[str, Any] = manifest["spec"]["template"]["spec"]
    return spec


def by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in items}


def test_init_containers_and_sidecars_run_first_in_declared_order(
    make_ctx: ContextFactory,
) -> None:
    spec = pod_spec(make_ctx, **FULL)
    assert [c["name"] for c in spec["initContainers"]] == ["migrate", "proxy"]
    assert [c["name"] for c in spec["containers"]] == ["app", "shipper"]
    inits = by_name(spec["initContainers"])
    assert "restartPolicy" not in inits["migrate"]
    assert inits["proxy"]["restartPolicy"] == "Always"
    assert inits["proxy"]["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"


def test_every_container_gets_the_restricted_context_and_its_resources(
    make_ctx: ContextFactory,
) -> None:
    spec = pod_spec(make_ctx, **FULL)
    for container in [*spec["initContainers"], *spec["containers"]]:
        assert container["securityContext"] == pod.CONTAINER_SECURITY, container["name"]
        assert container["resources"]["limits"] == RESOURCES["limits"], container["name"]
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert pss.restricted(spec) == []


def test_only_containers_that_ask_see_the_secrets(make_ctx: ContextFactory) -> None:
    spec = pod_spec(make_ctx, **FULL)
    every = by_name([*spec["initContainers"], *spec["containers"]])
    seeing = {
        name
        for name, c in every.items()
        if any(m["name"] == pod.SECRETS_VOLUME for m in c["volumeMounts"])
    }
    assert seeing == {"app", "migrate"}


def test_pre_stop_belongs_to_the_main_container(make_ctx: ContextFactory) -> None:
    spec = pod_spec(make_ctx, **FULL)
    every = by_name([*spec["initContainers"], *spec["containers"]])
    assert [name for name, c in every.items() if "lifecycle" in c] == ["app"]


def test_the_service_exposes_every_running_container_sidecars_by_number(
    make_ctx: ContextFactory,
) -> None:
    (svc,) = service.render(make_ctx(**FULL))
    ports = {p["name"]: p["targetPort"] for p in svc["spec"]["ports"]}
    assert ports == {"https": 8443, "http": "http", "metrics": "metrics"}


def test_service_without_ports_anywhere_is_not_rendered(make_ctx: ContextFactory) -> None:
    assert service.render(make_ctx(initContainers=[extra("migrate")])) == []


def test_an_ingress_flow_to_a_sidecar_port_is_rendered_by_number(
    make_ctx: ContextFactory,
) -> None:
    flow = {"from": [{"podSelector": {"matchLabels": {"app": "gw"}}}], "ports": [{"port": "https"}]}
    fields = {**FULL, "network": {"ingress": [flow, {**flow, "ports": [{"port": "http"}]}]}}
    _, allow = netpol.render(make_ctx(**fields))
    assert [rule["ports"][0]["port"] for rule in allow["spec"]["ingress"]] == [8443, "http"]


def test_admission_reads_every_container() -> None:
    """IMG-2, SEC-1, POD-6 and port rules each name the extra container's own field."""
    policy = policy_api.FinancialWorkloadPolicySpec(allowed_registries=("registry.bank.example/",))
    doc = workload_doc(
        ports=[{"name": "http", "containerPort": 8080}],
        initContainers=[
            extra("migrate", args=["--db-password=Hunter2-Prod-9"]),
            extra("proxy", restartPolicy="Always", ports=[{"name": "http", "containerPort": 8443}]),
        ],
        containers=[
            extra(
                "shipper",
                image=f"docker.io/fluent/fluent-bit@sha256:{DIGEST}",
                env=[{"name": "API_KEY", "value": "sk_live_4eC39HqLyjWDarjtT1zdp7dc"}],
                resources={**RESOURCES, "requests": {"cpu": "2", "memory": "128Mi"}},
                ports=[{"name": "metrics", "containerPort": 8080}],
            )
        ],
    )
    found = {(p.field, p.control) for p in review.review(doc, policy)}
    assert {
        ("spec.containers[0].image", "IMG-2"),
        ("spec.containers[0].env[0].value", "SEC-1"),
        ("spec.initContainers[0].args[0]", "SEC-1"),
        ("spec.containers[0].resources.requests.cpu", "POD-6"),
        ("spec.ports[0].name", None),
        ("spec.containers[0].ports[0].containerPort", None),
    } <= found


def test_a_probe_names_a_port_of_its_own_container() -> None:
    policy = policy_api.FinancialWorkloadPolicySpec(allowed_registries=("registry.bank.example/",))
    probe = {"readiness": {"tcpSocket": {"port": "http"}}}
    doc = workload_doc(
        ports=[{"name": "http", "containerPort": 8080}],
        initContainers=[extra("proxy", restartPolicy="Always", probes=probe)],
    )
    (problem,) = (p for p in review.review(doc, policy) if p.control != "RES-1")
    assert problem.field == "spec.initContainers[0].probes.readiness.tcpSocket.port"
    assert "spec.initContainers[0].ports" in problem.message
