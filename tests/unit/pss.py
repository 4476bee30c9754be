"""An independent checker of the Pod Security Standards "restricted" profile, for tests.

The rules are those of Kubernetes v1.37, as kubernetes.io/docs/concepts/security/
pod-security-standards lists them and the PodSecurity admission plugin
(k8s.io/pod-security-admission/policy) checks them; every container list counts:
``containers``, ``initContainers`` and ``ephemeralContainers``.

Baseline controls (restricted includes them): no HostProcess; no host namespaces
(hostNetwork, hostPID, hostIPC); no privileged containers; no hostPath volume; no hostPort;
no ``host`` in probes and lifecycle handlers (v1.34+); AppArmor profile RuntimeDefault or
Localhost (field and beta annotations); SELinux type container_t, container_init_t,
container_kvm_t or container_engine_t (v1.31+), no user or role; procMount Default; only
the safe sysctls. Restricted controls: only the volume types configMap, csi, downwardAPI,
emptyDir, ephemeral, persistentVolumeClaim, projected, secret; allowPrivilegeEscalation
false; runAsNonRoot true (on the pod, or on every container) and never false; runAsUser
never 0; seccomp RuntimeDefault or Localhost (on the pod, or on every container) and never
anything else; capabilities drop ALL, add at most NET_BIND_SERVICE.

Deliberately stricter than the admission plugin in three corners, so a pod this module
passes is always admitted: the relaxations for user-namespaced pods (``hostUsers: false``)
and for Windows pods (``os.name: windows``) are not applied, and ``image`` volumes (allowed
by the plugin since v1.33, not yet in the documented list) are refused. The optional
"non-root groups" control, which the plugin does not enforce, is not checked.

The checker works on plain dicts (as rendered or read from YAML) and never raises on a
malformed spec: a field of the wrong shape is judged as absent. Must not: import fwop.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

ALLOWED_VOLUME_TYPES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
"""Inline volume sources the restricted profile allows."""
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",  # v1.27+
        "net.ipv4.tcp_keepalive_time",  # v1.29+
        "net.ipv4.tcp_fin_timeout",  # v1.29+
        "net.ipv4.tcp_keepalive_intvl",  # v1.29+
        "net.ipv4.tcp_keepalive_probes",  # v1.29+
        "net.ipv4.tcp_rmem",  # v1.32+
        "net.ipv4.tcp_wmem",  # v1.32+
    }
)
"""The "safe" sysctls: namespaced and isolated from other pods on the node."""
SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}  # v1.31+
)
"""SELinux types a pod or container may set."""
PROFILE_TYPES = frozenset({"RuntimeDefault", "Localhost"})
"""Allowed seccompProfile.type and appArmorProfile.type values."""
ADDABLE_CAPABILITY = "NET_BIND_SERVICE"
DROP_ALL = "ALL"
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
LIFECYCLE_HANDLERS = ("postStart", "preStop")
LEVEL = "restricted"
MODES = ("enforce", "audit", "warn")
LABEL_PREFIX = "pod-security.kubernetes.io"

Pod = Mapping[str, Any]


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def containers(pod_spec: Pod) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every container of every kind, with its field path (``spec.initContainers[0]``)."""
    for kind in CONTAINER_LISTS:
        for index, container in enumerate(_list(pod_spec.get(kind))):
            yield f"spec.{kind}[{index}]", _map(container)


def _security(holder: Mapping[str, Any]) -> Mapping[str, Any]:
    return _map(holder.get("securityContext"))


def _host_process(pod_spec: Pod) -> Iterator[str]:
    where = [("spec", _security(pod_spec))]
    where += [(path, _security(c)) for path, c in containers(pod_spec)]
    for path, context in where:
        if _map(context.get("windowsOptions")).get("hostProcess") is True:
            yield f"HostProcess: {path}.securityContext.windowsOptions.hostProcess is true"


def _host_namespaces(pod_spec: Pod) -> Iterator[str]:
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(field) is True:
            yield f"Host Namespaces: spec.{field} is true; allowed: false or undefined"


def _privileged(pod_spec: Pod) -> Iterator[str]:
    for path, container in containers(pod_spec):
        if _security(container).get("privileged") is True:
            yield f"Privileged Containers: {path}.securityContext.privileged is true"


