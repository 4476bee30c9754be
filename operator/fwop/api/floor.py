"""The hard floor of RBAC-3: what no workload is ever granted, whatever the cluster policy says.

A workload's Role (``spec.permissions``) is an allowlist decision of the platform team
(``FinancialWorkloadPolicy`` grantable permissions), but some grants defeat the baseline
itself and no policy can lift them: anything that creates or controls pods (a pod can run
with any ServiceAccount and mount any Secret: SEC-1 and RBAC-1 gone), entering running
pods, minting tokens, granting permissions, changing the namespace's guardrails or the
operator's own objects, redirecting Service traffic, and reading Secrets.

The floor is data: one list of classes, each with the rules it covers. The same list
yields the CEL rules of the CRDs (refused by the API server), the Python check shared by
the webhook and ``fwctl check``, the policy's own validation (a policy cannot grant what
the floor forbids) and the ValidatingAdmissionPolicy that bounds the operator's token.
Must not: import above the api layer, or do I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

WRITE = ("create", "update", "patch", "delete", "deletecollection")
"""Verbs that change objects."""
ANY_VERB: tuple[str, ...] = ()
"""Marker: the entry forbids every verb, including custom ones."""
ANY_RESOURCE = "*"
"""Marker: the entry covers every resource of its API group."""


@dataclasses.dataclass(frozen=True)
class Entry:
    """Resources of one API group, and the verbs on them no workload may hold."""

    group: str
    resources: tuple[str, ...]
    """Resource names; each also covers its subresources (deployments -> deployments/scale)
    unless it names a subresource itself. ``("*",)`` covers the whole group."""
    verbs: tuple[str, ...] = ANY_VERB
    """Forbidden verbs; empty forbids every verb."""

    def covers(self, group: str, resource: str, verb: str) -> bool:
        """Tell whether this entry forbids ``verb`` on ``group``/``resource``."""
        if group != self.group or (self.verbs and verb not in self.verbs):
            return False
        return ANY_RESOURCE in self.resources or any(
            resource == r or ("/" not in r and resource.startswith(f"{r}/")) for r in self.resources
        )


@dataclasses.dataclass(frozen=True)
class Class:
    """A reason a grant is never allowed, and the entries it covers."""

    key: str
    """Short identifier (used in rule names)."""
    why: str
    """What such a grant lets the workload do, phrased after 'it'."""
    entries: tuple[Entry, ...]

    def covers(self, group: str, resource: str, verb: str) -> bool:
        """Tell whether any entry forbids this grant."""
        return any(entry.covers(group, resource, verb) for entry in self.entries)

    def summary(self) -> str:
        """The class's resources, for messages and docs (``apps/deployments``, ``pods``)."""
        parts = []
        for entry in self.entries:
            prefix = f"{entry.group}/" if entry.group else ""
            verbs = f" ({', '.join(entry.verbs)})" if entry.verbs and entry.verbs != WRITE else ""
            writes = " writes" if entry.verbs == WRITE else ""
            parts += [f"{prefix}{resource}{writes}{verbs}" for resource in entry.resources]
        return ", ".join(parts)


_POD_CONTROLLERS = ("deployments", "replicasets", "statefulsets", "daemonsets")

