"""Volumes a workload declares and where its containers mount them.

Only volume types Pod Security restricted allows, and of those only what a team needs and
the operator can stand behind: configMap, projected (configMap, downwardAPI metadata,
serviceAccountToken for an audience the cluster policy allows), emptyDir with a required
sizeLimit, persistentVolumeClaim by claim name, and generic ephemeral volumes with a
storage class. Never hostPath, never a Secret (secrets come from spec.secrets, SEC-1),
never a raw CSI driver. Mounts are read-only unless declared writable, and only emptyDir,
claims and ephemeral volumes can be written. Must not: import above the api layer, or know
how volumes are rendered.
"""

from __future__ import annotations

import enum
from typing import Annotated

import pydantic

from fwop.api import placement, rules, types

MAX_VOLUMES = 16
MAX_MOUNTS = 16
RESERVED_NAMES = ("tmp", "secrets-store")
"""Volume names the operator gives the pod's /tmp and its secrets mount."""
RELATIVE_PATH = r"^[^/]([^/]*)(/[^/]+)*$"
"""A relative path: no leading '/', no empty segment ('..' is refused by a rule)."""
KEY_PATTERN = r"^[-._a-zA-Z0-9]+$"
"""A ConfigMap key."""
LIST_MAP_BY_PATH: dict[str, object] = {
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["mountPath"],
}
"""Mounts are keyed by path, as in a pod: one volume per path and container."""
MAX_TMP = "16Gi"
MAX_EMPTY_DIR = "64Gi"
MAX_EPHEMERAL = "4Ti"
"""Bounds on what a pod may take of its node's disk or memory (tmpSizeLimit, emptyDir) and
ask of a storage class (ephemeral): enough for real batch scratch space, not enough to
fill a node."""
MIN_TOKEN_SECONDS = 600
MAX_TOKEN_SECONDS = 86400

RelativePath = Annotated[
    str,
    pydantic.Field(
        min_length=1,
        max_length=253,
        pattern=RELATIVE_PATH,
        json_schema_extra=rules.schema_extra(rules.NO_PARENT_PATH),
    ),
]
"""A file name inside the volume."""


def _relative(value: str) -> str:
    if ".." in value.split("/"):
        raise rules.NO_PARENT_PATH.error()
    return value


Relative = Annotated[RelativePath, pydantic.AfterValidator(_relative)]


class KeyToPath(types.Model):
    """One key of a ConfigMap, and the file it becomes."""

    key: Annotated[str, pydantic.Field(min_length=1, max_length=253, pattern=KEY_PATTERN)]
    """The ConfigMap key."""
    path: Relative
    """The file name inside the volume (relative, without '..')."""


class ConfigMapSource(types.Model):
    """A ConfigMap of the workload's namespace, as files."""

    name: placement.DnsSubdomain
    """The ConfigMap's name. The requester must be allowed to read it (RBAC-4): the pods
    will."""
    items: Annotated[tuple[KeyToPath, ...], pydantic.Field(max_length=64)] = ()
    """Keys to project, each to a file; empty projects every key under its own name."""
    optional: types.Bool = False
    """Start the pods even when the ConfigMap (or a listed key) does not exist."""


class DownwardField(enum.StrEnum):
    """Pod metadata a downward API file may hold."""

    NAME = "metadata.name"
    NAMESPACE = "metadata.namespace"
    UID = "metadata.uid"
    LABELS = "metadata.labels"
    ANNOTATIONS = "metadata.annotations"


class DownwardItem(types.Model):
    """One file holding a field of the pod's own metadata."""

    path: Relative
    """The file name inside the volume."""
    field_path: DownwardField
    """The metadata field."""


class ServiceAccountToken(types.Model):
    """A token of the workload's ServiceAccount for another system, short-lived.

    For Vault, a cloud or a service mesh; the kubelet rotates it. Its audience must be
    allowed by the cluster policy (IDN-1).
    """

    audience: Annotated[str, pydantic.Field(min_length=1, max_length=253)]
    """Who the token is for; the receiving system checks it."""
    expiration_seconds: Annotated[
        types.Int, pydantic.Field(ge=MIN_TOKEN_SECONDS, le=MAX_TOKEN_SECONDS)
    ] = 3600
    """Lifetime of each token, 600 to 86400 seconds; the kubelet renews it before then."""
    path: Relative
    """The file name inside the volume."""


class ProjectedSource(types.Model):
    """One source of a projected volume.

    Exactly one of configMap, downwardAPI or serviceAccountToken.
    """

    model_config = pydantic.ConfigDict(
        json_schema_extra=rules.schema_extra(rules.PROJECTED_SOURCE_ONE)
    )

    config_map: ConfigMapSource | None = None
    """Keys of a ConfigMap."""
    downward_api: (
        Annotated[tuple[DownwardItem, ...], pydantic.Field(min_length=1, max_length=8)] | None
    ) = pydantic.Field(default=None, alias="downwardAPI")
    """Fields of the pod's own metadata."""
    service_account_token: ServiceAccountToken | None = None
    """A token of the workload's ServiceAccount for an allowed audience."""

    @pydantic.model_validator(mode="after")
    def _one(self) -> ProjectedSource:
        found = (self.config_map, self.downward_api, self.service_account_token)
        if sum(value is not None for value in found) != 1:
            raise rules.PROJECTED_SOURCE_ONE.error()
        return self


