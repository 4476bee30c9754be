"""What fwctl check found, as records, and its text and JSON outputs.

A ``Finding`` is one violation of one workload; a ``Judged`` is one workload with its
findings; a ``Summary`` counts files, documents, the kinds skipped and the verdicts. The
JSON shape (``fwop.check/v1``) is documented in docs/cli.md; SARIF, JUnit and
PolicyReport outputs are built from the same records (sarif, junit, policyreports).
Must not: judge, read files, or print (main writes what these functions return).
"""

from __future__ import annotations

import collections
import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from fwop.cli import documents

JSON_FORMAT = "fwop.check/v1"
SCHEMA_RULE = "schema"
"""The rule of a finding without a control: the CRD's schema and rules."""


@dataclasses.dataclass(frozen=True)
class Finding:
    """One violation: where it is written and what it breaks."""

    file: str
    line: int
    """Line of the offending field (or of its nearest written parent), from 1."""
    document: int
    """Position of the document in its file, from 1."""
    item: int | None
    """Position in a List document's items, from 0 (None: not in a List)."""
    kind: str
    namespace: str
    name: str | None
    field: str
    control: str | None
    """Control ID of fwop.controls, or None for the CRD's schema rules."""
    message: str

    @property
    def rule(self) -> str:
        """The control, or ``schema`` for a finding without one."""
        return self.control or SCHEMA_RULE

    def text(self) -> str:
        """``FILE:LINE: NAME (document N): FIELD: MESSAGE (CONTROL)``."""
        where = documents.label(self.file, self.name, self.document, self.item, self.line)
        return f"{where}: {self.field}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        """The finding in the JSON output."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Judged:
    """One workload that was judged, with its findings (none: it passed)."""

    file: str
    line: int
    """Line of the workload's first field."""
    document: int
    item: int | None
    kind: str
    namespace: str
    name: str | None
    findings: tuple[Finding, ...]

    @property
    def id(self) -> str:
        """``namespace/name`` (the name is ``document N`` when metadata.name is missing)."""
        return f"{self.namespace}/{self.name or f'document {self.document}'}"

    def as_json(self) -> dict[str, Any]:
        """The workload in the JSON output: where it is, and how many violations."""
        shape = {k: v for k, v in dataclasses.asdict(self).items() if k != "findings"}
        return shape | {"violations": len(self.findings), "passed": not self.findings}


@dataclasses.dataclass(frozen=True)
class Summary:
    """What was read and judged."""

    files: int
    documents: int
    """Documents read, List items counted one each; documents that are not objects too."""
    skipped: Mapping[str, int]
    """Documents not judged, by kind (``(no kind)``, ``(not an object)``)."""
    workloads: int
    failed: int
    violations: int

    def as_json(self) -> dict[str, Any]:
        """The summary in the JSON output."""
        return {
            "files": self.files,
            "documents": self.documents,
            "skipped": sum(self.skipped.values()),
            "skippedByKind": dict(sorted(self.skipped.items())),
            "workloads": self.workloads,
            "passed": self.workloads - self.failed,
            "failed": self.failed,
            "violations": self.violations,
        }

    def line(self, kind: str) -> str:
        """The one-line summary on stderr."""
        skipped = sum(self.skipped.values())
        by_kind = ", ".join(f"{k} {n}" for k, n in sorted(self.skipped.items()))
        verdict = "fail" if self.violations else "pass"
        return (
            f"{self.files} file(s), {self.documents} document(s), {skipped} skipped"
            + (f" ({by_kind})" if by_kind else "")
            + f"; {self.workloads} {kind}(s), {self.failed} with violations: {verdict}"
        )


def summarise(reads: Sequence[documents.Read], judged: Sequence[Judged]) -> Summary:
    """Count the files, documents and skipped kinds of ``reads``, and the verdicts."""
    skipped: collections.Counter[str] = collections.Counter()
    total = 0
    for one in reads:
        total += len(one.documents) + one.not_objects
        if one.not_objects:
            skipped[documents.NOT_AN_OBJECT] += one.not_objects
        skipped.update(doc.kind_name for doc in one.documents if not doc.is_workload)
    return Summary(
        files=len(reads),
        documents=total,
        skipped=dict(skipped),
        workloads=len(judged),
        failed=sum(1 for one in judged if one.findings),
        violations=sum(len(one.findings) for one in judged),
    )


def text(judged: Sequence[Judged]) -> str:
    """One line per finding, in input order."""
    return "".join(f"{finding.text()}\n" for one in judged for finding in one.findings)


def as_json(judged: Sequence[Judged], summary: Summary) -> str:
    """The ``fwop.check/v1`` document: findings, workloads and the summary."""
    shape = {
        "format": JSON_FORMAT,
        "findings": [finding.as_json() for one in judged for finding in one.findings],
        "workloads": [one.as_json() for one in judged],
        "summary": summary.as_json(),
    }
    return json.dumps(shape, indent=2) + "\n"
