"""The memory breakdown's deep sizes: each object counted once, for the first holder."""

from __future__ import annotations

import sys

from fwop import memory
from fwop.reconcile import conditions


def test_an_object_shared_by_two_holders_counts_for_the_first() -> None:
    shared = {"spec": ["x" * 1000]}
    sizes = memory.deep_sizes({"a": {"k": shared}, "b": [shared]})
    assert sizes["a"] > 1000 + sys.getsizeof(shared)
    assert sizes["b"] == sys.getsizeof([shared])


def test_the_projects_own_objects_are_followed_but_not_modules() -> None:
    held = conditions.Condition("Ready", "True", "Available", "m" * 5000)
    sizes = memory.deep_sizes({"memo": [held], "module": [sys]})
    assert sizes["memo"] > 5000
    assert sizes["module"] < 1000
