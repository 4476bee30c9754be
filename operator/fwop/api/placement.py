"""Pod metadata, placement and shutdown: what the pods carry, where they run, how they stop.

A team may label and annotate its pods (scraping, cost centre, data class), pin them to a
node pool, tolerate that pool's taints, pick a runtime and a priority class, and give them
time to drain. It may not take what selects or guards other objects: keys under the
operator's prefix, Kubernetes' own (``*kubernetes.io/``, ``*k8s.io/``: Pod Security, the
app.kubernetes.io labels the operator selects on), a service mesh's injection switches,
tolerations of Kubernetes' own taints (control-plane nodes, node conditions), or the
system priority classes (PLC-1). The cluster policy bounds the rest per profile
(``guardrails.PlacementGuardrails``). Must not: import above the api layer.
"""

from __future__ import annotations

import enum
import re
from typing import Annotated

import pydantic

from fwop.api import group, rules, types

QUALIFIED_NAME = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
"""A label or annotation key: an optional DNS subdomain prefix and a name."""
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
RESERVED_PREFIXES = (f"{group.GROUP}/",)
"""Key prefixes no workload may use, besides any containing kubernetes.io/ or k8s.io/."""
RESERVED_DOMAINS = ("kubernetes.io/", "k8s.io/")
MESH_PREFIXES = ("sidecar.istio.io/", "linkerd.io/", "config.linkerd.io/")
"""Annotations that switch a service mesh's proxy (and its mTLS) on or off: the platform's."""
IDENTITY_PREFIXES = ("azure.workload.identity/",)
"""Pod labels and annotations a cloud's workload identity acts on: set from spec.identity."""
SYSTEM_PRIORITY = "system-"

Key = Annotated[str, pydantic.Field(min_length=1, max_length=253, pattern=QUALIFIED_NAME)]
MAX_KEY = 253


def _check_key(key: str) -> str:
    if not 0 < len(key) <= MAX_KEY or not re.fullmatch(QUALIFIED_NAME, key):
        msg = f"{key!r} is not a label key: an optional DNS prefix and '/', then a name"
        raise ValueError(msg)
    return key


MapKey = Annotated[str, pydantic.AfterValidator(_check_key)]
"""A map key: a structural schema cannot hold a pattern for keys, so the models check it."""


LabelValue = Annotated[str, pydantic.Field(max_length=63, pattern=LABEL_VALUE)]
DnsSubdomain = Annotated[
    str,
    pydantic.Field(
        min_length=1, max_length=253,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
    ),
]  # fmt: skip


def reserved(key: str, annotation: bool = False, pod: bool = True) -> bool:
    """Whether a key is the operator's, Kubernetes', the mesh's or (on pods) a cloud's.

    ``pod=False`` for a taint's key: workload identity prefixes are pod keys only.
    """
    return (
        key.startswith(RESERVED_PREFIXES)
        or any(domain in key for domain in RESERVED_DOMAINS)
        or (pod and key.startswith(IDENTITY_PREFIXES))
        or (annotation and key.startswith(MESH_PREFIXES))
    )


class PodMetadata(types.Model):
    """Labels and annotations added to the pod template."""

    model_config = pydantic.ConfigDict(
        json_schema_extra=rules.schema_extra(rules.RESERVED_LABELS, rules.RESERVED_ANNOTATIONS)
    )

    labels: Annotated[dict[MapKey, LabelValue], pydantic.Field(max_length=16)] = pydantic.Field(
        default_factory=dict
    )
    """Pod labels (for example team, cost-centre, data-class). Keys under
    finance.compliance.dev/, or containing kubernetes.io/ or k8s.io/, are reserved (PLC-1)."""
    annotations: Annotated[
        dict[MapKey, Annotated[str, pydantic.Field(max_length=1024)]], pydantic.Field(max_length=16)
    ] = pydantic.Field(default_factory=dict)
    """Pod annotations (for example prometheus.io/scrape). Reserved as labels, plus a service
    mesh's injection switches (sidecar.istio.io/, linkerd.io/) (PLC-1). Values are read by
    the SEC-1 detectors."""

    @pydantic.model_validator(mode="after")
    def _reserved(self) -> PodMetadata:
        if any(reserved(key) for key in self.labels):
            raise rules.RESERVED_LABELS.error()
        if any(reserved(key, annotation=True) for key in self.annotations):
            raise rules.RESERVED_ANNOTATIONS.error()
        return self


