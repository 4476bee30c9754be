"""Packaging: fwctl runs without the operator's runtime-only dependencies, and the declared
extras and floors agree with what the code imports."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import tomllib

import yaml
from packaging import version

REPO = pathlib.Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
OPERATOR_ONLY = ("kopf", "aiohttp", "structlog", "prometheus_client")

# Runs fwctl with the operator-only packages made unimportable, as after `pip install fwop`.
BLOCKED = f"""
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {OPERATOR_ONLY!r}:
            raise ImportError(f"{{name}} is the operator's, not fwctl's")
        return None
sys.meta_path.insert(0, Blocker())
from fwop.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def fwctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKED, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO / "operator"), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )


def test_fwctl_check_and_render_need_none_of_the_operators_packages() -> None:
    checked = fwctl("check", "--policy", "examples/policy/default.yaml", "examples/")
    assert checked.returncode == 0, checked.stderr
    rendered = fwctl("render", "examples/payments-api.yaml")
    assert rendered.returncode == 0, rendered.stderr
    assert "kind: Deployment" in rendered.stdout
    assert fwctl("--version").returncode == 0


def _names(requirements: list[str]) -> set[str]:
    return {r.split(">")[0].split("=")[0].split("[")[0].strip().lower() for r in requirements}


def test_operator_only_packages_are_an_extra_and_every_floor_is_declared() -> None:
    core = _names(PROJECT["dependencies"])
    operator = _names(PROJECT["optional-dependencies"]["operator"])
    assert {name.replace("_", "-") for name in OPERATOR_ONLY} == operator
    assert not core & operator
    floors = [
        line.split("==")[0].lower()
        for line in (REPO / "floors.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert set(floors) == core | operator
    declared = {
        r.split(">=")[0].strip().lower(): r.split(">=")[1].split()[0].strip('",')
        for r in [*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["operator"]]
    }
    pinned = {
        line.split("==")[0].lower(): line.split("==")[1]
        for line in (REPO / "floors.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    for name, floor in declared.items():  # floors.txt pins the floor itself, not above it
        wanted = version.Version(floor).release
        assert version.Version(pinned[name]).release[: len(wanted)] == wanted, (name, floor)


def _locked(name: str) -> dict[str, str]:
    lines = (REPO / name).read_text(encoding="utf-8").splitlines()
    pins = [line.split(" --hash=sha256:") for line in lines if line and not line.startswith("#")]
    assert all(len(pin) == 2 and len(pin[1]) == 64 for pin in pins), name
    return {pin[0].split("==")[0].lower(): pin[0].split("==")[1] for pin in pins}


def test_the_image_installs_constraints_versions_with_their_hashes() -> None:
    """requirements-*.txt (make image-lock) pin what constraints.txt pins, with hashes."""
    constraints = {
        line.split("==")[0].lower(): line.split("==")[1]
        for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    image = _locked("requirements-image.txt")
    for name, pinned in image.items():
        assert constraints.get(name, pinned) == pinned, (name, pinned, constraints.get(name))
    wanted = _names(PROJECT["dependencies"]) | _names(PROJECT["optional-dependencies"]["operator"])
    assert {name.replace("_", "-") for name in wanted} <= {n.replace("_", "-") for n in image}
    assert "hatchling" in _locked("requirements-build.txt")
    assert not {"pytest", "mypy", "ruff", "hatchling"} & set(image)  # nothing of dev or build


def test_the_charts_carry_the_package_version() -> None:
    """Both Helm charts and the Python package are released together, at one version."""
    for chart in ("fwop", "fwop-crds"):
        meta = yaml.safe_load((REPO / "charts" / chart / "Chart.yaml").read_text(encoding="utf-8"))
        assert meta["version"] == PROJECT["version"], chart
        assert meta["appVersion"] == PROJECT["version"], chart
