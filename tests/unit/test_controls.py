"""The controls catalog is complete, unique, and referenced consistently."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fwop import controls
from fwop.api import rules

DESIGN_IDS = [
    "IMG-1",
    "IMG-2",
    "POD-1",
    "POD-2",
    "POD-3",
    "POD-4",
    "POD-5",
    "POD-6",
    "NS-1",
    "RBAC-1",
    "RBAC-2",
    "RBAC-3",
    "RBAC-4",
    "NET-1",
    "NET-2",
    "NET-3",
    "SEC-1",
    "RES-1",
    "AVL-1",
    "PRF-1",
    "DRF-1",
    "DRF-2",
    "OWN-1",
    "AUD-1",
]


def test_catalog_holds_every_control_once_in_order() -> None:
    assert list(controls.ids()) == DESIGN_IDS


@pytest.mark.parametrize("control", controls.CATALOG, ids=lambda c: c.id)
def test_every_control_is_described_and_referenced(control: controls.Control) -> None:
    assert re.fullmatch(r"[A-Z]+-[0-9]+", control.id)
    assert control.title.endswith(".")
    assert control.enforced_in
    assert control.references
    assert controls.get(control.id) is control


def test_unknown_control_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        controls.get("NOPE-1")


@pytest.mark.parametrize("rule", [r for r in rules.ALL if r.control], ids=lambda r: r.text[:60])
def test_rule_controls_exist_and_are_named_in_the_message(rule: rules.Rule) -> None:
    assert rule.control is not None
    assert controls.get(rule.control).id == rule.control
    assert rule.message.endswith(f"({rule.control})")


def test_docs_controls_is_generated_from_the_catalog() -> None:
    committed = Path(__file__).resolve().parents[2] / "docs" / "controls.md"
    assert committed.read_text() == controls.markdown()
