"""charts/fwop/values.schema.json holds the cluster policy's schema as the CRD has it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import yaml

REPO = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "chart_schema", REPO / "tools" / "chart_schema.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_values_schema_is_up_to_date_with_the_policy_crd() -> None:
    """`make chart-schema` regenerates it; this fails when the policy's models changed."""
    tool = _tool()
    current = json.loads(tool.VALUES_SCHEMA.read_text(encoding="utf-8"))
    crd = yaml.safe_load(tool.POLICY_CRD.read_text(encoding="utf-8"))
    assert tool.render(json.loads(json.dumps(current)), crd) == current


def test_the_policy_schema_drops_extensions_and_closes_objects() -> None:
    converted = _tool().json_schema(
        {
            "type": "object",
            "x-kubernetes-validations": [{"rule": "self.a != ''"}],
            "properties": {
                "a": {"type": "string", "maxLength": 8},
                "b": {
                    "type": "array",
                    "x-kubernetes-list-type": "set",
                    "items": {"type": "string"},
                },
                "m": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    )
    assert converted == {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "a": {"type": "string", "maxLength": 8},
            "b": {"type": "array", "items": {"type": "string"}},
            "m": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
