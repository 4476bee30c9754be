"""Turn a pydantic JSON schema into a structural OpenAPI v3 schema for a CRD.

Inlines every $ref, drops the null branch of optional fields, keeps int-or-string nodes,
removes what structural schemas forbid (titles, additionalProperties: false) and refuses
any construct it does not know, so a model change cannot slip an invalid CRD through.
Must not: know any particular model; import above the api layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JsonSchema = dict[str, Any]

# Marks a model whose presence and required fields a CEL rule enforces instead of the
# schema's `required`: the API server skips CEL rules once a required field is missing,
# so only this way does the user see the rule's message with its control ID.
REQUIRED_BY_CEL = "x-fwop-required-by-cel"

# Keys copied through unchanged (after converting nested schemas).
_PASSTHROUGH = frozenset(
    {
        "type",
        "description",
        "enum",
        "default",
        "format",
        "pattern",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "maxProperties",
        "required",
        "x-kubernetes-int-or-string",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-validations",
        "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys",
    }
)
_LEADING = ("type", "description")
_DROPPED = frozenset({"title", "$defs"})
_EMPTY_DEFAULTS: tuple[object, ...] = (None, "", [], {})


class SchemaError(ValueError):
    """The pydantic schema uses a construct that has no structural equivalent here."""


def structural(schema: Mapping[str, Any]) -> JsonSchema:
    """Return the structural equivalent of a pydantic JSON schema (with its $defs)."""
    return _convert(schema, schema.get("$defs", {}))


def _convert(node: Mapping[str, Any], defs: Mapping[str, Any]) -> JsonSchema:
    node = _resolve(node, defs)
    out: JsonSchema = {}
    for key, value in node.items():
        if key in _DROPPED or (key == "default" and value in _EMPTY_DEFAULTS):
            continue
        if key == "additionalProperties" and value is False:
            continue
        if key == REQUIRED_BY_CEL:
            continue
        out[key] = _convert_value(node, key, value, defs)
    _drop_cel_required(node, out, defs)
    return _ordered(out)


def _drop_cel_required(node: Mapping[str, Any], out: JsonSchema, defs: Mapping[str, Any]) -> None:
    """Leave presence checks that a CEL rule makes (REQUIRED_BY_CEL) out of `required`."""
    if node.get(REQUIRED_BY_CEL):
        out.pop("required", None)
        return
    marked = {
        name
        for name, sub in node.get("properties", {}).items()
        if _resolve(sub, defs).get(REQUIRED_BY_CEL)
    }
    if marked and "required" in out:
        out["required"] = [name for name in out["required"] if name not in marked]
        if not out["required"]:
            del out["required"]


def _convert_value(node: Mapping[str, Any], key: str, value: Any, defs: Mapping[str, Any]) -> Any:
    if key == "properties":
        return {name: _convert(sub, defs) for name, sub in value.items()}
    if key in ("items", "additionalProperties"):
        return _convert(value, defs)
    if key == "anyOf" and node.get("x-kubernetes-int-or-string"):
        return [dict(branch) for branch in value]
    if key == "description":
        return " ".join(str(value).split())
    if key in _PASSTHROUGH:
        return value
    raise SchemaError(f"unsupported JSON schema keyword {key!r} in {dict(node)!r}")


def _ordered(node: JsonSchema) -> JsonSchema:
    """Put type and description first, so the generated YAML reads well."""
    head = {key: node[key] for key in _LEADING if key in node}
    return {**head, **{key: value for key, value in node.items() if key not in head}}


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    """Inline a $ref and unwrap an optional (anyOf with null); siblings of either win."""
    if "$ref" in node:
        target = defs[str(node["$ref"]).rsplit("/", 1)[-1]]
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return _merge(_resolve(target, defs), siblings)
    if "anyOf" in node and not node.get("x-kubernetes-int-or-string"):
        branches = [branch for branch in node["anyOf"] if branch.get("type") != "null"]
        if len(branches) != 1:
            raise SchemaError(f"only optional (X | None) unions are supported, got {node!r}")
        siblings = {key: value for key, value in node.items() if key != "anyOf"}
        return _merge(_resolve(branches[0], defs), siblings)
    return node


def _merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> Mapping[str, Any]:
    merged = {**base, **overlay}
    key = "x-kubernetes-validations"
    rules = [*base.get(key, []), *overlay.get(key, [])]
    if rules:
        merged[key] = rules
    return merged
