"""Fixtures for tests that need a real Kubernetes API server.

When KUBECONFIG is set, the tests use that cluster (kind, or any other), so the same suite
runs everywhere. Otherwise the session brings up the local control plane from
cluster/localcluster.py in its own state folder (.cluster/pytest, apart from the one
`make run` uses) and tears it down at the end.

The operator runs under its own identity, never the admin's: the `operator` fixture applies
the namespace, ServiceAccount and RBAC objects of manifests/, asks the TokenRequest API for
a token of that ServiceAccount, and starts `fwop-operator` with a kubeconfig holding only
that token. With FWOP_OPERATOR=deployment (what `make e2e-kind` sets) the operator is the
one `make install` put in the cluster, and the fixture drives its Deployment instead.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import support
import webhook
import yaml
from kubernetes import client, config

REPO = Path(__file__).resolve().parents[2]
LOCALCLUSTER = REPO / "cluster" / "localcluster.py"
TEST_STATE = REPO / ".cluster" / "pytest"
MANIFESTS = REPO / "manifests"
OPERATOR_NAMESPACE, OPERATOR_ACCOUNT = "fwop-system", "fwop"
# The objects of manifests/ that make up the operator's identity, and what bounds it.
IDENTITY_KINDS = frozenset(
    {
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    }
)
# Long enough for a slow session; TokenRequest tokens cannot be revoked early, only expire.
TOKEN_DURATION = "2h"


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


@pytest.fixture(scope="session")
def kube() -> Iterator[Kube]:
    """A real cluster for the whole session."""
    external = os.environ.get("KUBECONFIG")
    if external:
        kubectl = shutil.which("kubectl") or support.binary("kubernetes", "kubectl")
        kubeconfig = Path(external)
    else:
        kubectl = support.binary("kubernetes", "kubectl")
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Operator:
    """The real operator (`fwop-operator`) as a subprocess against the cluster under test.

    It authenticates with `kubeconfig` (the operator's ServiceAccount token; the admin's
    kubeconfig when none is given), serves its webhook and HTTP endpoints on free loopback
    ports, and reads its webhook certificate from `cert_dir`.
    """

    def __init__(self, kube: Kube, log_path: Path, kubeconfig: Path | None = None) -> None:
        self.kube = kube
        self.log_path = log_path
        self.kubeconfig = kubeconfig or kube.kubeconfig
        self.cert_dir = log_path.parent / "webhook-tls"
        self.webhook_port = _free_port()
        self.http_port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.make_certs = True  # False: start without a certificate (readiness tests)
        self.extra_args: list[str] = []

    def start(self) -> None:
        if self.make_certs and not (self.cert_dir / "tls.crt").exists():
            webhook.certificate(self.cert_dir)
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "FWOP_LOG_LEVEL": "INFO",
            "FWOP_WEBHOOK_CERT_DIR": str(self.cert_dir),
            "FWOP_WEBHOOK_ADDR": "127.0.0.1",
            "FWOP_WEBHOOK_PORT": str(self.webhook_port),
            "FWOP_HTTP_ADDR": "127.0.0.1",
            "FWOP_HTTP_PORT": str(self.http_port),
        }
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "fwop-operator"), *self.extra_args],
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
            # A graceful stop hands the Lease back; one that hangs is a bug, not a slow test.
            raise AssertionError("the operator did not stop within 30 s of SIGTERM") from None
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until /readyz answers 200: the webhook listens and the API is reachable."""
        url = f"http://127.0.0.1:{self.http_port}/readyz"
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except OSError as exc:  # refused while starting, HTTPError 503 while not ready
                if time.monotonic() > deadline:
                    raise AssertionError(f"operator not ready after {timeout}s: {exc}") from None
            time.sleep(0.25)


