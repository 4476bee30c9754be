"""How many pods run and how they are replaced: an autoscaler, a rollout strategy.

Must not: import above the api layer, or know how they are rendered.
"""

from __future__ import annotations

from typing import Annotated

import pydantic

from fwop.api import rules, types

MAX_REPLICAS = 1000


class Autoscaling(types.Model):
    """A HorizontalPodAutoscaler (autoscaling/v2) that owns the replica count."""

    model_config = pydantic.ConfigDict(
        json_schema_extra=rules.schema_extra(rules.AUTOSCALING_TARGET, rules.AUTOSCALING_RANGE)
    )

    min_replicas: Annotated[types.Int, pydantic.Field(ge=1, le=MAX_REPLICAS)] = 1
    """Fewest pods; at least 2 under profile pci (AVL-1). The Deployment starts with this
    many."""
    max_replicas: Annotated[types.Int, pydantic.Field(ge=1, le=MAX_REPLICAS)]
    """Most pods."""
    target_cpu_utilization: Annotated[types.Int, pydantic.Field(ge=1, le=1000)] | None = (
        pydantic.Field(default=None, alias="targetCPUUtilization")
    )
    """Average CPU use the autoscaler aims at, in percent of the CPU request."""
    target_memory_utilization: Annotated[types.Int, pydantic.Field(ge=1, le=1000)] | None = None
    """Average memory use the autoscaler aims at, in percent of the memory request."""
    scale_down_stabilization_seconds: Annotated[types.Int, pydantic.Field(ge=0, le=3600)] | None = (
        None
    )
    """Seconds of lower recommendations before scaling down (Kubernetes' default: 300)."""

    @pydantic.model_validator(mode="after")
    def _rules(self) -> Autoscaling:
        if self.target_cpu_utilization is None and self.target_memory_utilization is None:
            raise rules.AUTOSCALING_TARGET.error()
        if self.min_replicas > self.max_replicas:
            raise rules.AUTOSCALING_RANGE.error()
        return self


class Rollout(types.Model):
    """How a new version replaces the pods (a RollingUpdate strategy)."""

    model_config = pydantic.ConfigDict(json_schema_extra=rules.schema_extra(rules.ROLLOUT_PROGRESS))

    max_surge: types.CountOrPercent | None = None
    """Pods above the desired count during a rollout (Kubernetes' default: 25%)."""
    max_unavailable: types.CountOrPercent | None = None
    """Pods below the desired count during a rollout (Kubernetes' default: 25%)."""

    @pydantic.model_validator(mode="after")
    def _progress(self) -> Rollout:
        if self.max_surge in (0, "0%") and self.max_unavailable in (0, "0%"):
            raise rules.ROLLOUT_PROGRESS.error()
        return self
