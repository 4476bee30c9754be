"""Cross-field rules of a FinancialWorkload that its CRD's CEL rules do not express.

Each rule catches a spec the API server would accept but that fails later, silently or
at reconcile time: a probe or an ingress flow naming a port that does not exist, a port
the Service would have to expose twice, an ipBlock exception the NetworkPolicy API
refuses, requests above limits (refused with the Deployment), a secrets volume over a
mount the pod already has. Rules already in the models (unique names, mountPath other
than / and /tmp) are not repeated here. Must not: do I/O.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from collections.abc import Iterator, Sequence

from fwop import errors
from fwop.api import network, pod, quantity, types, volumes
from fwop.api import spec as spec_api
from fwop.render import pod as pod_render

Problems = Iterator[errors.Problem]
SERVICE_ACCOUNT_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
# Paths where the pod already has something mounted, and what: the writable /tmp, and the
# trees of the ServiceAccount token and of projected tokens (cloud workload identities
# mount theirs under /var/run/secrets too). /var/run is a link to /run on most images, so
# /run/secrets is the same tree. The token's own path comes first, for the message.
RESERVED_MOUNTS = (
    (pod_render.TMP_PATH, "its writable emptyDir"),
    (SERVICE_ACCOUNT_TOKEN_PATH, "the ServiceAccount token"),
    ("/var/run/secrets", "the ServiceAccount token and projected tokens"),
    ("/run/secrets", "the ServiceAccount token and projected tokens (/var/run links to /run)"),
)
# The reserved trees, without those inside another one: what the message lists.
RESERVED_ROOTS = tuple(
    path
    for path, _ in RESERVED_MOUNTS
    if not any(path.startswith(f"{other}/") for other, _ in RESERVED_MOUNTS)
)


def _describe(port: pod.ContainerPort) -> str:
    return f"{port.name} ({port.container_port}/{port.protocol})"


def _declared(ports: Sequence[pod.ContainerPort]) -> str:
    return ", ".join(_describe(port) for port in ports) or "none"


def duplicate_ports(spec: spec_api.FinancialWorkloadSpec) -> Problems:
    """Two ports of the pod with one name, or one number and protocol.

    The Service that exposes them all would be refused.
    """
    numbers: dict[tuple[int, types.Protocol], str] = {}
    names: dict[str, str] = {}
    for field, port in spec.listening_ports():
        key = (port.container_port, port.protocol)
        if key in numbers:
            message = (
                f"port {port.container_port}/{port.protocol} is already declared by "
                f"{numbers[key]}; the Service cannot expose a port twice"
            )
            yield errors.Problem(f"{field}.containerPort", message)
        elif port.name in names:
            message = (
                f'port name "{port.name}" is already declared by {names[port.name]}; the '
                "Service names each port once"
            )
            yield errors.Problem(f"{field}.name", message)
        numbers.setdefault(key, f"{field} ({port.name})")
        names.setdefault(port.name, field)


def probe_ports(spec: spec_api.FinancialWorkloadSpec) -> Problems:
    """A probe that names a port needs a TCP port of that name on its own container."""
    for placed in spec.pod_containers():
        probes = placed.container.probes
        if probes is None:
            continue
        ports = placed.container.ports
        tcp = {port.name: port for port in ports if port.protocol is types.Protocol.TCP}
        for kind, probe in probes.declared():
            handler, action = probe.handler
            ref = action.port if isinstance(action, pod.HttpGet | pod.TcpSocket) else None
            if isinstance(ref, str) and ref not in tcp:
                message = (
                    f'port name "{ref}" is not a TCP port declared in {placed.field("ports")}; '
                    f"declared TCP ports: {_declared(list(tcp.values()))}"
                )
                yield errors.Problem(placed.field(f"probes.{kind}.{handler}.port"), message)


def _matches(flow_port: network.FlowPort, port: pod.ContainerPort) -> bool:
    ref = port.name if isinstance(flow_port.port, str) else port.container_port
    return ref == flow_port.port and port.protocol is flow_port.protocol


def ingress_ports(spec: spec_api.FinancialWorkloadSpec) -> Problems:
    """NET-2: an ingress flow opens only ports the pod's containers declare."""
    declared = [port for _, port in spec.listening_ports()]
    for i, flow in enumerate(spec.network.ingress):
        for j, flow_port in enumerate(flow.ports):
            if any(_matches(flow_port, port) for port in declared):
                continue
            ref = f'"{flow_port.port}"' if isinstance(flow_port.port, str) else flow_port.port
            message = (
                f"port {ref}/{flow_port.protocol} is not declared by any container (NET-2);"
                f" allowed: the declared ports {_declared(declared)}"
            )
            yield errors.Problem(f"spec.network.ingress[{i}].ports[{j}].port", message, "NET-2")


