"""The FinancialWorkload spec: what a team declares instead of raw Kubernetes YAML.

Field-level and cross-field rules (IMG-1, POD-6, RBAC-2, SEC-1, AVL-1) are checked here
with the wording of ``fwop.api.rules``, and land in the CRD as CEL. Must not: import
above the api layer, or know how the spec is rendered.
"""

from __future__ import annotations

import enum
import functools
from typing import Annotated

import pydantic

from fwop.api import access, batch, pod, rules, scaling, types
from fwop.api import containers as containers_api
from fwop.api import identity as identity_api
from fwop.api import network as network_api
from fwop.api import placement as placement_api
from fwop.api import secrets as secrets_api
from fwop.api import volumes as volumes_api

_SET: dict[str, str] = {"x-kubernetes-list-type": "set"}
MIN_PCI_REPLICAS = 2


class Profile(enum.StrEnum):
    """Compliance profile; pci adds replicas >= 2, a PDB, hard zone spread, no Secret access."""

    BASELINE = "baseline"
    PCI = "pci"


class Enforcement(enum.StrEnum):
    """What the operator does about drift: enforce heals it, audit only reports it."""

    ENFORCE = "enforce"
    AUDIT = "audit"


class ManagedField(enum.StrEnum):
    """A field of the children that another controller owns (e.g. an autoscaler)."""

    REPLICAS = "replicas"


_Named = pod.EnvVar | pod.ContainerPort
_Listed = containers_api.Container | volumes_api.Volume


class Residency(types.Model):
    """Where the workload's pods may run (RES-1)."""

    regions: Annotated[
        tuple[types.DnsLabel, ...],
        pydantic.Field(min_length=1, max_length=8, json_schema_extra=_SET),
    ]
    """Allowed values of the node label topology.kubernetes.io/region."""


