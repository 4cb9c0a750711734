"""The third-party plugin runs the conformance suite: proof an outside package can."""

from __future__ import annotations

import pytest
from annotate_memory import MemoryBackend

from annotate_core.testing import BackendConformance


class TestMemoryBackend(BackendConformance):
    backend_class = MemoryBackend

    @pytest.fixture
    def backend(self) -> MemoryBackend:
        return MemoryBackend()

    @pytest.fixture
    def make_answers(self):
        def answer(job, items) -> None:
            for n, item in enumerate(items):
                for w in range(job.spec.overlap.count):
                    job.backend.record_answer(job.id, item.key, f"worker-{(n + w) % 5}", "cat" if w % 2 else "dog")

        return answer


def test_a_plugin_need_not_describe_a_store() -> None:
    """The CLI names the store of any backend; a plugin that keeps none inherits an empty description."""
    assert MemoryBackend().store_description() == ""
