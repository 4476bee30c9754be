"""Render the hardened pod template of the workload's Deployment.

Non-root with fixed non-zero IDs (POD-1), read-only root filesystem with an emptyDir at
/tmp (POD-2), no privilege escalation and no capabilities (POD-3), RuntimeDefault seccomp
(POD-4), resources (POD-6), the workload's own ServiceAccount (RBAC-1) and secrets as a
read-only CSI volume (SEC-1). Must not: render privileged mode, host namespaces or
hostPath volumes (POD-5); PSS restricted on the namespace refuses them anyway.
"""

from __future__ import annotations

from fwop.api import pod
from fwop.render import meta, scheduling, secretproviderclass, serviceaccount

CONTAINER = "app"
RUN_AS = 10001  # fixed non-root UID/GID; PSS restricted forbids 0
TMP_VOLUME = "tmp"
TMP_PATH = "/tmp"
TMP_SIZE_LIMIT = "64Mi"
SECRETS_VOLUME = "secrets-store"
CSI_DRIVER = "secrets-store.csi.k8s.io"

POD_SECURITY: meta.Manifest = {
    "runAsNonRoot": True,
    "runAsUser": RUN_AS,
    "runAsGroup": RUN_AS,
    "fsGroup": RUN_AS,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY: meta.Manifest = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
}


def _probe(probe: pod.Probe) -> meta.Manifest:
    out: meta.Manifest = {}
    if probe.http_get is not None:
        out["httpGet"] = {"path": probe.http_get.path, "port": probe.http_get.port}
    if probe.tcp_socket is not None:
        out["tcpSocket"] = {"port": probe.tcp_socket.port}
    out["initialDelaySeconds"] = probe.initial_delay_seconds
    out["periodSeconds"] = probe.period_seconds
    out["timeoutSeconds"] = probe.timeout_seconds
    out["failureThreshold"] = probe.failure_threshold
    return out


def _resources(resources: pod.Resources) -> meta.Manifest:
    return {
        "requests": {"cpu": resources.requests.cpu, "memory": resources.requests.memory},
        "limits": {"cpu": resources.limits.cpu, "memory": resources.limits.memory},
    }


def _mounts(ctx: meta.Context) -> list[meta.Manifest]:
    mounts: list[meta.Manifest] = [{"name": TMP_VOLUME, "mountPath": TMP_PATH}]
    if ctx.spec.secrets is not None:
        mounts.append(
            {"name": SECRETS_VOLUME, "mountPath": ctx.spec.secrets.mount_path, "readOnly": True}
        )
    return mounts


def _volumes(ctx: meta.Context) -> list[meta.Manifest]:
    volumes: list[meta.Manifest] = [{"name": TMP_VOLUME, "emptyDir": {"sizeLimit": TMP_SIZE_LIMIT}}]
    if ctx.spec.secrets is not None:
        csi = {
            "driver": CSI_DRIVER,
            "readOnly": True,
            "volumeAttributes": {"secretProviderClass": secretproviderclass.name(ctx)},
        }
        volumes.append({"name": SECRETS_VOLUME, "csi": csi})
    return volumes


def container(ctx: meta.Context) -> meta.Manifest:
    """Return the workload's single container."""
    spec = ctx.spec
    out: meta.Manifest = {"name": CONTAINER, "image": spec.image}
    if spec.command:
        out["command"] = list(spec.command)
    if spec.args:
        out["args"] = list(spec.args)
    if spec.env:
        out["env"] = [{"name": var.name, "value": var.value} for var in spec.env]
    if spec.ports:
        out["ports"] = [
            {"name": p.name, "containerPort": p.container_port, "protocol": str(p.protocol)}
            for p in spec.ports
        ]
    out["resources"] = _resources(spec.resources)
    if spec.probes is not None and spec.probes.liveness is not None:
        out["livenessProbe"] = _probe(spec.probes.liveness)
    if spec.probes is not None and spec.probes.readiness is not None:
        out["readinessProbe"] = _probe(spec.probes.readiness)
    out["securityContext"] = dict(CONTAINER_SECURITY)
    out["volumeMounts"] = _mounts(ctx)
    return out


def template(ctx: meta.Context) -> meta.Manifest:
    """Return the pod template: labels and the hardened pod spec."""
    pod_spec: meta.Manifest = {
        "serviceAccountName": serviceaccount.name(ctx),
        "automountServiceAccountToken": serviceaccount.needs_token(ctx),
        "securityContext": dict(POD_SECURITY),
        "containers": [container(ctx)],
        "volumes": _volumes(ctx),
    }
    affinity = scheduling.affinity(ctx)
    if affinity:
        pod_spec["affinity"] = affinity
    pod_spec["topologySpreadConstraints"] = scheduling.spread(ctx)
    return {"metadata": {"labels": meta.labels(ctx.name)}, "spec": pod_spec}
