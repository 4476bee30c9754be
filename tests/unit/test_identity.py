"""spec.identity (IDN-1): pull secrets by name, one cloud identity the policy must allow,
rendered as the provider's ServiceAccount annotation and judged from the live account."""

from __future__ import annotations

import dataclasses
from typing import Any

import pydantic
import pytest

from fwop import errors
from fwop.admission import clusterpolicy
from fwop.api import guardrails, identity, spec
from fwop.compliance import verdicts
from fwop.compliance.verdicts import Result
from fwop.render import pod, secretproviderclass, serviceaccount

from .conftest import ContextFactory, SpecFactory
from .test_verdicts import subject, tampered

ROLE = "arn:aws:iam::123456789012:role/payments-api"
GSA = "payments@bank-prod.iam.gserviceaccount.com"
CLIENT = "0b6f1c52-8d3e-4a55-9f0e-2c7d1a9e6b11"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
AWS = {"cloud": {"aws": {"roleArn": ROLE}}}
GCP = {"cloud": {"gcp": {"serviceAccount": GSA}}}
AZURE = {"cloud": {"azure": {"clientId": CLIENT, "tenantId": TENANT}}}
ALLOW = guardrails.IdentityGuardrails(
    aws_role_arns=("arn:aws:iam::123456789012:role/payments-*",),
    gcp_service_accounts=("@bank-prod.iam.gserviceaccount.com",),
    azure_client_ids=(CLIENT.upper(),),
)


@pytest.mark.parametrize(
    "cloud",
    [{"aws": {"roleArn": "arn:aws:iam::12345:role/x"}},
     {"aws": {"roleArn": "arn:aws:iam::123456789012:user/x"}},
     {"aws": {"roleArn": "arn:aws:iam::123456789012:role/payments-x/../admin"}},
     {"aws": {"roleArn": "arn:aws:iam::123456789012:role/payments-//admin"}},
     {"gcp": {"serviceAccount": "payments@gmail.com"}},
     {"azure": {"clientId": "not-a-uuid"}},
     {"aws": {"roleArn": ROLE}, "azure": {"clientId": CLIENT}}, {}],
    ids=["short-account", "a-user", "dot-dot", "empty-segment", "not-google", "not-a-uuid",
         "two", "none"],
)  # fmt: skip
def test_malformed_or_ambiguous_identities_are_refused(
    make_spec: SpecFactory, cloud: dict[str, Any]
) -> None:
    with pytest.raises(pydantic.ValidationError):
        make_spec(identity={"cloud": cloud})


def test_the_policy_allows_exact_prefix_and_domain_entries_and_nothing_by_default(
    make_spec: SpecFactory,
) -> None:
    def refused(fields: dict[str, Any], bounds: guardrails.IdentityGuardrails) -> bool:
        cloud = make_spec(identity=fields).identity
        assert cloud is not None
        assert cloud.cloud is not None
        return bounds.allows(cloud.cloud) is not None

    for fields in (AWS, GCP, AZURE):
        assert not refused(fields, ALLOW)
        assert refused(fields, guardrails.NO_IDENTITY)
    assert refused({"cloud": {"aws": {"roleArn": "arn:aws:iam::123456789012:role/admin"}}}, ALLOW)
    assert refused({"cloud": {"gcp": {"serviceAccount": "x@other.iam.gserviceaccount.com"}}},
                   ALLOW)  # fmt: skip
    default = guardrails.resolve(spec.Profile.PCI, None)
    assert default.identity == guardrails.NO_IDENTITY


def test_admission_names_the_field_the_control_and_what_is_allowed(
    make_spec: SpecFactory,
) -> None:
    workload = make_spec(identity={"cloud": {"aws": {"roleArn": ROLE.replace("payments", "x")}}})
    rules = dataclasses.replace(guardrails.resolve(spec.Profile.BASELINE, None), identity=ALLOW)
    [problem] = list(clusterpolicy.identity(workload, rules))
    assert problem == errors.Problem(
        "spec.identity.cloud.aws.roleArn",
        problem.message,
        "IDN-1",
    )
    assert "allowed: arn:aws:iam::123456789012:role/payments-*" in problem.message
    assert list(clusterpolicy.identity(make_spec(identity=AWS), rules)) == []


