"""The suite fails a backend that is wrong: each broken memory backend below fails exactly the suite
test that guards the property it breaks, with a message that tells its author what is wrong."""

from __future__ import annotations

import textwrap

import annotate_memory  # noqa: F401 - imported once here: in-process runs must not re-import numpy
import pytest

import annotate_core.testing  # noqa: F401

pytest_plugins = ("pytester",)

HEADER = '''
import logging

import pytest
from annotate_memory import MemoryBackend
from pydantic import SecretStr

from annotate_core.errors import RateLimitError, VendorError, VendorValidationError
from annotate_core.testing import BackendConformance


def answer_all(job, items):
    for n, item in enumerate(items):
        for w in range(job.spec.overlap.count):
            job.backend.record_answer(job.id, item.key, f"worker-{(n + w) % 5}", "cat")


class Suite(BackendConformance):
    @pytest.fixture
    def backend(self):
        return self.backend_class()

    @pytest.fixture
    def make_answers(self):
        return answer_all
'''


def run_suite(pytester: pytest.Pytester, body: str, *select: str) -> pytest.RunResult:
    pytester.makepyfile(test_broken=HEADER + textwrap.dedent(body))
    return pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", "-k", " or ".join(select))


def test_a_listing_that_stops_after_one_page_fails_the_pagination_test(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, '''
        class FirstPageOnly(MemoryBackend):
            def iter_answers(self, job_id, spec):
                yield from list(super().iter_answers(job_id, spec))[:3]

        class TestFirstPageOnly(Suite):
            backend_class = FirstPageOnly
            page_size = 3
    ''', "test_listings_read_every_page")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*answers of 7 item(s) missing*"])


def test_a_logged_token_and_an_unmapped_fault_fail_their_tests(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, '''
        class Leaky(MemoryBackend):
            name = "leaky"
            secret_options = frozenset({"token"})
            remote = True

            def create_job(self, spec):
                logging.getLogger("annotate_memory").debug("creating with %s", self.options["token"].get_secret_value())
                if self.options.get("fault"):
                    raise VendorError("the vendor said no", status=401, backend=self.name)
                return super().create_job(spec)

        class TestLeaky(Suite):
            backend_class = Leaky

            @pytest.fixture
            def backend(self):
                return Leaky(token=SecretStr("s3cret-token-value"))

            @pytest.fixture
            def fault_backend(self, fault):
                return Leaky(token=SecretStr("s3cret-token-value"), fault=fault)
    ''', "test_secrets_absent_from_logs", "test_vendor_fault_is_mapped", "test_repr_hides_secrets")
    # repr passes (SecretStr); the log leak and all three unmapped faults fail
    result.assert_outcomes(passed=1, failed=4)
    result.stdout.fnmatch_lines(["*a credential appears in the logs*<secret of 18 chars>*"])
    result.stdout.fnmatch_lines(["*auth: expected AuthenticationError, got VendorError*"])
    assert not any("s3cret-token-value" in line for line in result.outlines if "appears" in line)


def test_a_backend_without_the_fault_fixture_is_told_to_write_it(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, '''
        class Remote(MemoryBackend):
            name = "remote"
            remote = True

        class TestRemote(Suite):
            backend_class = Remote
    ''', "test_vendor_fault_is_mapped")
    result.assert_outcomes(errors=2)  # rate_limit and validation: no auth without credentials
    result.stdout.fnmatch_lines(["*provide a `fault_backend` fixture*"])


def test_a_self_hosted_server_is_not_asked_for_a_rate_limit(pytester: pytest.Pytester) -> None:
    """``rate_limited = False`` beside ``remote = True``: the validation fault is still demanded, the
    throttle fault is not even collected (a self-hosted server never throttles)."""
    pytester.makepyfile(test_broken=HEADER + textwrap.dedent('''
        class SelfHosted(MemoryBackend):
            name = "self-hosted"
            remote = True
            rate_limited = False

        class TestSelfHosted(Suite):
            backend_class = SelfHosted
    '''))
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", "--collect-only",
                                          "-k", "test_vendor_fault_is_mapped")
    result.stdout.fnmatch_lines(["*test_vendor_fault_is_mapped[[]validation[]]*"])
    assert not any("rate_limit" in line for line in result.outlines)


def test_a_check_spec_that_refuses_the_base_spec_is_named(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, '''
        from annotate_core import Capability, Unsupported

        class Picky(MemoryBackend):
            name = "picky"

            def check_spec(self, spec):
                return [Unsupported(self.name, Capability.OVERLAP, "any overlap", "overlap.count", "none")]

        class TestPicky(Suite):
            backend_class = Picky
    ''', "test_check_spec_refusals_stop_plan_and_create_job")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*check_spec refuses the suite's base spec*any overlap*"])


def test_a_cassette_with_a_session_cookie_fails_the_secrets_scan(pytester: pytest.Pytester) -> None:
    cassettes = pytester.mkdir("cassettes")
    (cassettes / "TestTokened.test_x.yaml").write_text(
        "interactions:\n- request: {body: null, headers: {}, method: GET, uri: 'https://acme.example/api/me'}\n"
        "  response:\n    body: {string: '{\"id\": 1}'}\n"
        "    headers: {Set-Cookie: ['sessionid=abcdef0123456789; Path=/']}\n    status: {code: 200, message: OK}\n"
        "version: 1\n")
    result = run_suite(pytester, f'''
        class Tokened(MemoryBackend):
            name = "tokened"
            secret_options = frozenset({{"token"}})

        class TestTokened(Suite):
            backend_class = Tokened
            cassette_dir = {str(cassettes)!r}

            @pytest.fixture
            def backend(self):
                return Tokened(token=SecretStr("tokened-secret-value"))
    ''', "test_cassettes_hold_no_secrets")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*credential(s) left in cassettes*", "*TestTokened.test_x.yaml*Set-Cookie*"])
