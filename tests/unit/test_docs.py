"""docs/api.md keeps up with the models: every spec field and every rule's control is there."""

from __future__ import annotations

import pathlib

import pytest

from fwop.api import rules, spec

DOC = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "alias", [f.alias or n for n, f in spec.FinancialWorkloadSpec.model_fields.items()]
)
def test_every_spec_field_is_documented(alias: str) -> None:
    assert f"`{alias}`" in DOC


def test_every_rule_control_is_documented() -> None:
    assert {rule.control for rule in rules.ALL if rule.control} <= {
        word.strip("|,. ") for word in DOC.split()
    }
