"""The FinancialWorkload status: what the operator observed, in kstatus-friendly shape.

Conditions follow metav1.Condition; drift entries and children make the audit trail
visible on the object itself. Must not: decide anything (reconcile computes status), or
import above the api layer.
"""

from __future__ import annotations

import datetime
import enum
from typing import Annotated, Any

import pydantic

from fwop.api import types

_REASON = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
_MESSAGE = Annotated[str, pydantic.Field(max_length=32768)]
_LIST_MAP_BY_TYPE = {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]}


class ConditionStatus(enum.StrEnum):
    """Whether a condition holds."""

    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(types.Model):
    """One aspect of the workload's state, in the metav1.Condition shape."""

    type: Annotated[str, pydantic.Field(min_length=1, max_length=316)]
    """CamelCase condition type: Ready, Compliant, Drifted..."""
    status: ConditionStatus
    """True, False or Unknown."""
    reason: Annotated[str, pydantic.Field(min_length=1, max_length=1024, pattern=_REASON)]
    """CamelCase reason for the last transition, for machines."""
    message: _MESSAGE = ""
    """Human-readable detail of the last transition."""
    last_transition_time: datetime.datetime
    """When status last changed."""
    observed_generation: Annotated[types.Int, pydantic.Field(ge=0)] | None = None
    """metadata.generation the condition was computed from."""


class DriftEntry(types.Model):
    """A managed field of a child that differed from the desired state."""

    kind: types.Str63
    """Kind of the child (Deployment, NetworkPolicy...)."""
    name: types.Str253
    """Name of the child."""
    field: types.Str1024
    """Dotted path of the field that drifted."""
    expected: _MESSAGE
    """Desired value, JSON-encoded."""
    actual: _MESSAGE
    """Value found in the cluster, JSON-encoded ("" when the field was missing)."""
    detected_at: datetime.datetime
    """When the drift was detected."""
    healed_at: datetime.datetime | None = None
    """When the operator restored the desired value; unset in audit mode or while pending."""


class ChildRef(types.Model):
    """An object the workload owns."""

    kind: types.Str63
    """Kind of the child."""
    name: types.Str253
    """Name of the child (in the workload's namespace)."""
    uid: Annotated[str, pydantic.Field(max_length=64)] = ""
    """UID of the child as last seen."""


AppliedSpec = Annotated[
    dict[str, Any],
    pydantic.WithJsonSchema(
        {
            "type": "object",
            "description": (
                "The spec of appliedGeneration, kept so that the children stay as that "
                "generation made them while a newer one is blocked by the cluster policy."
            ),
            "x-kubernetes-preserve-unknown-fields": True,
        }
    ),
]


class Compliance(types.Model):
    """Every control's verdict on the live children, in short (the PolicyReport has them all)."""

    passed: Annotated[types.Int, pydantic.Field(ge=0)] = 0
    """Controls met."""
    failed: Annotated[types.Int, pydantic.Field(ge=0)] = 0
    """Controls not met; their IDs are in failing."""
    warned: Annotated[types.Int, pydantic.Field(ge=0)] = 0
    """Controls met with a reservation."""
    skipped: Annotated[types.Int, pydantic.Field(ge=0)] = 0
    """Controls that do not apply to the workload, or are judged at admission only."""
    failing: Annotated[tuple[types.Str63, ...], pydantic.Field(max_length=64)] = ()
    """IDs of the controls not met (see docs/controls.md)."""
    report: Annotated[str, pydantic.Field(max_length=253)] = ""
    """Name of the PolicyReport (wgpolicyk8s.io/v1alpha2) in the workload's namespace that
    holds every verdict with its evidence; empty when the cluster does not serve
    PolicyReports."""
    digest: Annotated[str, pydantic.Field(max_length=64)] = ""
    """Digest of the verdicts: it changes when, and only when, a verdict changes."""
    judged_at: datetime.datetime | None = None
    """When a verdict last changed."""


class FinancialWorkloadStatus(types.Model):
    """Observed state of a FinancialWorkload, written only by the operator."""

    observed_generation: Annotated[types.Int, pydantic.Field(ge=0)] | None = None
    """metadata.generation last reconciled; compare with metadata.generation (kstatus)."""
    conditions: Annotated[
        tuple[Condition, ...], pydantic.Field(max_length=16, json_schema_extra=_LIST_MAP_BY_TYPE)
    ] = ()
    """Ready (summary), Compliant, Drifted and others, in the metav1.Condition shape."""
    available_replicas: Annotated[types.Int, pydantic.Field(ge=0)] | None = None
    """Available pods of the Deployment, as last observed."""
    drift: Annotated[tuple[DriftEntry, ...], pydantic.Field(max_length=64)] = ()
    """Most recent drift findings, newest last."""
    children: Annotated[tuple[ChildRef, ...], pydantic.Field(max_length=32)] = ()
    """Objects the workload owns."""
    applied_generation: Annotated[types.Int, pydantic.Field(ge=0)] | None = None
    """metadata.generation whose rendering the children hold: the last generation the
    cluster policy let the operator roll out."""
    applied_spec: AppliedSpec | None = None
    """The spec of appliedGeneration (see appliedGeneration)."""
    compliance: Compliance | None = None
    """Every control's verdict on the live children, in short."""
