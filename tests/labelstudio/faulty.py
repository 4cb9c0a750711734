"""The fault harness in front of the real Label Studio: planned faults on a proxy to the server.

No fake here: ``FaultyServer`` serves a handler that forwards every request it lets through to the
real server (or, in replay, to the cassette recorded from it), so what a create, an import or a
lookup does after a fault is what Label Studio does. The harness's own loopback server is not
recorded (``ignore_hosts``); the forwarded requests are.
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

from annotate_core.items import Item
from annotate_core.testing.faults import FaultyServer, FaultyVendor
from annotate_core.testing.specs import base_spec

from .labeling_work import label_everything
from .server import Annotator

#: the proxy's forwards must not be mistaken for the harness's own server (vcr ignores 127.0.0.1)
HOP_BY_HOP = {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "accept-encoding"}
#: the backend's read timeout behind the proxy. Generous: a loaded machine can make the real server answer
#: slower than a tight timeout, and an unplanned timeout recorded once would not happen again on replay.
#: A READ_TIMEOUT fault holds its reply just past it (not the harness's default of twice as long).
READ_TIMEOUT = 3.0
HOLD = READ_TIMEOUT + 0.2


def forwarding_handle(upstream: str):
    """Forward with urllib3 itself: the harness's client deaths patch ``requests.Session.send``,
    which must stop the backend, not the server side of the proxy."""
    pool = urllib3.PoolManager(retries=False, timeout=60.0)

    def handle(method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        sent = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        resp = pool.request(method, upstream + target, headers=sent, body=body or None, redirect=False)
        kept = {k: v for k, v in resp.headers.items() if k.lower() in ("content-type", "retry-after")}
        return resp.status, kept, resp.data

    return handle


class FaultyLabelStudio(FaultyVendor):
    """One job of the suite's base spec is one project (annotate-made, with a ``faults-`` key)."""

    one_job: Mapping[str, int] = {"project": 1}
    #: find (listing), create, find again, project, keys, import, project + patch, project + tasks
    expected_requests = 14

    def __init__(self, server: FaultyServer, upstream: str, token: str, people: list[Annotator]) -> None:
        super().__init__(server)
        self.upstream = upstream
        self.admin = LabelStudioBackend(url=upstream, token=SecretStr(token), sleep=lambda s: None)
        self.people = people
        self.key: str | None = None  # the job's key, read from its project once the crowd answers

    def backend(self) -> LabelStudioBackend:
        return LabelStudioBackend(url=self.server.url, token=self.admin.settings.token, sleep=lambda s: None,
                                  backoff_factor=0.0, timeout=(2.0, READ_TIMEOUT))

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
def served(upstream: str, token: str, people: list[Annotator]) -> Iterator[FaultyLabelStudio]:
    server = FaultyServer(forwarding_handle(upstream), read_timeout=READ_TIMEOUT)
    server.hold = HOLD
    server.start()
    vendor = FaultyLabelStudio(server, upstream, token, people)
    try:
        yield vendor
    finally:
        vendor.close()
        server.stop()
