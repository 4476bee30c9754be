"""The controls catalog: what "compliant" means, as data.

Each control has a stable ID, one place where it is enforced, what its verdict is judged
from, and the framework requirements it answers to (PCI DSS v4.0.1, DORA, ISO/IEC
27001:2022 Annex A, OCC Bulletin 2020-62). docs/controls.md, the compliance report and the
PolicyReports are all generated from this one table (tests keep them in step). Must not:
import other fwop modules or do any I/O.
"""

from __future__ import annotations

import dataclasses
import enum


class Severity(enum.StrEnum):
    """PolicyReport severities (wgpolicyk8s.io/v1alpha2)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


FRAMEWORKS: dict[str, str] = {
    "pci-dss": "PCI DSS v4.0.1",
    "dora": "DORA (Regulation (EU) 2022/2554)",
    "iso27001": "ISO/IEC 27001:2022 Annex A",
    "occ": "OCC Bulletin 2020-62 (third-party risk management)",
}
"""Framework keys (PolicyReport property names, report columns) and their full names."""


@dataclasses.dataclass(frozen=True)
class Control:
    """One entry of the catalog."""

    id: str
    """Stable identifier, e.g. ``IMG-1``; never reused for another meaning."""
    title: str
    """What the control demands, in one sentence."""
    enforced_in: str
    """The place that enforces it (admission, render, reconcile, drift engine...)."""
    category: str
    """PolicyReport category: the family of the control."""
    severity: Severity
    judged_from: str
    """What the per-workload verdict reads (fwop.verdicts)."""
    pci_dss: tuple[str, ...] = ()
    """PCI DSS v4.0.1 requirement IDs."""
    dora: tuple[str, ...] = ()
    """DORA articles."""
    iso27001: tuple[str, ...] = ()
    """ISO/IEC 27001:2022 Annex A controls."""
    occ: tuple[str, ...] = ()
    """OCC Bulletin 2020-62 topics."""
    other: tuple[str, ...] = ()
    """Benchmarks and rules outside the four frameworks (Pod Security Standards, CIS, GDPR)."""

    def frameworks(self) -> dict[str, tuple[str, ...]]:
        """Framework key -> the requirements this control answers to there (non-empty only)."""
        mapped = {"pci-dss": self.pci_dss, "dora": self.dora, "iso27001": self.iso27001,
                  "occ": self.occ}  # fmt: skip
        return {key: refs for key, refs in mapped.items() if refs}

    @property
    def references(self) -> tuple[str, ...]:
        """Every reference as one readable list (docs, messages)."""
        return (
            *(f"PCI DSS {r}" for r in self.pci_dss),
            *(f"DORA {r}" for r in self.dora),
            *(f"ISO/IEC 27001:2022 {r}" for r in self.iso27001),
            *(f"OCC {r}" for r in self.occ),
            *self.other,
        )


_S = Severity

CATALOG: tuple[Control, ...] = (
    Control(
        "IMG-1",
        "Images are pinned by sha256 digest; tags, including latest, are refused.",
        "CRD schema (CEL) at admission, and the spec models offline",
        "Supply chain", _S.HIGH,
        "the live Deployment's container images",
        pci_dss=("6.3.2",), dora=("Art. 8",), iso27001=("A.8.19", "A.8.32"),
        occ=("2020-62",),
    ),
    Control(
        "IMG-2",
        "Images come from an allowlisted registry.",
        "admission webhook and reconcile gate",
        "Supply chain", _S.HIGH,
        "the live Deployment's container images against the cluster policy's registries",
        pci_dss=("6.3.2",), dora=("Art. 28",), iso27001=("A.5.19", "A.8.19"),
        occ=("2020-62",),
    ),
    Control(
        "POD-1",
        "Containers run as a non-root user with a non-zero UID.",
        "rendered Deployment; PSS restricted",
        "Pod security", _S.HIGH,
        "the live Deployment's pod and container securityContext",
        pci_dss=("2.2.1", "2.2.6"), dora=("Art. 9",), iso27001=("A.8.2", "A.8.9"),
        other=("Pod Security Standards: restricted", "CIS Kubernetes 5.2"),
    ),
    Control(
        "POD-2",
        "The root filesystem is read-only; only an emptyDir at /tmp is writable.",
        "rendered Deployment",
        "Pod security", _S.MEDIUM,
        "the live Deployment's containers (readOnlyRootFilesystem) and volumes",
        pci_dss=("2.2.6",), dora=("Art. 9",), iso27001=("A.8.9",),
        other=("CIS Kubernetes 5.2",),
    ),
    Control(
        "POD-3",
        "Privilege escalation is off and every Linux capability is dropped.",
        "rendered Deployment; PSS restricted",
        "Pod security", _S.HIGH,
        "the live Deployment's container securityContext",
        pci_dss=("2.2.1", "2.2.6"), dora=("Art. 9",), iso27001=("A.8.2", "A.8.9"),
        other=("Pod Security Standards: restricted",),
    ),
    Control(
        "POD-4",
        "Containers use the RuntimeDefault seccomp profile.",
        "rendered Deployment; PSS restricted",
        "Pod security", _S.MEDIUM,
        "the live Deployment's pod and container seccompProfile",
        pci_dss=("2.2.6",), dora=("Art. 9",), iso27001=("A.8.9",),
        other=("Pod Security Standards: restricted",),
    ),
    Control(
        "POD-5",
        "No privileged containers, host namespaces or hostPath volumes.",
        "never rendered; PSS restricted",
        "Pod security", _S.CRITICAL,
        "the live Deployment's pod spec (host namespaces, hostPath, hostPort, privileged)",
        pci_dss=("2.2.3", "2.2.6"), dora=("Art. 9",), iso27001=("A.8.2", "A.8.22"),
        other=("Pod Security Standards: restricted",),
    ),
    Control(
        "POD-6",
        "CPU and memory requests and limits are declared.",
        "required in the spec (CRD schema and models); requests within limits at admission",
        "Pod security", _S.MEDIUM,
        "the live Deployment's container resources",
        dora=("Art. 9",), iso27001=("A.8.6",),
    ),
    Control(
        "NS-1",
        "The namespace enforces, audits and warns at PSS restricted, with a pinned version.",
        "reconcile (namespace labels) and drift engine",
        "Pod security", _S.HIGH,
        "the live namespace's pod-security.kubernetes.io labels",
        pci_dss=("2.2.1",), dora=("Art. 9",), iso27001=("A.8.9",),
        other=("Pod Security Standards",),
    ),
    Control(
        "RBAC-1",
        "Each workload has its own ServiceAccount; its token is mounted only if it needs one.",
        "rendered ServiceAccount and Deployment",
        "Access control", _S.MEDIUM,
        "the live ServiceAccount and the Deployment's serviceAccountName and token mount",
        pci_dss=("7.2.5", "8.2.2"), dora=("Art. 9",), iso27001=("A.5.16", "A.8.2"),
    ),
    Control(
        "RBAC-2",
        "The Role holds only declared rules: no wildcards, no escalate, bind or impersonate.",
        "CRD schema (CEL) at admission; rendered Role",
        "Access control", _S.HIGH,
        "the live Role's rules",
        pci_dss=("7.2.1", "7.2.2"), dora=("Art. 9",), iso27001=("A.5.15", "A.8.2"),
    ),
    Control(
        "RBAC-3",
        "A workload is granted only rules the cluster policy lists for its profile, and never"
        " the hard floor (pods and their controllers, exec/attach/port-forward, tokens, RBAC,"
        " namespaces, network policies, Secrets, the operator's own objects).",
        "CRD schema (CEL: the hard floor) and admission webhook (grantable permissions);"
        " reconcile gate; ValidatingAdmissionPolicy on the operator's own writes",
        "Access control", _S.CRITICAL,
        "the live Role's rules against the hard floor, and the cluster policy's verdict",
        pci_dss=("7.2.1", "7.2.2", "7.2.5"), dora=("Art. 9",),
        iso27001=("A.5.15", "A.5.18", "A.8.2"),
    ),
    Control(
        "RBAC-4",
        "Nobody grants a workload more than they hold themselves in its namespace.",
        "admission webhook (SubjectAccessReview of the requesting user)",
        "Access control", _S.HIGH,
        "judged at admission only (the requester's SubjectAccessReview): the evidence trail"
        " holds the refusals",
        pci_dss=("7.2.2", "7.2.5"), dora=("Art. 9",), iso27001=("A.5.18", "A.8.2"),
    ),
    Control(
        "NET-1",
        "A default-deny policy covers ingress and egress of every pod of the workload.",
        "rendered NetworkPolicy",
        "Network", _S.HIGH,
        "the live default-deny NetworkPolicy (selector, policy types, no rules)",
        pci_dss=("1.2.1", "1.3.1", "1.3.2"), dora=("Art. 9",), iso27001=("A.8.20", "A.8.22"),
    ),
    Control(
        "NET-2",
        "Only declared flows, plus DNS when asked for, are allowed.",
        "rendered NetworkPolicy; admission (declared ingress ports, DNS egress policy)",
        "Network", _S.HIGH,
        "the live NetworkPolicies the workload owns, against the declared flows",
        pci_dss=("1.2.5", "1.3.1", "1.3.2"), dora=("Art. 9",), iso27001=("A.8.20", "A.8.21"),
    ),
    Control(
        "NET-3",
        "Flows reach only the CIDR ranges and namespaces the cluster policy allows the profile;"
        " never link-local (cloud metadata), and under pci never the internet.",
        "admission webhook and reconcile gate (FinancialWorkloadPolicy profiles[].network)",
        "Network", _S.HIGH,
        "the live NetworkPolicies' ipBlocks, and the cluster policy's verdict",
        pci_dss=("1.3.1", "1.3.2", "1.4.2"), dora=("Art. 9",), iso27001=("A.8.20", "A.8.22"),
    ),
    Control(
        "SEC-1",
        "Secrets come from a SecretProviderClass mounted read-only, never env vars or ConfigMaps.",
        "rendered SecretProviderClass and CSI volume; CRD schema (CEL) and webhook at admission",
        "Secrets", _S.HIGH,
        "the live Deployment's env, envFrom and volumes, and the SecretProviderClass",
        pci_dss=("8.3.2", "8.6.2"), dora=("Art. 9",), iso27001=("A.5.17", "A.8.24"),
    ),
    Control(
        "RES-1",
        "Pods are scheduled only in the declared regions.",
        "rendered Deployment (node affinity); allowed regions at admission",
        "Residency", _S.MEDIUM,
        "the live Deployment's required node affinity on the region label",
        dora=("Art. 28",), iso27001=("A.5.23", "A.5.34"),
        other=("GDPR Chapter V", "EBA outsourcing guidelines"),
    ),
    Control(
        "PLC-1",
        "Pods carry no reserved labels or annotations and run only on the nodes, runtime and"
        " priority the cluster policy allows for their profile.",
        "CRD schema (reserved keys, system priority classes, Kubernetes' own taints);"
        " admission (the profile's placement guardrails); rendered Deployment; drift engine",
        "Workload isolation", _S.HIGH,
        "the live Deployment's pod labels, annotations, nodeSelector, tolerations,"
        " runtimeClassName and priorityClassName, against the cluster policy",
        pci_dss=("2.2.3",), dora=("Art. 9",), iso27001=("A.8.9",),
    ),
    Control(
        "IDN-1",
        "Pods assume only the cloud identity (AWS IAM role, Google service account, Azure"
        " managed identity) the cluster policy allows for their profile.",
        "CRD schema (one identity, well-formed) and admission (the profile's identity"
        " guardrails); rendered ServiceAccount annotations; drift engine",
        "Access control", _S.HIGH,
        "the live ServiceAccount's workload identity annotations, against the cluster policy",
        pci_dss=("7.2.5", "8.6.1"), dora=("Art. 9",), iso27001=("A.5.16", "A.5.18"),
    ),
    Control(
        "AVL-1",
        "Under profile pci: at least 2 replicas, a PodDisruptionBudget, spread over nodes.",
        "CRD schema (CEL) at admission; rendered Deployment and PodDisruptionBudget",
        "Availability", _S.MEDIUM,
        "the live Deployment's replicas and spread, and the live PodDisruptionBudget",
        dora=("Art. 11",), iso27001=("A.8.14",),
    ),
    Control(
        "PRF-1",
        "Workloads in namespaces the cluster policy marks use the profile it requires there.",
        "admission webhook and reconcile gate (FinancialWorkloadPolicy requiredProfiles)",
        "Scope", _S.HIGH,
        "the workload's profile against the live namespace labels and the cluster policy",
        pci_dss=("12.5.2",), dora=("Art. 8",), iso27001=("A.5.12",),
    ),
    Control(
        "DRF-1",
        "Every managed field is watched; drift is reported, and healed in enforce mode.",
        "drift engine",
        "Change detection", _S.HIGH,
        "the drift engine's comparison of every live child and pod with its reference",
        pci_dss=("11.5.2",), dora=("Art. 10",), iso27001=("A.8.9", "A.8.16"),
    ),
    Control(
        "DRF-2",
        "Drift is healed, not only reported, wherever the cluster policy requires it (pci by"
        " default); the namespace's Pod Security labels are healed in every mode.",
        "admission webhook and reconcile gate (FinancialWorkloadPolicy profiles[].enforcement);"
        " drift engine",
        "Change detection", _S.MEDIUM,
        "the workload's enforcement mode against the cluster policy's verdict",
        pci_dss=("11.5.2",), dora=("Art. 9", "Art. 11"), iso27001=("A.8.9", "A.8.32"),
    ),
    Control(
        "OWN-1",
        "The operator writes and deletes only objects it created for the workload; it never"
        " takes over an existing object that bears a child's name.",
        "reconcile (controller ownerReference checked before every write; ChildConflict);"
        " CRD schema (no workload named default)",
        "Ownership", _S.HIGH,
        "the live children's controller ownerReference, and conflicts found by the pass",
        pci_dss=("6.5.1",), dora=("Art. 9",), iso27001=("A.8.32",),
    ),
    Control(
        "AUD-1",
        "Every change and remediation leaves an Event, a JSON log line and a status entry.",
        "everywhere",
        "Audit", _S.MEDIUM,
        "a property of the operator, not of one workload: the evidence trail",
        pci_dss=("10.2.1", "10.2.2"), dora=("Art. 17", "Art. 18", "Art. 19"),
        iso27001=("A.8.15", "A.5.28"),
    ),
)  # fmt: skip

_BY_ID: dict[str, Control] = {control.id: control for control in CATALOG}


def get(control_id: str) -> Control:
    """Return the control with this ID; raise KeyError for an unknown ID."""
    return _BY_ID[control_id]


def ids() -> tuple[str, ...]:
    """Return every control ID in catalog order."""
    return tuple(control.id for control in CATALOG)


def by_framework(key: str) -> dict[str, tuple[str, ...]]:
    """Requirement -> the controls that answer to it, for one framework key (sorted)."""
    found: dict[str, list[str]] = {}
    for control in CATALOG:
        for requirement in control.frameworks().get(key, ()):
            found.setdefault(requirement, []).append(control.id)
    return {req: tuple(found[req]) for req in sorted(found, key=_requirement_order)}


def _requirement_order(requirement: str) -> tuple[object, ...]:
    """Order "1.2.5" before "1.10" and "Art. 9" before "Art. 11", as the texts do."""
    parts = requirement.replace("Art. ", "").replace("A.", "").split(".")
    return tuple(int(p) if p.isdigit() else p for p in parts)


def markdown() -> str:
    """docs/controls.md: the catalog and one table per framework (kept in sync by a test)."""
    lines = [
        "# Controls",
        "",
        'What "compliant" means: each control has a stable ID, one place where it is enforced,',
        "what its verdict on a live workload is judged from, and the framework requirements it",
        "answers to. Generated from `fwop/controls.py` (`make docs-controls`); the compliance",
        "report and the PolicyReports carry the same mapping.",
        "",
        "| ID | control | category | severity | enforced in | judged from | references |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {c.id} | {c.title} | {c.category} | {c.severity} | {c.enforced_in} |"
        f" {c.judged_from} | {'; '.join(c.references)} |"
        for c in CATALOG
    ]
    for key, name in FRAMEWORKS.items():
        lines += ["", f"## {name}", "", "| requirement | controls |", "|---|---|"]
        lines += [f"| {req} | {', '.join(ids_)} |" for req, ids_ in by_framework(key).items()]
    lines += [
        "",
        "The mapping says which requirement a control contributes evidence to; it does not",
        "claim that the control alone satisfies the requirement. Requirements about people,",
        "processes and systems outside the cluster stay with the institution.",
    ]
    return "\n".join(lines) + "\n"
