"""Benchmark: the validating webhook under 500 admission reviews.

    .venv/bin/python bench/webhook_latency.py [--reviews 500] [--concurrency 8]

Brings up the local control plane in .cluster/bench-webhook, starts `fwop-operator` with
its webhook on a loopback port (self-signed certificate), and sends AdmissionReview
requests straight to it over HTTPS, as the API server would: half valid workloads, half
invalid ones (from tests/data). First one client on a kept-alive connection (latency:
p50, p90, p99, max), then `--concurrency` client processes at once (throughput in
reviews per second, with their latency). Verdicts are checked, so a fast wrong answer cannot count.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import ssl
import statistics
import sys
import time
import urllib.request
import uuid
from typing import Any

import yaml

import harness

sys.path.insert(0, str(harness.REPO / "cluster"))
import devrun

DATA = harness.REPO / "tests" / "data"


def reviews(count: int) -> list[tuple[bytes, bool]]:
    """AdmissionReview bodies and whether each must be allowed."""
    docs: list[tuple[dict[str, Any], bool]] = []
    for folder, allowed in (("valid", True), ("invalid", False)):
        for path in sorted((DATA / folder).glob("*.yaml")):
            if "# policy:" in path.read_text():
                continue  # judged under another policy than policy.yaml
            for doc in yaml.safe_load_all(path.read_text()):
                if (
                    doc
                    and doc["kind"] == "FinancialWorkload"
                    and "namespace" not in doc["metadata"]
                ):
                    docs.append((doc, allowed))
    valid = [d for d in docs if d[1]]
    invalid = [d for d in docs if not d[1]]
    if not valid or not invalid:
        raise SystemExit("tests/data has no usable valid or invalid files")
    mixed = [
        valid[i % len(valid)] if i % 2 == 0 else invalid[i % len(invalid)] for i in range(count)
    ]
    out = []
    for doc, allowed in mixed:
        obj = {
            **doc,
            "metadata": {**doc["metadata"], "namespace": "default", "uid": str(uuid.uuid4())},
        }
        review = {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": str(uuid.uuid4()),
                "kind": {
                    "group": "finance.compliance.dev",
                    "version": "v1alpha1",
                    "kind": "FinancialWorkload",
                },
                "resource": {
                    "group": "finance.compliance.dev",
                    "version": "v1alpha1",
                    "resource": "financialworkloads",
                },
                "requestKind": {
                    "group": "finance.compliance.dev",
                    "version": "v1alpha1",
                    "kind": "FinancialWorkload",
                },
                "name": obj["metadata"]["name"],
                "namespace": "default",
                "operation": "CREATE",
                # An administrator: workloads that declare permissions pass RBAC-4 (the
                # requester holds them), so the figures include its SubjectAccessReviews.
                "userInfo": {"username": "bench", "groups": ["system:masters"]},
                "object": obj,
                "oldObject": None,
                "dryRun": False,
                "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
            },
        }
        out.append((json.dumps(review).encode(), allowed))
    return out


class Client:
    """One kept-alive HTTPS connection to the webhook, as the API server keeps one."""

    def __init__(self, port: int, context: ssl.SSLContext) -> None:
        self.conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)

    def review(self, body: bytes) -> tuple[float, bool]:
        start = time.perf_counter()
        self.conn.request(
            "POST", "/validate-financialworkload", body, {"Content-Type": "application/json"}
        )
        response = self.conn.getresponse()
        answer = json.loads(response.read())
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise RuntimeError(f"webhook answered HTTP {response.status}: {answer}")
        return elapsed, bool(answer["response"]["allowed"])


def wait_serving(port: int, context: ssl.SSLContext, body: bytes) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            Client(port, context).review(body)
            return
        except (OSError, http.client.HTTPException, RuntimeError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def run(
    port: int, context: ssl.SSLContext, work: list[tuple[bytes, bool]], latencies: list[float]
) -> None:
    client = Client(port, context)
    for body, allowed in work:
        elapsed, verdict = client.review(body)
        if verdict != allowed:
            raise AssertionError(f"wrong verdict: expected allowed={allowed}")
        latencies.append(elapsed)


_CLIENT: list[Client] = []


def _connect(port: int, cafile: str, body: bytes) -> None:
    """Pool initializer: open this process's kept-alive connection and warm it (TLS
    handshake and first request are not counted, as an API server reuses connections)."""
    _CLIENT.append(Client(port, ssl.create_default_context(cafile=cafile)))
    _CLIENT[0].review(body)


def run_chunk(work: list[tuple[bytes, bool]]) -> list[float]:
    """One client process's share of the reviews, on its warmed connection."""
    latencies = []
    for body, allowed in work:
        elapsed, verdict = _CLIENT[0].review(body)
        if verdict != allowed:
            raise AssertionError(f"wrong verdict: expected allowed={allowed}")
        latencies.append(elapsed)
    return latencies


