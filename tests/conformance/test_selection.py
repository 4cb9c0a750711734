"""The suite selects tests by declared capability (not by backend name, and without skips)."""

from __future__ import annotations

from annotate_memory import MemoryBackend

from annotate_core import Capability
from annotate_core.capabilities import required_capabilities
from annotate_core.testing import BackendConformance
from annotate_core.testing.specs import FRAGMENTS, spec_needing


class _NoGolden(MemoryBackend):
    name = "memory-no-golden"
    capabilities = MemoryBackend.capabilities - {Capability.GOLDEN, Capability.MANUAL_REVIEW}


def test_tests_for_undeclared_capabilities_are_not_collected() -> None:
    class Suite(BackendConformance):
        backend_class = _NoGolden

    assert Suite.test_golden_answers_are_flagged is None
    assert Suite.test_manual_review_changes_status is None
    assert callable(Suite.test_overlap_never_exceeded)
    assert callable(BackendConformance.test_golden_answers_are_flagged)  # the base class is untouched


def test_every_fragment_needs_its_capability() -> None:
    for cap in FRAGMENTS:
        assert cap in {r.capability for r in required_capabilities(spec_needing(cap))}, cap
