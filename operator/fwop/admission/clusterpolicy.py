"""The cluster policy's rules: registries, regions, profiles, DNS, and per-profile guardrails.

Each problem names the field, the control and what the policy allows, so the author knows
what to change without reading the policy. An empty allowlist allows nothing; the message
then says which policy field the platform team must set. Must not: echo anything from the
workload but the offending value, or do I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from fwop import errors
from fwop.admission import images, networks, permissions
from fwop.api import group, guardrails
from fwop.api import placement as placement_api
from fwop.api import policy as policy_api
from fwop.api import spec as spec_api

Problems = Iterator[errors.Problem]
Labels = Mapping[str, str]

# From least to most strict; a stricter profile satisfies every requirement of a weaker one.
STRICTNESS = (spec_api.Profile.BASELINE, spec_api.Profile.PCI)


def _allowed(values: Sequence[str], policy_field: str) -> str:
    if values:
        return ", ".join(values)
    return (
        f"none (the platform team sets spec.{policy_field} of {group.POLICY_KIND} "
        f'"{group.POLICY_NAME}")'
    )


def registry(
    spec: spec_api.FinancialWorkloadSpec, policy: policy_api.FinancialWorkloadPolicySpec
) -> Problems:
    """IMG-2: every container's image comes from a trusted registry prefix."""
    for placed in spec.pod_containers():
        image = placed.container.image
        if images.allowed(image, policy.allowed_registries):
            continue
        where = images.of_image(image)
        allowed = _allowed(policy.allowed_registries, "allowedRegistries")
        message = (
            f'image repository "{where}" is not in an allowed registry (IMG-2); allowed: {allowed}'
        )
        yield errors.Problem(placed.field("image"), message, "IMG-2")


def residency(
    spec: spec_api.FinancialWorkloadSpec, policy: policy_api.FinancialWorkloadPolicySpec
) -> Problems:
    """RES-1: the workload declares its regions (when required), all of them allowed."""
    allowed = _allowed(policy.allowed_regions, "allowedRegions")
    if spec.residency is None:
        if policy.residency is policy_api.ResidencyMode.REQUIRED:
            message = (
                f"spec.residency is required by the cluster policy (RES-1); "
                f"allowed regions: {allowed}"
            )
            yield errors.Problem("spec.residency", message, "RES-1")
        return
    for index, region in enumerate(spec.residency.regions):
        if region not in policy.allowed_regions:
            message = f'region "{region}" is not allowed (RES-1); allowed regions: {allowed}'
            yield errors.Problem(f"spec.residency.regions[{index}]", message, "RES-1")


def _selects(selector: Labels, labels: Labels) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def _describe(selector: Labels) -> str:
    if not selector:
        return "every namespace"
    pairs = ", ".join(f"{key}={value}" for key, value in sorted(selector.items()))
    return f"namespaces labelled {pairs}"


def profile(
    spec: spec_api.FinancialWorkloadSpec,
    policy: policy_api.FinancialWorkloadPolicySpec,
    namespace: str,
    labels: Labels,
) -> Problems:
    """PRF-1: the profile is at least as strict as the strictest requirement that matches."""
    matching = [
        requirement
        for requirement in policy.required_profiles
        if _selects(requirement.namespace_selector.match_labels, labels)
    ]
    if not matching:
        return
    strictest = max(matching, key=lambda requirement: STRICTNESS.index(requirement.profile))
    need = STRICTNESS.index(strictest.profile)
    if STRICTNESS.index(spec.profile) < need:
        allowed = ", ".join(STRICTNESS[need:])
        where = _describe(strictest.namespace_selector.match_labels)
        message = (
            f'profile {spec.profile} is not allowed in namespace "{namespace}" (PRF-1); '
            f"allowed: {allowed} (required for {where})"
        )
        yield errors.Problem("spec.profile", message, "PRF-1")


def dns(
    spec: spec_api.FinancialWorkloadSpec, policy: policy_api.FinancialWorkloadPolicySpec
) -> Problems:
    """NET-2: DNS egress only where the cluster policy allows workloads to ask for it."""
    if spec.network.allow_dns and policy.dns_egress is policy_api.DnsEgress.DENY:
        message = "DNS egress is denied by the cluster policy (NET-2); allowed: false"
        yield errors.Problem("spec.network.allowDNS", message, "NET-2")
    if spec.network.allow_api_server and policy.api_server is None:
        message = (
            "the cluster policy names no API server endpoint to open (NET-2); allowed: false"
            f" (the platform team sets spec.apiServer of {group.POLICY_KIND}"
            f' "{group.POLICY_NAME}")'
        )
        yield errors.Problem("spec.network.allowAPIServer", message, "NET-2")


def enforcement(spec: spec_api.FinancialWorkloadSpec, rules: guardrails.Resolved) -> Problems:
    """DRF-2: audit mode only where the policy leaves the choice to the workload."""
    required = rules.enforcement is guardrails.EnforcementRule.REQUIRED
    if required and spec.enforcement is not spec_api.Enforcement.ENFORCE:
        message = (
            f"enforcement {spec.enforcement} is not allowed for profile {spec.profile}: the "
            "cluster policy requires drift to be healed (DRF-2); allowed: enforce"
        )
        yield errors.Problem("spec.enforcement", message, "DRF-2")


