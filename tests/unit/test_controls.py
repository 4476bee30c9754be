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
    "PLC-1",
    "IDN-1",
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
    assert control.judged_from
    assert control.category
    assert control.references
    assert controls.get(control.id) is control


@pytest.mark.parametrize("control", controls.CATALOG, ids=lambda c: c.id)
def test_framework_references_are_well_formed(control: controls.Control) -> None:
    assert control.frameworks(), "every control answers to at least one framework"
    assert all(re.fullmatch(r"[1-9][0-9]?(\.[1-9][0-9]?){1,2}", r) for r in control.pci_dss)
    assert all(re.fullmatch(r"Art\. [1-9][0-9]?", r) for r in control.dora)
    assert all(re.fullmatch(r"A\.[5-8]\.[1-9][0-9]?", r) for r in control.iso27001)
    assert all(r == "2020-62" for r in control.occ)
    for refs in control.frameworks().values():
        assert len(set(refs)) == len(refs)


def test_framework_tables_list_every_mapped_requirement_once() -> None:
    for key in controls.FRAMEWORKS:
        table = controls.by_framework(key)
        mapped = {(r, c.id) for c in controls.CATALOG for r in c.frameworks().get(key, ())}
        assert {(r, i) for r, ids in table.items() for i in ids} == mapped
    assert list(controls.by_framework("pci-dss"))[:2] == ["1.2.1", "1.2.5"]
    assert "10.2.1" in controls.by_framework("pci-dss")  # numeric, not text, order
    assert next(iter(controls.by_framework("dora"))) == "Art. 8"


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
