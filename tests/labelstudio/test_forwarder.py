"""The fault proxy's ``Forwarder`` (faulty.py) stays off vcr's process-wide patches: what made the proxied
tests leave the cassette about one replay in three. No Label Studio here: a cassette written by the test
and, for recording, a loopback server standing in for the real one."""

from __future__ import annotations

from pathlib import Path

import vcr
from vcr import matchers
from vcr.cassette import Cassette
from vcr.patch import force_reset
from vcr.record_mode import RecordMode
from vcr.request import Request

from annotate_core.testing.faults import FaultyServer

from .faulty import Forwarder
from .server import REPLAY_URL

MATCH_ON = ("method", "scheme", "host", "port", "path", "query")
MATCHERS = tuple(getattr(matchers, name) for name in MATCH_ON)


def _replay_cassette(tmp_path: Path) -> Cassette:
    path = str(tmp_path / "forwards.yaml")
    writer = Cassette(path, record_mode=RecordMode.ALL, match_on=MATCHERS)
    for n in (1, 2):
        writer.append(Request("GET", f"{REPLAY_URL}/api/projects/?page=1", None, {}),
                      {"status": {"code": 200, "message": "OK"},
                       "headers": {"Content-Type": ["application/json"], "Set-Cookie": ["x=y"]},
                       "body": {"string": f'{{"n": {n}}}'.encode()}})
    writer._save(force=True)
    return Cassette.load(path=path, record_mode=RecordMode.NONE, match_on=MATCHERS)


def test_replay_plays_from_the_cassette_even_while_vcr_is_unpatched(tmp_path: Path) -> None:
    """Another thread's request to an ignored host runs inside ``force_reset()``: urllib3 is unpatched
    for every thread meanwhile. The forwarder does not care: it asks the cassette, in recorded order."""
    cassette = _replay_cassette(tmp_path)
    forward = Forwarder(REPLAY_URL, cassette)
    with force_reset():
        first = forward("GET", "/api/projects/?page=1", {"Authorization": "Token t"}, b"")
        second = forward("GET", "/api/projects/?page=1", {}, b"")
    assert first == (200, {"Content-Type": "application/json"}, b'{"n": 1}')
    assert second[2] == b'{"n": 2}' and cassette.all_played
    assert forward.misses == []


def test_a_forward_missing_from_the_cassette_is_reported_not_sent(tmp_path: Path) -> None:
    forward = Forwarder(REPLAY_URL, _replay_cassette(tmp_path))
    status, _, body = forward("POST", "/api/projects/", {}, b"{}")
    assert status == 599 and b"not in the cassette: POST /api/projects/" in body
    assert forward.misses == ["POST /api/projects/"]


def test_recording_taps_the_real_server_once_scrubbed(tmp_path: Path) -> None:
    """While recording, vcr's patches are live; the forward goes through urllib3's real connection (a
    stub would have taped it a second time) and is appended through the cassette's own hooks."""
    seen: list[tuple[str, str]] = []

    def upstream(method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        seen.append((method, target))
        return 201, {"Content-Type": "application/json", "Set-Cookie": "sessionid=s"}, b'{"id": 7}'

    server = FaultyServer(upstream)
    server.start()
    try:
        recorder = vcr.VCR(record_mode="all", match_on=MATCH_ON, filter_headers=["authorization"])
        with recorder.use_cassette(str(tmp_path / "rec.yaml")) as cassette:
            forward = Forwarder(server.url, cassette)
            reply = forward("POST", "/api/projects/", {"Authorization": "Token secret"}, b'{"title": "t"}')
            forward.close()
    finally:
        server.stop()
    assert reply == (201, {"Content-Type": "application/json"}, b'{"id": 7}')
    assert seen == [("POST", "/api/projects/")]
    assert len(cassette.data) == 1
    request, response = cassette.data[0]
    assert request.uri == f"{server.url}/api/projects/" and "authorization" not in {k.lower() for k in request.headers}
    assert response["status"]["code"] == 201 and "Set-Cookie" not in response["headers"]
