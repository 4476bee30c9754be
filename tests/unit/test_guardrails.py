"""The platform's guardrails: hard floor, grantable permissions, networks, enforcement (pure)."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from fwop import errors
from fwop.admission import clusterpolicy, networks, permissions
from fwop.api import floor, guardrails, rules, workload
from fwop.api import policy as policy_api
from fwop.reconcile import gate

from .conftest import spec_data


def policy(**fields: Any) -> policy_api.FinancialWorkloadPolicySpec:
    return policy_api.FinancialWorkloadPolicySpec.model_validate(fields, by_alias=True)


def problems(spec: dict[str, Any], pol: policy_api.FinancialWorkloadPolicySpec, ns: str = "team"):
    parsed = workload.parse_spec(spec)
    return list(clusterpolicy.check(parsed, pol, ns, {}))


def controls(found: list[errors.Problem], control: str) -> list[errors.Problem]:
    return [p for p in found if p.control == control]


# ---- the hard floor -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "resource", "verb", "key"),
    [
        ("", "pods", "create", "pods"),
        ("", "pods", "patch", "pods"),
        ("apps", "deployments", "create", "pods"),
        ("apps", "deployments/scale", "update", "pods"),
        ("apps", "statefulsets", "delete", "pods"),
        ("batch", "cronjobs", "create", "pods"),
        ("extensions", "daemonsets", "patch", "pods"),
        ("", "replicationcontrollers", "create", "pods"),
        ("", "pods/exec", "create", "enter"),
        ("", "pods/attach", "get", "enter"),
        ("", "pods/portforward", "create", "enter"),
        ("", "pods/ephemeralcontainers", "patch", "enter"),
        ("", "services/proxy", "get", "enter"),
        ("", "serviceaccounts", "create", "identity"),
        ("", "serviceaccounts/token", "create", "identity"),
        ("rbac.authorization.k8s.io", "roles", "get", "rbac"),
        ("rbac.authorization.k8s.io", "rolebindings", "create", "rbac"),
        ("", "namespaces", "patch", "guardrails"),
        ("", "namespaces", "get", "guardrails"),
        ("networking.k8s.io", "networkpolicies", "delete", "guardrails"),
        ("secrets-store.csi.x-k8s.io", "secretproviderclasses", "update", "guardrails"),
        ("finance.compliance.dev", "financialworkloads", "patch", "guardrails"),
        ("finance.compliance.dev", "anything-new", "get", "guardrails"),
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations", "delete", "guardrails"),
        ("policy", "poddisruptionbudgets", "delete", "guardrails"),
        ("", "services", "create", "traffic"),
        ("", "endpoints", "patch", "traffic"),
        ("discovery.k8s.io", "endpointslices", "create", "traffic"),
        ("", "secrets", "get", "secrets"),
        ("", "secrets", "list", "secrets"),
    ],
)
def test_the_floor_forbids(group: str, resource: str, verb: str, key: str) -> None:
    [found] = floor.breaches([group], [resource], [verb])
    assert found.floor.key == key


@pytest.mark.parametrize(
    ("group", "resource", "verb"),
    [
        ("", "configmaps", "get"),
        ("", "configmaps", "update"),
        ("", "pods", "get"),
        ("", "pods", "list"),
        ("", "pods/log", "get"),
        ("", "pods", "delete"),
        ("apps", "deployments", "get"),
        ("", "services", "list"),
        ("coordination.k8s.io", "leases", "update"),
        ("", "events", "create"),
        ("", "podsecurity", "get"),  # a prefix of pods is not pods
    ],
)
def test_the_floor_leaves_alone(group: str, resource: str, verb: str) -> None:
    assert list(floor.breaches([group], [resource], [verb])) == []


def test_every_floor_class_is_summarised_for_messages() -> None:
    for cls in floor.CLASSES:
        assert cls.why
        assert cls.summary()
        assert cls.key in rules.PERMISSION_FLOOR


# ---- the policy cannot lift the floor ---------------------------------------------------------


def test_a_policy_granting_the_floor_is_invalid() -> None:
    doc = {
        "apiVersion": "finance.compliance.dev/v1alpha1",
        "kind": "FinancialWorkloadPolicy",
        "metadata": {"name": "default"},
        "spec": {
            "profiles": [
                {
                    "name": "baseline",
                    "grantablePermissions": [
                        {"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}
                    ],
                }
            ]
        },
    }
    with pytest.raises(errors.InvalidSpecError) as caught:
        policy_api.parse(doc)
    [problem] = caught.value.problems
    assert problem.control == "RBAC-3"
    assert "no policy can lift the hard floor" in problem.message


def test_a_policy_granting_a_wildcard_is_invalid() -> None:
    with pytest.raises(ValueError, match="'\\*'"):
        guardrails.GrantableRule(api_groups=("",), resources=("config*",), verbs=("get",))


def test_profile_defaults() -> None:
    empty = policy()
    pci, baseline = (
        empty.profile_rules(guardrails.spec.Profile.PCI),
        empty.profile_rules(guardrails.spec.Profile.BASELINE),
    )
    assert pci.enforcement is guardrails.EnforcementRule.REQUIRED
    assert baseline.enforcement is guardrails.EnforcementRule.OPTIONAL
    assert pci.grantable == baseline.grantable == (guardrails.READ_CONFIGMAPS,)
    assert "0.0.0.0/0" not in pci.egress.allow
    assert set(guardrails.LINK_LOCAL) <= set(pci.egress.deny) & set(baseline.egress.deny)
    assert pci.peer_namespaces == baseline.peer_namespaces == ()


def test_a_field_left_out_keeps_its_default() -> None:
    pol = policy(profiles=[{"name": "pci", "network": {"peerNamespaces": [{}]}}])
    rules_ = pol.profile_rules(guardrails.spec.Profile.PCI)
    assert rules_.enforcement is guardrails.EnforcementRule.REQUIRED
    assert rules_.egress == guardrails.DEFAULTS[guardrails.spec.Profile.PCI].egress
    assert len(rules_.peer_namespaces) == 1


def test_duplicate_profiles_and_control_actions_are_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        policy(profiles=[{"name": "pci"}, {"name": "pci"}])
    with pytest.raises(ValueError, match="twice"):
        policy(
            controlActions=[
                {"control": "IMG-2", "action": "report"},
                {"control": "IMG-2", "action": "block"},
            ]
        )


def test_actions_default_to_block_and_are_overridden_per_control() -> None:
    pol = policy(controlActions=[{"control": "NET-3", "action": "report"}])
    assert pol.action("IMG-2") is policy_api.Action.BLOCK
    assert pol.action(None) is policy_api.Action.BLOCK
    assert pol.action("NET-3") is policy_api.Action.REPORT
    assert policy(violationAction="report").action("IMG-2") is policy_api.Action.REPORT


# ---- RBAC-3: grantable permissions -----------------------------------------------------------

OPEN = {"allowedRegistries": ["registry.bank.example"], "residency": "optional"}


def rule(**fields: Any) -> dict[str, Any]:
    return {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"], **fields}


def test_the_default_grants_read_only_configmaps() -> None:
    assert (
        controls(
            problems(spec_data(permissions=[rule(verbs=["get", "watch"])]), policy(**OPEN)),
            "RBAC-3",
        )
        == []
    )
    [problem] = controls(
        problems(spec_data(permissions=[rule(verbs=["get", "update"])]), policy(**OPEN)), "RBAC-3"
    )
    assert problem.field == "spec.permissions[0]"
    assert 'grants update on configmaps in API group ""' in problem.message
    assert "profile baseline" in problem.message
    assert 'get/list/watch on configmaps in ""' in problem.message


def test_names_are_a_subset_of_the_grant() -> None:
    grant = {
        "apiGroups": [""],
        "resources": ["configmaps"],
        "verbs": ["get"],
        "resourceNames": ["a", "b"],
    }
    pol = policy(**OPEN, profiles=[{"name": "baseline", "grantablePermissions": [grant]}])
    ok = spec_data(permissions=[rule(resourceNames=["a"])])
    assert controls(problems(ok, pol), "RBAC-3") == []
    for bad in (rule(), rule(resourceNames=["a", "c"])):
        [problem] = controls(problems(spec_data(permissions=[bad]), pol), "RBAC-3")
        assert "named a, b" in problem.message


def test_an_empty_allowlist_grants_nothing_and_says_who_sets_it() -> None:
    pol = policy(**OPEN, profiles=[{"name": "baseline", "grantablePermissions": []}])
    [problem] = controls(problems(spec_data(permissions=[rule()]), pol), "RBAC-3")
    assert "grantablePermissions under spec.profiles" in problem.message


def test_several_missing_grants_are_counted() -> None:
    found = problems(
        spec_data(permissions=[rule(resources=["configmaps", "pods"], verbs=["get", "delete"])]),
        policy(**OPEN),
    )
    [problem] = controls(found, "RBAC-3")
    assert "and 2 more" in problem.message


# ---- RBAC-4: what the requester holds ------------------------------------------------------------


def test_accesses_split_subresources_and_names() -> None:
    parsed = workload.parse_spec(
        spec_data(permissions=[rule(resources=["pods/log"], resourceNames=["a", "b"])])
    )
    found = permissions.accesses(parsed.permissions[0])
    assert found == [
        permissions.Access("", "pods", "log", "get", "a"),
        permissions.Access("", "pods", "log", "get", "b"),
    ]
    assert found[0].attributes("team") == {
        "namespace": "team",
        "group": "",
        "resource": "pods",
        "verb": "get",
        "subresource": "log",
        "name": "a",
    }


def test_holder_problems_name_the_user_and_the_access() -> None:
    parsed = workload.parse_spec(spec_data(permissions=[rule(), rule(verbs=["list"])]))
    denied = {permissions.Access("", "configmaps", "", "list")}
    [problem] = permissions.holder_problems(parsed, denied, "alice", "team")
    assert problem.field == "spec.permissions[1]"
    assert problem.control == "RBAC-4"
    assert "alice may not list on configmaps in namespace team" in problem.message


# ---- NET-3: networks ---------------------------------------------------------------------------


def egress(*peers: dict[str, Any], port: int | str = 443) -> dict[str, Any]:
    return {"egress": [{"to": list(peers), "ports": [{"port": port}]}]}


def ingress(*peers: dict[str, Any]) -> dict[str, Any]:
    return {"ingress": [{"from": list(peers), "ports": [{"port": 8080}]}]}


PORTS = [{"name": "http", "containerPort": 8080}]


def net3(network: dict[str, Any], profile: str = "baseline", **pol: Any) -> list[errors.Problem]:
    data = spec_data(network=network, ports=PORTS, profile=profile, replicas=2)
    return controls(problems(data, policy(**OPEN, **pol)), "NET-3")


@pytest.mark.parametrize(
    ("cidr", "profile", "fault"),
    [
        ("0.0.0.0/0", "pci", "not inside an allowed range"),
        ("::/0", "pci", "not inside an allowed range"),
        ("8.8.8.8/32", "pci", "not inside an allowed range"),
        ("169.254.169.254/32", "baseline", "denied range 169.254.0.0/16"),
        ("169.254.0.0/16", "pci", "not inside an allowed range"),
        ("fe80::1/128", "baseline", "denied range fe80::/10"),
        ("0.0.0.0/0", "baseline", "denied range 169.254.0.0/16"),
    ],
)
def test_ip_blocks_outside_the_guardrails_are_refused(cidr: str, profile: str, fault: str) -> None:
    [problem] = net3(egress({"ipBlock": {"cidr": cidr}}), profile)
    assert problem.field == "spec.network.egress[0].to[0].ipBlock.cidr"
    assert fault in problem.message
    assert problem.message.endswith("(NET-3)")


@pytest.mark.parametrize(
    ("block", "profile"),
    [
        ({"cidr": "10.40.0.0/16"}, "pci"),
        ({"cidr": "fd00::/8"}, "pci"),
        ({"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}, "baseline"),
        ({"cidr": "203.0.113.0/24"}, "baseline"),
    ],
)
def test_ip_blocks_inside_the_guardrails_pass(block: dict[str, Any], profile: str) -> None:
    assert net3(egress({"ipBlock": block}), profile) == []


def test_ingress_and_egress_ranges_are_separate() -> None:
    pol = {
        "profiles": [{"name": "baseline", "network": {"ingressCIDRs": {"allow": ["10.0.0.0/8"]}}}]
    }
    [problem] = net3(ingress({"ipBlock": {"cidr": "192.168.0.0/16"}}), **pol)
    assert "ingress of profile baseline" in problem.message
    assert net3(egress({"ipBlock": {"cidr": "192.168.0.0/16"}}), **pol) == []


def test_namespace_peers_need_the_policy() -> None:
    everywhere = {"namespaceSelector": {}}
    [problem] = net3(ingress(everywhere))
    assert problem.field == "spec.network.ingress[0].from[0].namespaceSelector"
    assert "{} (every namespace)" in problem.message
    other = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "edge"}}}
    assert len(net3(ingress(other))) == 1
    own = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "team"}}}
    assert net3(ingress(own)) == []
    pods_here = {"podSelector": {"matchLabels": {"app": "x"}}}
    assert net3(ingress(pods_here)) == []


def test_namespace_peers_must_carry_every_label_of_an_allowed_selector() -> None:
    pol = {
        "profiles": [
            {"name": "baseline", "network": {"peerNamespaces": [{"matchLabels": {"zone": "dmz"}}]}}
        ]
    }
    inside = {
        "namespaceSelector": {"matchLabels": {"zone": "dmz", "kubernetes.io/metadata.name": "edge"}}
    }
    assert net3(ingress(inside), **pol) == []
    outside = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "edge"}}}
    [problem] = net3(ingress(outside), **pol)
    assert "namespaces labelled zone=dmz" in problem.message
    assert len(net3(ingress({"namespaceSelector": {}}), **pol)) == 1
    anything = {"profiles": [{"name": "baseline", "network": {"peerNamespaces": [{}]}}]}
    assert net3(ingress({"namespaceSelector": {}}), **anything) == []


@pytest.mark.parametrize("port", [53, "dns", "domain", "dns-tcp"])
def test_dns_deny_refuses_hand_written_dns_flows(port: int | str) -> None:
    data = spec_data(network=egress({"podSelector": {"matchLabels": {"a": "b"}}}, port=port))
    found = problems(data, policy(**OPEN, dnsEgress="deny"))
    [problem] = controls(found, "NET-2")
    assert problem.field == "spec.network.egress[0].ports[0].port"
    assert controls(problems(data, policy(**OPEN)), "NET-2") == []


def test_network_messages_reuse_the_module_constants() -> None:
    assert networks.DNS_PORT == 53
    assert "domain" in networks.DNS_PORT_NAMES


# ---- DRF-2: enforcement ------------------------------------------------------------------------


def test_pci_must_enforce_by_default_and_baseline_may_audit() -> None:
    pci = spec_data(profile="pci", replicas=2, enforcement="audit")
    [problem] = controls(problems(pci, policy(**OPEN)), "DRF-2")
    assert problem.field == "spec.enforcement"
    assert "allowed: enforce" in problem.message
    assert controls(problems(spec_data(enforcement="audit"), policy(**OPEN)), "DRF-2") == []
    strict = {"profiles": [{"name": "baseline", "enforcement": "required"}]}
    assert (
        len(controls(problems(spec_data(enforcement="audit"), policy(**OPEN, **strict)), "DRF-2"))
        == 1
    )


# ---- the reconcile gate ------------------------------------------------------------------------


def gated(blockers: int, applied: gate.Applied | None, generation: int = 3) -> gate.Decision:
    spec = workload.parse_spec(spec_data())
    found = [errors.Problem("spec.image", "untrusted (IMG-2)", "IMG-2")] * blockers
    return gate.decide(spec, {"raw": True}, generation, found, applied)


def test_a_compliant_generation_is_rendered_and_becomes_the_applied_one() -> None:
    decision = gated(0, gate.Applied(2, {"old": True}))
    assert decision.blocked is None
    assert decision.applied == gate.Applied(3, {"raw": True})
    assert decision.spec is not None


def test_a_blocked_generation_keeps_the_last_applied_spec() -> None:
    held = spec_data(replicas=5)
    decision = gated(1, gate.Applied(2, held))
    assert decision.spec is not None
    assert decision.spec.replicas == 5
    assert decision.applied == gate.Applied(2, held)
    assert decision.blocked is not None
    assert "generation 3 breaks the cluster policy" in decision.blocked
    assert "stay as generation 2 made them" in decision.blocked


def test_a_generation_already_rolled_out_is_never_taken_back() -> None:
    decision = gated(1, gate.Applied(3, {"raw": True}))
    assert decision.blocked is None
    assert decision.spec is not None


def test_a_blocked_first_generation_creates_nothing() -> None:
    decision = gated(1, None)
    assert decision.spec is None
    assert decision.applied is None
    assert decision.blocked is not None
    assert "no child is created" in decision.blocked


def test_only_blocking_controls_block() -> None:
    pol = policy(violationAction="report", controlActions=[{"control": "IMG-2", "action": "block"}])
    found = [errors.Problem("a", "x", "IMG-2"), errors.Problem("b", "y", "RES-1")]
    assert [p.control for p in gate.blocking(found, pol)] == ["IMG-2"]


def test_applied_from_status_and_the_upgrade_fallback() -> None:
    assert gate.applied_from({"appliedGeneration": 4, "appliedSpec": {"a": 1}}, None) == (
        gate.Applied(4, {"a": 1})
    )
    assert gate.applied_from({}, 7) == gate.Applied(7, {})
    assert gate.applied_from(None, None) is None


@pytest.mark.parametrize(
    "audience", ["https://kubernetes.default.svc", "https://kubernetes.default.svc.cluster.local/"]
)
def test_a_token_audience_of_the_api_server_is_refused(audience: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="the API server's own audience"):
        guardrails.IdentityGuardrails(token_audiences=(audience,))
    assert guardrails.IdentityGuardrails(token_audiences=("vault",)).token_audiences == ("vault",)
