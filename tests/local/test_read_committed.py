"""Decisions that must hold under PostgreSQL's READ COMMITTED, made deterministic.

Each statement of a READ COMMITTED transaction sees its own snapshot: what one statement read may
be changed by another transaction's commit before the next statement acts on it. Each test here
lets one operation run on ``backend`` and, right after a chosen statement of it, runs a conflicting
operation through a second ``LocalBackend`` on the same URL (its own transaction, committed before
the first goes on, or waiting for a row lock the first holds: then it is given a moment and goes on
after the first commits). The first must then not act on what it read before.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from annotate_local import LocalBackend, raw
from annotate_local.stress import check_consistency
from sqlalchemy import event

from annotate_core.backend import JobState
from annotate_core.client import Client
from annotate_core.errors import JobStateError

from .conftest import make_items, make_spec

pytestmark = pytest.mark.postgres

#: seconds the conflicting operation is given before the first goes on without it (it then waits
#: for a row lock the first holds, and finishes once the first commits)
BLOCKED_AFTER = 1.0


@contextmanager
def between(backend: LocalBackend, matches: Callable[[str], bool], action: Callable[[], Any],
            monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Run ``action`` (another backend's operation) right after the first statement of this thread's
    transaction on ``backend`` whose SQL ``matches``; yields the statements it fired after (one)."""
    main, fired, errors = threading.current_thread(), [], []
    thread: list[threading.Thread] = []

    def run() -> None:
        try:
            action()
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    def after(sql: str) -> None:
        if not fired and threading.current_thread() is main and matches(sql):
            fired.append(sql)
            thread.append(threading.Thread(target=run))
            thread[0].start()
            thread[0].join(BLOCKED_AFTER)

    real = raw._execute

    def execute(conn, cur, sql, args, *, many=False):  # the store's statements on the driver's cursor
        real(conn, cur, sql, args, many=many)
        after(sql)

    def listener(conn, cursor, sql, params, context, executemany):  # and through SQLAlchemy
        after(sql)

    monkeypatch.setattr(raw, "_execute", execute)
    event.listen(backend.store.engine, "after_cursor_execute", listener)
    try:
        yield fired
    finally:
        event.remove(backend.store.engine, "after_cursor_execute", listener)
        monkeypatch.undo()
        for th in thread:
            th.join(30)
            assert not th.is_alive(), "the conflicting operation never finished"
    if errors:
        raise errors[0]


@pytest.fixture
def pair(pg_url) -> Iterator[tuple[LocalBackend, LocalBackend]]:
    backend, other = LocalBackend(url=pg_url), LocalBackend(url=pg_url)
    try:
        yield backend, other
    finally:
        other.close_backend()
        backend.close_backend()


def open_job(backend: LocalBackend, n: int, **spec: Any):
    job = Client(backend).create_job(make_spec(name=f"rc-{uuid.uuid4().hex[:6]}", **spec))
    job.add_items(make_items(n), progress=False)
    job.start()
    return job


def reads_assignments(sql: str) -> bool:
    """A read of assignments by status (which are active), without a row lock."""
    return sql.startswith("SELECT") and "annotate_assignments" in sql and "status =" in sql


def statuses(job) -> dict[str, list[str]]:
    df = job.answers()
    return {a: sorted(g["status"]) for a, g in df.groupby("assignment")}


def test_a_skip_committing_mid_check_does_not_complete_the_job_early(pair, monkeypatch):
    """Whether a job is complete is read in one statement (``work.OUTSTANDING``), and again under the
    job's row lock before it is marked so. Read as "any item with a free slot?" then "any active
    assignment?", a skip committing in between (its items' slots go from open to free) hid them from
    both, and the job was marked completed with items short of answers (``test_concurrency``'s
    multi-process test, 1 run in ~20 under load): here with 0 of 2 items done. The job must stay
    open with its items back in the queue."""
    backend, other = pair
    job = open_job(backend, 2)
    batch = backend.pull(job.id, "ann", limit=2)
    assert batch is not None and len(batch.items) == 2  # every slot is open, none free

    def asks_for_free_slots(sql: str) -> bool:
        return "free > 0" in sql and "FOR UPDATE" not in sql

    with between(backend, asks_for_free_slots, lambda: other.skip(job.id, batch.assignment),
                 monkeypatch) as fired:
        p = backend.progress(job.id)
    assert fired
    assert p.state is JobState.OPEN, p
    assert job.progress().state is JobState.OPEN
    assert backend.pull(job.id, "ann2", limit=2) is not None  # the skipped items are work again


