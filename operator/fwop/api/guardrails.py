"""Per-profile guardrails of the cluster policy: who may be granted what, and which networks.

The platform team lists, per profile, the Role rules a workload may be granted (RBAC-3,
an allowlist above the hard floor of ``fwop.api.floor``), the CIDR ranges and namespaces
its flows may reach (NET-3), and whether it must heal drift (DRF-2). A profile the
policy does not list, or a field it leaves out, takes the documented default of
``DEFAULTS``: read-only access to configmaps; no cross-namespace peers; baseline may
reach any address but link-local (cloud metadata), pci only private ranges; pci must
enforce. Must not: judge workloads (``fwop.admission`` does), or import above the api
layer.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
from typing import Annotated

import pydantic

from fwop.api import floor, identity, network, placement, rules, spec, types

_SET: dict[str, str] = {"x-kubernetes-list-type": "set"}
_CIDR = Annotated[str, pydantic.Field(min_length=1, max_length=64)]

LINK_LOCAL = ("169.254.0.0/16", "fe80::/10")
"""Cloud metadata endpoints (169.254.169.254) and other host-local services live here."""
PRIVATE = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
"""RFC 1918 and unique-local IPv6: the bank's own networks."""
EVERYWHERE = ("0.0.0.0/0", "::/0")


class EnforcementRule(enum.StrEnum):
    """Whether workloads of a profile may choose audit mode."""

    REQUIRED = "required"
    """Every workload heals drift (spec.enforcement: enforce)."""
    OPTIONAL = "optional"
    """Workloads choose enforce or audit."""


def _floor_rules() -> dict[str, rules.Rule]:
    return {
        c.key: rules.Rule(
            field="grantablePermissions[]",
            text=(
                f"grantable permissions must not include what {c.why}: {c.summary()}; "
                "no policy can lift the hard floor"
            ),
            cel=floor.cel(c),
            control="RBAC-3",
        )
        for c in floor.CLASSES
    }


FLOOR_RULES = _floor_rules()
"""One rule per class of the hard floor, keyed by the class's key."""
NO_WILDCARD_GRANT = rules.Rule(
    field="grantablePermissions[]",
    text="grantable permissions must not contain '*' in any position",
    cel=(
        "!self.apiGroups.exists(g, g.contains('*')) && !self.resources.exists(r, r.contains('*'))"
        " && !self.verbs.exists(v, v.contains('*'))"
        " && (!has(self.resourceNames) || !self.resourceNames.exists(n, n.contains('*')))"
    ),
    control="RBAC-3",
)


class GrantableRule(types.Model):
    """Role rules a workload may declare in spec.permissions: any subset of this rule."""

    model_config = pydantic.ConfigDict(
        json_schema_extra=rules.schema_extra(NO_WILDCARD_GRANT, *FLOOR_RULES.values())
    )

    api_groups: Annotated[
        tuple[Annotated[str, pydantic.Field(max_length=253)], ...],
        pydantic.Field(min_length=1, max_length=16, json_schema_extra=_SET),
    ]
    """API groups ("" is the core group)."""
    resources: Annotated[
        tuple[types.Str253, ...],
        pydantic.Field(min_length=1, max_length=32, json_schema_extra=_SET),
    ]
    """Resources, or subresources such as pods/log; each must be named."""
    verbs: Annotated[
        tuple[types.Str63, ...], pydantic.Field(min_length=1, max_length=16, json_schema_extra=_SET)
    ]
    """Verbs."""
    resource_names: Annotated[
        tuple[types.Str253, ...], pydantic.Field(max_length=32, json_schema_extra=_SET)
    ] = ()
    """When set, a workload's rule must name only these objects (resourceNames)."""

    @pydantic.model_validator(mode="after")
    def _bounded(self) -> GrantableRule:
        values = (*self.api_groups, *self.resources, *self.verbs, *self.resource_names)
        if any("*" in value for value in values):
            raise NO_WILDCARD_GRANT.error()
        for found in floor.breaches(self.api_groups, self.resources, self.verbs):
            raise FLOOR_RULES[found.floor.key].error()
        return self


def _check_cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        msg = f"{value!r} is not a CIDR range with its host bits clear (10.20.0.0/16, fd00::/8)"
        raise ValueError(msg) from None
    if "/" not in value:
        msg = f"{value!r} needs a prefix length (10.20.0.0/16)"
        raise ValueError(msg)
    return value


Cidr = Annotated[_CIDR, pydantic.AfterValidator(_check_cidr)]


