"""Review (QA sampling, reviewers, requeue or discard, manual review), events, deadlines and pipelines."""

from __future__ import annotations

import pytest
from annotate_local import NotAllowedError

from annotate_core.backend import JobState
from annotate_core.errors import JobStateError

from .conftest import make_items, make_spec

ONE = {"kind": "pulling", "batch_size": 1}


def work_all(job, workers, value="cat"):
    while True:
        moved = False
        for w in workers:
            b = job.pull(w)
            if b is not None:
                job.submit(b.assignment, [value] * len(b))
                moved = True
        if not moved:
            return


def test_a_stable_share_of_work_waits_for_review(started):
    job, _ = started(200, distribution=ONE, review={"fraction": 0.25, "on_reject": "requeue"})
    work_all(job, ["a", "b"])
    p = job.progress()
    assert 30 <= p.details["pending_reviews"] <= 70  # about a quarter of 200 assignments
    assert p.state is JobState.OPEN and p.details["stage"] == "review"  # not complete while reviews wait
    n = p.details["pending_reviews"]
    reviewed = 0
    while (task := job.pull("qa", role="review")) is not None:
        assert task.worker in ("a", "b") and task.items[0].answer == {"result": "cat"}
        job.backend.review(job.id, task.assignment, accept=True, reviewer="qa")
        reviewed += 1
    assert reviewed == n and job.progress().state is JobState.COMPLETED
    assert set(job.answers()["reviewer"].dropna()) == {"qa"}


def test_reviewers_never_review_themselves_and_must_be_listed(started):
    job, _ = started(3, distribution=ONE, review={"fraction": 1.0, "reviewers": ["qa1", "a"]})
    b = job.pull("a")
    job.submit(b.assignment, ["cat"])
    assert job.pull("a", role="review") is None  # only their own work waits
    with pytest.raises(NotAllowedError, match="not a reviewer"):
        job.pull("zed", role="review")
    assert job.pull("qa1", role="review").assignment == b.assignment


def test_rejected_review_requeues_the_item_for_another_worker(started):
    job, _ = started(1, distribution=ONE, review={"fraction": 1.0, "on_reject": "requeue"})
    b = job.pull("a")
    job.submit(b.assignment, ["dog"])
    task = job.pull("qa", role="review")
    job.backend.review(job.id, task.assignment, accept=False, comment="it is a cat", reviewer="qa")
    assert job.pull("a") is None  # never the same worker again
    c = job.pull("b")
    assert c.keys == b.keys
    job.submit(c.assignment, ["cat"])
    job.backend.review(job.id, job.pull("qa", role="review").assignment, accept=True)
    df = job.answers()
    assert sorted(df["status"]) == ["accepted", "rejected"]
    assert df.set_index("status").loc["rejected", "review_comment"] == "it is a cat"
    assert job.progress().state is JobState.COMPLETED
    types = [e["type"] for e in job.events()]
    assert types == ["submitted", "rejected", "submitted", "accepted", "completed"]


def test_rejected_review_with_discard_is_not_redone(started):
    job, _ = started(1, distribution=ONE, review={"fraction": 1.0, "on_reject": "discard"})
    b = job.pull("a")
    job.submit(b.assignment, ["dog"])
    job.backend.review(job.id, job.pull("qa", role="review").assignment, accept=False, comment="no")
    assert job.pull("b") is None and job.progress().state is JobState.COMPLETED


def test_manual_review_through_the_job_handle(started):
    job, _ = started(2, distribution=ONE, overlap={"count": 1})
    a, b = job.pull("a"), job.pull("b")
    job.submit(a.assignment, ["cat"])
    job.submit(b.assignment, ["dog"])
    job.review(a.assignment, accept=True)
    job.review(b.assignment, accept=False, comment="wrong animal")
    status = job.answers().groupby("assignment")["status"].first()
    assert status[a.assignment] == "accepted" and status[b.assignment] == "rejected"
    with pytest.raises(JobStateError, match="accepted"):
        job.review(a.assignment, accept=False, comment="changed my mind")
    with pytest.raises(ValueError, match="comment"):
        job.review(b.assignment, accept=False)


def test_unreviewed_work_is_accepted_automatically(started, clock):
    job, _ = started(1, distribution=ONE, review={"fraction": 1.0, "auto_accept_after_days": 2})
    job.submit(job.pull("a").assignment, ["cat"])
    assert job.progress().state is JobState.OPEN
    clock.advance(2 * 86400 + 1)
    assert job.progress().state is JobState.COMPLETED
    assert list(job.answers()["status"]) == ["accepted"]


def test_events_as_iterator_and_callbacks(started, backend):
    seen = []
    unsubscribe = backend.subscribe(seen.append, types=["submitted", "completed"])
    job, _ = started(2, distribution=ONE)
    job.submit(job.pull("a").assignment, ["cat"])
    events = list(job.events())
    assert [e["type"] for e in events] == ["submitted"] and events[0]["worker"] == "a"
    job.submit(job.pull("b").assignment, ["cat"])
    assert [e["type"] for e in seen] == ["submitted", "submitted", "completed"]
    assert [e["type"] for e in job.events(since=events[0]["seq"])] == ["submitted", "completed"]
    unsubscribe()
    job.add_items(make_items(1, prefix="z"), progress=False)
    job.submit(job.pull("a").assignment, ["cat"])
    assert len(seen) == 3


