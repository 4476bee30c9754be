"""Render the workload's own ServiceAccount (RBAC-1).

Its token is mounted only when the workload declared permissions; otherwise the pod has
no API credentials at all. Must not: grant anything (that is the Role's job).
"""

from __future__ import annotations

from fwop.render import meta

CONTROLS = ("RBAC-1",)


def name(ctx: meta.Context) -> str:
    """Return the ServiceAccount name: the workload's name."""
    return ctx.name


def needs_token(ctx: meta.Context) -> bool:
    """Tell whether the pods get an API token: only if permissions are declared."""
    return bool(ctx.spec.permissions)


def render(ctx: meta.Context) -> list[meta.Manifest]:
    """Return the ServiceAccount."""
    return [
        meta.manifest(
            "v1",
            "ServiceAccount",
            meta.metadata(ctx, name(ctx), CONTROLS),
            automountServiceAccountToken=needs_token(ctx),
        )
    ]
