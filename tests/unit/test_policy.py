"""The FinancialWorkloadPolicy: its model, its defaults, and the CRD generated from it."""

from __future__ import annotations

import pathlib
import re
from typing import Any

import pydantic
import pytest
import yaml

from fwop import errors
from fwop.api import group, policy, policycrd
from fwop.render import namespace, workload

from .conftest import SpecFactory
from .test_crd import _agree, _structural_faults, _unbounded, walk

REPO = pathlib.Path(__file__).resolve().parents[2]
CRD_FILE = REPO / "crds" / "financialworkloadpolicy.yaml"
BUILT = policycrd.build()
VERSION = BUILT["spec"]["versions"][0]
ROOT = VERSION["schema"]["openAPIV3Schema"]
SPEC = ROOT["properties"]["spec"]
STATUS = ROOT["properties"]["status"]
NODES = list(walk(SPEC, "spec")) + list(walk(STATUS, "status"))


def policy_doc(name: str = "default", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "finance.compliance.dev/v1alpha1",
        "kind": "FinancialWorkloadPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }


def problems(doc: dict[str, Any]) -> list[errors.Problem]:
    with pytest.raises(errors.InvalidSpecError) as caught:
        policy.parse(doc)
    return list(caught.value.problems)


def test_committed_crd_is_what_the_models_generate() -> None:
    committed = CRD_FILE.read_text(encoding="utf-8")
    assert committed == policycrd.render(), f"regenerate: python -m fwop.api.policycrd > {CRD_FILE}"


def test_names_scope_and_subresources() -> None:
    assert BUILT["metadata"]["name"] == "financialworkloadpolicies.finance.compliance.dev"
    names = BUILT["spec"]["names"]
    assert (names["kind"], names["plural"], names["shortNames"]) == (
        "FinancialWorkloadPolicy",
        "financialworkloadpolicies",
        ["fwp"],
    )
    assert BUILT["spec"]["scope"] == "Cluster"
    assert BUILT["spec"]["group"] == group.GROUP
    assert VERSION["subresources"] == {"status": {}}


def test_printer_columns() -> None:
    columns = {column["name"]: column for column in VERSION["additionalPrinterColumns"]}
    assert list(columns) == ["Valid", "NonCompliant", "DNS", "Age"]
    assert columns["Valid"]["jsonPath"] == '.status.conditions[?(@.type=="Valid")].status'
    assert columns["NonCompliant"] == {
        "name": "NonCompliant",
        "type": "integer",
        "description": "FinancialWorkloads that break the policy.",
        "jsonPath": ".status.nonCompliant",
    }
    assert columns["DNS"]["priority"] == 1


def test_only_the_object_named_default_is_accepted() -> None:
    assert ROOT["x-kubernetes-validations"] == [
        {
            "rule": "self.metadata.name == 'default'",
            "message": "metadata.name must be default: the operator reads only the "
            "FinancialWorkloadPolicy named default",
        }
    ]
    assert problems(policy_doc("strict")) == [
        errors.Problem("metadata.name", policy.NAME_IS_DEFAULT.message)
    ]


def test_schema_is_structural_bounded_and_described() -> None:
    assert {path: f for path, node in NODES if (f := _structural_faults(node))} == {}
    assert [path for path, node in NODES if _unbounded(node)] == []
    undescribed = [
        f"{path}.{name}"
        for path, node in NODES
        for name, child in node.get("properties", {}).items()
        if not child.get("description")
    ]
    assert undescribed == []


@pytest.mark.parametrize(
    ("model", "node", "path"),
    [
        (policy.FinancialWorkloadPolicySpec, SPEC, "spec"),
        (policy.FinancialWorkloadPolicyStatus, STATUS, "status"),
    ],
    ids=["spec", "status"],
)
def test_models_and_schema_agree(
    model: type[pydantic.BaseModel], node: dict[str, Any], path: str
) -> None:
    assert list(_agree(model, node, path)) == []


def test_defaults_are_the_empty_policy_and_trust_nothing() -> None:
    assert policy.parse(policy_doc()) == policy.DEFAULTS
    assert policy.parse({**policy_doc(), "spec": None}) == policy.DEFAULTS
    assert policy.DEFAULTS.allowed_registries == ()
    assert policy.DEFAULTS.allowed_regions == ()
    assert policy.DEFAULTS.residency is policy.ResidencyMode.REQUIRED
    assert policy.DEFAULTS.required_profiles == ()
    assert policy.DEFAULTS.dns_egress is policy.DnsEgress.ALLOW
    assert policy.DEFAULTS.pod_security_version == "v1.37"
    props = SPEC["properties"]
    assert props["residency"]["default"] == "required"
    assert props["dnsEgress"]["default"] == "allow"
    assert props["podSecurityVersion"]["default"] == "v1.37"


def test_the_example_policy_parses() -> None:
    text = (REPO / "examples" / "policy" / "default.yaml").read_text(encoding="utf-8")
    parsed = policy.parse(yaml.safe_load(text))
    assert "registry.bank.example/payments/" in parsed.allowed_registries
    assert parsed.allowed_regions == ("eu-west-1", "eu-central-1")


@pytest.mark.parametrize(
    "prefix",
    [
        "registry.bank.example",
        "registry.bank.example/",
        "registry.bank.example/payments/",
        "registry.bank.example:5000/payments/api",
        "localhost:5000/",
        "docker.io/library/",
    ],
)
def test_registry_prefixes_accepted(prefix: str) -> None:
    assert policy.parse(policy_doc(allowedRegistries=[prefix])).allowed_registries == (prefix,)
    assert re.fullmatch(policy.REGISTRY_PREFIX_PATTERN, prefix)


@pytest.mark.parametrize(
    "prefix",
    [
        "library/",
        "registry",
        "https://registry.bank.example/",
        "Registry.Bank.Example/",
        "registry.bank.example//x",
        "registry.bank.example/*",
        "*.bank.example",
        "",
    ],
)
def test_registry_prefixes_refused(prefix: str) -> None:
    (problem,) = problems(policy_doc(allowedRegistries=[prefix]))
    assert problem.field == "spec.allowedRegistries[0]"


def test_duplicates_unknown_fields_and_bad_values_are_reported() -> None:
    found = problems(
        policy_doc(
            allowedRegions=["eu-west-1", "eu-west-1"],
            dnsEgress="sometimes",
            podSecurityVersion="latest",
            requiredProfiles=[{"namespaceSelector": {}, "profile": "gold"}],
            allowAll=True,
        )
    )
    assert [p.field for p in found] == [
        "spec.allowedRegions",
        "spec.requiredProfiles[0].profile",
        "spec.dnsEgress",
        "spec.podSecurityVersion",
        "spec.allowAll",
    ]
    assert found[0].message == "spec.allowedRegions lists 'eu-west-1' twice"
    assert found[-1].message.startswith("unknown field")
    assert "allowedRegistries" in found[-1].message  # the policy's fields, not a workload's


def test_envelope_is_checked() -> None:
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "default"}, "spec": []}
    assert [p.field for p in problems(doc)] == ["apiVersion", "kind", "spec"]


def test_render_pins_the_policy_pss_version_only_when_given(make_spec: SpecFactory) -> None:
    spec = make_spec()
    (default_ns, *_) = workload.render_all("team", "app", spec, None)
    assert default_ns["metadata"]["labels"] == namespace.pss_labels()
    (pinned, *_) = workload.render_all("team", "app", spec, None, pod_security_version="v1.36")
    assert set(pinned["metadata"]["labels"].values()) == {"restricted", "v1.36"}
