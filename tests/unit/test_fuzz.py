"""Fuzz: any FinancialWorkload admission accepts yields children that meet the baseline.

Documents come from tests/unit/fuzzing.py (valid files, then mutations) and are judged by
``fwop.admission.review.review`` under the example bank's policy, with the labels of their
namespace. For every admitted document, what ``render_all`` makes must hold:

- the Deployment's pod template passes PSS restricted (tests/unit/pss.py, our own checker);
- no planted secret, and nothing shaped like a credential, appears in any child;
- every Role rule stays off the hard floor and is covered by the profile's grantable
  permissions;
- no NetworkPolicy ipBlock is 0.0.0.0/0 or ::/0 under pci, or reaches 169.254.0.0/16 or
  fe80::/10 without an except carving the whole range out;
- the namespace labels pin PSS restricted at the policy's version.

Every document with a planted secret must be refused, with a SEC-1 problem on each field
that holds one. A document the CRD rules refuse gets only their problems (as at the API
server), so its env, command and args are judged again on the valid document it came
from. Two more tests plant secrets in other rendered free-text fields, a probe's path and
the Vault address, and ask for a SEC-1 refusal too.

FWOP_FUZZ_EXAMPLES sets the number of documents (default 2000; ``make fuzz`` runs 100,000),
FWOP_FUZZ_SEED the seed; ``-s`` prints the counts.
"""

from __future__ import annotations

import collections
import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import hypothesis
import pytest

from fwop import errors
from fwop.api import floor, guardrails
from fwop.api import spec as spec_api
from fwop.api import workload as workload_api
from fwop.compliance import verdicts
from fwop.render import meta
from fwop.render import workload as render

from . import fuzzing, pss

POLICY = fuzzing.POLICY
OWNER = meta.OwnerRef(name="fuzzed", uid="5f1c0b7e-0000-4000-8000-00000000f022")
STATS: collections.Counter[str] = collections.Counter()
LINK_LOCAL = tuple(ipaddress.ip_network(cidr) for cidr in guardrails.LINK_LOCAL)
# Credentials with a shape of their own, searched in every admitted document's children.
CREDENTIAL_SHAPES = (
    re.compile(r"(?<![A-Z0-9])AKIA[A-Z0-9]{16}(?![A-Z0-9])"),
    re.compile(r"sk_live_[0-9A-Za-z]{24}"),
    re.compile(r"ghp_[0-9A-Za-z]{36}"),
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
)
ELSEWHERE_EXAMPLES = 500
"""The tests of secrets outside env and args plant one in every document: fewer suffice."""
MIN_ACCEPTED_SHARE = 0.15
"""Below this share of admitted documents the fuzz proves little: the run fails."""

SETTINGS = hypothesis.settings(
    max_examples=fuzzing.EXAMPLES,
    deadline=None,
    database=None,
    derandomize=False,
    print_blob=False,
    suppress_health_check=[
        hypothesis.HealthCheck.too_slow,
        hypothesis.HealthCheck.data_too_large,
        hypothesis.HealthCheck.large_base_example,
    ],
)


def _of_kind(children: list[meta.Manifest], kind: str) -> list[meta.Manifest]:
    return [child for child in children if child["kind"] == kind]


def pod_problems(children: list[meta.Manifest]) -> list[str]:
    """PSS restricted breaches of the pod template of the Deployment or CronJob."""
    controllers = [*_of_kind(children, "Deployment"), *_of_kind(children, "CronJob")]
    if len(controllers) != 1:
        return [f"expected one Deployment or CronJob, rendered {len(controllers)}"]
    return pss.template(verdicts.template_of(controllers[0])[1])


def secret_problems(children: list[meta.Manifest], planted: list[str]) -> list[str]:
    """Planted secrets, or anything shaped like a credential, found in the children."""
    text = json.dumps(children)
    found = [f"planted secret {s!r} rendered" for s in planted if json.dumps(s)[1:-1] in text]
    found += [f"credential shape {p.pattern} rendered" for p in CREDENTIAL_SHAPES if p.search(text)]
    return found


