"""The kit's recording settings scrub credentials by default, and its scan finds the ones left.

The end-to-end tests record a Django-like vendor on loopback (a token-authenticated reply sets a
``sessionid`` cookie, a token exchange returns ``access`` / ``refresh``, a login form posts a
password and a CSRF token) through ``HttpClient``, once with the kit's settings and once with the
settings a plugin author would copy from vcrpy's README, then scan both.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import vcr
from pydantic import SecretStr
from vcr.request import Request

from annotate_core.http import HttpClient
from annotate_core.secrets import register_secret
from annotate_core.testing import Scrubber, recording_config, scan_cassettes
from annotate_core.testing.cassettes import REDACTED, is_secret_field, is_secret_header

TOKEN = "ls-legacy-token-0123456789abcdef0123456789"
REFRESH = "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJlLW9mLXRoZS1yZWZyZXNo"
ACCESS = "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.c2lnbmF0dXJlLW9mLXRoZS1hY2Nlc3M"
SESSION = "k2x9sessionidvaluefromdjango77"


@pytest.fixture
def vendor() -> Iterator[str]:
    """A Django-flavoured API: every reply sets sessionid; /api/token/refresh trades refresh for access."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, payload: Any, status: int = 200) -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Set-Cookie", f"sessionid={SESSION}; Path=/; HttpOnly")
            self.send_header("Set-Cookie", "csrftoken=csrfvalue1234567890abcdef; Path=/")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            self._reply({"id": 1, "email": "admin@example.com", "token": TOKEN, "next_page_token": "page-2"})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.startswith("/api/token/refresh"):
                self._reply({"access": ACCESS})
            else:
                self._reply({"id": 7, "received": len(body)}, 201)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _conversation(base: str) -> list[Any]:
    """What a Label Studio-like plugin sends: token auth, a refresh exchange, a form login, a keyed query."""
    http = HttpClient(base, backend="acme", credential=SecretStr(f"Token {TOKEN}"), cookies=True,
                      sleep=lambda s: None)
    return [
        http.get("/api/current-user/whoami", params={"api_key": TOKEN, "page": 2}),
        http.post("/api/token/refresh", json={"refresh": REFRESH}),
        http.post("/user/login", data={"email": "admin@example.com", "password": "hunter2-hunter2",
                                       "csrfmiddlewaretoken": "csrfformvalue123456"}),
        http.post("/api/projects", json={"title": "cats", "label_config": "<View/>"}),
    ]


def _record(base: str, cassette: Path, **config: Any) -> None:
    recorder = vcr.VCR(record_mode="all", **config)
    with recorder.use_cassette(str(cassette)):
        _conversation(base)


def test_the_kits_settings_leave_no_credential_and_still_replay(vendor: str, tmp_path: Path) -> None:
    cassette = tmp_path / "scrubbed.yaml"
    _record(vendor, cassette, **recording_config(match_on=["method", "path", "query", "body"]))
    text = cassette.read_text()
    for secret in (TOKEN, REFRESH, ACCESS, SESSION, "hunter2-hunter2", "csrfformvalue123456"):
        assert secret not in text
    assert scan_cassettes(cassette, secrets=[TOKEN]) == []
    assert "page-2" in text and '"title":"cats"' in text.replace(" ", "")  # what is not a credential stays
    # the replay sends the real values again; the same hooks scrub them before matching
    replay = vcr.VCR(record_mode="none", **recording_config(match_on=["method", "path", "query", "body"]))
    with replay.use_cassette(str(cassette)) as played:
        answers = _conversation(vendor)
        assert played.all_played
    assert answers[1] == {"access": REDACTED} and answers[3]["id"] == 7


def test_the_readme_settings_leak_and_the_scan_says_where(vendor: str, tmp_path: Path) -> None:
    cassette = tmp_path / "naive.yaml"
    _record(vendor, cassette, filter_headers=["authorization"])
    findings = scan_cassettes(cassette, environ={"ACME_TOKEN": TOKEN})
    found = {f.what for f in findings}
    assert "a known secret value (42 chars)" in found  # from the environment, as while re-recording
    assert {"header 'Set-Cookie'", "field 'token'", "field 'refresh'", "field 'access'",
            "query parameter 'api_key'", "a JWT", "form field 'password'",
            "form field 'csrfmiddlewaretoken'"} <= {w.removeprefix("body ") for w in found}
    assert all(TOKEN not in f.describe() and REFRESH not in f.describe() for f in findings)  # never the value


