"""The containers of the pod beyond the main one: app containers, init containers, sidecars.

The main container is declared by the spec's own image, command, args, env, ports,
resources and probes, and is named ``app``. ``spec.containers`` adds app containers beside
it (a log shipper, a proxy that runs for the pod's life); ``spec.initContainers`` adds
containers that run to completion before the app starts (a schema migration), or, with
``restartPolicy: Always``, native sidecars that start first and run for the pod's life.
Every one of them gets the same restricted security context as the main one (POD-1..5),
requires resources (POD-6) and a digest-pinned image (IMG-1), and sees the secrets mount
only when it asks for it (SEC-1). Must not: import above the api layer, or know how a
container is rendered.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Annotated

import pydantic

from fwop.api import pod, rules, types, volumes

MAIN = "app"
"""Name of the main container, declared by the spec's own fields."""
MAX_CONTAINERS = 8
"""At most this many entries in spec.containers and in spec.initContainers each."""


class RestartPolicy(enum.StrEnum):
    """An init container's restart policy: Always makes it a native sidecar."""

    ALWAYS = "Always"


class Container(types.Model):
    """An app container beside the main one, hardened like it."""

    model_config = pydantic.ConfigDict(
        json_schema_extra=rules.schema_extra(rules.CONTAINER_NAME, rules.CONTAINER_RESOURCES)
    )

    name: types.DnsLabel
    """Container name, unique in the pod; app is the main container's."""
    image: Annotated[
        str,
        pydantic.Field(
            max_length=512, json_schema_extra=rules.schema_extra(rules.CONTAINER_IMAGE_PINNED)
        ),
    ]
    """Container image pinned by digest: <repository>@sha256:<64 hex> (IMG-1)."""
    command: pod.Argv = ()
    """Entrypoint override; empty keeps the image's."""
    args: pod.Argv = ()
    """Arguments to the entrypoint; empty keeps the image's."""
    env: pod.EnvVars = ()
    """Plain environment variables; never secrets (SEC-1)."""
    ports: pod.Ports = ()
    """Ports the container listens on; the workload's Service exposes them too, so names
    and numbers are unique across the pod."""
    resources: pod.Resources
    """CPU and memory requests and limits, all required (POD-6)."""
    probes: pod.Probes | None = None
    """Liveness, readiness and startup probes of this container."""
    volume_mounts: Annotated[
        tuple[volumes.VolumeMount, ...],
        pydantic.Field(max_length=volumes.MAX_MOUNTS, json_schema_extra=volumes.LIST_MAP_BY_PATH),
    ] = ()
    """Volumes of spec.volumes this container sees, read-only unless writable."""
    mount_secrets: types.Bool = False
    """Mount the workload's secrets (spec.secrets) in this container too, read-only at the
    same path; without it the container does not see them (SEC-1)."""

    @pydantic.field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if value == MAIN:
            raise rules.CONTAINER_NAME.error()
        return value

    @pydantic.field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        if not rules.image_is_pinned(value):
            raise rules.CONTAINER_IMAGE_PINNED.error()
        return value

    @pydantic.field_validator("env", "ports")
    @classmethod
    def _unique(
        cls, value: tuple[pod.EnvVar | pod.ContainerPort, ...], info: pydantic.ValidationInfo
    ) -> tuple[pod.EnvVar | pod.ContainerPort, ...]:
        types.check_unique_names(value, info.field_name or "")
        return value


class InitContainer(Container):
    """A container that runs before the app: once, or for the pod's life as a sidecar.

    With restartPolicy: Always it is a Kubernetes native sidecar.
    """

    model_config = pydantic.ConfigDict(
        json_schema_extra=rules.schema_extra(
            rules.CONTAINER_NAME, rules.CONTAINER_RESOURCES, rules.INIT_CONTAINER_RUNS_ONCE
        )
    )

    restart_policy: RestartPolicy | None = None
    """Always: a native sidecar, started before the app containers and kept running (it may
    have ports and probes). Unset: runs once, to completion, before the app starts."""

    @property
    def sidecar(self) -> bool:
        """Tell whether it runs for the pod's life (restartPolicy: Always)."""
        return self.restart_policy is RestartPolicy.ALWAYS

    @pydantic.model_validator(mode="after")
    def _runs_once(self) -> InitContainer:
        if not self.sidecar and (self.probes is not None or self.ports):
            raise rules.INIT_CONTAINER_RUNS_ONCE.error()
        return self


class Role(enum.StrEnum):
    """What a container is to the pod."""

    MAIN = "main"
    APP = "app"
    INIT = "init"
    SIDECAR = "sidecar"


@dataclasses.dataclass(frozen=True)
class Placed:
    """A container of the pod, with where the spec declares it."""

    path: str
    """Where its fields are: spec, spec.containers[0], spec.initContainers[1]."""
    role: Role
    container: Container

    @property
    def runs(self) -> bool:
        """Tell whether it runs beside the app (listens, is probed), not only before it."""
        return self.role is not Role.INIT

    def field(self, name: str) -> str:
        """The path of one of its fields: spec.env, spec.containers[0].env."""
        return f"{self.path}.{name}"
