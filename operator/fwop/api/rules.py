"""The static validation rules of the API, each stated once for two enforcers.

A Rule carries the CEL expression that the API server evaluates at admission (it lands in
the CRD as ``x-kubernetes-validations``) and the exact message that both the API server
and the pydantic models report, so ``kubectl apply`` and ``fwctl`` agree word for word.
The models' validators decide in Python; this module only holds the wording and the CEL.
Must not: import the models (they import this), or do I/O.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pydantic_core

from fwop.api import floor

# Digest-pinned image reference: optional registry host[:port]/, lower-case path, @sha256.
_HOST = r"[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?([.][a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
_PATH = r"[a-z0-9]+([._-]+[a-z0-9]+)*"
IMAGE_PATTERN = f"^({_HOST}(:[0-9]+)?/)?{_PATH}(/{_PATH})*@sha256:[a-f0-9]{{64}}$"
REPOSITORY_COMPONENT_PATTERN = _PATH
"""One path component of an image repository (``payments``, ``api``)."""
ESCALATING_VERBS = ("escalate", "bind", "impersonate")
ERROR_TYPE = "fwop_rule"


@dataclasses.dataclass(frozen=True)
class Rule:
    """One validation rule: CEL for the API server, wording shared with the models."""

    field: str
    """The field the rule is about, as users see it (``spec.replicas``)."""
    text: str
    """What is required, phrased for the user; the control ID is appended."""
    cel: str
    """CEL expression; ``self`` is the schema node the rule is attached to."""
    control: str | None = None
    """Control ID from the catalog, or None for plain API consistency rules."""
    field_path: str | None = None
    """For rules on a parent node: the child the error points at (``.replicas``)."""

    @property
    def message(self) -> str:
        """The message both enforcers report."""
        return f"{self.text} ({self.control})" if self.control else self.text

    def schema_entry(self) -> dict[str, str]:
        """Return the ``x-kubernetes-validations`` entry for this rule."""
        entry = {"rule": self.cel, "message": self.message}
        if self.field_path:
            entry["fieldPath"] = self.field_path
        return entry

    def error(self) -> pydantic_core.PydanticCustomError:
        """Return the error a model validator raises when this rule is broken."""
        context = {"field": self.field, "control": self.control or ""}
        return pydantic_core.PydanticCustomError(ERROR_TYPE, self.message, context)


def schema_extra(*rules: Rule) -> dict[str, Any]:
    """Return ``json_schema_extra`` that attaches these rules to a schema node."""
    return {"x-kubernetes-validations": [rule.schema_entry() for rule in rules]}


def image_is_pinned(image: str) -> bool:
    """Tell whether an image reference is pinned by sha256 digest, without a tag."""
    return re.fullmatch(IMAGE_PATTERN, image) is not None


IMAGE_PINNED = Rule(
    field="spec.image",
    text=(
        "spec.image must be pinned by digest as <repository>@sha256:<64 hex>; "
        "tags, including latest, are rejected"
    ),
    cel=f"self.matches('{IMAGE_PATTERN}')",
    control="IMG-1",
)
RESOURCES_REQUIRED = Rule(
    field="spec.resources",
    text="spec.resources must set requests and limits for both cpu and memory",
    cel=(
        "has(self.resources) && has(self.resources.requests) && has(self.resources.limits)"
        " && has(self.resources.requests.cpu) && has(self.resources.requests.memory)"
        " && has(self.resources.limits.cpu) && has(self.resources.limits.memory)"
    ),
    control="POD-6",
    field_path=".resources",
)
CONTAINER_IMAGE_PINNED = Rule(
    field="spec.containers[].image",
    text=(
        "the image of every container in spec.containers and spec.initContainers must be"
        " pinned by digest as <repository>@sha256:<64 hex>; tags, including latest, are"
        " rejected"
    ),
    cel=IMAGE_PINNED.cel,
    control="IMG-1",
)
CONTAINER_RESOURCES = Rule(
    field="spec.containers[].resources",
    text=(
        "every container in spec.containers and spec.initContainers must set requests and"
        " limits for both cpu and memory"
    ),
    cel=RESOURCES_REQUIRED.cel,
    control="POD-6",
    field_path=".resources",
)
CONTAINER_NAME = Rule(
    field="spec.containers[].name",
    text=(
        "spec.containers[].name and spec.initContainers[].name: app is the main container's"
        " name (declared by spec.image), choose another"
    ),
    cel="self.name != 'app'",
    field_path=".name",
)
CONTAINER_NAMES_UNIQUE = Rule(
    field="spec.initContainers",
    text="container names are unique across spec.containers and spec.initContainers",
    cel="!has(self.containers) || !has(self.initContainers)"
    " || self.initContainers.all(i, !self.containers.exists(c, c.name == i.name))",
    field_path=".initContainers",
)
INIT_CONTAINER_RUNS_ONCE = Rule(
    field="spec.initContainers[]",
    text=(
        "spec.initContainers[]: ports and probes are for sidecars (restartPolicy: Always);"
        " an init container without it runs to completion before the app starts"
    ),
    cel="(has(self.restartPolicy) && self.restartPolicy == 'Always')"
    " || (!has(self.probes) && (!has(self.ports) || size(self.ports) == 0))",
)
_NO_SECRETS_MOUNT = "(!has(self.{0}) || self.{0}.all(c, !has(c.mountSecrets) || !c.mountSecrets))"
MOUNT_SECRETS_NEEDS_SECRETS = Rule(
    field="spec.secrets",
    text=(
        "mountSecrets in spec.containers or spec.initContainers needs spec.secrets: there is"
        " no secrets mount without it"
    ),
    cel=f"has(self.secrets) || ({_NO_SECRETS_MOUNT.format('containers')}"
    f" && {_NO_SECRETS_MOUNT.format('initContainers')})",
    control="SEC-1",
    field_path=".secrets",
)
NO_PARENT_PATH = Rule(
    field="spec.volumes path",
    text="a file path in spec.volumes is relative and has no '..' segment",
    cel="!self.matches('(^|/)[.][.](/|$)')",
)
MOUNT_PATH_CLEAN = Rule(
    field="spec.volumeMounts[].mountPath",
    text="a mountPath in spec.volumeMounts is an absolute path without '.', '..' or empty"
    " segments, and not / itself",
    cel="self.matches('^(/[^/]+)+$') && !self.matches('(^|/)[.]{1,2}(/|$)')",
)
PROJECTED_SOURCE_ONE = Rule(
    field="spec.volumes[].projected.sources[]",
    text="a projected source in spec.volumes sets exactly one of configMap, downwardAPI or"
    " serviceAccountToken",
    cel="(has(self.configMap) ? 1 : 0) + (has(self.downwardAPI) ? 1 : 0)"
    " + (has(self.serviceAccountToken) ? 1 : 0) == 1",
)
VOLUME_SOURCE_ONE = Rule(
    field="spec.volumes[]",
    text="a volume in spec.volumes sets exactly one of configMap, projected, emptyDir,"
    " persistentVolumeClaim or ephemeral (hostPath, secret and other types are never"
    " allowed: POD-5, SEC-1)",
    cel="(has(self.configMap) ? 1 : 0) + (has(self.projected) ? 1 : 0)"
    " + (has(self.emptyDir) ? 1 : 0) + (has(self.persistentVolumeClaim) ? 1 : 0)"
    " + (has(self.ephemeral) ? 1 : 0) == 1",
)
VOLUME_NAME = Rule(
    field="spec.volumes[].name",
    text="spec.volumes[].name: tmp and secrets-store are the operator's own volumes",
    cel="self.name != 'tmp' && self.name != 'secrets-store'",
    field_path=".name",
)
JOB_RUNS_TO_COMPLETION = Rule(
    field="spec.job",
    text="spec.job runs to completion: spec.ports, spec.autoscaling, spec.rollout and"
    " spec.externallyManaged are for long-running services",
    cel="!has(self.job) || (!has(self.autoscaling) && !has(self.rollout)"
    " && (!has(self.ports) || size(self.ports) == 0)"
    " && (!has(self.externallyManaged) || size(self.externallyManaged) == 0))",
    field_path=".job",
)
NO_WILDCARD_API_GROUPS = Rule(
    field="spec.permissions[].apiGroups",
    text="spec.permissions[].apiGroups must not contain '*'",
    cel="self.all(g, g != '*')",
    control="RBAC-2",
)
NO_WILDCARD_RESOURCES = Rule(
    field="spec.permissions[].resources",
    text="spec.permissions[].resources must not contain '*'",
    cel="self.all(r, !r.contains('*'))",
    control="RBAC-2",
)
NO_WILDCARD_VERBS = Rule(
    field="spec.permissions[].verbs",
    text="spec.permissions[].verbs must not contain '*'",
    cel="self.all(v, v != '*')",
    control="RBAC-2",
)
NO_ESCALATING_VERBS = Rule(
    field="spec.permissions[].verbs",
    text="spec.permissions[].verbs must not contain escalate, bind or impersonate",
    cel="self.all(v, !(v in ['escalate', 'bind', 'impersonate']))",
    control="RBAC-2",
)
NO_WILDCARD_NAMES = Rule(
    field="spec.permissions[].resourceNames",
    text="spec.permissions[].resourceNames must not contain '*'",
    cel="self.all(n, !n.contains('*'))",
    control="RBAC-2",
)
PERMISSION_FLOOR: dict[str, Rule] = {
    c.key: Rule(
        field="spec.permissions[]",
        text=(
            f"spec.permissions[] must not grant what {c.why}: {c.summary()}; "
            "no cluster policy can allow it"
        ),
        cel=floor.cel(c),
        control="RBAC-3",
    )
    for c in floor.CLASSES
}
"""The hard floor of RBAC-3, one rule per class, as the CRD states it on each rule."""
NOT_DEFAULT_NAME = Rule(
    field="metadata.name",
    text=(
        "metadata.name must not be default: the workload's ServiceAccount would be the "
        "namespace's own default ServiceAccount, which the operator never takes over"
    ),
    cel="self.metadata.name != 'default'",
    control="OWN-1",
)
PCI_MIN_REPLICAS = Rule(
    field="spec.replicas",
    text="spec.replicas must be at least 2 under profile pci (a spec.job excepted)",
    cel="self.profile != 'pci' || has(self.job) || (has(self.replicas) && self.replicas >= 2)",
    control="AVL-1",
    field_path=".replicas",
)
PCI_MIN_AUTOSCALING = Rule(
    field="spec.autoscaling",
    text="spec.autoscaling.minReplicas must be at least 2 under profile pci",
    cel="self.profile != 'pci' || !has(self.autoscaling)"
    " || (has(self.autoscaling.minReplicas) && self.autoscaling.minReplicas >= 2)",
    control="AVL-1",
    field_path=".autoscaling",
)
AUTOSCALING_EXCLUSIVE = Rule(
    field="spec.autoscaling",
    text="spec.autoscaling renders the autoscaler that owns replicas; externallyManaged:"
    " [replicas] is for an autoscaler managed elsewhere: set one of them",
    cel="!has(self.autoscaling) || !has(self.externallyManaged)"
    " || !self.externallyManaged.exists(f, f == 'replicas')",
    field_path=".autoscaling",
)
AUTOSCALING_TARGET = Rule(
    field="spec.autoscaling",
    text="spec.autoscaling sets targetCPUUtilization, targetMemoryUtilization or both",
    cel="has(self.targetCPUUtilization) || has(self.targetMemoryUtilization)",
)
AUTOSCALING_RANGE = Rule(
    field="spec.autoscaling",
    text="spec.autoscaling.minReplicas must not exceed maxReplicas",
    cel="!has(self.minReplicas) || self.minReplicas <= self.maxReplicas",
)
ROLLOUT_PROGRESS = Rule(
    field="spec.rollout",
    text="spec.rollout: maxSurge and maxUnavailable cannot both be 0 (no pod could ever be"
    " replaced)",
    cel="!(has(self.maxSurge) && has(self.maxUnavailable) && (self.maxSurge == 0"
    " || self.maxSurge == '0%') && (self.maxUnavailable == 0 || self.maxUnavailable == '0%'))",
)
_NOT_RESERVED = (
    "!k.startsWith('finance.compliance.dev/') && !k.contains('kubernetes.io/')"
    " && !k.contains('k8s.io/')"
)
RESERVED_LABELS = Rule(
    field="spec.podMetadata",
    text="spec.podMetadata.labels: keys under finance.compliance.dev/ or containing"
    " kubernetes.io/ or k8s.io/ are reserved (they select and guard other objects), and"
    " azure.workload.identity/ (a cloud identity is declared in spec.identity)",
    cel=f"!has(self.labels) || self.labels.all(k, {_NOT_RESERVED}"
    " && !k.startsWith('azure.workload.identity/'))",
    control="PLC-1",
)
RESERVED_ANNOTATIONS = Rule(
    field="spec.podMetadata",
    text="spec.podMetadata.annotations: keys under finance.compliance.dev/, containing"
    " kubernetes.io/ or k8s.io/, or a service mesh's (sidecar.istio.io/, linkerd.io/) are"
    " reserved, and azure.workload.identity/ (a cloud identity is declared in spec.identity)",
    cel=f"!has(self.annotations) || self.annotations.all(k, {_NOT_RESERVED}"
    " && !k.startsWith('sidecar.istio.io/') && !k.startsWith('linkerd.io/')"
    " && !k.startsWith('config.linkerd.io/') && !k.startsWith('azure.workload.identity/'))",
    control="PLC-1",
)
TOLERATION_KEY = Rule(
    field="spec.placement.tolerations",
    text="spec.placement.tolerations: a toleration names its taint's key, and never one of"
    " Kubernetes' own (control-plane nodes, node conditions) nor the operator's",
    cel=_NOT_RESERVED.replace("k.", "self.key."),
    control="PLC-1",
)
TOLERATION_VALUE = Rule(
    field="spec.placement.tolerations",
    text="spec.placement.tolerations: operator Exists takes no value",
    cel="!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
)
SYSTEM_PRIORITY = Rule(
    field="spec.placement",
    text="spec.placement.priorityClassName: the system-* classes are the cluster's own",
    cel="!has(self.priorityClassName) || !self.priorityClassName.startsWith('system-')",
    control="PLC-1",
)
PRESTOP_ONE = Rule(
    field="spec.shutdown.preStop",
    text="spec.shutdown.preStop sets exactly one of sleepSeconds or exec",
    cel="has(self.sleepSeconds) != has(self.exec)",
)
CLOUD_ONE = Rule(
    field="spec.identity.cloud",
    text="spec.identity.cloud sets exactly one of aws, gcp or azure",
    cel="(has(self.aws) ? 1 : 0) + (has(self.gcp) ? 1 : 0) + (has(self.azure) ? 1 : 0) == 1",
    control="IDN-1",
)
SELECTOR_EXPRESSION = Rule(
    field="spec.network selector expression",
    text="spec.network: a matchExpressions entry lists values for In and NotIn, and none for"
    " Exists and DoesNotExist",
    cel="(self.operator == 'In' || self.operator == 'NotIn')"
    " == (has(self.values) && size(self.values) > 0)",
    control="NET-2",
)
END_PORT = Rule(
    field="spec.network egress port",
    text="spec.network: an egress port range (endPort) starts at a port number no greater"
    " than its end",
    cel="!has(self.endPort) || (type(self.port) == int && self.endPort >= self.port)",
    control="NET-2",
)
API_SERVER_NEEDS_PERMISSIONS = Rule(
    field="spec.network",
    text="spec.network.allowAPIServer needs spec.permissions: a workload without them has no"
    " API token",
    cel="!has(self.network) || !has(self.network.allowAPIServer)"
    " || !self.network.allowAPIServer || (has(self.permissions) && size(self.permissions) > 0)",
    control="NET-2",
    field_path=".network",
)
PEER_SHAPE = Rule(
    field="spec.network peer",
    text="a spec.network peer sets podSelector and/or namespaceSelector, or ipBlock alone",
    cel=(
        "has(self.ipBlock) ? !has(self.podSelector) && !has(self.namespaceSelector)"
        " : has(self.podSelector) || has(self.namespaceSelector)"
    ),
    control="NET-2",
)
CIDR_VALID = Rule(
    field="spec.network peer ipBlock",
    text=(
        "spec.network ipBlock cidr and except entries must be valid CIDRs with no bits set "
        "beyond the prefix length, and not IPv4-mapped IPv6 (::ffff:0:0/96)"
    ),
    cel=(
        "[self.cidr].all(c, isCIDR(c) && cidr(c) == cidr(c).masked()"
        " && !c.lowerAscii().startsWith('::ffff:'))"
        " && (!has(self.except) || self.except.all(c, isCIDR(c)"
        " && cidr(c) == cidr(c).masked() && !c.lowerAscii().startsWith('::ffff:')))"
    ),
    control="NET-2",
)
PROBE_HANDLER = Rule(
    field="spec.probes",
    text="a probe in spec.probes sets exactly one of httpGet, tcpSocket, grpc or exec",
    cel="(has(self.httpGet) ? 1 : 0) + (has(self.tcpSocket) ? 1 : 0)"
    " + (has(self.grpc) ? 1 : 0) + (has(self.exec) ? 1 : 0) == 1",
)
PROBE_SUCCESS_THRESHOLD = Rule(
    field="spec.probes",
    text="spec.probes.liveness and spec.probes.startup take successThreshold 1 (Kubernetes"
    " counts one success); only readiness may ask for more",
    cel="(!has(self.liveness) || !has(self.liveness.successThreshold)"
    " || self.liveness.successThreshold == 1) && (!has(self.startup)"
    " || !has(self.startup.successThreshold) || self.startup.successThreshold == 1)",
)
VAULT_BLOCK = Rule(
    field="spec.secrets.vault",
    text="spec.secrets.vault is required when provider is vault and forbidden otherwise",
    cel="(self.provider == 'vault') == has(self.vault)",
    control="SEC-1",
    field_path=".vault",
)
AZURE_BLOCK = Rule(
    field="spec.secrets.azure",
    text="spec.secrets.azure is required when provider is azure and forbidden otherwise",
    cel="(self.provider == 'azure') == has(self.azure)",
    control="SEC-1",
    field_path=".azure",
)
AWS_BLOCK = Rule(
    field="spec.secrets.aws",
    text="spec.secrets.aws is only allowed when provider is aws",
    cel="!has(self.aws) || self.provider == 'aws'",
    control="SEC-1",
    field_path=".aws",
)
KEY_NEEDS_VAULT = Rule(
    field="spec.secrets.objects",
    text="spec.secrets.objects[].key is only supported by provider vault",
    cel="self.provider == 'vault' || self.objects.all(o, !has(o.key))",
    control="SEC-1",
    field_path=".objects",
)
MOUNT_PATH = Rule(
    field="spec.secrets.mountPath",
    text="spec.secrets.mountPath must be an absolute path other than / and /tmp",
    cel="self.startsWith('/') && self != '/' && self != '/tmp'",
    control="SEC-1",
)

ALL: tuple[Rule, ...] = (
    IMAGE_PINNED,
    RESOURCES_REQUIRED,
    CONTAINER_IMAGE_PINNED,
    CONTAINER_RESOURCES,
    CONTAINER_NAME,
    CONTAINER_NAMES_UNIQUE,
    INIT_CONTAINER_RUNS_ONCE,
    MOUNT_SECRETS_NEEDS_SECRETS,
    NO_PARENT_PATH,
    MOUNT_PATH_CLEAN,
    PROJECTED_SOURCE_ONE,
    VOLUME_SOURCE_ONE,
    VOLUME_NAME,
    JOB_RUNS_TO_COMPLETION,
    NO_WILDCARD_API_GROUPS,
    NO_WILDCARD_RESOURCES,
    NO_WILDCARD_VERBS,
    NO_ESCALATING_VERBS,
    NO_WILDCARD_NAMES,
    *PERMISSION_FLOOR.values(),
    NOT_DEFAULT_NAME,
    PCI_MIN_REPLICAS,
    PCI_MIN_AUTOSCALING,
    AUTOSCALING_EXCLUSIVE,
    AUTOSCALING_TARGET,
    AUTOSCALING_RANGE,
    ROLLOUT_PROGRESS,
    RESERVED_LABELS,
    RESERVED_ANNOTATIONS,
    TOLERATION_KEY,
    TOLERATION_VALUE,
    SYSTEM_PRIORITY,
    PRESTOP_ONE,
    CLOUD_ONE,
    SELECTOR_EXPRESSION,
    END_PORT,
    API_SERVER_NEEDS_PERMISSIONS,
    PEER_SHAPE,
    CIDR_VALID,
    PROBE_HANDLER,
    PROBE_SUCCESS_THRESHOLD,
    VAULT_BLOCK,
    AZURE_BLOCK,
    AWS_BLOCK,
    KEY_NEEDS_VAULT,
    MOUNT_PATH,
)