def test_requests_are_scrubbed_field_by_field() -> None:
    register_secret("registered-secret-value-xyz")
    request = Request(
        "POST", "https://api.acme.example/v1/pools/registered-secret-value-xyz?token=abc123456789&page_token=p2&n=3",
        json.dumps({"refresh_token": "r-123456789", "nested": [{"password": "pw-123456789", "name": "x"}],
                    "access": "a-123456789", "token_type": "Bearer", "key": "item-1"}),
        {"Authorization": "Token abc", "Cookie": "sessionid=xyz", "X-Api-Key": "k", "X-CSRFToken": "c",
         "Content-Type": "application/json", "X-Request-Id": "req-1"})
    out = Scrubber().request(request)
    assert set(out.headers) == {"Content-Type", "X-Request-Id"}
    assert "registered-secret-value-xyz" not in out.uri and "abc123456789" not in out.uri
    assert "page_token=p2" in out.uri and "n=3" in out.uri
    body = json.loads(out.body)
    assert body == {"refresh_token": REDACTED, "nested": [{"password": REDACTED, "name": "x"}],
                    "access": REDACTED, "token_type": "Bearer", "key": "item-1"}


def test_fakes_a_replay_needs_are_left_alone() -> None:
    fake = "eyJmYWtlIjoxfQ.eyJleHAiOjQxMDI0NDQ4MDB9.ZmFrZS1zaWduYXR1cmU"
    scrubber = Scrubber(fakes=[fake])
    response = {"status": {"code": 200}, "headers": {"Set-Cookie": ["a=b"], "Content-Type": ["application/json"]},
                "body": {"string": json.dumps({"jwt": fake, "refresh_token": "real-refresh-123"}).encode()}}
    out = scrubber.response(response)
    assert "Set-Cookie" not in out["headers"]
    assert json.loads(out["body"]["string"]) == {"jwt": fake, "refresh_token": REDACTED}


def test_form_bodies_and_binary_bodies() -> None:
    scrubber = Scrubber()
    form = scrubber.body(b"username=me&password=pw-123456789&next=%2F", "application/x-www-form-urlencoded")
    assert form == f"username=me&password={REDACTED}&next=%2F".encode()
    binary = bytes(range(256))
    assert scrubber.body(binary, "image/png") is binary
    streamed = Request("PUT", "https://acme.example/upload", io.BytesIO(b"file bytes"), {"Authorization": "x"})
    assert Scrubber().request(streamed).body.read() == b"file bytes"  # a file body stays a file, untouched
    login = Request("POST", "https://acme.example/login", io.BytesIO(b'{"password": "pw-123456789"}'), {})
    assert json.loads(Scrubber().request(login).body.read()) == {"password": REDACTED}


def test_names_that_look_like_credentials_and_names_that_do_not() -> None:
    for name in ("token", "access", "refresh", "refresh_token", "id_token", "jwt", "password", "sessionid",
                 "csrfmiddlewaretoken", "api-key", "client_secret", "secret_key", "aws_access_key"):
        assert is_secret_field(name), name
    for name in ("key", "_key", "item_key", "token_type", "page_token", "next_page_token", "name", "accesses"):
        assert not is_secret_field(name), name
    for name in ("Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "X-CSRFToken", "X-Auth-Token"):
        assert is_secret_header(name), name
    for name in ("Content-Type", "X-Request-Id", "Retry-After", "Location", "WWW-Authenticate"):
        assert not is_secret_header(name), name



def test_token_shapes_are_found_and_prose_is_not(tmp_path: Path) -> None:
    cassette = tmp_path / "shapes.yaml"
    body = ("Token authentication failed for this request. Bearer tokens expire.\n"
            "curl -H 'Authorization: Token 1f0e9d8c7b6a5f4e3d2c1b0a' -H 'Cookie: sessionid=q8w7e6r5t4y3u2i1'\n")
    cassette.write_text(json.dumps({"interactions": [], "version": 1, "notes": body}))
    found = sorted(f.what for f in scan_cassettes(cassette))
    assert found == ["a credential header value", "a session or CSRF cookie"]
    assert scan_cassettes(cassette, fakes=["1f0e9d8c7b6a5f4e3d2c1b0a", "sessionid=q8w7e6r5t4y3u2i1"]) == []
