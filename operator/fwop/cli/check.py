"""fwctl check: judge FinancialWorkload documents offline, exactly as admission would.

Every FinancialWorkload document goes through ``fwop.admission.review.review`` with the
policy of ``--policy FILE`` (or the cluster's with ``--cluster``, or the defaults, which
trust nothing) and the labels of its namespace: ``kubernetes.io/metadata.name``, then
``--namespace-labels``, then the namespace's labels in the cluster (``--cluster``), then
the labels of a Namespace document of that name in any of the inputs, each overriding the
one before.
Each violation becomes a ``findings.Finding`` with the line of its field.
Must not: print (main does), read files (inputs does), talk to a cluster, or judge
anything itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from fwop import errors
from fwop.admission import review
from fwop.api import group
from fwop.api import policy as policy_api
from fwop.cli import documents, findings

NAME_LABEL = "kubernetes.io/metadata.name"


class UsageError(ValueError):
    """The command line or the policy file is wrong; the workloads were not judged."""


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
    try:
        docs = documents.read(text, source).documents
    except documents.InputError as exc:
        raise UsageError(str(exc)) from None
    found = [doc for doc in docs if doc.kind == group.POLICY_KIND]
    if len(found) != 1:
        msg = f"{source}: expected one {group.POLICY_KIND} document, found {len(found)}"
        raise UsageError(msg)
    try:
        return policy_api.parse(found[0].body)
    except errors.InvalidSpecError as exc:
        raise UsageError("\n".join(documents.problem_lines(found[0], exc.problems))) from None


def namespaces_of(docs: Iterable[documents.Document], default: str) -> list[str]:
    """The namespaces the FinancialWorkloads of the input land in, in order."""
    return list(dict.fromkeys(doc.namespace(default) for doc in docs if doc.is_workload))


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


@dataclasses.dataclass(frozen=True)
class Checker:
    """What every workload is judged against."""

    policy: policy_api.FinancialWorkloadPolicySpec
    labels: Mapping[str, str]
    default_namespace: str
    live_labels: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)
    """Labels of the namespaces as a cluster holds them (check --cluster), by name."""

    def run(self, reads: Sequence[documents.Read]) -> list[findings.Judged]:
        """Judge every FinancialWorkload of the inputs, in input order."""
        docs = [doc for one in reads for doc in one.documents]
        namespaces = _namespaces(docs)
        return [self._judge(doc, namespaces) for doc in docs if doc.is_workload]

    def _judge(
        self, doc: documents.Document, namespaces: Mapping[str, Mapping[str, str]]
    ) -> findings.Judged:
        namespace = doc.namespace(self.default_namespace)
        labels = {
            NAME_LABEL: namespace,
            **self.labels,
            **self.live_labels.get(namespace, {}),
            **namespaces.get(namespace, {}),  # what the repository will apply wins
        }
        try:
            problems = review.review(doc.body, self.policy, labels, self.default_namespace)
        except RecursionError:
            msg = "nested too deeply to judge"
            raise documents.InputError(doc.source, msg, doc.line) from None
        found = tuple(
            findings.Finding(
                file=doc.source,
                line=doc.line_of(problem.field),
                document=doc.index,
                item=doc.item,
                kind=doc.kind_name,
                namespace=namespace,
                name=doc.name,
                field=problem.field,
                control=problem.control,
                message=problem.message,
            )
            for problem in problems
        )
        return findings.Judged(
            doc.source, doc.line, doc.index, doc.item, doc.kind_name, namespace, doc.name, found
        )
