"""Benchmark: time from a tampering edit to the healed state, and API writes per heal.

    .venv/bin/python bench/drift_heal.py [--edits 200] [--workloads 4]

Uses KUBECONFIG when set (the operator must then already run there), otherwise brings up
the local control plane in .cluster/bench, starts `fwop-operator` against it, and tears
both down afterwards. The workloads are pci and enforced, with every child kind
(Deployment, ServiceAccount, Role, RoleBinding, both NetworkPolicies, SecretProviderClass,
Service, PodDisruptionBudget) in one namespace.

Edits run one after another, cycling over the tampers of TAMPERS (the 29 of
tests/cluster/test_tampers.py and the benchmark's earlier ones) and over the workloads.
Each edit is a JSON patch (or a delete) made through the API as an admin with its own field
manager. Before it the object is read and a watch of it is opened from that read; after it
the benchmark follows the watch past the edit's own event until the object equals what was
read, on everything but server metadata and status (for the namespace: its Pod Security
labels, the only part of it the operator owns); a broken watch falls back to polling every
5 ms. The latency runs from the edit's response to the healed state's event (a heal not
seen within 30 s is counted apart, as is an edit the API refuses). Printed: p50, p90, p99 and max
over all edits, p50 and max per tamper, and (local cluster only, from the audit log) the
operator's successful writes per heal: child writes, workload status writes and Events.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes import client, config
from kubernetes.watch.watch import iter_resp_lines

import harness

NS = "bench"
DIGEST_IMAGE = "registry.bank.example/bench/app@sha256:" + "c" * 64
OTHER_IMAGE = "registry.bank.example/team/other@sha256:" + "0123456789abcdef" * 4
FIELD_MANAGER = "bench-tamper"
TIMEOUT = 30.0  # seconds for one heal; a slower one is counted as not healed


def spec() -> dict[str, Any]:
    """A pci workload with every child kind (as `full_spec` in tests/cluster/test_tampers.py)."""
    return {
        "profile": "pci",
        "enforcement": "enforce",
        "image": DIGEST_IMAGE,
        "replicas": 2,
        "ports": [{"name": "http", "containerPort": 8080}],
        "env": [{"name": "LIMIT", "value": "1000"}],
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
            ],
            "egress": [
                {"to": [{"podSelector": {"matchLabels": {"db": "pg"}}}], "ports": [{"port": 5432}]}
            ],
        },
        "secrets": {
            "provider": "gcp",
            "mountPath": "/mnt/secrets",
            "objects": [{"name": "db", "path": "projects/p/secrets/db/versions/1"}],
        },
    }


# Collection paths of the tampered kinds ({ns} is the namespace).
PATHS = {
    "deployment": "/apis/apps/v1/namespaces/{ns}/deployments",
    "service": "/api/v1/namespaces/{ns}/services",
    "serviceaccount": "/api/v1/namespaces/{ns}/serviceaccounts",
    "role": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
    "rolebinding": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
    "networkpolicy": "/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies",
    "secretproviderclass": (
        "/apis/secrets-store.csi.x-k8s.io/v1/namespaces/{ns}/secretproviderclasses"
    ),
    "poddisruptionbudget": "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets",
    "namespace": "/api/v1/namespaces",
}


@dataclass(frozen=True)
class Tamper:
    """One hostile edit: the object (by kind and name suffix), the JSON patch or a delete."""

    id: str
    resource: str
    name: str  # suffix after the workload's name; "" for the child named like it
    ops: list[dict[str, Any]] = field(default_factory=list)  # empty: delete the object
    subresource: str = ""  # "scale": patch the Deployment through its scale subresource

    def target(self, workload: str) -> str:
        return NS if self.resource == "namespace" else workload + self.name


def add(path: str, value: Any) -> dict[str, Any]:
    return {"op": "add", "path": path, "value": value}


def replace(path: str, value: Any) -> dict[str, Any]:
    return {"op": "replace", "path": path, "value": value}


def remove(path: str) -> dict[str, Any]:
    return {"op": "remove", "path": path}


# The table of tests/cluster/test_tampers.py (copied: the benchmark imports nothing from
# tests/), then the benchmark's earlier edits; its "delete-networkpolicy" is the tests'
# "networkpolicy-deleted" and is not repeated.
POD = "/spec/template/spec"
RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
SIDE = {"name": "sidecar", "image": OTHER_IMAGE, "securityContext": RESTRICTED,
        "resources": {"limits": {"cpu": "10m", "memory": "8Mi"}}}  # fmt: skip
AFFINITY = {
    "podAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {
                "weight": 1,
                "podAffinityTerm": {
                    "topologyKey": "zone",
                    "labelSelector": {"matchLabels": {"a": "b"}},
                },
            }
        ]
    }
}
SECRET_REF = {"secretKeyRef": {"name": "db", "key": "password"}}
PSS_ENFORCE = "/metadata/labels/pod-security.kubernetes.io~1enforce"
TAMPERS = [
    Tamper("sidecar-container", "deployment", "", [add(f"{POD}/containers/-", SIDE)]),
    Tamper("init-container", "deployment", "", [add(f"{POD}/initContainers", [SIDE])]),
    Tamper("envfrom-secret", "deployment", "",
           [add(f"{POD}/containers/0/envFrom", [{"secretRef": {"name": "db"}}])]),
    Tamper("valuefrom-secret", "deployment", "",
           [add(f"{POD}/containers/0/env/-", {"name": "PW", "valueFrom": SECRET_REF})]),
    Tamper("env-quantity-text", "deployment", "",
           [replace(f"{POD}/containers/0/env/0/value", "1k")]),
    Tamper("command", "deployment", "", [add(f"{POD}/containers/0/command", ["/bin/sh"])]),
    Tamper("args", "deployment", "", [add(f"{POD}/containers/0/args", ["-c", "id"])]),
    Tamper("host-network", "deployment", "", [add(f"{POD}/hostNetwork", True)]),
    Tamper("host-pid", "deployment", "", [add(f"{POD}/hostPID", True)]),
    Tamper("host-ipc", "deployment", "", [add(f"{POD}/hostIPC", True)]),
    Tamper("host-port", "deployment", "", [add(f"{POD}/containers/0/ports/0/hostPort", 8080)]),
    Tamper("hostpath-volume", "deployment", "",
           [add(f"{POD}/volumes/-", {"name": "host", "hostPath": {"path": "/"}})]),
    Tamper("extra-volume", "deployment", "",
           [add(f"{POD}/volumes/-", {"name": "scratch", "emptyDir": {}})]),
    Tamper("tolerate-everything", "deployment", "",
           [add(f"{POD}/tolerations", [{"operator": "Exists"}])]),
    Tamper("node-selector", "deployment", "",
           [add(f"{POD}/nodeSelector", {"kubernetes.io/hostname": "node-0"})]),
    Tamper("affinity", "deployment", "", [add(f"{POD}/affinity", AFFINITY)]),
    Tamper("extra-pod-label", "deployment", "",
           [add("/spec/template/metadata/labels/role", "frontend")]),
    Tamper("routing-labels-and-image", "deployment", "", [
        remove("/metadata/labels/finance.compliance.dev~1workload"),
        remove("/metadata/labels/app.kubernetes.io~1managed-by"),
        replace(f"{POD}/containers/0/image", OTHER_IMAGE),
    ]),
    Tamper("service-external-ips", "service", "", [add("/spec/externalIPs", ["203.0.113.7"])]),
    Tamper("service-type", "service", "", [replace("/spec/type", "NodePort")]),
    Tamper("service-owner-removed", "service", "", [remove("/metadata/ownerReferences")]),
    Tamper("role-rule", "role", "",
           [add("/rules/-", {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})]),
    Tamper("rolebinding-subject", "rolebinding", "",
           [add("/subjects/-", {"kind": "User", "name": "mallory",
                                "apiGroup": "rbac.authorization.k8s.io"})]),
    Tamper("networkpolicy-egress-rule", "networkpolicy", "-allow", [add("/spec/egress/-", {})]),
    Tamper("networkpolicy-deleted", "networkpolicy", "-default-deny"),
    Tamper("secretproviderclass-parameters", "secretproviderclass", "",
           [add("/spec/parameters/extra", "value")]),
    Tamper("serviceaccount-pull-secret", "serviceaccount", "",
           [add("/imagePullSecrets", [{"name": "stolen"}])]),
    Tamper("pdb-max-unavailable", "poddisruptionbudget", "",
           [replace("/spec/maxUnavailable", 3)]),
    Tamper("namespace-pss-label-removed", "namespace", "", [remove(PSS_ENFORCE)]),
    # The benchmark's earlier edits.
    Tamper("image-tag", "deployment", "",
           [replace(f"{POD}/containers/0/image", "registry.bank.example/bench/app:latest")]),
    Tamper("scale-to-one", "deployment", "", [replace("/spec/replicas", 1)], "scale"),
    Tamper("remove-runAsNonRoot", "deployment", "",
           [remove(f"{POD}/securityContext/runAsNonRoot")]),
    Tamper("add-capability", "deployment", "",
           [add(f"{POD}/containers/0/securityContext/capabilities/add", ["NET_ADMIN"])]),
    Tamper("allow-all-ingress", "networkpolicy", "-default-deny", [add("/spec/ingress", [{}])]),
    Tamper("delete-role", "role", ""),
    Tamper("role-verb", "role", "", [add("/rules/0/verbs/-", "delete")]),
    Tamper("namespace-privileged", "namespace", "", [replace(PSS_ENFORCE, "privileged")]),
    Tamper("delete-secretproviderclass", "secretproviderclass", ""),
]  # fmt: skip

# What drift ignores and the comparison drops (as tests/cluster/test_tampers.py does).
NOISE = ("resourceVersion", "generation", "managedFields", "uid", "creationTimestamp")


def comparable(resource: str, obj: dict[str, Any] | None) -> Any:
    """The object as drift sees it: everything but server metadata and status."""
    if obj is None:
        return None
    obj = dict(obj)
    for key in ("status", "kind", "apiVersion"):  # list items have no kind nor apiVersion
        obj.pop(key, None)
    meta = dict(obj["metadata"])
    for key in NOISE:
        meta.pop(key, None)
    annotations = {
        k: v
        for k, v in meta.get("annotations", {}).items()
        if k != "deployment.kubernetes.io/revision"
    }
    meta["annotations"] = annotations
    obj["metadata"] = meta
    if resource == "namespace":
        return {k: v for k, v in meta.get("labels", {}).items() if k.startswith("pod-security")}
    return obj


class Rest:
    """Plain JSON requests through the kubernetes client's connection pool and credentials."""

    def __init__(self, api: client.ApiClient) -> None:
        self.api = api

    def call(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str | None = None,
        stream: bool = False,
    ) -> Any:
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        request = self.api.param_serialize(
            method,
            path,
            query_params=query or [],
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = self.api.call_api(*request, _request_timeout=(10, TIMEOUT + 10))
        if stream and response.status < 400:
            return response.response  # the urllib3 response, unread
        data = response.read()
        if response.status >= 400:
            raise client.ApiException(status=response.status, reason=data.decode()[:500])
        return json.loads(data)


def path_of(tamper: Tamper, workload: str = "") -> str:
    base = PATHS[tamper.resource].format(ns=NS)
    if not workload:
        return base
    suffix = f"/{tamper.subresource}" if tamper.subresource else ""
    return f"{base}/{urllib.parse.quote(tamper.target(workload))}{suffix}"


def tamper_with(rest: Rest, tamper: Tamper, workload: str) -> None:
    """The edit, as an admin with its own field manager (a delete when there is no patch)."""
    if not tamper.ops:
        rest.call("DELETE", path_of(tamper, workload))
        return
    rest.call(
        "PATCH",
        path_of(tamper, workload),
        query=[("fieldManager", FIELD_MANAGER)],
        body=tamper.ops,
        content_type="application/json-patch+json",
    )


def listed(rest: Rest, tamper: Tamper, workload: str) -> dict[str, Any]:
    query = [("fieldSelector", f"metadata.name={tamper.target(workload)}")]
    found: dict[str, Any] = rest.call("GET", path_of(tamper), query=query)
    return found


def watch_from_now(rest: Rest, tamper: Tamper, workload: str) -> tuple[Any, Any]:
    """The object as drift sees it (waiting for it to exist), and a watch opened from there.

    The watch's connection is open and its headers read before the edit, so no request or
    TLS handshake lies between the edit's response and the events that follow it.
    """
    deadline = time.monotonic() + TIMEOUT
    while not (found := listed(rest, tamper, workload))["items"]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{tamper.target(workload)} ({tamper.resource}) is missing")
        time.sleep(0.05)
    query = [
        ("fieldSelector", f"metadata.name={tamper.target(workload)}"),
        ("watch", "true"),
        ("resourceVersion", found["metadata"]["resourceVersion"]),
        ("timeoutSeconds", str(int(TIMEOUT * 2 / 3))),  # then poll until TIMEOUT
    ]
    stream = rest.call("GET", path_of(tamper), query=query, stream=True)
    return comparable(tamper.resource, found["items"][0]), stream


def healed_in(stream: Any, resource: str, before: Any) -> bool:
    """Whether the watch shows the edit (a change, or the deletion), then `before` again."""
    edited = False
    for line in iter_resp_lines(stream):
        event = json.loads(line)
        if event["type"] == "ERROR":
            print(f"watch error, polling instead: {event['object']}")
            return False
        if event["type"] == "BOOKMARK":
            continue
        now = None if event["type"] == "DELETED" else comparable(resource, event["object"])
        if not edited:
            edited = now != before  # the edit's own event (earlier ones equal `before`)
        elif now == before:
            return True
    return False  # the server ended the watch (timeoutSeconds)


def wait_healed(
    rest: Rest, tamper: Tamper, workload: str, before: Any, stream: Any, *, start: float
) -> bool:
    """Whether the object came back to `before` within TIMEOUT of `start`."""
    try:
        if healed_in(stream, tamper.resource, before):
            return True
    except (OSError, ValueError, urllib3.exceptions.HTTPError) as exc:
        print(f"watch of {tamper.target(workload)} broke, polling instead: {exc!r}")
    finally:
        stream.close()
        stream.release_conn()
    while time.perf_counter() - start < TIMEOUT:  # the fallback: poll every 5 ms
        items = listed(rest, tamper, workload)["items"]
        if any(comparable(tamper.resource, o) == before for o in items):
            return True
        time.sleep(0.005)
    return False


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.1f}"


