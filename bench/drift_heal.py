"""Benchmark: time from a tampering edit to the healed state, and API writes per heal.

    .venv/bin/python bench/drift_heal.py [--edits 200] [--workloads 4]

Uses KUBECONFIG when set (the operator must then already run there), otherwise brings up
the local control plane in .cluster/bench, starts `fwop-operator` against it, and tears
both down afterwards. Each edit is made through the API (as a person with kubectl would),
then the benchmark watches the object from the resourceVersion after the edit until the
operator has restored it. Edits run one after another, cycling over ten kinds of
tampering and over the workloads. Printed: p50, p90, p99 and max latency overall and per
kind of edit, and (local cluster only, from the audit log) the operator's writes per heal.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config, watch

import harness

NS = "bench"
DIGEST_IMAGE = "registry.bank.example/bench/app@sha256:" + "c" * 64


def spec() -> dict[str, Any]:
    return {
        "profile": "pci",
        "enforcement": "enforce",
        "image": DIGEST_IMAGE,
        "replicas": 2,
        "ports": [{"name": "http", "containerPort": 8080}],
        "resources": {
            "requests": {"cpu": "100m", "memory": "64Mi"},
            "limits": {"cpu": "500m", "memory": "128Mi"},
        },
        "permissions": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
        "network": {
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": {"app": "gw"}}}],
                    "ports": [{"port": 8080}],
                }
            ]
        },
        "secrets": {
            "provider": "gcp",
            "mountPath": "/mnt/secrets",
            "objects": [{"name": "db", "path": "projects/p/secrets/db/versions/1"}],
        },
    }


@dataclass(frozen=True)
class Edit:
    """One kind of tampering: how to make it, which collection to watch, when it is healed."""

    name: str
    tamper: Callable[[str], None]
    lister: Callable[..., Any]  # list function of the watched kind (namespaced or not)
    target: Callable[[str], str]  # the watched object's name for a workload
    healed: Callable[[dict[str, Any] | None], bool]
    namespaced: bool = True


def edits(api: client.ApiClient) -> list[Edit]:
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    net, rbac = client.NetworkingV1Api(api), client.RbacAuthorizationV1Api(api)
    custom = client.CustomObjectsApi(api)

    def jpatch(fn: Callable[..., Any], name: str, ops: list[dict[str, Any]]) -> None:
        fn(name, NS, ops, _content_type="application/json-patch+json")

    def spc_list(namespace: str, **kw: Any) -> Any:
        return custom.list_namespaced_custom_object(
            "secrets-store.csi.x-k8s.io", "v1", namespace, "secretproviderclasses", **kw
        )

    def container(obj: dict[str, Any] | None) -> dict[str, Any]:
        return (obj or {})["spec"]["template"]["spec"]["containers"][0]

    return [
        Edit(
            "image-tag",
            lambda w: jpatch(
                apps.patch_namespaced_deployment,
                w,
                [
                    {
                        "op": "replace",
                        "path": "/spec/template/spec/containers/0/image",
                        "value": "registry.bank.example/bench/app:latest",
                    }
                ],
            ),
            apps.list_namespaced_deployment,
            str,
            lambda o: o is not None and container(o)["image"] == DIGEST_IMAGE,
        ),
        Edit(
            "scale-to-one",
            lambda w: apps.patch_namespaced_deployment_scale(w, NS, {"spec": {"replicas": 1}}),
            apps.list_namespaced_deployment,
            str,
            lambda o: o is not None and o["spec"]["replicas"] == 2,
        ),
        Edit(
            "remove-runAsNonRoot",
            lambda w: jpatch(
                apps.patch_namespaced_deployment,
                w,
                [{"op": "remove", "path": "/spec/template/spec/securityContext/runAsNonRoot"}],
            ),
            apps.list_namespaced_deployment,
            str,
            lambda o: (
                o is not None
                and o["spec"]["template"]["spec"]["securityContext"].get("runAsNonRoot") is True
            ),
        ),
        Edit(
            "add-capability",
            lambda w: jpatch(
                apps.patch_namespaced_deployment,
                w,
                [
                    {
                        "op": "add",
                        "path": "/spec/template/spec/containers/0/securityContext/capabilities/add",
                        "value": ["NET_ADMIN"],
                    }
                ],
            ),
            apps.list_namespaced_deployment,
            str,
            lambda o: (
                o is not None and "add" not in container(o)["securityContext"]["capabilities"]
            ),
        ),
        Edit(
            "delete-networkpolicy",
            lambda w: net.delete_namespaced_network_policy(f"{w}-default-deny", NS),
            net.list_namespaced_network_policy,
            lambda w: f"{w}-default-deny",
            lambda o: o is not None,
        ),
        Edit(
            "allow-all-ingress",
            lambda w: jpatch(
                net.patch_namespaced_network_policy,
                f"{w}-default-deny",
                [{"op": "add", "path": "/spec/ingress", "value": [{}]}],
            ),
            net.list_namespaced_network_policy,
            lambda w: f"{w}-default-deny",
            lambda o: o is not None and not o["spec"].get("ingress"),
        ),
        Edit(
            "delete-role",
            lambda w: rbac.delete_namespaced_role(w, NS),
            rbac.list_namespaced_role,
            str,
            lambda o: o is not None,
        ),
        Edit(
            "role-verb",
            lambda w: jpatch(
                rbac.patch_namespaced_role,
                w,
                [{"op": "add", "path": "/rules/0/verbs/-", "value": "delete"}],
            ),
            rbac.list_namespaced_role,
            str,
            lambda o: o is not None and o["rules"][0]["verbs"] == ["get"],
        ),
        Edit(
            "namespace-privileged",
            lambda w: core.patch_namespace(
                NS, {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}
            ),
            core.list_namespace,
            lambda w: NS,
            lambda o: (
                o is not None
                and o["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
            ),
            namespaced=False,
        ),
        Edit(
            "delete-secretproviderclass",
            lambda w: custom.delete_namespaced_custom_object(
                "secrets-store.csi.x-k8s.io", "v1", NS, "secretproviderclasses", w
            ),
            spc_list,
            str,
            lambda o: o is not None,
        ),
    ]


def wait_healed(api: client.ApiClient, edit: Edit, name: str, timeout: float = 30) -> float:
    """Seconds from now until the watched object satisfies `edit.healed`."""
    start = time.perf_counter()
    selector = f"metadata.name={name}"
    args = (NS,) if edit.namespaced else ()
    listed = edit.lister(*args, field_selector=selector, _preload_content=False)
    body = json.loads(listed.data)
    items = body.get("items", [])
    if edit.healed(items[0] if items else None):
        return time.perf_counter() - start
    stream = watch.Watch().stream(
        edit.lister,
        *args,
        field_selector=selector,
        resource_version=body["metadata"]["resourceVersion"],
        timeout_seconds=int(timeout),
        _preload_content=False,
    )
    for event in stream:
        obj = event["raw_object"] if event["type"] != "DELETED" else None
        if edit.healed(obj):
            return time.perf_counter() - start
    raise TimeoutError(f"{edit.name} on {name} not healed within {timeout}s")


def report(latencies: dict[str, list[float]]) -> None:
    everything = [v for vs in latencies.values() for v in vs]
    print(f"edits: {len(everything)}")
    print(f"{'edit':28} {'n':>4} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    rows = [*sorted(latencies.items()), ("ALL", everything)]
    for name, values in rows:
        print(
            f"{name:28} {len(values):4d} {1000 * statistics.median(values):8.1f} "
            f"{1000 * harness.percentile(values, 0.9):8.1f} "
            f"{1000 * harness.percentile(values, 0.99):8.1f} {1000 * max(values):8.1f}"
        )


def count_writes(audit: Path, mark: int, heals: int) -> None:
    with audit.open() as log:
        log.seek(mark)
        writes = [json.loads(line) for line in log]
    ours = [w for w in writes if w.get("userAgent", "").startswith("fwop/")]
    status = [w for w in ours if w["objectRef"].get("subresource") == "status"]
    events = [w for w in ours if w["objectRef"].get("resource") == "events"]
    children = [w for w in ours if w not in status and w not in events]
    print(
        f"operator writes per heal: children {len(children) / heals:.2f}, "
        f"workload status {len(status) / heals:.2f}, events {len(events) / heals:.2f}"
    )
    kinds = collections.Counter(f"{w['verb']} {w['objectRef'].get('resource')}" for w in children)
    print("child writes by kind:", dict(sorted(kinds.items())))


def setup(c: harness.Cluster, api: client.ApiClient, workloads: int) -> None:
    c.kubectl("create", "namespace", NS)
    for i in range(workloads):
        doc = {
            "apiVersion": "finance.compliance.dev/v1alpha1",
            "kind": "FinancialWorkload",
            "metadata": {"name": f"w{i}", "namespace": NS},
            "spec": spec(),
        }
        c.kubectl("apply", "--server-side", "-f", "-", stdin=yaml.safe_dump(doc))
    custom = client.CustomObjectsApi(api)
    deadline = time.monotonic() + 120
    for i in range(workloads):
        while True:
            obj = custom.get_namespaced_custom_object(
                "finance.compliance.dev", "v1alpha1", NS, "financialworkloads", f"w{i}"
            )
            ready = [
                c
                for c in obj.get("status", {}).get("conditions", [])
                if c["type"] == "Ready" and c["status"] == "True"
            ]
            if ready:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"w{i} not Ready: {obj.get('status')}")
            time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--workloads", type=int, default=4)
    args = parser.parse_args()
    with harness.cluster("bench") as c:
        harness.install(c)
        log = (c.state or Path("/tmp")) / "operator.log"
        with harness.operator(c, log):
            api = config.new_client_from_config(config_file=str(c.kubeconfig))
            setup(c, api, args.workloads)
            audit = c.state / "audit" / "audit.log" if c.state else None
            mark = audit.stat().st_size if audit else 0
            catalog = edits(api)
            latencies: dict[str, list[float]] = {e.name: [] for e in catalog}
            for i in range(args.edits):
                edit = catalog[i % len(catalog)]
                workload = f"w{(i // len(catalog)) % args.workloads}"
                edit.tamper(workload)
                latencies[edit.name].append(wait_healed(api, edit, edit.target(workload)))
            time.sleep(1)  # let the last status writes land before counting
            report(latencies)
            if audit:
                count_writes(audit, mark, args.edits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
