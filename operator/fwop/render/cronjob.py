"""Render the CronJob of a workload that runs on a schedule (spec.job).

Its Jobs run the same hardened pod template as a Deployment's (POD-*, RBAC-1, SEC-1,
RES-1), with restartPolicy Never so that each failed attempt keeps its own pod and logs for
the investigation. Must not: render anything for a long-running workload, or fields
spec.job does not declare.
"""

from __future__ import annotations

from fwop.render import deployment, meta, pod

RESTART_POLICY = "Never"


def render(ctx: meta.Context) -> list[meta.Manifest]:
    """Return the CronJob, or nothing for a workload without spec.job."""
    job = ctx.spec.job
    if job is None:
        return []
    template = pod.template(ctx)
    template["spec"]["restartPolicy"] = RESTART_POLICY
    run: meta.Manifest = {
        "completions": job.completions,
        "parallelism": job.parallelism,
        "backoffLimit": job.backoff_limit,
    }
    if job.active_deadline_seconds is not None:
        run["activeDeadlineSeconds"] = job.active_deadline_seconds
    run["template"] = template
    body: meta.Manifest = {"schedule": job.schedule}
    if job.time_zone is not None:
        body["timeZone"] = job.time_zone
    body["concurrencyPolicy"] = str(job.concurrency_policy)
    if job.starting_deadline_seconds is not None:
        body["startingDeadlineSeconds"] = job.starting_deadline_seconds
    body |= {
        "suspend": job.suspend,
        "successfulJobsHistoryLimit": job.successful_jobs_history_limit,
        "failedJobsHistoryLimit": job.failed_jobs_history_limit,
        "jobTemplate": {"metadata": {"labels": meta.labels(ctx.name)}, "spec": run},
    }
    controls = deployment.controls(ctx)
    return [meta.manifest("batch/v1", "CronJob", meta.metadata(ctx, ctx.name, controls), spec=body)]