def _covered(
    group: str, resource: str, verb: str, names: set[str], profile: spec_api.Profile
) -> bool:
    """Whether one grantable rule of the profile covers the grant (and its object names)."""
    return any(
        group in grant.api_groups
        and resource in grant.resources
        and verb in grant.verbs
        and (not grant.resource_names or bool(names and names <= set(grant.resource_names)))
        for grant in POLICY.profile_rules(profile).grantable
    )


def role_problems(children: list[meta.Manifest], profile: spec_api.Profile) -> list[str]:
    """Role rules inside the hard floor, or not covered by the profile's grantable rules."""
    found = []
    for role in _of_kind(children, "Role"):
        for rule in role["rules"]:
            groups, resources, verbs = rule["apiGroups"], rule["resources"], rule["verbs"]
            found += [
                f"rule {rule} breaches the floor: {b.describe()}"
                for b in floor.breaches(groups, resources, verbs)
            ]
            names = set(rule.get("resourceNames", []))
            found += [
                f"rule {rule} grants {verb} on {group}/{resource}, not grantable for {profile}"
                for group in groups
                for resource in resources
                for verb in verbs
                if not _covered(group, resource, verb, names, profile)
            ]
    return found


def _ip_blocks(children: list[meta.Manifest]) -> Iterator[Mapping[str, Any]]:
    for policy in _of_kind(children, "NetworkPolicy"):
        body = policy["spec"]
        flows = [*body.get("ingress", []), *body.get("egress", [])]
        for flow in flows:
            for peer in [*flow.get("from", []), *flow.get("to", [])]:
                if "ipBlock" in peer:
                    yield peer["ipBlock"]


def network_problems(children: list[meta.Manifest], profile: spec_api.Profile) -> list[str]:
    """ipBlocks open to everything under pci, or reaching link-local without an except."""
    found = []
    for block in _ip_blocks(children):
        cidr = ipaddress.ip_network(block["cidr"], strict=False)
        carved = [ipaddress.ip_network(e, strict=False) for e in block.get("except", [])]
        if profile is spec_api.Profile.PCI and cidr.prefixlen == 0:
            found.append(f"ipBlock {block} opens everything under pci")
        for link_local in LINK_LOCAL:
            if cidr.version != link_local.version or not cidr.overlaps(link_local):  # type: ignore[arg-type]
                continue
            if not any(
                e.version == link_local.version and link_local.subnet_of(e)  # type: ignore[arg-type]
                for e in carved
            ):
                found.append(f"ipBlock {block} reaches {link_local}")
    return found


def namespace_problems(children: list[meta.Manifest]) -> list[str]:
    """The namespace's labels do not pin PSS restricted at the policy's version."""
    namespaces = _of_kind(children, "Namespace")
    if len(namespaces) != 1:
        return [f"expected one Namespace, rendered {len(namespaces)}"]
    labels = namespaces[0]["metadata"]["labels"]
    return pss.namespace_labels(labels, POLICY.pod_security_version)


def baseline_problems(case: fuzzing.Case) -> list[str]:
    """Every broken promise of the baseline in what an admitted document renders."""
    workload = workload_api.parse(case.doc)
    children = render.render_all(
        workload.namespace,
        workload.name,
        workload.spec,
        OWNER,
        pod_security_version=POLICY.pod_security_version,
    )
    profile = workload.spec.profile
    return [
        *pod_problems(children),
        *secret_problems(children, case.planted),
        *role_problems(children, profile),
        *network_problems(children, profile),
        *namespace_problems(children),
    ]


def _passes_crd(case: fuzzing.Case) -> bool:
    try:
        workload_api.parse(case.doc)
    except errors.InvalidSpecError:
        return False
    return True


_SECRET_FIELD = re.compile(
    r"spec\.(?:(containers|initContainers)\[(\d+)\]\.)?(env|command|args)\[(\d+)\](\.value)?"
)


def _holds(doc: Mapping[str, Any], field: str) -> str:
    """The text of an env value, command or args item a problem names ("" for others)."""
    match = _SECRET_FIELD.fullmatch(field)
    if not match:
        return ""
    owner: Any = doc["spec"]
    if match[1]:
        listed = owner.get(match[1])
        index = int(match[2])
        owner = listed[index] if isinstance(listed, list) and index < len(listed) else {}
    items = owner.get(match[3]) if isinstance(owner, dict) else None
    if not isinstance(items, list) or int(match[4]) >= len(items):
        return ""
    item = items[int(match[4])]
    return str(item.get("value", "")) if match[5] and isinstance(item, dict) else str(item)


