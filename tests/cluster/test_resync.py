"""No event lost: a child deleted while the operator's watch was broken is still recreated.

The operator is frozen (SIGSTOP), the API server restarted (every watch breaks), a child
deleted, and the operator thawed: its watches re-list, and a re-list brings no DELETED
event for what vanished in the gap. The periodic resync (a fresh list of everything the
store holds, here every 3 s) notices and the reconcile recreates the child. A resync over
unchanged workloads writes nothing.
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
from kubernetes import client
from support import eventually

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


def test_a_child_deleted_in_a_watch_gap_is_recreated(
    kube: Kube, resyncing: Operator, namespace: str
) -> None:
    operator = resyncing
    wl.apply(kube, wl.manifest("gap", namespace, wl.spec()))
    wl.wait_ready(kube, namespace, "gap")
    net = client.NetworkingV1Api(kube.api)
    assert operator.proc is not None
    operator.proc.send_signal(signal.SIGSTOP)
    try:
        _restart_api_server(kube)
        net.delete_namespaced_network_policy("gap-default-deny", namespace)
        seen_before = len(_resyncs(operator))
    finally:
        operator.proc.send_signal(signal.SIGCONT)

    def recreated() -> bool:
        names = {p.metadata.name for p in net.list_namespaced_network_policy(namespace).items}
        return "gap-default-deny" in names

    eventually(recreated, 60, "the deleted NetworkPolicy recreated")
    gone = f"NetworkPolicy/{namespace}/gap-default-deny"
    caught = [r for r in _resyncs(operator)[seen_before:] if gone in str(r["vanished"])]
    assert caught, "the resync, not a watch event, noticed the deletion"


def test_a_resync_over_unchanged_workloads_writes_nothing(
    kube: Kube, resyncing: Operator, namespace: str
) -> None:
    wl.apply(kube, wl.manifest("calm", namespace, wl.spec()))
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
