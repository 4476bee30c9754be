"""fwctl check: judge FinancialWorkload files offline, exactly as admission would.

Every FinancialWorkload document goes through ``fwop.admission.review.review`` with the
policy of ``--policy FILE`` (or the defaults, which trust nothing) and the labels of its
namespace: ``kubernetes.io/metadata.name``, then ``--namespace-labels``, then the labels of
a Namespace document of that name in any of the files, each overriding the one before.
Must not: print (main does), talk to a cluster, or judge anything itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fwop import errors
from fwop.admission import review
from fwop.api import group
from fwop.api import policy as policy_api
from fwop.cli import documents

NAME_LABEL = "kubernetes.io/metadata.name"


class UsageError(ValueError):
    """The command line or the policy file is wrong; the workloads were not judged."""


@dataclasses.dataclass(frozen=True)
class Source:
    """A file given on the command line and its text (None when it could not be read)."""

    path: str
    text: str | None
    error: str = ""


@dataclasses.dataclass(frozen=True)
class Report:
    """The verdict: one line per violation, and how many workloads were judged."""

    lines: tuple[str, ...]
    workloads: int
    failed: int


def parse_labels(text: str) -> dict[str, str]:
    """Parse ``k=v,k2=v2`` into labels; raise UsageError on a malformed pair."""
    labels: dict[str, str] = {}
    for pair in filter(None, (item.strip() for item in text.split(","))):
        key, sep, value = pair.partition("=")
        if not sep or not key:
            msg = f"--namespace-labels: {pair!r} is not key=value"
            raise UsageError(msg)
        labels[key] = value
    return labels


def load_policy(text: str, source: str) -> policy_api.FinancialWorkloadPolicySpec:
    """Return the one FinancialWorkloadPolicy of a YAML text; raise UsageError otherwise."""
    docs, problems = documents.read(text, source)
    if problems:
        raise UsageError("\n".join(problems))
    found = [doc for doc in docs if doc.kind == group.POLICY_KIND]
    if len(found) != 1:
        msg = f"{source}: expected one {group.POLICY_KIND} document, found {len(found)}"
        raise UsageError(msg)
    try:
        return policy_api.parse(found[0].body)
    except errors.InvalidSpecError as exc:
        raise UsageError("\n".join(documents.problem_lines(found[0], exc.problems))) from None


def _namespaces(docs: Iterable[documents.Document]) -> dict[str, dict[str, str]]:
    """Labels of the Namespace documents, by namespace name."""
    found: dict[str, dict[str, str]] = {}
    for doc in docs:
        metadata = doc.body.get("metadata")
        if doc.kind != "Namespace" or not isinstance(metadata, Mapping):
            continue
        labels = metadata.get("labels")
        labels = labels if isinstance(labels, Mapping) else {}
        found[str(metadata.get("name"))] = {str(k): str(v) for k, v in labels.items()}
    return found


def _namespace_of(doc: Mapping[str, Any], default: str) -> str:
    metadata = doc.get("metadata")
    namespace = metadata.get("namespace") if isinstance(metadata, Mapping) else None
    return str(namespace or default)


@dataclasses.dataclass(frozen=True)
class Checker:
    """What every workload is judged against."""

    policy: policy_api.FinancialWorkloadPolicySpec
    labels: Mapping[str, str]
    default_namespace: str

    def run(self, sources: Sequence[Source]) -> Report:
        """Judge every FinancialWorkload of the sources; unreadable files are violations."""
        lines: list[str] = []
        docs: list[documents.Document] = []
        for source in sources:
            if source.text is None:
                lines.append(f"{source.path}: cannot read: {source.error}")
                continue
            found, problems = documents.read(source.text, source.path)
            lines.extend(problems)
            docs.extend(found)
            if not problems and not any(d.is_workload or d.kind == "Namespace" for d in found):
                lines.append(documents.no_workload(source.path))
        namespaces = _namespaces(docs)
        workloads = [doc for doc in docs if doc.is_workload]
        failed = 0
        for doc in workloads:
            verdict = self._review(doc, namespaces)
            failed += bool(verdict)
            lines.extend(documents.problem_lines(doc, verdict))
        return Report(tuple(lines), len(workloads), failed)

    def _review(
        self, doc: documents.Document, namespaces: Mapping[str, Mapping[str, str]]
    ) -> tuple[errors.Problem, ...]:
        namespace = _namespace_of(doc.body, self.default_namespace)
        labels = {NAME_LABEL: namespace, **self.labels, **namespaces.get(namespace, {})}
        return review.review(doc.body, self.policy, labels, self.default_namespace)
