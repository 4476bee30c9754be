"""Benchmark (issue 11): the operator with thousands of workloads, against a floor.

    make bench-scale N="100 1000 10000"     # default N="100 1000"
    .venv/bin/python bench/scale.py 100 1000

Needs the local control plane (KUBECONFIG is ignored): the figures come from the API
server's audit log and from the operator's /proc entries. Each N runs on a fresh cluster in
.cluster/scale whose three kwok nodes are sized (FWOP_NODE_PODS, FWOP_NODE_CPU,
FWOP_NODE_MEMORY, unless already set) so that N pods of the example schedule and run.
The workload is examples/batch-reconciliation.yaml, as a Deployment of one pod (its
spec.job dropped), copied N times (batch-0..N-1 spread over 10 namespaces), under the
policy bench/harness.py installs (tests/cluster/policy.yaml).

1. Floor: with no operator running, the N workloads are created in namespaces floor-0..9,
   then their children as `fwctl render` renders them (fwop.render.workload.render_all,
   owned by those workloads so the garbage collector keeps them) are server-side applied
   straight to the API server by 16 threads, one workload's children in order per thread,
   the namespace labels once per namespace. Timed from the first apply: until every apply
   has answered, and until every Deployment is available (the test of the operator's Ready
   condition, fwop.reconcile.status.deployment_available). The floor namespaces are then
   deleted, and gone, before the operator starts.
2. Operator: `fwop-operator` as bench/harness.py runs it (admin credentials; no admission
   webhook: the harness registers none), with a resync period of 3600 s and /metrics on a
   loopback port. 16 threads server-side apply the N workloads into namespaces scale-0..9,
   as an app team would. Timed from the first apply (creation included): until every
   workload shows Reconciled=True at its generation, and until every one shows Ready=True
   (a watch records when each first does). Ratios: Reconciled against the floor's applied,
   Ready against the floor's available. Reconcile passes and their p50/p99 duration come
   from the operator's histogram fwop_reconcile_duration_seconds (the difference of two
   scrapes of /metrics), interpolated linearly within a bucket as Prometheus'
   histogram_quantile does. Writes per workload by resource (and subresource): audit log
   entries whose user agent starts with fwop/, response code < 400, divided by N. The
   operator's RSS at the end (VmRSS) and its peak (VmHWM), and its CPU time.
3. After the last N only. Idle: 60 s with nothing changing: the operator's writes and CPU
   (utime + stime, as % of one core). Restart: the operator is stopped and started again
   with everything in place: time from its start to its first reconcile pass
   (fwop_reconciles_total above 0), time until it has completed N passes (results ok or
   invalid; a workload judged twice counts twice, so this bounds "every workload judged"
   from below; the passes over the whole window are printed too), and its writes from the
   restart until 60 s after it, or 10 s after the N-th pass when that comes later (0 when
   nothing changed). Memory: the operator started once more with FWOP_TRACEMALLOC=1; once
   it has completed N passes, SIGUSR1 makes it log where its traced heap lies, by module
   and by source line (fwop.memory), printed with the traced total per workload.

Prints a table per N and the idle and restart lines, and writes every figure to
build/bench-scale.json. Waits time out after 120 s + 0.25 s per workload; a timeout is
reported with the counts reached, not raised. No figure is asserted. Operator logs stay in
.cluster/scale/operator-<N>*.log.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import datetime
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes import client, config
from kubernetes.watch.watch import iter_resp_lines

import harness
from fwop.api import policy as policy_api
from fwop.api import quantity
from fwop.api import workload as workload_api
from fwop.kube import api as kube_api
from fwop.kube import kinds
from fwop.reconcile import status as status_core
from fwop.render import meta
from fwop.render import workload as render

EXAMPLE = harness.REPO / "examples" / "batch-reconciliation.yaml"
POLICY = harness.REPO / "tests" / "cluster" / "policy.yaml"  # what harness.install applies
OUTPUT = harness.REPO / "build" / "bench-scale.json"
STATE = "scale"  # the cluster lives in .cluster/scale
NAMESPACES = 10
THREADS = 16
QUIET_SECONDS = 60.0  # idle, and the restart's window
PUBLISH_POLL = 0.5  # seconds between looks at the operator's PolicyReport backlog
APP_TEAM = "app-team"  # field manager of the workloads, as `kubectl apply --server-side`
MANAGED = f"{meta.LABEL_MANAGED_BY}={meta.MANAGED_BY}"
APPLY = "application/apply-patch+yaml"
RETRIED = frozenset({409, 429, 500, 502, 503, 504})
Test = Callable[[dict[str, Any]], bool]


def budget(n: int) -> float:
    """Seconds one wait may take with n workloads."""
    return 120 + 0.25 * n


def say(message: str) -> None:
    """Progress on stderr; stdout holds the figures."""
    stamp = datetime.datetime.now().strftime("%H:%M:%S")
    print(f"scale {stamp} {message}", file=sys.stderr, flush=True)


# ---- the API, from threads -------------------------------------------------------------------


class Api:
    """Plain JSON requests through one kubernetes client, shared by the threads."""

    def __init__(self, kubeconfig: Path) -> None:
        configuration = client.Configuration()
        config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
        configuration.connection_pool_maxsize = 2 * THREADS  # the threads and the watches
        self.client = client.ApiClient(configuration)
        self.retries = 0

    def call(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        content_type: str | None = None,
        stream: bool = False,
    ) -> Any:
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        request = self.client.param_serialize(
            method,
            path,
            query_params=list(query),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = self.client.call_api(*request, _request_timeout=(10, 120))
        if stream and response.status < 400:
            return response.response  # the urllib3 response, unread
        data = response.read()
        if response.status >= 400:
            raise client.ApiException(status=response.status, reason=data.decode()[:300])
        return json.loads(data)

    def apply(self, manifest: dict[str, Any], manager: str, *, force: bool) -> dict[str, Any]:
        """Server-side apply; a conflict, throttling or server error is retried (and counted)."""
        metadata = manifest["metadata"]
        path = kinds.of(manifest).path(metadata.get("namespace"), metadata["name"])
        query = [("fieldManager", manager), ("force", "true" if force else "false")]
        for attempt in range(5):
            try:
                found: dict[str, Any] = self.call(
                    "PATCH", path, query=query, body=manifest, content_type=APPLY
                )
                return found
            except client.ApiException as exc:
                if exc.status not in RETRIED or attempt == 4:
                    raise
                self.retries += 1
                time.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")

    def exists(self, path: str) -> bool:
        try:
            self.call("GET", path)
        except client.ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True


def in_parallel(work: Callable[[Any], Any], items: Sequence[Any]) -> tuple[float, list[Any]]:
    """`work` over `items` by THREADS threads: the wall time, and the results in order."""
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(work, items))
    return time.monotonic() - start, results


class Tracker:
    """Watches one collection cluster-wide; records when each object first passes each test."""

    def __init__(self, api: Api, path: str, tests: dict[str, Test], selector: str = "") -> None:
        self.api, self.path, self.tests = api, path, tests
        self.selector = [("labelSelector", selector)] if selector else []
        self.reached: dict[str, dict[str, float]] = {name: {} for name in tests}
        self.listed = threading.Event()
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name=f"watch {path}", daemon=True)

    def start(self) -> None:
        self.thread.start()
        if not self.listed.wait(60):
            raise TimeoutError(f"could not list {self.path}")

    def stop(self) -> None:
        """End the thread: at its next event, or when its watch times out (10 s)."""
        self.stopped.set()
        self.thread.join(20)

    def count(self, test: str) -> int:
        with self.lock:
            return len(self.reached[test])

    def last(self, test: str) -> float:
        with self.lock:
            return max(self.reached[test].values())

    def wait(self, test: str, count: int, deadline: float) -> bool:
        while self.count(test) < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        return True

    def _see(self, obj: dict[str, Any]) -> None:
        now = time.monotonic()
        key = f"{obj['metadata'].get('namespace')}/{obj['metadata']['name']}"
        with self.lock:
            for name, test in self.tests.items():
                if key not in self.reached[name] and test(obj):
                    self.reached[name][key] = now

    def _run(self) -> None:
        version: str | None = None
        while not self.stopped.is_set():
            try:
                version = self._watch(version or self._list())
            except (client.ApiException, urllib3.exceptions.HTTPError, OSError, ValueError):
                version = None
                time.sleep(1)

    def _list(self) -> str:
        token = ""
        while True:
            query = [("limit", "500"), *self.selector, *([("continue", token)] if token else [])]
            page = self.api.call("GET", self.path, query=query)
            for item in page["items"]:
                self._see(item)
            token = page["metadata"].get("continue", "")
            if not token:
                self.listed.set()
                return str(page["metadata"]["resourceVersion"])

    def _watch(self, version: str) -> str | None:
        """Follows the watch from `version`; returns where it ended (None: list again)."""
        query = [
            ("watch", "true"),
            ("resourceVersion", version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", "10"),  # bounds how long stop() waits
            *self.selector,
        ]
        stream = self.api.call("GET", self.path, query=query, stream=True)
        try:
            for line in iter_resp_lines(stream):
                event = json.loads(line)
                if self.stopped.is_set() or event["type"] == "ERROR":  # ERROR: expired
                    return None
                version = str(event["object"]["metadata"]["resourceVersion"])
                if event["type"] in ("ADDED", "MODIFIED"):
                    self._see(event["object"])
        finally:
            stream.close()
            stream.release_conn()
        return version


def condition_true(kind: str) -> Test:
    """Whether a workload shows condition `kind` True at its current generation."""

    def test(obj: dict[str, Any]) -> bool:
        generation = obj["metadata"].get("generation")
        status = obj.get("status") or {}
        return status.get("observedGeneration") == generation and any(
            c.get("type") == kind
            and c.get("status") == "True"
            and c.get("observedGeneration", generation) == generation
            for c in status.get("conditions", [])
        )

    return test


def available(obj: dict[str, Any]) -> bool:
    return status_core.deployment_available(obj)[0]


# ---- what the operator says about itself ---------------------------------------------------


class Audit:
    """Follows the API server's audit log, across rotations, keeping the operator's writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[tuple[float, str, int]] = []  # time, resource[/subresource], code
        self.read_until = 0.0  # wall time up to which everything written has been read
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="audit", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(5)

    def sync(self, until: float) -> None:
        """Wait until everything the log held at wall time `until` has been read."""
        deadline = time.monotonic() + 120
        while self.read_until < until and time.monotonic() < deadline:
            time.sleep(0.1)

    def writes(self, start: float, end: float) -> tuple[collections.Counter[str], dict[int, int]]:
        """The operator's successful writes by resource between two wall times, and refusals."""
        with self.lock:
            window = [(kind, code) for t, kind, code in self.entries if start <= t < end]
        done = collections.Counter(kind for kind, code in window if code < 400)
        refused = collections.Counter(code for _, code in window if code >= 400)
        return done, dict(sorted(refused.items()))

    def _run(self) -> None:
        handle = None
        pending = b""
        while not self.stopped.is_set():
            if handle is None:
                try:
                    handle = self.path.open("rb")
                except FileNotFoundError:
                    time.sleep(0.2)
                    continue
            checked = time.time()
            chunk = handle.read(1 << 20)
            if chunk:
                *lines, pending = (pending + chunk).split(b"\n")
                self._take(lines)
            elif self._rotated(handle):  # read to its end: go on with the new file
                handle.close()
                handle, pending = None, b""
            else:
                self.read_until = checked
                time.sleep(0.1)
        if handle is not None:
            handle.close()

    def _rotated(self, handle: Any) -> bool:
        try:
            return os.stat(self.path).st_ino != os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:  # between the rename and the new file
            return False

    def _take(self, lines: list[bytes]) -> None:
        found = []
        for line in lines:
            if b'"userAgent":"fwop/' not in line:
                continue
            entry = json.loads(line)
            if entry.get("stage") != "ResponseComplete":
                continue
            ref = entry.get("objectRef", {})
            kind = "/".join(filter(None, (ref.get("resource", "?"), ref.get("subresource"))))
            when = datetime.datetime.fromisoformat(entry["requestReceivedTimestamp"])
            code = int(entry.get("responseStatus", {}).get("code", 0))
            found.append((when.timestamp(), kind, code))
        with self.lock:
            self.entries.extend(found)