# The first class that covers a grant names it: specific subresources before their parents.
CLASSES: tuple[Class, ...] = (
    Class(
        "enter",
        "enters running pods or reaches them past their NetworkPolicies",
        (
            Entry(
                "",
                (
                    "pods/exec",
                    "pods/attach",
                    "pods/portforward",
                    "pods/ephemeralcontainers",
                    "pods/proxy",
                    "pods/binding",
                    "pods/status",
                    "services/proxy",
                ),
            ),
        ),
    ),
    Class(
        "pods",
        "creates or controls pods, which may run as any ServiceAccount and mount any Secret",
        (
            Entry("", ("pods",), ("create", "update", "patch")),
            Entry("", ("replicationcontrollers", "podtemplates"), WRITE),
            Entry("apps", (*_POD_CONTROLLERS, "controllerrevisions"), WRITE),
            Entry("extensions", ("deployments", "replicasets", "daemonsets"), WRITE),
            Entry("batch", ("jobs", "cronjobs"), WRITE),
        ),
    ),
    Class(
        "identity",
        "creates ServiceAccounts or mints their tokens",
        (Entry("", ("serviceaccounts",), WRITE), Entry("", ("serviceaccounts/token",))),
    ),
    Class(
        "rbac",
        "grants permissions",
        (Entry("rbac.authorization.k8s.io", (ANY_RESOURCE,)),),
    ),
    Class(
        "guardrails",
        "changes the namespace, its guardrails or the operator's own objects",
        (
            Entry("", ("namespaces",)),
            Entry("", ("resourcequotas", "limitranges"), WRITE),
            Entry("networking.k8s.io", ("networkpolicies",)),
            Entry("extensions", ("networkpolicies",)),
            Entry("policy", ("poddisruptionbudgets",), WRITE),
            Entry("secrets-store.csi.x-k8s.io", (ANY_RESOURCE,)),
            Entry("finance.compliance.dev", (ANY_RESOURCE,)),
            Entry("admissionregistration.k8s.io", (ANY_RESOURCE,)),
            Entry("kopf.dev", (ANY_RESOURCE,)),
        ),
    ),
    Class(
        "traffic",
        "redirects or exposes Service traffic",
        (
            Entry("", ("services", "endpoints"), WRITE),
            Entry("discovery.k8s.io", ("endpointslices",), WRITE),
        ),
    ),
    Class(
        "secrets",
        "reads or writes Kubernetes Secrets (secrets come from spec.secrets: SEC-1)",
        (Entry("", ("secrets",)),),
    ),
)


@dataclasses.dataclass(frozen=True)
class Breach:
    """One grant of a rule that the floor forbids."""

    group: str
    resource: str
    verb: str
    floor: Class

    def describe(self) -> str:
        """``create on apps/deployments``, naming the core group as ``""``."""
        where = f"{self.group}/{self.resource}" if self.group else self.resource
        return f"{self.verb} on {where}"


def breaches(
    api_groups: Iterable[str], resources: Iterable[str], verbs: Iterable[str]
) -> Iterator[Breach]:
    """Every (group, resource, verb) of one RBAC rule that the floor forbids, first class wins."""
    resources, verbs = tuple(resources), tuple(verbs)
    for group in api_groups:
        for resource in resources:
            for verb in verbs:
                found = next((c for c in CLASSES if c.covers(group, resource, verb)), None)
                if found is not None:
                    yield Breach(group, resource, verb, found)


def _quote(values: Iterable[str]) -> str:
    return "[" + ", ".join(f"'{value}'" for value in values) + "]"


_CEL_LOCALS = frozenset({"g", "r", "v"})
"""The comprehension variables the expressions use; ``var`` must not be one of them."""


def _entry_cel(entry: Entry, var: str = "self") -> str:
    """CEL, on an RBAC rule object ``var``, true when the rule grants what ``entry`` forbids."""
    terms = [f"{var}.apiGroups.exists(g, g == '{entry.group}')"]
    if ANY_RESOURCE not in entry.resources:
        checks = [f"r in {_quote(entry.resources)}"]
        checks += [f"r.startsWith('{r}/')" for r in entry.resources if "/" not in r]
        terms.append(f"{var}.resources.exists(r, {' || '.join(checks)})")
    if entry.verbs:
        terms.append(f"{var}.verbs.exists(v, v in {_quote(entry.verbs)})")
    return "(" + " && ".join(terms) + ")"


def cel(floor: Class, var: str = "self") -> str:
    """CEL, on an RBAC rule object ``var``, true when the rule stays off this class.

    ``self`` is the rule in a CRD's x-kubernetes-validations; another name lets the same
    expression sit inside a comprehension over a list of rules (``object.rules.all(rule,
    ...)`` in a ValidatingAdmissionPolicy).
    """
    if var in _CEL_LOCALS or not var.isidentifier():
        msg = f"CEL variable {var!r} is not an identifier or is shadowed by g, r or v"
        raise ValueError(msg)
    return "!(" + " || ".join(_entry_cel(entry, var) for entry in floor.entries) + ")"
