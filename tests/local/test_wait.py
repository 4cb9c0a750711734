"""``job.wait()`` on the local backend: with nobody working it says so at once instead of waiting
forever at 0%; with a timeout it warns and gives up with the progress reached."""

from __future__ import annotations

import logging
import time

import pytest
from annotate_local.backend import IDLE_AFTER

from annotate_core.backend import JobState
from annotate_core.errors import AnnotateError, JobIdleError, WaitTimeoutError

from .conftest import make_spec


def test_waiting_on_an_open_job_nobody_works_on_raises_at_once_saying_what_to_do(started) -> None:
    job, _ = started(4)
    t0 = time.monotonic()
    with pytest.raises(JobIdleError) as info:
        job.wait(progress=False)
    assert time.monotonic() - t0 < 5  # not a poll interval (30 s), let alone forever
    message = str(info.value)
    for remedy in ("job.simulate()", "job.pull(", "job.submit(", "annotate serve", "job.wait(timeout="):
        assert remedy in message, message
    assert job.id in message and isinstance(info.value, AnnotateError)


def test_a_draft_or_paused_job_says_how_to_get_it_going(client, started) -> None:
    draft = client.create_job(make_spec())
    with pytest.raises(JobIdleError, match=r"not been started: call job\.start\(\)"):
        draft.wait(progress=False)
    job, _ = started(2)
    job.pause()
    with pytest.raises(JobIdleError, match=r"paused: call job\.resume\(\)"):
        job.wait(progress=False)


def test_with_a_timeout_it_warns_once_then_gives_up_with_the_progress_reached(
        started, caplog: pytest.LogCaptureFixture) -> None:
    job, _ = started(3, overlap={"count": 3})
    batch = job.pull("ann")
    job.submit(batch.assignment, {i.key: "cat" for i in batch.items})  # one of three answers per item
    job.backend.clock.advance(IDLE_AFTER + 1)  # ... and then nobody for a while
    with caplog.at_level(logging.WARNING, logger="annotate_core.job"), pytest.raises(WaitTimeoutError) as info:
        job.wait(timeout=0.3, poll_interval=0.05, progress=False)
    err = info.value
    assert isinstance(err, TimeoutError) and isinstance(err, AnnotateError)
    assert err.progress is not None and err.progress.state is JobState.OPEN
    assert err.progress.submitted_answers == 3 and "0 of 3 items complete" in str(err) and "33%" in str(err)
    idle = [r for r in caplog.records if "nobody is working" in r.getMessage()]
    assert len(idle) == 1 and "job.simulate()" in idle[0].getMessage()


def test_someone_holding_a_batch_or_answering_recently_counts_as_working(started, caplog) -> None:
    job, _ = started(3, overlap={"count": 3})
    assert job.progress().idle is not None  # started, nobody came yet
    batch = job.pull("ann")
    assert job.progress().idle is None  # a batch is handed out
    job.submit(batch.assignment, {i.key: "cat" for i in batch.items})
    assert job.progress().idle is None  # just answered: people pause between batches
    job.backend.clock.advance(IDLE_AFTER - 1)
    assert job.progress().idle is None
    job.backend.clock.advance(2)
    assert "nobody is working" in (job.progress().idle or "")
    job.pull("bob")
    with caplog.at_level(logging.WARNING), pytest.raises(WaitTimeoutError):
        job.wait(timeout=0.1, poll_interval=0.05, progress=False)  # bob works: wait, no warning
    assert not [r for r in caplog.records if "nobody" in r.getMessage()]


def test_a_simulated_job_waits_to_completion(started) -> None:
    job, _ = started(6)
    job.simulate(workers=6, seed=2, spammers=0, fast_clickers=0, progress=False)
    p = job.wait(progress=False)
    assert p.state is JobState.COMPLETED and p.idle is None


def test_a_simulation_that_stopped_short_leaves_an_idle_job_not_a_hang(started) -> None:
    job, _ = started(30, overlap={"count": 3})
    s = job.simulate(workers=3, seed=1, max_hours=0.05, progress=False)  # its clock ran ahead, then stopped
    assert not s["finished"] and job.progress().state is JobState.OPEN
    assert s["handed_back"] > 0 and s["skipped"] >= s["handed_back"]  # held batches were given back (skipped)
    assert job.progress().details["assignments"].get("active", 0) == 0
    with pytest.raises(JobIdleError, match="nobody is working"):
        job.wait(progress=False)


def test_a_negative_timeout_is_refused(started) -> None:
    job, _ = started(1)
    with pytest.raises(ValueError, match="timeout"):
        job.wait(timeout=-1, progress=False)
