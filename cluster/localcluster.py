#!/usr/bin/env python3
"""A real Kubernetes control plane on one machine, for `make run` and the test suite.

Starts, on loopback and free ports: etcd, kube-apiserver (RBAC, default admission plugins
including PodSecurity, service-account issuer and keys, an admin identity, an audit log of
writes), kube-controller-manager, kube-scheduler and kwok, which plays the kubelet for three
fake nodes so that pods get scheduled and turn Running.

Everything lives in one state folder (default: `.cluster/` at the repository root): PKI,
etcd data, one log per component, the PIDs it started and `kubeconfig` for the admin.

Each fake node offers 110 pods, 32 CPU and 256Gi of memory unless the environment of `up`
says otherwise: `FWOP_NODE_PODS`, `FWOP_NODE_CPU` and `FWOP_NODE_MEMORY` (Kubernetes
quantities, e.g. `FWOP_NODE_PODS=4000 FWOP_NODE_CPU=2000 FWOP_NODE_MEMORY=4Ti`), read when
the cluster starts (bench/scale.py sizes them for thousands of pods). The controller
manager and the scheduler talk to the API server at up to 200 requests/s (burst 400)
instead of their defaults (20/30 and 50/100), so thousands of pods are not throttled on the
client side; kwok has no client rate limit to raise.

    python3 cluster/localcluster.py up      # idempotent: a running cluster is left alone
    python3 cluster/localcluster.py down    # stops exactly the PIDs it started, removes state
    python3 cluster/localcluster.py status

Standard library only, so it runs before the project's virtualenv exists. It never touches
processes it did not start and never listens on anything but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_STATE = REPO / ".cluster"
SERVICE_CIDR = "10.96.0.0/16"
SERVICE_IP = "10.96.0.1"
# Three fake nodes: distinct zones, two regions (residency tests need both).
NODES = (
    ("fwop-node-a", "eu-west-1", "eu-west-1a"),
    ("fwop-node-b", "eu-west-1", "eu-west-1b"),
    ("fwop-node-c", "eu-central-1", "eu-central-1a"),
)
# What each fake node offers, and the variables of `up`'s environment that change it.
NODE_CAPACITY = {"pods": "110", "cpu": "32", "memory": "256Gi"}
NODE_CAPACITY_ENV = {"pods": "FWOP_NODE_PODS", "cpu": "FWOP_NODE_CPU", "memory": "FWOP_NODE_MEMORY"}
QUANTITY = re.compile(r"[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")
# Client-side rate limit of the controller manager and the scheduler (requests/s, burst).
COMPONENT_QPS = ("--kube-api-qps=200", "--kube-api-burst=400")
# Order matters: each component needs the ones before it.
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
# Files and folders `down` removes; anything else in the state folder (a nested instance,
# such as the test suite's) is left alone.
STATE_ENTRIES = ("pki", "etcd", "logs", "state.json", "kubeconfig", "kubeconfigs", "audit")


def log(msg: str) -> None:
    """Progress goes to stderr, so stdout stays machine-readable."""
    print(f"localcluster: {msg}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Binaries:
    """Where cluster/build.sh put the binaries and the kwok stages."""

    etcd: Path
    kwok: Path
    kubernetes: Path

    @classmethod
    def build(cls) -> Binaries:
        """Build or reuse the binaries (cluster/build.sh keeps them cached by version)."""
        out = subprocess.run(
            [str(REPO / "cluster" / "build.sh")],
            check=True,
            capture_output=False,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
        dirs = {}
        for line in out.splitlines():
            key, _, value = line.removeprefix("export FWOP_BIN_").partition("=")
            dirs[key.lower()] = Path(value)
        return cls(etcd=dirs["etcd"], kwok=dirs["kwok"], kubernetes=dirs["kubernetes"])

    def bin(self, name: str) -> str:
        """Path of one executable."""
        base = {"etcd": self.etcd, "kwok": self.kwok}.get(name, self.kubernetes)
        return str(base / "bin" / name)


def free_port() -> int:
    """A port nothing listens on right now (loopback only)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], bool], timeout: float, pids: dict[str, int]) -> None:
    """Poll `check` until it holds; fail early, naming the log, if a component died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, pid in pids.items():
            if not pid_alive(pid):
                raise RuntimeError(f"{name} exited while waiting for {what}; see its log")
        try:
            if check():
                return
        except (OSError, subprocess.CalledProcessError):
            pass  # not there yet
        time.sleep(0.2)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def pid_alive(pid: int) -> bool:
    """True if the process runs and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Cluster:
    """One local control plane instance rooted at a state folder."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.pki = state / "pki"
        self.logs = state / "logs"
        self.kubeconfig = state / "kubeconfig"
        self.state_file = state / "state.json"

    # ---- state -------------------------------------------------------------------------

    def load(self) -> dict[str, object]:
        """What a previous `up` recorded, or {}."""
        try:
            return dict(json.loads(self.state_file.read_text()))
        except (OSError, ValueError):
            return {}

    def running_pids(self) -> dict[str, int]:
        """Recorded PIDs that still run the binary we started."""
        recorded = self.load().get("pids", {})
        assert isinstance(recorded, dict)
        alive = {}
        for name, pid in recorded.items():
            try:
                exe = os.readlink(f"/proc/{pid}/exe")
            except OSError:
                continue
            # " (deleted)": the binary was replaced or its cache removed while it ran.
            if Path(exe.removesuffix(" (deleted)")).name == name:
                alive[name] = int(pid)
        return alive

    def is_up(self) -> bool:
        """Every component runs and the API server says it is ready."""
        if set(self.running_pids()) != set(COMPONENTS):
            return False
        try:
            return self.get("/readyz") == "ok"
        except OSError:
            return False

    # ---- talking to the API server -------------------------------------------------------

    def _ssl(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        ctx.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
        return ctx

    def get(self, path: str) -> str:
        """GET a path on the API server as the admin."""
        port = self.load()["ports"]["apiserver"]  # type: ignore[index]
        with urllib.request.urlopen(
            f"https://127.0.0.1:{port}{path}", context=self._ssl(), timeout=5
        ) as resp:
            return str(resp.read().decode())

    def kubectl(self, bins: Binaries, *args: str, stdin: str | None = None) -> str:
        """Run kubectl against this cluster as the admin."""
        return subprocess.run(
            [bins.bin("kubectl"), "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    # ---- up ------------------------------------------------------------------------------

    def up(self, bins: Binaries) -> None:
        """Start every component unless the cluster already runs."""
        if self.is_up():
            log(f"already up ({self.kubeconfig})")
            return
        capacity = node_capacity(os.environ)  # a bad value fails before anything starts
        if self.running_pids() or self.state_file.exists():
            log("found a stale or half-started cluster; stopping it first")
            self.down()
        started = time.monotonic()
        for sub in ("logs", "etcd", "kubeconfigs", "audit"):
            (self.state / sub).mkdir(parents=True, exist_ok=True)
        ports = {
            name: free_port()
            for name in (
                "etcd",
                "etcd_peer",
                "apiserver",
                "controller_manager",
                "scheduler",
                "kwok",
            )
        }
        self._save(ports=ports, pids={})
        self._pki()
        self._kubeconfigs(ports["apiserver"])
        pids: dict[str, int] = {}
        try:
            self._start_all(bins, ports, pids)
            self._nodes(bins, pids, capacity)
            self._addons(bins)
        except BaseException:
            log(
                "start-up failed; stopping what was started (logs stay in "
                f"{self.logs} until the next `up` or `down`)"
            )
            self._stop(pids)
            raise
        log(f"up in {time.monotonic() - started:.1f}s; KUBECONFIG={self.kubeconfig}")

    def _save(self, **fields: object) -> None:
        data = self.load() | fields
        self.state_file.write_text(json.dumps(data, indent=2))

    def _spawn(self, name: str, argv: list[str], pids: dict[str, int]) -> None:
        logfile = (self.logs / f"{name}.log").open("ab")
        # A new session: the cluster outlives `make cluster-up` and ignores its Ctrl-C.
        proc = subprocess.Popen(
            argv,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=self.state,
        )
        logfile.close()
        pids[name] = proc.pid
        argvs = dict(self.load().get("argv", {}))  # type: ignore[call-overload]
        argvs[name] = argv
        self._save(pids=pids, argv=argvs)

    def restart(self, component: str) -> None:
        """Stop one component and start it again as it was started (tests: watch gaps)."""
        pids = self.running_pids()
        argv = dict(self.load().get("argv", {})).get(component)  # type: ignore[call-overload]
        if component not in pids or not argv:
            raise RuntimeError(f"{component} does not run here; start the cluster first")
        self._stop({component: pids[component]})
        self._spawn(component, list(argv), pids)
        if component == "kube-apiserver":
            wait_for("kube-apiserver /readyz", lambda: self.get("/readyz") == "ok", 120, pids)
        log(f"{component} restarted (pid {pids[component]})")

    def _start_all(self, bins: Binaries, ports: dict[str, int], pids: dict[str, int]) -> None:
        p, k = self.pki, self.state / "kubeconfigs"
        etcd_url = f"http://127.0.0.1:{ports['etcd']}"
        peer_url = f"http://127.0.0.1:{ports['etcd_peer']}"
        self._spawn(
            "etcd",
            [
                bins.bin("etcd"),
                "--name=fwop",
                f"--data-dir={self.state / 'etcd'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=fwop={peer_url}",
                "--unsafe-no-fsync",
                "--log-level=warn",
                "--quota-backend-bytes=4294967296",
            ],
            pids,
        )
        wait_for(
            "etcd",
            lambda: (
                b'"health":"true"' in urllib.request.urlopen(f"{etcd_url}/health", timeout=2).read()
            ),
            60,
            pids,
        )

        audit_policy = self.state / "audit" / "policy.yaml"
        audit_policy.write_text(AUDIT_POLICY)
        self._spawn(
            "kube-apiserver",
            [
                bins.bin("kube-apiserver"),
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={ports['apiserver']}",
                f"--cert-dir={p}",
                f"--tls-cert-file={p / 'apiserver.crt'}",
                f"--tls-private-key-file={p / 'apiserver.key'}",
                f"--client-ca-file={p / 'ca.crt'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=RBAC",
                "--anonymous-auth=false",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={p / 'sa.pub'}",
                f"--service-account-signing-key-file={p / 'sa.key'}",
                f"--audit-policy-file={audit_policy}",
                f"--audit-log-path={self.state / 'audit' / 'audit.log'}",
                "--audit-log-maxsize=100",
                "--audit-log-maxbackup=1",
                "--profiling=false",
                "--endpoint-reconciler-type=none",
            ],
            pids,
        )
        wait_for("kube-apiserver /readyz", lambda: self.get("/readyz") == "ok", 120, pids)

        common = ["--bind-address=127.0.0.1", "--leader-elect=false", "--profiling=false"]
        self._spawn(
            "kube-controller-manager",
            [
                bins.bin("kube-controller-manager"),
                *common,
                f"--secure-port={ports['controller_manager']}",
                *self._component_kubeconfigs(k / "controller-manager.kubeconfig"),
                f"--service-account-private-key-file={p / 'sa.key'}",
                f"--root-ca-file={p / 'ca.crt'}",
                "--use-service-account-credentials=true",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                # Fake nodes never host real load: react to node changes quickly.
                "--node-monitor-grace-period=40s",
                "--concurrent-gc-syncs=20",
                *COMPONENT_QPS,
            ],
            pids,
        )
        self._spawn(
            "kube-scheduler",
            [
                bins.bin("kube-scheduler"),
                *common,
                f"--secure-port={ports['scheduler']}",
                *self._component_kubeconfigs(k / "scheduler.kubeconfig"),
                *COMPONENT_QPS,
            ],
            pids,
        )
        stages = sorted((bins.kwok / "stages").glob("*.yaml"))
        self._spawn(
            "kwok",
            [
                bins.bin("kwok"),
                f"--kubeconfig={k / 'kwok.kubeconfig'}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-label-selector=type=kwok",
                f"--server-address=127.0.0.1:{ports['kwok']}",
                "--node-ip=127.0.0.1",
                "--cidr=10.244.0.0/16",
                "--node-lease-duration-seconds=40",
                *(f"--config={s}" for s in stages),
            ],
            pids,
        )

    @staticmethod
    def _component_kubeconfigs(path: Path) -> list[str]:
        return [
            f"--kubeconfig={path}",
            f"--authentication-kubeconfig={path}",
            f"--authorization-kubeconfig={path}",
        ]

    def _nodes(self, bins: Binaries, pids: dict[str, int], capacity: dict[str, str]) -> None:
        self.kubectl(
            bins,
            "apply",
            "--server-side",
            "--field-manager=localcluster",
            "-f",
            "-",
            stdin=nodes_yaml(capacity),
        )
        names = [n for n, _, _ in NODES]

        def ready() -> bool:
            out = self.kubectl(
                bins,
                "get",
                "nodes",
                *names,
                "-o",
                'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status} {end}',
            )
            return out.split() == ["True"] * len(names)

        wait_for("3 Ready nodes", ready, 90, pids)
        # Pods need the namespace's default ServiceAccount; wait for the controller to make it.
        wait_for(
            "the default ServiceAccount",
            lambda: bool(self.kubectl(bins, "get", "serviceaccount", "default", "-o", "name")),
            60,
            pids,
        )

    def _addons(self, bins: Binaries) -> None:
        """CRDs the operator writes to (cluster/crds/), and storage for claims.

        The storage is a pool of static volumes behind a default StorageClass
        (cluster/storage.yaml).
        """
        crds = str(REPO / "cluster" / "crds")
        self.kubectl(bins, "apply", "--server-side", "--field-manager=localcluster", "-f", crds)
        self.kubectl(bins, "wait", "--for=condition=Established", "--timeout=60s", "-f", crds)
        storage = str(REPO / "cluster" / "storage.yaml")
        self.kubectl(bins, "apply", "--server-side", "--field-manager=localcluster", "-f", storage)

    # ---- PKI -----------------------------------------------------------------------------

    def _pki(self) -> None:
        """A CA, the API server's serving cert, client certs per identity, SA keys."""
        self.pki.mkdir(parents=True, exist_ok=True)
        p = self.pki
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", p / "ca.key")
        openssl(
            "req",
            "-x509",
            "-new",
            "-key",
            p / "ca.key",
            "-sha256",
            "-days",
            "3650",
            "-subj",
            "/CN=fwop-local-ca",
            "-out",
            p / "ca.crt",
        )
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", p / "sa.key")
        openssl("ec", "-in", p / "sa.key", "-pubout", "-out", p / "sa.pub")
        sans = (
            "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,"
            f"DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:{SERVICE_IP}"
        )
        self._cert("apiserver", "/CN=kube-apiserver", sans, "serverAuth")
        for name, subject in IDENTITIES.items():
            self._cert(name, subject, None, "clientAuth")

    def _cert(self, name: str, subject: str, sans: str | None, usage: str) -> None:
        p = self.pki
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", p / f"{name}.key")
        openssl(
            "req", "-new", "-key", p / f"{name}.key", "-subj", subject, "-out", p / f"{name}.csr"
        )
        ext = p / f"{name}.ext"
        ext.write_text(
            "\n".join(
                filter(
                    None,
                    [
                        "basicConstraints=CA:FALSE",
                        "keyUsage=critical,digitalSignature,keyEncipherment",
                        f"extendedKeyUsage={usage}",
                        sans,
                    ],
                )
            )
            + "\n"
        )
        openssl(
            "x509",
            "-req",
            "-in",
            p / f"{name}.csr",
            "-CA",
            p / "ca.crt",
            "-CAkey",
            p / "ca.key",
            "-CAcreateserial",
            "-days",
            "3650",
            "-sha256",
            "-extfile",
            ext,
            "-out",
            p / f"{name}.crt",
        )

    def _kubeconfigs(self, port: int) -> None:
        server = f"https://127.0.0.1:{port}"
        write_kubeconfig(self.kubeconfig, server, self.pki, "admin", "fwop-local")
        for name in ("controller-manager", "scheduler", "kwok"):
            write_kubeconfig(
                self.state / "kubeconfigs" / f"{name}.kubeconfig",
                server,
                self.pki,
                name,
                "fwop-local",
            )

    # ---- down ----------------------------------------------------------------------------

    def down(self) -> None:
        """Stop the PIDs this instance started (newest first) and remove its state."""
        self._stop(self.running_pids())
        for entry in STATE_ENTRIES:
            target = self.state / entry
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        log(f"down; removed state in {self.state}")

    @staticmethod
    def _stop(pids: dict[str, int]) -> None:
        """Stop components newest first, each fully before the next (clients before servers)."""
        for name in [c for c in reversed(COMPONENTS) if c in pids]:
            pid = pids[name]
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if pid_alive(pid):
                log(f"{name} (pid {pid}) still runs 10s after SIGTERM; killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):  # reap it if it is our child
                os.waitpid(pid, os.WNOHANG)


# Identities: the admin (and kwok, which writes node and pod status) in system:masters; the
# controller manager and scheduler under the users that bootstrap RBAC already grants.
IDENTITIES = {
    "admin": "/O=system:masters/CN=fwop-admin",
    "kwok": "/O=system:masters/CN=kwok",
    "controller-manager": "/CN=system:kube-controller-manager",
    "scheduler": "/CN=system:kube-scheduler",
}

# Record every write (not reads) with its user and object: tests count API writes with it.
AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  verbs: [create, update, patch, delete, deletecollection]
- level: None
"""


def openssl(*args: object) -> None:
    """Run openssl quietly; its stderr is shown only when it fails."""
    proc = subprocess.run(["openssl", *map(str, args)], check=False, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"openssl {args[0]} failed: {proc.stderr.strip()}")


def write_kubeconfig(path: Path, server: str, pki: Path, user: str, name: str) -> None:
    """A kubeconfig with file references (JSON is valid YAML)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": name,
        "clusters": [
            {
                "name": name,
                "cluster": {"server": server, "certificate-authority": str(pki / "ca.crt")},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate": str(pki / f"{user}.crt"),
                    "client-key": str(pki / f"{user}.key"),
                },
            }
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": user}}],
    }
    path.write_text(json.dumps(config, indent=2))
    path.chmod(0o600)