class CidrRanges(types.Model):
    """Which ipBlock peers a flow may name: inside an allowed range, clear of denied ones."""

    allow: Annotated[tuple[Cidr, ...], pydantic.Field(max_length=64, json_schema_extra=_SET)] = ()
    """An ipBlock's cidr must lie inside one of these ranges; empty allows no ipBlock."""
    deny: Annotated[tuple[Cidr, ...], pydantic.Field(max_length=64, json_schema_extra=_SET)] = ()
    """An ipBlock must not reach into these ranges, unless its except list carves them out."""


class NetworkGuardrails(types.Model):
    """Where a profile's flows may go (NET-3); an unset field takes the profile default."""

    ingress_cidrs: CidrRanges | None = pydantic.Field(default=None, alias="ingressCIDRs")
    """ipBlock peers of ingress flows."""
    egress_cidrs: CidrRanges | None = pydantic.Field(default=None, alias="egressCIDRs")
    """ipBlock peers of egress flows (list the API server's addresses in deny)."""
    peer_namespaces: (
        Annotated[tuple[network.Selector, ...], pydantic.Field(max_length=32)] | None
    ) = None
    """Namespaces other than the workload's own that its flows may name: a peer's
    namespaceSelector must carry every label of one of these selectors (so it selects a
    subset of what the platform allows). {} allows every namespace. Default: none."""


class PlacementGuardrails(types.Model):
    """Where a profile's pods may run and what they may carry (PLC-1); unset allows any."""

    node_selector: (
        Annotated[dict[placement.MapKey, placement.LabelValue], pydantic.Field(max_length=16)]
        | None
    ) = None
    """Node labels every pod of the profile must require in spec.placement.nodeSelector
    (its dedicated pool, such as pool: cardholder-data)."""
    runtime_class_names: (
        Annotated[tuple[placement.DnsSubdomain, ...], pydantic.Field(max_length=16)] | None
    ) = None
    """RuntimeClasses the pods may use; [] allows none; unset allows any."""
    priority_class_names: (
        Annotated[tuple[placement.DnsSubdomain, ...], pydantic.Field(max_length=16)] | None
    ) = None
    """PriorityClasses the pods may use; [] allows none; unset any but system-*."""
    toleration_keys: Annotated[tuple[placement.Key, ...], pydantic.Field(max_length=16)] | None = (
        None
    )
    """Taint keys the pods may tolerate; [] allows none; unset any but Kubernetes' own."""
    pod_label_keys: Annotated[tuple[placement.Key, ...], pydantic.Field(max_length=64)] | None = (
        None
    )
    """Pod label keys teams may set (so no team takes a label another team's NetworkPolicy
    selects on); [] allows none; unset any key outside the reserved ones."""


ANY_PLACEMENT = PlacementGuardrails()


API_SERVER_AUDIENCES = frozenset(
    {
        "https://kubernetes.default.svc",
        "https://kubernetes.default.svc.cluster.local",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "https://kubernetes.default",
        "kubernetes",
        "api",
    }
)
"""The API server audiences of common distributions (kubeadm, EKS, GKE, AKS, OpenShift);
a cluster with another issuer keeps it off the policy's tokenAudiences by review."""


