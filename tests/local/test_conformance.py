"""The core's conformance suite, selected by the local backend's capabilities (it declares nearly all)."""

from __future__ import annotations

import pytest
from annotate_local import LocalBackend

from annotate_core.capabilities import Capability
from annotate_core.testing import BackendConformance


class TestLocalConformance(BackendConformance):
    backend_class = LocalBackend

    @pytest.fixture
    def backend(self, tmp_path):
        b = LocalBackend(path=str(tmp_path / "conformance.db"))
        yield b
        b.close_backend()

    @pytest.fixture
    def make_answers(self):
        def answer(job, items) -> None:
            # in-house annotators through the pull API, two items at a time (several assignments)
            moved = True
            while moved:
                moved = False
                for n in range(6):
                    batch = job.pull(f"annotator{n}", limit=2)
                    if batch is not None:
                        job.submit(batch.assignment, ["cat" if (n + i) % 2 else "dog" for i in range(len(batch))])
                        moved = True

        return answer


def test_simulated_workforce_answers_the_suites_job(tmp_path):
    from annotate_core.client import Client
    from annotate_core.testing import base_spec, conformance_items

    client = Client(LocalBackend(path=str(tmp_path / "s.db")))
    job = client.create_job(base_spec(LocalBackend.capabilities, overlap={"count": 2}))
    job.add_items(conformance_items(6, golden=2), progress=False)
    job.start()
    summary = job.simulate(workers=6, seed=0, spammers=0, fast_clickers=0, progress=False)
    assert summary["completed"] and summary["answers"] == len(job.answers()) == 12
    assert summary["usable_answers"] - summary["golden_answers"] == 8  # overlap 2 on the 4 items to label


def test_only_what_is_not_possible_locally_is_left_out():
    assert set(Capability) - LocalBackend.capabilities == {Capability.VENDOR_DATASET}
    assert set(LocalBackend.hints) == {Capability.VENDOR_DATASET}