def scrape(port: int) -> dict[str, float]:
    """The operator's /metrics: sample (name with labels) -> value."""
    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def passes(after: dict[str, float], before: dict[str, float]) -> dict[str, int]:
    """Reconcile passes by result between two scrapes."""
    prefix = 'fwop_reconciles_total{result="'
    return {
        name.removeprefix(prefix).removesuffix('"}'): round(value - before.get(name, 0.0))
        for name, value in after.items()
        if name.startswith(prefix)
    }


def completed(samples: dict[str, float]) -> int:
    """Passes that judged their workload to the end (results ok and invalid)."""
    found = passes(samples, {})
    return found.get("ok", 0) + found.get("invalid", 0)


def durations(after: dict[str, float], before: dict[str, float]) -> dict[str, float | None]:
    """p50 and p99 of the reconcile passes between two scrapes, from the histogram."""
    prefix = 'fwop_reconcile_duration_seconds_bucket{le="'
    buckets = sorted(
        (float(name.removeprefix(prefix).removesuffix('"}')), value - before.get(name, 0.0))
        for name, value in after.items()
        if name.startswith(prefix)
    )
    return {"p50_s": bucket_quantile(buckets, 0.5), "p99_s": bucket_quantile(buckets, 0.99)}


def bucket_quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """As Prometheus' histogram_quantile: linear within the bucket that holds rank q * count.

    In the +Inf bucket the answer is the largest finite bound (the figure is then "more than").
    """
    total = buckets[-1][1] if buckets else 0.0
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower


def memory_mib(pid: int) -> dict[str, float]:
    """The process's resident set now (VmRSS) and at its peak (VmHWM), in MiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return {
        "rss_mib": int(fields["VmRSS"].split()[0]) / 1024,
        "peak_rss_mib": int(fields["VmHWM"].split()[0]) / 1024,
    }


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the operator exited ({proc.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise TimeoutError(f"the operator is not ready after 120 s; see {log}")


# ---- the workloads ---------------------------------------------------------------------------


def example() -> dict[str, Any]:
    """The batch example as a long-running workload: a Deployment of one pod, as the
    figures have measured since issue 11 (its schedule would leave nothing to wait for)."""
    docs = yaml.safe_load_all(EXAMPLE.read_text())
    found: dict[str, Any] = next(d for d in docs if d and d["kind"] == "FinancialWorkload")
    found["spec"].pop("job", None)
    found["spec"]["replicas"] = 1
    return found


def placements(n: int, prefix: str) -> list[tuple[str, str]]:
    """(namespace, name) of workload i: batch-i in <prefix>-(i mod 10)."""
    return [(f"{prefix}-{i % NAMESPACES}", f"batch-{i}") for i in range(n)]


def create_namespaces(api: Api, prefix: str) -> None:
    for i in range(NAMESPACES):
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"{prefix}-{i}"}}
        api.apply(ns, APP_TEAM, force=False)


def create_workloads(
    api: Api, doc: dict[str, Any], where: list[tuple[str, str]]
) -> tuple[float, list[str]]:
    """Apply the copies by THREADS threads; the wall time and the workloads' uids."""

    def create(place: tuple[str, str]) -> str:
        body = {**doc, "metadata": {"name": place[1], "namespace": place[0]}}
        return str(api.apply(body, APP_TEAM, force=False)["metadata"]["uid"])

    return in_parallel(create, where)


