"""Credentials: from the environment only, never shown, expiry read from the JWT, refresh on demand."""

from __future__ import annotations

import time

import pytest
from annotate_dataloop import DataloopBackend
from annotate_dataloop.auth import TokenSource, jwt_claims, token_email
from annotate_dataloop.wire import parse_error, parse_time, token_url
from pydantic import SecretStr

from annotate_core import connect
from annotate_core.errors import AuthenticationError, ConfigError, MalformedResponseError
from annotate_core.secrets import redact

from .helpers import fake_jwt


def test_token_comes_from_the_environment_and_stays_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    token = fake_jwt(time.time() + 3600, email="Me@Example.com")
    monkeypatch.setenv("DATALOOP_TOKEN_TEST", token)
    client = connect(driver="dataloop", token_env="DATALOOP_TOKEN_TEST", project="my-project")
    backend = client.backend
    assert isinstance(backend.options["token"], SecretStr)
    assert token not in repr(backend) and token not in repr(client)
    assert redact(f"header Bearer {token}") == "header Bearer ***"  # registered for log scrubbing
    assert token_email(backend.options["token"]) == "me@example.com"


def test_literal_token_is_refused() -> None:
    with pytest.raises(ConfigError, match="token_env"):
        connect(driver="dataloop", token="eyJ.literal.token")


def test_unknown_option_is_named() -> None:
    with pytest.raises(ConfigError, match="tokn"):
        DataloopBackend(tokn="x")
    with pytest.raises(ConfigError, match="timeout"):
        DataloopBackend(timeout="soon").gate  # noqa: B018 - building the gate validates it


def test_jwt_claims_and_opaque_keys() -> None:
    claims = jwt_claims(fake_jwt(1234, email="a@b.c"))
    assert claims is not None and claims["exp"] == 1234 and claims["email"] == "a@b.c"
    assert jwt_claims("not-a-jwt") is None and jwt_claims("a.!!!.c") is None
    opaque = TokenSource(SecretStr("opaque-api-key-without-exp"))
    opaque.ensure_fresh()  # nothing to check: sent as is
    assert opaque.header() == "Bearer opaque-api-key-without-exp"


def test_refresh_replaces_an_expired_token() -> None:
    calls: list[str] = []
    fresh = fake_jwt(time.time() + 3600)

    def refresh(rt: str) -> str:
        calls.append(rt)
        return fresh

    src = TokenSource(SecretStr(fake_jwt(time.time() - 5)), refresh_token=SecretStr("rt-123456"), refresh=refresh)
    src.ensure_fresh()
    src.ensure_fresh()
    assert calls == ["rt-123456"] and src.header() == f"Bearer {fresh}"
    assert redact(fresh) == "***"


def test_refresh_that_returns_an_expired_or_no_token() -> None:
    expired = TokenSource(SecretStr(fake_jwt(0)), refresh_token=SecretStr("rt-123456"),
                          refresh=lambda rt: fake_jwt(time.time() - 1))
    with pytest.raises(AuthenticationError, match="already expired"):
        expired.ensure_fresh()
    empty = TokenSource(SecretStr(fake_jwt(0)), refresh_token=SecretStr("rt-123456"), refresh=lambda rt: "")
    with pytest.raises(MalformedResponseError, match="id_token"):
        empty.ensure_fresh()


def test_clock_is_injectable() -> None:
    src = TokenSource(SecretStr(fake_jwt(1000)), clock=lambda: 900.0)
    src.ensure_fresh()  # 100 s left: fresh
    late = TokenSource(SecretStr(fake_jwt(1000)), clock=lambda: 950.0)
    with pytest.raises(AuthenticationError):
        late.ensure_fresh()  # within the 60 s margin


def test_wire_helpers() -> None:
    assert token_url("https://gate.dataloop.ai/api/v1") == "https://gate.dataloop.ai/token?default"
    assert token_url("https://rc-gate.dataloop.ai/api/v1/") == "https://rc-gate.dataloop.ai/token?default"
    assert parse_time("2021-08-12T13:12:37.565Z", "x").isoformat() == "2021-08-12T13:12:37.565000+00:00"
    assert parse_time(1861920000000, "x").year == 2029
    with pytest.raises(MalformedResponseError, match="createdAt"):
        parse_time("yesterday", "createdAt")

    class Resp:
        headers = {"x-request-id": "req-1"}
        status_code, reason, text = 404, "Not Found", ""

        def json(self):
            return {"status": 404, "message": "Task not found"}

    info = parse_error(Resp())
    assert (info.message, info.request_id) == ("Task not found", "req-1")
