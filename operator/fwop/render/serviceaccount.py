"""Render the workload's own ServiceAccount (RBAC-1).

Its token is mounted only when the workload declared permissions; otherwise the pod has
no API credentials at all. Must not: grant anything (that is the Role's job).
"""

from __future__ import annotations

from fwop.render import meta

CONTROLS = ("RBAC-1",)
IDENTITY_CONTROLS = ("RBAC-1", "IDN-1")
"""With a cloud identity declared, the account carries IDN-1 too."""


def name(ctx: meta.Context) -> str:
    """Return the ServiceAccount name: the workload's name."""
    return ctx.name


def needs_token(ctx: meta.Context) -> bool:
    """Tell whether the pods get an API token: only if permissions are declared."""
    return bool(ctx.spec.permissions)


def render(ctx: meta.Context) -> list[meta.Manifest]:
    """Return the ServiceAccount, annotated for the declared cloud identity (IDN-1)."""
    cloud = ctx.spec.identity.cloud if ctx.spec.identity is not None else None
    metadata = meta.metadata(ctx, name(ctx), CONTROLS if cloud is None else IDENTITY_CONTROLS)
    if cloud is not None:
        metadata["annotations"] = {**metadata.get("annotations", {}), **cloud.annotations()}
    return [
        meta.manifest(
            "v1",
            "ServiceAccount",
            metadata,
            automountServiceAccountToken=needs_token(ctx),
        )
    ]