def size_nodes(max_n: int, doc: dict[str, Any]) -> dict[str, str]:
    """Node capacity for max_n copies of `doc`: any one node could hold every pod."""
    pods = max_n * int(doc["spec"].get("replicas", 1))
    requests = doc["spec"]["resources"]["requests"]
    cpu = quantity.value(str(requests["cpu"])) * pods
    memory = quantity.value(str(requests["memory"])) * pods
    wanted = {
        "FWOP_NODE_PODS": str(pods + 110),
        "FWOP_NODE_CPU": str(math.ceil(cpu) + 32),
        "FWOP_NODE_MEMORY": f"{math.ceil(memory / 2**30) + 256}Gi",
    }
    for variable, value in wanted.items():
        os.environ.setdefault(variable, value)  # the caller's own values win
    return {variable: os.environ[variable] for variable in wanted}


# ---- the phases ------------------------------------------------------------------------------


def floor_units(
    doc: dict[str, Any], where: list[tuple[str, str]], uids: list[str]
) -> list[list[dict[str, Any]]]:
    """Each workload's children in apply order; a namespace's labels only with its first."""
    spec = workload_api.parse(doc).spec
    policy = yaml.safe_load(POLICY.read_text())["spec"]
    version = policy.get("podSecurityVersion", policy_api.DEFAULT_POD_SECURITY_VERSION)
    labelled: set[str] = set()
    units = []
    for (namespace, name), uid in zip(where, uids, strict=True):
        owner = meta.OwnerRef(name=name, uid=uid)
        children = render.render_all(namespace, name, spec, owner, pod_security_version=version)
        units.append([c for c in children if c["kind"] != "Namespace" or namespace not in labelled])
        labelled.add(namespace)
    return units


