"""Parse a whole FinancialWorkload document and explain every problem in it.

This is the edge where raw dicts become typed models: it checks the envelope (apiVersion,
kind, metadata.name), validates the spec with the models, and turns pydantic errors into
``errors.Problem`` lines that name the field and, where one applies, the control. Must
not: do I/O or import above the api layer.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pydantic

from fwop import errors
from fwop.api import group, rules, schema, spec, types

_SECRET_CARRIERS = frozenset({"valueFrom", "envFrom"})


@dataclasses.dataclass(frozen=True)
class Workload:
    """A validated FinancialWorkload: where it lives and what it asks for."""

    namespace: str
    name: str
    uid: str | None
    spec: spec.FinancialWorkloadSpec


def parse(doc: Mapping[str, Any], default_namespace: str = "default") -> Workload:
    """Validate a FinancialWorkload document; raise InvalidSpecError listing every problem."""
    problems = _envelope_problems(doc)
    metadata = doc.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    parsed: spec.FinancialWorkloadSpec | None = None
    try:
        parsed = parse_spec(doc.get("spec"))
    except errors.InvalidSpecError as exc:
        problems.extend(exc.problems)
    if problems or parsed is None:
        raise errors.InvalidSpecError(tuple(problems))
    uid = metadata.get("uid")
    return Workload(
        namespace=str(metadata.get("namespace") or default_namespace),
        name=str(metadata["name"]),
        uid=str(uid) if uid else None,
        spec=parsed,
    )


def parse_spec(data: object) -> spec.FinancialWorkloadSpec:
    """Validate a spec mapping; raise InvalidSpecError listing every problem."""
    if not isinstance(data, Mapping):
        problem = errors.Problem("spec", "spec is required and must be a mapping")
        raise errors.InvalidSpecError((problem,))
    try:
        # Only the wire names (camelCase), as the API server accepts; Python names are for code.
        return spec.FinancialWorkloadSpec.model_validate(data, by_alias=True, by_name=False)
    except pydantic.ValidationError as exc:
        problems = tuple(to_problem(error) for error in _meaningful(exc.errors()))
        raise errors.InvalidSpecError(problems) from None


def type_problems(doc: Mapping[str, Any], kind: str) -> list[errors.Problem]:
    """Problems with a document's apiVersion and kind (this API group's `kind` expected)."""
    problems = []
    if doc.get("apiVersion") != group.API_VERSION:
        message = f"apiVersion must be {group.API_VERSION}, got {doc.get('apiVersion')!r}"
        problems.append(errors.Problem("apiVersion", message))
    if doc.get("kind") != kind:
        message = f"kind must be {kind}, got {doc.get('kind')!r}"
        problems.append(errors.Problem("kind", message))
    return problems


def _envelope_problems(doc: Mapping[str, Any]) -> list[errors.Problem]:
    problems = type_problems(doc, group.KIND)
    metadata = doc.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    if not isinstance(name, str) or not _valid_name(name):
        message = (
            "metadata.name must be a DNS-1035 label: lower-case letters, digits and '-', "
            f"starting with a letter, at most {types.WORKLOAD_NAME_MAX_LENGTH} characters"
        )
        problems.append(errors.Problem("metadata.name", message))
    elif name == "default":
        rule = rules.NOT_DEFAULT_NAME
        problems.append(errors.Problem(rule.field, rule.message, rule.control))
    return problems


def _valid_name(name: str) -> bool:
    return (
        len(name) <= types.WORKLOAD_NAME_MAX_LENGTH
        and re.fullmatch(types.WORKLOAD_NAME_PATTERN, name) is not None
    )


_CONTAINER_LISTS = (("containers",), ("initContainers",))

HINTS: Mapping[str, str] = {
    "sidecars": "spec.initContainers with restartPolicy: Always (native sidecars), or"
    " spec.containers",
    "livenessProbe": "spec.probes.liveness",
    "readinessProbe": "spec.probes.readiness",
    "startupProbe": "spec.probes.startup",
    "strategy": "spec.rollout",
    "minReplicas": "spec.autoscaling.minReplicas",
    "maxReplicas": "spec.autoscaling.maxReplicas",
    "serviceAccountName": "nothing: each workload gets its own ServiceAccount (RBAC-1); "
    "its permissions go in spec.permissions",
    "securityContext": "nothing: the operator renders the restricted security context "
    "(POD-1..POD-4)",
    "ingress": "spec.network.ingress",
    "egress": "spec.network.egress",
    "secretRef": "spec.secrets (SEC-1)",
    "nodeSelector": "spec.placement.nodeSelector",
    "tolerations": "spec.placement.tolerations",
    "priorityClassName": "spec.placement.priorityClassName",
    "runtimeClassName": "spec.placement.runtimeClassName",
    "affinity": "spec.residency (regions) and spec.placement.nodeSelector",
    "labels": "spec.podMetadata.labels",
    "annotations": "spec.podMetadata.annotations",
    "imagePullSecrets": "spec.identity.imagePullSecrets",
    "terminationGracePeriodSeconds": "spec.shutdown.terminationGracePeriodSeconds",
    **dict.fromkeys(
        ("hostNetwork", "hostPID", "hostIPC", "privileged"),
        "nothing: a workload never shares the node's namespaces (POD-5)",
    ),
    "hostPath": "nothing: a workload never mounts the node's files (POD-5); use emptyDir,"
    " persistentVolumeClaim or ephemeral",
    "secret": "spec.secrets (SEC-1): secrets come from an external store, never a Secret",
    "readOnly": "writable (mounts are read-only unless writable: true)",
}
"""Fields of other APIs (a Deployment's, mostly) and where a FinancialWorkload says it."""


Model = type[pydantic.BaseModel]


@functools.cache
def _schema(model: Model) -> Mapping[str, Any]:
    return schema.structural(model.model_json_schema(by_alias=True))


def known_fields(loc: Sequence[int | str], model: Model = spec.FinancialWorkloadSpec) -> list[str]:
    """The field names ``model`` accepts at ``loc`` (a pydantic location), [] when unknown."""
    node: Mapping[str, Any] = _schema(model)
    for part in loc:
        node = (node.get("items") if isinstance(part, int) else
                (node.get("properties") or {}).get(part)) or {}  # fmt: skip
    return sorted((node.get("properties") or {}).keys())


def unknown_field(loc: Sequence[int | str], model: Model = spec.FinancialWorkloadSpec) -> str:
    """The message for a field ``model`` does not have: what exists there, and a guess."""
    name = str(loc[-1]) if loc else ""
    known = known_fields(loc[:-1], model)
    message = "unknown field"
    if name in HINTS and model is spec.FinancialWorkloadSpec:
        message += f"; use {HINTS[name]}"
    else:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        if close:
            message += f"; did you mean {field_path((*loc[:-1], close[0]))}?"
    if known:
        message += f" (fields here: {', '.join(known)})"
    return message


def _meaningful(found: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Drop "too short" echoes of a list whose items already failed on their own."""
    locs = [tuple(error["loc"]) for error in found]

    def echo(error: Mapping[str, Any]) -> bool:
        loc = tuple(error["loc"])
        return error["type"] == "too_short" and any(
            len(other) > len(loc) and other[: len(loc)] == loc for other in locs
        )

    return [error for error in found if not echo(error)]


def field_path(loc: Sequence[int | str], prefix: str = "spec") -> str:
    """Spell a pydantic error location the way kubectl does: spec.ports[0].name."""
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _resources_rule(loc: Sequence[int | str]) -> rules.Rule | None:
    """The POD-6 rule a missing field breaks, when it is part of a container's resources."""
    if tuple(loc[:1]) == ("resources",):
        return rules.RESOURCES_REQUIRED
    if tuple(loc[:1]) in _CONTAINER_LISTS and tuple(loc[2:3]) == ("resources",):
        return rules.CONTAINER_RESOURCES
    return None


def to_problem(
    error: Mapping[str, Any], model: Model = spec.FinancialWorkloadSpec
) -> errors.Problem:
    """Turn one pydantic error about ``model`` into a Problem naming field and control."""
    loc: tuple[int | str, ...] = tuple(error["loc"])
    context = error.get("ctx") or {}
    kind = error["type"]
    if kind == rules.ERROR_TYPE:
        field = field_path(loc) if loc else str(context["field"])
        return errors.Problem(field, str(error["msg"]), str(context["control"]) or None)
    field = field_path(loc)
    resources = _resources_rule(loc) if kind == "missing" else None
    if resources is not None:
        return errors.Problem(field, resources.message, resources.control)
    if kind == "missing":
        return errors.Problem(field, "required field is missing")
    if kind == "extra_forbidden" and loc and loc[-1] in _SECRET_CARRIERS:
        message = f"{loc[-1]} is not supported: mount secrets through spec.secrets (SEC-1)"
        return errors.Problem(field, message, "SEC-1")
    if kind == "extra_forbidden":
        return errors.Problem(field, unknown_field(loc, model))
    return errors.Problem(field, str(error["msg"]).removeprefix("Value error, "))
