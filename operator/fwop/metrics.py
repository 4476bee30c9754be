"""Prometheus metrics of the operator, served on /metrics by fwop.health.

Names follow Prometheus conventions (fwop_ prefix, _total for counters, base units).
Must not: decide anything; callers record what happened.
"""

from __future__ import annotations

import prometheus_client

REGISTRY = prometheus_client.CollectorRegistry(auto_describe=True)

RECONCILES = prometheus_client.Counter(
    "fwop_reconciles_total",
    "Reconcile passes by result (ok, retry, invalid, crash: an unexpected exception).",
    ["result"],
    registry=REGISTRY,
)
RECONCILE_SECONDS = prometheus_client.Histogram(
    "fwop_reconcile_duration_seconds",
    "Time of one reconcile pass.",
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
CHILD_WRITES = prometheus_client.Counter(
    "fwop_child_writes_total",
    "Writes to children by kind and reason (create, update, heal, prune).",
    ["kind", "reason"],
    registry=REGISTRY,
)
DRIFT = prometheus_client.Counter(
    "fwop_drift_total",
    "Drifted fields found, by child kind and outcome (healed, reported).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
ADMISSION = prometheus_client.Counter(
    "fwop_admission_reviews_total",
    "Admission reviews answered, by verdict (allowed, denied).",
    ["verdict"],
    registry=REGISTRY,
)
ADMISSION_SECONDS = prometheus_client.Histogram(
    "fwop_admission_duration_seconds",
    "Time to judge one admission review.",
    registry=REGISTRY,
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1),
)
NON_COMPLIANT = prometheus_client.Gauge(
    "fwop_policy_non_compliant_workloads",
    "FinancialWorkloads that break the cluster policy.",
    registry=REGISTRY,
)


def exposition() -> bytes:
    """The current metrics in the Prometheus text format."""
    return prometheus_client.generate_latest(REGISTRY)
