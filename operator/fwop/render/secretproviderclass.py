"""Render the SecretProviderClass that tells the Secrets Store CSI driver what to mount (SEC-1).

Parameters follow each provider's documented shape; object lists are YAML strings because
the driver passes parameters as a map of strings. The Deployment mounts the class as a
read-only CSI volume (see ``fwop.render.pod``). Must not: create Kubernetes Secrets (no
secretObjects sync): secrets stay files in the pod.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import yaml

from fwop.api import secrets
from fwop.render import meta

API_VERSION = "secrets-store.csi.x-k8s.io/v1"
CONTROLS = ("SEC-1",)
_T = TypeVar("_T")


def name(ctx: meta.Context) -> str:
    """Return the SecretProviderClass name: the workload's name."""
    return ctx.name


def _yaml(value: object) -> str:
    return yaml.safe_dump(value, sort_keys=False, default_flow_style=False)


def _block(block: _T | None, provider: str) -> _T:
    if block is None:  # the models refuse this; kept so a bad caller fails loudly
        msg = f"spec.secrets.{provider} is required for provider {provider}"
        raise ValueError(msg)
    return block


def _vault(config: secrets.Secrets) -> dict[str, str]:
    vault = _block(config.vault, "vault")
    objects = []
    for item in config.objects:
        entry = {"objectName": item.name, "secretPath": item.path}
        if item.key is not None:
            entry["secretKey"] = item.key
        objects.append(entry)
    params = {"roleName": vault.role, "vaultAddress": vault.address}
    if vault.auth_mount_path is not None:
        params["vaultKubernetesMountPath"] = vault.auth_mount_path
    params["objects"] = _yaml(objects)
    return params


def _aws(config: secrets.Secrets) -> dict[str, str]:
    aws = config.aws or secrets.AwsParameters()
    objects = [
        {"objectName": item.path, "objectAlias": item.name, "objectType": str(aws.object_type)}
        for item in config.objects
    ]
    params = {"region": aws.region} if aws.region is not None else {}
    params["objects"] = _yaml(objects)
    return params


def _azure(config: secrets.Secrets) -> dict[str, str]:
    azure = _block(config.azure, "azure")
    # The Azure provider reads `objects` as YAML holding an array of YAML strings.
    entries = [
        _yaml({"objectName": item.path, "objectAlias": item.name, "objectType": "secret"})
        for item in config.objects
    ]
    params = {
        "usePodIdentity": "false",
        "keyvaultName": azure.keyvault_name,
        "tenantId": azure.tenant_id,
    }
    if azure.client_id is not None:
        params["clientID"] = azure.client_id
    params["objects"] = _azure_array(entries)
    return params


def _azure_array(entries: list[str]) -> str:
    """Spell ``array:`` with one literal block per object, as the Azure provider documents."""
    lines = ["array:"]
    for entry in entries:
        lines.append("  - |")
        lines.extend(f"    {line}" for line in entry.splitlines())
    return "\n".join(lines) + "\n"


def _gcp(config: secrets.Secrets) -> dict[str, str]:
    return {"secrets": _yaml([{"resourceName": o.path, "path": o.name} for o in config.objects])}


_PARAMETERS: dict[secrets.Provider, Callable[[secrets.Secrets], dict[str, str]]] = {
    secrets.Provider.VAULT: _vault,
    secrets.Provider.AWS: _aws,
    secrets.Provider.AZURE: _azure,
    secrets.Provider.GCP: _gcp,
}


def render(ctx: meta.Context) -> list[meta.Manifest]:
    """Return the SecretProviderClass, or nothing when no secrets are declared."""
    config = ctx.spec.secrets
    if config is None:
        return []
    parameters = _PARAMETERS[config.provider](config)
    cloud = ctx.spec.identity.cloud if ctx.spec.identity is not None else None
    if config.provider is secrets.Provider.AZURE and cloud is not None and cloud.azure is not None:
        # The pods' workload identity reads the vault unless the block names another.
        parameters.setdefault("clientID", cloud.azure.client_id)
    body = {"provider": str(config.provider), "parameters": parameters}
    return [
        meta.manifest(
            API_VERSION, "SecretProviderClass", meta.metadata(ctx, name(ctx), CONTROLS), spec=body
        )
    ]
