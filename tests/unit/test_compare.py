"""compare.differences: managed fields only, merge keys, closed paths, quantities."""

from __future__ import annotations

import copy
from decimal import Decimal
from fractions import Fraction

import pytest

from fwop.api import quantity
from fwop.reconcile import compare

DESIRED = {
    "spec": {
        "replicas": 2,
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "image": "r/app@sha256:" + "a" * 64,
                        "resources": {"limits": {"cpu": "1000m", "memory": "512Mi"}},
                        "securityContext": {"capabilities": {"drop": ["ALL"]}},
                        "ports": [{"name": "http", "containerPort": 8080}],
                    }
                ]
            }
        },
    }
}
CLOSED = ("spec.template.spec.containers.securityContext",)


def live() -> dict:
    obj = copy.deepcopy(DESIRED)
    container = obj["spec"]["template"]["spec"]["containers"][0]
    container["resources"]["limits"]["cpu"] = "1"  # the server canonicalises quantities
    container["terminationMessagePath"] = "/dev/termination-log"  # a server default
    container["ports"][0]["protocol"] = "TCP"
    obj["spec"]["strategy"] = {"type": "RollingUpdate"}
    obj["status"] = {"replicas": 2}
    return obj


def test_server_defaults_and_canonical_quantities_are_not_differences() -> None:
    assert compare.differences(DESIRED, live(), CLOSED) == []


def test_missing_object_is_one_difference() -> None:
    assert compare.differences(DESIRED, None) == [compare.Difference("", "present", None)]


def test_changed_scalar_names_its_path() -> None:
    obj = live()
    obj["spec"]["replicas"] = 1
    expected = compare.Difference("spec.replicas", 2, 1, ("spec", "replicas"))
    assert compare.differences(DESIRED, obj, CLOSED) == [expected]


def test_list_elements_match_by_merge_key_not_position() -> None:
    obj = live()
    containers = obj["spec"]["template"]["spec"]["containers"]
    containers.insert(0, {"name": "sidecar", "image": "other"})  # someone else's container
    assert compare.differences(DESIRED, obj, CLOSED) == []
    containers[1]["image"] = "r/app:latest"
    [diff] = compare.differences(DESIRED, obj, CLOSED)
    assert diff.path == "spec.template.spec.containers[name=app].image"
    assert diff.pointer == ("spec", "template", "spec", "containers", 1, "image")
    assert diff.actual == "r/app:latest"


def test_extra_content_under_a_closed_path_is_a_difference() -> None:
    obj = live()
    sc = obj["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    sc["capabilities"]["add"] = ["NET_ADMIN"]
    [diff] = compare.differences(DESIRED, obj, CLOSED)
    assert diff.path == "spec.template.spec.containers[name=app].securityContext.capabilities.add"
    assert diff.extra
    assert diff.actual == ["NET_ADMIN"]
    assert diff.pointer == (
        "spec",
        "template",
        "spec",
        "containers",
        0,
        "securityContext",
        "capabilities",
        "add",
    )


def test_extra_content_outside_closed_paths_is_ignored() -> None:
    obj = live()
    obj["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "X", "value": "1"}]
    assert compare.differences(DESIRED, obj, CLOSED) == []


def test_atomic_lists_compare_whole() -> None:
    desired = {"spec": {"ingress": [{"ports": [{"port": 8080, "protocol": "TCP"}]}]}}
    obj = copy.deepcopy(desired)
    obj["spec"]["ingress"].append({})  # an allow-all rule
    [diff] = compare.differences(desired, obj, ("spec",))
    assert diff.path == "spec.ingress"


def test_zero_integer_matches_an_omitted_field() -> None:
    assert compare.differences({"a": {"initialDelaySeconds": 0}}, {"a": {}}) == []
    assert compare.differences({"a": {"flag": False}}, {"a": {}}) != []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", "0.5"),
        ("1", "1"),
        ("1Gi", str(2**30)),
        ("128Mi", str(128 * 2**20)),
        ("2k", "2000"),
        ("1e3", "1000"),
    ],
)
def test_quantity(text: str, value: str) -> None:
    assert quantity.parse(text) == Fraction(Decimal(value))


@pytest.mark.parametrize("text", ["eu-west-1", "1ki", "1e1000000000", "9" * 100, ""])
def test_not_a_quantity(text: str) -> None:
    assert quantity.parse(text) is None


def test_quantities_compare_by_value_only_at_resource_paths() -> None:
    limits = {"spec": {"resources": {"limits": {"cpu": "1000m"}}}}
    assert compare.differences(limits, {"spec": {"resources": {"limits": {"cpu": "1"}}}}) == []
    env = {"spec": {"env": [{"name": "LIMIT", "value": "1000"}]}}
    live = {"spec": {"env": [{"name": "LIMIT", "value": "1k"}]}}
    [diff] = compare.differences(env, live)
    assert diff.path == "spec.env[name=LIMIT].value"
    odd = {"spec": {"env": [{"name": "LIMIT", "value": "1ki"}]}}
    assert len(compare.differences(env, odd)) == 1  # no KeyError: simply not equal


def test_extra_list_element_under_closed_path_points_at_its_index() -> None:
    desired = {"spec": {"volumes": [{"name": "tmp", "emptyDir": {}}]}}
    obj = {
        "spec": {
            "volumes": [
                {"name": "host", "hostPath": {"path": "/"}},
                {"name": "tmp", "emptyDir": {}},
            ]
        }
    }
    [diff] = compare.differences(desired, obj, ("spec.volumes",))
    assert diff.extra
    assert diff.path == "spec.volumes[name=host]"
    assert diff.pointer == ("spec", "volumes", 0)
