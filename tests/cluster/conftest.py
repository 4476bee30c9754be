"""Fixtures for tests that need a real Kubernetes API server.

When KUBECONFIG is set, the tests use that cluster (kind, or any other), so the same suite
runs everywhere. Otherwise the session brings up the local control plane from
cluster/localcluster.py in its own state folder (.cluster/pytest, apart from the one
`make run` uses) and tears it down at the end.
"""

from __future__ import annotations

import os
import shutil
import signal
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


class Operator:
    """The real operator (`fwop-operator`) as a subprocess against the cluster under test."""

    def __init__(self, kube: Kube, log_path: Path) -> None:
        self.kube = kube
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "KUBECONFIG": str(self.kube.kubeconfig), "FWOP_LOG_LEVEL": "INFO"}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "fwop-operator")],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def crds(kube: Kube) -> None:
    """The project's CRDs, plus the SecretProviderClass CRD where the cluster lacks it."""
    kube.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
    present = kube.kubectl(
        "get", "crd", "secretproviderclasses.secrets-store.csi.x-k8s.io", check=False
    )
    if present.returncode != 0:
        kube.kubectl("apply", "--server-side", "-f", str(REPO / "cluster" / "crds"))
    kube.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")


@pytest.fixture(scope="session")
def operator(
    kube: Kube, crds: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Operator]:
    """The operator, running for the whole session (tests may restart it)."""
    log_dir = TEST_STATE if kube.local else tmp_path_factory.mktemp("operator")
    log_dir.mkdir(parents=True, exist_ok=True)
    op = Operator(kube, log_dir / "operator.log")
    op.start()
    try:
        yield op
    finally:
        op.stop()