def _ready(_: int) -> None:
    """Nothing: the pool's initializers have run once this returns everywhere."""
    time.sleep(0.2)


def line(label: str, values: list[float], wall: float) -> str:
    return (
        f"{label:22} n={len(values):4d}  p50 {1000 * statistics.median(values):6.2f} ms  "
        f"p90 {1000 * harness.percentile(values, 0.9):6.2f} ms  "
        f"p99 {1000 * harness.percentile(values, 0.99):6.2f} ms  "
        f"max {1000 * max(values):6.2f} ms  {len(values) / wall:7.1f} reviews/s"
    )


def summary(values: list[float], wall: float) -> dict[str, float]:
    """p50, p99 (ms) and reviews per second, for the README (bench/readme.py)."""
    return {
        "p50": round(1000 * statistics.median(values), 2),
        "p99": round(1000 * harness.percentile(values, 0.99), 2),
        "rate": round(len(values) / wall),
    }


UNDER = [0.0]
"""Share of reviews the operator judged in under 2.5 ms (set by server_side)."""


def server_side(http_port: int) -> str:
    """The operator's own view: its admission histogram from /metrics (all runs above).

    The client latencies include queueing on a 2-core machine shared with the API server,
    etcd and the client processes; the histogram times only the judging in the operator.
    """
    url = f"http://127.0.0.1:{http_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as resp:
        text = resp.read().decode()
    buckets = []
    for raw in text.splitlines():
        if raw.startswith("fwop_admission_duration_seconds_bucket"):
            le = raw.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float(le), float(raw.rsplit(" ", 1)[1])))
    total = buckets[-1][1]
    p99 = next(le for le, count in buckets if count >= 0.99 * total)
    under_2_5 = next(count for le, count in buckets if le == 0.0025) / total
    UNDER[0] = round(100 * under_2_5)
    return (
        f"server side (operator histogram, {int(total)} reviews): p99 <= {1000 * p99:g} ms, "
        f"{100 * under_2_5:.1f}% judged in under 2.5 ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with harness.cluster("bench-webhook") as c:
        if c.state is None:
            print("this benchmark needs the local cluster (unset KUBECONFIG)", file=sys.stderr)
            return 2
        harness.install(c)
        c.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(DATA / "policy.yaml"))
        certs = c.state / "webhook-tls"
        devrun.certificate(certs)
        port = harness.free_port()
        http_port = harness.free_port()
        env = {
            "FWOP_WEBHOOK_PORT": str(port),
            "FWOP_WEBHOOK_CERT_DIR": str(certs),
            "FWOP_HTTP_PORT": str(http_port),
            "FWOP_HTTP_ADDR": "127.0.0.1",
        }
        with harness.operator(c, c.state / "operator.log", env):
            context = ssl.create_default_context(cafile=str(certs / "tls.crt"))
            work = reviews(args.reviews)
            wait_serving(port, context, work[0][0])
            run(port, context, work[:20], [])  # warm-up, not counted
            sequential: list[float] = []
            start = time.perf_counter()
            run(port, context, work, sequential)
            seq_wall = time.perf_counter() - start
            chunks = [work[i :: args.concurrency] for i in range(args.concurrency)]
            cafile = str(certs / "tls.crt")
            pool_context = multiprocessing.get_context("fork")
            with pool_context.Pool(args.concurrency, _connect, (port, cafile, work[0][0])) as pool:
                pool.map(_ready, range(args.concurrency), chunksize=1)
                start = time.perf_counter()
                results = pool.map(run_chunk, chunks, chunksize=1)
                par_wall = time.perf_counter() - start
            parallel = [latency for chunk in results for latency in chunk]
            print(f"admission reviews: {args.reviews} (half valid, half invalid), verdicts checked")
            print(line("1 client", sequential, seq_wall))
            print(line(f"{args.concurrency} clients", parallel, par_wall))
            print(server_side(http_port))
    harness.save_figures(
        "webhook",
        {
            "reviews": args.reviews,
            "clients": args.concurrency,
            "one": summary(sequential, seq_wall),
            "many": summary(parallel, par_wall),
            "under_2_5_ms": UNDER[0],
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