def measure_floor(api: Api, doc: dict[str, Any], n: int) -> dict[str, Any]:
    """The rendered children applied straight to the API server, no operator running."""
    where = placements(n, "floor")
    create_namespaces(api, "floor")
    say(f"N={n} floor: creating {n} workloads (not timed)")
    _, uids = create_workloads(api, doc, where)
    units = floor_units(doc, where, uids)
    tracker = Tracker(api, "/apis/apps/v1/deployments", {"available": available}, MANAGED)
    tracker.start()
    say(f"N={n} floor: applying {sum(map(len, units))} children by {THREADS} threads")
    retries = api.retries
    start = time.monotonic()
    applied_s, _ = in_parallel(
        lambda unit: [api.apply(m, kube_api.FIELD_MANAGER, force=True) for m in unit], units
    )
    done = tracker.wait("available", n, start + budget(n))
    tracker.stop()
    result = {
        "applies": sum(map(len, units)),
        "applied_s": applied_s,
        "available_s": tracker.last("available") - start if done else None,
        "available": tracker.count("available"),
        "retries": api.retries - retries,
    }
    say(f"N={n} floor: removing its namespaces")
    started = time.monotonic()
    remove_namespaces(api, "floor", budget(n))
    result["cleanup_s"] = time.monotonic() - started
    return result


def remove_namespaces(api: Api, prefix: str, timeout: float) -> None:
    names = [f"{prefix}-{i}" for i in range(NAMESPACES)]
    for name in names:
        api.call("DELETE", kinds.NAMESPACE.path(None, name))
    deadline = time.monotonic() + timeout
    while any(api.exists(kinds.NAMESPACE.path(None, name)) for name in names):
        if time.monotonic() > deadline:
            raise TimeoutError(f"namespaces {prefix}-* still there after {timeout:.0f} s")
        time.sleep(1)


def measure_operator(
    api: Api, audit: Audit, doc: dict[str, Any], n: int, *, port: int, pid: int
) -> dict[str, Any]:
    """The same N workloads applied by an app team, with the operator running."""
    tests = {kind: condition_true(kind) for kind in ("Reconciled", "Ready")}
    tracker = Tracker(api, kinds.WORKLOAD.path(), tests)
    tracker.start()
    before, cpu_before, retries = scrape(port), cpu_seconds(pid), api.retries
    wall, start = time.time(), time.monotonic()
    say(f"N={n} operator: applying {n} workloads by {THREADS} threads")
    create_s, _ = create_workloads(api, doc, placements(n, "scale"))
    deadline = start + budget(n)
    times: dict[str, float | None] = {}
    for kind in ("Reconciled", "Ready"):
        done = tracker.wait(kind, n, deadline)
        times[kind] = tracker.last(kind) - start if done else None
        say(f"N={n} operator: {tracker.count(kind)} of {n} {kind}")
    tracker.stop()
    evidence_s = wait_published(port, deadline)
    evidence_s = None if evidence_s is None else evidence_s - start
    say(f"N={n} operator: every PolicyReport written" if evidence_s else "reports: timeout")
    time.sleep(2)  # the last writes reach the audit log
    end = time.time()
    audit.sync(end)
    after = scrape(port)
    writes, refused = audit.writes(wall, end)
    return {
        "create_s": create_s,
        "retries": api.retries - retries,
        "reconciled_s": times["Reconciled"],
        "reconciled": tracker.count("Reconciled"),
        "ready_s": times["Ready"],
        "ready": tracker.count("Ready"),
        "evidence_s": evidence_s,
        "passes": passes(after, before),
        **durations(after, before),
        "writes_per_workload": {k: v / n for k, v in sorted(writes.items())},
        "writes_total": sum(writes.values()),
        "writes_refused": refused,
        "cpu_s": cpu_seconds(pid) - cpu_before,
        **memory_mib(pid),
    }


def wait_published(port: int, deadline: float) -> float | None:
    """When the operator's publisher has written every PolicyReport (its backlog is 0).

    Reports are written behind the reconciles (decision 31): the creation's writes end
    here, and the idle window starts after it.
    """
    time.sleep(2 * PUBLISH_POLL)  # a pass just ended may still queue its report
    while time.monotonic() < deadline:
        if scrape(port).get("fwop_policyreports_pending", 0.0) == 0.0:
            return time.monotonic()
        time.sleep(PUBLISH_POLL)
    return None


def measure_idle(audit: Audit, port: int, pid: int) -> dict[str, Any]:
    """QUIET_SECONDS with nothing changing: the operator's writes and CPU."""
    say(f"idle: {QUIET_SECONDS:.0f} s")
    before, cpu_before = scrape(port), cpu_seconds(pid)
    wall, start = time.time(), time.monotonic()
    time.sleep(QUIET_SECONDS)
    cpu = cpu_seconds(pid) - cpu_before
    elapsed = time.monotonic() - start
    end = time.time()
    audit.sync(end)
    writes, refused = audit.writes(wall, end)
    return {
        "seconds": elapsed,
        "writes": sum(writes.values()),
        "writes_by_kind": dict(writes),
        "writes_refused": refused,
        "cpu_percent": 100 * cpu / elapsed,
        "passes": passes(scrape(port), before),
        **memory_mib(pid),
    }


