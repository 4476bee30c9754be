"""The PSS restricted checker of tests/unit/pss.py catches each rule, and passes what complies.

Each violating pod starts from a compliant one and breaks exactly one control, in the pod,
in a container, in an init container or in an ephemeral container; the checker must name
that control. The compliant pods include the pod template fwop renders.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from fwop.render import namespace as namespace_render
from fwop.render import pod as pod_render

from . import pss
from .conftest import ContextFactory

Pod = dict[str, Any]


def compliant_container(name: str = "app") -> dict[str, Any]:
    return {
        "name": name,
        "image": "registry.bank.example/team/app@sha256:" + "0" * 64,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def compliant_pod() -> Pod:
    """Pod-level runAsNonRoot and seccomp, every container kind, every allowed volume."""
    return {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [compliant_container()],
        "initContainers": [compliant_container("init")],
        "ephemeralContainers": [compliant_container("debug")],
        "volumes": [
            {"name": "a", "configMap": {"name": "cm"}},
            {"name": "b", "csi": {"driver": "secrets-store.csi.k8s.io"}},
            {"name": "c", "downwardAPI": {"items": []}},
            {"name": "d", "emptyDir": {}},
            {"name": "e", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
            {"name": "f", "persistentVolumeClaim": {"claimName": "data"}},
            {"name": "g", "projected": {"sources": []}},
            {"name": "h", "secret": {"secretName": "s"}},
        ],
    }


def test_compliant_pod_passes() -> None:
    assert pss.restricted(compliant_pod()) == []


def test_container_level_settings_suffice() -> None:
    """runAsNonRoot and seccomp may be set on every container instead of the pod."""
    pod = compliant_pod()
    pod["securityContext"] = {}
    for kind in pss.CONTAINER_LISTS:
        for container in pod[kind]:
            container["securityContext"]["runAsNonRoot"] = True
            container["securityContext"]["seccompProfile"] = {"type": "Localhost"}
    assert pss.restricted(pod) == []


def test_allowed_values_pass() -> None:
    """Values the profile allows explicitly: NET_BIND_SERVICE, safe sysctls, and so on."""
    pod = compliant_pod()
    pod["hostNetwork"] = False
    pod["securityContext"].update(
        runAsUser=10001,
        sysctls=[{"name": name, "value": "1"} for name in sorted(pss.SAFE_SYSCTLS)],
        seLinuxOptions={"type": "container_t", "level": "s0:c1,c2"},
        appArmorProfile={"type": "Localhost", "localhostProfile": "p"},
    )
    container = pod["containers"][0]
    container["securityContext"]["capabilities"]["add"] = ["NET_BIND_SERVICE"]
    container["securityContext"]["procMount"] = "Default"
    container["securityContext"]["privileged"] = False
    container["ports"] = [{"containerPort": 8080, "hostPort": 0}]
    container["livenessProbe"] = {"httpGet": {"path": "/", "port": 8080, "host": ""}}
    annotations = {f"{pss.APPARMOR_ANNOTATION}app": "runtime/default"}
    assert pss.restricted(pod, annotations) == []


def test_rendered_pod_template_passes(make_ctx: ContextFactory) -> None:
    """fwop's own pod, with secrets, probes and ports, is restricted."""
    ctx = make_ctx(
        ports=[{"name": "http", "containerPort": 8080}],
        probes={"liveness": {"httpGet": {"path": "/healthz", "port": "http"}}},
        secrets={
            "provider": "vault",
            "vault": {"address": "https://vault:8200", "role": "app"},
            "objects": [{"name": "db", "path": "secret/data/db", "key": "password"}],
        },
    )
    assert pss.template(pod_render.template(ctx)) == []


Mutation = Callable[[Pod], None]


def _pod_context(pod: Pod) -> dict[str, Any]:
    context: dict[str, Any] = pod["securityContext"]
    return context


def _container(kind: str) -> Callable[[Pod], dict[str, Any]]:
    def get(pod: Pod) -> dict[str, Any]:
        container: dict[str, Any] = pod[kind][0]
        return container

    return get


def _context(kind: str) -> Callable[[Pod], dict[str, Any]]:
    def get(pod: Pod) -> dict[str, Any]:
        context: dict[str, Any] = _container(kind)(pod)["securityContext"]
        return context

    return get