def test_a_failing_callback_does_not_undo_the_change(started, backend):
    backend.subscribe(lambda e: 1 / 0)
    job, _ = started(1, distribution=ONE)
    job.submit(job.pull("a").assignment, ["cat"])
    assert job.progress().submitted_answers == 1


def test_expired_assignments_return_their_items(started, clock):
    job, _ = started(2, distribution={"kind": "pulling", "batch_size": 2}, limits={"assignment_max_seconds": 60})
    slow = job.pull("slow")
    assert slow.expires_at == pytest.approx(clock.now + 60)
    clock.advance(61)
    fresh = job.pull("fast")
    assert fresh.keys == slow.keys
    with pytest.raises(JobStateError, match="expired"):
        job.submit(slow.assignment, ["cat", "cat"])
    job.submit(fresh.assignment, ["dog", "dog"])
    df = job.answers()
    assert sorted(df["status"]) == ["expired", "expired", "submitted", "submitted"]
    assert [e["type"] for e in job.events()][:1] == ["expired"]


def test_late_submit_of_an_overdue_assignment_expires_it(started, clock):
    job, _ = started(1, distribution=ONE, limits={"assignment_max_seconds": 10})
    b = job.pull("a")
    clock.advance(11)
    with pytest.raises(JobStateError, match="expired"):
        job.submit(b.assignment, ["cat"])
    assert job.pull("b").keys == b.keys


def test_deadline_closes_the_job(started, clock):
    job, _ = started(5, distribution=ONE, deadline="PT1H")
    job.pull("a")
    clock.advance(3601)
    assert job.pull("b") is None
    p = job.progress()
    assert p.state is JobState.CLOSED and p.details["assignments"] == {"expired": 1}
    with pytest.raises(JobStateError, match="closed"):
        job.pull("b")


def test_pipeline_runs_annotate_then_review_then_aggregate(started):
    pipeline = {"stages": [{"kind": "annotate"}, {"kind": "review", "assignees": ["qa"], "fraction": 1.0},
                           {"kind": "aggregate", "method": "mv"}]}
    job, items = started(3, distribution=ONE, overlap={"count": 3}, pipeline=pipeline)
    b = job.pull("a")
    job.submit(b.assignment, ["cat"])
    assert job.pull("qa", role="review") is None  # review waits for the annotate stage
    assert job.progress().details["stage"] == "annotate"
    work_all(job, ["a", "b", "c"], value="dog")
    assert job.progress().details["stage"] == "review"
    while (task := job.pull("qa", role="review")) is not None:
        job.backend.review(job.id, task.assignment, accept=True, reviewer="qa")
    assert job.progress().state is JobState.COMPLETED
    stored = {r["item_key"]: r for r in job.backend.stage_results(job.id)}
    assert set(stored) == {i.key for i in items}
    first = stored[b.keys[0]]
    assert first["label"] == "dog" and first["confidence"] == pytest.approx(2 / 3) and first["method"] == "mv"
    assert first["n_answers"] == 3


def test_review_sample_lists_the_sampled_work_awaiting_a_verdict(client) -> None:
    """job.review_sample(): the same call as on Toloka; here the store sampled as work arrived."""
    spec = make_spec(review={"fraction": 1.0, "reviewers": ["qa@example.com"]})
    job = client.create_job(spec)
    job.add_items(make_items(6), progress=False)
    job.start()
    a = job.pull("w1")
    job.submit(a.assignment, {i.key: "cat" for i in a.items})
    assert job.review_sample() == [a.assignment]
    job.review(a.assignment, accept=True)
    assert job.review_sample() == []


@pytest.mark.parametrize("name", ["_NEXT", "_PENDING", "_UNREVIEWED_SINCE"])
def test_review_queue_is_read_by_the_review_index_on_sqlite(started, backend, name):
    """SQLite has no statistics here: asked for pending reviews of submitted assignments, its planner
    took the (job_id, status) index and read every submitted assignment per review pull (at 1M items
    the simulation spent most of its time there). The status term is written so only (job_id, review)
    can serve these queries."""
    from annotate_local import raw, review

    job, _ = started(10)
    statement = getattr(review, name)
    with backend.store.read() as conn:
        driver = raw._driver(conn.dialect)
        assert driver is not None  # the hot path's own compiled text, as the simulation runs it
        sql, args = raw._args(raw._plan(conn, driver, statement, ()),
                              {"job": job.id, "reviewer": "r", "before": 0.0})
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, tuple(args)).all()
    details = " ".join(str(row[-1]) for row in plan)
    assert "ix_assignments_review" in details, details
    assert "ix_assignments_status" not in details, details
