"""The FinancialWorkloadPolicy: the cluster's own rules, which no CRD schema can know.

One cluster-scoped object named ``default``, owned by the platform team, says which
registries are trusted (IMG-2), where workloads may run (RES-1), which profile labelled
namespaces require (PRF-1), whether workloads may ask for DNS egress (NET-2), which Pod
Security Standards version is pinned on their namespaces (NS-1), per profile which
permissions, networks and enforcement modes workloads may ask for (``fwop.api.guardrails``:
RBAC-3, NET-3, DRF-2), and whether a breach only shows or also stops the roll-out.

Every allowlist is deny-by-default: an empty list allows nothing. Without a policy object
the operator uses ``DEFAULTS``, the empty policy, which trusts no registry and no region
and therefore admits no workload until the platform team says what it trusts. Must not:
judge workloads (``fwop.admission`` does), do I/O, or import above the api layer.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from typing import Annotated, Any

import pydantic
from pydantic.alias_generators import to_camel

from fwop import errors
from fwop.api import group, guardrails, network, rules, spec, status, types, workload

_LABEL = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
# A registry host needs a dot (or is localhost), so a Docker Hub path such as "library/"
# cannot pass for a host; an optional port; then whole repository path components.
REGISTRY_HOST_PATTERN = f"({_LABEL}([.]{_LABEL})+|localhost)(:[0-9]{{1,5}})?"
REGISTRY_PREFIX_PATTERN = f"^{REGISTRY_HOST_PATTERN}(/{rules.REPOSITORY_COMPONENT_PATTERN})*/?$"
POD_SECURITY_VERSION_PATTERN = "^v1[.][0-9]{1,3}$"
DEFAULT_POD_SECURITY_VERSION = "v1.37"
"""The Kubernetes minor whose "restricted" definition workload namespaces are pinned to."""
CONDITION_VALID = "Valid"
"""Condition type on the policy's status: whether the operator could use the object."""

_SET: dict[str, str] = {"x-kubernetes-list-type": "set"}
_LIST_MAP_BY_TYPE = {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]}

RegistryPrefix = Annotated[
    str, pydantic.Field(min_length=1, max_length=255, pattern=REGISTRY_PREFIX_PATTERN)
]
"""A registry host, optionally with a port and leading repository path components."""

NAME_IS_DEFAULT = rules.Rule(
    field="metadata.name",
    text=(
        f"metadata.name must be {group.POLICY_NAME}: the operator reads only the "
        f"{group.POLICY_KIND} named {group.POLICY_NAME}"
    ),
    cel=f"self.metadata.name == '{group.POLICY_NAME}'",
)


class DnsEgress(enum.StrEnum):
    """Whether workloads may ask for DNS egress (spec.network.allowDNS)."""

    ALLOW = "allow"
    DENY = "deny"


class ResidencyMode(enum.StrEnum):
    """Whether every workload must declare spec.residency."""

    REQUIRED = "required"
    OPTIONAL = "optional"


class Action(enum.StrEnum):
    """What the reconcile does with a workload that breaks the policy."""

    REPORT = "report"
    """Roll it out; show Compliant=False and a Warning Event."""
    BLOCK = "block"
    """Do not roll out the new generation: the children stay as the last compliant
    generation made them (Reconciled=False, reason PolicyBlocked)."""


CONTROL_ID_PATTERN = "^[A-Z]{2,5}-[0-9]{1,2}$"


class ControlAction(types.Model):
    """The action for breaches of one control, overriding violationAction."""

    control: Annotated[str, pydantic.Field(max_length=8, pattern=CONTROL_ID_PATTERN)]
    """Control ID from the catalog (IMG-2, RES-1, NET-3...)."""
    action: Action
    """report or block."""


class ProfileRequirement(types.Model):
    """The profile that workloads in matching namespaces must use, or a stricter one."""

    namespace_selector: network.Selector
    """Namespaces whose labels include all of matchLabels; {} matches every namespace."""
    profile: spec.Profile
    """The least strict profile allowed there (pci is stricter than baseline)."""


def _unique(values: tuple[str, ...], field: str) -> tuple[str, ...]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            msg = f"{field} lists {value!r} twice"
            raise ValueError(msg)
        seen.add(value)
    return values


