"""Fixtures for the Dataloop backend tests: cassettes, the backend under test, and three run modes.

* **replay** (default): cassettes under ``cassettes/dataloop/<module>/`` replay with record mode
  ``none`` and the network blocked; the backend talks to ``https://gate.dataloop.ai`` with an
  obviously fake JWT.
* **fake** (``DATALOOP_FAKE_GATE=1 ... --record-mode=rewrite``, what ``generate_cassettes.py`` runs):
  the backend talks to the in-process fake gate over loopback while the cassettes are (re)written;
  URLs are rewritten to the real gate before they are stored.
* **live** (``DATALOOP_TOKEN=... pytest tests/dataloop --record-mode=rewrite``): re-record against a
  real account (project ``my-project`` with dataset ``my-dataset``, see ``generate_cassettes.py``).

Secrets never reach a cassette: the authorization header is dropped, refresh tokens in bodies and
tokens in token responses are replaced by fakes.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from annotate_dataloop import DataloopBackend
from annotate_dataloop.wire import DEFAULT_BASE_URL
from pydantic import SecretStr

from annotate_core.testing import recording_config

from .fake_gate import FakeGate
from .helpers import fake_jwt

REPO = Path(__file__).resolve().parents[2]
CASSETTES = REPO / "cassettes" / "dataloop"
GATE_ROOT = "https://gate.dataloop.ai"
FAKE_REFRESH_TOKEN = "fake-refresh-token"
#: a JWT that expires in 2100: the replay token, and what refreshed tokens are replaced with
FAKE_TOKEN = fake_jwt(4102444800)
#: the backend's clock in replay and fake modes (2026-01-15T10:00:00Z): a due date derived from it
#: (no deadline: creation + 7 days) is the same in every run, so the recorded bodies match
CLOCK = 1768471200.0

FAKE_MODE = os.environ.get("DATALOOP_FAKE_GATE") == "1"
LIVE_TOKEN = os.environ.get("DATALOOP_TOKEN")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fake_gate(**kw): settings of the fake gate that authors this cassette")


# ---- cassette hygiene ----------------------------------------------------------------------------

_LOOPBACK = re.compile(r"^http://127\.0\.0\.1:\d+")
_TOKEN_KEYS = ("id_token", "access_token", "refresh_token", "jwt", "token")


def _scrub_request(request: Any) -> Any:
    request.uri = _LOOPBACK.sub(GATE_ROOT, request.uri)
    if request.path.endswith("/token") and request.body:
        try:
            body = json.loads(request.body)
        except ValueError:
            return request
        if isinstance(body, dict) and "refresh_token" in body:
            body["refresh_token"] = FAKE_REFRESH_TOKEN
            request.body = json.dumps(body).encode()
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    raw = response.get("body", {}).get("string")
    if not raw:
        return response
    try:
        body = json.loads(raw)
    except ValueError:
        return response
    if isinstance(body, dict) and any(k in body for k in _TOKEN_KEYS):
        for k in _TOKEN_KEYS:
            if k in body:
                body[k] = FAKE_TOKEN if k in ("id_token", "jwt") else f"fake-{k.replace('_', '-')}"
        response["body"]["string"] = json.dumps(body).encode()
    for name in ("Set-Cookie", "set-cookie"):
        response.get("headers", {}).pop(name, None)
    return response


_CALL_MARK = re.compile(r"^(annotate job call )\S+( \()")


def _normalised(body: bytes | str | None) -> Any:
    """A JSON body with annotate's random create ids blanked (they differ between recording runs)."""
    if not body:
        return body
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ("<createId>" if k.endswith("createId") else walk(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):  # an unkeyed pipeline's description mark names its create id
            return _CALL_MARK.sub(r"\1<createId>\2", value)
        return value

    return walk(data)


def _body_matcher(r1: Any, r2: Any) -> None:
    if _normalised(r1.body) != _normalised(r2.body):
        from vcr.matchers import body

        body(r1, r2)  # raises with vcrpy's own diff
        raise AssertionError("bodies differ")


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_matcher("dataloop_body", _body_matcher)


#: the fake credentials the cassettes hold on purpose (the backend reads a refreshed JWT's expiry)
CASSETTE_FAKES = frozenset({FAKE_TOKEN, FAKE_REFRESH_TOKEN, "fake-access-token", "fake-refresh-token"})


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    # ours first (loopback -> gate, tokens -> fakes), then the kit's scrubbing of everything else
    return recording_config(
        match_on=["method", "path", "query", "dataloop_body"],
        decode_compressed_response=True,
        before_record_request=_scrub_request,
        before_record_response=_scrub_response,
        fakes=CASSETTE_FAKES,
    )


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(CASSETTES / request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_"))


# ---- the gate and the backend --------------------------------------------------------------------


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Iterator[FakeGate | None]:
    """The fake gate when authoring cassettes, else None (the cassette already holds its answers)."""
    if not FAKE_MODE:
        yield None
        return
    marker = request.node.get_closest_marker("fake_gate")
    gate = FakeGate(**(marker.kwargs if marker else {}))
    server, url = gate.serve()
    gate.base_url = url
    try:
        yield gate
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sleeps() -> list[float]:
    """Every sleep the backend asked for (HTTP backoff, Retry-After, command polling), never slept."""
    return []


@pytest.fixture
def make_backend(fake: FakeGate | None, sleeps: list[float]) -> Callable[..., DataloopBackend]:
    """A factory of backends wired to the current mode; keyword options override the defaults."""
    created: list[DataloopBackend] = []

    def make(**options: Any) -> DataloopBackend:
        counter = itertools.count(1)
        opts: dict[str, Any] = {
            "token": SecretStr(FAKE_TOKEN),
            "project": "my-project",
            "dataset": "my-dataset",
            "poll_interval": 0.0,
            "backoff_factor": 0.0,
            "sleep": sleeps.append,
            "new_id": lambda: f"create-{next(counter):04d}",
            "clock": lambda: CLOCK,
        }
        if fake is not None:
            opts["base_url"] = fake.base_url + "/api/v1"
        elif LIVE_TOKEN:
            opts["token"] = SecretStr(LIVE_TOKEN)
            opts["base_url"] = os.environ.get("DATALOOP_BASE_URL", DEFAULT_BASE_URL)
            opts.pop("new_id")
            opts.pop("clock")
        opts.update(options)
        backend = DataloopBackend(**opts)
        created.append(backend)
        return backend

    yield make
    for b in created:
        b.close_backend()


@pytest.fixture
def backend(make_backend: Callable[..., DataloopBackend]) -> DataloopBackend:
    return make_backend()
