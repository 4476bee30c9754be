"""Operator options (flags over FWOP_* environment) and the readiness report."""

from __future__ import annotations

from pathlib import Path

from fwop import health, options


def test_environment_defaults_and_flags_override() -> None:
    env = {
        "FWOP_WEBHOOK_PORT": "0",
        "FWOP_HTTP_PORT": "9000",
        "FWOP_LEASE": "fwop",
        "FWOP_IDENTITY": "fwop-7d9c-abcde",
        "FWOP_RESYNC_SECONDS": "30",
    }
    opts = options.parse(["--http-port", "9100", "--namespace", "payments"], env)
    assert opts.http_port == 9100  # the flag wins over the environment
    assert opts.webhook_port == 0
    assert not opts.webhook_enabled
    assert opts.lease == "fwop"
    assert opts.identity == "fwop-7d9c-abcde"
    assert opts.resync_seconds == 30
    assert opts.namespaces == ("payments",)
    defaults = options.parse([], {})
    assert defaults.webhook_cert_dir == Path("/etc/fwop/tls")
    assert defaults.webhook_enabled
    assert defaults.lease is None  # standalone: this one replica writes
    assert defaults.lease_duration == 15
    assert defaults.resync_seconds == 600
    assert defaults.identity  # host name and process id


def test_readiness_names_every_missing_part() -> None:
    h = health.Health()
    assert h.report() == (True, "ready")
    h.fail("webhook", "certificate files not found: /etc/fwop/tls/tls.crt")
    h.fail("api", "unreachable")
    ready, why = h.report()
    assert not ready
    assert why == "api: unreachable; webhook: certificate files not found: /etc/fwop/tls/tls.crt"
    h.ok("api")
    h.ok("webhook")
    assert h.report() == (True, "ready")