def unflagged(case: fuzzing.Case, problems: tuple[errors.Problem, ...]) -> list[str]:
    """Planted secrets that no SEC-1 problem names the field of."""
    flagged = [_holds(case.doc, p.field) for p in problems if p.control == "SEC-1"]
    return [secret for secret in case.planted if not any(secret in text for text in flagged)]


def check_planted(case: fuzzing.Case, problems: tuple[errors.Problem, ...]) -> None:
    """A planted secret is refused, with SEC-1 on the field that holds it.

    When the CRD rules refuse the document first (and so report nothing else), its env,
    command and args are judged on its seed instead.
    """
    STATS["planted"] += 1
    assert problems, f"admitted a planted secret:\n{case.dump()}"
    if not _passes_crd(case):
        case = case.on_seed()
        problems = case.judge()
        if not _passes_crd(case):
            STATS["planted refused (CRD rules, env or args too)"] += 1
            return
        STATS["planted refused (CRD rules; SEC-1 on the seed)"] += 1
    else:
        STATS["planted refused (SEC-1)"] += 1
    missed = unflagged(case, problems)
    assert not missed, f"no SEC-1 problem for {missed}: {problems}\n{case.dump()}"


@hypothesis.seed(fuzzing.SEED)
@SETTINGS
@hypothesis.given(fuzzing.cases())
def test_admitted_documents_meet_the_baseline(case: fuzzing.Case) -> None:
    problems = case.judge()
    STATS["generated"] += 1
    STATS["refused" if problems else "accepted"] += 1
    if case.planted:
        check_planted(case, problems)
    if problems:
        return
    found = baseline_problems(case)
    assert not found, "\n".join([*found, case.dump()])


ELSEWHERE_SETTINGS = hypothesis.settings(
    SETTINGS, max_examples=min(fuzzing.EXAMPLES, ELSEWHERE_EXAMPLES)
)


def check_refused_with_sec1(case: fuzzing.Case) -> None:
    """Refused with SEC-1 (when the CRD rules, which report alone, let the document pass).

    These fields are rendered as typed (pod template, SecretProviderClass), so a secret
    there is stored in etcd and shown by kubectl get, as one in env or args would be.
    """
    problems = case.judge()
    controls = {problem.control for problem in problems}
    assert not _passes_crd(case) or "SEC-1" in controls, (
        f"planted secret not refused under SEC-1: {[str(p) for p in problems]}\n{case.dump()}"
    )


@hypothesis.seed(fuzzing.SEED)
@ELSEWHERE_SETTINGS
@hypothesis.given(fuzzing.cases_with_secret_elsewhere("probe path"))
def test_secret_in_a_probe_path_is_refused(case: fuzzing.Case) -> None:
    check_refused_with_sec1(case)


@hypothesis.seed(fuzzing.SEED)
@ELSEWHERE_SETTINGS
@hypothesis.given(fuzzing.cases_with_secret_elsewhere("vault address"))
def test_secret_in_the_vault_address_is_refused(case: fuzzing.Case) -> None:
    check_refused_with_sec1(case)


def test_fuzz_summary() -> None:
    """Print the counts (pytest -s) and fail a run where almost nothing was admitted."""
    generated = STATS["generated"]
    if not generated:
        pytest.skip("the fuzz test did not run in this session")
    share = STATS["accepted"] / generated
    planted = ", ".join(
        f"{STATS[key]} {key}" for key in sorted(STATS) if key.startswith("planted ")
    )
    print(  # noqa: T201
        f"\nfuzz (seed {fuzzing.SEED}): {generated} generated, {STATS['accepted']} accepted "
        f"({share:.1%}), {STATS['refused']} refused; {STATS['planted']} with a planted secret "
        f"({planted})"
    )
    assert share >= MIN_ACCEPTED_SHARE, f"only {share:.1%} of the fuzzed documents admitted"
