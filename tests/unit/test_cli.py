"""fwctl render: same manifests as render_all, one clear line per problem, exit codes."""

from __future__ import annotations

import io
import os
import pathlib
from typing import Any

import pytest
import yaml

from fwop.api import workload as workload_api
from fwop.cli import main as cli
from fwop.render import meta, workload

from .conftest import workload_doc

REPO = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
GOLDEN = pathlib.Path(__file__).parent / "golden"


def write(tmp_path: pathlib.Path, *docs: Any) -> str:
    path = tmp_path / "input.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_examples_exist() -> None:
    assert [path.name for path in EXAMPLES] == [
        "batch-reconciliation.yaml",
        "ledger-consumer.yaml",
        "payments-api.yaml",
        "trading-gateway.yaml",
    ]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_render_prints_exactly_what_render_all_returns(
    capsys: pytest.CaptureFixture[str], example: pathlib.Path
) -> None:
    code, out, err = run(capsys, "render", str(example))
    assert (code, err) == (0, "")
    docs = list(yaml.safe_load_all(example.read_text(encoding="utf-8")))
    (doc,) = [doc for doc in docs if doc["kind"] == "FinancialWorkload"]
    parsed = workload_api.parse(doc)
    assert list(yaml.safe_load_all(out)) == workload.render_all(
        parsed.namespace, parsed.name, parsed.spec, None
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_examples_match_their_golden_rendering(
    capsys: pytest.CaptureFixture[str], example: pathlib.Path
) -> None:
    golden = GOLDEN / example.name
    _, out, _ = run(capsys, "render", str(example))
    if os.environ.get("FWOP_UPDATE_GOLDEN"):
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8"), f"FWOP_UPDATE_GOLDEN=1 to accept {golden}"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_examples_declare_their_namespace_first(example: pathlib.Path) -> None:
    docs = list(yaml.safe_load_all(example.read_text(encoding="utf-8")))
    kinds = [doc["kind"] for doc in docs]
    # What the workload needs of the namespace (a claim, a ConfigMap) comes between.
    assert (kinds[0], kinds[-1]) == ("Namespace", "FinancialWorkload")
    assert set(kinds[1:-1]) <= {"PersistentVolumeClaim", "ConfigMap"}
    assert {doc["metadata"].get("namespace") for doc in docs[1:]} == {docs[0]["metadata"]["name"]}
    regions = set(docs[-1]["spec"].get("residency", {}).get("regions", []))
    assert regions <= {"eu-west-1", "eu-central-1"}


def test_uid_in_the_input_adds_owner_references(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    doc = workload_doc()
    doc["metadata"]["uid"] = "6c1e0f3a-0000-4000-8000-000000000001"
    code, out, _ = run(capsys, "render", write(tmp_path, doc))
    assert code == 0
    children = [m for m in yaml.safe_load_all(out) if m["kind"] != "Namespace"]
    expected = meta.OwnerRef(name="app", uid="6c1e0f3a-0000-4000-8000-000000000001").manifest()
    assert children
    assert all(m["metadata"]["ownerReferences"] == [expected] for m in children)


def test_several_workloads_and_default_namespace(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    path = write(tmp_path, workload_doc(name="one", namespace=None), workload_doc(name="two"))
    code, out, _ = run(capsys, "render", "--namespace", "sandbox", path)
    assert code == 0
    deployments = [m for m in yaml.safe_load_all(out) if m["kind"] == "Deployment"]
    assert [(m["metadata"]["namespace"], m["metadata"]["name"]) for m in deployments] == [
        ("sandbox", "one"),
        ("team", "two"),
    ]


def test_stdin_is_read_for_dash(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(yaml.safe_dump(workload_doc())))
    code, out, _ = run(capsys, "render", "-")
    assert code == 0
    assert "kind: Deployment" in out


def test_rule_violations_are_one_line_each_naming_file_field_and_control(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    doc = workload_doc(
        profile="pci",
        replicas=1,
        image="registry.bank.example/app:latest",
        permissions=[{"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}],
    )
    path = write(
        tmp_path, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}, doc
    )
    code, out, err = run(capsys, "render", path)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{path}:13: app (document 2): spec.image: spec.image must be pinned by digest as"
        " <repository>@sha256:<64 hex>; tags, including latest, are rejected (IMG-1)",
        f"{path}:21: app (document 2): spec.replicas: spec.replicas must be at least 2 under"
        " profile pci (a spec.job excepted) (AVL-1)",
        f"{path}:27: app (document 2): spec.permissions[0].verbs: spec.permissions[].verbs must"
        " not contain '*' (RBAC-2)",
    ]


def test_unknown_fields_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    code, _, err = run(capsys, "render", write(tmp_path, workload_doc(hostNetwork=True)))
    assert code == 1
    assert ":16: app (document 1): spec.hostNetwork: unknown field; use nothing" in err


def test_nothing_is_printed_when_any_document_is_invalid(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    path = write(tmp_path, workload_doc(name="good"), workload_doc(name="bad", image="nginx"))
    code, out, err = run(capsys, "render", path)
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert ":24: bad (document 2): spec.image:" in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [\n", ":2: invalid YAML: "),
        ("metadata: {name: a, name: b}\n", ":1: duplicate key 'name' (first at line 1)"),
        ("a: 1\n\xff\n", ":2: not UTF-8 text: byte 0xff at offset 5"),
    ],
    ids=["syntax", "duplicate-key", "not-utf8"],
)
def test_unreadable_files_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(text.encode("latin-1"))
    code, out, err = run(capsys, "render", str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"fwctl render: {path}{message}")
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "text",
    ["- just\n- a list\n", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", ""],
    ids=["not-a-mapping", "no-workload", "empty"],
)
def test_files_without_workloads_render_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path, text: str
) -> None:
    path = tmp_path / "other.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "render", str(path))
    assert (code, out) == (0, "")
    assert err == "fwctl render: no FinancialWorkload in the input: nothing to render\n"


def test_missing_file_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path) -> None:
    code, _, err = run(capsys, "render", str(tmp_path / "absent.yaml"))
    assert code == 2
    expected = f"fwctl render: {tmp_path / 'absent.yaml'}: cannot read: No such file or directory\n"
    assert err == expected


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main([])
    assert caught.value.code == 2
    assert "usage: fwctl" in capsys.readouterr().err


def test_help_explains_owner_references(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["render", "--help"])
    assert caught.value.code == 0
    assert "metadata.uid" in " ".join(capsys.readouterr().out.split())
