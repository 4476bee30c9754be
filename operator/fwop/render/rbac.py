"""Render the workload's Role and RoleBinding from its declared permissions (RBAC-2).

The Role holds exactly the declared rules (the models already refused wildcards and the
escalate, bind and impersonate verbs). Nothing is rendered when no permissions are
declared. Must not: add rules of its own, or render cluster-scoped RBAC.
"""

from __future__ import annotations

from fwop.api import access
from fwop.render import meta, serviceaccount

API_VERSION = "rbac.authorization.k8s.io/v1"
CONTROLS = ("RBAC-2",)


def _rule(rule: access.PolicyRule) -> meta.Manifest:
    out: meta.Manifest = {"apiGroups": list(rule.api_groups), "resources": list(rule.resources)}
    if rule.resource_names:
        out["resourceNames"] = list(rule.resource_names)
    out["verbs"] = list(rule.verbs)
    return out


def render(ctx: meta.Context) -> list[meta.Manifest]:
    """Return the Role and its RoleBinding, or nothing when no permissions are declared."""
    if not ctx.spec.permissions:
        return []
    role = meta.manifest(
        API_VERSION,
        "Role",
        meta.metadata(ctx, ctx.name, CONTROLS),
        rules=[_rule(rule) for rule in ctx.spec.permissions],
    )
    binding = meta.manifest(
        API_VERSION,
        "RoleBinding",
        meta.metadata(ctx, ctx.name, CONTROLS),
        roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ctx.name},
        subjects=[
            {
                "kind": "ServiceAccount",
                "name": serviceaccount.name(ctx),
                "namespace": ctx.namespace,
            }
        ],
    )
    return [role, binding]
