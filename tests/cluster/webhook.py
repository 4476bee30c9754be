"""Test-side webhook plumbing: the ValidatingWebhookConfiguration that points the API
server at the subprocess operator on loopback (its certificate is the caBundle).

In a real cluster the same webhook is reached through a Service (manifests/); here the
API server runs on this machine, so it calls the operator's port directly.
"""

from __future__ import annotations

import base64
from typing import Any

NAME = "fwop-validate-financialworkload"
PATH = "/validate-financialworkload"


def registration(port: int, ca: bytes) -> dict[str, Any]:
    """The ValidatingWebhookConfiguration for an operator listening on 127.0.0.1:port."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": NAME},
        "webhooks": [
            {
                "name": "financialworkloads.finance.compliance.dev",
                "clientConfig": {
                    "url": f"https://127.0.0.1:{port}{PATH}",
                    "caBundle": base64.b64encode(ca).decode(),
                },
                "rules": [
                    {
                        "apiGroups": ["finance.compliance.dev"],
                        "apiVersions": ["v1alpha1"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["financialworkloads"],
                        "scope": "Namespaced",
                    }
                ],
                "failurePolicy": "Fail",
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "timeoutSeconds": 5,
            }
        ],
    }
