"""Model of the API permissions a workload asks for; it becomes the workload's Role.

Static here: no wildcards, no escalate, bind or impersonate (RBAC-2), nothing of the hard
floor (``fwop.api.floor``, RBAC-3). What the cluster policy lets a profile be granted is
judged at admission (``fwop.admission.permissions``). Must not: import above the api layer.
"""

from __future__ import annotations

from typing import Annotated

import pydantic

from fwop.api import floor, rules, types

_Strings = Annotated[tuple[types.Str253, ...], pydantic.Field(max_length=32)]


def _check(rule: rules.Rule, ok: bool) -> None:
    if not ok:
        raise rule.error()


class PolicyRule(types.Model):
    """One rule of the workload's Role, in the namespace of the workload (RBAC-2, RBAC-3)."""

    model_config = pydantic.ConfigDict(
        json_schema_extra=rules.schema_extra(*rules.PERMISSION_FLOOR.values())
    )

    api_groups: Annotated[
        tuple[Annotated[str, pydantic.Field(max_length=253)], ...],
        pydantic.Field(
            min_length=1,
            max_length=16,
            json_schema_extra=rules.schema_extra(rules.NO_WILDCARD_API_GROUPS),
        ),
    ]
    """API groups; "" is the core group. '*' is rejected."""
    resources: Annotated[
        _Strings,
        pydantic.Field(
            min_length=1, json_schema_extra=rules.schema_extra(rules.NO_WILDCARD_RESOURCES)
        ),
    ]
    """Resources (and subresources such as pods/log). '*' is rejected."""
    resource_names: Annotated[
        _Strings, pydantic.Field(json_schema_extra=rules.schema_extra(rules.NO_WILDCARD_NAMES))
    ] = ()
    """Restrict the rule to these object names; empty means every object of the resources."""
    verbs: Annotated[
        tuple[types.Str63, ...],
        pydantic.Field(
            min_length=1,
            max_length=16,
            json_schema_extra=rules.schema_extra(
                rules.NO_WILDCARD_VERBS, rules.NO_ESCALATING_VERBS
            ),
        ),
    ]
    """Verbs such as get, list, watch. '*', escalate, bind and impersonate are rejected."""

    @pydantic.field_validator("api_groups")
    @classmethod
    def _api_groups(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        _check(rules.NO_WILDCARD_API_GROUPS, "*" not in value)
        return value

    @pydantic.field_validator("resources")
    @classmethod
    def _resources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        _check(rules.NO_WILDCARD_RESOURCES, not any("*" in item for item in value))
        return value

    @pydantic.field_validator("verbs")
    @classmethod
    def _verbs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        _check(rules.NO_WILDCARD_VERBS, "*" not in value)
        _check(rules.NO_ESCALATING_VERBS, not set(value) & set(rules.ESCALATING_VERBS))
        return value

    @pydantic.field_validator("resource_names")
    @classmethod
    def _names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        _check(rules.NO_WILDCARD_NAMES, not any("*" in item for item in value))
        return value

    @pydantic.model_validator(mode="after")
    def _floor(self) -> PolicyRule:
        for found in floor.breaches(self.api_groups, self.resources, self.verbs):
            raise rules.PERMISSION_FLOOR[found.floor.key].error()
        return self