FIGURES: dict[str, Any] = {}
"""What the README's drift row shows (build/bench-drift.json; bench/readme.py)."""


def report(latencies: dict[str, list[float]], unhealed: collections.Counter[str]) -> None:
    everything = [v for vs in latencies.values() for v in vs]
    FIGURES.update(edits=len(everything) + sum(unhealed.values()), tampers=len(latencies))
    print(
        f"edits: {len(everything) + sum(unhealed.values())} over {len(latencies)} tampers, "
        f"healed {len(everything)}, refused or not healed {sum(unhealed.values())}"
    )
    if not everything:
        return
    FIGURES.update(
        p50=ms(statistics.median(everything)),
        p90=ms(harness.percentile(everything, 0.9)),
        p99=ms(harness.percentile(everything, 0.99)),
        max=ms(max(everything)),
    )
    print(
        f"edit -> healed, all edits: p50 {ms(statistics.median(everything))} ms, "
        f"p90 {ms(harness.percentile(everything, 0.9))} ms, "
        f"p99 {ms(harness.percentile(everything, 0.99))} ms, max {ms(max(everything))} ms"
    )
    by_kind = {t.id: t.resource for t in TAMPERS}
    print(f"{'tamper':32} {'object':20} {'n':>3} {'p50 ms':>7} {'max ms':>7}")
    for name, values in latencies.items():
        missed = f"  (+{unhealed[name]} refused or not healed)" if unhealed[name] else ""
        if not values:
            print(f"{name:32} {by_kind[name]:20} {0:3d} {'-':>7} {'-':>7}{missed}")
            continue
        print(
            f"{name:32} {by_kind[name]:20} {len(values):3d} "
            f"{ms(statistics.median(values)):>7} {ms(max(values)):>7}{missed}"
        )