def node_capacity(env: Mapping[str, str]) -> dict[str, str]:
    """Each node's pods, cpu and memory: NODE_CAPACITY, overridden by FWOP_NODE_* variables."""
    capacity = {}
    for resource, default in NODE_CAPACITY.items():
        variable = NODE_CAPACITY_ENV[resource]
        value = env.get(variable, "").strip() or default
        valid = value.isdigit() if resource == "pods" else QUANTITY.fullmatch(value)
        if not valid:
            kind = "a whole number" if resource == "pods" else "a Kubernetes quantity"
            raise RuntimeError(f"{variable}={value!r} is not {kind}")
        capacity[resource] = value
    return capacity


def nodes_yaml(capacity: Mapping[str, str] | None = None) -> str:
    """Node objects for kwok to manage (it selects them by the label type=kwok)."""
    resources = dict(capacity or NODE_CAPACITY)
    docs = []
    for name, region, zone in NODES:
        docs.append(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": name,
                        "annotations": {
                            "kwok.x-k8s.io/node": "fake",
                            "node.alpha.kubernetes.io/ttl": "0",
                        },
                        "labels": {
                            "type": "kwok",
                            "kubernetes.io/hostname": name,
                            "kubernetes.io/os": "linux",
                            "kubernetes.io/arch": "amd64",
                            "kubernetes.io/role": "agent",
                            "topology.kubernetes.io/region": region,
                            "topology.kubernetes.io/zone": zone,
                        },
                    },
                    "status": {"allocatable": resources, "capacity": resources},
                }
            )
        )
    return "\n---\n".join(docs)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "status", "build", "restart"])
    parser.add_argument("--component", choices=COMPONENTS, help="for restart")
    parser.add_argument(
        "--state-dir", type=Path, default=Path(os.environ.get("FWOP_CLUSTER_DIR", DEFAULT_STATE))
    )
    args = parser.parse_args(argv)
    cluster = Cluster(args.state_dir.resolve())
    try:
        if args.command == "build":
            Binaries.build()
        elif args.command == "up":
            cluster.up(Binaries.build())
        elif args.command == "down":
            cluster.down()
        elif args.command == "restart":
            cluster.restart(args.component or "kube-apiserver")
        else:
            up = cluster.is_up()
            print(
                json.dumps(
                    {
                        "up": up,
                        "kubeconfig": str(cluster.kubeconfig),
                        "pids": cluster.running_pids(),
                        "logs": str(cluster.logs),
                    }
                )
            )
            return 0 if up else 1
    except (RuntimeError, TimeoutError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", None) or ""
        log(f"error: {exc} {detail}".strip())
        log(f"component logs: {cluster.logs}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
