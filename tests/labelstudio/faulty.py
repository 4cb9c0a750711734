"""The fault harness in front of the real Label Studio: planned faults on a proxy to the server.

No fake here: ``FaultyServer`` serves a handler that forwards every request it lets through to the
real server (or, in replay, to the cassette recorded from it), so what a create, an import or a
lookup does after a fault is what Label Studio does. The harness's own loopback server is not
recorded (``ignore_hosts``); the forwarded requests are.

The forwards never go through vcr's patched connection classes. vcr patches urllib3 for the whole
process, and a request to an ignored host (the backend's own request to this proxy, on the test's
thread) is sent inside ``vcr.patch.force_reset()``, which puts urllib3's real classes back *for every
thread* until it returns; two threads in it at once can even leave them unpatched for the rest of
the test. A forward made by the proxy's thread through urllib3 then raced the test's thread: now and
then it got a real connection, left the cassette for the network (``labelstudio.test`` does not
resolve) and went unrecorded while recording. So ``Forwarder`` talks to the cassette itself: on
replay it plays the recorded response (``Cassette.play_response``, the cassette's own matching and
play counts); while recording it sends through a connection pool whose connection class is bound
here, at import, to urllib3's real one, and appends the exchange (``Cassette.append``, which runs
the cassette's scrubbing hooks); live it just forwards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import urllib3
from annotate_labelstudio import LabelStudioBackend
from annotate_labelstudio.labeling import KEY_FIELD, read_mark
from pydantic import SecretStr
from urllib3.connection import HTTPConnection
from vcr.cassette import Cassette
from vcr.request import Request as VcrRequest

from annotate_core.items import Item
from annotate_core.testing.faults import FaultPlan, FaultyServer, FaultyVendor
from annotate_core.testing.specs import base_spec

from .labeling_work import label_everything
from .server import Annotator

#: the headers a forward does not pass on, and the reply headers it keeps
HOP_BY_HOP = {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "accept-encoding"}
KEPT_HEADERS = ("content-type", "retry-after")
#: the backend's read timeout behind the proxy, live and while recording. Generous: a loaded machine can
#: make the real server answer slower than a tight timeout, and an unplanned timeout recorded once would
#: not happen again on replay. A READ_TIMEOUT fault holds its reply just past it (not the harness's
#: default of twice as long).
READ_TIMEOUT = 3.0
#: on replay the cassette answers in milliseconds: a shorter wait keeps the held replies cheap
REPLAY_READ_TIMEOUT = 1.0


def read_timeout(cassette: Cassette | None) -> float:
    """The backend's read timeout behind the proxy: short when the cassette replays."""
    return REPLAY_READ_TIMEOUT if cassette is not None and cassette.write_protected else READ_TIMEOUT


class _DirectPool(urllib3.HTTPConnectionPool):
    """A pool whose connections are urllib3's real ones whatever vcr patches on the base class
    (bound at import, during collection, before any cassette is open)."""

    ConnectionCls = HTTPConnection


assert HTTPConnection.__module__ == "urllib3.connection", "faulty.py imported inside a cassette"


