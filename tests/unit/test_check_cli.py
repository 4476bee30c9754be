"""fwctl check: exit codes, one line per violation, namespace labels, and no tracebacks."""

from __future__ import annotations

import io
import pathlib
from typing import Any

import pytest
import yaml

from fwop.cli import main as cli

from .conftest import workload_doc

REPO = pathlib.Path(__file__).resolve().parents[2]
POLICY = REPO / "tests" / "data" / "policy.yaml"
EXAMPLE_POLICY = REPO / "examples" / "policy" / "default.yaml"
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
CARDHOLDER = "finance.compliance.dev/cardholder-data"


def write(tmp_path: pathlib.Path, *docs: Any, name: str = "input.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def good(**fields: Any) -> dict[str, Any]:
    fields.setdefault("residency", {"regions": ["eu-west-1"]})
    return workload_doc(**fields)


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def test_examples_pass_with_the_example_policy(capsys: pytest.CaptureFixture[str]) -> None:
    paths = [str(path) for path in EXAMPLES]
    code, out, err = run(capsys, "check", "--policy", str(EXAMPLE_POLICY), *paths)
    assert (code, out) == (0, "")
    assert err == (
        "fwctl check: 4 file(s), 10 document(s), 6 skipped (ConfigMap 1, Namespace 4,"
        " PersistentVolumeClaim 1); 4 FinancialWorkload(s), 0 with violations: pass\n"
    )


def test_without_policy_the_defaults_apply_and_say_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", str(EXAMPLES[0]))
    assert code == 1
    assert "IMG-2" in out
    assert err.startswith("fwctl: no --policy: checking against the defaults")


def test_line_format_matches_render(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    path = write(tmp_path, namespace("team"), good(name="one"), good(name="two", replicas=-1))
    code, out, _ = run(capsys, "check", "--policy", str(POLICY), path)
    assert code == 1
    assert out.splitlines() == [
        f"{path}:41: two (document 3): spec.replicas: Input should be greater than or equal to 0"
    ]


def test_several_files_and_violations_one_line_each(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    one = write(tmp_path, good(name="a", image="nginx@sha256:" + "0" * 64), name="one.yaml")
    two = write(
        tmp_path, good(name="b", network={"allowDNS": True}), good(name="c"), name="two.yaml"
    )
    env = [{"name": "DB_PASSWORD", "value": "x"}]
    three = write(tmp_path, good(name="d", env=env, residency={"regions": ["us-east-1"]}))
    code, out, err = run(capsys, "check", "--policy", str(POLICY), one, two, three)
    assert code == 1
    lines = out.splitlines()
    assert [line.split(": ")[0:3] for line in lines] == [
        [f"{one}:8", "a (document 1)", "spec.image"],
        [f"{three}:21", "d (document 1)", "spec.residency.regions[0]"],
        [f"{three}:18", "d (document 1)", "spec.env[0].value"],
    ]
    assert err.endswith("4 FinancialWorkload(s), 2 with violations: fail\n")


def test_namespace_documents_supply_labels_for_required_profiles(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    namespaces = write(tmp_path, namespace("team", **{CARDHOLDER: "true"}), name="ns.yaml")
    workloads = write(tmp_path, good())
    code, out, _ = run(capsys, "check", "--policy", str(POLICY), workloads, namespaces)
    assert code == 1
    assert 'spec.profile: profile baseline is not allowed in namespace "team" (PRF-1)' in out
    code, out, _ = run(capsys, "check", "--policy", str(POLICY), workloads)
    assert (code, out) == (0, "")


def test_namespace_labels_option(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    path = write(tmp_path, good())
    labels = f"team=payments, {CARDHOLDER}=true"
    code, out, _ = run(capsys, "check", "--policy", str(POLICY), "--namespace-labels", labels, path)
    assert code == 1
    assert "(PRF-1)" in out
    # A Namespace document in the files overrides the option for its namespace.
    overridden = write(tmp_path, namespace("team", **{CARDHOLDER: "false"}), good(), name="o.yaml")
    code, out, _ = run(
        capsys, "check", "--policy", str(POLICY), "--namespace-labels", labels, overridden
    )
    assert (code, out) == (0, "")


def test_default_namespace_option(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    docs = (namespace("cards", **{CARDHOLDER: "true"}), good(namespace=None))
    path = write(tmp_path, *docs)
    code, out, _ = run(capsys, "check", "--policy", str(POLICY), "-n", "cards", path)
    assert code == 1
    assert 'namespace "cards"' in out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [\n", ":2: invalid YAML: while parsing a flow node expected the node content"),
        ("kind: x\nkind: y\n", ":2: duplicate key 'kind' (first at line 1)"),
    ],
    ids=["syntax", "duplicate-key"],
)
def test_files_that_are_not_yaml_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "check", "--policy", str(POLICY), str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"fwctl check: {path}{message}")
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "skipped"),
    [
        ("- just\n- a list\n", "1 skipped ((not an object) 1)"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "1 skipped (ConfigMap 1)"),
        ("", "0 skipped"),
    ],
    ids=["not-a-mapping", "no-workload", "empty"],
)
def test_files_without_workloads_pass_and_are_counted(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path, text: str, skipped: str
) -> None:
    path = tmp_path / "other.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "check", "--policy", str(POLICY), str(path))
    assert (code, out) == (0, "")
    assert f"{skipped}; 0 FinancialWorkload(s), 0 with violations: pass" in err


def test_unknown_fields_and_secret_carriers(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    env = [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]
    path = write(tmp_path, good(hostNetwork=True, env=env))
    code, out, _ = run(capsys, "check", "--policy", str(POLICY), path)
    assert code == 1
    first, second = (line.split(": ", 2)[2] for line in out.splitlines())
    assert first == (
        "spec.env[0].valueFrom: valueFrom is not supported: mount secrets through spec.secrets"
        " (SEC-1)"
    )
    assert second.startswith(
        "spec.hostNetwork: unknown field; use nothing: a workload never shares the node's"
        " namespaces (POD-5) (fields here: args,"
    )


def test_a_namespace_only_file_is_not_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    only = write(tmp_path, namespace("team"), name="ns.yaml")
    code, out, _ = run(capsys, "check", "--policy", str(POLICY), only, write(tmp_path, good()))
    assert (code, out) == (0, "")


def test_policy_documents_among_the_inputs_are_not_workloads(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    policy = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    code, out, _ = run(capsys, "check", "--policy", str(POLICY), write(tmp_path, policy, good()))
    assert (code, out) == (0, "")


def test_missing_input_file_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    absent = tmp_path / "absent.yaml"
    code, out, err = run(capsys, "check", "--policy", str(POLICY), str(absent))
    assert (code, out) == (2, "")
    assert err == f"fwctl check: {absent}: cannot read: No such file or directory\n"


def test_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "sys.stdin", io.StringIO(yaml.safe_dump(good(image="nginx@sha256:" + "0" * 64)))
    )
    code, out, _ = run(capsys, "check", "--policy", str(POLICY), "-")
    assert code == 1
    assert out.startswith("-:7: app (document 1): spec.image: ")


@pytest.mark.parametrize(
    ("policy_text", "message"),
    [
        (None, "cannot read: No such file or directory"),
        ("a: [\n", "invalid YAML"),
        (
            "apiVersion: v1\nkind: ConfigMap\n",
            "expected one FinancialWorkloadPolicy document, found 0",
        ),
        (
            "apiVersion: finance.compliance.dev/v1alpha1\nkind: FinancialWorkloadPolicy\n"
            "metadata: {name: default}\nspec: {allowedRegions: [EU]}\n",
            ":4: default (document 1): spec.allowedRegions[0]: String should match",
        ),
    ],
    ids=["absent", "yaml", "no-policy", "invalid"],
)
def test_bad_policy_files_are_usage_errors(
    capsys: pytest.CaptureFixture[str],
    tmp_path: pathlib.Path,
    policy_text: str | None,
    message: str,
) -> None:
    policy = tmp_path / "policy.yaml"
    if policy_text is not None:
        policy.write_text(policy_text, encoding="utf-8")
    code, out, err = run(capsys, "check", "--policy", str(policy), write(tmp_path, good()))
    assert (code, out) == (2, "")
    assert err.startswith(f"fwctl: {policy}:")
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("labels", ["novalue", "=x", "a=b,,c"])
def test_bad_namespace_labels_are_usage_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path, labels: str
) -> None:
    path = write(tmp_path, good())
    code, out, err = run(
        capsys, "check", "--policy", str(POLICY), "--namespace-labels", labels, path
    )
    assert (code, out) == (2, "")
    assert err.startswith("fwctl: --namespace-labels: ")


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["check"])
    assert caught.value.code == 2
    assert "FILE" in capsys.readouterr().err


def test_help_explains_defaults_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["check", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "trust no registry and no region" in text
    assert "Exit 0 when every workload passes (also when there is none), 1 on any violation" in text


def test_render_takes_the_pss_version_from_a_policy(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    policy = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    policy["spec"]["podSecurityVersion"] = "v1.35"
    policy_path = write(tmp_path, policy, name="policy.yaml")
    code, out, _ = run(capsys, "render", "--policy", policy_path, write(tmp_path, good()))
    assert code == 0
    (ns,) = [m for m in yaml.safe_load_all(out) if m["kind"] == "Namespace"]
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce-version"] == "v1.35"
    code, _, err = run(capsys, "render", "--policy", str(tmp_path / "x"), write(tmp_path, good()))
    assert code == 2
    assert "cannot read" in err