class FinancialWorkloadSpec(types.Model):
    """Desired state of a FinancialWorkload."""

    model_config = pydantic.ConfigDict(
        json_schema_extra=rules.schema_extra(
            rules.RESOURCES_REQUIRED,
            rules.PCI_MIN_REPLICAS,
            rules.PCI_MIN_AUTOSCALING,
            rules.AUTOSCALING_EXCLUSIVE,
            rules.API_SERVER_NEEDS_PERMISSIONS,
            rules.CONTAINER_NAMES_UNIQUE,
            rules.MOUNT_SECRETS_NEEDS_SECRETS,
            rules.JOB_RUNS_TO_COMPLETION,
        )
    )

    profile: Profile
    """Compliance profile: baseline, or pci for cardholder-data workloads."""
    enforcement: Enforcement = Enforcement.ENFORCE
    """enforce: drift is healed; audit: drift is only reported (DRF-1)."""
    image: Annotated[
        str,
        pydantic.Field(max_length=512, json_schema_extra=rules.schema_extra(rules.IMAGE_PINNED)),
    ]
    """Container image pinned by digest: <repository>@sha256:<64 hex> (IMG-1)."""
    job: batch.Job | None = None
    """Run to completion on a schedule (a CronJob) instead of serving (a Deployment); the
    pods, identity, network fence and secrets are the same."""
    replicas: Annotated[types.Int, pydantic.Field(ge=0, le=1000, validate_default=True)] = 1
    """Number of pods; at least 2 under profile pci (AVL-1). With spec.autoscaling the
    autoscaler decides instead; when replicas is externally managed, the Deployment starts
    with this many and the other controller decides afterwards."""
    externally_managed: Annotated[
        tuple[ManagedField, ...], pydantic.Field(max_length=1, json_schema_extra=_SET)
    ] = ()
    """Fields another controller owns; the operator sets them only when it creates the
    Deployment, and never heals them. For an autoscaler the operator renders, use
    spec.autoscaling instead."""
    autoscaling: scaling.Autoscaling | None = None
    """A HorizontalPodAutoscaler owns the replica count between minReplicas and maxReplicas;
    its changes to the Deployment's replicas are not drift."""
    rollout: scaling.Rollout | None = None
    """How a new version replaces the pods; unset keeps Kubernetes' defaults (25%, 25%)."""
    pod_metadata: placement_api.PodMetadata | None = None
    """Labels and annotations of the pods, outside the reserved keys (PLC-1)."""
    placement: placement_api.Placement | None = None
    """Node pool, tolerations, priority and runtime class; the cluster policy may require or
    bound each per profile (PLC-1)."""
    shutdown: placement_api.Shutdown | None = None
    """Grace period and preStop action of the pods."""
    command: pod.Argv = ()
    """Entrypoint override; empty keeps the image's."""
    args: pod.Argv = ()
    """Arguments to the entrypoint; empty keeps the image's."""
    env: pod.EnvVars = ()
    """Plain environment variables; never secrets (SEC-1)."""
    ports: pod.Ports = ()
    """Ports the container listens on; a ClusterIP Service exposes them."""
    resources: pod.Resources
    """CPU and memory requests and limits, all required (POD-6)."""
    probes: pod.Probes | None = None
    """Liveness, readiness and startup probes of the main container."""
    volume_mounts: Annotated[
        tuple[volumes_api.VolumeMount, ...],
        pydantic.Field(
            max_length=volumes_api.MAX_MOUNTS, json_schema_extra=volumes_api.LIST_MAP_BY_PATH
        ),
    ] = ()
    """Volumes of spec.volumes the main container sees, read-only unless writable."""
    volumes: Annotated[
        tuple[volumes_api.Volume, ...],
        pydantic.Field(
            max_length=volumes_api.MAX_VOLUMES, json_schema_extra=types.LIST_MAP_BY_NAME
        ),
    ] = ()
    """Volumes the containers mount: configMap, projected, emptyDir (with a sizeLimit),
    persistentVolumeClaim or ephemeral; never hostPath or a Secret."""
    tmp_size_limit: types.Quantity = "64Mi"
    """Size of the writable emptyDir at /tmp that every container mounts."""
    containers: Annotated[
        tuple[containers_api.Container, ...],
        pydantic.Field(
            max_length=containers_api.MAX_CONTAINERS, json_schema_extra=types.LIST_MAP_BY_NAME
        ),
    ] = ()
    """App containers beside the main one (app), such as a log shipper; each is hardened
    like the main container and needs its own pinned image and resources."""
    init_containers: Annotated[
        tuple[containers_api.InitContainer, ...],
        pydantic.Field(
            max_length=containers_api.MAX_CONTAINERS, json_schema_extra=types.LIST_MAP_BY_NAME
        ),
    ] = ()
    """Containers that run, in order, before the app starts (a schema migration); with
    restartPolicy: Always, native sidecars that start first and keep running (a proxy)."""
    permissions: Annotated[tuple[access.PolicyRule, ...], pydantic.Field(max_length=32)] = ()
    """Kubernetes API access the workload needs, as Role rules (RBAC-2). Empty: no Role,
    and the ServiceAccount token is not mounted (RBAC-1)."""
    network: network_api.Network = pydantic.Field(default_factory=network_api.Network)
    """Allowed network flows; everything else is denied (NET-1, NET-2)."""
    secrets: secrets_api.Secrets | None = None
    """Secrets mounted read-only from an external store (SEC-1)."""
    identity: identity_api.Identity | None = None
    """Image pull secrets (names only) and the cloud identity the pods assume (AWS IRSA,
    GKE or Azure workload identity); the cluster policy must allow the latter (IDN-1)."""
    residency: Residency | None = None
    """Regions the pods are restricted to (RES-1)."""

    @pydantic.field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        if not rules.image_is_pinned(value):
            raise rules.IMAGE_PINNED.error()
        return value

    @pydantic.field_validator("replicas")
    @classmethod
    def _replicas(cls, value: int, info: pydantic.ValidationInfo) -> int:
        batch_job = info.data.get("job") is not None
        if info.data.get("profile") is Profile.PCI and value < MIN_PCI_REPLICAS and not batch_job:
            raise rules.PCI_MIN_REPLICAS.error()
        return value

    @pydantic.model_validator(mode="after")
    def _job(self) -> FinancialWorkloadSpec:
        service_only = (self.autoscaling, self.rollout, self.ports, self.externally_managed)
        if self.job is not None and any(service_only):
            raise rules.JOB_RUNS_TO_COMPLETION.error()
        return self

    @pydantic.field_validator("env", "ports")
    @classmethod
    def _unique(
        cls, value: tuple[_Named, ...], info: pydantic.ValidationInfo
    ) -> tuple[_Named, ...]:
        types.check_unique_names(value, f"spec.{info.field_name}")
        return value

    @pydantic.field_validator("containers", "init_containers", "volumes")
    @classmethod
    def _unique_containers(
        cls, value: tuple[_Listed, ...], info: pydantic.ValidationInfo
    ) -> tuple[_Listed, ...]:
        types.check_unique_names(value, f"spec.{info.field_name}")
        return value

    @pydantic.model_validator(mode="after")
    def _containers(self) -> FinancialWorkloadSpec:
        names = {c.name for c in self.containers}
        if any(c.name in names for c in self.init_containers):
            raise rules.CONTAINER_NAMES_UNIQUE.error()
        if self.secrets is None and any(c.mount_secrets for c in self.extra_containers):
            raise rules.MOUNT_SECRETS_NEEDS_SECRETS.error()
        return self

    @pydantic.model_validator(mode="after")
    def _api_server(self) -> FinancialWorkloadSpec:
        if self.network.allow_api_server and not self.permissions:
            raise rules.API_SERVER_NEEDS_PERMISSIONS.error()
        return self

    @pydantic.model_validator(mode="after")
    def _scaling(self) -> FinancialWorkloadSpec:
        if self.autoscaling is None:
            return self
        if ManagedField.REPLICAS in self.externally_managed:
            raise rules.AUTOSCALING_EXCLUSIVE.error()
        if self.profile is Profile.PCI and self.autoscaling.min_replicas < MIN_PCI_REPLICAS:
            raise rules.PCI_MIN_AUTOSCALING.error()
        return self

    @property
    def extra_containers(self) -> tuple[containers_api.Container, ...]:
        """The declared containers besides the main one: init containers first."""
        return (*self.init_containers, *self.containers)

    @functools.cached_property
    def main_container(self) -> containers_api.Container:
        """The main container (app), as the spec's own fields declare it."""
        return containers_api.Container.model_construct(
            name=containers_api.MAIN,
            image=self.image,
            command=self.command,
            args=self.args,
            env=self.env,
            ports=self.ports,
            resources=self.resources,
            probes=self.probes,
            volume_mounts=self.volume_mounts,
            mount_secrets=self.secrets is not None,
        )

    def pod_containers(self) -> tuple[containers_api.Placed, ...]:
        """Every container of the pod with where it is declared, in the pod's order.

        Init containers and sidecars first, then the main container, then the others.
        """
        return self.placed_containers

    @functools.cached_property
    def placed_containers(self) -> tuple[containers_api.Placed, ...]:
        """What pod_containers returns, computed once per spec.

        Rendering and admission ask for it many times in one pass.
        """
        role = containers_api.Role
        return (
            *(
                containers_api.Placed(
                    f"spec.initContainers[{i}]", role.SIDECAR if c.sidecar else role.INIT, c
                )
                for i, c in enumerate(self.init_containers)
            ),
            containers_api.Placed("spec", role.MAIN, self.main_container),
            *(
                containers_api.Placed(f"spec.containers[{i}]", role.APP, c)
                for i, c in enumerate(self.containers)
            ),
        )

    def listening_ports(self) -> tuple[tuple[str, pod.ContainerPort], ...]:
        """(field path, port) of every port a running container declares, in pod order.

        These are what the Service exposes and what ingress flows may open.
        """
        return tuple(
            (placed.field(f"ports[{i}]"), port)
            for placed in self.pod_containers()
            if placed.runs
            for i, port in enumerate(placed.container.ports)
        )

    @functools.cached_property
    def sidecar_ports(self) -> dict[str, int]:
        """Port numbers of the native sidecars' ports, by name.

        Rendered by number where a name would do elsewhere: some CNIs resolve named
        NetworkPolicy ports on app containers only, and the endpoints controller learnt
        sidecars' named ports only in Kubernetes 1.32.
        """
        return {
            port.name: port.container_port
            for placed in self.pod_containers()
            if placed.role is containers_api.Role.SIDECAR
            for port in placed.container.ports
        }

    @property
    def replicas_managed_elsewhere(self) -> bool:
        """Tell whether another controller owns the replica count (an autoscaler)."""
        return self.autoscaling is not None or ManagedField.REPLICAS in self.externally_managed

    @property
    def initial_replicas(self) -> int:
        """The replicas the Deployment is created with."""
        return self.autoscaling.min_replicas if self.autoscaling is not None else self.replicas
