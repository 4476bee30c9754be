"""High availability: two operator instances and leader election, one writer at a time.

While the leader lives, the standby writes nothing (the audit log shows no write by its user
agent), though it watches and serves the webhook. The leader is then killed with SIGKILL (no
goodbye, its Lease just stops being renewed); a change made while it is gone is reconciled
by the standby once the Lease expires. The takeover time (SIGKILL to the change reconciled)
is measured and printed.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import webhook
import workloads as wl
import yaml
from conftest import Kube, Operator
from kubernetes import client
from support import eventually

pytestmark = pytest.mark.cluster

LIFETIME = 5  # seconds: the Lease duration (the takeover bound)


def _peer(kube: Kube, operator: Operator, tmp: Path, name: str) -> Operator:
    peer = Operator(kube, tmp / name / "operator.log", kubeconfig=operator.kubeconfig)
    peer.log_path.parent.mkdir(parents=True)
    peer.extra_args = ["--lease", "fwop", "--lease-duration", str(LIFETIME), "--identity", name]
    return peer


def _leading(peer: Operator) -> bool:
    return '"event": "leading"' in peer.log_path.read_text()


@pytest.fixture
def pair(kube: Kube, operator: Operator, tmp_path: Path) -> Iterator[tuple[Operator, Operator]]:
    """A leader and a standby in place of the session's operator."""
    if not kube.local:
        pytest.skip("runs operator processes next to the local cluster")
    operator.stop()
    active = _peer(kube, operator, tmp_path, "active")
    standby = _peer(kube, operator, tmp_path, "standby")
    active.start()
    eventually(lambda: _leading(active), 30, "the first replica leads")
    standby.start()
    standby.wait_ready()
    # The API server calls the standby's webhook: it must judge correctly while paused.
    register(kube, standby)
    try:
        yield active, standby
    finally:
        standby.stop()
        active.stop()
        operator.start()
        operator.wait_ready()
        register(kube, operator)


def register(kube: Kube, target: Operator) -> None:
    ca = (target.cert_dir / "tls.crt").read_bytes()
    kube.kubectl(
        "apply", "--server-side", "--force-conflicts", "-f", "-",
        stdin=yaml.safe_dump(webhook.registration(target.webhook_port, ca)),
    )  # fmt: skip


def test_standby_takes_over_after_sigkill(
    kube: Kube, pair: tuple[Operator, Operator], namespace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    active, standby = pair
    audit = kube.kubeconfig.parent / "audit" / "audit.log"
    mark = audit.stat().st_size
    body = wl.spec(replicas=2)
    wl.apply(kube, wl.manifest("ha", namespace, body))
    wl.wait_ready(kube, namespace, "ha")
    kube.kubectl("scale", "deployment/ha", "--replicas=1", "-n", namespace)  # drift
    apps = client.AppsV1Api(kube.api)
    eventually(lambda: apps.read_namespaced_deployment("ha", namespace).spec.replicas == 2, 30)
    time.sleep(2)
    with audit.open() as log:
        log.seek(mark)
        agents = [json.loads(line).get("userAgent", "") for line in log]
    assert any(agent.endswith(" active") for agent in agents)  # the leader wrote
    assert not any(agent.endswith(" standby") for agent in agents)  # the standby never
    assert not _leading(standby)
    standby_lines_before = len(standby.log_path.read_text().splitlines())
    assert active.proc is not None
    active.proc.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    active.proc.wait()
    active.proc = None
    # A change during the failover, admitted by the standby's webhook.
    body["replicas"] = 3
    wl.apply(kube, wl.manifest("ha", namespace, body))
    eventually(
        lambda: apps.read_namespaced_deployment("ha", namespace).spec.replicas == 3,
        LIFETIME * 6, "the standby reconciled the change",
    )  # fmt: skip
    takeover = time.monotonic() - killed
    wl.wait_ready(kube, namespace, "ha")
    # The standby did it: its log, after the kill, records the applied change.
    after_kill = standby.log_path.read_text().splitlines()[standby_lines_before:]
    assert any('"event": "leading"' in line for line in after_kill)
    assert any('"child applied"' in line and '"name": "ha"' in line for line in after_kill)
    with capsys.disabled():  # the measured figure belongs in the test output
        print(  # noqa: T201
            f"\nHA takeover: {takeover:.1f} s from SIGKILL of the active instance to the "
            f"change reconciled by the standby (Lease duration {LIFETIME} s)"
        )
