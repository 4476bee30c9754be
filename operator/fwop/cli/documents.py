"""Read FinancialWorkload documents from YAML files and write manifests back as YAML.

Problems are collected, never raised as tracebacks: each becomes one line naming the
file, the document, the field and, where one applies, the control. Must not: print
(main does), or render anything itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from fwop import errors
from fwop.api import group, workload


@dataclasses.dataclass(frozen=True)
class Loaded:
    """What a file held: the valid workloads and one line per problem found."""

    workloads: tuple[workload.Workload, ...]
    problems: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Document:
    """One YAML document of a file that is a mapping, with where it came from."""

    source: str
    index: int
    """Position of the document in its file, from 1."""
    body: Mapping[str, Any]

    @property
    def kind(self) -> object:
        """The document's kind, as written."""
        return self.body.get("kind")

    @property
    def is_workload(self) -> bool:
        """Tell whether the document is (or claims to be) a FinancialWorkload."""
        api_version = str(self.body.get("apiVersion", ""))
        ours = api_version.startswith(f"{group.GROUP}/") and self.kind != group.POLICY_KIND
        return self.kind == group.KIND or ours

    @property
    def label(self) -> str:
        """Prefix of the lines about this document: file, name and position."""
        metadata = self.body.get("metadata")
        name = metadata.get("name") if isinstance(metadata, Mapping) else None
        where = f"document {self.index}"
        return (
            f"{self.source}: {name} ({where})"
            if isinstance(name, str)
            else f"{self.source}: {where}"
        )


def read(text: str, source: str) -> tuple[tuple[Document, ...], tuple[str, ...]]:
    """Split a YAML text into its mapping documents; problems are one line each."""
    try:
        raw = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        return (), (f"{source}: invalid YAML: {detail}",)
    found: list[Document] = []
    problems: list[str] = []
    for index, doc in enumerate(raw, start=1):
        if doc is None:
            continue
        if not isinstance(doc, Mapping):
            problems.append(f"{source}: document {index}: not a mapping")
            continue
        found.append(Document(source, index, doc))
    return tuple(found), tuple(problems)


def problem_lines(doc: Document, problems: Iterable[errors.Problem]) -> list[str]:
    """Return one line per problem of a document: file, name, position, field, message."""
    return [f"{doc.label}: {problem}" for problem in problems]


def no_workload(source: str) -> str:
    """Return the line saying a file holds no FinancialWorkload."""
    return f"{source}: no {group.KIND} document found"


def load(text: str, source: str, default_namespace: str) -> Loaded:
    """Parse every FinancialWorkload in a YAML text; other kinds are skipped."""
    docs, read_problems = read(text, source)
    if read_problems and not docs:
        return Loaded((), read_problems)
    found: list[workload.Workload] = []
    problems = list(read_problems)
    for doc in docs:
        if not doc.is_workload:
            continue
        try:
            found.append(workload.parse(doc.body, default_namespace))
        except errors.InvalidSpecError as exc:
            problems.extend(problem_lines(doc, exc.problems))
    if not found and not problems:
        problems.append(no_workload(source))
    return Loaded(tuple(found), tuple(problems))


class _Dumper(yaml.SafeDumper):
    """Readable, alias-free YAML: multi-line strings as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(manifests: Iterable[Mapping[str, Any]]) -> str:
    """Return manifests as a multi-document YAML stream, keys in rendering order."""
    return yaml.dump_all(
        [dict(manifest) for manifest in manifests],
        Dumper=_Dumper,
        sort_keys=False,
        explicit_start=True,
        width=100,
    )
