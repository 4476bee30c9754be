"""Packages export nothing, and the pure layers import nothing that does I/O."""

from __future__ import annotations

import ast
import importlib
import pathlib

import pytest

import fwop

PACKAGE = pathlib.Path(fwop.__file__).parent
FORBIDDEN_IN_PURE = {"kopf", "kubernetes", "time", "datetime", "socket", "subprocess"}


@pytest.mark.parametrize("package", ["fwop.api", "fwop.render", "fwop.cli", "fwop.admission"])
def test_package_exports_nothing(package: str) -> None:
    assert importlib.import_module(package).__all__ == []


def _top_level_imports(path: pathlib.Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(
    "path",
    sorted((PACKAGE / "render").glob("*.py")) + sorted((PACKAGE / "admission").glob("*.py")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_pure_modules_import_no_clock_no_io_no_cluster_client(path: pathlib.Path) -> None:
    assert not _top_level_imports(path) & FORBIDDEN_IN_PURE


@pytest.mark.parametrize("path", sorted((PACKAGE / "admission").glob("*.py")), ids=lambda p: p.name)
def test_admission_modules_do_not_import_the_shell(path: pathlib.Path) -> None:
    text = path.read_text(encoding="utf-8")
    for upper in ("fwop.cli", "fwop.kube", "fwop.handlers", "fwop.reconcile", "fwop.controller"):
        assert f"from {upper}" not in text
        assert f"import {upper}" not in text


@pytest.mark.parametrize(
    "path",
    sorted((PACKAGE / "api").glob("*.py")),
    ids=lambda p: p.name,
)
def test_api_modules_do_not_import_upper_layers(path: pathlib.Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not _top_level_imports(path) & {"kopf", "kubernetes"}
    for upper in ("fwop.render", "fwop.cli", "fwop.kube", "fwop.handlers", "fwop.reconcile"):
        assert f"from {upper}" not in text
        assert f"import {upper}" not in text