def measure_restart(
    c: harness.Cluster, audit: Audit, n: int, port: int, env: dict[str, str]
) -> dict[str, Any]:
    """The operator started again with every workload in place."""
    assert c.state is not None
    log = c.state / f"operator-{n}-restart.log"
    say("restart: starting the operator again")
    wall, start = time.time(), time.monotonic()
    with harness.operator(c, log, env) as proc:
        assert proc is not None
        first, judged = judge_times(port, proc, n, start, log)
        window = max(QUIET_SECONDS, (judged or 0.0) + 10)
        time.sleep(max(0.0, start + window - time.monotonic()))
        end = time.time()
        audit.sync(end)
        writes, refused = audit.writes(wall, end)
        samples = scrape(port)
        return {
            "first_pass_s": first,
            "n_passes_s": judged,
            "window_s": window,
            "writes": sum(writes.values()),
            "writes_by_kind": dict(writes),
            "writes_refused": refused,
            "passes": passes(samples, {}),
            "cpu_s": cpu_seconds(proc.pid),
            **memory_mib(proc.pid),
        }


def judge_times(
    port: int, proc: subprocess.Popen[bytes], n: int, start: float, log: Path
) -> tuple[float | None, float | None]:
    """Seconds from `start` to the first pass, and to N completed passes (None: not seen)."""
    first = None
    deadline = start + budget(n)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the operator exited ({proc.returncode}); see {log}")
        try:
            samples = scrape(port)
        except (urllib.error.URLError, OSError):  # not listening yet
            time.sleep(0.1)
            continue
        now = time.monotonic() - start
        if first is None and sum(passes(samples, {}).values()) > 0:
            first = now
        if completed(samples) >= n:
            return first, now
        time.sleep(0.1)
    return first, None


def measure_memory(c: harness.Cluster, n: int, port: int, env: dict[str, str]) -> dict[str, Any]:
    """Where the memory goes: the operator once more with FWOP_TRACEMALLOC=1 (fwop.memory);
    once it has judged every workload, SIGUSR1 makes it log a breakdown. Not timed: tracing
    slows it and adds its own memory (the RSS here is not the operator's RSS)."""
    assert c.state is not None
    log = c.state / f"operator-{n}-memory.log"
    say("memory: the operator again, tracing allocations")
    traced = {**env, "FWOP_TRACEMALLOC": "1", "FWOP_LOG_LEVEL": "INFO"}
    with harness.operator(c, log, traced) as proc:
        assert proc is not None
        _, judged = judge_times(port, proc, n, time.monotonic(), log)
        time.sleep(5)  # the last status writes and their echoes
        proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 60 + 0.03 * n  # the traced snapshot of 10,000: ~90 s
        while time.monotonic() < deadline:
            for line in log.read_text(errors="replace").splitlines():
                if line.startswith("{") and '"event": "memory"' in line:
                    breakdown = json.loads(line)
                    return {
                        "judged": judged is not None,
                        "traced_mib": breakdown["traced_mib"],
                        "traced_kib_per_workload": round(1024 * breakdown["traced_mib"] / n, 1),
                        "held_mib": breakdown.get("held_mib", {}),
                        "by_module": breakdown["by_module"],
                        "by_line": breakdown["by_line"],
                    }
            time.sleep(0.5)
    return {"judged": judged is not None, "traced_mib": None}


def measure_n(doc: dict[str, Any], n: int, last: bool) -> dict[str, Any]:
    """One N on a fresh cluster: floor, operator; after the last N also idle and restart."""
    state = harness.REPO / ".cluster" / STATE
    subprocess.run([*harness.LOCALCLUSTER, "down", "--state-dir", str(state)], check=False)
    with harness.cluster(STATE) as c:
        assert c.state is not None
        harness.install(c)
        api = Api(c.kubeconfig)
        audit = Audit(c.state / "audit" / "audit.log")
        try:
            run: dict[str, Any] = {"n": n, "floor": measure_floor(api, doc, n)}
            create_namespaces(api, "scale")
            port = harness.free_port()
            env = {
                "FWOP_HTTP_PORT": str(port),
                "FWOP_HTTP_ADDR": "127.0.0.1",
                "FWOP_RESYNC_SECONDS": "3600",  # --resync-seconds 3600
            }
            log = c.state / f"operator-{n}.log"
            with harness.operator(c, log, env) as proc:
                assert proc is not None
                wait_ready(port, proc, log)
                run["operator"] = measure_operator(api, audit, doc, n, port=port, pid=proc.pid)
                if last:
                    run["idle"] = measure_idle(audit, port, proc.pid)
                stopping = time.monotonic()
            if last:
                run["stop_s"] = time.monotonic() - stopping
                run["restart"] = measure_restart(c, audit, n, port, env)
                run["memory"] = measure_memory(c, n, port, env)
        finally:
            audit.stop()
            api.client.close()
    return run


