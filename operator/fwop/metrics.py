"""Prometheus metrics of the operator, served on /metrics by fwop.health.

Names follow Prometheus conventions (fwop_ prefix, _total for counters, base units).
Must not: decide anything; callers record what happened.
"""

from __future__ import annotations

import prometheus_client

from fwop import __version__

REGISTRY = prometheus_client.CollectorRegistry(auto_describe=True)
prometheus_client.ProcessCollector(registry=REGISTRY)  # process_* (CPU, RSS, open fds)

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
STATUS_WRITE_CHANGES = prometheus_client.Counter(
    "fwop_status_write_changes",
    "Workload status writes, by what of the status each changed (a write that changes"
    " several parts counts once under each)",
    ["changed"],
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

BUILD = prometheus_client.Info("fwop_build", "The operator's version.", registry=REGISTRY)
BUILD.info({"version": __version__})
LEADER = prometheus_client.Gauge(
    "fwop_leader",
    "1 while this replica leads (reconciles, heals, writes verdicts); 0 on a standby.",
    registry=REGISTRY,
)
WORKLOADS = prometheus_client.Gauge(
    "fwop_workload_compliance",
    "FinancialWorkloads by namespace, profile and state: compliant, non_compliant (a control"
    " fails) or drifted (DRF-1 fails: drift found and not healed). Only the leader exports"
    ' them; namespaces beyond MAX_NAMESPACES are summed under namespace="_other".',
    ["namespace", "profile", "state"],
    registry=REGISTRY,
)
CONTROL_FAILING = prometheus_client.Gauge(
    "fwop_control_failing_workloads",
    "FinancialWorkloads failing each control (leader only).",
    ["control"],
    registry=REGISTRY,
)
HEAL_SECONDS = prometheus_client.Histogram(
    "fwop_drift_heal_seconds",
    "From drift detected to healed, per drifted field (0 when found and healed in one pass).",
    registry=REGISTRY,
    buckets=(0.5, 1, 5, 30, 60, 300, 900, 3600, 14400, 86400),
)
REPORTS_PENDING = prometheus_client.Gauge(
    "fwop_policyreports_pending",
    "PolicyReports whose verdicts changed and that the publisher has not written yet.",
    registry=REGISTRY,
)
MAX_NAMESPACES = 500
"""Distinct namespace label values of fwop_workload_compliance (bounds its series)."""


def exposition() -> bytes:
    """The current metrics in the Prometheus text format."""
    return prometheus_client.generate_latest(REGISTRY)
