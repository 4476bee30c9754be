"""The optional cert-manager component of manifests/ renders into a consistent install.

(`make install` itself is exercised, with `make uninstall`, in test_uninstall.py.)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from conftest import MANIFESTS, Kube

pytestmark = pytest.mark.cluster


def test_cert_manager_component_issues_the_secret_the_pod_mounts(
    kube: Kube, tmp_path: Path
) -> None:
    base = os.path.relpath(MANIFESTS, tmp_path)
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": [base], "components": [f"{base}/components/cert-manager"]})
    )
    docs = [d for d in yaml.safe_load_all(kube.kubectl("kustomize", str(tmp_path)).stdout) if d]
    by_kind = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    serving = by_kind[("Certificate", "fwop-webhook")]
    pod = by_kind[("Deployment", "fwop")]["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == "webhook-tls"]
    assert serving["spec"]["secretName"] == volume["secret"]["secretName"]
    hook = by_kind[("ValidatingWebhookConfiguration", "fwop")]
    service = hook["webhooks"][0]["clientConfig"]["service"]
    assert f"{service['name']}.{service['namespace']}.svc" in serving["spec"]["dnsNames"]
    namespace = serving["metadata"]["namespace"]
    assert hook["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == (
        f"{namespace}/{serving['metadata']['name']}"
    )
