"""Parse YAML (or JSON) text into documents that know the line of each of their fields.

Duplicate mapping keys are refused, as kubectl refuses them: YAML would keep the last
value silently, and a reviewer reading the first one would judge what is not applied.
JSON that YAML cannot read (tabs for indentation) is read as JSON, without line numbers.
Every failure is one ``TextError`` with the line where it is known, never another
exception. Must not: read files or stdin (callers pass the text), print, or know any
Kubernetes kind.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Hashable, Mapping
from typing import Any

import yaml
from yaml import nodes

FieldPath = tuple[str | int, ...]
"""A field as keys and indexes: ``spec.env[0].value`` is ``("spec", "env", 0, "value")``."""

MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_NODES = 100_000
"""Nodes a document may expand to through its aliases (a billion laughs stops here)."""
_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


class TextError(ValueError):
    """The text is not YAML (or JSON) a Kubernetes client would accept."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.message = message
        self.line = line
        super().__init__(message if line is None else f"line {line}: {message}")


@dataclasses.dataclass(frozen=True)
class Parsed:
    """One document of a text: its data, the line it starts on, and its YAML node."""

    data: object
    line: int
    """Line of the document's first field, from 1."""
    node: nodes.Node | None
    """The document's node (None for JSON read without YAML): the fields' lines."""


class _DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping names the same key twice."""


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing duplicate keys (merge keys ``<<`` may be overridden)."""

    def construct_mapping(self, node: nodes.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, nodes.ScalarNode) or key_node.tag == MERGE_TAG:
                continue
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                problem = f"duplicate key {key!r} (first at line {seen[key]})"
                raise _DuplicateKeyError(None, None, problem, key_node.start_mark)
            seen[key] = line
        return super().construct_mapping(node, deep)


def _children(node: nodes.Node) -> list[nodes.Node]:
    if isinstance(node, nodes.MappingNode):
        return [part for pair in node.value for part in pair]
    return list(node.value) if isinstance(node, nodes.SequenceNode) else []


def _check_aliases(root: nodes.Node) -> None:
    """Refuse a document whose aliases make it recursive or expand it past MAX_NODES."""
    size: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[nodes.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        children = _children(node)
        if done:
            open_nodes.discard(id(node))
            size[id(node)] = min(MAX_NODES + 1, 1 + sum(size[id(c)] for c in children))
            continue
        if id(node) in size:
            continue
        if id(node) in open_nodes:
            msg = "an alias refers to a node that contains it: a recursive structure"
            raise TextError(msg, node.start_mark.line + 1)
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in size)
    if size[id(root)] > MAX_NODES:
        msg = f"aliases expand the document past {MAX_NODES:,} nodes"
        raise TextError(msg, root.start_mark.line + 1)


def _yaml(text: str) -> list[Parsed]:
    loader = _Loader(text)
    try:
        found: list[Parsed] = []
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover - check_node said there is one
                break
            _check_aliases(node)
            data = loader.construct_document(node)
            found.append(Parsed(data, node.start_mark.line + 1, node))
        return found
    finally:
        loader.dispose()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            msg = f"duplicate key {key!r}"
            raise TextError(msg)
        found[key] = value
    return found


def _json(text: str) -> list[Parsed]:
    try:
        return [Parsed(json.loads(text, object_pairs_hook=_no_duplicates), 1, None)]
    except json.JSONDecodeError as exc:
        raise TextError(f"invalid JSON: {exc.msg}", exc.lineno) from None


def _yaml_error(exc: yaml.YAMLError, text: str) -> TextError:
    if isinstance(exc, _DuplicateKeyError) and exc.problem_mark is not None:
        return TextError(
            f"{exc.problem}; kubectl refuses duplicate keys", exc.problem_mark.line + 1
        )
    if isinstance(exc, yaml.MarkedYAMLError):
        detail = " ".join(part for part in (exc.context, exc.problem) if part)
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        return TextError(f"invalid YAML: {' '.join(detail.split())}", line)
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        char = exc.character
        shown = f"U+{char:04X}" if isinstance(char, int) else repr(char)
        return TextError(f"invalid YAML: character {shown} is not allowed", line)
    return TextError(f"invalid YAML: {' '.join(str(exc).split())}")  # pragma: no cover


def parse(text: str, json_first: bool = False) -> list[Parsed]:
    """Return the documents of a YAML stream (or a JSON text); raise TextError.

    With ``json_first`` (a ``.json`` file) a text YAML cannot read is read as JSON and
    its JSON error is the one reported.
    """
    try:
        return _yaml(text)
    except TextError as exc:
        error = exc
    except yaml.YAMLError as exc:
        error = _yaml_error(exc, text)
        if isinstance(exc, _DuplicateKeyError):
            raise error from None
    except RecursionError:
        error = TextError("nested too deeply to read")
    except Exception as exc:  # PyYAML's constructors raise ValueError, AttributeError...
        error = TextError(f"invalid YAML: {type(exc).__name__}: {' '.join(str(exc).split())}")
    try:
        return _json(text)
    except TextError as json_error:
        raise (json_error if json_first else error) from None
    except RecursionError:
        raise error from None


def field_lines(root: nodes.Node) -> dict[FieldPath, int]:
    """The line of every field under ``root`` (keys: the key's line; items: the item's)."""
    found: dict[FieldPath, int] = {(): root.start_mark.line + 1}
    stack: list[tuple[FieldPath, nodes.Node]] = [((), root)]
    seen: set[int] = set()
    while stack:
        path, node = stack.pop()
        if id(node) in seen:  # an alias: its fields are where its anchor is
            continue
        seen.add(id(node))
        if isinstance(node, nodes.MappingNode):
            for key, value in node.value:
                if isinstance(key, nodes.ScalarNode) and key.tag != MERGE_TAG:
                    found[(*path, str(key.value))] = key.start_mark.line + 1
                    stack.append(((*path, str(key.value)), value))
        elif isinstance(node, nodes.SequenceNode):
            for index, item in enumerate(node.value):
                found[(*path, index)] = item.start_mark.line + 1
                stack.append(((*path, index), item))
    return found


def items_nodes(root: nodes.Node | None) -> list[nodes.Node] | None:
    """The item nodes of a List document's ``items`` (None when there is no such node)."""
    if not isinstance(root, nodes.MappingNode):
        return None
    for key, value in root.value:
        if isinstance(key, nodes.ScalarNode) and key.value == "items":
            return list(value.value) if isinstance(value, nodes.SequenceNode) else None
    return None


def line_of(lines: Mapping[FieldPath, int], field: str) -> int:
    """The line of ``field`` (``spec.env[0].value``), or of its nearest written parent."""
    path: FieldPath = tuple(int(num) if num else name for num, name in _TOKEN.findall(field))
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, lines.get((), 1))
