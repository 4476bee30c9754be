"""Build the FinancialWorkload CustomResourceDefinition from the API models.

Run ``python -m fwop.api.crd > crds/financialworkload.yaml`` to regenerate the committed
CRD; a unit test fails when the file and this module disagree. Must not: hand-write any
part of the spec or status schema (it comes from the models), or do I/O beyond printing.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import pydantic
import yaml

from fwop.api import group, rules, schema, spec, status, types


def condition_column(name: str, condition: str, description: str) -> dict[str, Any]:
    """Return a printer column showing the status of one condition type."""
    return {
        "name": name,
        "type": "string",
        "description": description,
        "jsonPath": f'.status.conditions[?(@.type=="{condition}")].status',
    }


PRINTER_COLUMNS: list[dict[str, Any]] = [
    condition_column("Ready", "Ready", "Whether the workload is reconciled and available."),
    condition_column("Compliant", "Compliant", "Whether every control is satisfied."),
    condition_column("Drift", "Drifted", "Whether a managed field of a child drifted."),
    {
        "name": "Profile",
        "type": "string",
        "description": "Compliance profile.",
        "jsonPath": ".spec.profile",
    },
    {
        "name": "Available",
        "type": "integer",
        "description": "Available pods.",
        "jsonPath": ".status.availableReplicas",
    },
    {
        "name": "Enforcement",
        "type": "string",
        "description": "enforce heals drift, audit only reports it.",
        "jsonPath": ".spec.enforcement",
        "priority": 1,
    },
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


def object_properties(
    spec_model: type[pydantic.BaseModel],
    status_model: type[pydantic.BaseModel],
    metadata: dict[str, Any],
) -> dict[str, Any]:
    """The top-level properties of a custom resource: spec and status from their models."""
    return {
        "apiVersion": {"type": "string", "description": "API version of this object."},
        "kind": {"type": "string", "description": "Kind of this object."},
        "metadata": metadata,
        "spec": schema.structural(spec_model.model_json_schema(by_alias=True)),
        "status": schema.structural(status_model.model_json_schema(by_alias=True)),
    }


def _root_schema() -> dict[str, Any]:
    name = {
        "type": "string",
        "maxLength": types.WORKLOAD_NAME_MAX_LENGTH,
        "pattern": types.WORKLOAD_NAME_PATTERN,
    }
    return {
        "type": "object",
        "description": (
            "A workload of a regulated financial application: the operator renders it into a "
            "hardened Deployment and its ServiceAccount, Role, NetworkPolicies, "
            "SecretProviderClass and namespace labels, and keeps them compliant."
        ),
        "required": ["spec"],
        "properties": object_properties(
            spec.FinancialWorkloadSpec,
            status.FinancialWorkloadStatus,
            {"type": "object", "properties": {"name": name}},
        ),
        **rules.schema_extra(rules.NOT_DEFAULT_NAME),
    }


@dataclasses.dataclass(frozen=True)
class Names:
    """How one custom resource is called, and where it lives."""

    kind: str
    list_kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    scope: str  # Namespaced or Cluster


def definition(
    names: Names, columns: list[dict[str, Any]], root_schema: dict[str, Any]
) -> dict[str, Any]:
    """A CustomResourceDefinition of this group: one served version with a status."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{names.plural}.{group.GROUP}",
            "labels": {"app.kubernetes.io/part-of": "fwop"},
        },
        "spec": {
            "group": group.GROUP,
            "scope": names.scope,
            "names": {
                "kind": names.kind,
                "listKind": names.list_kind,
                "plural": names.plural,
                "singular": names.singular,
                "shortNames": list(names.short_names),
                "categories": list(group.CATEGORIES),
            },
            "versions": [
                {
                    "name": group.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": columns,
                    "schema": {"openAPIV3Schema": root_schema},
                }
            ],
        },
    }


def build() -> dict[str, Any]:
    """Return the FinancialWorkload CustomResourceDefinition manifest."""
    names = Names(
        group.KIND, group.LIST_KIND, group.PLURAL, group.SINGULAR, group.SHORT_NAMES, "Namespaced"
    )
    return definition(names, PRINTER_COLUMNS, _root_schema())


HEADER = "# Generated by `python -m fwop.api.crd` from the models in fwop/api. Do not edit.\n"


class _Dumper(yaml.SafeDumper):
    """A YAML dumper that spells out repeated values instead of using anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def to_yaml(manifest: dict[str, Any], header: str) -> str:
    """Return a generated manifest as committed YAML text: header, then alias-free YAML."""
    return header + yaml.dump(manifest, Dumper=_Dumper, sort_keys=False, width=100)


def to_yaml_stream(manifests: list[dict[str, Any]], header: str) -> str:
    """Return several generated manifests as one committed YAML stream, header first."""
    return "---\n".join(to_yaml(m, header if i == 0 else "") for i, m in enumerate(manifests))


def render() -> str:
    """Return the CRD as the YAML text committed in crds/."""
    return to_yaml(build(), HEADER)


def main() -> None:
    """Print the CRD as YAML on standard output."""
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
