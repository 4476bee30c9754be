"""Read Kubernetes documents from YAML text and write manifests back as YAML.

A file's documents are mappings (objects); ``kind: List`` documents (and ``*List`` kinds,
as ``kubectl get fw -o yaml`` prints) stand for their items. Each object knows its file,
its position, the line it starts on and the line of every field, so that each problem is
one line naming the file, the object, the line, the field and, where one applies, the
control. Text that is not YAML is an ``InputError`` (the command stops, exit 2), never a
traceback. Must not: print (main does), read files (inputs does), or render anything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml
from yaml import nodes

from fwop import errors
from fwop.api import group, workload
from fwop.cli import yamltext

NOT_AN_OBJECT = "(not an object)"
"""The kind counted for documents that are not mappings (a list, a string)."""
NO_KIND = "(no kind)"
"""The kind counted for mappings without a kind (a Helm values file, a CI workflow)."""


class InputError(ValueError):
    """An input that cannot be read as YAML: the command stops (exit 2)."""

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        self.source = source
        self.message = message
        self.line = line
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {message}")


@dataclasses.dataclass(frozen=True)
class Document:
    """One object of a file (a document, or an item of a List document)."""

    source: str
    index: int
    """Position of the document in its file, from 1."""
    body: Mapping[str, Any]
    line: int = 1
    """Line of the object's first field, from 1."""
    item: int | None = None
    """Position in the List document's ``items``, from 0 (None: not in a List)."""
    node: nodes.Node | None = dataclasses.field(default=None, compare=False, repr=False)
    """The object's YAML node, for the line of a field (None: read as JSON)."""

    @property
    def kind(self) -> object:
        """The document's kind, as written."""
        return self.body.get("kind")

    @property
    def kind_name(self) -> str:
        """The kind as a string, for counts and reports."""
        return self.kind if isinstance(self.kind, str) and self.kind else NO_KIND

    @property
    def is_workload(self) -> bool:
        """Tell whether the document is (or claims to be) a FinancialWorkload."""
        api_version = str(self.body.get("apiVersion", ""))
        ours = api_version.startswith(f"{group.GROUP}/") and self.kind not in (
            group.POLICY_KIND,
            group.LIST_KIND,
            group.POLICY_LIST_KIND,
        )
        return self.kind == group.KIND or ours

    @property
    def name(self) -> str | None:
        """metadata.name when it is a string."""
        metadata = self.body.get("metadata")
        name = metadata.get("name") if isinstance(metadata, Mapping) else None
        return name if isinstance(name, str) else None

    def namespace(self, default: str) -> str:
        """metadata.namespace, or ``default`` when it names none."""
        metadata = self.body.get("metadata")
        namespace = metadata.get("namespace") if isinstance(metadata, Mapping) else None
        return str(namespace or default)

    def line_of(self, field: str) -> int:
        """The line of ``field`` (``spec.env[0].value``) or of its nearest written parent."""
        if self.node is None:
            return self.line
        return yamltext.line_of(yamltext.field_lines(self.node), field)

    def label(self, line: int | None = None) -> str:
        """Prefix of the lines about this object: file, name, position, line."""
        return label(self.source, self.name, self.index, self.item, line or self.line)


def label(source: str, name: str | None, index: int, item: int | None, line: int) -> str:
    """``FILE:LINE: NAME (document N[, items[M]])``, the prefix of a problem's line.

    The place first, as compilers and linters print it: editors and CI annotations jump to it.
    """
    where = f"document {index}" + ("" if item is None else f", items[{item}]")
    return f"{source}:{line}: {name} ({where})" if name is not None else f"{source}:{line}: {where}"


@dataclasses.dataclass(frozen=True)
class Read:
    """What one input held: its objects, and how many documents were not objects."""

    source: str
    documents: tuple[Document, ...]
    not_objects: int = 0


def _is_list(data: Mapping[str, Any]) -> bool:
    kind = data.get("kind")
    listed = kind == "List" or (isinstance(kind, str) and kind.endswith("List"))
    return listed and isinstance(data.get("items"), list)


def _expand(source: str, index: int, parsed: yamltext.Parsed) -> tuple[list[Document], int]:
    """The objects of one document: itself, or a List's items; and the non-objects."""
    data = parsed.data
    if not isinstance(data, Mapping):
        return [], 1
    if not _is_list(data):
        return [Document(source, index, data, parsed.line, None, parsed.node)], 0
    found: list[Document] = []
    skipped = 0
    item_nodes = yamltext.items_nodes(parsed.node) or []
    for position, item in enumerate(data["items"]):
        node = item_nodes[position] if position < len(item_nodes) else None
        line = node.start_mark.line + 1 if node is not None else parsed.line
        if isinstance(item, Mapping):
            found.append(Document(source, index, item, line, position, node))
        else:
            skipped += 1
    return found, skipped


def read(text: str, source: str, json_first: bool = False) -> Read:
    """Split a YAML (or JSON) text into its objects; raise InputError when it is not YAML."""
    try:
        parsed = yamltext.parse(text, json_first=json_first)
    except yamltext.TextError as exc:
        raise InputError(source, exc.message, exc.line) from None
    found: list[Document] = []
    not_objects = 0
    for index, one in enumerate(parsed, start=1):
        if one.data is None:  # an empty document (`---` twice, comments only)
            continue
        objects, skipped = _expand(source, index, one)
        found.extend(objects)
        not_objects += skipped
    return Read(source, tuple(found), not_objects)


def problem_lines(doc: Document, problems: Iterable[errors.Problem]) -> list[str]:
    """Return one line per problem of a document: file, name, position, line, field, message."""
    return [f"{doc.label(doc.line_of(problem.field))}: {problem}" for problem in problems]


@dataclasses.dataclass(frozen=True)
class Loaded:
    """The valid workloads of some documents and one line per problem found."""

    workloads: tuple[workload.Workload, ...]
    problems: tuple[str, ...]


def load(docs: Sequence[Document], default_namespace: str) -> Loaded:
    """Parse every FinancialWorkload among ``docs``; other kinds are skipped."""
    found: list[workload.Workload] = []
    problems: list[str] = []
    for doc in docs:
        if not doc.is_workload:
            continue
        try:
            found.append(workload.parse(doc.body, default_namespace))
        except errors.InvalidSpecError as exc:
            problems.extend(problem_lines(doc, exc.problems))
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
