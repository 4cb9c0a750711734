"""Label Studio tests run in two modes, both in CI:

* **replay** (always): cassettes under ``cassettes/labelstudio/<module>/`` replay with record mode
  ``none`` and the network blocked; the backend talks to ``http://labelstudio.test``.
* **live** (when ``ANNOTATE_TEST_LABELSTUDIO_URL`` is set, as ``.ci/labelstudio.sh`` does): the same
  tests against the real server, no cassette involved. In CI (``CI=true``) the live mode is always
  generated, so a server that failed to start fails these tests instead of skipping them.

Re-record from a fresh server (``scripts/record_labelstudio.sh`` starts one with an empty data
directory, removes the old cassettes, runs the replay-mode tests against it with
``ANNOTATE_LS_RECORD=1 ... --record-mode=all``, stops it, then replays and scans the result)::

    bash scripts/record_labelstudio.sh

Secrets never reach a cassette: ``Authorization`` and ``Cookie`` request headers are dropped,
``Set-Cookie`` response headers (Label Studio's ``sessionid`` on token requests, ``csrftoken``) are
removed, tokens in token responses are replaced and the server's URL is rewritten to
``http://labelstudio.test``. ``test_cassettes.py`` scans every cassette for what must not be there.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from annotate_labelstudio import LabelStudioBackend
from pydantic import SecretStr

from .server import (
    REPLAY_TOKEN,
    REPLAY_URL,
    Annotator,
    live_token,
    live_url,
    personal_access_token,
    replay_annotators,
    replay_refresh_token,
    sign_up,
)

REPO = Path(__file__).resolve().parents[2]
CASSETTES = REPO / "cassettes" / "labelstudio"
RECORDING = os.environ.get("ANNOTATE_LS_RECORD") == "1"
IN_CI = os.environ.get("CI", "").lower() == "true"
#: real annotators per session: enough for the suite's overlap of 2 and a third who skips
N_ANNOTATORS = 3

_TOKEN_KEYS = ("token", "access", "refresh")
_HOSTS = re.compile(r"^http://(127\.0\.0\.1|localhost):\d+")


def modes() -> list[str]:
    """replay always; live when a server is there, and always in CI (so a missing server fails)."""
    if RECORDING:
        return ["replay"]
    return ["replay", "live"] if (live_url() or IN_CI) else ["replay"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "ls_mode" in metafunc.fixturenames:
        metafunc.parametrize("ls_mode", modes())


# ---- cassette hygiene ----------------------------------------------------------------------------


def scrub_request(request: Any) -> Any:
    """The server's URL made neutral, and tokens in JSON request bodies (the refresh token sent to
    ``/api/token/refresh/``) replaced."""
    request.uri = _HOSTS.sub(REPLAY_URL, request.uri)
    if request.body:
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return request
        if isinstance(body, dict) and any(k in body for k in _TOKEN_KEYS):
            request.body = json.dumps({k: f"scrubbed-{k}" if k in _TOKEN_KEYS else v
                                       for k, v in body.items()}).encode()
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in ("set-cookie", "cookie"):
            headers.pop(name)
    raw = response.get("body", {}).get("string")
    if raw:
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return response
        if isinstance(body, dict) and any(k in body for k in _TOKEN_KEYS):
            for k in _TOKEN_KEYS:
                if k in body:
                    body[k] = f"scrubbed-{k}"
            response["body"]["string"] = json.dumps(body).encode()
    return response


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        "filter_headers": [("authorization", None), ("cookie", None)],
        "filter_post_data_parameters": [("password", None), ("csrfmiddlewaretoken", None)],
        "match_on": ["method", "scheme", "host", "port", "path", "query"],
        "decode_compressed_response": True,
        "before_record_request": scrub_request,
        "before_record_response": scrub_response,
        # the fault harness's own server, in front of the real one (reached as "localhost")
        "ignore_hosts": ["127.0.0.1"],
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(CASSETTES / request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_"))


@pytest.fixture
def vcr_markers(request: pytest.FixtureRequest) -> list[pytest.Mark]:
    """Cassettes in replay mode only: live mode talks to the server and records nothing. (Read from the
    test's parameters, not the ``ls_mode`` fixture: pytest-recording asks every test for its markers,
    and tests that never talk to a server must not be run once per mode.)"""
    callspec = getattr(request.node, "callspec", None)
    live = callspec is not None and callspec.params.get("ls_mode") == "live"
    return [] if live else list(request.node.iter_markers(name="vcr"))


@pytest.fixture(autouse=True)
def every_recorded_request_is_made(request: pytest.FixtureRequest) -> Iterator[None]:
    """Replay uses the whole cassette: a page, lookup or answer the backend skipped fails the test."""
    yield
    if "vcr" not in request.fixturenames:
        return
    cassette = request.getfixturevalue("vcr")
    if cassette is not None and not RECORDING and cassette.data:
        assert cassette.all_played, f"{len(cassette.data) - cassette.play_count} recorded request(s) never made"


# ---- the server, the backend, the annotators -----------------------------------------------------


def _server_for(ls_mode: str) -> tuple[str, str]:
    """(url, admin token) the backend uses in this mode."""
    if ls_mode == "live" or RECORDING:
        url = live_url()
        if url is None:
            pytest.fail("no Label Studio server: .ci/labelstudio.sh exports ANNOTATE_TEST_LABELSTUDIO_URL "
                        "(in CI the live tests must run)")
        return url, live_token()
    return REPLAY_URL, REPLAY_TOKEN


@pytest.fixture
def ls_url(ls_mode: str) -> str:
    return _server_for(ls_mode)[0]


@pytest.fixture
def make_backend(ls_mode: str) -> Iterator[Callable[..., LabelStudioBackend]]:
    url, token = _server_for(ls_mode)
    made: list[LabelStudioBackend] = []

    def make(**options: Any) -> LabelStudioBackend:
        options.setdefault("url", url)
        options.setdefault("token", SecretStr(token))
        options.setdefault("sleep", lambda s: None)
        backend = LabelStudioBackend(**options)
        made.append(backend)
        return backend

    yield make
    for b in made:
        b.close_backend()


@pytest.fixture(scope="session")
def live_annotators() -> list[Annotator] | None:
    """Real users of the live server, signed up once per session before any cassette is open (so
    their sign-ups are never recorded); None without a server."""
    url = live_url()
    return sign_up(url, live_token(), N_ANNOTATORS + 1) if url else None


@pytest.fixture
def annotators(ls_mode: str, live_annotators: list[Annotator] | None) -> list[Annotator]:
    """Real users of the server, or their replay stand-ins (whose requests the cassette answers)."""
    if ls_mode == "live" or RECORDING:
        if live_annotators is None:
            pytest.fail("no Label Studio server to sign annotators up on (.ci/labelstudio.sh)")
        return live_annotators[:N_ANNOTATORS]
    return replay_annotators(N_ANNOTATORS)


@pytest.fixture(scope="session")
def live_refresh_token(live_annotators: list[Annotator] | None) -> str | None:
    """The personal access token of a user who labels nothing (made before any cassette opens)."""
    url = live_url()
    return personal_access_token(url, live_annotators[-1]) if url and live_annotators else None


@pytest.fixture
def refresh_token(ls_mode: str, live_refresh_token: str | None) -> str:
    if ls_mode == "live" or RECORDING:
        assert live_refresh_token is not None, "no Label Studio server (.ci/labelstudio.sh)"
        return live_refresh_token
    return replay_refresh_token()


def key_for(ls_mode: str, base: str) -> str:
    """A job key: the recorded one in replay (and while recording, on a fresh server); one of this
    run live, where the server may hold the keys of earlier runs."""
    return f"{base}-{RUN}" if ls_mode == "live" else base


RUN = uuid.uuid4().hex[:8]
