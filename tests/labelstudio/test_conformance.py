"""The core's conformance suite on the Label Studio backend, against a real server (live) and the
cassettes recorded from it (replay). Answers come from real users of the server labeling through the
project's queue (``labeling_work``), in both modes: recorded while recording, replayed after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from annotate_labelstudio import LabelStudioBackend
from pydantic import SecretStr

from annotate_core.testing import BackendConformance
from annotate_core.testing.faults import Fault, FaultPlan

from .conftest import RECORDING, key_for
from .faulty import FaultyLabelStudio, proxied, served
from .labeling_work import label_everything
from .server import REPLAY_TOKEN, REPLAY_URL, Annotator, live_token, live_url


def _proxied(url: str) -> str:
    """The server as the proxy reaches it: by name, so vcr (ignoring 127.0.0.1) records the forwards."""
    return url.replace("://127.0.0.1:", "://localhost:")


@pytest.mark.vcr
class TestLabelStudioConformance(BackendConformance):
    backend_class = LabelStudioBackend
    page_size = 5
    unknown_job_id = "999999"

    @pytest.fixture(autouse=True)
    def fresh_job_key(self, request: pytest.FixtureRequest, ls_mode: str) -> None:
        """Live, a key of this run: a server kept between runs already holds the suite's key, and the
        key test must see its first create (the cassettes hold the suite's own key)."""
        request.instance.job_key = key_for(ls_mode, self.job_key)

    @pytest.fixture
    def backend(self, make_backend):
        return make_backend()

    @pytest.fixture
    def paged_backend(self, make_backend):
        return make_backend(page_size=self.page_size)

    @pytest.fixture
    def make_answers(self, annotators: list[Annotator]):
        def make(job, items) -> None:
            label_everything(job.spec, job.id, annotators)

        return make

    @pytest.fixture
    def faulty_vendor(self, ls_mode: str, annotators: list[Annotator], vcr) -> Iterator[FaultyLabelStudio]:
        if ls_mode == "live" or RECORDING:
            upstream, token = _proxied(live_url() or ""), live_token()
            people = [Annotator(p.email, p.token, upstream) for p in annotators]
        else:
            upstream, token, people = REPLAY_URL, REPLAY_TOKEN, annotators
        with served(upstream, token, people, vcr) as vendor:
            yield vendor

    @pytest.fixture
    def fault_backend(self, make_backend, fault: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[LabelStudioBackend]:
        if fault == "auth":  # a well-formed legacy token the server does not know
            yield make_backend(token=SecretStr("f" * 40))
        elif fault == "rate_limit":  # a self-hosted server never throttles: the harness answers 429s
            # every request answered 429 before any forward: nothing reaches the server or the cassette
            plan = FaultPlan(server={n: Fault.RATE_LIMITED_BARE for n in range(1, 30)})
            with proxied(REPLAY_URL, None, plan) as server:
                yield make_backend(url=server.url)
        else:  # a body Label Studio's own validation refuses: a title under 3 characters
            backend = make_backend()
            original = backend.project_body
            monkeypatch.setattr(backend, "project_body", lambda spec, key: {**original(spec, key), "title": "ab"})
            yield backend
