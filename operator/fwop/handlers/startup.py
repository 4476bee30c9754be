"""Start-up and clean-up: connect, start the work queue, the health server and the webhook.

The webhook serves TLS from mounted certificate files only; when they are missing the
operator still reconciles, /readyz says why it is not ready, and the API server (with
failurePolicy: Fail) refuses FinancialWorkload writes rather than admit them unchecked.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ssl
from collections.abc import AsyncIterator
from typing import Any

import kopf

from fwop import controller, evidence, health, leader, logs, memory, webhooktls
from fwop.handlers import runtime
from fwop.kube import api as kube_api
from fwop.kube import events

_log = logs.get(__name__)
WEBHOOK_ID = "validate-financialworkload"
_tasks: list[asyncio.Task[None]] = []
_runners: list[Any] = []


@kopf.on.startup()
async def start(settings: kopf.OperatorSettings, **_: Any) -> None:
    """Connect, start the reconcile workers, the health endpoints and the webhook server."""
    opts = runtime.OPTIONS
    memory.start()
    if opts.webhook_enabled:  # not ready before the webhook answers, whatever else is up
        missing = _missing_certificates()
        runtime.HEALTH.fail("webhook", _no_certificates(missing) if missing else "starting")
    settings.posting.enabled = False  # the operator posts its own Events (kube/events.py)
    settings.watching.server_timeout = 300
    if opts.http_port:
        _runners.append(await health.serve(runtime.HEALTH, opts.http_addr, opts.http_port))
    api = kube_api.Api(kube_api.connect(opts.identity, opts.api_connections), opts.api_connections)
    ctl = controller.Controller(
        api,
        events.Recorder(api),
        resync_seconds=opts.resync_seconds,
        workers=opts.workers,
        trail=evidence.Trail(controller.utc_now, opts.evidence_file, replica=opts.identity),
    )
    memory.hold(ctl.holders)
    election = (
        leader.Election(
            api, opts.lease_namespace, opts.lease, opts.identity, duration=opts.lease_duration
        )
        if opts.lease
        else None
    )
    # Admission works from here on (it reads the policy fresh); the first reconcile waits for
    # the policy and, as leader, for a full list of the cluster.
    runtime.set_controller(ctl)
    await ctl.start(election)
    if opts.webhook_enabled:
        _configure_webhook(settings)
    # Everything loaded so far lives as long as the process: keep it out of the cyclic
    # garbage collector, whose full passes otherwise stall the event loop (and admission).
    gc.freeze()
    _log.info(
        "watching",
        resource="financialworkloads.finance.compliance.dev",
        webhook=opts.webhook_enabled,
        http_port=opts.http_port,
        lease=opts.lease,
        identity=opts.identity,
    )


def _missing_certificates() -> list[str]:
    opts = runtime.OPTIONS
    cert, key = opts.webhook_cert_dir / "tls.crt", opts.webhook_cert_dir / "tls.key"
    return [str(p) for p in (cert, key) if not p.is_file()]


def _no_certificates(missing: list[str]) -> str:
    return f"certificate files not found: {', '.join(missing)}; admission is refused"


def _configure_webhook(settings: kopf.OperatorSettings) -> None:
    opts = runtime.OPTIONS
    cert, key = opts.webhook_cert_dir / "tls.crt", opts.webhook_cert_dir / "tls.key"
    missing = _missing_certificates()
    if missing:
        why = _no_certificates(missing)
        runtime.HEALTH.fail("webhook", why)
        _log.error("webhook not started", reason=why)
        settings.admission.server = _NotServing()
        return
    try:
        tls = webhooktls.ReloadingContext(cert, key)  # renewals load without a restart
    except (OSError, ssl.SSLError) as exc:
        why = f"certificate {cert} and key {key} do not load ({exc}); admission is refused"
        runtime.HEALTH.fail("webhook", why)
        _log.error("webhook not started", reason=why)
        settings.admission.server = _NotServing()
        return
    runtime.HEALTH.fail("webhook", "starting")
    settings.admission.server = kopf.WebhookServer(
        addr=opts.webhook_addr,
        port=opts.webhook_port,
        context=tls.context,
        certfile=str(cert),
        pkeyfile=str(key),
    )
    _tasks.append(asyncio.create_task(_probe_webhook(), name="fwop-webhook-probe"))
    _tasks.append(asyncio.create_task(tls.watch(), name="fwop-webhook-tls"))


class _NotServing:
    """Stands in for the webhook server when it cannot start.

    kopf keeps running the reconciles, nothing listens, and the API server's
    failurePolicy Fail refuses FinancialWorkload writes.
    """

    async def __call__(self, fn: Any) -> AsyncIterator[Any]:
        await asyncio.Event().wait()  # never serves
        yield {}  # pragma: no cover - unreachable


async def _probe_webhook() -> None:
    """Readiness follows whether the webhook answers TLS on its port."""
    opts = runtime.OPTIONS
    host = "127.0.0.1" if opts.webhook_addr in ("0.0.0.0", "") else opts.webhook_addr
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only liveness of the listener is probed here
    while True:
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, opts.webhook_port, ssl=context), 2
            )
            writer.close()
            runtime.HEALTH.ok("webhook")
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            runtime.HEALTH.fail("webhook", f"not answering on port {opts.webhook_port}: {exc}")
        await asyncio.sleep(2)


@kopf.on.cleanup()
async def stop(**_: Any) -> None:
    """Stop the workers, the probes and the health server."""
    for task in _tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    _tasks.clear()
    if runtime.started():
        ctl = runtime.current()
        runtime.set_controller(None)
        await ctl.stop()
    for runner in _runners:
        await runner.cleanup()
    _runners.clear()
