"""Models of the secrets a workload reads from an external store through the CSI driver.

They become a SecretProviderClass and a read-only CSI volume (SEC-1). Each provider has
its own small parameter block; only the block of the chosen provider may be set. Must
not: import above the api layer.
"""

from __future__ import annotations

import enum
from typing import Annotated

import pydantic

from fwop.api import rules, types


class Provider(enum.StrEnum):
    """The external secret store, i.e. the Secrets Store CSI driver provider."""

    AWS = "aws"
    AZURE = "azure"
    GCP = "gcp"
    VAULT = "vault"


class AwsObjectType(enum.StrEnum):
    """Which AWS service holds the objects."""

    SECRETS_MANAGER = "secretsmanager"
    SSM_PARAMETER = "ssmparameter"


class SecretObject(types.Model):
    """One secret to mount, as a file named after it under mountPath."""

    name: Annotated[str, pydantic.Field(max_length=253, pattern=types.FILE_NAME_PATTERN)]
    """File name in the mount (letters, digits, '.', '_', '-')."""
    path: types.Str1024
    """Where the secret lives in the store: Vault path, AWS name or ARN, Azure Key Vault
    object name, or GCP resource name (projects/P/secrets/S/versions/V)."""
    key: types.Str253 | None = None
    """Vault only: the key to read inside the secret at path."""


class VaultParameters(types.Model):
    """HashiCorp Vault parameters."""

    address: types.Str1024
    """Vault server address, e.g. https://vault.vault.svc:8200."""
    role: types.Str253
    """Vault Kubernetes auth role the workload's ServiceAccount logs in with."""
    auth_mount_path: types.Str253 | None = None
    """Mount path of the Kubernetes auth method, when not the default 'kubernetes'."""


class AwsParameters(types.Model):
    """AWS Secrets Manager / SSM Parameter Store parameters."""

    region: types.DnsLabel | None = None
    """Region of the store, when not the cluster's own."""
    object_type: AwsObjectType = AwsObjectType.SECRETS_MANAGER
    """Service holding every object listed."""


class AzureParameters(types.Model):
    """Azure Key Vault parameters."""

    keyvault_name: types.Str253
    """Name of the Key Vault."""
    tenant_id: types.Str63
    """Microsoft Entra tenant ID of the Key Vault."""
    client_id: types.Str63 | None = None
    """Client ID of the workload identity used to read the vault."""


class Secrets(types.Model):
    """Secrets mounted read-only from an external store through the CSI driver (SEC-1)."""

    model_config = pydantic.ConfigDict(
        json_schema_extra=rules.schema_extra(
            rules.VAULT_BLOCK, rules.AZURE_BLOCK, rules.AWS_BLOCK, rules.KEY_NEEDS_VAULT
        )
    )

    provider: Provider
    """The external store."""
    mount_path: Annotated[
        str,
        pydantic.Field(max_length=1024, json_schema_extra=rules.schema_extra(rules.MOUNT_PATH)),
    ] = "/mnt/secrets"
    """Directory where the secrets appear as files, read-only."""
    objects: Annotated[
        tuple[SecretObject, ...],
        pydantic.Field(min_length=1, max_length=64, json_schema_extra=types.LIST_MAP_BY_NAME),
    ]
    """The secrets to mount."""
    vault: VaultParameters | None = pydantic.Field(default=None, validate_default=True)
    """Vault parameters; required when provider is vault."""
    aws: AwsParameters | None = pydantic.Field(default=None, validate_default=True)
    """AWS parameters; optional when provider is aws."""
    azure: AzureParameters | None = pydantic.Field(default=None, validate_default=True)
    """Azure parameters; required when provider is azure."""

    @pydantic.field_validator("mount_path")
    @classmethod
    def _mount_path(cls, value: str) -> str:
        if not value.startswith("/") or value in ("/", "/tmp"):
            raise rules.MOUNT_PATH.error()
        return value

    @pydantic.field_validator("objects")
    @classmethod
    def _objects(
        cls, value: tuple[SecretObject, ...], info: pydantic.ValidationInfo
    ) -> tuple[SecretObject, ...]:
        types.check_unique_names(value, "spec.secrets.objects")
        provider = info.data.get("provider")
        if provider not in (None, Provider.VAULT) and any(o.key is not None for o in value):
            raise rules.KEY_NEEDS_VAULT.error()
        return value

    @pydantic.field_validator("vault", "aws", "azure")
    @classmethod
    def _block(cls, value: object, info: pydantic.ValidationInfo) -> object:
        provider = info.data.get("provider")
        if provider is None:
            return value
        name = info.field_name
        if name == "aws":
            if value is not None and provider is not Provider.AWS:
                raise rules.AWS_BLOCK.error()
        elif (value is not None) != (provider == name):
            raise (rules.VAULT_BLOCK if name == "vault" else rules.AZURE_BLOCK).error()
        return value
