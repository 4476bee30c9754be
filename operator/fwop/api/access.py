"""Model of the API permissions a workload asks for; it becomes the workload's Role.

Must not: allow wildcards or the escalate, bind and impersonate verbs (RBAC-2), or import
above the api layer.
"""

from __future__ import annotations

from typing import Annotated

import pydantic

from fwop.api import rules, types

_Strings = Annotated[tuple[types.Str253, ...], pydantic.Field(max_length=32)]


def _check(rule: rules.Rule, ok: bool) -> None:
    if not ok:
        raise rule.error()


class PolicyRule(types.Model):
    """One rule of the workload's Role, in the namespace of the workload (RBAC-2)."""

    api_groups: Annotated[
        tuple[Annotated[str, pydantic.Field(max_length=253)], ...],
        pydantic.Field(
            min_length=1,
            max_length=32,
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
    resource_names: _Strings = ()
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
