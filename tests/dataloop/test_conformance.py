"""The core's conformance suite on the Dataloop backend: declared capabilities work on cassettes,
undeclared ones are refused before any request."""

from __future__ import annotations

import hashlib

import pytest
from annotate_dataloop import DataloopBackend
from annotate_dataloop.jobref import JobRef

from annotate_core.testing import BackendConformance


def _label(item: dict, who: str) -> str:
    digest = hashlib.sha256(f"{item['id']}/{who}".encode()).digest()
    return "cat" if digest[0] % 2 else "dog"


@pytest.mark.vcr
class TestDataloopConformance(BackendConformance):
    backend_class = DataloopBackend

    @pytest.fixture
    def backend(self, make_backend):
        return make_backend()

    @pytest.fixture
    def make_answers(self, fake):
        def make(job, items) -> None:
            if fake is not None:  # annotators work in the fake; on replay the cassette has their answers
                fake.work(JobRef.parse(job.id).task, _label)

        return make