def test_closing_a_job_keeps_an_answer_submitted_after_it_listed_the_active_assignments(pair, monkeypatch):
    """Closing a job lists its active assignments, then expires each. A submit committing in between
    must win: its answers stay submitted and counted. Expiring it anyway (an unconditional release)
    turned the stored answer into an expired one and took its slot back a second time (open -1)."""
    backend, other = pair
    job = open_job(backend, 3, overlap={"count": 1})  # the submit leaves one item to do: the job closes
    batch = backend.pull(job.id, "ann", limit=2)
    assert batch is not None

    with between(backend, reads_assignments, lambda: other.submit(job.id, batch.assignment, ["cat", "dog"]),
                 monkeypatch) as fired:
        backend.close(job.id)
    assert fired
    assert statuses(job) == {batch.assignment: ["submitted", "submitted"]}
    assert check_consistency(backend, job.id) == []
    assert "expired" not in [e["type"] for e in job.events()]
    assert job.progress().state is JobState.CLOSED


def test_expiring_an_assignment_that_was_submitted_meanwhile_says_so(pair, monkeypatch):
    """``expire_assignment`` reads that the assignment is active, then releases it: a submit committing
    in between must win (the call returns False), not be overwritten."""
    backend, other = pair
    job = open_job(backend, 2, overlap={"count": 1})
    batch = backend.pull(job.id, "ann", limit=2)
    assert batch is not None

    with between(backend, reads_assignments, lambda: other.submit(job.id, batch.assignment, ["cat", "dog"]),
                 monkeypatch) as fired:
        expired = backend.expire_assignment(job.id, batch.assignment)
    assert fired
    assert expired is False
    assert statuses(job) == {batch.assignment: ["submitted", "submitted"]}
    assert check_consistency(backend, job.id) == []
    assert job.progress().state is JobState.COMPLETED


@pytest.mark.parametrize(("first", "second"), [(False, False), (True, False), (False, True)],
                         ids=["reject-reject", "accept-reject", "reject-accept"])
def test_a_verdict_decided_meanwhile_is_not_applied_again(pair, monkeypatch, first, second):
    """A review reads that the assignment is submitted, then applies its verdict. Another verdict
    committing in between (a second reviewer, the auto-accept sweep, a quality rule) must stop it:
    two rejections took the item's slot back twice (done -1, free +2: the item would get more
    answers than its overlap), and an acceptance after a rejection counted answers whose slots had
    gone back to the queue."""
    backend, other = pair
    job = open_job(backend, 1, overlap={"count": 1}, review={"fraction": 1.0})
    batch = backend.pull(job.id, "ann")
    assert batch is not None
    backend.submit(job.id, batch.assignment, ["cat"])

    def decision_read(sql: str) -> bool:
        return sql.startswith("SELECT") and "annotate_assignments.review" in sql and "FOR UPDATE" not in sql

    with between(backend, decision_read, lambda: other.review(job.id, batch.assignment, accept=first),
                 monkeypatch) as fired, pytest.raises(JobStateError, match="only submitted work can be reviewed"):
        backend.review(job.id, batch.assignment, accept=second)
    assert fired
    assert statuses(job) == {batch.assignment: ["accepted" if first else "rejected"]}
    assert check_consistency(backend, job.id) == []
    verdicts = [e["type"] for e in job.events() if e["type"] in ("accepted", "rejected")]
    assert verdicts == ["accepted" if first else "rejected"]


def test_items_added_as_the_last_answer_is_checked_keep_the_job_open(pair, monkeypatch):
    """The last submit finds nothing outstanding and marks the job completed. Items added (and
    committed) between that read and the update are new work: the job must stay open, not end
    completed with items in the queue that no pull hands out."""
    backend, other = pair
    job = open_job(backend, 1, overlap={"count": 1})
    batch = backend.pull(job.id, "ann")
    assert batch is not None

    def completion_read(sql: str) -> bool:
        return "free > 0" in sql and "FOR UPDATE" not in sql

    more = make_items(2, prefix="late")
    with between(backend, completion_read, lambda: other.add_items(job.id, job.spec, more), monkeypatch) as fired:
        backend.submit(job.id, batch.assignment, ["cat"])
    assert fired
    assert job.progress().state is JobState.OPEN
    late = backend.pull(job.id, "ann2", limit=5)
    assert late is not None and sorted(i.key for i in late.items) == ["late-0000", "late-0001"]


