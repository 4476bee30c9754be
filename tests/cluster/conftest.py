"""Fixtures for tests that need a real Kubernetes API server.

When KUBECONFIG is set, the tests use that cluster (kind, or any other), so the same suite
runs everywhere. Otherwise the session brings up the local control plane from
cluster/localcluster.py in its own state folder (.cluster/pytest, apart from the one
`make run` uses) and tears it down at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client, config

REPO = Path(__file__).resolve().parents[2]
LOCALCLUSTER = REPO / "cluster" / "localcluster.py"
TEST_STATE = REPO / ".cluster" / "pytest"


@dataclass(frozen=True)
class Kube:
    """The cluster under test: its kubeconfig, a kubectl, and an API client."""

    kubeconfig: Path
    kubectl_path: str
    api: client.ApiClient
    local: bool

    def kubectl(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl against the cluster under test."""
        return subprocess.run(
            [self.kubectl_path, "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )


def _build_binaries() -> dict[str, str]:
    out = subprocess.run(
        [str(REPO / "cluster" / "build.sh")], check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    return dict(
        line.removeprefix("export ").split("=", 1) for line in out.splitlines() if "=" in line
    )


@pytest.fixture(scope="session")
def kube() -> Iterator[Kube]:
    """A real cluster for the whole session."""
    external = os.environ.get("KUBECONFIG")
    if external:
        kubectl = shutil.which("kubectl") or str(
            Path(_build_binaries()["FWOP_BIN_KUBERNETES"]) / "bin" / "kubectl"
        )
        kubeconfig = Path(external)
    else:
        kubectl = str(Path(_build_binaries()["FWOP_BIN_KUBERNETES"]) / "bin" / "kubectl")
        subprocess.run(
            [sys.executable, str(LOCALCLUSTER), "up", "--state-dir", str(TEST_STATE)],
            check=True,
        )
        kubeconfig = TEST_STATE / "kubeconfig"
    api = config.new_client_from_config(config_file=str(kubeconfig))
    try:
        yield Kube(kubeconfig=kubeconfig, kubectl_path=kubectl, api=api, local=not external)
    finally:
        api.close()
        if not external:
            subprocess.run(
                [sys.executable, str(LOCALCLUSTER), "down", "--state-dir", str(TEST_STATE)],
                check=False,
            )


@pytest.fixture
def namespace(kube: Kube) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards (without waiting)."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)
