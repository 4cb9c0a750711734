"""The core's conformance suite, run against the Toloka backend on cassettes.

Two Toloka facts shape the suite's base spec here (and only here): Toloka pays per task suite, so
the spec has a reward; manual review needs non-automatic acceptance, so it has ``review``. Golden
items reach Tolokers only through the mixer's golden count, so jobs with golden items mix one per
suite.
"""

from __future__ import annotations

from typing import Any

import pytest
from annotate_toloka import TolokaBackend
from pydantic import SecretStr

from annotate_core.testing import BackendConformance, base_spec
from annotate_core.testing.faults import FaultyServer

from . import expected as e
from .fake_toloka import FakeToloka, TolokaFaultyVendor

#: the backend's read timeout in the fault harness: the server holds a READ_TIMEOUT reply longer
HARNESS_READ_TIMEOUT = 0.3

# synthetic: a live crowd does not answer within a test run (make_answers relies on the cassette)
pytestmark = [pytest.mark.vcr, pytest.mark.synthetic]


class TestTolokaConformance(BackendConformance):
    backend_class = TolokaBackend
    page_size = e.CONFORMANCE_PAGE_SIZE
    unknown_job_id = e.CONFORMANCE_UNKNOWN_POOL

    @pytest.fixture(autouse=True)
    def every_recorded_request_is_made(self, vcr, recording: bool):
        """Replay uses the whole cassette: a page, retry or upload the backend skipped fails the test."""
        yield
        if not recording:
            assert vcr.all_played, f"{len(vcr) - vcr.play_count} recorded request(s) never made"

    @pytest.fixture
    def backend(self, make_backend):  # type: ignore[override]
        b = make_backend()
        yield b
        b.close_backend()

    @pytest.fixture
    def paged_backend(self, make_backend):  # type: ignore[override]
        b = make_backend(page_size=e.CONFORMANCE_PAGE_SIZE)
        yield b
        b.close_backend()

    @pytest.fixture
    def fault_backend(self, make_backend, fault: str, recording: bool):  # type: ignore[override]
        if recording:
            pytest.fail("the fault cassettes are synthetic: regenerate them with make_cassettes.py")
        b = make_backend(token=SecretStr("revoked-toloka-api-key-0001")) if fault == "auth" else make_backend()
        yield b
        b.close_backend()

    @pytest.fixture
    def faulty_vendor(self):  # type: ignore[override]
        """A stateful fake Toloka account on loopback, faults injected by the harness (not a cassette)."""
        fake = FakeToloka()
        server = FaultyServer(fake.handle, read_timeout=HARNESS_READ_TIMEOUT)
        server.start()
        assert server.hold > HARNESS_READ_TIMEOUT, "a held reply must outlast the read timeout"
        yield TolokaFaultyVendor(server, fake, read_timeout=HARNESS_READ_TIMEOUT)
        server.stop()

    @pytest.fixture
    def make_answers(self):  # type: ignore[override]
        return lambda job, items: None  # the cassette already holds the Tolokers' answers

    def spec(self, **overrides: Any):
        return base_spec(TolokaBackend.capabilities, **{**e.CONFORMANCE_EXTRAS, **overrides})

    def _started_job(self, client, make_answers, *, golden: int = 0, **overrides: Any):
        if golden:
            overrides.setdefault("distribution", {"kind": "pulling", "batch_size": 10, "golden_per_batch": 1})
        return super()._started_job(client, make_answers, golden=golden, **overrides)