def _peers(spec: spec_api.FinancialWorkloadSpec) -> Iterator[tuple[str, network.Peer]]:
    for i, ingress in enumerate(spec.network.ingress):
        for j, peer in enumerate(ingress.from_):
            yield f"spec.network.ingress[{i}].from[{j}]", peer
    for i, egress in enumerate(spec.network.egress):
        for j, peer in enumerate(egress.to):
            yield f"spec.network.egress[{i}].to[{j}]", peer


def _strictly_inside(inner: str, outer: str) -> bool:
    small = ipaddress.ip_network(inner, strict=False)
    large = ipaddress.ip_network(outer, strict=False)
    if small.version != large.version:
        return False
    return small.prefixlen > large.prefixlen and small.subnet_of(large)  # type: ignore[arg-type]


def ip_block_exceptions(spec: spec_api.FinancialWorkloadSpec) -> Problems:
    """NET-2: ipBlock.except ranges lie strictly inside cidr, as NetworkPolicy requires."""
    for where, peer in _peers(spec):
        block = peer.ip_block
        if block is None:
            continue
        for index, excepted in enumerate(block.except_):
            if not _strictly_inside(excepted, block.cidr):
                message = (
                    f"{excepted} is not strictly inside cidr {block.cidr} (NET-2); "
                    f"allowed: sub-ranges of {block.cidr}, smaller than it"
                )
                yield errors.Problem(f"{where}.ipBlock.except[{index}]", message, "NET-2")


def requests_within_limits(spec: spec_api.FinancialWorkloadSpec) -> Problems:
    """POD-6: each request is at most its limit (the Deployment is refused otherwise)."""
    for placed in spec.pod_containers():
        requests, limits = placed.container.resources.requests, placed.container.resources.limits
        for resource in ("cpu", "memory"):
            request, limit = getattr(requests, resource), getattr(limits, resource)
            if quantity.value(request) > quantity.value(limit):
                message = (
                    f"{resource} request {request} exceeds the {resource} limit {limit} "
                    f"(POD-6); allowed: at most {limit}"
                )
                yield errors.Problem(
                    placed.field(f"resources.requests.{resource}"), message, "POD-6"
                )


def _overlap(one: str, other: str) -> bool:
    if "/" in (one, other):  # the root holds every path
        return True
    return one == other or one.startswith(f"{other}/") or other.startswith(f"{one}/")


def secrets_mount(spec: spec_api.FinancialWorkloadSpec) -> Problems:
    """SEC-1: the read-only secrets volume gets a directory of its own."""
    if spec.secrets is None:
        return
    # Compared as the kernel reads it, up to links: normpath alone keeps a leading // (POSIX
    # leaves its meaning open; Linux reads it as /), so repeated slashes are collapsed first.
    path = _normal(spec.secrets.mount_path)
    for reserved, what in RESERVED_MOUNTS:
        if _overlap(path, reserved):
            roots = ", ".join(RESERVED_ROOTS[:-1]) + f" and {RESERVED_ROOTS[-1]}"
            message = (
                f"mountPath {spec.secrets.mount_path} overlaps {reserved}, where the pod mounts "
                f"{what} (SEC-1); allowed: a directory outside {roots}, such as /mnt/secrets"
            )
            yield errors.Problem("spec.secrets.mountPath", message, "SEC-1")
            return