def test_items_added_while_the_last_answer_completes_the_job_keep_it_open(pair, monkeypatch):
    """The other order: items are inserted (not yet committed) by a transaction that read the job as
    open, so it does not reopen it, while the last submit completes the job without seeing them."""
    backend, other = pair
    job = open_job(backend, 1, overlap={"count": 1})
    batch = backend.pull(job.id, "ann")
    assert batch is not None

    def items_inserted(sql: str) -> bool:
        return sql.startswith("INSERT INTO annotate_items")

    with between(backend, items_inserted, lambda: other.submit(job.id, batch.assignment, ["cat"]),
                 monkeypatch) as fired:
        backend.add_items(job.id, job.spec, make_items(2, prefix="late"))
    assert fired
    assert job.progress().state is JobState.OPEN
    late = backend.pull(job.id, "ann2", limit=5)
    assert late is not None and sorted(i.key for i in late.items) == ["late-0000", "late-0001"]


def test_a_rejection_committing_as_the_job_completes_reopens_it(pair, monkeypatch):
    """A rejection that requeues an item of a job it read as open does not reopen the job; if the
    last submit completes the job meanwhile (not seeing the item's free slot, not committed yet),
    the job ended completed with an item short of its answer."""
    backend, other = pair
    job = open_job(backend, 2, overlap={"count": 1})
    first = backend.pull(job.id, "ann", limit=1)
    assert first is not None
    backend.submit(job.id, first.assignment, ["cat"])
    last = backend.pull(job.id, "ann2", limit=1)
    assert last is not None

    def slot_requeued(sql: str) -> bool:
        return sql.startswith("UPDATE annotate_items")

    with between(backend, slot_requeued, lambda: other.submit(job.id, last.assignment, ["dog"]),
                 monkeypatch) as fired:
        backend.review(job.id, first.assignment, accept=False)
    assert fired
    assert job.progress().state is JobState.OPEN
    again = backend.pull(job.id, "ann3", limit=5)
    assert again is not None and [i.key for i in again.items] == [first.items[0].key]
    assert check_consistency(backend, job.id) == []


def bans_of(backend: LocalBackend, job_id: str, worker: str) -> int:
    return sum(1 for b in backend.bans(job_id) if b["worker"] == worker)


def two_batches_under_a_skip_rule(backend: LocalBackend, *, at_least: int) -> tuple[Any, Any, Any]:
    """A job banning a worker who skips ``at_least`` batches in a row, and two batches "ann" holds."""
    rules = [{"name": "skips", "when": [{"metric": "skipped_in_row", "at_least": at_least}],
              "then": {"action": "ban"}}]
    job = open_job(backend, 4, overlap={"count": 1}, quality={"rules": rules})
    a1, a2 = backend.pull(job.id, "ann", limit=1), backend.pull(job.id, "ann", limit=1)
    assert a1 is not None and a2 is not None
    return job, a1, a2


def test_two_skips_of_one_worker_at_once_still_meet_the_skipped_in_row_rule(pair, monkeypatch):
    """A worker's quality rules measure their recent work, then act. Two skips of the same worker
    in two transactions each measured one skip (the other's not committed yet), and the worker who
    skipped twice in a row was never banned: one worker's rules must run one transaction at a time."""
    backend, other = pair
    job, a1, a2 = two_batches_under_a_skip_rule(backend, at_least=2)

    def window_read(sql: str) -> bool:
        return "ORDER BY annotate_assignments.submitted_at DESC" in sql

    with between(backend, window_read, lambda: other.skip(job.id, a2.assignment), monkeypatch) as fired:
        backend.skip(job.id, a1.assignment)
    assert fired
    assert bans_of(backend, job.id, "ann") == 1
    assert [e["type"] for e in job.events()].count("banned") == 1


def test_two_skips_of_one_worker_at_once_ban_them_once(pair, monkeypatch):
    """Both transactions find the rule met and no ban yet: each inserted a ban (two bans, two
    "banned" events and webhooks)."""
    backend, other = pair
    job, a1, a2 = two_batches_under_a_skip_rule(backend, at_least=1)

    def ban_read(sql: str) -> bool:
        return sql.startswith("SELECT") and "FROM annotate_bans" in sql

    with between(backend, ban_read, lambda: other.skip(job.id, a2.assignment), monkeypatch) as fired:
        backend.skip(job.id, a1.assignment)
    assert fired
    assert bans_of(backend, job.id, "ann") == 1
    assert [e["type"] for e in job.events()].count("banned") == 1