class Projected(types.Model):
    """Several sources in one directory."""

    sources: Annotated[tuple[ProjectedSource, ...], pydantic.Field(min_length=1, max_length=8)]
    """The sources, in order."""


class Medium(enum.StrEnum):
    """Where an emptyDir lives: Memory is a tmpfs that counts against the memory limit."""

    MEMORY = "Memory"


class EmptyDir(types.Model):
    """Scratch space for the pod's life, bounded."""

    size_limit: types.Quantity
    """Most it may hold (512Mi, 2Gi); the kubelet evicts the pod beyond it."""
    medium: Medium | None = None
    """Memory for a tmpfs; unset uses the node's disk."""


class Claim(types.Model):
    """A PersistentVolumeClaim of the workload's namespace, by name."""

    claim_name: placement.DnsSubdomain
    """The claim's name. The requester must be allowed to read it (RBAC-4)."""


class AccessMode(enum.StrEnum):
    """How an ephemeral volume may be mounted."""

    READ_WRITE_ONCE = "ReadWriteOnce"
    READ_WRITE_ONCE_POD = "ReadWriteOncePod"


class Ephemeral(types.Model):
    """A claim made for each pod from a storage class, deleted with the pod."""

    storage_class_name: placement.DnsSubdomain
    """The storage class that provisions it."""
    size: types.Quantity
    """The storage it requests (10Gi)."""
    access_mode: AccessMode = AccessMode.READ_WRITE_ONCE
    """ReadWriteOnce, or ReadWriteOncePod for a single pod."""


class Volume(types.Model):
    """A volume of the pod.

    Exactly one of configMap, projected, emptyDir, persistentVolumeClaim or ephemeral.
    """

    model_config = pydantic.ConfigDict(
        json_schema_extra=rules.schema_extra(rules.VOLUME_SOURCE_ONE, rules.VOLUME_NAME)
    )

    name: types.DnsLabel
    """Volume name, which mounts refer to; tmp and secrets-store are the operator's."""
    config_map: ConfigMapSource | None = None
    """A ConfigMap, read-only."""
    projected: Projected | None = None
    """ConfigMap keys, pod metadata and tokens together, read-only."""
    empty_dir: EmptyDir | None = None
    """Scratch space with a required sizeLimit."""
    persistent_volume_claim: Claim | None = None
    """An existing claim, by name."""
    ephemeral: Ephemeral | None = None
    """A claim per pod, from a storage class."""

    @pydantic.field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if value in RESERVED_NAMES:
            raise rules.VOLUME_NAME.error()
        return value

    @pydantic.model_validator(mode="after")
    def _one(self) -> Volume:
        if len(self.sources()) != 1:
            raise rules.VOLUME_SOURCE_ONE.error()
        return self

    def sources(self) -> list[str]:
        """Wire names of the sources set."""
        found = (("configMap", self.config_map), ("projected", self.projected),
                 ("emptyDir", self.empty_dir), ("persistentVolumeClaim",
                 self.persistent_volume_claim), ("ephemeral", self.ephemeral))  # fmt: skip
        return [name for name, value in found if value is not None]

    @property
    def writable(self) -> bool:
        """Tell whether a container may write to it (configMap and projected never)."""
        return self.config_map is None and self.projected is None

    def config_maps(self) -> list[str]:
        """Names of the ConfigMaps it reads."""
        found = [self.config_map.name] if self.config_map is not None else []
        for source in self.projected.sources if self.projected is not None else ():
            if source.config_map is not None:
                found.append(source.config_map.name)
        return found

    def token_audiences(self) -> list[str]:
        """Audiences of the ServiceAccount tokens it projects."""
        return [
            source.service_account_token.audience
            for source in (self.projected.sources if self.projected is not None else ())
            if source.service_account_token is not None
        ]


class VolumeMount(types.Model):
    """Where a container sees a declared volume."""

    name: types.DnsLabel
    """The volume, by its name in spec.volumes."""
    mount_path: Annotated[
        str,
        pydantic.Field(
            min_length=2,
            max_length=1024,
            json_schema_extra=rules.schema_extra(rules.MOUNT_PATH_CLEAN),
        ),
    ]
    """Absolute path in the container (no '.', '..' or empty segments), outside /tmp, the
    secrets mount and the token paths."""

    @pydantic.field_validator("mount_path")
    @classmethod
    def _clean(cls, value: str) -> str:
        segments = value.split("/")
        if segments[0] != "" or any(s in ("", ".", "..") for s in segments[1:]):
            raise rules.MOUNT_PATH_CLEAN.error()
        return value

    writable: types.Bool = False
    """Mount read-write (emptyDir, persistentVolumeClaim and ephemeral volumes only);
    read-only otherwise."""
