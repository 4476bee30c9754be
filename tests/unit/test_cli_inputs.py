"""fwctl check and render over a repository: directories, Lists, stdin, skipped kinds, lines,
inputs that cannot be read (exit 2, one line, no traceback), --version."""

from __future__ import annotations

import io
import json
import pathlib
from typing import Any

import pytest
import yaml

import fwop
from fwop.cli import main as cli

from .conftest import workload_doc

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
POLICY = DATA / "policy.yaml"
GITOPS = DATA / "gitops"
GOLDEN = pathlib.Path(__file__).parent / "golden"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def check_json(capsys: pytest.CaptureFixture[str], *paths: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(capsys, "check", "--policy", str(POLICY), "-o", "json", *paths)
    return code, json.loads(out)


def good(**fields: Any) -> dict[str, Any]:
    fields.setdefault("residency", {"regions": ["eu-west-1"]})
    return workload_doc(**fields)


def write(path: pathlib.Path, *docs: Any) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return str(path)


def test_a_directory_is_every_yaml_and_json_file_under_it_in_path_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, shape = check_json(capsys, str(GITOPS))
    assert code == 1
    rel = [
        (pathlib.Path(w["file"]).relative_to(GITOPS).as_posix(), w["name"])
        for w in shape["workloads"]
    ]
    assert rel == [
        ("apps/ledger/list.yaml", "ledger-api"),
        ("apps/ledger/list.yaml", "ledger-export"),
        ("apps/payments/workload.yaml", "payments-api"),
        ("apps/reports/workload.json", "reports"),
    ]
    assert shape["summary"] == {
        "files": 6,
        "documents": 10,
        "skipped": 6,
        "skippedByKind": {
            "ConfigMap": 1,
            "Deployment": 1,
            "FinancialWorkloadPolicy": 1,
            "Kustomization": 1,
            "Namespace": 2,
        },
        "workloads": 4,
        "passed": 3,
        "failed": 1,
        "violations": 1,
    }


def test_hidden_and_non_yaml_files_are_left_out_unless_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "check", "--policy", str(POLICY), str(GITOPS / "docs" / "notes.txt"))
    assert code == 2
    assert err.startswith(f"fwctl check: {GITOPS / 'docs' / 'notes.txt'}:2: invalid YAML")
    code, _, err = run(capsys, "check", str(GITOPS / ".github"))
    assert code == 2
    assert ":3: invalid YAML" in err