# ---- the report ------------------------------------------------------------------------------


def seconds(value: float | None, reached: int | None = None, n: int = 0) -> str:
    if value is not None:
        return f"{value:.1f} s"
    return f"timeout ({reached}/{n})" if reached is not None else "-"


def ratio(operator: float | None, floor: float | None) -> str:
    return f"{operator / floor:.1f}x" if operator and floor else "-"


def milliseconds(value: float | None) -> str:
    return "-" if value is None else f"{1000 * value:.0f} ms"


def report(run: dict[str, Any]) -> None:
    n, floor, op = run["n"], run["floor"], run["operator"]
    print(f"\nN = {n} ({NAMESPACES} namespaces, {THREADS} client threads, a fresh cluster)")
    print(f"  {'':30}{'floor':>18}{'operator':>18}{'ratio':>8}")
    rows = (
        ("applied / Reconciled=True", "applied_s", None, "reconciled_s", "reconciled"),
        ("available / Ready=True", "available_s", "available", "ready_s", "ready"),
    )
    for label, fkey, fcount, okey, ocount in rows:
        f_text = seconds(floor[fkey], floor.get(fcount) if fcount else None, n)
        o_text = seconds(op[okey], op[ocount], n)
        print(f"  {label:30}{f_text:>18}{o_text:>18}{ratio(op[okey], floor[fkey]):>8}")
    retried = (
        f" (client retries: floor {floor['retries']}, operator {op['retries']})"
        if floor["retries"] or op["retries"]
        else ""
    )
    print(
        f"  the operator's times include applying the {n} workloads ({op['create_s']:.1f} s); "
        f"the floor's {floor['applies']} applies do not{retried}"
    )
    if op.get("evidence_s") is not None:
        print(
            f"  every PolicyReport written after {op['evidence_s']:.1f} s (behind the reconciles)"
        )
    total = sum(op["passes"].values())
    print(
        f"  reconcile passes: {total} ({total / n:.2f} per workload; {op['passes']}); "
        f"p50 {milliseconds(op['p50_s'])}, p99 {milliseconds(op['p99_s'])} "
        "(operator histogram, interpolated within buckets)"
    )
    kinds_text = ", ".join(
        f"{k} {v:.2f}" if v >= 0.01 else f"{k} {v:.3f}"
        for k, v in op["writes_per_workload"].items()
    )
    refused = f"; refused: {op['writes_refused']}" if op["writes_refused"] else ""
    print(f"  operator writes per workload: {op['writes_total'] / n:.2f} ({kinds_text}){refused}")
    print(
        f"  operator memory: RSS {op['rss_mib']:.0f} MiB, peak {op['peak_rss_mib']:.0f} MiB; "
        f"CPU {op['cpu_s']:.1f} s ({1000 * op['cpu_s'] / n:.1f} ms per workload)"
    )


