"""tests/data: every invalid file gets exactly its expected problems, valid files get none.

The same files and headers serve the cluster tests (see tests/data/README.md), so what is
asserted here is what the API server and the webhook must answer too.
"""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Mapping
from typing import Any

import pytest
import yaml

from fwop import controls, errors
from fwop.admission import review
from fwop.api import policy as policy_api
from fwop.cli import main as cli

DATA = pathlib.Path(__file__).resolve().parents[1] / "data"
INVALID = sorted((DATA / "invalid").glob("*.yaml"))
VALID = sorted((DATA / "valid").glob("*.yaml"))
NAME_LABEL = "kubernetes.io/metadata.name"


@dataclasses.dataclass(frozen=True)
class Expect:
    field: str
    control: str | None
    text: str

    def met_by(self, problem: errors.Problem) -> bool:
        return (problem.field, problem.control) == (
            self.field,
            self.control,
        ) and self.text in problem.message


@dataclasses.dataclass(frozen=True)
class Case:
    path: pathlib.Path
    expects: tuple[Expect, ...]
    policy: pathlib.Path
    docs: tuple[Mapping[str, Any], ...]


def load_case(path: pathlib.Path) -> Case:
    """Parse a data file's header (README.md) and its documents."""
    text = path.read_text(encoding="utf-8")
    expects: list[Expect] = []
    policy = "policy.yaml"
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if line.startswith("# expect: "):
            field, control, message = line.removeprefix("# expect: ").split(" ", 2)
            expects.append(Expect(field, None if control == "-" else control, message))
        elif line.startswith("# policy: "):
            policy = line.removeprefix("# policy: ").strip()
    docs = tuple(doc for doc in yaml.safe_load_all(text) if doc)
    return Case(path, tuple(expects), DATA / policy, docs)


def load_policy(path: pathlib.Path) -> policy_api.FinancialWorkloadPolicySpec:
    return policy_api.parse(yaml.safe_load(path.read_text(encoding="utf-8")))


def judge(case: Case) -> list[errors.Problem]:
    policy = load_policy(case.policy)
    labels = {
        doc["metadata"]["name"]: doc["metadata"].get("labels", {})
        for doc in case.docs
        if doc["kind"] == "Namespace"
    }
    found: list[errors.Problem] = []
    for doc in case.docs:
        if doc["kind"] != "FinancialWorkload":
            continue
        namespace = doc["metadata"].get("namespace", "default")
        ns_labels = {NAME_LABEL: namespace, **labels.get(namespace, {})}
        found.extend(review.review(doc, policy, ns_labels))
    return found


CASES = [load_case(path) for path in INVALID]


def test_there_are_at_least_30_invalid_files_each_breaking_a_different_rule() -> None:
    assert len(CASES) >= 30
    single = [case for case in CASES if len(case.expects) == 1]
    assert len(single) >= 30
    keys = [(c.expects[0].field, c.expects[0].control, c.expects[0].text) for c in single]
    assert len(set(keys)) == len(keys)


def test_invalid_files_are_numbered_and_named() -> None:
    for number, path in enumerate(INVALID, start=1):
        assert path.name.startswith(f"{number:02d}-")


def test_the_files_cover_crd_policy_and_cross_field_rules() -> None:
    expected = {expect.control for case in CASES for expect in case.expects}
    assert {"IMG-1", "IMG-2", "RES-1", "PRF-1", "NET-2", "SEC-1", "POD-6", "RBAC-2"} <= expected
    assert None in expected
    assert expected - {None} <= set(controls.ids())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.path.stem)
def test_invalid_file_gets_exactly_its_expected_problems(case: Case) -> None:
    assert case.expects, f"{case.path.name} has no '# expect:' line"
    problems = judge(case)
    assert len(problems) == len(case.expects), problems
    for expect, problem in zip(case.expects, problems, strict=True):
        assert expect.met_by(problem), (expect, problem)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.path.stem)
def test_messages_name_their_control(case: Case) -> None:
    for problem in judge(case):
        if problem.control:
            assert f"({problem.control})" in problem.message
        assert problem.field.startswith("spec")


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_file_passes(path: pathlib.Path) -> None:
    case = load_case(path)
    assert case.expects == ()
    assert judge(case) == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.path.stem)
def test_fwctl_check_prints_one_line_per_expected_problem(
    capsys: pytest.CaptureFixture[str], case: Case
) -> None:
    code = cli.main(["check", "--policy", str(case.policy), str(case.path)])
    out, err = capsys.readouterr()
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == len(case.expects)
    for expect, line in zip(case.expects, lines, strict=True):
        assert line.startswith(f"{case.path}:")
        assert f": {expect.field}: " in line
        assert expect.text in line
    assert "Traceback" not in err


def test_fwctl_check_passes_every_valid_file_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    plain = [path for path in VALID if load_case(path).policy.name == "policy.yaml"]
    code = cli.main(["check", "--policy", str(DATA / "policy.yaml"), *map(str, plain)])
    out, err = capsys.readouterr()
    assert (code, out) == (0, "")
    assert err.endswith(f"{len(plain)} FinancialWorkload(s), 0 with violations: pass\n")


def test_fwctl_check_over_all_invalid_files_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    plain = [case for case in CASES if case.policy.name == "policy.yaml"]
    code = cli.main(["check", "--policy", str(DATA / "policy.yaml"), *(str(c.path) for c in plain)])
    out, _ = capsys.readouterr()
    assert code == 1
    assert len(out.splitlines()) == sum(len(case.expects) for case in plain)