class FinancialWorkloadPolicySpec(types.Model):
    """The cluster's policy for FinancialWorkloads; an empty spec admits no workload."""

    allowed_registries: Annotated[
        tuple[RegistryPrefix, ...], pydantic.Field(max_length=64, json_schema_extra=_SET)
    ] = ()
    """Trusted image locations (IMG-2): a registry host[:port], optionally followed by
    repository path components, such as registry.bank.example/payments/. An image matches
    when its registry host equals the prefix's host exactly and its repository path starts
    with the prefix's components, whole components only: registry.bank.example/pay matches
    neither registry.bank.example/payments/api nor registry.bank.example.evil.com/pay.
    Images without a registry are Docker Hub's (docker.io/library/ for single names).
    Empty: no image is admitted."""
    allowed_regions: Annotated[
        tuple[types.DnsLabel, ...], pydantic.Field(max_length=32, json_schema_extra=_SET)
    ] = ()
    """Values of topology.kubernetes.io/region that spec.residency.regions may name
    (RES-1). Empty: no region is allowed."""
    residency: ResidencyMode = ResidencyMode.REQUIRED
    """required: every workload must declare spec.residency (RES-1); optional: workloads
    without it may run in any region of the cluster."""
    required_profiles: Annotated[tuple[ProfileRequirement, ...], pydantic.Field(max_length=32)] = ()
    """Profiles required by namespace labels (PRF-1); when several match a namespace, the
    strictest applies."""
    dns_egress: DnsEgress = DnsEgress.ALLOW
    """allow: workloads may set spec.network.allowDNS, which opens the cluster DNS (dns)
    only; deny: workloads asking for it are refused (NET-2)."""
    dns: network.Endpoint | None = None
    """Where the cluster's DNS answers, which allowDNS opens; unset: UDP and TCP 53 to the
    kube-dns pods in kube-system. NodeLocal DNSCache (an ipBlock such as 169.254.20.10/32)
    or OpenShift DNS (openshift-dns pods, port 5353) are named here."""
    api_server: network.Endpoint | None = None
    """The Kubernetes API server's endpoints (ipBlocks of the control plane, port 443 or
    6443), which spec.network.allowAPIServer opens; unset: no workload may ask for it.
    NetworkPolicies see the endpoints, not the kubernetes Service's ClusterIP."""
    pod_security_version: Annotated[
        str, pydantic.Field(max_length=8, pattern=POD_SECURITY_VERSION_PATTERN)
    ] = DEFAULT_POD_SECURITY_VERSION
    """Pod Security Standards version (v1.N) pinned in the enforce, audit and warn labels of
    workload namespaces (NS-1)."""

    profiles: Annotated[
        tuple[guardrails.ProfileGuardrails, ...],
        pydantic.Field(max_length=2, json_schema_extra=types.LIST_MAP_BY_NAME),
    ] = ()
    """Guardrails per profile: grantable permissions (RBAC-3), network guardrails (NET-3),
    required enforcement (DRF-2). A profile not listed, and any field left out, takes the
    documented defaults (see docs/policy.md)."""
    violation_action: Action = Action.BLOCK
    """What the reconcile does with a workload that breaks this policy (for example one
    admitted before the policy tightened, or written while the webhook was bypassed):
    block keeps the last compliant generation running and does not roll out the new one;
    report rolls it out and only reports. Running pods are never removed either way."""
    control_actions: Annotated[
        tuple[ControlAction, ...],
        pydantic.Field(
            max_length=32,
            json_schema_extra={
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["control"],
            },
        ),
    ] = ()
    """Per-control overrides of violationAction."""

    @pydantic.field_validator("profiles")
    @classmethod
    def _profiles(
        cls, value: tuple[guardrails.ProfileGuardrails, ...]
    ) -> tuple[guardrails.ProfileGuardrails, ...]:
        _unique(tuple(item.name for item in value), "spec.profiles[].name")
        return value

    @pydantic.field_validator("control_actions")
    @classmethod
    def _control_actions(cls, value: tuple[ControlAction, ...]) -> tuple[ControlAction, ...]:
        _unique(tuple(item.control for item in value), "spec.controlActions[].control")
        return value

    @functools.cached_property
    def endpoints(self) -> network.ClusterEndpoints:
        """What allowDNS and allowAPIServer open in this cluster (once per policy)."""
        dns = self.dns if self.dns is not None else network.KUBE_DNS
        return network.ClusterEndpoints(dns=dns, api_server=self.api_server)

    def profile_rules(self, profile: spec.Profile) -> guardrails.Resolved:
        """The guardrails in force for workloads of ``profile``."""
        given = next((p for p in self.profiles if p.name is profile), None)
        return guardrails.resolve(profile, given)

    def action(self, control: str | None) -> Action:
        """What to do with a breach of ``control`` (None: a problem without a control)."""
        found = next((c.action for c in self.control_actions if c.control == control), None)
        return found or self.violation_action

    @pydantic.field_validator("allowed_registries", "allowed_regions")
    @classmethod
    def _sets(cls, value: tuple[str, ...], info: pydantic.ValidationInfo) -> tuple[str, ...]:
        return _unique(value, f"spec.{to_camel(info.field_name or '')}")


DEFAULTS = FinancialWorkloadPolicySpec()
"""The policy in force when no FinancialWorkloadPolicy exists: nothing is trusted."""


class FinancialWorkloadPolicyStatus(types.Model):
    """What the operator observed about the policy, written only by the operator."""

    observed_generation: Annotated[types.Int, pydantic.Field(ge=0)] | None = None
    """metadata.generation of the policy last evaluated."""
    conditions: Annotated[
        tuple[status.Condition, ...],
        pydantic.Field(max_length=8, json_schema_extra=_LIST_MAP_BY_TYPE),
    ] = ()
    """Valid: whether the operator could parse the policy and uses it (metav1.Condition)."""
    non_compliant: Annotated[types.Int, pydantic.Field(ge=0)] | None = None
    """Number of FinancialWorkloads in the cluster that break this policy."""


def parse(doc: Mapping[str, Any]) -> FinancialWorkloadPolicySpec:
    """Validate a FinancialWorkloadPolicy document; raise InvalidSpecError listing problems."""
    problems = _envelope_problems(doc)
    data = doc.get("spec")
    parsed: FinancialWorkloadPolicySpec | None = None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        problems.append(errors.Problem("spec", "spec must be a mapping"))
    else:
        try:
            parsed = FinancialWorkloadPolicySpec.model_validate(data, by_alias=True, by_name=False)
        except pydantic.ValidationError as exc:
            problems.extend(
                workload.to_problem(error, FinancialWorkloadPolicySpec) for error in exc.errors()
            )
    if problems or parsed is None:
        raise errors.InvalidSpecError(tuple(problems))
    return parsed


def _envelope_problems(doc: Mapping[str, Any]) -> list[errors.Problem]:
    problems = workload.type_problems(doc, group.POLICY_KIND)
    metadata = doc.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    if name != group.POLICY_NAME:
        problems.append(errors.Problem(NAME_IS_DEFAULT.field, NAME_IS_DEFAULT.message))
    return problems