def _host_ports(pod_spec: Pod) -> Iterator[str]:
    for path, container in containers(pod_spec):
        for index, port in enumerate(_list(container.get("ports"))):
            host_port = _map(port).get("hostPort")
            if host_port not in (None, 0):
                yield f"Host Ports: {path}.ports[{index}].hostPort is {host_port}; allowed: 0"


def _handler_hosts(handler: object, where: str) -> Iterator[str]:
    for kind in ("httpGet", "tcpSocket"):
        host = _map(_map(handler).get(kind)).get("host")
        if host not in (None, ""):
            yield f"Host Probes / Lifecycle Hooks: {where}.{kind}.host is {host!r}"


def _probe_hosts(pod_spec: Pod) -> Iterator[str]:
    for path, container in containers(pod_spec):
        for probe in PROBES:
            yield from _handler_hosts(container.get(probe), f"{path}.{probe}")
        lifecycle = _map(container.get("lifecycle"))
        for hook in LIFECYCLE_HANDLERS:
            yield from _handler_hosts(lifecycle.get(hook), f"{path}.lifecycle.{hook}")


def _apparmor(pod_spec: Pod, annotations: Mapping[str, str]) -> Iterator[str]:
    where = [("spec", _security(pod_spec))]
    where += [(path, _security(c)) for path, c in containers(pod_spec)]
    for path, context in where:
        profile = context.get("appArmorProfile")
        if profile is not None and _map(profile).get("type") not in PROFILE_TYPES:
            kind = _map(profile).get("type")
            yield f"AppArmor: {path}.securityContext.appArmorProfile.type is {kind!r}"
    for key, value in annotations.items():
        if not key.startswith(APPARMOR_ANNOTATION):
            continue
        if value and value != "runtime/default" and not str(value).startswith("localhost/"):
            yield f"AppArmor: annotation {key} is {value!r}; allowed: runtime/default, localhost/*"


def _selinux(pod_spec: Pod) -> Iterator[str]:
    where = [("spec", _security(pod_spec))]
    where += [(path, _security(c)) for path, c in containers(pod_spec)]
    for path, context in where:
        options = context.get("seLinuxOptions")
        if options is None:
            continue
        options = _map(options)
        if options.get("type", "") not in SELINUX_TYPES:
            yield f"SELinux: {path}.securityContext.seLinuxOptions.type is {options['type']!r}"
        for field in ("user", "role"):
            if options.get(field):
                yield f"SELinux: {path}.securityContext.seLinuxOptions.{field} is set"


def _proc_mount(pod_spec: Pod) -> Iterator[str]:
    for path, container in containers(pod_spec):
        mount = _security(container).get("procMount")
        if mount not in (None, "Default"):
            yield f"/proc Mount Type: {path}.securityContext.procMount is {mount!r}"


def _sysctls(pod_spec: Pod) -> Iterator[str]:
    for index, sysctl in enumerate(_list(_security(pod_spec).get("sysctls"))):
        name = _map(sysctl).get("name")
        if name not in SAFE_SYSCTLS:
            yield f"Sysctls: spec.securityContext.sysctls[{index}].name {name!r} is not safe"


def _volume_types(pod_spec: Pod) -> Iterator[str]:
    for index, volume in enumerate(_list(pod_spec.get("volumes"))):
        sources = sorted(set(_map(volume)) - {"name"})
        forbidden = [source for source in sources if source not in ALLOWED_VOLUME_TYPES]
        if forbidden or not sources:
            what = ", ".join(forbidden) or "no source"
            yield (
                f"Volume Types: spec.volumes[{index}] ({_map(volume).get('name')}) uses {what}; "
                f"allowed: {', '.join(sorted(ALLOWED_VOLUME_TYPES))}"
            )


def _privilege_escalation(pod_spec: Pod) -> Iterator[str]:
    for path, container in containers(pod_spec):
        if _security(container).get("allowPrivilegeEscalation") is not False:
            yield (
                f"Privilege Escalation: {path}.securityContext.allowPrivilegeEscalation "
                "must be false"
            )


