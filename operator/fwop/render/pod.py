"""Render the hardened pod template of the workload's Deployment.

Non-root with fixed non-zero IDs (POD-1), read-only root filesystem with an emptyDir at
/tmp (POD-2), no privilege escalation and no capabilities (POD-3), RuntimeDefault seccomp
(POD-4), resources (POD-6), the workload's own ServiceAccount (RBAC-1) and secrets as a
read-only CSI volume (SEC-1). Must not: render privileged mode, host namespaces or
hostPath volumes (POD-5); PSS restricted on the namespace refuses them anyway.
"""

from __future__ import annotations

from fwop.api import containers, placement, pod, volumes
from fwop.render import meta, scheduling, secretproviderclass, serviceaccount

CONTAINER = containers.MAIN
_BEFORE_APP = (containers.Role.INIT, containers.Role.SIDECAR)
RUN_AS = 10001  # fixed non-root UID/GID; PSS restricted forbids 0
TMP_VOLUME = "tmp"
TMP_PATH = "/tmp"
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


def _handler(probe: pod.Probe) -> meta.Manifest:
    name, handler = probe.handler
    if isinstance(handler, pod.HttpGet):
        out: meta.Manifest = {"path": handler.path, "port": handler.port,
                              "scheme": str(handler.scheme)}  # fmt: skip
        if handler.http_headers:
            out["httpHeaders"] = [{"name": h.name, "value": h.value} for h in handler.http_headers]
    elif isinstance(handler, pod.Grpc):
        out = {"port": handler.port, **({"service": handler.service} if handler.service else {})}
    elif isinstance(handler, pod.ExecAction):
        out = {"command": list(handler.command)}
    else:
        out = {"port": handler.port}
    return {name: out}


def _probe(probe: pod.Probe) -> meta.Manifest:
    return {
        **_handler(probe),
        "initialDelaySeconds": probe.initial_delay_seconds,
        "periodSeconds": probe.period_seconds,
        "timeoutSeconds": probe.timeout_seconds,
        "failureThreshold": probe.failure_threshold,
        "successThreshold": probe.success_threshold,
    }


def _resources(resources: pod.Resources) -> meta.Manifest:
    return {
        "requests": {"cpu": resources.requests.cpu, "memory": resources.requests.memory},
        "limits": {"cpu": resources.limits.cpu, "memory": resources.limits.memory},
    }


def _mounts(ctx: meta.Context, declared: containers.Container) -> list[meta.Manifest]:
    mounts: list[meta.Manifest] = [{"name": TMP_VOLUME, "mountPath": TMP_PATH}]
    if ctx.spec.secrets is not None and declared.mount_secrets:
        mounts.append(
            {"name": SECRETS_VOLUME, "mountPath": ctx.spec.secrets.mount_path, "readOnly": True}
        )
    # readOnly is omitted when false, as the API server stores it (a false would read as
    # drift on every pass).
    mounts.extend(
        {"name": m.name, "mountPath": m.mount_path, **({} if m.writable else {"readOnly": True})}
        for m in declared.volume_mounts
    )
    return mounts


def _items(source: volumes.ConfigMapSource) -> meta.Manifest:
    out: meta.Manifest = {"name": source.name}
    if source.items:
        out["items"] = [{"key": item.key, "path": item.path} for item in source.items]
    if source.optional:
        out["optional"] = True
    return out


def _projected(source: volumes.ProjectedSource) -> meta.Manifest:
    if source.config_map is not None:
        return {"configMap": _items(source.config_map)}
    if source.downward_api is not None:
        items = [{"path": i.path, "fieldRef": {"apiVersion": "v1", "fieldPath": str(i.field_path)}}
                 for i in source.downward_api]  # fmt: skip
        return {"downwardAPI": {"items": items}}
    token = source.service_account_token
    assert token is not None  # the model holds exactly one source
    return {"serviceAccountToken": {"audience": token.audience,
            "expirationSeconds": token.expiration_seconds, "path": token.path}}  # fmt: skip


def _ephemeral(ctx: meta.Context, claim: volumes.Ephemeral) -> meta.Manifest:
    spec = {
        "accessModes": [str(claim.access_mode)],
        "storageClassName": claim.storage_class_name,
        "resources": {"requests": {"storage": claim.size}},
    }
    return {"volumeClaimTemplate": {"metadata": {"labels": meta.labels(ctx.name)}, "spec": spec}}


def _volume(ctx: meta.Context, volume: volumes.Volume, written: set[str]) -> meta.Manifest:
    out: meta.Manifest = {"name": volume.name}
    if volume.config_map is not None:
        out["configMap"] = _items(volume.config_map)
    elif volume.projected is not None:
        out["projected"] = {"sources": [_projected(s) for s in volume.projected.sources]}
    elif volume.empty_dir is not None:
        out["emptyDir"] = {"sizeLimit": volume.empty_dir.size_limit}
        if volume.empty_dir.medium is not None:
            out["emptyDir"]["medium"] = str(volume.empty_dir.medium)
    elif volume.persistent_volume_claim is not None:
        claim: meta.Manifest = {"claimName": volume.persistent_volume_claim.claim_name}
        if volume.name not in written:
            claim["readOnly"] = True
        out["persistentVolumeClaim"] = claim
    elif volume.ephemeral is not None:
        out["ephemeral"] = _ephemeral(ctx, volume.ephemeral)
    return out