class Forwarder:
    """The proxy's ``handle``: each request the faults let through goes to the real server, or to the
    cassette recorded from it. Requests the cassette cannot answer are kept in ``misses`` (and
    answered 599) so the test fails naming them instead of reaching the network."""

    def __init__(self, upstream: str, cassette: Cassette | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.cassette = cassette
        self.misses: list[str] = []
        url = urllib3.util.parse_url(self.upstream)
        self._pool = _DirectPool(url.host or "", url.port or 80, retries=False, timeout=60.0, maxsize=4)

    def __call__(self, method: str, target: str, headers: dict[str, str], body: bytes
                 ) -> tuple[int, dict[str, str], bytes]:
        sent = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        cassette = self.cassette
        request = VcrRequest(method, self.upstream + target, body or None, sent)
        if cassette is not None and cassette.write_protected:  # replay
            if not cassette.can_play_response_for(request):
                self.misses.append(f"{method} {target}")
                return 599, {"Content-Type": "text/plain"}, f"not in the cassette: {method} {target}".encode()
            recorded = cassette.play_response(request)
            raw = recorded["body"]["string"]
            kept = {k: v[0] if isinstance(v, list) else v for k, v in recorded["headers"].items()
                    if k.lower() in KEPT_HEADERS}
            return recorded["status"]["code"], kept, raw.encode() if isinstance(raw, str) else raw
        resp = self._pool.request(method, target, headers=sent, body=body or None, redirect=False)
        kept = {k: v for k, v in resp.headers.items() if k.lower() in KEPT_HEADERS}
        if cassette is not None:  # recording
            cassette.append(request, {"status": {"code": resp.status, "message": resp.reason},
                                      "headers": {k: [v] for k, v in kept.items()},
                                      "body": {"string": resp.data}})
        return resp.status, kept, resp.data

    def close(self) -> None:
        self._pool.close()


class FaultyLabelStudio(FaultyVendor):
    """One job of the suite's base spec is one project (annotate-made, with a ``faults-`` key)."""

    one_job: Mapping[str, int] = {"project": 1}
    #: find (listing), create, find again, project, keys, import, project + patch, project + tasks
    expected_requests = 14

    def __init__(self, server: FaultyServer, upstream: str, token: str, people: list[Annotator],
                 timeout: float = READ_TIMEOUT) -> None:
        super().__init__(server)
        self.timeout = timeout
        self.upstream = upstream
        self.admin = LabelStudioBackend(url=upstream, token=SecretStr(token), sleep=lambda s: None)
        self.people = people
        self.key: str | None = None  # the job's key, read from its project once the crowd answers

    def backend(self) -> LabelStudioBackend:
        return LabelStudioBackend(url=self.server.url, token=self.admin.settings.token, sleep=lambda s: None,
                                  backoff_factor=0.0, timeout=(2.0, self.timeout))

    def _projects(self) -> list[dict[str, Any]]:
        """Every project holding the job's key (a server kept between runs may hold older ones: a rerun
        then attaches to them, which is what keys are for)."""
        out = []
        for p in self.admin.api.iter_projects():
            mark = read_mark(p.get("label_config"), "project")
            if mark is not None and self.key is not None and mark.key == self.key:
                out.append(p)
        return out

    def objects(self) -> Mapping[str, int]:
        return {"project": len(self._projects())}

    def item_copies(self) -> Counter[str]:
        copies: Counter[str] = Counter()
        for p in self._projects():
            for task in self.admin.api.iter_tasks(str(p["id"])):
                copies[task["data"].get(KEY_FIELD)] += 1
        return copies

    def answer(self, job_id: str, items: list[Item]) -> None:
        project = self.admin.api.object("GET", f"/api/projects/{job_id}/")
        mark = read_mark(project.get("label_config"), "project")
        self.key = mark.key if mark is not None else None
        label_everything(base_spec(LabelStudioBackend.capabilities), job_id, self.people)

    def answer_count(self, job_id: str) -> int:
        return sum(len(t.get("annotations") or []) for t in self.admin.api.iter_tasks(job_id, annotations=True))

    def close(self) -> None:
        self.admin.close_backend()


@contextmanager
def proxied(upstream: str, cassette: Cassette | None, plan: FaultPlan | None = None) -> Iterator[FaultyServer]:
    """The fault proxy in front of ``upstream`` (or its cassette), stopped on exit; fails the test
    if a forward was not in the cassette."""
    forward = Forwarder(upstream, cassette)
    timeout = read_timeout(cassette)
    server = FaultyServer(forward, read_timeout=timeout)
    server.hold = timeout + 0.2
    server.plan = plan
    server.start()
    try:
        yield server
    finally:
        server.stop()
        forward.close()
    assert not forward.misses, f"forwards not in the cassette: {forward.misses}"


@contextmanager
def served(upstream: str, token: str, people: list[Annotator], cassette: Cassette | None
           ) -> Iterator[FaultyLabelStudio]:
    with proxied(upstream, cassette) as server:
        vendor = FaultyLabelStudio(server, upstream, token, people, read_timeout(cassette))
        try:
            yield vendor
        finally:
            vendor.close()
