import json
import logging

import pytest

from fwop import logs


def test_structlog_and_stdlib_lines_are_json(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("INFO")
    logs.get("fwop.test").info("reconciled", namespace="payments", name="api", generation=3)
    logging.getLogger("kopf.objects").warning("from the standard library")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["event"] == "reconciled"
    assert lines[0]["namespace"] == "payments"
    assert lines[0]["generation"] == 3
    assert lines[0]["level"] == "info"
    assert lines[1]["event"] == "from the standard library"
    assert lines[1]["level"] == "warning"
    assert lines[1]["logger"] == "kopf.objects"
    assert all("timestamp" in line for line in lines)