WRITES = {"create", "update", "patch", "delete", "deletecollection"}
CHILD_RESOURCES = {p.rsplit("/", 1)[1] for p in PATHS.values()}


def category(entry: dict[str, Any]) -> str:
    ref = entry.get("objectRef", {})
    resource = ref.get("resource", "")
    if resource == "events":
        return "events"
    if resource == "financialworkloads" and ref.get("subresource") == "status":
        return "status"
    if resource in CHILD_RESOURCES and not ref.get("subresource"):
        return "children"
    return "other"


def count_writes(audit: Path, mark: int, heals: int) -> None:
    """The operator's writes after `mark` in the audit log, per heal."""
    with audit.open() as log:
        log.seek(mark)
        entries = [json.loads(line) for line in log if line.strip()]
    ours = [
        e
        for e in entries
        if e.get("userAgent", "").startswith("fwop/")
        and e.get("stage") == "ResponseComplete"
        and e.get("verb") in WRITES
    ]
    done = [e for e in ours if e.get("responseStatus", {}).get("code", 0) < 400]
    failed = collections.Counter(e.get("responseStatus", {}).get("code", 0) for e in ours)
    failed = collections.Counter({c: n for c, n in failed.items() if c >= 400})
    counts = collections.Counter(category(e) for e in done)
    FIGURES.update(
        children=round(counts["children"] / heals, 2),
        status=round(counts["status"] / heals, 2),
        events=round(counts["events"] / heals, 2),
        refused=sum(failed.values()),
    )
    other = f", other {counts['other'] / heals:.2f}" if counts["other"] else ""
    print(
        f"operator writes per heal ({heals} heals; audit log, user agent fwop/*, code < 400): "
        f"children {counts['children'] / heals:.2f}, workload status "
        f"{counts['status'] / heals:.2f}, events {counts['events'] / heals:.2f}{other}"
    )
    kinds = collections.Counter(
        " ".join((e["verb"], "/".join(filter(None, (ref.get("resource"), ref.get("subresource"))))))
        for e in done
        if category(e) in ("children", "other")
        for ref in [e.get("objectRef", {})]
    )
    print("child (and other) writes by kind:", dict(sorted(kinds.items())))
    print(
        "operator writes refused (code >= 400):",
        dict(sorted(failed.items())) if failed else "none",
    )


