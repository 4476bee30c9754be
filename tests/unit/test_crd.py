"""The CRD: committed file is fresh, schema is structural, and agrees with the models."""

from __future__ import annotations

import enum
import pathlib
import re
import types as pytypes
import typing
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest
import yaml

from fwop.api import crd, group, rules, schema, spec, status, types

REPO = pathlib.Path(__file__).resolve().parents[2]
CRD_FILE = REPO / "crds" / "financialworkload.yaml"
BUILT = crd.build()
VERSION = BUILT["spec"]["versions"][0]
ROOT = VERSION["schema"]["openAPIV3Schema"]
SPEC = ROOT["properties"]["spec"]
STATUS = ROOT["properties"]["status"]


def test_committed_crd_is_what_the_models_generate() -> None:
    committed = CRD_FILE.read_text(encoding="utf-8")
    assert committed == crd.render(), "regenerate: python -m fwop.api.crd > " + str(CRD_FILE)


def test_committed_crd_parses_back_to_the_built_manifest() -> None:
    assert yaml.safe_load(CRD_FILE.read_text(encoding="utf-8")) == BUILT


def test_names_scope_and_subresources() -> None:
    assert BUILT["metadata"]["name"] == "financialworkloads.finance.compliance.dev"
    names = BUILT["spec"]["names"]
    assert (names["kind"], names["plural"], names["shortNames"]) == (
        "FinancialWorkload",
        "financialworkloads",
        ["fw", "fwl"],
    )
    assert BUILT["spec"]["group"] == group.GROUP
    assert BUILT["spec"]["scope"] == "Namespaced"
    assert VERSION["name"] == "v1alpha1"
    assert VERSION["served"] is True
    assert VERSION["storage"] is True
    assert VERSION["subresources"] == {"status": {}}
    assert ROOT["required"] == ["spec"]


def test_printer_columns() -> None:
    columns = {column["name"]: column for column in VERSION["additionalPrinterColumns"]}
    assert list(columns) == [
        "Ready",
        "Compliant",
        "Drift",
        "Profile",
        "Available",
        "Enforcement",
        "Age",
    ]
    assert columns["Ready"]["jsonPath"] == '.status.conditions[?(@.type=="Ready")].status'
    assert columns["Compliant"]["jsonPath"] == '.status.conditions[?(@.type=="Compliant")].status'
    assert columns["Drift"]["jsonPath"] == '.status.conditions[?(@.type=="Drifted")].status'
    assert columns["Profile"]["jsonPath"] == ".spec.profile"
    assert columns["Available"]["jsonPath"] == ".status.availableReplicas"
    assert columns["Available"]["type"] == "integer"
    assert columns["Age"] == {
        "name": "Age",
        "type": "date",
        "jsonPath": ".metadata.creationTimestamp",
    }


def test_metadata_name_is_restricted_like_the_offline_check() -> None:
    name = ROOT["properties"]["metadata"]["properties"]["name"]
    assert name["pattern"] == types.WORKLOAD_NAME_PATTERN
    assert name["maxLength"] == 63
    assert set(ROOT["properties"]["metadata"]) == {"type", "properties"}


