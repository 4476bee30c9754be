"""The local cluster's pure parts: node topology and kubeconfig shape."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "cluster"))

import localcluster


def test_nodes_cover_three_zones_in_two_regions() -> None:
    nodes = [json.loads(doc) for doc in localcluster.nodes_yaml().split("\n---\n")]
    labels = [n["metadata"]["labels"] for n in nodes]
    assert len({lab["topology.kubernetes.io/zone"] for lab in labels}) == 3
    assert len({lab["topology.kubernetes.io/region"] for lab in labels}) == 2
    assert all(lab["type"] == "kwok" for lab in labels)


def test_kubeconfig_references_client_cert(tmp_path: Path) -> None:
    path = tmp_path / "kc"
    localcluster.write_kubeconfig(path, "https://127.0.0.1:1234", tmp_path, "admin", "x")
    config = json.loads(path.read_text())
    assert config["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:1234"
    assert config["users"][0]["user"]["client-certificate"].endswith("admin.crt")
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_free_port_is_loopback_and_unused() -> None:
    port = localcluster.free_port()
    assert 1024 < port < 65536
