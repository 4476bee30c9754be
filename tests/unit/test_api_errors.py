"""How the API server's answers map to errors: what is retried, after how long (APF 429)."""

from __future__ import annotations

import json

import pytest

from fwop import errors
from fwop.kube import api


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("1", 1.0), ("0.5", 0.5), ("0", 0.0), ("-3", 0.0), ("600", 60.0), (None, None),
     ("", None), ("soon", None), ("Wed, 21 Oct 2026 07:28:00 GMT", None)],
)  # fmt: skip
def test_retry_after_is_seconds_bounded_to_a_minute(header: str | None, seconds: float) -> None:
    assert api._retry_after(header) == seconds


def _status(code: int, message: str, details: dict[str, str] | None = None) -> bytes:
    body = {"kind": "Status", "code": code, "message": message, "details": details or {}}
    return json.dumps(body).encode()


@pytest.mark.parametrize("code", [409, 429, 500, 502, 503, 504])
def test_throttling_conflicts_and_server_errors_are_transient(code: int) -> None:
    error = api._error("PATCH Deployment x", code, _status(code, "too many requests"), "r")
    assert isinstance(error, errors.TransientApiError)
    assert "too many requests" in str(error)


def test_a_missing_object_and_a_missing_kind_differ() -> None:
    gone = api._error("GET Deployment x", 404, _status(404, "not found", {"kind": "x"}), "r")
    unserved = api._error("GET Foo x", 404, b"404 page not found", "Not Found")
    assert isinstance(gone, errors.NotFoundError)
    assert isinstance(unserved, errors.KindMissingError)


def test_a_refusal_is_not_retried() -> None:
    refused = api._error("POST Role x", 403, _status(403, "forbidden"), "Forbidden")
    assert isinstance(refused, errors.RejectedError)
    assert not isinstance(refused, errors.TransientApiError)


@pytest.mark.parametrize("raw", [b"<html>proxy login</html>", b"[1, 2]", b'{"kind": "Li', b"\xff"])
def test_a_successful_answer_that_is_not_a_json_object_is_transient(raw: bytes) -> None:
    with pytest.raises(errors.TransientApiError, match="not a JSON object"):
        api._body("GET FinancialWorkload x", 200, raw)
    assert api._body("GET x", 200, b"") == {}
