"""Shared factories for the unit tests: a minimal valid spec and render contexts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fwop.api import spec as spec_api
from fwop.render import meta

DIGEST = "0123456789abcdef" * 4
IMAGE = f"registry.bank.example/team/app@sha256:{DIGEST}"
RESOURCES = {
    "requests": {"cpu": "100m", "memory": "128Mi"},
    "limits": {"cpu": "1", "memory": "256Mi"},
}
OWNER = meta.OwnerRef(name="app", uid="0f5a1c2e-8d9b-4e7f-a1b2-c3d4e5f60718")

SpecFactory = Callable[..., spec_api.FinancialWorkloadSpec]
ContextFactory = Callable[..., meta.Context]


def spec_data(**fields: Any) -> dict[str, Any]:
    """Return a minimal valid spec mapping with ``fields`` replaced or added."""
    data: dict[str, Any] = {"profile": "baseline", "image": IMAGE, "resources": RESOURCES}
    data.update(fields)
    return data


def workload_doc(
    name: str = "app", namespace: str | None = "team", **fields: Any
) -> dict[str, Any]:
    """Return a complete FinancialWorkload document."""
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "finance.compliance.dev/v1alpha1",
        "kind": "FinancialWorkload",
        "metadata": metadata,
        "spec": spec_data(**fields),
    }


@pytest.fixture
def make_spec() -> SpecFactory:
    """Build a validated spec from the minimal one plus overrides."""

    def make(**fields: Any) -> spec_api.FinancialWorkloadSpec:
        return spec_api.FinancialWorkloadSpec.model_validate(spec_data(**fields))

    return make


@pytest.fixture
def make_ctx(make_spec: SpecFactory) -> ContextFactory:
    """Build a render context for workload team/app, owned by OWNER."""

    def make(**fields: Any) -> meta.Context:
        return meta.Context(namespace="team", name="app", spec=make_spec(**fields), owner=OWNER)

    return make
