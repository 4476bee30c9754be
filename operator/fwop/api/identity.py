"""Models of a workload's identity outside Kubernetes (IDN-1).

Image pull credentials and the cloud identity the pods assume.

imagePullSecrets are names only: the kubelet reads them, the operator never does. A cloud
identity is a grant (the pods may act as that IAM role, Google service account or Azure
managed identity), so the cluster policy must allow it per profile
(``guardrails.IdentityGuardrails``; by default none is). It becomes the annotation the
provider's workload identity reads on the workload's ServiceAccount: AWS IRSA
``eks.amazonaws.com/role-arn``, GKE ``iam.gke.io/gcp-service-account``, Azure
``azure.workload.identity/client-id`` (with the pod label ``azure.workload.identity/use``).
Must not: import above the api layer.
"""

from __future__ import annotations

from typing import Annotated

import pydantic

from fwop.api import placement, rules, types

_SEGMENT = r"[A-Za-z0-9+=,.@_-]*[A-Za-z0-9+=,@_-][A-Za-z0-9+=,.@_-]*"
AWS_ROLE_ARN = rf"^arn:aws(-cn|-us-gov)?:iam::[0-9]{{12}}:role/(?:{_SEGMENT}/)*{_SEGMENT}$"
"""A role ARN with an optional path: segments neither empty nor dots only, so a policy's
prefix (role/payments-*) cannot be walked out of with role/payments-x/../admin."""
GCP_SERVICE_ACCOUNT = r"^[a-z0-9][a-z0-9-]{0,62}@[a-z0-9][a-z0-9.-]{0,180}\.gserviceaccount\.com$"
UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

AWS_ANNOTATION = "eks.amazonaws.com/role-arn"
GCP_ANNOTATION = "iam.gke.io/gcp-service-account"
AZURE_CLIENT_ANNOTATION = "azure.workload.identity/client-id"
AZURE_TENANT_ANNOTATION = "azure.workload.identity/tenant-id"
AZURE_USE_LABEL = "azure.workload.identity/use"
"""Pod label the Azure workload identity webhook acts on."""
ANNOTATIONS = (AWS_ANNOTATION, GCP_ANNOTATION, AZURE_CLIENT_ANNOTATION)
"""ServiceAccount annotations that make the pods a cloud identity (IDN-1 reads them)."""

RoleArn = Annotated[str, pydantic.Field(max_length=2048, pattern=AWS_ROLE_ARN)]
ServiceAccountEmail = Annotated[str, pydantic.Field(max_length=254, pattern=GCP_SERVICE_ACCOUNT)]
Uuid = Annotated[str, pydantic.Field(max_length=36, pattern=UUID)]


class AwsIdentity(types.Model):
    """An IAM role the pods assume through IRSA (EKS) or an OIDC-federated cluster."""

    role_arn: RoleArn
    """ARN of the role, such as arn:aws:iam::123456789012:role/payments-api."""


class GcpIdentity(types.Model):
    """A Google service account the pods act as through GKE workload identity."""

    service_account: ServiceAccountEmail
    """Its e-mail, such as payments-api@bank-prod.iam.gserviceaccount.com."""


class AzureIdentity(types.Model):
    """A Microsoft Entra application or managed identity, through Azure workload identity."""

    client_id: Uuid
    """Its client ID."""
    tenant_id: Uuid | None = None
    """Its tenant, when not the cluster's own."""


class CloudIdentity(types.Model):
    """Exactly one cloud identity for the pods (IDN-1)."""

    model_config = pydantic.ConfigDict(json_schema_extra=rules.schema_extra(rules.CLOUD_ONE))

    aws: AwsIdentity | None = None
    """An IAM role, through IRSA: the ServiceAccount's eks.amazonaws.com/role-arn."""
    gcp: GcpIdentity | None = None
    """A Google service account: the ServiceAccount's iam.gke.io/gcp-service-account."""
    azure: AzureIdentity | None = None
    """An Entra identity: the ServiceAccount's azure.workload.identity/client-id, and the
    pods' azure.workload.identity/use label."""

    @pydantic.model_validator(mode="after")
    def _one(self) -> CloudIdentity:
        if sum(x is not None for x in (self.aws, self.gcp, self.azure)) != 1:
            raise rules.CLOUD_ONE.error()
        return self

    def annotations(self) -> dict[str, str]:
        """The ServiceAccount annotations the provider's workload identity reads."""
        if self.aws is not None:
            return {AWS_ANNOTATION: self.aws.role_arn}
        if self.gcp is not None:
            return {GCP_ANNOTATION: self.gcp.service_account}
        assert self.azure is not None  # exactly one, checked above
        found = {AZURE_CLIENT_ANNOTATION: self.azure.client_id}
        if self.azure.tenant_id is not None:
            found[AZURE_TENANT_ANNOTATION] = self.azure.tenant_id
        return found

    def pod_labels(self) -> dict[str, str]:
        """Pod labels the provider needs (Azure's webhook acts only on labelled pods)."""
        return {AZURE_USE_LABEL: "true"} if self.azure is not None else {}


class Identity(types.Model):
    """Who the pods are outside the cluster: registry credentials and a cloud identity."""

    image_pull_secrets: Annotated[
        tuple[placement.DnsSubdomain, ...], pydantic.Field(max_length=8)
    ] = ()
    """Names of Secrets in the namespace the kubelet pulls the images with (the operator
    reads none of them)."""
    cloud: CloudIdentity | None = None
    """The cloud identity the pods assume; the cluster policy must allow it (IDN-1)."""
