"""fwop.admission: registry matching, quantities, secret names, and how review composes rules."""

from __future__ import annotations

import fractions
import pathlib
from typing import Any

import pytest
import yaml

from fwop import errors
from fwop.admission import images, review, secretvalues
from fwop.api import policy as policy_api
from fwop.api import quantity
from fwop.api import workload as workload_api

from .conftest import DIGEST, workload_doc

REPO = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE_POLICY = REPO / "examples" / "policy" / "default.yaml"
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))


def policy(**fields: Any) -> policy_api.FinancialWorkloadPolicySpec:
    base: dict[str, Any] = {
        "allowedRegistries": ["registry.bank.example/team/"],
        "allowedRegions": ["eu-west-1", "eu-central-1"],
    }
    base.update(fields)
    return policy_api.FinancialWorkloadPolicySpec.model_validate(base)


def doc(**fields: Any) -> dict[str, Any]:
    fields.setdefault("residency", {"regions": ["eu-west-1"]})
    return workload_doc(**fields)


def digest(name: str) -> str:
    return f"{name}@sha256:{DIGEST}"


@pytest.mark.parametrize(
    ("image", "location"),
    [
        ("nginx", "docker.io/library/nginx"),
        ("team/app", "docker.io/team/app"),
        ("docker.io/library/nginx", "docker.io/library/nginx"),
        ("index.docker.io/library/nginx", "docker.io/library/nginx"),
        ("localhost/app", "localhost/app"),
        ("registry:5000/app", "registry:5000/app"),
        ("Registry.Bank.Example/team/app", "registry.bank.example/team/app"),
        ("registry.bank.example/team/app", "registry.bank.example/team/app"),
    ],
)
def test_image_location_follows_the_runtime_reading(image: str, location: str) -> None:
    assert str(images.of_image(digest(image))) == location


@pytest.mark.parametrize(
    ("prefix", "image", "allowed"),
    [
        ("registry.bank.example", "registry.bank.example/team/app", True),
        ("registry.bank.example/", "registry.bank.example/team/app", True),
        ("registry.bank.example/team", "registry.bank.example/team/app", True),
        ("registry.bank.example/team/", "registry.bank.example/team/app", True),
        ("registry.bank.example/team/app", "registry.bank.example/team/app", True),
        ("registry.bank.example/team/", "registry.bank.example/team/sub/app", True),
        ("registry.bank.example", "registry.bank.example.evil.com/team/app", False),
        ("registry.bank.example/team", "registry.bank.example/teamster/app", False),
        ("registry.bank.example/team/app", "registry.bank.example/team/app2", False),
        ("registry.bank.example/team/", "registry.bank.example/other/app", False),
        ("registry.bank.example", "registry.bank.example:5000/team/app", False),
        ("registry.bank.example:5000", "registry.bank.example:5000/team/app", True),
        ("evil.com/registry.bank.example", "registry.bank.example/x", False),
        ("docker.io/library/", "nginx", True),
        ("docker.io/library/", "team/app", False),
        ("docker.io", "nginx", True),
    ],
)
def test_prefixes_match_host_exactly_and_whole_path_components(
    prefix: str, image: str, allowed: bool
) -> None:
    assert images.allowed(digest(image), [prefix]) is allowed


def test_no_prefix_allows_nothing() -> None:
    assert images.allowed(digest("registry.bank.example/team/app"), []) is False


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("250m", fractions.Fraction(1, 4)),
        ("1", fractions.Fraction(1)),
        ("1.5", fractions.Fraction(3, 2)),
        (".5", fractions.Fraction(1, 2)),
        ("512Mi", fractions.Fraction(512 * 2**20)),
        ("0.5Gi", fractions.Fraction(2**29)),
        ("1k", fractions.Fraction(1000)),
        ("1e3", fractions.Fraction(1000)),
        ("2E", fractions.Fraction(2 * 10**18)),
        ("100n", fractions.Fraction(1, 10**7)),
    ],
)
def test_quantities_are_exact(text: str, value: fractions.Fraction) -> None:
    assert quantity.value(text) == value