CONTAINER_KINDS = pss.CONTAINER_LISTS
HOSTS = "Host Probes / Lifecycle Hooks"


def _cases() -> list[tuple[str, str, Mutation]]:
    """(case id, control the checker must name, mutation of the compliant pod)."""
    cases: list[tuple[str, str, Mutation]] = [
        ("hostNetwork", "Host Namespaces", lambda p: p.update(hostNetwork=True)),
        ("hostPID", "Host Namespaces", lambda p: p.update(hostPID=True)),
        ("hostIPC", "Host Namespaces", lambda p: p.update(hostIPC=True)),
        (
            "pod-hostProcess",
            "HostProcess",
            lambda p: _pod_context(p).update(windowsOptions={"hostProcess": True}),
        ),
        (
            "hostPath",
            "Volume Types",
            lambda p: p["volumes"].append({"name": "x", "hostPath": {"path": "/"}}),
        ),
        (
            "nfs",
            "Volume Types",
            lambda p: p["volumes"].append({"name": "x", "nfs": {"server": "s", "path": "/"}}),
        ),
        ("gitRepo", "Volume Types", lambda p: p["volumes"].append({"name": "x", "gitRepo": {}})),
        ("image-volume", "Volume Types", lambda p: p["volumes"].append({"name": "x", "image": {}})),
        ("no-source", "Volume Types", lambda p: p["volumes"].append({"name": "x"})),
        (
            "sysctl",
            "Sysctls",
            lambda p: _pod_context(p).update(sysctls=[{"name": "kernel.msgmax", "value": "1"}]),
        ),
        (
            "pod-selinux-type",
            "SELinux",
            lambda p: _pod_context(p).update(seLinuxOptions={"type": "spc_t"}),
        ),
        (
            "pod-selinux-user",
            "SELinux",
            lambda p: _pod_context(p).update(seLinuxOptions={"user": "system_u"}),
        ),
        (
            "pod-apparmor",
            "AppArmor",
            lambda p: _pod_context(p).update(appArmorProfile={"type": "Unconfined"}),
        ),
        ("pod-runAsNonRoot-false", "Running as Non-root", lambda p: _pod_context(p).update(
            runAsNonRoot=False
        )),
        ("pod-runAsNonRoot-unset", "Running as Non-root", lambda p: _pod_context(p).pop(
            "runAsNonRoot"
        )),
        ("pod-runAsUser-0", "Running as Non-root user", lambda p: _pod_context(p).update(
            runAsUser=0
        )),
        ("pod-seccomp-unconfined", "Seccomp", lambda p: _pod_context(p).update(
            seccompProfile={"type": "Unconfined"}
        )),
        ("pod-seccomp-unset", "Seccomp", lambda p: _pod_context(p).pop("seccompProfile")),
    ]  # fmt: skip
    for kind in CONTAINER_KINDS:
        ctx, ctr = _context(kind), _container(kind)
        cases += [
            (f"{kind}-privileged", "Privileged Containers", lambda p, c=ctx: c(p).update(
                privileged=True
            )),
            (f"{kind}-hostProcess", "HostProcess", lambda p, c=ctx: c(p).update(
                windowsOptions={"hostProcess": True}
            )),
            (f"{kind}-cap-add", "Capabilities", lambda p, c=ctx: c(p)["capabilities"].update(
                add=["SYS_ADMIN"]
            )),
            (f"{kind}-cap-add-default-set", "Capabilities", lambda p, c=ctx: c(p)[
                "capabilities"
            ].update(add=["CHOWN"])),
            (f"{kind}-cap-no-drop", "Capabilities", lambda p, c=ctx: c(p).pop("capabilities")),
            (f"{kind}-cap-drop-some", "Capabilities", lambda p, c=ctx: c(p)[
                "capabilities"
            ].update(drop=["NET_RAW"])),
            (f"{kind}-hostPort", "Host Ports", lambda p, c=ctr: c(p).update(
                ports=[{"containerPort": 80, "hostPort": 80}]
            )),
            (f"{kind}-probe-host", HOSTS, lambda p, c=ctr: c(p).update(
                readinessProbe={"httpGet": {"path": "/", "port": 80, "host": "10.0.0.1"}}
            )),
            (f"{kind}-tcp-probe-host", HOSTS, lambda p, c=ctr: c(p).update(
                startupProbe={"tcpSocket": {"port": 80, "host": "node"}}
            )),
            (f"{kind}-lifecycle-host", HOSTS, lambda p, c=ctr: c(p).update(
                lifecycle={"preStop": {"httpGet": {"path": "/", "port": 80, "host": "h"}}}
            )),
            (f"{kind}-apparmor", "AppArmor", lambda p, c=ctx: c(p).update(
                appArmorProfile={"type": "Unconfined"}
            )),
            (f"{kind}-selinux-role", "SELinux", lambda p, c=ctx: c(p).update(
                seLinuxOptions={"role": "system_r"}
            )),
            (f"{kind}-procMount", "/proc Mount Type", lambda p, c=ctx: c(p).update(
                procMount="Unmasked"
            )),
            (f"{kind}-escalation-true", "Privilege Escalation", lambda p, c=ctx: c(p).update(
                allowPrivilegeEscalation=True
            )),
            (f"{kind}-escalation-unset", "Privilege Escalation", lambda p, c=ctx: c(p).pop(
                "allowPrivilegeEscalation"
            )),
            (f"{kind}-runAsNonRoot-false", "Running as Non-root", lambda p, c=ctx: c(p).update(
                runAsNonRoot=False
            )),
            (f"{kind}-runAsUser-0", "Running as Non-root user", lambda p, c=ctx: c(p).update(
                runAsUser=0
            )),
            (f"{kind}-seccomp-unconfined", "Seccomp", lambda p, c=ctx: c(p).update(
                seccompProfile={"type": "Unconfined"}
            )),
        ]  # fmt: skip
    return cases


