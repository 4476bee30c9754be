"""A workload with spec.job: a CronJob around the same hardened pods, and nothing of a service."""

from __future__ import annotations

from typing import Any

from fwop.api import spec
from fwop.reconcile import status
from fwop.render import workload

from . import pss
from .conftest import OWNER, spec_data

JOB = {
    "schedule": "0 2 * * *",
    "timeZone": "Europe/London",
    "activeDeadlineSeconds": 10800,
    "backoffLimit": 2,
}


def children(**fields: Any) -> dict[str, dict[str, Any]]:
    parsed = spec.FinancialWorkloadSpec.model_validate(spec_data(**fields))
    rendered = workload.render_all("team", "nightly", parsed, OWNER)
    return {child["kind"]: child for child in rendered}


def test_a_scheduled_job_renders_a_cronjob_instead_of_a_deployment() -> None:
    found = children(profile="pci", job=JOB)
    assert "Deployment" not in found
    assert "PodDisruptionBudget" not in found  # AVL-1 is a service's
    cron = found["CronJob"]["spec"]
    assert cron["schedule"] == "0 2 * * *"
    assert cron["timeZone"] == "Europe/London"
    assert cron["concurrencyPolicy"] == "Forbid"
    assert (cron["successfulJobsHistoryLimit"], cron["failedJobsHistoryLimit"]) == (3, 3)
    run = cron["jobTemplate"]["spec"]
    assert (run["completions"], run["parallelism"], run["backoffLimit"]) == (1, 1, 2)
    assert run["activeDeadlineSeconds"] == 10800
    template = run["template"]
    assert template["spec"]["restartPolicy"] == "Never"
    assert template["spec"]["serviceAccountName"] == "nightly"
    assert template["metadata"]["labels"]["finance.compliance.dev/workload"] == "nightly"
    assert pss.template(template) == []
    controls = found["CronJob"]["metadata"]["annotations"]["finance.compliance.dev/controls"]
    assert "AVL-1" not in controls
    assert "POD-1" in controls


def test_the_fence_identity_and_secrets_are_a_services() -> None:
    found = children(job=JOB, permissions=[{"apiGroups": [""], "resources": ["configmaps"],
                                            "verbs": ["get"]}])  # fmt: skip
    assert {"ServiceAccount", "Role", "RoleBinding", "NetworkPolicy", "CronJob"} <= set(found)
    assert "Service" not in found


def test_ready_says_the_schedule_and_whether_it_is_paused() -> None:
    cron = {"kind": "CronJob", "spec": {"schedule": "0 2 * * *", "timeZone": "Europe/London"}}
    ready = status.scheduled(cron)
    assert (ready.status, ready.reason) == ("True", "Scheduled")
    assert ready.message == "CronJob runs on schedule 0 2 * * * (Europe/London)"
    cron["spec"]["suspend"] = True
    assert status.scheduled(cron).reason == "Suspended"
    outcome = status.Outcome(generation=1, cronjob=cron)
    assert status.decide(outcome)[0].reason == "Suspended"