def test_quantity_rejects_what_the_api_rejects() -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        quantity.value("1 Gi")


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("DB_PASSWORD", True),
        ("dbPassword", True),
        ("db-passwd", True),
        ("GITHUB_TOKEN", True),
        ("CLIENT_SECRET", True),
        ("STRIPE_API_KEY", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("JWT_SIGNING_KEY", True),
        ("SSH_PASSPHRASE", True),
        ("GOOGLE_CREDENTIALS", True),
        ("APIKEY", True),
        ("PGPASSWORD", True),
        ("MYSQL_PWD", True),
        ("REDIS_AUTH", True),
        ("HSM_PIN", True),
        ("HMAC_KEY", True),
        ("apiKey", True),
        ("--db-password", True),
        ("DB_PASSWORD_2", True),
        ("PRIVATE_KEY_PEM", True),
        ("PASSWORD_HISTORY", True),
        ("DB_PASSWORD_FILE", False),
        ("TOKEN_URL", False),
        ("SECRET_NAME", False),
        ("AUTH_ISSUER", False),
        ("KEY_ID", False),
        ("CACHE_KEY_PREFIX", False),
        ("PASSWORD_MIN_LENGTH", False),
        ("CACHE_KEY", False),
        ("PARTITION_KEY", False),
        ("FTP_PASSIVE", False),
        ("LOG_LEVEL", False),
        ("", False),
    ],
)
def test_secret_like_names(name: str, secret: bool) -> None:
    assert secretvalues.secret_like(name) is secret


def test_problems_never_repeat_a_suspected_secret() -> None:
    env = [
        {"name": "DB_PASSWORD", "value": "hunter2-hunter2"},
        {"name": "DSN", "value": "postgres://app:hunter3@db/app"},
    ]
    problems = review.review(doc(env=env, args=["--api-key=hunter4"]), policy())
    assert [p.field for p in problems] == ["spec.env[0].value", "spec.env[1].value", "spec.args[0]"]
    assert not any("hunter" in p.message for p in problems)


def test_secret_words_inside_a_url_path_are_not_secrets() -> None:
    env = [{"name": "AUTH_URL", "value": "https://auth.bank.example/password/token?client=web"}]
    assert review.review(doc(env=env), policy()) == ()


def test_a_password_in_a_url_query_is_refused_whatever_its_value() -> None:
    env = [{"name": "AUTH_URL", "value": "https://auth.bank.example/token?password=reset"}]
    (problem,) = review.review(doc(env=env), policy())
    assert "embeds a password in a URL query (SEC-1)" in problem.message


def test_secret_named_variable_may_point_at_a_mounted_file() -> None:
    secrets = {
        "provider": "gcp",
        "objects": [{"name": "db", "path": "projects/p/secrets/db/versions/1"}],
    }
    env = [{"name": "DB_PASSWORD", "value": "/mnt/secrets/db"}]
    assert review.review(doc(env=env, secrets=secrets), policy()) == ()


def test_crd_rule_breaches_hide_policy_rules_as_at_the_api_server() -> None:
    problems = review.review(doc(image="docker.io/nginx:latest"), policy())
    assert [(p.field, p.control) for p in problems] == [("spec.image", "IMG-1")]


def test_profile_rule_is_skipped_when_namespace_labels_are_unknown() -> None:
    strict = policy(requiredProfiles=[{"namespaceSelector": {}, "profile": "pci"}])
    assert review.review(doc(), strict, None) == ()
    (problem,) = review.review(doc(), strict, {})
    assert problem.message.endswith("allowed: pci (required for every namespace)")


def test_strictest_matching_profile_applies() -> None:
    rules = [
        {"namespaceSelector": {"matchLabels": {"tier": "web"}}, "profile": "baseline"},
        {"namespaceSelector": {"matchLabels": {"pci": "yes"}}, "profile": "pci"},
        {"namespaceSelector": {"matchLabels": {"other": "x"}}, "profile": "pci"},
    ]
    labels = {"tier": "web", "pci": "yes"}
    (problem,) = review.review(doc(), policy(requiredProfiles=rules), labels)
    assert problem == errors.Problem(
        "spec.profile",
        'profile baseline is not allowed in namespace "team" (PRF-1); '
        "allowed: pci (required for namespaces labelled pci=yes)",
        "PRF-1",
    )
    pci = doc(profile="pci", replicas=2)
    assert review.review(pci, policy(requiredProfiles=rules), labels) == ()
    assert review.review(doc(), policy(requiredProfiles=rules), {"tier": "web"}) == ()


def test_optional_residency_still_checks_declared_regions() -> None:
    relaxed = policy(residency="optional")
    assert review.review(workload_doc(), relaxed) == ()
    (problem,) = review.review(doc(residency={"regions": ["us-east-1"]}), relaxed)
    assert problem.field == "spec.residency.regions[0]"