class InstalledOperator(Operator):
    """The operator `make install` deployed (FWOP_OPERATOR=deployment, e.g. on kind).

    start/stop scale its Deployment; restart rolls it; the pods' logs are streamed into
    `log_path` so tests read them as they read the subprocess's.
    """

    def __init__(self, kube: Kube, log_path: Path) -> None:
        super().__init__(kube, log_path)
        self.replicas = 2
        self.logs: subprocess.Popen[bytes] | None = None

    def _deployment(self, *args: str, check: bool = True) -> None:
        self.kube.kubectl(*args, "deployment/fwop", "-n", OPERATOR_NAMESPACE, check=check)

    def _stream_logs(self) -> None:
        self._stop_logs()
        with self.log_path.open("ab") as log:
            self.logs = subprocess.Popen(
                [
                    self.kube.kubectl_path, "--kubeconfig", str(self.kube.kubeconfig),
                    "logs", "-f", "-n", OPERATOR_NAMESPACE, "--prefix", "--tail=-1",
                    "--max-log-requests=10", "-l", "app.kubernetes.io/name=fwop",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip

    def _stop_logs(self) -> None:
        if self.logs is not None:
            self.logs.terminate()
            self.logs.wait()
            self.logs = None

    def start(self) -> None:
        self._deployment("scale", f"--replicas={self.replicas}")
        self._deployment("rollout", "status", "--timeout=110s")
        self._stream_logs()

    def stop(self) -> None:
        """Scale to zero (nothing to do once uninstalled)."""
        self._stop_logs()
        self._deployment("scale", "--replicas=0", check=False)
        self._deployment("rollout", "status", "--timeout=110s", check=False)

    def restart(self) -> None:
        self._deployment("rollout", "restart")
        self._deployment("rollout", "status", "--timeout=110s")
        self._stream_logs()

    def wait_ready(self, timeout: float = 60) -> None:
        """The rollout waited for the pods' readiness already."""


@pytest.fixture(scope="session")
def crds(kube: Kube) -> None:
    """The project's CRDs, plus the SecretProviderClass CRD where the cluster lacks it."""
    kube.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
    present = kube.kubectl(
        "get", "crd", "secretproviderclasses.secrets-store.csi.x-k8s.io", check=False
    )
    if present.returncode != 0:
        kube.kubectl("apply", "--server-side", "-f", str(REPO / "cluster" / "crds"))
    for crd in sorted((REPO / "crds" / "wgpolicyk8s").glob("*.yaml")):  # only where absent
        if kube.kubectl("get", "-f", str(crd), check=False).returncode != 0:
            kube.kubectl("create", "-f", str(crd))
    kube.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
    if kube.local:  # a cluster started before cluster/storage.yaml existed lacks it
        kube.kubectl("apply", "--server-side", "--field-manager=localcluster", "-f",
                     str(REPO / "cluster" / "storage.yaml"))  # fmt: skip
    # The cluster policy the suite runs under (without one, nothing would be admitted).
    kube.kubectl(
        "apply", "--server-side", "--force-conflicts", "-f",
        str(REPO / "tests" / "cluster" / "policy.yaml"),
    )  # fmt: skip


def rendered_manifests(kube: Kube) -> list[dict[str, Any]]:
    """The install, as `kubectl kustomize manifests/` renders it."""
    out = kube.kubectl("kustomize", str(MANIFESTS)).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def _token(kube: Kube, attempts: int = 20) -> str:
    """A token of the operator's ServiceAccount from the TokenRequest API.

    Retried for a few seconds: on a cluster that has just started, the first request for
    an account created a moment ago can be refused; the last refusal is shown in full.
    """
    done = None
    for _ in range(attempts):
        done = kube.kubectl(
            "create", "token", OPERATOR_ACCOUNT, "-n", OPERATOR_NAMESPACE,
            f"--duration={TOKEN_DURATION}", check=False,
        )  # fmt: skip
        if done.returncode == 0:
            return done.stdout.strip()
        time.sleep(0.5)
    assert done is not None
    raise RuntimeError(f"no token for {OPERATOR_NAMESPACE}/{OPERATOR_ACCOUNT}: {done.stderr}")


def operator_kubeconfig(kube: Kube, path: Path) -> Path:
    """A kubeconfig for the operator's ServiceAccount: the cluster's address and CA, a token.

    Applies the identity objects of manifests/ first (namespace, ServiceAccount, RBAC), with
    the field manager `make install` uses, and gets the token from the TokenRequest API.
    """
    identity = [d for d in rendered_manifests(kube) if d["kind"] in IDENTITY_KINDS]
    kube.kubectl(
        "apply", "--server-side", "--force-conflicts", "--field-manager=fwop-install",
        "-f", "-", stdin=yaml.safe_dump_all(identity),
    )  # fmt: skip
    return token_kubeconfig(kube, path)


def token_kubeconfig(kube: Kube, path: Path) -> Path:
    """A kubeconfig at `path` with a fresh token of the operator's ServiceAccount, as it
    exists in the cluster (whoever installed it)."""
    token = _token(kube)
    admin = json.loads(
        kube.kubectl("config", "view", "--raw", "--minify", "--flatten", "-o", "json").stdout
    )
    user = f"system:serviceaccount:{OPERATOR_NAMESPACE}:{OPERATOR_ACCOUNT}"
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "cluster", "cluster": admin["clusters"][0]["cluster"]}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": "fwop", "context": {"cluster": "cluster", "user": user}}],
        "current-context": "fwop",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(kubeconfig))
    return path


@pytest.fixture(scope="session")
def operator(
    kube: Kube, crds: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Operator]:
    """The operator under its own ServiceAccount, running for the whole session.

    Tests may stop, start or restart it. FWOP_OPERATOR=deployment uses the installed one.
    """
    log_dir = TEST_STATE if kube.local else tmp_path_factory.mktemp("operator")
    log_dir.mkdir(parents=True, exist_ok=True)
    op: Operator
    if os.environ.get("FWOP_OPERATOR", "subprocess") == "deployment":
        op = InstalledOperator(kube, log_dir / "operator.log")
    else:
        identity = operator_kubeconfig(kube, log_dir / "operator.kubeconfig")
        op = Operator(kube, log_dir / "operator.log", kubeconfig=identity)
    op.start()
    op.wait_ready()
    registered = kube.local and not isinstance(op, InstalledOperator)
    if registered:  # the API server calls the subprocess operator on loopback
        ca = (op.cert_dir / "tls.crt").read_bytes()
        kube.kubectl(
            "apply", "--server-side", "--force-conflicts", "-f", "-",
            stdin=yaml.safe_dump(webhook.registration(op.webhook_port, ca)),
        )  # fmt: skip
    try:
        yield op
    finally:
        if registered:
            kube.kubectl("delete", "validatingwebhookconfiguration", webhook.NAME, check=False)
        op.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `uninstall` remove the whole install: they run last, in the order their
    marker's `order` says (test_helm.py installs the charts once `make uninstall` is done)."""

    def last(item: pytest.Item) -> tuple[bool, int]:
        marker = item.get_closest_marker("uninstall")
        return marker is not None, int(marker.kwargs.get("order", 0)) if marker else 0

    items.sort(key=last)