class TolerationOperator(enum.StrEnum):
    """How a toleration matches a taint's value."""

    EQUAL = "Equal"
    EXISTS = "Exists"


class TaintEffect(enum.StrEnum):
    """Which taint effect a toleration tolerates."""

    NO_SCHEDULE = "NoSchedule"
    PREFER_NO_SCHEDULE = "PreferNoSchedule"
    NO_EXECUTE = "NoExecute"


class Toleration(types.Model):
    """Tolerate one taint of a node pool; never every taint, never Kubernetes' own."""

    model_config = pydantic.ConfigDict(
        json_schema_extra=rules.schema_extra(rules.TOLERATION_KEY, rules.TOLERATION_VALUE)
    )

    key: Key
    """The taint's key (required: a toleration of every taint is refused)."""
    operator: TolerationOperator = TolerationOperator.EQUAL
    """Equal matches the value; Exists any value."""
    value: LabelValue = ""
    """The taint's value (Equal only)."""
    effect: TaintEffect | None = None
    """The effect tolerated; unset tolerates every effect of the key."""
    toleration_seconds: Annotated[types.Int, pydantic.Field(ge=0, le=86400)] | None = None
    """For NoExecute: how long the pod stays after the taint appears."""

    @pydantic.model_validator(mode="after")
    def _rules(self) -> Toleration:
        if reserved(self.key, pod=False):
            raise rules.TOLERATION_KEY.error()
        if self.operator is TolerationOperator.EXISTS and self.value:
            raise rules.TOLERATION_VALUE.error()
        return self


class Placement(types.Model):
    """Where and how the pods run; the cluster policy may require or bound each (PLC-1)."""

    model_config = pydantic.ConfigDict(json_schema_extra=rules.schema_extra(rules.SYSTEM_PRIORITY))

    node_selector: Annotated[dict[MapKey, LabelValue], pydantic.Field(max_length=16)] = (
        pydantic.Field(default_factory=dict)
    )
    """Node labels the pods require (a dedicated pool, such as the cardholder-data nodes)."""
    tolerations: Annotated[tuple[Toleration, ...], pydantic.Field(max_length=16)] = ()
    """Taints of that pool the pods tolerate."""
    priority_class_name: DnsSubdomain | None = None
    """PriorityClass of the pods; the system-* classes are refused."""
    runtime_class_name: DnsSubdomain | None = None
    """RuntimeClass of the pods (a sandboxed runtime such as gVisor or Kata)."""

    @pydantic.model_validator(mode="after")
    def _priority(self) -> Placement:
        if (self.priority_class_name or "").startswith(SYSTEM_PRIORITY):
            raise rules.SYSTEM_PRIORITY.error()
        return self


class PreStop(types.Model):
    """What runs before a pod is stopped: a pause, or a command; at most one."""

    model_config = pydantic.ConfigDict(json_schema_extra=rules.schema_extra(rules.PRESTOP_ONE))

    sleep_seconds: Annotated[types.Int, pydantic.Field(ge=1, le=600)] | None = None
    """Seconds to wait (load balancers stop sending traffic meanwhile)."""
    exec_: (
        Annotated[tuple[types.Str1024, ...], pydantic.Field(min_length=1, max_length=16)] | None
    ) = pydantic.Field(default=None, alias="exec")
    """A command to run (drain, deregister); read by the SEC-1 detectors like spec.command."""

    @pydantic.model_validator(mode="after")
    def _one(self) -> PreStop:
        if (self.sleep_seconds is None) == (self.exec_ is None):
            raise rules.PRESTOP_ONE.error()
        return self


class Shutdown(types.Model):
    """How the pods stop."""

    termination_grace_period_seconds: Annotated[types.Int, pydantic.Field(ge=0, le=3600)] = 30
    """Seconds between the stop signal and the kill."""
    pre_stop: PreStop | None = None
    """What runs before the stop signal."""