def test_defaults_admit_nothing_and_say_who_must_act() -> None:
    problems = review.review(doc(), policy_api.DEFAULTS)
    assert [(p.field, p.control) for p in problems] == [
        ("spec.image", "IMG-2"),
        ("spec.residency.regions[0]", "RES-1"),
    ]
    assert all('FinancialWorkloadPolicy "default"' in p.message for p in problems)
    (missing,) = review.review(workload_doc(), policy(allowedRegions=[]))
    assert missing.message.endswith(
        "allowed regions: none (the platform team sets spec.allowedRegions of "
        'FinancialWorkloadPolicy "default")'
    )


def test_dns_egress_is_only_refused_when_asked_for() -> None:
    deny = policy(dnsEgress="deny")
    assert review.review(doc(), deny) == ()
    (problem,) = review.review(doc(network={"allowDNS": True}), deny)
    assert (problem.field, problem.control) == ("spec.network.allowDNS", "NET-2")
    assert review.review(doc(network={"allowDNS": True}), policy()) == ()


def test_ipv6_exceptions_and_mixed_families() -> None:
    egress = [
        {
            "to": [{"ipBlock": {"cidr": "fd00::/8", "except": ["fd00:1::/32", "10.0.0.0/8"]}}],
            "ports": [{"port": 443}],
        }
    ]
    (problem,) = review.review(doc(network={"egress": egress}), policy())
    assert problem.field == "spec.network.egress[0].to[0].ipBlock.except[1]"


def test_an_exception_equal_to_its_cidr_is_refused() -> None:
    egress = [
        {
            "to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.0.0/8"]}}],
            "ports": [{"port": 1}],
        }
    ]
    (problem,) = review.review(doc(network={"egress": egress}), policy())
    assert problem.control == "NET-2"


@pytest.mark.parametrize(
    "path", ["/mnt/secrets", "/etc/tls", "/tmpfiles", "/var/run/app", "/run/app", "/var/secrets"]
)
def test_secrets_mount_paths_that_do_not_overlap(path: str) -> None:
    secrets = {
        "provider": "gcp",
        "mountPath": path,
        "objects": [{"name": "k", "path": "projects/p/secrets/k/versions/1"}],
    }
    assert review.review(doc(secrets=secrets), policy()) == ()


@pytest.mark.parametrize(
    "path",
    [
        "/var",
        "/var/run/secrets/kubernetes.io",
        "/var/run/secrets/kubernetes.io/serviceaccount/x",
        "//var/run/secrets/kubernetes.io/serviceaccount",
        "/var//run/./secrets/kubernetes.io/",
        "/var/run/secrets/eks.amazonaws.com",
        "/var/run/secrets/object-store",
        "/var/run",
        "/run",
        "/run/secrets",
        "/run/secrets/kubernetes.io/serviceaccount",
        "//tmp",
        "/tmp//cache",
    ],
)
def test_secrets_mount_paths_over_the_token(path: str) -> None:
    secrets = {
        "provider": "gcp",
        "mountPath": path,
        "objects": [{"name": "k", "path": "projects/p/secrets/k/versions/1"}],
    }
    (problem,) = review.review(doc(secrets=secrets), policy())
    assert (problem.field, problem.control) == ("spec.secrets.mountPath", "SEC-1")


def test_equal_request_and_limit_pass_in_different_units() -> None:
    resources = {
        "requests": {"cpu": "1000m", "memory": "1024Mi"},
        "limits": {"cpu": 1, "memory": "1Gi"},
    }
    assert review.review(doc(resources=resources), policy()) == ()


def test_evaluate_judges_a_parsed_workload_like_review() -> None:
    bad = doc(image=digest("quay.io/x/app"))
    parsed = workload_api.parse(bad)
    assert review.evaluate(parsed, policy(), {}) == review.review(bad, policy(), {})


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_pass_under_the_example_policy(path: pathlib.Path) -> None:
    example_policy = policy_api.parse(yaml.safe_load(EXAMPLE_POLICY.read_text(encoding="utf-8")))
    docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    namespace, workload = docs[0], docs[-1]
    labels = {"kubernetes.io/metadata.name": namespace["metadata"]["name"]}
    labels.update(namespace["metadata"].get("labels", {}))
    assert review.review(workload, example_policy, labels) == ()


def test_the_pci_example_lives_in_a_namespace_that_requires_pci() -> None:
    example_policy = policy_api.parse(yaml.safe_load(EXAMPLE_POLICY.read_text(encoding="utf-8")))
    namespace, workload = yaml.safe_load_all(
        (REPO / "examples" / "payments-api.yaml").read_text(encoding="utf-8")
    )
    workload["spec"]["profile"] = "baseline"
    problems = review.review(workload, example_policy, namespace["metadata"]["labels"])
    assert "PRF-1" in {problem.control for problem in problems}