def status_parts(port: int) -> collections.Counter[str]:
    """The operator's fwop_status_write_changes_total, by part, from its /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    found: collections.Counter[str] = collections.Counter()
    for line in text.splitlines():
        if line.startswith("fwop_status_write_changes_total{"):
            part = line.split('changed="', 1)[1].split('"', 1)[0]
            found[part] = int(float(line.rsplit(" ", 1)[1]))
    return found


def status_changes(
    before: collections.Counter[str], after: collections.Counter[str], heals: int
) -> None:
    """Per heal, what of the status the operator's status writes changed."""
    parts = after - before
    FIGURES["status_parts"] = {k: round(v / heals, 2) for k, v in sorted(parts.items())}
    print(
        "status writes per heal by what they changed (a write counts under each part): "
        + ", ".join(f"{k} {v / heals:.2f}" for k, v in sorted(parts.items()))
    )


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
            status = obj.get("status", {})
            ready = [
                c
                for c in status.get("conditions", [])
                if c["type"] == "Ready" and c["status"] == "True"
            ]
            if ready and status.get("observedGeneration") == obj["metadata"]["generation"]:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"w{i} not Ready: {status}")
            time.sleep(0.2)


def run(rest: Rest, edits: int, workloads: int) -> None:
    """`edits` edits, tamper i % len(TAMPERS) on workload i % workloads; then the report."""
    latencies: dict[str, list[float]] = {t.id: [] for t in TAMPERS}
    unhealed: collections.Counter[str] = collections.Counter()
    for i in range(edits):
        tamper, workload = TAMPERS[i % len(TAMPERS)], f"w{i % workloads}"
        before, stream = watch_from_now(rest, tamper, workload)
        try:
            tamper_with(rest, tamper, workload)
        except client.ApiException as exc:  # reported, not fatal: the other edits still count
            stream.close()
            stream.release_conn()
            unhealed[tamper.id] += 1
            print(f"edit refused: {tamper.id} on {workload}: {exc.status} {exc.reason}")
            continue
        start = time.perf_counter()
        if wait_healed(rest, tamper, workload, before, stream, start=start):
            latencies[tamper.id].append(time.perf_counter() - start)
        else:
            unhealed[tamper.id] += 1
            print(f"not healed within {TIMEOUT:.0f} s: {tamper.id} on {workload}")
    report(latencies, unhealed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--workloads", type=int, default=4)
    args = parser.parse_args()
    with harness.cluster("bench") as c:
        harness.install(c)
        log = (c.state or Path("/tmp")) / "operator.log"
        port = harness.free_port()
        metrics_env = {"FWOP_HTTP_PORT": str(port), "FWOP_HTTP_ADDR": "127.0.0.1"}
        with harness.operator(c, log, metrics_env):
            api = config.new_client_from_config(config_file=str(c.kubeconfig))
            setup(c, api, args.workloads)
            audit = c.state / "audit" / "audit.log" if c.state else None
            mark = audit.stat().st_size if audit else 0
            parts = status_parts(port) if c.state else collections.Counter()
            run(Rest(api), args.edits, args.workloads)
            time.sleep(1)  # let the last status writes land before counting
            if audit:
                count_writes(audit, mark, args.edits)
            if c.state:
                status_changes(parts, status_parts(port), args.edits)
    harness.save_figures("drift", FIGURES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