def job_read(sql: str) -> bool:
    return sql.startswith("SELECT") and "FROM annotate_jobs" in sql


def test_pausing_a_job_that_completed_meanwhile_is_refused(pair, monkeypatch):
    """pause() read the job as open; the last submit completing it in between was overwritten (the job
    paused, and completed a second time when resumed: a second "completed" event and aggregation)."""
    backend, other = pair
    job = open_job(backend, 1, overlap={"count": 1})
    batch = backend.pull(job.id, "ann")
    assert batch is not None

    with between(backend, job_read, lambda: other.submit(job.id, batch.assignment, ["cat"]),
                 monkeypatch) as fired, pytest.raises(JobStateError, match="is completed"):
        backend.pause(job.id)
    assert fired
    assert job.progress().state is JobState.COMPLETED
    assert [e["type"] for e in job.events()].count("completed") == 1


def test_resuming_a_job_closed_meanwhile_is_refused(pair, monkeypatch):
    """start() read the job as paused; a close committing in between was overwritten: the closed
    job was open again."""
    backend, other = pair
    job = open_job(backend, 2, overlap={"count": 1})
    backend.pause(job.id)

    with between(backend, job_read, lambda: other.close(job.id), monkeypatch) as fired, \
            pytest.raises(JobStateError, match="is closed"):
        backend.start(job.id)
    assert fired
    assert job.progress().state is JobState.CLOSED


def test_closing_a_job_that_completed_meanwhile_leaves_it_completed(pair, monkeypatch):
    """close() read the job as open; the last submit completing it in between was overwritten with
    "closed" (close leaves a completed job as it is)."""
    backend, other = pair
    job = open_job(backend, 1, overlap={"count": 1})
    batch = backend.pull(job.id, "ann")
    assert batch is not None

    with between(backend, job_read, lambda: other.submit(job.id, batch.assignment, ["cat"]),
                 monkeypatch) as fired:
        backend.close(job.id)
    assert fired
    assert job.progress().state is JobState.COMPLETED


@pytest.mark.parametrize("limits", [{"limits": {"max_batches_per_worker": 1}},
                                    {"limits": {"max_items_per_worker": 2}},
                                    {"distribution": {"kind": "pulling", "batch_size": 2, "max_batch_workload": 2}}],
                         ids=["batches", "items", "workload"])
def test_two_pulls_of_one_worker_at_once_keep_to_the_per_worker_limits(pair, monkeypatch, limits):
    """A pull counts the worker's batches (items, open items), then hands out as many as the limit
    leaves. Two pulls of the same worker at once each counted without the other's batch, and both
    handed out: one worker's pulls must count one transaction at a time."""
    backend, other = pair
    job = open_job(backend, 6, overlap={"count": 1}, **limits)
    got: list = []

    def counted(sql: str) -> bool:
        return sql.startswith("SELECT count(*)")

    with between(backend, counted, lambda: got.append(other.pull(job.id, "ann", limit=2)), monkeypatch) as fired:
        mine = backend.pull(job.id, "ann", limit=2)
    assert fired
    assert mine is not None and got == [None]
    assert job.progress().details["assignments"] == {"active": 1}


def test_completing_a_job_does_not_wait_for_pulls_in_flight(pair):
    """The job's row lock that completion, added items and rejections meet on is FOR NO KEY UPDATE:
    a pull holds a key-share lock on the job's row from inserting its assignment (the foreign key)
    until it commits, and FOR UPDATE would make the completing submit wait for every pull in flight
    (two work sessions, each holding one, deadlocked ending a job)."""
    from sqlalchemy import create_engine, text

    backend, _ = pair
    job = open_job(backend, 1, overlap={"count": 1})
    batch = backend.pull(job.id, "ann")
    assert batch is not None
    engine = create_engine(backend.store.engine.url)
    try:
        with engine.connect() as conn:  # what a pull in flight holds on the job's row
            conn.execute(text("SELECT 1 FROM annotate_jobs WHERE id = :id FOR KEY SHARE"), {"id": job.id})
            done: list = []
            submit = threading.Thread(target=lambda: done.append(backend.submit(job.id, batch.assignment, ["cat"])))
            submit.start()
            submit.join(10)
            assert done, "the completing submit waited for the pull in flight"
            conn.rollback()
        submit.join(30)
    finally:
        engine.dispose()
    assert job.progress().state is JobState.COMPLETED
