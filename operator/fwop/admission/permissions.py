"""RBAC-3: a workload is granted only what the cluster policy lists for its profile.

Each declared rule of ``spec.permissions`` is expanded into its (API group, resource,
verb) grants; every grant must be covered by one grantable rule of the profile (same
group, resource and verb; when the grantable rule names objects, the workload's rule must
name a subset of them). The hard floor (``fwop.api.floor``) is refused by the models
before this runs. Must not: do I/O (who the requester is and what they hold is the
webhook's SubjectAccessReviews; this module only says which to ask and words the answer,
RBAC-4).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence, Set

from fwop import errors
from fwop.api import access, group, guardrails
from fwop.api import spec as spec_api

Problems = Iterator[errors.Problem]


def _covers(
    grant: guardrails.GrantableRule, rule: access.PolicyRule, triple: tuple[str, ...]
) -> bool:
    api_group, resource, verb = triple
    if api_group not in grant.api_groups or resource not in grant.resources:
        return False
    if verb not in grant.verbs:
        return False
    if not grant.resource_names:
        return True
    return bool(rule.resource_names) and set(rule.resource_names) <= set(grant.resource_names)


def _group(name: str) -> str:
    return name or '""'


def _describe(grant: guardrails.GrantableRule) -> str:
    groups = ",".join(_group(g) for g in grant.api_groups)
    names = f" named {', '.join(grant.resource_names)}" if grant.resource_names else ""
    return f"{'/'.join(grant.verbs)} on {','.join(grant.resources)}{names} in {groups}"


def allowed(grants: Sequence[guardrails.GrantableRule]) -> str:
    """The grantable rules, for messages."""
    if not grants:
        return (
            f"none (the platform team lists grantablePermissions under spec.profiles of "
            f'{group.POLICY_KIND} "{group.POLICY_NAME}")'
        )
    return "; ".join(_describe(grant) for grant in grants)


def grants(rule: access.PolicyRule) -> Iterator[tuple[str, str, str]]:
    """Every (API group, resource, verb) a rule grants."""
    for api_group in rule.api_groups:
        for resource in rule.resources:
            for verb in rule.verbs:
                yield api_group, resource, verb


def check(spec: spec_api.FinancialWorkloadSpec, rules: guardrails.Resolved) -> Problems:
    """RBAC-3: one problem per declared rule that grants something not grantable."""
    for index, rule in enumerate(spec.permissions):
        missing = [
            triple
            for triple in grants(rule)
            if not any(_covers(grant, rule, triple) for grant in rules.grantable)
        ]
        if not missing:
            continue
        api_group, resource, verb = missing[0]
        where = _group(api_group)
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        message = (
            f"grants {verb} on {resource} in API group {where}{more}, which the cluster policy "
            f"does not allow for profile {spec.profile} (RBAC-3); grantable: "
            f"{allowed(rules.grantable)}"
        )
        yield errors.Problem(f"spec.permissions[{index}]", message, "RBAC-3")


@dataclasses.dataclass(frozen=True)
class Access:
    """One thing a declared rule lets the workload do, as a SubjectAccessReview asks it."""

    group: str
    resource: str
    subresource: str
    verb: str
    name: str = ""

    def attributes(self, namespace: str) -> dict[str, str]:
        """``resourceAttributes`` of a SubjectAccessReview."""
        out = {
            "namespace": namespace,
            "group": self.group,
            "resource": self.resource,
            "verb": self.verb,
        }
        if self.subresource:
            out["subresource"] = self.subresource
        if self.name:
            out["name"] = self.name
        return out

    def describe(self) -> str:
        """``get configmaps/app-config`` or ``create pods/exec``."""
        resource = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        where = f"{_group(self.group)}/" if self.group else ""
        name = f" named {self.name}" if self.name else ""
        return f"{self.verb} on {where}{resource}{name}"


MAX_ACCESS_REVIEWS = 256
"""Bound on the SubjectAccessReviews one admission makes; more grants are refused."""


def accesses(rule: access.PolicyRule) -> list[Access]:
    """What one rule grants, one Access per object name it is limited to."""
    found = []
    for api_group, resource, verb in grants(rule):
        base, _, sub = resource.partition("/")
        for name in rule.resource_names or ("",):
            found.append(Access(api_group, base, sub, verb, name))
    return found


def holder_problems(
    spec: spec_api.FinancialWorkloadSpec, denied: Set[Access], user: str, namespace: str
) -> Problems:
    """RBAC-4: one problem per declared rule that grants what the requester does not hold."""
    for index, rule in enumerate(spec.permissions):
        missing = [item for item in accesses(rule) if item in denied]
        if not missing:
            continue
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        message = (
            f"{user} may not {missing[0].describe()}{more} in namespace {namespace}, so may "
            "not grant it to a workload (RBAC-4); allowed: rules the requester holds itself "
            "(as Kubernetes RBAC requires for Role writes)"
        )
        yield errors.Problem(f"spec.permissions[{index}]", message, "RBAC-4")


def volume_accesses(spec: spec_api.FinancialWorkloadSpec) -> list[tuple[str, Access]]:
    """(field, access) of what the pods' volumes read: each ConfigMap and claim, by name.

    The kubelet mounts them with its own rights, so whoever declares the volume would read
    through the pods what RBAC may not let them read themselves.
    """
    found: list[tuple[str, Access]] = []
    for index, volume in enumerate(spec.volumes):
        field = f"spec.volumes[{index}]"
        found += [(field, Access("", "configmaps", "", "get", name))
                  for name in volume.config_maps()]  # fmt: skip
        if volume.persistent_volume_claim is not None:
            claim = volume.persistent_volume_claim.claim_name
            found.append((field, Access("", "persistentvolumeclaims", "", "get", claim)))
    return found


def volume_problems(
    spec: spec_api.FinancialWorkloadSpec, denied: Set[Access], user: str, namespace: str
) -> Problems:
    """RBAC-4: a volume reads only what the requester may read."""
    for field, item in volume_accesses(spec):
        if item in denied:
            message = (
                f"{user} may not {item.describe()} in namespace {namespace}, so may not mount"
                " it in a workload, whose pods would read it (RBAC-4); allowed: ConfigMaps"
                " and claims the requester may get"
            )
            yield errors.Problem(field, message, "RBAC-4")