@pytest.mark.parametrize(
    ("fields", "annotations"),
    [(AWS, {identity.AWS_ANNOTATION: ROLE}), (GCP, {identity.GCP_ANNOTATION: GSA}),
     (AZURE, {identity.AZURE_CLIENT_ANNOTATION: CLIENT, identity.AZURE_TENANT_ANNOTATION: TENANT})],
    ids=["aws", "gcp", "azure"],
)  # fmt: skip
def test_the_service_account_carries_the_providers_annotation(
    make_ctx: ContextFactory, fields: dict[str, Any], annotations: dict[str, str]
) -> None:
    (account,) = serviceaccount.render(make_ctx(identity=fields))
    found = account["metadata"]["annotations"]
    assert found == {"finance.compliance.dev/controls": "RBAC-1,IDN-1", **annotations}
    (plain,) = serviceaccount.render(make_ctx())
    assert plain["metadata"]["annotations"] == {"finance.compliance.dev/controls": "RBAC-1"}


def test_pull_secrets_and_the_azure_label_reach_the_pods(make_ctx: ContextFactory) -> None:
    template = pod.template(make_ctx(identity={"imagePullSecrets": ["regcred"], **AZURE}))
    assert template["spec"]["imagePullSecrets"] == [{"name": "regcred"}]
    assert template["metadata"]["labels"][identity.AZURE_USE_LABEL] == "true"
    plain = pod.template(make_ctx(identity=AWS))
    assert "imagePullSecrets" not in plain["spec"]
    assert identity.AZURE_USE_LABEL not in plain["metadata"]["labels"]


def test_an_azure_secret_store_reads_as_the_pods_identity_unless_told_otherwise(
    make_ctx: ContextFactory,
) -> None:
    store = {"provider": "azure", "azure": {"keyvaultName": "kv", "tenantId": TENANT},
             "objects": [{"name": "db", "path": "db"}]}  # fmt: skip
    (spc,) = secretproviderclass.render(make_ctx(secrets=store, identity=AZURE))
    assert spc["spec"]["parameters"]["clientID"] == CLIENT
    other = "11111111-2222-3333-4444-555555555555"
    store["azure"] = {**store["azure"], "clientId": other}
    (spc,) = secretproviderclass.render(make_ctx(secrets=store, identity=AZURE))
    assert spc["spec"]["parameters"]["clientID"] == other


def _idn1(found: tuple[verdicts.Verdict, ...]) -> verdicts.Verdict:
    return next(v for v in found if v.control == "IDN-1")


def test_idn1_reads_the_live_account_against_the_policy(make_spec: SpecFactory) -> None:
    assert _idn1(verdicts.judge(subject(make_spec))).result is Result.PASS
    allowed = dataclasses.replace(subject(make_spec, identity=AWS), identity=ALLOW)
    verdict = _idn1(verdicts.judge(allowed))
    assert verdict.result is Result.PASS
    assert verdict.evidence[0].field == f"metadata.annotations.{identity.AWS_ANNOTATION}"

    def swap(account: dict[str, Any]) -> None:
        account["metadata"]["annotations"][identity.AWS_ANNOTATION] = ROLE.replace(
            "payments-api", "admin"
        )

    assert _idn1(verdicts.judge(tampered(allowed, "ServiceAccount", swap))).result is Result.FAIL

    def second(account: dict[str, Any]) -> None:
        account["metadata"]["annotations"][identity.GCP_ANNOTATION] = GSA

    assert _idn1(verdicts.judge(tampered(allowed, "ServiceAccount", second))).result is Result.FAIL
    unknown = dataclasses.replace(allowed, identity=None, owner_uid=None)
    assert _idn1(verdicts.judge(unknown)).result is Result.WARN


def test_role_paths_and_dotted_names_stay_valid(make_spec: SpecFactory) -> None:
    for arn in ("arn:aws:iam::123456789012:role/service/payments.api",
                "arn:aws-us-gov:iam::123456789012:role/a.b_c@d"):  # fmt: skip
        make_spec(identity={"cloud": {"aws": {"roleArn": arn}}})
