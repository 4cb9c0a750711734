"""The shared HTTP layer against a real loopback server: retries, rate limits, typed errors, no leaks."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from annotate_core.errors import (
    AuthenticationError,
    ConflictError,
    FieldProblem,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    TransportError,
    VendorError,
    VendorValidationError,
)
from annotate_core.http import ErrorInfo, HttpClient, parse_retry_after, safe_url

TOKEN = "OAuth y0_test-secret-token-123"


class Script:
    """Responses to serve per (method, path), in order; the last one repeats. Records every request."""

    def __init__(self) -> None:
        self.responses: dict[tuple[str, str], deque[tuple[int, dict[str, str], Any]]] = defaultdict(deque)
        self.requests: list[dict[str, Any]] = []

    def add(self, method: str, path: str, status: int, body: Any = None, headers: dict[str, str] | None = None):
        self.responses[(method, path)].append((status, headers or {}, body))

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r["method"] == method and r["path"] == path)


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?")[0]
            script.requests.append({"method": self.command, "path": path, "query": self.path,
                                    "headers": dict(self.headers), "body": body})
            queue = script.responses.get((self.command, path))
            if not queue:
                status, headers, payload = 404, {}, {"code": "NOT_FOUND", "message": "no script"}
            else:
                status, headers, payload = queue[0] if len(queue) == 1 else queue.popleft()
            if isinstance(payload, bytes):
                raw = payload
            else:
                raw = json.dumps(payload).encode() if payload is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    finally:
        httpd.shutdown()
        httpd.server_close()


def client(base: str, sleeps: list[float] | None = None, **kw: Any) -> HttpClient:
    kw.setdefault("backoff_factor", 0)
    kw.setdefault("min_rate_limit_wait", 0.5)
    return HttpClient(base, backend="test", credential=SecretStr(TOKEN),
                      sleep=(sleeps.append if sleeps is not None else lambda s: None), **kw)


def test_credential_is_sent_but_never_shown(server, caplog: pytest.LogCaptureFixture) -> None:
    base, script = server
    script.add("GET", "/v1/thing", 200, {"ok": True})
    http = client(base)
    with caplog.at_level(logging.DEBUG):
        assert http.get("/v1/thing", params={"token": "abc"}) == {"ok": True}
    assert script.requests[0]["headers"]["Authorization"] == TOKEN
    assert "y0_test" not in repr(http) and "y0_test" not in caplog.text
    assert "token=%2A%2A%2A" in caplog.text  # credential-like query parameters are masked in logs


def test_get_is_retried_on_5xx(server) -> None:
    base, script = server
    script.add("GET", "/v1/pools/1", 503, {"code": "SERVICE_UNAVAILABLE"}, {"Retry-After": "0"})
    script.add("GET", "/v1/pools/1", 502, {})
    script.add("GET", "/v1/pools/1", 200, {"id": "1"})
    assert client(base).get("/v1/pools/1") == {"id": "1"}
    assert script.count("GET", "/v1/pools/1") == 3


def test_plain_post_is_never_repeated_on_5xx(server) -> None:
    base, script = server
    script.add("POST", "/v1/pools", 500, {"code": "INTERNAL_ERROR", "message": "boom"})
    with pytest.raises(VendorError) as err:
        client(base).post("/v1/pools", json={"a": 1})
    assert script.count("POST", "/v1/pools") == 1
    assert err.value.status == 500 and err.value.code == "INTERNAL_ERROR"


def test_post_with_idempotency_key_is_retried(server) -> None:
    base, script = server
    script.add("POST", "/v1/tasks", 500, {})
    script.add("POST", "/v1/tasks", 202, {"id": "op-1", "status": "PENDING"})
    assert client(base).post("/v1/tasks", json=[], idempotent=True) == {"id": "op-1", "status": "PENDING"}
    assert script.count("POST", "/v1/tasks") == 2


def test_429_waits_for_retry_after_for_any_method(server) -> None:
    base, script = server
    script.add("POST", "/v1/skills", 429, {"code": "TOO_MANY_REQUESTS"}, {"Retry-After": "7"})
    script.add("POST", "/v1/skills", 201, {"id": "s1"})
    sleeps: list[float] = []
    assert client(base, sleeps).post("/v1/skills", json={"name": "x"}) == {"id": "s1"}
    assert sleeps == [7.0]
    assert script.count("POST", "/v1/skills") == 2


def test_429_without_header_backs_off_at_least_the_minimum(server) -> None:
    base, script = server
    script.add("GET", "/v1/x", 429, {})
    script.add("GET", "/v1/x", 200, {"ok": 1})
    sleeps: list[float] = []
    client(base, sleeps, min_rate_limit_wait=60).get("/v1/x")
    assert sleeps == [60]


def test_a_daily_quota_raises_instead_of_sleeping(server) -> None:
    base, script = server
    script.add("GET", "/v1/x", 429, {"code": "TOO_MANY_REQUESTS", "message": "daily quota"}, {"Retry-After": "50000"})
    sleeps: list[float] = []
    with pytest.raises(RateLimitError) as err:
        client(base, sleeps).get("/v1/x")
    assert sleeps == [] and err.value.retry_after == 50000
    assert "daily quota" in str(err.value)


def test_rate_limit_retries_are_bounded(server) -> None:
    base, script = server
    script.add("GET", "/v1/x", 429, {}, {"Retry-After": "1"})
    sleeps: list[float] = []
    with pytest.raises(RateLimitError):
        client(base, sleeps, max_rate_limit_retries=3).get("/v1/x")
    assert sleeps == [1, 1, 1] and script.count("GET", "/v1/x") == 4


@pytest.mark.parametrize(
    ("status", "exc"),
    [(401, AuthenticationError), (404, NotFoundError), (409, ConflictError), (400, VendorValidationError),
     (422, VendorValidationError)],
)
def test_statuses_map_to_typed_errors(server, status: int, exc: type) -> None:
    base, script = server
    script.add("GET", "/v1/y", status, {"code": "SOME_CODE", "message": "vendor says no"})
    with pytest.raises(exc) as err:
        client(base).get("/v1/y")
    assert err.value.code == "SOME_CODE" and "vendor says no" in str(err.value)
    assert TOKEN not in str(err.value)


def test_vendor_parser_supplies_field_details(server) -> None:
    base, script = server
    script.add("POST", "/v1/pools", 400, {"code": "VALIDATION_ERROR", "payload": {"reward": "must be > 0"}})

    def parse(resp) -> ErrorInfo:
        body = resp.json()
        details = tuple(FieldProblem(k, v) for k, v in body["payload"].items())
        return ErrorInfo("validation failed", body["code"], details)

    with pytest.raises(VendorValidationError) as err:
        client(base, parse_error=parse).post("/v1/pools", json={})
    assert err.value.details == [FieldProblem("reward", "must be > 0")]
    assert "reward: must be > 0" in str(err.value)


def test_non_json_success_is_a_malformed_response(server) -> None:
    base, script = server
    script.add("GET", "/v1/z", 200, b"<html>proxy error</html>", {"Content-Type": "text/html"})
    with pytest.raises(MalformedResponseError, match="expected a JSON body, got text/html"):
        client(base).get("/v1/z")


def test_expected_statuses_are_returned(server) -> None:
    base, script = server
    script.add("POST", "/v1/pools/1/open", 204)
    resp = client(base).request("POST", "/v1/pools/1/open", expect=(204,))
    assert resp.status_code == 204


def test_connection_errors_become_transport_errors() -> None:
    http = HttpClient("http://127.0.0.1:9", backend="test", retries=1, backoff_factor=0, timeout=0.5)
    with pytest.raises(TransportError, match="GET http://127.0.0.1:9/v1/x"):
        http.get("/v1/x")


def test_retry_after_parsing_and_url_masking() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a past date means now
    assert safe_url("https://a.io/x?api_key=SECRET&page=2") == "https://a.io/x?api_key=%2A%2A%2A&page=2"


def test_a_short_retry_after_is_honoured_as_given(server) -> None:
    base, script = server
    script.add("GET", "/v1/x", 429, {}, {"Retry-After": "0.2"})
    script.add("GET", "/v1/x", 200, {"ok": 1})
    sleeps: list[float] = []
    client(base, sleeps, min_rate_limit_wait=60).get("/v1/x")
    assert sleeps == [0.2]  # the minimum applies only when the vendor gives no wait


def test_urllib3_waits_go_through_the_injectable_sleep(server) -> None:
    """A 503's Retry-After and the 5xx backoff are slept by the client's ``sleep``, never for real."""
    base, script = server
    script.add("GET", "/v1/z", 503, {}, {"Retry-After": "30"})
    script.add("GET", "/v1/z", 502, {})
    script.add("GET", "/v1/z", 200, {"ok": 1})
    sleeps: list[float] = []
    started = time.monotonic()
    assert client(base, sleeps, backoff_factor=4).get("/v1/z") == {"ok": 1}
    assert time.monotonic() - started < 5
    assert sleeps[0] == 30.0 and len(sleeps) == 2 and sleeps[1] > 0  # Retry-After, then the backoff


def test_a_vendor_code_can_choose_the_error_type(server) -> None:
    """A vendor answering an expired token with 403 (or a quota with 400) maps through ErrorInfo.error."""
    base, script = server
    script.add("GET", "/v1/a", 403, {"code": "TOKEN_EXPIRED", "message": "token expired"})
    script.add("GET", "/v1/b", 400, {"code": "QUOTA", "message": "daily quota"})

    def parse(resp) -> ErrorInfo:
        body = resp.json()
        kinds = {"TOKEN_EXPIRED": AuthenticationError, "QUOTA": RateLimitError}
        return ErrorInfo(body["message"], body["code"], error=kinds.get(body["code"]))

    http = client(base, parse_error=parse)
    with pytest.raises(AuthenticationError) as auth:
        http.get("/v1/a")
    assert auth.value.status == 403 and auth.value.code == "TOKEN_EXPIRED"
    with pytest.raises(RateLimitError) as quota:
        http.get("/v1/b")
    assert quota.value.status == 400 and quota.value.retry_after is None


# ---- cookies -------------------------------------------------------------------------------------


def _session_cookie_then_echo(script: Script) -> None:
    """A Django-like vendor: a token-authenticated answer sets ``sessionid``; a redirect sets another."""
    script.add("GET", "/me", 200, {"id": 1}, {"Set-Cookie": "sessionid=abc123; Path=/; HttpOnly"})
    script.add("POST", "/tasks", 201, {"id": 7})
    script.add("GET", "/old", 302, None, {"Location": "/new", "Set-Cookie": "csrftoken=zzz; Path=/"})
    script.add("GET", "/new", 200, {"ok": True})


def test_no_cookie_is_kept_or_sent_by_default(server) -> None:
    base, script = server
    _session_cookie_then_echo(script)
    http = client(base)
    assert http.cookies is False
    http.get("/me")
    http.post("/tasks", json={"x": 1})
    http.get("/old")  # the redirect hop must not carry the cookie its 302 set either
    assert http.stored_cookies() == {}
    sent = [r["headers"] for r in script.requests]
    assert [r["path"] for r in script.requests] == ["/me", "/tasks", "/old", "/new"]
    assert not any("Cookie" in h for h in sent), sent
    assert all(h["Authorization"] == TOKEN for h in sent)  # the credential is the only one sent


def test_cookies_true_keeps_a_normal_jar(server) -> None:
    base, script = server
    _session_cookie_then_echo(script)
    http = client(base, cookies=True)
    http.get("/me")
    http.post("/tasks", json={"x": 1})
    assert http.stored_cookies() == {"sessionid": "abc123"}
    assert script.requests[1]["headers"].get("Cookie") == "sessionid=abc123"
