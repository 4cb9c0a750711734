"""Toloka tests replay cassettes from ``cassettes/toloka/`` (record mode none, network blocked).

The cassettes are written by ``tests/toloka/make_cassettes.py`` from the wire formats in
``shared/reference/toloka-api.md``: request bodies as the backend must send them, responses as
Toloka's documentation shows them. Requests are matched on method, URL, query *and* JSON body, so
a backend that sends anything else fails on the unmatched request.

Re-recording, against a real account, the cassettes of the tests that build everything they touch
(creating the recipe's job and the medium pool with its skill, training pool and webhooks; tests
not marked ``synthetic``) is one command::

    TOLOKA_TOKEN=... pytest tests/toloka -m "not synthetic" --record-mode=rewrite

(``TOLOKA_AUTH_SCHEME=OAuth`` for a classic OAuth token; the Authorization header is filtered out
of every cassette; it creates real projects and pools, so archive them afterwards.) ``synthetic``
tests replay states and faults a live account cannot be asked for on demand (an answered pool,
429s, 5xx, timeouts, malformed bodies); never re-record them (``rewrite`` deletes the cassette
first) -- regenerate every cassette with ``python tests/toloka/make_cassettes.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from annotate_toloka import TolokaBackend
from pydantic import SecretStr

from annotate_core.testing import recording_config

REPO = Path(__file__).resolve().parents[2]
CASSETTES = REPO / "cassettes" / "toloka"
FAKE_TOKEN = "fake-toloka-api-key-for-cassettes"
#: the clock every cassette was written at (pool deadlines are computed from it); bump it, and
#: regenerate, if a live re-record happens after CASSETTE_NOW + 365 days
CASSETTE_NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=timezone.utc)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "synthetic: replays a fault a live Toloka account cannot reproduce")


def _body(request: Any) -> Any:
    raw = request.body
    if raw in (None, b"", ""):
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def json_body(r1: Any, r2: Any) -> None:
    """Bodies must be the same JSON value (key order and whitespace aside)."""
    b1, b2 = _body(r1), _body(r2)
    assert b1 == b2, f"request bodies differ:\n  sent:     {b1!r}\n  recorded: {b2!r}"[:4000]


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_matcher("json_body", json_body)


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    # the kit's recording settings: credential headers, cookies, token fields and known secrets scrubbed
    return recording_config(
        filter_headers=["x-act-under-account-id"],
        match_on=["method", "scheme", "host", "port", "path", "query", "json_body"],
        decode_compressed_response=True,
        # the fault harness talks to a fake Toloka on loopback: that conversation is live, never taped
        ignore_localhost=True,
    )


@pytest.fixture
def recording(record_mode: str) -> bool:
    return record_mode != "none"


@pytest.fixture
def sleeps() -> list[float]:
    """Every wait the backend asked for (nothing really sleeps when replaying)."""
    return []


@pytest.fixture
def make_backend(recording: bool, sleeps: list[float]) -> Callable[..., TolokaBackend]:
    def make(**options: Any) -> TolokaBackend:
        if recording:
            token = os.environ.get("TOLOKA_TOKEN")
            if not token:
                pytest.fail("re-recording needs TOLOKA_TOKEN")
            opts: dict[str, Any] = {"token": SecretStr(token),
                                    "auth_scheme": os.environ.get("TOLOKA_AUTH_SCHEME", "ApiKey")}
        else:
            opts = {"token": SecretStr(FAKE_TOKEN), "auth_scheme": "ApiKey", "sleep": sleeps.append,
                    "backoff_factor": 0}
        opts["clock"] = lambda: CASSETTE_NOW
        opts.update(options)
        return TolokaBackend(**opts)

    return make


@pytest.fixture
def backend(make_backend: Callable[..., TolokaBackend]):
    b = make_backend()
    yield b
    b.close_backend()

EXAMPLES_DIR = REPO / "examples"
