"""No event lost: a child deleted while the operator's watch was broken is still recreated.

A watch that breaks and re-lists brings no DELETED event for what vanished in the gap; the
periodic resync (a fresh list of everything the store holds) notices. Three tests:

- the resync itself, deterministically: the operator's controller in this process, with
  no watch at all (the gap), against the real API server: a child deleted behind its back
  is found gone by the resync and recreated by the reconcile;
- end to end: the operator frozen (SIGSTOP), the API server restarted (every watch
  breaks), a child deleted, the operator thawed: the child comes back;
- a resync over unchanged workloads writes nothing.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import workloads as wl
from conftest import LOCALCLUSTER, Kube, Operator
from kubernetes import client, config
from support import eventually

from fwop import controller
from fwop.kube import api as kube_api
from fwop.kube import events

pytestmark = pytest.mark.cluster

RESYNC = "3"


@pytest.fixture
def resyncing(kube: Kube, operator: Operator) -> Iterator[Operator]:
    """The session's operator, restarted with a short resync period."""
    if not kube.local or operator.proc is None:
        pytest.skip("restarts the local API server and signals the operator process")
    operator.extra_args = ["--resync-seconds", RESYNC]
    operator.restart()
    operator.wait_ready()
    try:
        yield operator
    finally:
        operator.extra_args = []
        operator.restart()
        operator.wait_ready()


def _restart_api_server(kube: Kube) -> None:
    subprocess.run(
        [sys.executable, str(LOCALCLUSTER), "restart", "--component", "kube-apiserver",
         "--state-dir", str(kube.kubeconfig.parent)],
        check=True, timeout=180,
    )  # fmt: skip


def _resyncs(operator: Operator) -> list[dict[str, object]]:
    lines = operator.log_path.read_text().splitlines()
    return [json.loads(line) for line in lines if '"event": "resync"' in line]


async def test_the_resync_finds_what_a_watch_missed(
    kube: Kube, operator: Operator, namespace: str
) -> None:
    applied = wl.apply(kube, wl.manifest("gap", namespace, wl.spec()), check=False)
    assert applied.returncode == 0, applied.stderr
    wl.wait_ready(kube, namespace, "gap")
    operator.stop()  # nobody watches from here: the gap
    api = kube_api.Api(config.new_client_from_config(config_file=str(operator.kubeconfig)))
    ctl = controller.Controller(api, events.Recorder(api))
    try:
        await ctl.resync()  # the store as a fresh start sees it
        net = client.NetworkingV1Api(kube.api)
        net.delete_namespaced_network_policy("gap-default-deny", namespace)
        assert ("NetworkPolicy", namespace, "gap-default-deny") in ctl.store.children
        await ctl.resync()
        assert ("NetworkPolicy", namespace, "gap-default-deny") not in ctl.store.children
        assert await ctl.reconcile((namespace, "gap")) is None
        names = {p.metadata.name for p in net.list_namespaced_network_policy(namespace).items}
        assert "gap-default-deny" in names
        [entry] = [e for e in wl.get(kube, namespace, "gap")["status"]["drift"]
                   if e["kind"] == "NetworkPolicy"]  # fmt: skip
        assert (entry["field"], entry["actual"]) == ("(object)", "deleted")
        assert entry["healedAt"]
    finally:
        await ctl.events.drain()
        api.close()
        operator.start()
        operator.wait_ready()


def test_a_child_deleted_in_a_watch_gap_is_recreated(
    kube: Kube, resyncing: Operator, namespace: str
) -> None:
    operator = resyncing
    result = wl.apply(kube, wl.manifest("gap", namespace, wl.spec()), check=False)
    assert result.returncode == 0, result.stderr
    wl.wait_ready(kube, namespace, "gap")
    net = client.NetworkingV1Api(kube.api)
    assert operator.proc is not None
    operator.proc.send_signal(signal.SIGSTOP)
    try:
        _restart_api_server(kube)
        net.delete_namespaced_network_policy("gap-default-deny", namespace)
    finally:
        operator.proc.send_signal(signal.SIGCONT)

    def recreated() -> bool:
        names = {p.metadata.name for p in net.list_namespaced_network_policy(namespace).items}
        return "gap-default-deny" in names

    eventually(recreated, 60, "the deleted NetworkPolicy recreated")


def test_a_resync_over_unchanged_workloads_writes_nothing(
    kube: Kube, resyncing: Operator, namespace: str
) -> None:
    result = wl.apply(kube, wl.manifest("calm", namespace, wl.spec()), check=False)
    assert result.returncode == 0, result.stderr
    wl.wait_ready(kube, namespace, "calm")
    time.sleep(2)  # the rollout's last status writes
    audit = kube.kubeconfig.parent / "audit" / "audit.log"
    mark = audit.stat().st_size
    before = len(_resyncs(resyncing))
    eventually(lambda: len(_resyncs(resyncing)) >= before + 3, 30, "three resyncs")
    with audit.open() as log:
        log.seek(mark)
        writes = [json.loads(line) for line in log]
    mine = [
        (w["verb"], w["objectRef"].get("resource"))
        for w in writes
        if w.get("userAgent", "").startswith("fwop/")
        and w["objectRef"].get("namespace") == namespace
    ]
    assert mine == []


def test_no_handler_touches_the_event_loop_from_another_thread(
    kube: Kube, operator: Operator, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """asyncio debug mode refuses a non-thread-safe call (a sync handler in kopf's thread
    pool touching the queue would raise "Non-thread-safe operation"); none happens."""
    if operator.proc is None:
        pytest.skip("restarts the operator process")
    monkeypatch.setenv("PYTHONASYNCIODEBUG", "1")
    start = operator.log_path.stat().st_size
    operator.restart()
    operator.wait_ready()
    try:
        wl.apply(kube, wl.manifest("dbg", namespace, wl.spec()))
        wl.wait_ready(kube, namespace, "dbg")
        kube.kubectl("scale", "deployment/dbg", "--replicas=1", "-n", namespace)
        apps = client.AppsV1Api(kube.api)
        eventually(lambda: apps.read_namespaced_deployment("dbg", namespace).spec.replicas == 2, 30)

        def logged() -> str | None:
            # The heal's write can land before its log line: read until the line is there.
            with operator.log_path.open() as log:
                log.seek(start)
                found = log.read()
            return found if '"event": "drift"' in found else None

        text = eventually(logged, 15, "the heal's drift line in the log (under debug mode)")
        assert "Non-thread-safe" not in text
        assert "different loop" not in text
    finally:
        monkeypatch.delenv("PYTHONASYNCIODEBUG")
        operator.restart()
        operator.wait_ready()
