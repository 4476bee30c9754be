"""The controls catalog: what "compliant" means, as data.

Each control has a stable ID, one place where it is enforced and the external references
that motivate it. Validation messages, rendered annotations and audit reports all name
controls by these IDs. Must not: import other fwop modules or do any I/O.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Control:
    """One entry of the catalog."""

    id: str
    """Stable identifier, e.g. ``IMG-1``; never reused for another meaning."""
    title: str
    """What the control demands, in one sentence."""
    enforced_in: str
    """The place that enforces it (admission, render, reconcile, drift engine...)."""
    references: tuple[str, ...]
    """Regulations and benchmarks the control answers to."""


CATALOG: tuple[Control, ...] = (
    Control(
        "IMG-1",
        "Images are pinned by sha256 digest; tags, including latest, are refused.",
        "CRD schema (CEL) at admission, and the spec models offline",
        ("PCI DSS 6.3.2", "OCC 2020-62"),
    ),
    Control(
        "IMG-2",
        "Images come from an allowlisted registry.",
        "admission webhook and reconcile gate",
        ("PCI DSS 6.3", "OCC 2020-62"),
    ),
    Control(
        "POD-1",
        "Containers run as a non-root user with a non-zero UID.",
        "rendered Deployment; PSS restricted",
        ("Pod Security Standards: restricted", "CIS Kubernetes 5.2"),
    ),
    Control(
        "POD-2",
        "The root filesystem is read-only; only an emptyDir at /tmp is writable.",
        "rendered Deployment",
        ("CIS Kubernetes 5.2",),
    ),
    Control(
        "POD-3",
        "Privilege escalation is off and every Linux capability is dropped.",
        "rendered Deployment; PSS restricted",
        ("PCI DSS 2.2",),
    ),
    Control(
        "POD-4",
        "Containers use the RuntimeDefault seccomp profile.",
        "rendered Deployment; PSS restricted",
        ("Pod Security Standards: restricted",),
    ),
    Control(
        "POD-5",
        "No privileged containers, host namespaces or hostPath volumes.",
        "never rendered; PSS restricted",
        ("PCI DSS 2.2",),
    ),
    Control(
        "POD-6",
        "CPU and memory requests and limits are declared.",
        "required in the spec (CRD schema and models); requests within limits at admission",
        ("DORA Art. 9",),
    ),
    Control(
        "NS-1",
        "The namespace enforces, audits and warns at PSS restricted, with a pinned version.",
        "reconcile (namespace labels) and drift engine",
        ("Pod Security Standards",),
    ),
    Control(
        "RBAC-1",
        "Each workload has its own ServiceAccount; its token is mounted only if it needs one.",
        "rendered ServiceAccount and Deployment",
        ("PCI DSS 7.2.5", "PCI DSS 8.6"),
    ),
    Control(
        "RBAC-2",
        "The Role holds only declared rules: no wildcards, no escalate, bind or impersonate.",
        "CRD schema (CEL) at admission; rendered Role",
        ("PCI DSS 7.2.2",),
    ),
    Control(
        "RBAC-3",
        "A workload is granted only rules the cluster policy lists for its profile, and never"
        " the hard floor (pods and their controllers, exec/attach/port-forward, tokens, RBAC,"
        " namespaces, network policies, Secrets, the operator's own objects).",
        "CRD schema (CEL: the hard floor) and admission webhook (grantable permissions);"
        " reconcile gate; ValidatingAdmissionPolicy on the operator's own writes",
        ("PCI DSS 7.2.1", "PCI DSS 7.2.2", "ISO/IEC 27001:2022 A.8.2"),
    ),
    Control(
        "RBAC-4",
        "Nobody grants a workload more than they hold themselves in its namespace.",
        "admission webhook (SubjectAccessReview of the requesting user)",
        ("PCI DSS 7.2.2", "PCI DSS 7.2.5"),
    ),
    Control(
        "NET-1",
        "A default-deny policy covers ingress and egress of every pod of the workload.",
        "rendered NetworkPolicy",
        ("PCI DSS 1.3", "PCI DSS 1.4"),
    ),
    Control(
        "NET-2",
        "Only declared flows, plus DNS when asked for, are allowed.",
        "rendered NetworkPolicy; admission (declared ingress ports, DNS egress policy)",
        ("PCI DSS 1.3",),
    ),
    Control(
        "NET-3",
        "Flows reach only the CIDR ranges and namespaces the cluster policy allows the profile;"
        " never link-local (cloud metadata), and under pci never the internet.",
        "admission webhook and reconcile gate (FinancialWorkloadPolicy profiles[].network)",
        ("PCI DSS 1.3.1", "PCI DSS 1.3.2", "PCI DSS 1.4.2"),
    ),
    Control(
        "SEC-1",
        "Secrets come from a SecretProviderClass mounted read-only, never env vars or ConfigMaps.",
        "rendered SecretProviderClass and CSI volume; CRD schema (CEL) and webhook at admission",
        ("PCI DSS 8.6.2",),
    ),
    Control(
        "RES-1",
        "Pods are scheduled only in the declared regions.",
        "rendered Deployment (node affinity); allowed regions at admission",
        ("GDPR Chapter V", "PSD2 / EBA outsourcing guidelines"),
    ),
    Control(
        "AVL-1",
        "Under profile pci: at least 2 replicas, a PodDisruptionBudget, spread over nodes.",
        "CRD schema (CEL) at admission; rendered Deployment and PodDisruptionBudget",
        ("DORA Art. 11",),
    ),
    Control(
        "PRF-1",
        "Workloads in namespaces the cluster policy marks use the profile it requires there.",
        "admission webhook and reconcile gate (FinancialWorkloadPolicy requiredProfiles)",
        ("PCI DSS 12.5.2", "PCI DSS 1.2"),
    ),
    Control(
        "DRF-1",
        "Every managed field is watched; drift is reported, and healed in enforce mode.",
        "drift engine",
        ("PCI DSS 11.5.2",),
    ),
    Control(
        "DRF-2",
        "Drift is healed, not only reported, wherever the cluster policy requires it (pci by"
        " default); the namespace's Pod Security labels are healed in every mode.",
        "admission webhook and reconcile gate (FinancialWorkloadPolicy profiles[].enforcement);"
        " drift engine",
        ("PCI DSS 11.5.2", "DORA Art. 9"),
    ),
    Control(
        "OWN-1",
        "The operator writes and deletes only objects it created for the workload; it never"
        " takes over an existing object that bears a child's name.",
        "reconcile (controller ownerReference checked before every write; ChildConflict);"
        " CRD schema (no workload named default)",
        ("PCI DSS 10.2", "ISO/IEC 27001:2022 A.8.32"),
    ),
    Control(
        "AUD-1",
        "Every change and remediation leaves an Event, a JSON log line and a status entry.",
        "everywhere",
        ("PCI DSS 10.2", "DORA Art. 17-19"),
    ),
)

_BY_ID: dict[str, Control] = {control.id: control for control in CATALOG}


def get(control_id: str) -> Control:
    """Return the control with this ID; raise KeyError for an unknown ID."""
    return _BY_ID[control_id]


def ids() -> tuple[str, ...]:
    """Return every control ID in catalog order."""
    return tuple(control.id for control in CATALOG)


def markdown() -> str:
    """The catalog as the Markdown table of docs/controls.md (generated, kept in sync by a test)."""
    lines = [
        "# Controls",
        "",
        'What "compliant" means: each control has a stable ID, one place where it is enforced,',
        "and the regulations or benchmarks it answers to. Generated from `fwop/controls.py`",
        "(`python -c 'from fwop import controls; print(controls.markdown(), end=\"\")'`).",
        "",
        "| ID | control | enforced in | references |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {c.id} | {c.title} | {c.enforced_in} | {'; '.join(c.references)} |" for c in CATALOG
    ]
    return "\n".join(lines) + "\n"
