"""Plain-HTTP endpoints for the kubelet and Prometheus: /healthz, /readyz, /metrics.

Readiness names what is missing ("webhook: certificate ... not found", "api: ..."), so
`kubectl describe pod` and the operator's logs say why it is not ready. Must not: serve
admission (the TLS webhook server does), or read Secrets.
"""

from __future__ import annotations

import dataclasses
import time

from aiohttp import web

from fwop import metrics


@dataclasses.dataclass
class Health:
    """What readiness depends on; the operator updates it as things start or fail."""

    problems: dict[str, str] = dataclasses.field(default_factory=dict)
    started: float = dataclasses.field(default_factory=time.monotonic)

    def fail(self, part: str, why: str) -> None:
        """Mark one part not ready, saying why."""
        self.problems[part] = why

    def ok(self, part: str) -> None:
        """Mark one part ready."""
        self.problems.pop(part, None)

    def report(self) -> tuple[bool, str]:
        """Ready, and a one-line explanation."""
        if not self.problems:
            return True, "ready"
        return False, "; ".join(f"{part}: {why}" for part, why in sorted(self.problems.items()))


async def serve(health: Health, host: str, port: int) -> web.AppRunner:
    """Start the HTTP server; the caller keeps the runner and cleans it up."""

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(_: web.Request) -> web.Response:
        ready, why = health.report()
        return web.Response(text=why, status=200 if ready else 503)

    async def metrics_(_: web.Request) -> web.Response:
        return web.Response(body=metrics.exposition(), content_type="text/plain")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