def _normal(path: str) -> str:
    return posixpath.normpath(re.sub(r"/{2,}", "/", path))


def _mount_problem(
    spec: spec_api.FinancialWorkloadSpec, field: str, mount: volumes.VolumeMount
) -> errors.Problem | None:
    declared = {volume.name: volume for volume in spec.volumes}
    volume = declared.get(mount.name)
    if volume is None:
        names = ", ".join(declared) or "none"
        message = f'no volume named "{mount.name}" in spec.volumes; declared volumes: {names}'
        return errors.Problem(f"{field}.name", message)
    if mount.writable and not volume.writable:
        message = (
            f"volume {mount.name} ({volume.sources()[0]}) is read-only; allowed: writable"
            " mounts of emptyDir, persistentVolumeClaim and ephemeral volumes"
        )
        return errors.Problem(f"{field}.writable", message)
    path = _normal(mount.mount_path)
    taken = list(RESERVED_MOUNTS)
    if spec.secrets is not None:
        taken.append((_normal(spec.secrets.mount_path), "the secrets (spec.secrets.mountPath)"))
    for reserved, what in taken:
        if _overlap(path, reserved):
            message = (
                f"mountPath {mount.mount_path} overlaps {reserved}, where the pod mounts {what};"
                " allowed: a directory outside it, such as /etc/app or /var/lib/app"
            )
            return errors.Problem(f"{field}.mountPath", message)
    return None


def volume_mounts(spec: spec_api.FinancialWorkloadSpec) -> Problems:
    """Mounts name declared volumes, write only where they can, keep off the pod's own.

    Each declared volume is mounted somewhere (an unmounted one is most often a typo).
    """
    mounted: set[str] = set()
    for placed in spec.pod_containers():
        for index, mount in enumerate(placed.container.volume_mounts):
            mounted.add(mount.name)
            problem = _mount_problem(spec, placed.field(f"volumeMounts[{index}]"), mount)
            if problem is not None:
                yield problem
    for index, volume in enumerate(spec.volumes):
        if volume.name not in mounted:
            message = (
                f"volume {volume.name} is mounted by no container; allowed: a volumeMounts"
                " entry naming it (spec.volumeMounts for the main container)"
            )
            yield errors.Problem(f"spec.volumes[{index}].name", message)


def _sizes(spec: spec_api.FinancialWorkloadSpec) -> Iterator[tuple[str, str, str]]:
    yield "spec.tmpSizeLimit", spec.tmp_size_limit, volumes.MAX_TMP
    for index, volume in enumerate(spec.volumes):
        if volume.empty_dir is not None:
            field = f"spec.volumes[{index}].emptyDir.sizeLimit"
            yield field, volume.empty_dir.size_limit, volumes.MAX_EMPTY_DIR
        if volume.ephemeral is not None:
            yield (
                f"spec.volumes[{index}].ephemeral.size",
                volume.ephemeral.size,
                volumes.MAX_EPHEMERAL,
            )


def volume_sizes(spec: spec_api.FinancialWorkloadSpec) -> Problems:
    """Scratch space and per-pod claims stay within bounds (a node's disk is shared)."""
    for field, size, most in _sizes(spec):
        if quantity.value(size) > quantity.value(most):
            message = f"{size} is more than a pod may take; allowed: at most {most}"
            yield errors.Problem(field, message)


def check(spec: spec_api.FinancialWorkloadSpec) -> Problems:
    """Yield every cross-field problem, in the order of the spec's fields."""
    yield from duplicate_ports(spec)
    yield from requests_within_limits(spec)
    yield from probe_ports(spec)
    yield from ingress_ports(spec)
    yield from ip_block_exceptions(spec)
    yield from secrets_mount(spec)
    yield from volume_mounts(spec)
    yield from volume_sizes(spec)