class IdentityGuardrails(types.Model):
    """Which cloud identities and token audiences a profile's pods may hold (IDN-1).

    Unset or [] allows none.
    """

    aws_role_arns: Annotated[tuple[types.Str2048, ...], pydantic.Field(max_length=32)] = ()
    """IAM role ARNs, each exact or ending in * for a prefix (such as
    arn:aws:iam::123456789012:role/payments-*)."""
    gcp_service_accounts: Annotated[tuple[types.Str253, ...], pydantic.Field(max_length=32)] = ()
    """Google service accounts, each an exact e-mail or @domain for every account of a
    project (such as @bank-prod.iam.gserviceaccount.com)."""
    azure_client_ids: Annotated[tuple[identity.Uuid, ...], pydantic.Field(max_length=32)] = ()
    """Client IDs of Entra applications or managed identities."""
    token_audiences: Annotated[tuple[types.Str253, ...], pydantic.Field(max_length=32)] = ()
    """Audiences a projected ServiceAccount token (spec.volumes[].projected) may be minted
    for, such as vault or sts.amazonaws.com; never the API server's own, which would undo
    RBAC-1's unmounted token."""

    @pydantic.field_validator("token_audiences")
    @classmethod
    def _not_the_api_server(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for audience in value:
            if audience.lower().rstrip("/") in API_SERVER_AUDIENCES:
                msg = (
                    f"tokenAudiences: {audience!r} is the API server's own audience; a token"
                    " for it is an API token, which RBAC-1 leaves unmounted"
                )
                raise ValueError(msg)
        return value

    def allows(self, cloud: identity.CloudIdentity) -> tuple[str, str, tuple[str, ...]] | None:
        """None when allowed, else (field, value, what the policy allows)."""
        if cloud.aws is not None:
            arn = cloud.aws.role_arn
            ok = any(arn.startswith(a[:-1]) if a.endswith("*") else arn == a
                     for a in self.aws_role_arns)  # fmt: skip
            return None if ok else ("aws.roleArn", arn, self.aws_role_arns)
        if cloud.gcp is not None:
            email = cloud.gcp.service_account
            ok = any(email.endswith(g) if g.startswith("@") else email == g
                     for g in self.gcp_service_accounts)  # fmt: skip
            return None if ok else ("gcp.serviceAccount", email, self.gcp_service_accounts)
        if cloud.azure is not None:
            client = cloud.azure.client_id.lower()
            ok = client in {c.lower() for c in self.azure_client_ids}
            return None if ok else ("azure.clientId", client, self.azure_client_ids)
        return None


NO_IDENTITY = IdentityGuardrails()


class ProfileGuardrails(types.Model):
    """The platform's rules for workloads of one profile; unset fields take the defaults."""

    name: spec.Profile
    """The profile these rules are for."""
    enforcement: EnforcementRule | None = None
    """required: workloads must set enforcement: enforce (DRF-2). Default: required for pci,
    optional for baseline."""
    grantable_permissions: (
        Annotated[tuple[GrantableRule, ...], pydantic.Field(max_length=64)] | None
    ) = None
    """Role rules workloads may be granted (RBAC-3); [] grants nothing. Default: get, list
    and watch on configmaps. The hard floor (pods, exec, tokens, RBAC, namespaces, network
    policies, Secrets...) can never be listed."""
    network: NetworkGuardrails | None = None
    """Network guardrails (NET-3)."""
    placement: PlacementGuardrails | None = None
    """Placement guardrails (PLC-1). Default: none (any pool, runtime, priority outside
    system-*, toleration outside Kubernetes' own taints, label outside the reserved keys)."""
    identity: IdentityGuardrails | None = None
    """Cloud identities the pods may assume (IDN-1). Default: none."""


@dataclasses.dataclass(frozen=True)
class Resolved:
    """A profile's guardrails with every default filled in."""

    enforcement: EnforcementRule
    grantable: tuple[GrantableRule, ...]
    ingress: CidrRanges
    egress: CidrRanges
    peer_namespaces: tuple[network.Selector, ...]
    placement: PlacementGuardrails = ANY_PLACEMENT
    identity: IdentityGuardrails = NO_IDENTITY


READ_CONFIGMAPS = GrantableRule(
    api_groups=("",), resources=("configmaps",), verbs=("get", "list", "watch")
)
DEFAULTS: dict[spec.Profile, Resolved] = {
    spec.Profile.BASELINE: Resolved(
        enforcement=EnforcementRule.OPTIONAL,
        grantable=(READ_CONFIGMAPS,),
        ingress=CidrRanges(allow=EVERYWHERE, deny=LINK_LOCAL),
        egress=CidrRanges(allow=EVERYWHERE, deny=LINK_LOCAL),
        peer_namespaces=(),
    ),
    spec.Profile.PCI: Resolved(
        enforcement=EnforcementRule.REQUIRED,
        grantable=(READ_CONFIGMAPS,),
        ingress=CidrRanges(allow=PRIVATE, deny=LINK_LOCAL),
        egress=CidrRanges(allow=PRIVATE, deny=LINK_LOCAL),
        peer_namespaces=(),
    ),
}


def resolve(profile: spec.Profile, given: ProfileGuardrails | None) -> Resolved:
    """The guardrails in force for ``profile``: what the policy says, defaults elsewhere."""
    base = DEFAULTS[profile]
    if given is None:
        return base
    net = given.network or NetworkGuardrails()
    return Resolved(
        enforcement=given.enforcement or base.enforcement,
        grantable=(
            base.grantable if given.grantable_permissions is None else given.grantable_permissions
        ),
        ingress=net.ingress_cidrs or base.ingress,
        egress=net.egress_cidrs or base.egress,
        peer_namespaces=(
            base.peer_namespaces if net.peer_namespaces is None else net.peer_namespaces
        ),
        placement=given.placement or base.placement,
        identity=given.identity or base.identity,
    )
