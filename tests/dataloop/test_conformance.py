"""The core's conformance suite on the Dataloop backend: declared capabilities work on cassettes,
undeclared ones are refused before any request, and the gate's failures map onto the core's errors.

The cassettes under ``cassettes/dataloop/conformance/`` are authored against the fake gate
(``python tests/dataloop/generate_cassettes.py -k conformance``), which clamps DQL pages to
``fake_gate.MAX_PAGE_SIZE`` objects: the pagination test's items span four pages of every item query.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from annotate_dataloop import DataloopBackend
from annotate_dataloop.jobref import JobRef
from pydantic import SecretStr

from annotate_core.testing import BackendConformance

from .conftest import CASSETTE_FAKES
from .fake_gate import MAX_PAGE_SIZE
from .faulty import FaultyDataloop, served_gate
from .helpers import fake_jwt
from .recorded import replayed_all

#: the gate's answers to create_job's first request, per fault; bodies are ``{"status", "message"}``
#: as the gate sends them (reference §4.1: dtlpy reads ``message``); 400's text is the OpenAPI one
FAULTS = {
    "auth": ("GET", r"/projects/[^/]+/name$", 401, "Unauthorized", {}),
    # no documented limit or header (reference §4.2): an hour's Retry-After is beyond any sensible wait
    "rate_limit": ("GET", r"/projects/[^/]+/name$", 429, "Too Many Requests", {"Retry-After": "3600"}),
    "validation": ("POST", r"/annotationtasks$", 400, "Missing or Invalid id", {}),
}


def _label(item: dict, who: str) -> str:
    digest = hashlib.sha256(f"{item['id']}/{who}".encode()).digest()
    return "cat" if digest[0] % 2 else "dog"


@pytest.mark.vcr
class TestDataloopConformance(BackendConformance):
    backend_class = DataloopBackend
    page_size = MAX_PAGE_SIZE  # the fake gate's clamp the cassettes were recorded with
    unknown_job_id = "task:6700000000000000000fffff"
    cassette_fakes = CASSETTE_FAKES

    @pytest.fixture
    def vcr_markers(self, request: pytest.FixtureRequest) -> list[pytest.Mark]:
        """Cassettes for every test but the fault harness, which serves its own stateful fake on loopback."""
        if request.node.name.startswith("test_faults_then_rerun"):
            return []
        return list(request.node.iter_markers(name="vcr"))

    @pytest.fixture(autouse=True)
    def every_recorded_request_is_made(self, vcr):
        """Replay uses the whole cassette: a page, retry or upload the backend skipped fails the test."""
        yield
        assert vcr is None or replayed_all(vcr), "a recorded request was never made"

    @pytest.fixture
    def faulty_vendor(self) -> Iterator[FaultyDataloop]:
        """The fake gate (no dedupe, real paging, commands that finish unpolled) behind planned faults."""
        with served_gate() as vendor:
            yield vendor

    @pytest.fixture
    def backend(self, make_backend):
        return make_backend()

    @pytest.fixture
    def fault_backend(self, make_backend, fake, fault: str):
        if fake is not None:
            method, path, status, message, headers = FAULTS[fault]
            fake.fail(method, path, status, {"status": status, "message": message}, headers=headers)
        if fault == "auth":  # a well-formed, unexpired JWT the gate no longer accepts
            return make_backend(token=SecretStr(fake_jwt(4102444800, email="revoked@example.com")))
        return make_backend()

    @pytest.fixture
    def make_answers(self, fake):
        def make(job, items) -> None:
            if fake is not None:  # annotators work in the fake; on replay the cassette has their answers
                fake.work(JobRef.parse(job.id).task, _label)

        return make