def walk(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from walk(child, f"{path}.{name}")
    if "items" in node:
        yield from walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from walk(node["additionalProperties"], f"{path}{{}}")


NODES = list(walk(SPEC, "spec")) + list(walk(STATUS, "status"))


def _structural_faults(node: dict[str, Any]) -> list[str]:
    faults = sorted({"$ref", "$defs", "allOf", "oneOf", "not", "title", "nullable"} & set(node))
    if "x-kubernetes-preserve-unknown-fields" in node:
        faults.append("preserves unknown fields")
    if node.get("additionalProperties") is False or (
        "properties" in node and "additionalProperties" in node
    ):
        faults.append("additionalProperties")
    if node.get("x-kubernetes-int-or-string"):
        if "type" in node or node["anyOf"] != [{"type": "integer"}, {"type": "string"}]:
            faults.append("bad int-or-string")
    elif node.get("type") not in {"object", "array", "string", "integer", "boolean"} or (
        "anyOf" in node
    ):
        faults.append("no single type")
    return faults


def _unbounded(node: dict[str, Any]) -> bool:
    kind = "string" if node.get("x-kubernetes-int-or-string") else node.get("type")
    if kind == "array":
        return "maxItems" not in node
    if kind == "string":
        return not ("maxLength" in node or "enum" in node or node.get("format") == "date-time")
    return kind == "object" and "additionalProperties" in node and "maxProperties" not in node


def test_walk_reaches_the_deepest_nodes() -> None:
    paths = [path for path, _ in NODES]
    assert "spec.network.egress[].to[].ipBlock.except[]" in paths
    assert "status.conditions[].lastTransitionTime" in paths
    assert len(paths) > 100


# The one opaque node: the spec of the generation the children hold, stored as written.
OPAQUE = {"status.appliedSpec": ["preserves unknown fields"]}


def test_every_node_is_structural() -> None:
    faults = {path: found for path, node in NODES if (found := _structural_faults(node))}
    assert faults == OPAQUE


def test_every_list_string_and_map_is_bounded_for_cel_cost() -> None:
    assert [path for path, node in NODES if _unbounded(node)] == []


def test_every_property_is_described() -> None:
    undescribed = [
        f"{path}.{name}"
        for path, node in NODES
        for name, child in node.get("properties", {}).items()
        if not child.get("description")
    ]
    assert undescribed == []


def _unwrap(annotation: Any) -> Any:
    """Strip Optional and Annotated; return tuple item types as-is for the caller."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, pytypes.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
    return annotation


def _agree(model: type[pydantic.BaseModel], node: dict[str, Any], path: str) -> Iterator[str]:
    """Yield one line per disagreement between a model and its schema node."""
    properties = node.get("properties", {})
    aliases = []
    for name, field in model.model_fields.items():
        alias = field.alias or name
        aliases.append(alias)
        where = f"{path}.{alias}"
        if alias not in properties:
            yield f"{where} missing from schema"
            continue
        description = " ".join((field.description or "").split())
        if properties[alias].get("description") != description:
            yield f"{where} description differs from the field docstring"
        yield from _agree_type(_unwrap(field.annotation), properties[alias], where)
    if set(properties) != set(aliases):
        yield f"{path} schema has extra properties {set(properties) - set(aliases)}"
    required = [
        f.alias or n
        for n, f in model.model_fields.items()
        if f.is_required() and not _required_by_cel(_unwrap(f.annotation))
    ]
    if _required_by_cel(model):
        required = []  # a CEL rule checks these, so its message (with the control) is shown
    if node.get("required", []) != required:
        yield f"{path} required {node.get('required')} != {required}"


def _required_by_cel(annotation: Any) -> bool:
    extra = getattr(annotation, "model_config", {}).get("json_schema_extra") or {}
    return bool(isinstance(extra, dict) and extra.get(schema.REQUIRED_BY_CEL))


def _agree_type(annotation: Any, node: dict[str, Any], where: str) -> Iterator[str]:
    if typing.get_origin(annotation) is tuple:
        yield from _agree_type(_unwrap(typing.get_args(annotation)[0]), node["items"], f"{where}[]")
    elif isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        yield from _agree(annotation, node, where)
    elif (
        isinstance(annotation, type)
        and issubclass(annotation, enum.Enum)
        and node.get("enum") != [member.value for member in annotation]
    ):
        yield f"{where} enum {node.get('enum')} != {annotation.__name__}"


@pytest.mark.parametrize(
    ("model", "node", "path"),
    [
        (spec.FinancialWorkloadSpec, SPEC, "spec"),
        (status.FinancialWorkloadStatus, STATUS, "status"),
    ],
    ids=["spec", "status"],
)
def test_models_and_schema_agree(
    model: type[pydantic.BaseModel], node: dict[str, Any], path: str
) -> None:
    assert list(_agree(model, node, path)) == []


def _validations() -> list[tuple[str, dict[str, str]]]:
    nodes = [("", ROOT), *NODES]
    return [
        (path, entry) for path, node in nodes for entry in node.get("x-kubernetes-validations", [])
    ]


# Where each rule must sit in the schema (the node `self` refers to).
PLACEMENT = {
    rules.IMAGE_PINNED: {"spec.image"},
    rules.RESOURCES_REQUIRED: {"spec"},
    rules.NO_WILDCARD_API_GROUPS: {"spec.permissions[].apiGroups"},
    rules.NO_WILDCARD_RESOURCES: {"spec.permissions[].resources"},
    rules.NO_WILDCARD_VERBS: {"spec.permissions[].verbs"},
    rules.NO_ESCALATING_VERBS: {"spec.permissions[].verbs"},
    rules.NO_WILDCARD_NAMES: {"spec.permissions[].resourceNames"},
    **{rule: {"spec.permissions[]"} for rule in rules.PERMISSION_FLOOR.values()},
    rules.NOT_DEFAULT_NAME: {""},
    rules.PCI_MIN_REPLICAS: {"spec"},
    rules.PCI_MIN_AUTOSCALING: {"spec"},
    rules.AUTOSCALING_EXCLUSIVE: {"spec"},
    rules.AUTOSCALING_TARGET: {"spec.autoscaling"},
    rules.AUTOSCALING_RANGE: {"spec.autoscaling"},
    rules.ROLLOUT_PROGRESS: {"spec.rollout"},
    rules.RESERVED_LABELS: {"spec.podMetadata"},
    rules.RESERVED_ANNOTATIONS: {"spec.podMetadata"},
    rules.TOLERATION_KEY: {"spec.placement.tolerations[]"},
    rules.TOLERATION_VALUE: {"spec.placement.tolerations[]"},
    rules.SYSTEM_PRIORITY: {"spec.placement"},
    rules.PRESTOP_ONE: {"spec.shutdown.preStop"},
    rules.CLOUD_ONE: {"spec.identity.cloud"},
    rules.PEER_SHAPE: {"spec.network.ingress[].from[]", "spec.network.egress[].to[]"},
    rules.SELECTOR_EXPRESSION: {
        f"spec.network.{flow}[].{peers}[].{selector}.matchExpressions[]"
        for flow, peers in (("ingress", "from"), ("egress", "to"))
        for selector in ("podSelector", "namespaceSelector")
    },
    rules.END_PORT: {"spec.network.egress[].ports[]"},
    rules.API_SERVER_NEEDS_PERMISSIONS: {"spec"},
    rules.CIDR_VALID: {
        "spec.network.ingress[].from[].ipBlock",
        "spec.network.egress[].to[].ipBlock",
    },
    rules.CONTAINER_IMAGE_PINNED: {"spec.containers[].image", "spec.initContainers[].image"},
    rules.CONTAINER_RESOURCES: {"spec.containers[]", "spec.initContainers[]"},
    rules.CONTAINER_NAME: {"spec.containers[]", "spec.initContainers[]"},
    rules.CONTAINER_NAMES_UNIQUE: {"spec"},
    rules.INIT_CONTAINER_RUNS_ONCE: {"spec.initContainers[]"},
    rules.MOUNT_SECRETS_NEEDS_SECRETS: {"spec"},
    rules.PROBE_HANDLER: {
        f"{where}.{kind}"
        for where in ("spec.probes", "spec.containers[].probes", "spec.initContainers[].probes")
        for kind in ("liveness", "readiness", "startup")
    },
    rules.PROBE_SUCCESS_THRESHOLD: {
        "spec.probes",
        "spec.containers[].probes",
        "spec.initContainers[].probes",
    },
    rules.NO_PARENT_PATH: {
        "spec.volumes[].configMap.items[].path",
        "spec.volumes[].projected.sources[].configMap.items[].path",
        "spec.volumes[].projected.sources[].downwardAPI[].path",
        "spec.volumes[].projected.sources[].serviceAccountToken.path",
    },
    rules.PROJECTED_SOURCE_ONE: {"spec.volumes[].projected.sources[]"},
    rules.MOUNT_PATH_CLEAN: {
        "spec.volumeMounts[].mountPath",
        "spec.containers[].volumeMounts[].mountPath",
        "spec.initContainers[].volumeMounts[].mountPath",
    },
    rules.VOLUME_SOURCE_ONE: {"spec.volumes[]"},
    rules.VOLUME_NAME: {"spec.volumes[]"},
    rules.JOB_RUNS_TO_COMPLETION: {"spec"},
    rules.VAULT_BLOCK: {"spec.secrets"},
    rules.AZURE_BLOCK: {"spec.secrets"},
    rules.AWS_BLOCK: {"spec.secrets"},
    rules.KEY_NEEDS_VAULT: {"spec.secrets"},
    rules.MOUNT_PATH: {"spec.secrets.mountPath"},
}


@pytest.mark.parametrize("rule", rules.ALL, ids=lambda r: r.text[:40])
def test_each_rule_sits_where_it_belongs_with_the_shared_message(rule: rules.Rule) -> None:
    found = {path for path, entry in _validations() if entry == rule.schema_entry()}
    assert found == PLACEMENT[rule]


def test_schema_holds_no_rule_that_the_models_do_not_know() -> None:
    known = [rule.schema_entry() for rule in rules.ALL]
    assert [entry for _, entry in _validations() if entry not in known] == []


@pytest.mark.parametrize("rule", rules.ALL, ids=lambda r: r.text[:40])
def test_messages_name_the_field(rule: rules.Rule) -> None:
    assert rule.field in rule.message or "spec." in rule.message
    if rule.field_path:
        assert re.fullmatch(r"\.[a-zA-Z]+", rule.field_path)
        assert rule.field.endswith(rule.field_path)


def test_cel_regex_and_python_regex_are_the_same_pattern() -> None:
    assert rules.IMAGE_PINNED.cel == f"self.matches('{rules.IMAGE_PATTERN}')"
    assert "\\" not in rules.IMAGE_PATTERN  # nothing to escape differently in CEL and Python
    assert "'" not in rules.IMAGE_PATTERN


def test_defaults_in_schema_match_model_defaults() -> None:
    props = SPEC["properties"]
    assert props["enforcement"]["default"] == spec.Enforcement.ENFORCE.value
    assert props["replicas"]["default"] == 1
    assert props["secrets"]["properties"]["mountPath"]["default"] == "/mnt/secrets"
    assert props["network"]["properties"]["allowDNS"]["default"] is False
    assert "default" not in props["permissions"]  # empty defaults are not stored server-side


def test_list_maps_and_sets() -> None:
    props = SPEC["properties"]
    for name in ("env", "ports"):
        assert props[name]["x-kubernetes-list-type"] == "map"
        assert props[name]["x-kubernetes-list-map-keys"] == ["name"]
        assert "name" in props[name]["items"]["required"]
    assert props["residency"]["properties"]["regions"]["x-kubernetes-list-type"] == "set"
    conditions = STATUS["properties"]["conditions"]
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    assert conditions["items"]["properties"]["status"]["enum"] == ["True", "False", "Unknown"]


def _nulls(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_nulls(v) for v in value.values())
    if isinstance(value, list):
        return any(_nulls(v) for v in value)
    return False


def test_no_schema_default_holds_a_null() -> None:
    """The API server refuses a CRD whose default has null where the schema wants a value
    (a model default dumped with its unset fields): found when the policy's dns had one."""
    from fwop.api import policycrd  # noqa: PLC0415 - the policy CRD, beside the workload's

    schemas = [
        crd.build()["spec"]["versions"][0]["schema"]["openAPIV3Schema"],
        policycrd.build()["spec"]["versions"][0]["schema"]["openAPIV3Schema"],
    ]
    for schema_root in schemas:
        for path, node in walk(schema_root):
            assert not _nulls(node.get("default", 0)), path