def _outside(field: str, value: str, allowed: tuple[str, ...] | None, what: str) -> Problems:
    if allowed is not None and value not in allowed:
        message = (
            f"{what} {value!r} is not allowed by the cluster policy for this profile (PLC-1);"
            f" allowed: {_allowed(allowed, 'profiles[].placement')}"
        )
        yield errors.Problem(field, message, "PLC-1")


def placement(spec: spec_api.FinancialWorkloadSpec, rules: guardrails.Resolved) -> Problems:
    """PLC-1: the profile's node pool is required; runtime, priority, taints, labels bounded."""
    bounds = rules.placement
    chosen = spec.placement or placement_api.Placement()
    for key, value in (bounds.node_selector or {}).items():
        if chosen.node_selector.get(key) != value:
            message = (
                f"profile {spec.profile} runs on the nodes labelled {key}={value}: "
                f"spec.placement.nodeSelector must carry it (PLC-1)"
            )
            yield errors.Problem("spec.placement.nodeSelector", message, "PLC-1")
    if chosen.runtime_class_name is not None:
        yield from _outside("spec.placement.runtimeClassName", chosen.runtime_class_name,
                            bounds.runtime_class_names, "runtimeClassName")  # fmt: skip
    if chosen.priority_class_name is not None:
        yield from _outside("spec.placement.priorityClassName", chosen.priority_class_name,
                            bounds.priority_class_names, "priorityClassName")  # fmt: skip
    for i, toleration in enumerate(chosen.tolerations):
        yield from _outside(f"spec.placement.tolerations[{i}].key", toleration.key,
                            bounds.toleration_keys, "toleration of")  # fmt: skip
    labels = spec.pod_metadata.labels if spec.pod_metadata is not None else {}
    for key in labels:
        yield from _outside(f"spec.podMetadata.labels.{key}", key, bounds.pod_label_keys,
                            "pod label")  # fmt: skip


def _token_audiences(spec: spec_api.FinancialWorkloadSpec, rules: guardrails.Resolved) -> Problems:
    """IDN-1: a projected token is a credential for its audience, so a grant too."""
    allowed = rules.identity.token_audiences
    for index, volume in enumerate(spec.volumes):
        for at, source in enumerate(volume.projected.sources if volume.projected else ()):
            token = source.service_account_token
            if token is None or token.audience in allowed:
                continue
            message = (
                f"token audience {token.audience!r} is not allowed by the cluster policy for"
                f" profile {spec.profile} (IDN-1); allowed:"
                f" {_allowed(allowed, 'profiles[].identity.tokenAudiences')}"
            )
            field = f"spec.volumes[{index}].projected.sources[{at}].serviceAccountToken.audience"
            yield errors.Problem(field, message, "IDN-1")


def identity(spec: spec_api.FinancialWorkloadSpec, rules: guardrails.Resolved) -> Problems:
    """IDN-1: a cloud identity is a grant; the policy must allow it for the profile.

    The client an azure secret store reads as is one too.
    """
    store = spec.secrets.azure if spec.secrets is not None else None
    if store is not None and store.client_id is not None:
        allowed = rules.identity.azure_client_ids
        if store.client_id.lower() not in {c.lower() for c in allowed}:
            message = (
                f"cloud identity {store.client_id!r} is not allowed by the cluster policy for"
                f" profile {spec.profile} (IDN-1); allowed:"
                f" {_allowed(allowed, 'profiles[].identity.azureClientIds')}"
            )
            yield errors.Problem("spec.secrets.azure.clientId", message, "IDN-1")
    yield from _token_audiences(spec, rules)
    cloud = spec.identity.cloud if spec.identity is not None else None
    if cloud is None:
        return
    refused = rules.identity.allows(cloud)
    if refused is not None:
        field, value, allowed = refused
        message = (
            f"cloud identity {value!r} is not allowed by the cluster policy for profile"
            f" {spec.profile} (IDN-1); allowed: {_allowed(allowed, 'profiles[].identity')}"
        )
        yield errors.Problem(f"spec.identity.cloud.{field}", message, "IDN-1")


def check(
    spec: spec_api.FinancialWorkloadSpec,
    policy: policy_api.FinancialWorkloadPolicySpec,
    namespace: str,
    labels: Labels | None,
) -> Problems:
    """Yield every breach of the cluster policy; skip PRF-1 when labels are unknown (None)."""
    yield from registry(spec, policy)
    yield from residency(spec, policy)
    if labels is not None:
        yield from profile(spec, policy, namespace, labels)
    yield from dns(spec, policy)
    yield from networks.dns_ports(spec, policy)
    rules = policy.profile_rules(spec.profile)
    yield from enforcement(spec, rules)
    yield from permissions.check(spec, rules)
    yield from networks.guardrails_check(spec, namespace, rules)
    yield from placement(spec, rules)
    yield from identity(spec, rules)
