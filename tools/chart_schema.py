"""Put the cluster policy's schema into charts/fwop/values.schema.json.

`policy.spec` of the chart's values is a FinancialWorkloadPolicy spec. Its JSON schema is
taken from the generated CRD (crds/financialworkloadpolicy.yaml), so `helm lint` and
`helm install` refuse a misspelt or out-of-range policy before anything reaches the
cluster, with the value's path in the message. Two differences from the CRD: the
Kubernetes extensions (`x-kubernetes-*`, the CEL rules among them; the API server still
runs those at install) are left out, and every object with declared properties refuses
others (the API server would prune an unknown field silently). The rest of the values
schema is written by hand in that file. Run `make chart-schema` after the policy's models
change; a unit test fails when the file is stale.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import yaml

REPO = pathlib.Path(__file__).resolve().parents[1]
VALUES_SCHEMA = REPO / "charts" / "fwop" / "values.schema.json"
POLICY_CRD = REPO / "crds" / "financialworkloadpolicy.yaml"


def json_schema(node: Any) -> Any:
    """The CRD's OpenAPI schema `node` as JSON schema: no extensions, closed objects."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-"):
            continue
        if key == "properties":
            out[key] = {name: json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "anyOf", "allOf", "oneOf", "not"):
            out[key] = json_schema(value)
        else:
            out[key] = value
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def render(values_schema: dict[str, Any], policy_crd: dict[str, Any]) -> dict[str, Any]:
    """`values_schema` with policy.spec replaced by the CRD's spec schema."""
    (version,) = [v for v in policy_crd["spec"]["versions"] if v.get("storage")]
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    policy = values_schema["properties"]["policy"]["properties"]
    policy["spec"] = {
        **json_schema(spec),
        "description": "The FinancialWorkloadPolicy's spec (docs/policy.md), checked against "
        "the CRD's schema here and by its rules at install.",
    }
    return values_schema


def main() -> None:
    """Rewrite charts/fwop/values.schema.json in place."""
    current = json.loads(VALUES_SCHEMA.read_text(encoding="utf-8"))
    crd = yaml.safe_load(POLICY_CRD.read_text(encoding="utf-8"))
    VALUES_SCHEMA.write_text(json.dumps(render(current, crd), indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