def _run_as_non_root(pod_spec: Pod) -> Iterator[str]:
    pod_value = _security(pod_spec).get("runAsNonRoot")
    if pod_value is False:
        yield "Running as Non-root: spec.securityContext.runAsNonRoot is false"
    for path, container in containers(pod_spec):
        value = _security(container).get("runAsNonRoot")
        if value is False:
            yield f"Running as Non-root: {path}.securityContext.runAsNonRoot is false"
        elif value is not True and pod_value is not True:
            yield (
                f"Running as Non-root: neither the pod nor {path} sets "
                "securityContext.runAsNonRoot=true"
            )


def _run_as_user(pod_spec: Pod) -> Iterator[str]:
    where = [("spec", _security(pod_spec))]
    where += [(path, _security(c)) for path, c in containers(pod_spec)]
    for path, context in where:
        value = context.get("runAsUser")
        if isinstance(value, int) and not isinstance(value, bool) and value == 0:
            yield f"Running as Non-root user: {path}.securityContext.runAsUser is 0"


def _seccomp(pod_spec: Pod) -> Iterator[str]:
    pod_profile = _security(pod_spec).get("seccompProfile")
    pod_ok = False
    if pod_profile is not None:
        pod_type = _map(pod_profile).get("type")
        pod_ok = pod_type in PROFILE_TYPES
        if not pod_ok:
            yield f"Seccomp: spec.securityContext.seccompProfile.type is {pod_type!r}"
    for path, container in containers(pod_spec):
        profile = _security(container).get("seccompProfile")
        if profile is not None:
            kind = _map(profile).get("type")
            if kind not in PROFILE_TYPES:
                yield f"Seccomp: {path}.securityContext.seccompProfile.type is {kind!r}"
        elif not pod_ok:
            yield (
                f"Seccomp: neither the pod nor {path} sets seccompProfile.type to "
                "RuntimeDefault or Localhost"
            )


def _capabilities(pod_spec: Pod) -> Iterator[str]:
    for path, container in containers(pod_spec):
        capabilities = _map(_security(container).get("capabilities"))
        if DROP_ALL not in _list(capabilities.get("drop")):
            yield f"Capabilities: {path}.securityContext.capabilities.drop must include ALL"
        added = [c for c in _list(capabilities.get("add")) if c != ADDABLE_CAPABILITY]
        if added:
            yield (
                f"Capabilities: {path}.securityContext.capabilities.add holds {added}; "
                f"allowed: {ADDABLE_CAPABILITY}"
            )


def restricted(pod_spec: Pod, annotations: Mapping[str, str] | None = None) -> list[str]:
    """Return every breach of PSS restricted in a pod spec; empty means the pod complies.

    ``annotations`` are the pod's metadata annotations (the AppArmor beta annotations).
    """
    spec = _map(pod_spec)
    found = [
        *_host_process(spec),
        *_host_namespaces(spec),
        *_privileged(spec),
        *_host_ports(spec),
        *_probe_hosts(spec),
        *_apparmor(spec, _map(annotations)),
        *_selinux(spec),
        *_proc_mount(spec),
        *_sysctls(spec),
        *_volume_types(spec),
        *_privilege_escalation(spec),
        *_run_as_non_root(spec),
        *_run_as_user(spec),
        *_seccomp(spec),
        *_capabilities(spec),
    ]
    return found


def template(pod_template: Mapping[str, Any]) -> list[str]:
    """Return the breaches of a pod template or a Pod (``metadata`` and ``spec``)."""
    metadata = _map(pod_template.get("metadata"))
    return restricted(_map(pod_template.get("spec")), _map(metadata.get("annotations")))


def namespace_labels(labels: Mapping[str, str], version: str | None = None) -> list[str]:
    """Return why a namespace's labels do not pin PSS restricted in every mode.

    Each of enforce, audit and warn must be ``restricted``; with ``version``, each
    ``<mode>-version`` label must equal it.
    """
    found = []
    for mode in MODES:
        level = labels.get(f"{LABEL_PREFIX}/{mode}")
        if level != LEVEL:
            found.append(f"{LABEL_PREFIX}/{mode} is {level!r}; expected {LEVEL}")
        pinned = labels.get(f"{LABEL_PREFIX}/{mode}-version")
        if version is not None and pinned != version:
            found.append(f"{LABEL_PREFIX}/{mode}-version is {pinned!r}; expected {version}")
    return found
