"""The fault harness: a whole job against a stateful vendor fake, faults at random points, then reruns.

Vendors fail mid-way and clients die. What a backend promises is that rerunning the same code with
the same job key ends with exactly one job, every item exactly once, and every answer read exactly
once. This module makes that testable for any remote backend:

* ``FaultyServer`` serves a fake vendor's ``handle(method, target, headers, body)`` on loopback and,
  following a ``FaultPlan``, answers some requests with a fault instead: a 429 (with or without
  ``Retry-After``), a 5xx *before* the fake acted, a 5xx *after* it acted, a reply lost after it acted
  (connection closed), or a reply that comes after the client's read timeout.
* ``FaultPlan.client_deaths()`` makes the client process "die" between two calls: ``ClientDied`` (a
  ``BaseException``, so no ``except Exception`` in a backend can swallow it) is raised before a request
  is sent, or after the vendor acted on it and before the client read the reply.
* ``FaultyVendor`` is what a plugin subclasses: a fresh backend pointed at the served fake, and the
  vendor-side counts the suite checks. ``BackendConformance.test_faults_then_rerun_end_with_one_job``
  drives it for every backend that declares itself ``remote`` and has ``JOB_KEYS``.

The fake must be as strict as the real API: no deduplication, paging or validation the vendor does
not promise, or the harness proves nothing.
"""

from __future__ import annotations

import abc
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from unittest import mock

import requests

if TYPE_CHECKING:
    from annotate_core.backend import Backend
    from annotate_core.items import Item

#: a fake vendor: (method, target with query, headers, body) -> (status, headers, body)
Handle = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]


class Fault(str, Enum):
    """One thing that goes wrong with one request."""

    RATE_LIMITED = "429 with Retry-After"
    RATE_LIMITED_BARE = "429 without Retry-After"
    ERROR_BEFORE = "503 before the vendor acted"
    ERROR_AFTER = "500 after the vendor acted"
    LOST_REPLY = "reply lost after the vendor acted"
    READ_TIMEOUT = "reply later than the client's read timeout"
    CLIENT_DIES_BEFORE = "client dies before sending"
    CLIENT_DIES_AFTER = "client dies after the vendor acted"

    @property
    def client_side(self) -> bool:
        return self in (Fault.CLIENT_DIES_BEFORE, Fault.CLIENT_DIES_AFTER)


class ClientDied(BaseException):
    """The client process stopped here (a ``kill -9`` between two calls)."""


@dataclass
class FaultPlan:
    """Which request gets which fault. Server faults count the requests the fake receives (urllib3's
    own retries included); client deaths count the requests the client starts."""

    server: dict[int, Fault] = field(default_factory=dict)
    client: dict[int, Fault] = field(default_factory=dict)
    fired: list[str] = field(default_factory=list)
    _server_n: int = 0
    _client_n: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def random(cls, seed: int, *, requests: int, faults: int = 3) -> FaultPlan:
        """``faults`` faults of random kinds at random requests among the first ``requests``."""
        rng = random.Random(seed)
        plan = cls()
        kinds = list(Fault)
        for n in sorted(rng.sample(range(1, max(requests, faults) + 1), faults)):
            fault = rng.choice(kinds)
            (plan.client if fault.client_side else plan.server)[n] = fault
        return plan

    def describe(self) -> str:
        return "; ".join(self.fired) or "no fault fired"

    def on_server_request(self, method: str, target: str) -> Fault | None:
        with self._lock:
            self._server_n += 1
            fault = self.server.get(self._server_n)
            if fault is not None:
                self.fired.append(f"server request {self._server_n} {method} {target.split('?')[0]}: {fault.value}")
            return fault

    def _on_client_request(self, method: str, url: str) -> Fault | None:
        with self._lock:
            self._client_n += 1
            fault = self.client.get(self._client_n)
            if fault is not None:
                self.fired.append(f"client request {self._client_n} {method} {url.split('?')[0]}: {fault.value}")
            return fault

    @contextmanager
    def client_deaths(self) -> Iterator[None]:
        """While active, the client dies at the planned requests (every ``requests`` session)."""
        real_send = requests.Session.send
        plan = self

        def send(session: requests.Session, request: requests.PreparedRequest, **kw: Any) -> requests.Response:
            fault = plan._on_client_request(request.method or "", request.url or "")
            if fault is Fault.CLIENT_DIES_BEFORE:
                raise ClientDied(f"before {request.method} {request.url}")
            resp = real_send(session, request, **kw)
            if fault is Fault.CLIENT_DIES_AFTER:
                raise ClientDied(f"after {request.method} {request.url} was acted on")
            return resp

        # patched on the class, so sessions made inside the library (not ours to reach) die too
        with mock.patch.object(requests.Session, "send", send):
            yield


