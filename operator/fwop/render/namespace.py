"""Render the Pod Security Standards labels of the workload's namespace (NS-1).

The result is a partial Namespace carrying only the PSS labels; applied with server-side
apply, the operator owns those labels and nothing else of the namespace. Must not: add an
ownerReference (a namespace must never be garbage-collected with a workload), or any
field other than the labels.
"""

from __future__ import annotations

from fwop.api import policy
from fwop.render import meta

LEVEL = "restricted"
# Pinned, so a cluster upgrade cannot silently change what "restricted" means (NS-1); the
# cluster policy's podSecurityVersion overrides it through the render context.
VERSION = policy.DEFAULT_POD_SECURITY_VERSION
MODES = ("enforce", "audit", "warn")
PREFIX = "pod-security.kubernetes.io"


def pss_labels(version: str = VERSION) -> dict[str, str]:
    """Return the PSS labels: every mode at restricted, each with the pinned version."""
    labels: dict[str, str] = {}
    for mode in MODES:
        labels[f"{PREFIX}/{mode}"] = LEVEL
        labels[f"{PREFIX}/{mode}-version"] = version
    return labels


def render(ctx: meta.Context) -> list[meta.Manifest]:
    """Return the partial Namespace holding the PSS labels."""
    labels = pss_labels(ctx.pod_security_version)
    return [meta.manifest("v1", "Namespace", {"name": ctx.namespace, "labels": labels})]
