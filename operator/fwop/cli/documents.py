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


def _is_workload(doc: Mapping[str, Any]) -> bool:
    api_version = str(doc.get("apiVersion", ""))
    return doc.get("kind") == group.KIND or api_version.startswith(f"{group.GROUP}/")


def _label(source: str, index: int, doc: Mapping[str, Any]) -> str:
    metadata = doc.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    where = f"document {index}"
    return f"{source}: {name} ({where})" if isinstance(name, str) else f"{source}: {where}"


def load(text: str, source: str, default_namespace: str) -> Loaded:
    """Parse every FinancialWorkload in a YAML text; other kinds are skipped."""
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        return Loaded((), (f"{source}: invalid YAML: {detail}",))
    found: list[workload.Workload] = []
    problems: list[str] = []
    for index, doc in enumerate(docs, start=1):
        if doc is None:
            continue
        if not isinstance(doc, Mapping):
            problems.append(f"{source}: document {index}: not a mapping")
            continue
        if not _is_workload(doc):
            continue
        try:
            found.append(workload.parse(doc, default_namespace))
        except errors.InvalidSpecError as exc:
            label = _label(source, index, doc)
            problems.extend(f"{label}: {problem}" for problem in exc.problems)
    if not found and not problems:
        problems.append(f"{source}: no {group.KIND} document found")
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
