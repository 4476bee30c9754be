"""`make install` then `make uninstall` on a real cluster: nothing of the operator is left.

On the local cluster, install puts the whole of manifests/ in place, with the webhook's
certificate; the operator's pods are admitted under Pod Security "restricted" and turn
Running on the kwok nodes, but run no code, so the webhook configuration (failurePolicy
Fail, nothing behind it) is removed before workloads are created, and the operator that
reconciles them is the session's subprocess under the ServiceAccount identity. Then
uninstall: the FinancialWorkloads go first and garbage collection takes their children
(no orphans), then every installed object. Marked `uninstall`, it runs after every other
test (conftest orders it); on another cluster it runs only with FWOP_E2E_UNINSTALL=1.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, InstalledOperator, Kube, Operator
from installs import CLUSTER_OBJECTS, check_install, exists, owned_by, ready_workloads
from kubernetes import client
from support import eventually

pytestmark = [pytest.mark.cluster, pytest.mark.uninstall]


def make(kube: Kube, target: str, build: Path) -> subprocess.CompletedProcess[str]:
    """Run a Makefile target against the cluster under test, with the suite's kubectl."""
    env = {
        **os.environ,
        "PATH": f"{Path(kube.kubectl_path).parent}{os.pathsep}{os.environ['PATH']}",
        "FWOP_BUILD_DIR": str(build),
        "FWOP_INSTALL_WAIT": "60",
    }
    args = [
        "make",
        "--no-print-directory",
        "-C",
        str(REPO),
        target,
        f"KUBECONFIG={kube.kubeconfig}",
    ]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"make {target}:\n{done.stdout}\n{done.stderr}"
    return done


def test_uninstall_leaves_no_workload_child_or_installed_object(
    kube: Kube, operator: Operator, namespace: str, tmp_path: Path
) -> None:
    if not kube.local and os.environ.get("FWOP_E2E_UNINSTALL") != "1":
        pytest.skip("uninstalls the operator: local cluster only, or FWOP_E2E_UNINSTALL=1")
    if not isinstance(operator, InstalledOperator):
        make(kube, "install", tmp_path / "build")
        check_install(kube)
        kube.kubectl("delete", "validatingwebhookconfiguration", "fwop")

    uids = ready_workloads(kube, namespace)
    before = owned_by(kube, namespace, uids)
    assert {"Deployment", "Role", "RoleBinding", "PodDisruptionBudget"} <= {
        child.split("/")[0] for child in before
    }

    make(kube, "uninstall", tmp_path / "build")

    assert owned_by(kube, namespace, uids) == []
    pods = client.CoreV1Api(kube.api).list_namespaced_pod(namespace)
    eventually(
        lambda: not client.CoreV1Api(kube.api).list_namespaced_pod(namespace).items,
        60,
        f"pods of the workloads gone (had {len(pods.items)})",
    )
    left = [f"{kind}/{name}" for kind, name in CLUSTER_OBJECTS if exists(kube, kind, name)]
    assert left == []
    # What install did not create stays: another project's CRD, the workloads' namespace.
    assert exists(kube, "crd", "secretproviderclasses.secrets-store.csi.x-k8s.io")
    assert exists(kube, "namespace", namespace)
