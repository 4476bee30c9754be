"""A workload that runs to completion on a schedule instead of serving: a CronJob.

The pods are the same hardened pods as a service's (the same template, with restartPolicy
Never), behind the same ServiceAccount, NetworkPolicies and secrets; what differs is the
controller (a CronJob, not a Deployment) and what does not apply to batch work (ports and a
Service, an autoscaler, a rollout, a PodDisruptionBudget, AVL-1's replica count). Must
not: import above the api layer, or know how it is rendered.
"""

from __future__ import annotations

import enum
import zoneinfo
from typing import Annotated

import pydantic

from fwop.api import types

_CRON_FIELD = r"[0-9A-Za-z*?/,-]+"
CRON_PATTERN = (
    rf"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)"
    rf"|{_CRON_FIELD}( {_CRON_FIELD}){{4}})$"
)
"""Five space-separated fields or a predefined schedule; never CRON_TZ= or TZ= (the time
zone is spec.job.timeZone, which Kubernetes validates)."""
TIME_ZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"
MAX_DEADLINE = 7 * 24 * 3600
MAX_TTL = 30 * 24 * 3600


class ConcurrencyPolicy(enum.StrEnum):
    """What happens when a run is due while the previous one still runs."""

    FORBID = "Forbid"
    """Skip the new run (the default: a nightly batch never runs twice at once)."""
    REPLACE = "Replace"
    """Stop the running one and start the new one."""
    ALLOW = "Allow"
    """Run both."""


def _time_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"{value!r} is not a time zone of the IANA database (Europe/London, UTC)"
        raise ValueError(msg) from exc
    return value


class Job(types.Model):
    """A scheduled job: a CronJob whose Jobs run the hardened pods to completion."""

    schedule: Annotated[
        str,
        pydantic.Field(
            min_length=1,
            max_length=64,
            pattern=CRON_PATTERN,
        ),
    ]
    """When it runs, in cron syntax (0 2 * * *) or @daily, @hourly...; the time zone is
    timeZone, never a CRON_TZ= prefix."""
    time_zone: Annotated[
        str | None,
        pydantic.Field(max_length=64, pattern=TIME_ZONE_PATTERN),
        pydantic.AfterValidator(_time_zone),
    ] = None
    """IANA time zone of the schedule (Europe/London); unset: the controller manager's."""
    concurrency_policy: ConcurrencyPolicy = ConcurrencyPolicy.FORBID
    """Forbid (default), Replace or Allow a run while the previous one still runs."""
    starting_deadline_seconds: (
        Annotated[types.Int, pydantic.Field(ge=10, le=MAX_DEADLINE)] | None
    ) = None
    """A run missed by more than this many seconds is skipped, not started late."""
    suspend: types.Bool = False
    """Pause the schedule (runs in progress finish)."""
    successful_jobs_history_limit: Annotated[types.Int, pydantic.Field(ge=0, le=10)] = 3
    """Finished runs kept, with their pods and logs."""
    failed_jobs_history_limit: Annotated[types.Int, pydantic.Field(ge=0, le=10)] = 3
    """Failed runs kept, with their pods and logs, for the investigation."""
    completions: Annotated[types.Int, pydantic.Field(ge=1, le=100)] = 1
    """Pods that must succeed for a run to succeed."""
    parallelism: Annotated[types.Int, pydantic.Field(ge=1, le=100)] = 1
    """Pods of a run at once."""
    backoff_limit: Annotated[types.Int, pydantic.Field(ge=0, le=100)] = 3
    """Failed pods before a run counts as failed."""
    active_deadline_seconds: Annotated[types.Int, pydantic.Field(ge=1, le=MAX_DEADLINE)] | None = (
        None
    )
    """A run still going after this many seconds is stopped and fails."""