class FaultyServer:
    """A fake vendor's ``handle`` on a loopback port, answering with the faults of ``plan``."""

    def __init__(self, handle: Handle, *, read_timeout: float = 0.3) -> None:
        self.handle = handle
        self.plan: FaultPlan | None = None
        #: how long a READ_TIMEOUT reply is held back: longer than the client's read timeout
        self.hold = read_timeout * 2 + 0.1
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def start(self) -> str:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: without TCP_NODELAY each reply waits ~40 ms on
            # the client's delayed ACK, which makes a 20-seed run take minutes instead of seconds
            disable_nagle_algorithm = True

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                plan = owner.plan
                fault = plan.on_server_request(self.command, self.path) if plan is not None else None
                if fault in (Fault.RATE_LIMITED, Fault.RATE_LIMITED_BARE, Fault.ERROR_BEFORE):
                    status = 503 if fault is Fault.ERROR_BEFORE else 429
                    headers = {"Retry-After": "0"} if fault is Fault.RATE_LIMITED else {}
                    return self._reply(status, {"Content-Type": "application/json", **headers},
                                       b'{"code": "FAULT", "message": "injected by the fault harness"}')
                status, headers, body = owner.handle(self.command, self.path, dict(self.headers.items()), raw)
                if fault is Fault.ERROR_AFTER:
                    return self._reply(500, {"Content-Type": "application/json"},
                                       b'{"code": "INTERNAL_ERROR", "message": "injected after acting"}')
                if fault is Fault.LOST_REPLY:
                    self.close_connection = True
                    return None  # nothing written: the client sees the connection close
                if fault is Fault.READ_TIMEOUT:
                    time.sleep(owner.hold)
                    self.close_connection = True
                    return None
                return self._reply(status, headers, body)

            def _reply(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class FaultyVendor(abc.ABC):
    """What a remote backend's suite subclass provides (fixture ``faulty_vendor``) for the harness.

    One instance is one vendor account: its state survives every rerun of the job. ``server`` serves
    the fake; ``backend()`` builds a fresh backend instance (a new process, as far as the backend can
    tell) pointed at ``server.url``, with a read timeout below ``server.hold`` and sleeps that return
    at once.
    """

    #: vendor objects one job consists of, by kind (e.g. {"project": 1, "pool": 1})
    one_job: Mapping[str, int] = {}
    #: about how many requests a whole job takes, so planned faults land inside it
    expected_requests: int = 40

    def __init__(self, server: FaultyServer) -> None:
        self.server = server

    @abc.abstractmethod
    def backend(self) -> Backend:
        """A fresh backend instance talking to ``server.url``."""

    @abc.abstractmethod
    def objects(self) -> Mapping[str, int]:
        """How many objects of each kind in ``one_job`` the vendor holds now."""

    @abc.abstractmethod
    def item_copies(self) -> Counter[str]:
        """Item key -> how many copies of it the vendor holds, over every job."""

    @abc.abstractmethod
    def answer(self, job_id: str, items: list[Item]) -> None:
        """Have the crowd answer every item of the job that has no answer yet (vendor side, no faults)."""

    @abc.abstractmethod
    def answer_count(self, job_id: str) -> int:
        """How many answers the vendor holds for the job."""


@dataclass
class RerunOutcome:
    """What ``run_with_reruns`` ended with: the job and its answers once a run got through, and why
    each earlier run failed."""

    job: Any = None
    answers: Any = None
    failures: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.job is not None


def run_with_reruns(vendor: FaultyVendor, plan: FaultPlan, spec: Any, items: list[Item], key: str, *,
                    max_runs: int = 8, answer: bool = True) -> RerunOutcome:
    """The same script, rerun after each failure as a user would: create with ``key``, add the items,
    start, have the crowd answer and read the answers back (``answer=False``: stop after start)."""
    from annotate_core.client import Client
    from annotate_core.errors import AnnotateError

    vendor.server.plan = plan
    outcome = RerunOutcome()
    for _run in range(max_runs):
        backend = vendor.backend()
        try:
            with plan.client_deaths():
                job = Client(backend).create_job(spec, key=key)
                job.add_items(items, progress=False)
                job.start()
                answers = None
                if answer:
                    vendor.answer(job.id, items)
                    answers = job.answers()
            outcome.job, outcome.answers = job, answers
            return outcome
        except (AnnotateError, ClientDied) as exc:
            outcome.failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            backend.close_backend()
    return outcome