def test_list_items_are_judged_with_their_position_and_the_line_of_the_field(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = GITOPS / "apps" / "ledger" / "list.yaml"
    code, out, err = run(capsys, "check", "--policy", str(POLICY), str(path))
    assert code == 1
    line = out.splitlines()[0]
    assert line.startswith(f"{path}:32: ledger-export (document 1, items[2]): spec.image: ")
    assert "(IMG-2)" in line
    assert path.read_text().splitlines()[31].strip().startswith("image: quay.io/")
    assert err.endswith(
        "1 skipped (ConfigMap 1); 2 FinancialWorkload(s), 1 with violations: fail\n"
    )


def test_workload_lists_and_policy_documents_are_not_workloads(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    policy = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    listed = {
        "apiVersion": "finance.compliance.dev/v1alpha1",
        "kind": "FinancialWorkloadList",
        "items": [good(name="a"), "not an object"],
    }
    code, shape = check_json(capsys, write(tmp_path / "in.yaml", policy, listed, "text", None))
    assert code == 0
    assert [w["name"] for w in shape["workloads"]] == ["a"]
    assert shape["summary"]["skippedByKind"] == {
        "(not an object)": 2,
        "FinancialWorkloadPolicy": 1,
    }


def test_kinds_without_a_kind_are_counted(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    code, shape = check_json(capsys, write(tmp_path / "values.yaml", {"replicaCount": 2}))
    assert code == 0
    assert shape["summary"]["skippedByKind"] == {"(no kind)": 1}
    assert shape["summary"]["workloads"] == 0


def test_an_input_without_workloads_passes_and_says_0_checked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "check", "--policy", str(POLICY), str(GITOPS / "clusters"))
    assert (code, out) == (0, "")
    assert err == (
        "fwctl check: 1 file(s), 2 document(s), 2 skipped (Namespace 2);"
        " 0 FinancialWorkload(s), 0 with violations: pass\n"
    )


def test_an_empty_directory_passes(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    code, out, err = run(capsys, "check", "--policy", str(POLICY), str(tmp_path))
    assert (code, out) == (0, "")
    assert "0 file(s), 0 document(s), 0 skipped; 0 FinancialWorkload(s)" in err


def test_a_file_named_twice_is_read_once(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    path = write(tmp_path / "a" / "w.yaml", good())
    code, shape = check_json(capsys, path, str(tmp_path), str(tmp_path / "a" / ".." / "a"))
    assert code == 0
    assert shape["summary"]["files"] == 1


def test_namespace_documents_in_another_directory_supply_labels(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "team", "labels": {"finance.compliance.dev/cardholder-data": "true"}},
    }
    write(tmp_path / "ns" / "team.yaml", namespace)
    write(tmp_path / "apps" / "app.yaml", good())
    code, out, _ = run(capsys, "check", "--policy", str(POLICY), str(tmp_path))
    assert code == 1
    assert "(PRF-1)" in out


def test_stdin_as_bytes_is_decoded_and_mixed_with_files(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    data = yaml.safe_dump(good(name="piped", image="nginx@sha256:" + "0" * 64)).encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = run(
        capsys, "check", "--policy", str(POLICY), "-", write(tmp_path / "f.yaml", good())
    )
    assert code == 1
    assert out.startswith("-:7: piped (document 1): spec.image: ")


def test_stdin_that_is_not_utf8_is_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"kind: x\nname: \xe9t\xe9\n")))
    code, out, err = run(capsys, "check", "-")
    assert (code, out) == (2, "")
    assert err.endswith("fwctl check: -:2: not UTF-8 text: byte 0xe9 at offset 14\n")


def test_a_file_that_is_not_utf8_is_exit_2_with_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"apiVersion: v1\nkind: ConfigMap\ndata:\n  city: Z\xfcrich\n")
    code, out, err = run(capsys, "check", "--policy", str(POLICY), str(path))
    assert (code, out) == (2, "")
    assert err == f"fwctl check: {path}:4: not UTF-8 text: byte 0xfc at offset 46\n"


def test_a_byte_order_mark_is_allowed(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + yaml.safe_dump(good()).encode())
    code, _, _ = run(capsys, "check", "--policy", str(POLICY), str(path))
    assert code == 0


def test_a_yaml_error_names_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n  other: y\n")
    code, out, err = run(capsys, "check", "--policy", str(POLICY), str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"fwctl check: {path}:5: invalid YAML: ")
    assert err.count("\n") == 1


def test_duplicate_keys_are_refused_with_both_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    text = yaml.safe_dump(good(), sort_keys=False)
    doubled = text.replace("  profile: baseline\n", "  profile: baseline\n  replicas: 2\n", 1)
    doubled = doubled.replace("  image:", "  replicas: 3\n  image:", 1)
    path = tmp_path / "dup.yaml"
    path.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n---\n" + doubled)
    code, out, err = run(capsys, "check", "--policy", str(POLICY), str(path))
    assert (code, out) == (2, "")
    lines = path.read_text().splitlines()
    first = lines.index("  replicas: 2") + 1
    second = lines.index("  replicas: 3") + 1
    assert err == (
        f"fwctl check: {path}:{second}: duplicate key 'replicas' (first at line {first});"
        " kubectl refuses duplicate keys\n"
    )


