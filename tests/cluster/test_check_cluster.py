"""fwctl check --cluster on a real cluster: the live policy and the namespaces' labels decide,
as the cluster's admission would."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import workloads as wl
import yaml
from conftest import Kube, Operator
from kubernetes import client

pytestmark = pytest.mark.cluster

FWCTL = str(Path(sys.executable).parent / "fwctl")
CARDHOLDER = {"finance.compliance.dev/cardholder-data": "true"}


@pytest.fixture
def cardholder(kube: Kube, operator: Operator) -> Iterator[str]:
    """A namespace the suite's policy requires profile pci in (by its label)."""
    ns = f"cc-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube.api)
    core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=ns, labels=CARDHOLDER))
    )
    yield ns
    core.delete_namespace(ns)


def check(
    kube: Kube, tmp_path: Path, *args: str, docs: list[dict]
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "workloads.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    env = os.environ | {"KUBECONFIG": str(kube.kubeconfig)}
    return subprocess.run([FWCTL, "check", *args, str(path)], capture_output=True, text=True,
                          check=False, env=env, timeout=120)  # fmt: skip


def test_the_live_policy_and_labels_decide(kube: Kube, cardholder: str, tmp_path: Path) -> None:
    doc = wl.manifest("api", cardholder, wl.spec())  # baseline, where pci is required
    offline = check(kube, tmp_path, docs=[doc])
    assert offline.returncode == 1  # the defaults trust no registry
    assert "PRF-1" not in offline.stdout  # offline, nothing says the namespace is cardholder
    live = check(kube, tmp_path, "--cluster", docs=[doc])
    assert live.returncode == 1, live.stderr
    assert "(PRF-1)" in live.stdout, live.stdout
    assert "IMG-2" not in live.stdout  # the cluster's policy trusts the suite's registry
    fixed = wl.manifest("api", cardholder, wl.spec(profile="pci", replicas=2))
    assert check(kube, tmp_path, "--cluster", docs=[fixed]).returncode == 0


def test_usage_errors_are_one_line(kube: Kube, tmp_path: Path) -> None:
    doc = wl.manifest("api", "default", wl.spec())
    both = check(kube, tmp_path, "--cluster", "--policy", "x.yaml", docs=[doc])
    assert (both.returncode, both.stderr.strip()) == (
        2, "fwctl: --cluster reads the cluster's policy: drop --policy"
    )  # fmt: skip
    unknown = check(kube, tmp_path, "--cluster", "--context", "nowhere", docs=[doc])
    assert unknown.returncode == 2
    assert "no context 'nowhere'" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1
