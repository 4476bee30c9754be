"""Property: no input makes fwctl check or render print a traceback.

Random bytes, random YAML (scalars, lists, mappings, anchors, tags, flow and block styles
mixed by mutation) and FinancialWorkload-shaped documents with random values go through
``fwctl check`` (every output format) and ``fwctl render``: the exit code is 0, 1 or 2,
stderr holds no traceback and no internal error, and every structured output parses.
FWOP_CLI_FUZZ_EXAMPLES sets the number of examples per test (default 100).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pathlib
import tempfile
import xml.etree.ElementTree as ET
from typing import Any

import hypothesis
import yaml
from hypothesis import strategies as st

from fwop.cli import main as cli

from .conftest import workload_doc

POLICY = pathlib.Path(__file__).resolve().parents[1] / "data" / "policy.yaml"
EXAMPLES = int(os.environ.get("FWOP_CLI_FUZZ_EXAMPLES", "100"))
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["~", "0x1f", "2024-01-01", "1e3", "yes", "no", "-", "*", "&", "!", ":"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = [
    "profile", "image", "replicas", "resources", "residency", "env", "args", "ports",
    "probes", "permissions", "network", "secrets", "placement", "podMetadata", "shutdown",
    "autoscaling", "rollout", "enforcement", "hostNetwork",
]  # fmt: skip


@st.composite
def workload_like(draw: st.DrawFn) -> dict[str, Any]:
    """A FinancialWorkload with some spec fields replaced by anything."""
    doc = workload_doc(residency={"regions": ["eu-west-1"]})
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=4)):
        doc["spec"][field] = draw(values)
    if draw(st.booleans()):
        doc["metadata"] = draw(st.one_of(values, st.just(doc["metadata"])))
    return doc


@st.composite
def yaml_texts(draw: st.DrawFn) -> str:
    """A YAML stream of random documents, then cut, spliced or salted with YAML syntax."""
    docs = draw(st.lists(st.one_of(values, workload_like()), min_size=1, max_size=3))
    if draw(st.booleans()):
        docs = [{"apiVersion": "v1", "kind": "List", "items": docs}]
    style = draw(st.sampled_from([None, True, False]))
    text = yaml.safe_dump_all(docs, default_flow_style=style, allow_unicode=draw(st.booleans()))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        junk = draw(
            st.one_of(
                st.sampled_from(
                    ["&a ", "*a", "!!int ", "!!binary ", "<<: ", "\t", "---\n", "- ", ": ", "{",
                     "]", "'", '"', "? ", "%YAML 1.1\n", "kind: x\n", "\x00", "\ufeff", "\\ud800"]
                ),
                st.text(max_size=5),
            )
        )  # fmt: skip
        text = text[:at] + junk + text[at:]
    return text


def fwctl(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def assert_no_traceback(data: bytes, name: str = "input.yaml") -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / name
        path.write_bytes(data)
        for argv in (
            ("render", str(path)),
            *(("check", "--policy", str(POLICY), "-o", o, folder) for o in cli_formats()),
        ):
            code, out, err = fwctl(*argv)
            assert code in {0, 1, 2}, (argv, code, err)
            assert "Traceback" not in err, err
            assert "internal error" not in err, err
            if code == 2:
                assert out == "", argv
                continue
            parse_output(argv[-2], out)


def cli_formats() -> tuple[str, ...]:
    return ("text", "json", "sarif", "junit", "policyreport")


def parse_output(output: str, out: str) -> None:
    if output in {"json", "sarif"}:
        json.loads(out)
    elif output == "junit":
        ET.fromstring(out.split("\n", 1)[1])
    elif output == "policyreport":
        assert list(yaml.safe_load_all(out))


@SETTINGS
@hypothesis.given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    assert_no_traceback(data)


@SETTINGS
@hypothesis.given(yaml_texts())
def test_random_yaml(text: str) -> None:
    assert_no_traceback(text.encode("utf-8", "surrogatepass"))


@SETTINGS
@hypothesis.given(st.lists(st.one_of(values, workload_like()), max_size=3))
def test_random_json(docs: list[Any]) -> None:
    assert_no_traceback(json.dumps(docs[0] if len(docs) == 1 else docs).encode(), "input.json")