CASES = _cases()


@pytest.mark.parametrize(("control", "mutate"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_is_caught(control: str, mutate: Mutation) -> None:
    pod = compliant_pod()
    mutate(pod)
    found = pss.restricted(pod)
    assert found, "the checker passed a violating pod"
    assert all(line.split(":", 1)[0] == control for line in found), found


@pytest.mark.parametrize("kind", CONTAINER_KINDS)
def test_container_without_pod_defaults_is_caught(kind: str) -> None:
    """With no pod-level runAsNonRoot/seccomp, a container that sets neither breaks both."""
    pod = compliant_pod()
    pod["securityContext"] = {}
    for other in CONTAINER_KINDS:
        for container in pod[other]:
            if other != kind:
                container["securityContext"].update(
                    runAsNonRoot=True, seccompProfile={"type": "RuntimeDefault"}
                )
    found = pss.restricted(pod)
    assert {line.split(":")[0] for line in found} == {"Running as Non-root", "Seccomp"}
    assert all(kind in line for line in found), found


def test_apparmor_annotation_is_caught() -> None:
    annotations = {f"{pss.APPARMOR_ANNOTATION}app": "unconfined"}
    assert pss.restricted(compliant_pod(), annotations)[0].startswith("AppArmor")
    assert pss.template({"metadata": {"annotations": annotations}, "spec": compliant_pod()})


def test_malformed_spec_does_not_raise() -> None:
    pod: dict[str, Any] = {"containers": [None, "x"], "volumes": "nope", "securityContext": 3}
    found = pss.restricted(pod)
    assert any(line.startswith("Capabilities") for line in found)


def test_each_violation_is_reported_once_per_place() -> None:
    pod = compliant_pod()
    pod["hostNetwork"] = True
    pod["containers"][0]["securityContext"]["privileged"] = True
    found = pss.restricted(copy.deepcopy(pod))
    assert len(found) == 2, found


def test_namespace_labels() -> None:
    labels = namespace_render.pss_labels("v1.37")
    assert pss.namespace_labels(labels, "v1.37") == []
    assert pss.namespace_labels(labels) == []
    assert pss.namespace_labels(labels, "v1.36")
    weaker = {**labels, "pod-security.kubernetes.io/enforce": "baseline"}
    assert pss.namespace_labels(weaker)
    missing = dict(labels)
    del missing["pod-security.kubernetes.io/warn"]
    assert pss.namespace_labels(missing)
