"""docs/api.md keeps up with the models: every spec field and every rule's control is there."""

from __future__ import annotations

import pathlib

import pytest

from fwop.api import policy, rules, spec

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


POLICY_DOC = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "policy.md").read_text(
    encoding="utf-8"
)


@pytest.mark.parametrize(
    "alias",
    [f.alias or n for n, f in policy.FinancialWorkloadPolicySpec.model_fields.items()],
)
def test_every_policy_field_is_documented_in_both_pages(alias: str) -> None:
    assert f"`{alias}`" in DOC
    assert f"{alias}:" in POLICY_DOC


@pytest.mark.parametrize("control", ["IMG-2", "RES-1", "PRF-1", "NET-2", "SEC-1", "POD-6"])
def test_policy_page_gives_each_admission_control_a_row(control: str) -> None:
    assert f"| {control} |" in POLICY_DOC


def test_policy_page_cites_the_regulations() -> None:
    for reference in ("PCI DSS 6.3", "OCC Bulletin 2020-62", "GDPR", "PSD2"):
        assert reference in POLICY_DOC
