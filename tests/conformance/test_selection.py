"""The suite selects tests by declared capability (not by backend name, and without skips)."""

from __future__ import annotations

from annotate_memory import MemoryBackend

from annotate_core import Capability
from annotate_core.capabilities import required_capabilities
from annotate_core.testing import BackendConformance, vendor_faults
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


class _Remote(MemoryBackend):
    name = "memory-remote"
    secret_options = frozenset({"token"})
    remote = True


def test_fault_and_secret_tests_follow_the_declared_credentials_and_remoteness() -> None:
    class Local(BackendConformance):
        backend_class = MemoryBackend

    class Vendor(BackendConformance):
        backend_class = _Remote

    assert vendor_faults(MemoryBackend) == [] and vendor_faults(_Remote) == ["auth", "rate_limit", "validation"]
    for name in ("test_vendor_fault_is_mapped", "test_secrets_absent_from_logs", "test_repr_hides_secrets"):
        assert getattr(Local, name) is None, name
        assert callable(getattr(Vendor, name)), name
    assert callable(Local.test_unknown_job_is_not_found) and callable(Local.test_listings_read_every_page)


def test_paged_items_span_four_pages() -> None:
    class Paged(BackendConformance):
        backend_class = MemoryBackend
        page_size = 3

    class Unpaged(BackendConformance):
        backend_class = MemoryBackend

    assert Paged.paged_items() == 10 and -(-Paged.paged_items() // 3) == 4
    assert Unpaged.paged_items() == 2 * Unpaged.n_items


class _SelfHosted(MemoryBackend):
    """A self-hosted server (Label Studio-like): over the network, validates bodies, never throttles."""

    name = "memory-self-hosted"
    secret_options = frozenset({"token"})
    remote = True
    rate_limited = False


class _ThrottledOnly(MemoryBackend):
    name = "memory-throttled"
    rate_limited = True


def test_rate_limiting_and_server_validation_are_declared_apart() -> None:
    assert (_Remote.rate_limited, _Remote.validates_on_server) == (True, True)  # `remote` alone: both
    assert (_SelfHosted.remote, _SelfHosted.rate_limited, _SelfHosted.validates_on_server) == (True, False, True)
    assert (_ThrottledOnly.remote, _ThrottledOnly.validates_on_server) == (False, False)
    assert vendor_faults(_SelfHosted) == ["auth", "validation"]
    assert vendor_faults(_ThrottledOnly) == ["rate_limit"]

    class LocalAgain(_Remote):  # switching `remote` off in a subclass switches the shorthand's flags off
        remote = False

    assert (LocalAgain.rate_limited, LocalAgain.validates_on_server) == (False, False)