def _volumes(ctx: meta.Context) -> list[meta.Manifest]:
    tmp = {"name": TMP_VOLUME, "emptyDir": {"sizeLimit": ctx.spec.tmp_size_limit}}
    out: list[meta.Manifest] = [tmp]
    if ctx.spec.secrets is not None:
        csi = {
            "driver": CSI_DRIVER,
            "readOnly": True,
            "volumeAttributes": {"secretProviderClass": secretproviderclass.name(ctx)},
        }
        out.append({"name": SECRETS_VOLUME, "csi": csi})
    # A claim nobody writes is attached read-only too, not only mounted so.
    written = {m.name for p in ctx.spec.pod_containers()
               for m in p.container.volume_mounts if m.writable}  # fmt: skip
    out.extend(_volume(ctx, volume, written) for volume in ctx.spec.volumes)
    return out


def _pre_stop(ctx: meta.Context) -> meta.Manifest | None:
    pre_stop = ctx.spec.shutdown.pre_stop if ctx.spec.shutdown is not None else None
    if pre_stop is None:
        return None
    action: meta.Manifest = (
        {"exec": {"command": list(pre_stop.exec_)}}
        if pre_stop.exec_ is not None
        else {"sleep": {"seconds": pre_stop.sleep_seconds}}
    )
    return {"preStop": action}


def container(ctx: meta.Context, placed: containers.Placed | None = None) -> meta.Manifest:
    """Return one container of the pod, hardened; the main one when ``placed`` is None."""
    placed = placed or containers.Placed("spec", containers.Role.MAIN, ctx.spec.main_container)
    declared = placed.container
    out: meta.Manifest = {"name": declared.name, "image": declared.image}
    if placed.role is containers.Role.SIDECAR:
        out["restartPolicy"] = str(containers.RestartPolicy.ALWAYS)
    if declared.command:
        out["command"] = list(declared.command)
    if declared.args:
        out["args"] = list(declared.args)
    if declared.env:
        out["env"] = [{"name": var.name, "value": var.value} for var in declared.env]
    if declared.ports:
        out["ports"] = [
            {"name": p.name, "containerPort": p.container_port, "protocol": str(p.protocol)}
            for p in declared.ports
        ]
    out["resources"] = _resources(declared.resources)
    for kind, probe in declared.probes.declared() if declared.probes is not None else ():
        out[f"{kind}Probe"] = _probe(probe)
    lifecycle = _pre_stop(ctx) if placed.role is containers.Role.MAIN else None
    if lifecycle is not None:
        out["lifecycle"] = lifecycle
    out["securityContext"] = dict(CONTAINER_SECURITY)
    out["volumeMounts"] = _mounts(ctx, declared)
    return out


def _toleration(toleration: placement.Toleration) -> meta.Manifest:
    out: meta.Manifest = {"key": toleration.key, "operator": str(toleration.operator)}
    if toleration.value:
        out["value"] = toleration.value
    if toleration.effect is not None:
        out["effect"] = str(toleration.effect)
    if toleration.toleration_seconds is not None:
        out["tolerationSeconds"] = toleration.toleration_seconds
    return out


def _placement(ctx: meta.Context, pod_spec: meta.Manifest) -> None:
    """The declared pool, tolerations, classes and grace period (PLC-1)."""
    chosen = ctx.spec.placement
    if chosen is not None:
        if chosen.node_selector:
            pod_spec["nodeSelector"] = dict(chosen.node_selector)
        if chosen.tolerations:
            pod_spec["tolerations"] = [_toleration(t) for t in chosen.tolerations]
        if chosen.priority_class_name is not None:
            pod_spec["priorityClassName"] = chosen.priority_class_name
        if chosen.runtime_class_name is not None:
            pod_spec["runtimeClassName"] = chosen.runtime_class_name
    if ctx.spec.shutdown is not None:
        seconds = ctx.spec.shutdown.termination_grace_period_seconds
        pod_spec["terminationGracePeriodSeconds"] = seconds


def _metadata(ctx: meta.Context) -> meta.Manifest:
    """Pod labels and annotations: the team's, then the operator's (which select the pods)."""
    declared = ctx.spec.pod_metadata
    cloud = ctx.spec.identity.cloud if ctx.spec.identity is not None else None
    labels = {
        **(declared.labels if declared else {}),
        **(cloud.pod_labels() if cloud is not None else {}),
        **meta.labels(ctx.name),
    }
    out: meta.Manifest = {"labels": labels}
    if declared is not None and declared.annotations:
        out["annotations"] = dict(declared.annotations)
    return out


def template(ctx: meta.Context) -> meta.Manifest:
    """Return the pod template: labels and the hardened pod spec."""
    rendered: dict[str, list[meta.Manifest]] = {"initContainers": [], "containers": []}
    for placed in ctx.spec.pod_containers():
        into = "initContainers" if placed.role in _BEFORE_APP else "containers"
        rendered[into].append(container(ctx, placed))
    pod_spec: meta.Manifest = {
        "serviceAccountName": serviceaccount.name(ctx),
        "automountServiceAccountToken": serviceaccount.needs_token(ctx),
        "securityContext": dict(POD_SECURITY),
        **{key: items for key, items in rendered.items() if items},
        "volumes": _volumes(ctx),
    }
    affinity = scheduling.affinity(ctx)
    if affinity:
        pod_spec["affinity"] = affinity
    pod_spec["topologySpreadConstraints"] = scheduling.spread(ctx)
    _placement(ctx, pod_spec)
    if ctx.spec.identity is not None and ctx.spec.identity.image_pull_secrets:
        pod_spec["imagePullSecrets"] = [{"name": n} for n in ctx.spec.identity.image_pull_secrets]
    return {"metadata": _metadata(ctx), "spec": pod_spec}
