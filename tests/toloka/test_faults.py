"""Faults a live account cannot be asked for, replayed from cassettes: rate limits, 5xx, timeouts,
failed operations, malformed bodies. Each ends with every item on Toloka exactly once, or a typed error."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests
from annotate_toloka import TolokaBackend

from annotate_core.client import Client
from annotate_core.errors import (
    AuthenticationError,
    ConflictError,
    ItemsRejectedError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    VendorError,
    VendorValidationError,
)
from annotate_core.items import Item

from . import expected as e
from .conftest import FAKE_TOKEN

pytestmark = [pytest.mark.vcr, pytest.mark.synthetic]

POOL = "36502086"


def cats_items(n: int) -> list[Item]:
    return [Item(key=f"cat-{i}",
                 inputs={"image": f"https://tlk.s3.yandex.net/dataset/cats_vs_dogs/{'cat' if i % 2 == 0 else 'dog'}s/"
                                  f"cat{i}.jpg"})
            for i in range(n)]


def test_rate_limit_honours_retry_after(backend: TolokaBackend, sleeps: list[float], vcr) -> None:
    assert backend.get_spec(POOL) == e.CATS
    assert sleeps == [7.0] and vcr.all_played


def test_minute_quota_waits_a_minute_then_creates_once(backend: TolokaBackend, sleeps: list[float], vcr) -> None:
    job = Client(backend).create_job(e.CATS)
    assert job.id == POOL
    # no Retry-After header: payload.interval MIN means the per-minute quota, so wait at least 60 s
    assert sleeps == [60.0] and vcr.all_played


def test_daily_quota_raises_instead_of_sleeping(backend: TolokaBackend, sleeps: list[float]) -> None:
    with pytest.raises(RateLimitError) as err:
        Client(backend).create_job(e.CATS)
    assert err.value.retry_after == 86400 and err.value.code == "TOO_MANY_REQUESTS"
    assert sleeps == []


def test_a_create_is_not_repeated_after_a_server_error(backend: TolokaBackend, vcr) -> None:
    """A project POST has no idempotency key: a 500 may hide a created project, so it is not resent."""
    with pytest.raises(VendorError) as err:
        Client(backend).create_job(e.CATS)
    assert err.value.status == 500 and err.value.code == "INTERNAL_ERROR"
    assert vcr.play_count == 1


def test_server_errors_mid_upload_are_retried_without_duplicates(make_backend, vcr) -> None:
    backend = make_backend(upload_chunk_size=2)
    report = Client(backend).job(POOL, spec=e.CATS).add_items(cats_items(4), progress=False)
    assert (report.created, report.existing, report.errors) == (4, 0, [])
    # 500 and 503 on the POST were each followed by a lookup of its operation_id (404: not created)
    # before it was sent again under the same id; 502 on a poll was retried too
    assert vcr.all_played and vcr.play_count == 12


def test_timeout_after_the_server_accepted_a_chunk_then_rerun(backend: TolokaBackend, vcr,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    job = Client(backend).job(POOL, spec=e.CATS)
    send = requests.adapters.HTTPAdapter.send
    posted: list[str] = []

    def lose_the_answer(self: Any, request: requests.PreparedRequest, **kw: Any) -> requests.Response:
        response = send(self, request, **kw)  # the server got the chunk and answered 202...
        if request.method == "POST":
            posted.append(request.url or "")
            if len(posted) == 1:
                raise requests.exceptions.ReadTimeout("read timed out")  # ...but the answer never arrived
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", lose_the_answer)
    report = job.add_items(cats_items(3), progress=False)
    # the operation id was looked up instead of the POST being repeated: the tasks this call made
    # are reported as created, not as "existing"
    assert (report.created, report.existing, report.errors) == (3, 0, [])
    assert len(posted) == 1, "a POST without an answer must not be repeated blindly"
    again = job.add_items(cats_items(3), progress=False)
    assert (again.created, again.existing, again.errors) == (0, 3, [])
    assert vcr.all_played  # and the rerun sent no second POST


def test_rerun_while_the_operation_still_runs_reads_it(make_backend, vcr) -> None:
    backend = make_backend(poll_interval=1, operation_timeout=1)
    job = Client(backend).job(POOL, spec=e.CATS)
    with pytest.raises(TimeoutError, match="keeps running on Toloka"):
        job.add_items(cats_items(3), progress=False)
    again = job.add_items(cats_items(3), progress=False)
    # the 409 OPERATION_ALREADY_EXISTS led to the first run's operation: nothing created twice
    assert (again.created, again.existing, again.errors) == (0, 3, [])
    assert vcr.all_played


def test_an_earlier_failed_upload_is_sent_again_under_a_new_id(backend: TolokaBackend, vcr) -> None:
    report = Client(backend).job(POOL, spec=e.CATS).add_items(cats_items(3), progress=False)
    assert (report.created, report.existing, report.errors) == (3, 0, [])
    assert vcr.all_played


def test_the_log_is_read_under_the_id_toloka_returns(backend: TolokaBackend, vcr) -> None:
    report = Client(backend).job(POOL, spec=e.CATS).add_items(cats_items(2), progress=False)
    assert (report.created, report.existing, report.errors) == (2, 0, [])
    assert vcr.all_played


def test_open_after_an_unknown_outcome_reads_the_pool_first(backend: TolokaBackend, vcr,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    backend.start(POOL)  # 503, the pool is still closed: opened again
    send = requests.adapters.HTTPAdapter.send
    opens: list[str] = []

    def lose_the_open_reply(self: Any, request: requests.PreparedRequest, **kw: Any) -> requests.Response:
        response = send(self, request, **kw)
        if request.method == "POST":
            opens.append(request.url or "")
            raise requests.exceptions.ConnectionError("Connection aborted: RemoteDisconnected")
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", lose_the_open_reply)
    backend.start(POOL)  # the reply is lost, but the pool is open: done, not opened twice
    assert len(opens) == 1
    assert vcr.all_played


def test_review_after_an_unknown_outcome_reads_the_assignment(backend: TolokaBackend, vcr) -> None:
    job = Client(backend).job(POOL, spec=e.CATS)
    job.review("00022c1a86--665000000000000000000001", accept=True)
    job.review("00022c1a86--665000000000000000000002", accept=False, comment="wrong animal")
    with pytest.raises(ConflictError) as err:
        job.review("00022c1a86--665000000000000000000003", accept=False, comment="wrong animal")
    assert err.value.code == "INAPPROPRIATE_STATUS"
    assert vcr.all_played


def test_failed_operation_reports_each_item(backend: TolokaBackend) -> None:
    with pytest.raises(ItemsRejectedError) as err:
        Client(backend).job(POOL, spec=e.CATS).add_items(cats_items(2), progress=False)
    report = err.value.report
    assert report.created == 0
    assert [(x.key, x.field, x.index) for x in report.errors] == [("cat-0", "inputs.image", 0),
                                                                  ("cat-1", "inputs.image", 1)]
    assert report.errors[0].message == "Image is not reachable (INVALID_URL)"
    assert "inputs.image: Image is not reachable" in str(err.value)


def test_failed_operation_without_a_log_fails_every_item(backend: TolokaBackend) -> None:
    report = Client(backend).job(POOL, spec=e.CATS).add_items(cats_items(2), progress=False, on_error="report")
    assert report.created == 0 and len(report.errors) == 2, "a FAIL is never an empty success"
    assert all("failed" in x.message and "items_count" in x.message for x in report.errors)


def test_malformed_responses_are_typed_errors(backend: TolokaBackend) -> None:
    with pytest.raises(MalformedResponseError, match="expected a JSON body, got text/html"):
        backend.get_spec(POOL)
    job = Client(backend).job(POOL, spec=e.CATS)
    with pytest.raises(MalformedResponseError, match="has no 'has_more'"):
        job.answers()
    with pytest.raises(MalformedResponseError, match="one solution per task"):
        job.answers()
    with pytest.raises(MalformedResponseError, match="has_more is true on an empty page"):
        job.answers()


def test_vendor_errors_are_typed(backend: TolokaBackend, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(NotFoundError) as missing:
        backend.progress("999")
    assert missing.value.code == "DOES_NOT_EXIST" and missing.value.request_id == "404e"
    with pytest.raises(ConflictError) as empty:
        backend.start(POOL)
    assert empty.value.code == "EMPTY_POOL" and "Pool contains no tasks" in str(empty.value)
    with pytest.raises(VendorValidationError) as invalid:
        backend.api.create_project(e.CATS_PROJECT)
    assert [d.field for d in invalid.value.details] == ["task_spec.view_spec.config"]
    with pytest.raises(AuthenticationError) as auth:
        backend.requester()
    text = " ".join([str(auth.value), caplog.text, repr(backend)])
    assert FAKE_TOKEN not in text
