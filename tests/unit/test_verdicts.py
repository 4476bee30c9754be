"""Verdicts per control, judged from live objects: a rendered workload passes, each tamper
fails the control it breaks (and only the controls it breaks), with evidence."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from fwop import controls, errors
from fwop.api import guardrails
from fwop.compliance import verdicts
from fwop.compliance.verdicts import Result
from fwop.render import meta, workload

from .conftest import OWNER, SpecFactory

PCI: dict[str, Any] = {
    "profile": "pci",
    "replicas": 3,
    "ports": [{"name": "http", "containerPort": 8080}],
    "permissions": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
    "network": {"allowDNS": True, "egress": [{"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}],
                                              "ports": [{"port": 5432}]}]},
    "secrets": {
        "provider": "gcp",
        "objects": [{"name": "k", "path": "projects/p/secrets/k/versions/1"}],
    },
    "residency": {"regions": ["eu-west-1"]},
}  # fmt: skip
REGISTRIES = ("registry.bank.example/team/",)


def live(manifest: dict[str, Any], index: int) -> dict[str, Any]:
    """A rendered child as the API server returns it: uid and resourceVersion set."""
    body = copy.deepcopy(manifest)
    body["metadata"]["uid"] = f"uid-{index}"
    body["metadata"]["resourceVersion"] = str(100 + index)
    return body


def network_of(rendered: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in rendered if m["kind"] == "NetworkPolicy"}


def subject(make_spec: SpecFactory, **fields: Any) -> verdicts.Subject:
    spec = make_spec(**(PCI | fields))
    rendered = workload.render_all("team", "app", spec, OWNER)
    children = [live(m, i) for i, m in enumerate(rendered) if m["kind"] != "Namespace"]
    namespace = live(next(m for m in rendered if m["kind"] == "Namespace"), 99)
    return verdicts.Subject(
        namespace=namespace,
        children=children,
        owner_uid=OWNER.uid,
        profile=str(spec.profile),
        permissions_declared=bool(spec.permissions),
        secrets_declared=spec.secrets is not None,
        regions=tuple(spec.residency.regions) if spec.residency else (),
        registries=REGISTRIES,
        desired_network=network_of(rendered),
        placement=guardrails.ANY_PLACEMENT,
    )  # fmt: skip


def results(found: tuple[verdicts.Verdict, ...]) -> dict[str, Result]:
    return {v.control: v.result for v in found}


def tampered(base: verdicts.Subject, kind: str, change: Callable[[dict[str, Any]], None],
             name: str | None = None) -> verdicts.Subject:  # fmt: skip
    children = [copy.deepcopy(dict(c)) for c in base.children]
    target = next(
        c for c in children
        if c["kind"] == kind and (name is None or c["metadata"]["name"] == name)
    )  # fmt: skip
    change(target)
    return dataclasses.replace(base, children=children)


def pod(deployment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = pod(deployment)["containers"][0]
    return found


def test_a_rendered_pci_workload_passes_every_control_it_can_be_judged_on(
    make_spec: SpecFactory,
) -> None:
    found = verdicts.judge(subject(make_spec))
    assert [v.control for v in found] == list(controls.ids())
    assert {c: r for c, r in results(found).items() if r is not Result.PASS} == {
        "RBAC-4": Result.SKIP,  # permissions declared: judged at admission only
        "AUD-1": Result.SKIP,
    }
    for verdict in found:
        assert verdict.message
        assert len(verdict.evidence) <= verdicts.MAX_EVIDENCE


def test_evidence_names_the_object_field_and_value(make_spec: SpecFactory) -> None:
    found = {v.control: v for v in verdicts.judge(subject(make_spec))}
    image = found["IMG-1"].evidence[0]
    assert (image.kind, image.name) == ("Deployment", "app")
    assert image.uid.startswith("uid-")
    assert image.resource_version
    assert image.field == "spec.template.spec.containers[0].image"
    assert image.observed.endswith("@sha256:" + "0123456789abcdef" * 4)
    ns = found["NS-1"].evidence[0]
    assert ns.kind == "Namespace"
    assert "restricted" in ns.observed


TAMPERS: list[tuple[str, str, Callable[[dict[str, Any]], None], set[str]]] = [
    ("tag image", "Deployment",
     lambda d: container(d).update(image="registry.bank.example/team/app:latest"), {"IMG-1"}),
    ("foreign registry", "Deployment",
     lambda d: container(d).update(image="evil.example/app@sha256:" + "ab" * 32), {"IMG-2"}),
    ("root user", "Deployment",
     lambda d: container(d)["securityContext"].update(runAsUser=0), {"POD-1"}),
    ("writable root", "Deployment",
     lambda d: container(d)["securityContext"].update(readOnlyRootFilesystem=False), {"POD-2"}),
    ("escalation", "Deployment",
     lambda d: container(d)["securityContext"].update(allowPrivilegeEscalation=True), {"POD-3"}),
    ("added capability", "Deployment",
     lambda d: container(d)["securityContext"]["capabilities"].update(add=["NET_ADMIN"]),
     {"POD-3"}),
    ("unconfined seccomp", "Deployment",
     lambda d: pod(d)["securityContext"].update(seccompProfile={"type": "Unconfined"}),
     {"POD-4"}),
    ("host network", "Deployment", lambda d: pod(d).update(hostNetwork=True), {"POD-5"}),
    ("privileged", "Deployment",
     lambda d: container(d)["securityContext"].update(privileged=True), {"POD-5"}),
    ("hostPath", "Deployment",
     lambda d: pod(d)["volumes"].append({"name": "h", "hostPath": {"path": "/"}}), {"POD-5"}),
    ("no limits", "Deployment", lambda d: container(d)["resources"].pop("limits"), {"POD-6"}),
    ("default account", "Deployment",
     lambda d: pod(d).update(serviceAccountName="default"), {"RBAC-1"}),
    ("wildcard verb", "Role", lambda r: r["rules"][0].update(verbs=["*"]), {"RBAC-2", "RBAC-3"}),
    ("secrets grant", "Role",
     lambda r: r["rules"].append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}),
     {"RBAC-3"}),
    ("deny opened", "NetworkPolicy",
     lambda n: n["spec"].update(ingress=[{}]), {"NET-1", "NET-2"}),
    ("metadata egress", "NetworkPolicy",
     lambda n: n["spec"]["egress"].append({"to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}]}),
     {"NET-2", "NET-3"}),
    ("secret env", "Deployment",
     lambda d: container(d).setdefault("env", []).append(
         {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}), {"SEC-1"}),
    ("writable csi", "Deployment",
     lambda d: next(v for v in pod(d)["volumes"] if "csi" in v)["csi"].update(readOnly=False),
     {"SEC-1"}),
    ("region dropped", "Deployment", lambda d: pod(d).pop("affinity"), {"RES-1"}),
    ("one replica", "Deployment", lambda d: d["spec"].update(replicas=1), {"AVL-1"}),
    ("no spread", "Deployment", lambda d: pod(d).pop("topologySpreadConstraints"), {"AVL-1"}),
    ("foreign owner", "ServiceAccount",
     lambda s: s["metadata"].update(ownerReferences=[]), {"RBAC-1", "OWN-1"}),
    ("reserved pod label", "Deployment",
     lambda d: d["spec"]["template"]["metadata"]["labels"].update(
         {"app.kubernetes.io/component": "gateway"}), {"PLC-1"}),
    ("mesh opt-out", "Deployment",
     lambda d: d["spec"]["template"]["metadata"].update(
         annotations={"sidecar.istio.io/inject": "false"}), {"PLC-1"}),
    ("tolerate everything", "Deployment",
     lambda d: pod(d).update(tolerations=[{"operator": "Exists"}]), {"PLC-1"}),
    ("system priority", "Deployment",
     lambda d: pod(d).update(priorityClassName="system-node-critical"), {"PLC-1"}),
]  # fmt: skip


@pytest.mark.parametrize(("what", "kind", "change", "broken"), TAMPERS, ids=[t[0] for t in TAMPERS])
def test_each_tamper_fails_exactly_the_controls_it_breaks(
    make_spec: SpecFactory,
    what: str,
    kind: str,
    change: Callable[[dict[str, Any]], None],
    broken: set[str],
) -> None:
    base = subject(make_spec)
    name = (
        "app-default-deny"
        if what == "deny opened"
        else "app-allow"
        if kind == "NetworkPolicy"
        else None
    )
    found = verdicts.judge(tampered(base, kind, change, name))
    failed = {v.control for v in found if v.result is Result.FAIL}
    assert failed == broken
    for verdict in found:
        if verdict.result is Result.FAIL and verdict.control != "OWN-1":
            assert verdict.evidence or "cluster policy" in verdict.message, verdict


def test_foreign_owner_is_a_failure_of_own1_with_the_child_named(make_spec: SpecFactory) -> None:
    base = tampered(
        subject(make_spec), "ServiceAccount", lambda s: s["metadata"].update(ownerReferences=[])
    )
    own = next(v for v in verdicts.judge(base) if v.control == "OWN-1")
    assert [(e.kind, e.name) for e in own.evidence] == [("ServiceAccount", "app")]


def test_namespace_labels_unpinned_or_missing_fail_ns1(make_spec: SpecFactory) -> None:
    base = subject(make_spec)
    assert base.namespace is not None
    ns = copy.deepcopy(dict(base.namespace))
    ns["metadata"]["labels"]["pod-security.kubernetes.io/warn-version"] = "latest"
    ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "baseline"
    ns1 = next(
        v for v in verdicts.judge(dataclasses.replace(base, namespace=ns)) if v.control == "NS-1"
    )
    assert ns1.result is Result.FAIL
    assert "enforce is not restricted" in ns1.message
    assert "warn-version" in ns1.message
    unseen = verdicts.judge(dataclasses.replace(base, namespace=None))
    assert results(unseen)["NS-1"] is Result.FAIL


def test_policy_findings_fail_their_control_and_name_the_field(make_spec: SpecFactory) -> None:
    problem = errors.Problem("spec.profile", "the namespace requires profile pci (PRF-1)", "PRF-1")
    found = verdicts.judge(dataclasses.replace(subject(make_spec), problems=(problem,)))
    prf = next(v for v in found if v.control == "PRF-1")
    assert prf.result is Result.FAIL
    assert "spec.profile" in prf.message
    assert {v.control for v in found if v.result is Result.FAIL} == {"PRF-1"}


def test_open_drift_fails_drf1_and_healed_drift_passes(make_spec: SpecFactory) -> None:
    entry = {"kind": "Deployment", "name": "app", "field": "spec.replicas",
             "detectedAt": "2026-12-05T08:00:00Z"}  # fmt: skip
    opened = verdicts.judge(dataclasses.replace(subject(make_spec), drift=(entry,)))
    drf = next(v for v in opened if v.control == "DRF-1")
    assert drf.result is Result.FAIL
    assert drf.evidence[0].field == "spec.replicas"
    healed = dict(entry, healedAt="2026-12-05T08:00:01Z")
    closed = verdicts.judge(dataclasses.replace(subject(make_spec), drift=(healed,)))
    after_heal = next(v for v in closed if v.control == "DRF-1")
    assert after_heal.result is Result.PASS
    before_any = next(v for v in verdicts.judge(subject(make_spec)) if v.control == "DRF-1")
    assert after_heal.identity() == before_any.identity()  # a heal rewrites no report


def test_a_minimal_baseline_workload_skips_what_does_not_apply(make_spec: SpecFactory) -> None:
    spec = make_spec()
    rendered = workload.render_all("team", "app", spec, OWNER)
    children = [live(m, i) for i, m in enumerate(rendered) if m["kind"] != "Namespace"]
    found = verdicts.judge(verdicts.Subject(
        namespace=live(rendered[0], 0), children=children, owner_uid=OWNER.uid,
        profile="baseline", registries=REGISTRIES,
        desired_network=network_of(rendered),
    ))  # fmt: skip
    got = results(found)
    assert got["AVL-1"] is Result.SKIP
    assert got["RES-1"] is Result.SKIP
    assert got["RBAC-4"] is Result.PASS
    assert got["RBAC-2"] is Result.PASS
    assert got["SEC-1"] is Result.PASS
    assert [c for c, r in got.items() if r is Result.FAIL] == []


def test_nothing_running_yet_skips_pod_controls_not_fails(make_spec: SpecFactory) -> None:
    base = subject(make_spec)
    no_pods = dataclasses.replace(
        base, children=[c for c in base.children if c["kind"] != "Deployment"]
    )
    got = results(verdicts.judge(no_pods))
    assert got["IMG-1"] is Result.SKIP
    assert got["POD-1"] is Result.SKIP


def test_identity_ignores_resource_version_moves(make_spec: SpecFactory) -> None:
    base = subject(make_spec)
    moved = tampered(base, "Deployment", lambda d: d["metadata"].update(resourceVersion="999"))
    assert [v.identity() for v in verdicts.judge(base)] == [
        v.identity() for v in verdicts.judge(moved)
    ]
    assert verdicts.judge(base) != verdicts.judge(moved)


def test_observed_values_and_evidence_are_capped(make_spec: SpecFactory) -> None:
    def many_hosts(d: dict[str, Any]) -> None:
        container(d)["ports"] = [
            {"containerPort": 1000 + i, "hostPort": 1000 + i} for i in range(30)
        ]
        container(d)["image"] = "x" * 1000

    found = verdicts.judge(tampered(subject(make_spec), "Deployment", many_hosts))
    pod5 = next(v for v in found if v.control == "POD-5")
    assert len(pod5.evidence) == verdicts.MAX_EVIDENCE
    assert "22 more" in pod5.message
    img = next(v for v in found if v.control == "IMG-1")
    assert all(len(e.observed) <= verdicts.MAX_VALUE for e in img.evidence)


def test_summary_counts_every_result() -> None:
    found = [verdicts.Verdict("X-1", Result.PASS, "m"), verdicts.Verdict("X-2", Result.FAIL, "m")]
    assert verdicts.summary(found) == {"pass": 1, "fail": 1, "warn": 0, "skip": 0}


def test_unmanaged_workloads_skip_what_only_the_operator_knows(make_spec: SpecFactory) -> None:
    base = subject(make_spec)
    stranger = dataclasses.replace(base, owner_uid=None, registries=None, desired_network=None,
                                   profile=None)  # fmt: skip
    got = results(verdicts.judge(stranger))
    for control in ("IMG-2", "NET-2", "PRF-1", "DRF-1", "DRF-2", "OWN-1"):
        assert got[control] is Result.SKIP, control
    assert got["IMG-1"] is Result.PASS


def test_the_catalog_and_the_judges_agree() -> None:
    assert set(verdicts._JUDGES) == set(controls.ids())
    assert isinstance(meta.MANAGED_BY, str)


def test_placement_follows_the_policy_of_the_profile(make_spec: SpecFactory) -> None:
    bounds = guardrails.PlacementGuardrails.model_validate(
        {"nodeSelector": {"pool": "cde"}, "runtimeClassNames": ["gvisor"]}
    )
    off_pool = dataclasses.replace(subject(make_spec), placement=bounds)
    plc = next(v for v in verdicts.judge(off_pool) if v.control == "PLC-1")
    assert plc.result is Result.FAIL
    assert plc.evidence[0].field == "spec.template.spec.nodeSelector.pool"
    placed = {"nodeSelector": {"pool": "cde"}, "runtimeClassName": "gvisor"}
    on_pool = dataclasses.replace(subject(make_spec, placement=placed), placement=bounds)
    assert next(v for v in verdicts.judge(on_pool) if v.control == "PLC-1").result is Result.PASS
    restarted = tampered(subject(make_spec), "Deployment", lambda d: d["spec"]["template"][
        "metadata"].update(annotations={verdicts.RESTARTED_AT: "now"}))  # fmt: skip
    assert next(v for v in verdicts.judge(restarted) if v.control == "PLC-1").result is Result.PASS
