"""The error tree: one root, problems that name field, message and control."""

from __future__ import annotations

import pytest

from fwop import errors


def test_invalid_spec_error_is_a_fwop_error_listing_its_problems() -> None:
    problems = (
        errors.Problem("spec.image", "must be pinned (IMG-1)", "IMG-1"),
        errors.Problem("spec.bogus", "unknown field"),
    )
    with pytest.raises(errors.FwopError) as caught:
        raise errors.InvalidSpecError(problems)
    assert isinstance(caught.value, errors.InvalidSpecError)
    assert caught.value.problems == problems
    assert str(caught.value) == "spec.image: must be pinned (IMG-1); spec.bogus: unknown field"
    assert problems[1].control is None