def test_duplicate_keys_in_a_list_item_and_in_json(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    listed = tmp_path / "list.yaml"
    listed.write_text("kind: List\nitems:\n  - kind: ConfigMap\n    data: {a: 1, a: 2}\n")
    code, _, err = run(capsys, "render", str(listed))
    assert code == 2
    assert f"{listed}:4: duplicate key 'a'" in err
    as_json = tmp_path / "w.json"
    as_json.write_text('{\n\t"kind": "ConfigMap",\n\t"kind": "Secret"\n}\n')
    code, _, err = run(capsys, "check", str(as_json))
    assert code == 2
    assert err.endswith(f"fwctl check: {as_json}: duplicate key 'kind'\n")


def test_merge_keys_may_be_overridden(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "merge.yaml"
    path.write_text(
        "x-limits: &limits {cpu: 500m, memory: 128Mi}\n"
        "kind: ConfigMap\n"
        "data:\n  <<: *limits\n  cpu: 250m\n"
    )
    code, _, _ = run(capsys, "check", "--policy", str(POLICY), str(path))
    assert code == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &x [*x]\n", ":1: an alias refers to a node that contains it"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
                for p, c in zip("abcde", "bcdef", strict=True)
            )
            + "kind: ConfigMap\n",
            ":1: aliases expand the document past 100,000 nodes",
        ),
        ("[" * 5000, ": nested too deeply to read"),
        ("a: !!int abc\n", ": invalid YAML: ValueError: invalid literal"),
        ("a: \x07\n", ":1: invalid YAML: character U+0007 is not allowed"),
    ],
    ids=["recursive-alias", "billion-laughs", "deep", "bad-tag", "control-character"],
)
def test_hostile_yaml_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path, text: str, message: str
) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    for command in ("check", "render"):
        code, out, err = run(capsys, command, str(path))
        assert (code, out) == (2, "")
        assert f"fwctl {command}: {path}{message}" in err
        assert "Traceback" not in err


def test_missing_inputs_are_each_named_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    good_file = write(tmp_path / "ok.yaml", good())
    code, out, err = run(capsys, "check", good_file, str(tmp_path / "a.yaml"), str(tmp_path / "b"))
    assert (code, out) == (2, "")
    assert err.splitlines()[-2:] == [
        f"fwctl check: {tmp_path / 'a.yaml'}: cannot read: No such file or directory",
        f"fwctl check: {tmp_path / 'b'}: cannot read: No such file or directory",
    ]


def test_exit_codes_0_1_2(capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path) -> None:
    passing = write(tmp_path / "pass.yaml", good())
    failing = write(tmp_path / "fail.yaml", good(replicas=-1))
    assert run(capsys, "check", "--policy", str(POLICY), passing)[0] == 0
    assert run(capsys, "check", "--policy", str(POLICY), passing, failing)[0] == 1
    assert run(capsys, "check", "--policy", str(POLICY), str(tmp_path / "absent"))[0] == 2
    with pytest.raises(SystemExit) as caught:
        cli.main(["check", "--policy", str(POLICY), "-o", "xml", passing])
    assert caught.value.code == 2


def test_a_bug_is_exit_2_and_one_line_never_a_traceback_or_a_verdict(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr("fwop.admission.review.review", broken)
    code, out, err = run(capsys, "check", write(tmp_path / "w.yaml", good()))
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        "fwctl check: internal error: KeyError: 'boom' (please report it, with the input)"
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"fwctl {fwop.__version__}\n"


def test_render_over_a_directory_is_the_files_renderings_in_path_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "render", str(REPO / "examples"))
    assert (code, err) == (0, "")
    expected = "".join(path.read_text(encoding="utf-8") for path in sorted(GOLDEN.glob("*.yaml")))
    assert out == expected


def test_render_reads_lists_json_and_stdin_together(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    listed = {"apiVersion": "v1", "kind": "List", "items": [good(name="one"), good(name="two")]}
    as_json = tmp_path / "three.json"
    as_json.write_text(json.dumps(good(name="three"), indent="\t"), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO(yaml.safe_dump(good(name="four"))))
    code, out, _ = run(capsys, "render", write(tmp_path / "list.yaml", listed), str(as_json), "-")
    assert code == 0
    deployments = [
        m["metadata"]["name"] for m in yaml.safe_load_all(out) if m["kind"] == "Deployment"
    ]
    assert deployments == ["one", "two", "three", "four"]


def test_render_over_a_repository_renders_every_workload_of_every_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Render judges the CRD's rules, not the cluster policy: the quay.io image is no
    # violation there, so the whole repository renders.
    code, out, err = run(capsys, "render", str(GITOPS))
    assert (code, err) == (0, "")
    names = [m["metadata"]["name"] for m in yaml.safe_load_all(out) if m["kind"] == "Deployment"]
    assert names == ["ledger-api", "ledger-export", "payments-api", "reports"]


def test_render_names_the_line_of_a_violation_in_a_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    write(tmp_path / "a.yaml", good(name="fine"))
    bad = write(tmp_path / "sub" / "b.yaml", good(name="bad", image="nginx"))
    code, out, err = run(capsys, "render", str(tmp_path))
    assert (code, out) == (1, "")
    assert err.startswith(f"{bad}:8: bad (document 1): spec.image: ")
