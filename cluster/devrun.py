#!/usr/bin/env python3
"""`make run`'s last step: the operator in the foreground, with its webhook, and examples/.

On the local control plane the API server runs on this machine, so the admission webhook
is registered at https://127.0.0.1:9443 with a self-signed certificate kept in
.cluster/webhook-tls (the operator reads the files; no Secret is involved). The operator
starts first, because with failurePolicy Fail nothing is admitted until it answers; then
the example policy and workloads are applied, and the operator keeps running until Ctrl-C.
With KUBECONFIG naming another cluster, that cluster cannot call back into this machine:
the operator runs without its webhook (install it in-cluster with `make install` instead).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
WEBHOOK_NAME = "fwop-validate-financialworkload"
WEBHOOK_PORT, HTTP_PORT = 9443, 8080


def kubectl(kubeconfig: str, *args: str, stdin: str | None = None) -> None:
    """Run kubectl (the Makefile puts the cached one on PATH)."""
    subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, *args], input=stdin, text=True, check=True
    )


def certificate(directory: Path) -> bytes:
    """A self-signed serving certificate for 127.0.0.1, made once and reused."""
    if not (directory / "tls.crt").exists():
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-nodes",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-days",
                "365",
                "-subj",
                "/CN=fwop-webhook-local",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout",
                str(directory / "tls.key"),
                "-out",
                str(directory / "tls.crt"),
            ],
            check=True,
            capture_output=True,
        )
        (directory / "tls.key").chmod(0o600)
    return (directory / "tls.crt").read_bytes()


def registration(ca: bytes, port: int = WEBHOOK_PORT) -> dict[str, Any]:
    """The ValidatingWebhookConfiguration for an operator serving on 127.0.0.1:port."""
    rule = {
        "apiGroups": ["finance.compliance.dev"],
        "apiVersions": ["v1alpha1"],
        "operations": ["CREATE", "UPDATE"],
        "resources": ["financialworkloads"],
        "scope": "Namespaced",
    }
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": WEBHOOK_NAME},
        "webhooks": [{
            "name": "financialworkloads.finance.compliance.dev",
            "clientConfig": {
                "url": f"https://127.0.0.1:{port}/validate-financialworkload",
                "caBundle": base64.b64encode(ca).decode(),
            },
            "rules": [rule],
            "failurePolicy": "Fail",
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "timeoutSeconds": 5,
        }],
    }  # fmt: skip


def wait_ready(timeout: float = 60) -> None:
    """Wait for the operator's /readyz (webhook serving)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{HTTP_PORT}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            last = exc.read().decode()
        except OSError as exc:
            last = str(exc)
        time.sleep(0.5)
    raise SystemExit(f"operator not ready after {timeout:.0f}s: {last}")


def main() -> int:
    """Start the operator, register its webhook, apply the examples, wait."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--local", action="store_true", help="the local control plane")
    args = parser.parse_args()
    env = {
        **os.environ,
        "KUBECONFIG": args.kubeconfig,
        "FWOP_HTTP_ADDR": "127.0.0.1",
        "FWOP_HTTP_PORT": str(HTTP_PORT),
        "FWOP_WEBHOOK_ADDR": "127.0.0.1",
    }
    if args.local:
        certs = REPO / ".cluster" / "webhook-tls"
        ca = certificate(certs)
        env |= {"FWOP_WEBHOOK_CERT_DIR": str(certs), "FWOP_WEBHOOK_PORT": str(WEBHOOK_PORT)}
    else:
        env["FWOP_WEBHOOK_PORT"] = "0"
    operator = subprocess.Popen([str(Path(sys.executable).parent / "fwop-operator")], env=env)
    signal.signal(signal.SIGINT, lambda *_: operator.send_signal(signal.SIGINT))
    signal.signal(signal.SIGTERM, lambda *_: operator.send_signal(signal.SIGTERM))
    wait_ready()
    if args.local:
        kubectl(
            args.kubeconfig,
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            "-",
            stdin=json.dumps(registration(ca)),
        )
    kubectl(args.kubeconfig, "apply", "--server-side", "-f", str(REPO / "examples" / "policy"))
    time.sleep(1)  # the operator takes the policy from its watch before judging examples
    kubectl(args.kubeconfig, "apply", "--server-side", "-f", str(REPO / "examples"))
    print("-" * 80, file=sys.stderr)
    print(
        f"operator running (Ctrl-C stops it); admission webhook: "
        f"{'https://127.0.0.1:9443' if args.local else 'off (use make install)'}",
        file=sys.stderr,
    )
    print(f"in another shell:  export KUBECONFIG={args.kubeconfig}", file=sys.stderr)
    print("                   kubectl get fw -A", file=sys.stderr)
    print("stop the local cluster with: make cluster-down", file=sys.stderr)
    print("-" * 80, file=sys.stderr)
    return operator.wait()


if __name__ == "__main__":
    sys.exit(main())