def report_medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over the repeats of one N (ratios taken per run first)."""

    def median(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return statistics.median(known) if len(known) == len(values) else None

    def per_run(floor_key: str, op_key: str) -> list[float | None]:
        return [
            r["operator"][op_key] / r["floor"][floor_key]
            if r["operator"][op_key] and r["floor"][floor_key]
            else None
            for r in runs
        ]

    n = runs[0]["n"]
    found = {
        "n": n,
        "runs": len(runs),
        "floor_applied_s": median([r["floor"]["applied_s"] for r in runs]),
        "operator_reconciled_s": median([r["operator"]["reconciled_s"] for r in runs]),
        "reconciled_ratio": median(per_run("applied_s", "reconciled_s")),
        "floor_available_s": median([r["floor"]["available_s"] for r in runs]),
        "operator_ready_s": median([r["operator"]["ready_s"] for r in runs]),
        "ready_ratio": median(per_run("available_s", "ready_s")),
        "reconciled_ratios": per_run("applied_s", "reconciled_s"),
        "ready_ratios": per_run("available_s", "ready_s"),
        "cpu_ms_per_workload": median([1000 * r["operator"]["cpu_s"] / n for r in runs]),
        "rss_mib": median([r["operator"]["rss_mib"] for r in runs]),
    }

    def listed(values: list[float | None]) -> str:
        return ", ".join("-" if v is None else f"{v:.2f}" for v in values)

    def fmt(value: float | None, unit: str = "") -> str:
        return "-" if value is None else f"{value:.1f}{unit}"

    print(
        f"\nN = {n}, median of {len(runs)} runs: Reconciled {fmt(found['operator_reconciled_s'])} s"
        f" against {fmt(found['floor_applied_s'])} s, ratio {fmt(found['reconciled_ratio'], 'x')}"
        f" (runs: {listed(found['reconciled_ratios'])}); Ready {fmt(found['operator_ready_s'])} s"
        f" against {fmt(found['floor_available_s'])} s, ratio {fmt(found['ready_ratio'], 'x')}"
        f" (runs: {listed(found['ready_ratios'])}); CPU {fmt(found['cpu_ms_per_workload'])} ms"
        f" per workload; RSS {fmt(found['rss_mib'])} MiB"
    )
    return found


def writes_text(phase: dict[str, Any]) -> str:
    """The count of writes, with their kinds and refusals when there are any."""
    text = str(phase["writes"])
    if phase["writes_by_kind"]:
        text += " (" + ", ".join(f"{k} {v}" for k, v in sorted(phase["writes_by_kind"].items()))
        text += ")"
    if phase["writes_refused"]:
        text += f", refused {phase['writes_refused']}"
    return text


def report_after(run: dict[str, Any]) -> None:
    idle, again = run.get("idle"), run.get("restart")
    if idle:
        print(
            f"\nidle {idle['seconds']:.0f} s after N = {run['n']}: operator writes "
            f"{writes_text(idle)}, CPU {idle['cpu_percent']:.2f}% of one core, "
            f"reconcile passes {sum(idle['passes'].values())}"
        )
    if again:
        print(
            f"restart with {run['n']} workloads in place (stopped in {run['stop_s']:.1f} s): "
            f"first reconcile after {seconds(again['first_pass_s'])}, {run['n']} passes after "
            f"{seconds(again['n_passes_s'])}; writes in the {again['window_s']:.0f} s after "
            f"the restart: {writes_text(again)}; passes {again['passes']}; "
            f"RSS {again['rss_mib']:.0f} MiB, peak {again['peak_rss_mib']:.0f} MiB"
        )
    traced = run.get("memory")
    if traced and traced.get("traced_mib") is not None:
        print(
            f"memory with {run['n']} workloads (tracemalloc): {traced['traced_mib']} MiB traced, "
            f"{traced['traced_kib_per_workload']} KiB per workload; by module (MiB):"
        )
        for module, mib in sorted(traced["by_module"].items(), key=lambda kv: -kv[1])[:8]:
            print(f"  {mib:>7}  {module}")
        print("  held by (deep size, MiB):")
        for holder, mib in sorted(traced["held_mib"].items(), key=lambda kv: -kv[1]):
            print(f"  {mib:>7}  {holder}")
        print("  largest sites:")
        for site in traced["by_line"][:12]:
            print(f"    {site}")


def machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text().split()
    commit = subprocess.run(
        ["git", "-C", str(harness.REPO), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20, 1),
        "commit": commit,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="*", type=int, default=[100, 1000], help="workload counts")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per N, each on a fresh cluster (medians)"
    )
    parser.add_argument(
        "--only-create",
        action="store_true",
        help="skip the idle, restart and memory phases after the last N (for sweeps)",
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if os.environ.pop("KUBECONFIG", None):
        say("ignoring KUBECONFIG: this benchmark runs its own local cluster")
    doc = example()
    results: dict[str, Any] = {
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "node_capacity": size_nodes(max(args.n), doc),
        "namespaces": NAMESPACES,
        "threads": THREADS,
        "runs": [],
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    results["repeat"] = args.repeat
    results["settings"] = {
        k: v for k, v in os.environ.items() if k in ("FWOP_WORKERS", "FWOP_API_CONNECTIONS")
    }
    for i, n in enumerate(args.n):
        runs = []
        for r in range(args.repeat):
            last = i == len(args.n) - 1 and r == args.repeat - 1 and not args.only_create
            run = measure_n(doc, n, last=last)
            run["repeat"] = r
            runs.append(run)
            results["runs"].append(run)
            report(run)
            report_after(run)
            OUTPUT.write_text(json.dumps(results, indent=2) + "\n")  # partial results survive
        if args.repeat > 1:
            results.setdefault("medians", []).append(report_medians(runs))
            OUTPUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nfigures written to {OUTPUT.relative_to(harness.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
