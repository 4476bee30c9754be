"""The architecture holds: pure layers do no I/O imports, only handlers import kopf, and
only the kube layer imports the kubernetes client (STYLE: one place talks to the API)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "operator" / "fwop"
PURE = ("api", "render", "reconcile", "admission", "compliance")
IO_MODULES = (
    "kopf",
    "kubernetes",
    "aiohttp",
    "urllib3",
    "fwop.kube",
    "fwop.handlers",
    "fwop.controller",
    "fwop.execute",
)


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(folder: str = "") -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def uses(found: set[str], prefix: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for name in found)


@pytest.mark.parametrize(
    "path", [p for layer in PURE for p in modules(layer)], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_pure_layers_import_no_io(path: Path) -> None:
    found = imports(path)
    assert not [m for m in IO_MODULES if uses(found, m)], f"{path.name} imports an I/O layer"


def test_only_handlers_import_kopf_and_only_kube_imports_kubernetes() -> None:
    for path in modules():
        found = imports(path)
        relative = path.relative_to(PACKAGE).as_posix()
        if uses(found, "kopf"):
            assert relative.startswith("handlers/") or relative == "main.py", relative
        if uses(found, "kubernetes"):
            assert relative.startswith("kube/"), relative
