"""Tools for backend authors: the conformance suite and the specs it feeds a backend, recording settings
that keep credentials out of cassettes (``recording_config``) and the scan that proves it
(``scan_cassettes``), and what a ``make_answers`` fixture needs (``is_recording``, ``planned_answers``).
docs/plugins.md is the guide.

Usage in a backend's tests::

    from annotate_core.testing import BackendConformance

    class TestMyBackend(BackendConformance):
        backend_class = MyBackend

        @pytest.fixture
        def backend(self):
            return MyBackend(token=SecretStr("..."))

        @pytest.fixture
        def make_answers(self):
            return lambda job, items: None
"""

from annotate_core.testing.cassettes import Finding, Scrubber, recording_config, scan_cassettes
from annotate_core.testing.recording import PlannedAnswer, is_recording, planned_answers
from annotate_core.testing.specs import base_spec, spec_data_needing, spec_needing
from annotate_core.testing.suite import (
    FAULT_ERRORS,
    BackendConformance,
    applies_when,
    conformance_items,
    paged_item_count,
    requires,
    vendor_faults,
)

__all__ = [
    "FAULT_ERRORS",
    "BackendConformance",
    "Finding",
    "PlannedAnswer",
    "Scrubber",
    "applies_when",
    "base_spec",
    "conformance_items",
    "is_recording",
    "paged_item_count",
    "planned_answers",
    "recording_config",
    "requires",
    "scan_cassettes",
    "spec_data_needing",
    "spec_needing",
    "vendor_faults",
]
