"""The hot path's SQL, built once at import.

Building a SQLAlchemy statement costs more than running it on SQLite; pull and submit run these
prebuilt statements with bound parameters, so each call only looks up the compiled form. Some come
in two forms (``for_dialect``): as written, for SQLite (which holds the write lock already), and for
PostgreSQL, with ``FOR UPDATE [SKIP LOCKED]`` on the rows a pull or submit takes, and written so
its planner keeps to the indexes whatever its statistics say (below).
"""

from __future__ import annotations

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, literal_column, select, update

from annotate_local import schema as t

A = t.assignments.c
I = t.items.c  # noqa: E741
J = t.jobs.c
W = t.answers.c
JW = t.job_workers.c

JOB_STATE = select(J.state, J.project, J.created_at, J.deadline_at, J.mixing).where(J.id == bindparam("job"))
JOB_SPEC = select(J.spec).where(J.id == bindparam("job"))
#: the job's state read again under its row lock (PostgreSQL): see ``context.lock_state``
JOB_LOCK = select(J.state).where(J.id == bindparam("job"))

OVERDUE = select(A.id, A.worker).where(A.job_id == bindparam("job"), A.status == "active",
                                       A.expires_at < bindparam("now"))

JOB_WORKER = select(t.job_workers).where(JW.job_id == bindparam("job"), JW.worker == bindparam("worker"))
BUMP_JOB_WORKER = (update(t.job_workers).where(JW.job_id == bindparam("job"), JW.worker == bindparam("b_worker"))
                   .values(n_assignments=JW.n_assignments + 1).returning(JW.n_assignments))

_SEEN = select(W.id).where(W.item_id == I.id, W.worker == bindparam("worker"))
NOT_SEEN = ~_SEEN.exists()
#: PostgreSQL: the same test as a lookup per candidate row ((item, worker) index). Its planner turns a
#: plain NOT EXISTS into an anti join, and with statistics that lag behind a job filling up (a table
#: analyzed while empty, or not yet) it picked a merge over every answer of the worker or a scan of
#: the answers table, per pull: milliseconds at 20k items, growing with the job. A subquery with an
#: OFFSET is never pulled up into a join (the usual fence), so each candidate costs one index probe.
NOT_SEEN_PG = ~_SEEN.offset(literal_column("0")).exists()
_ITEM = (I.id, I.key, I.inputs, I.kind)


def _candidates(not_seen: ColumnElement[bool]) -> Select:
    return (select(*_ITEM).where(I.job_id == bindparam("job"), t.QUEUED, not_seen)
            .order_by(I.id).limit(bindparam("n")))


def _candidates_fixed(not_seen: ColumnElement[bool]) -> Select:
    return (select(*_ITEM).where(
        I.job_id == bindparam("job"), t.QUEUED, not_seen,
        select(t.item_assignees.c.item_id).where(t.item_assignees.c.item_id == I.id,
                                                 t.item_assignees.c.worker == bindparam("worker")).exists())
        .order_by(I.id).limit(bindparam("n")))


def _golden(not_seen: ColumnElement[bool]) -> Select:
    return (select(*_ITEM).where(I.job_id == bindparam("job"), t.CONTROL, I.kind == "golden", not_seen)
            .order_by(I.done + I.open, I.id).limit(bindparam("n")))


def _training_mix(not_seen: ColumnElement[bool]) -> Select:
    return (select(*_ITEM).where(I.job_id == bindparam("job"), t.CONTROL, I.kind == "training", not_seen)
            .order_by(I.id).limit(bindparam("n")))


CANDIDATES = _candidates(NOT_SEEN)
CANDIDATES_FIXED = _candidates_fixed(NOT_SEEN)
GOLDEN = _golden(NOT_SEEN)
TRAINING_MIX = _training_mix(NOT_SEEN)

_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
TAKE_QUEUED = update(t.items).where(I.id.in_(_IDS)).values(open=I.open + 1, free=I.free - 1)
TAKE_MIXED = update(t.items).where(I.id.in_(_IDS)).values(open=I.open + 1)
DONE_QUEUED = update(t.items).where(I.id.in_(_IDS)).values(open=I.open - 1, done=I.done + 1)
DONE_MIXED = DONE_QUEUED
FREE_QUEUED = update(t.items).where(I.id.in_(_IDS)).values(open=I.open - 1, free=I.free + 1)
FREE_MIXED = update(t.items).where(I.id.in_(_IDS)).values(open=I.open - 1)

INSERT_ASSIGNMENT = t.assignments.insert()
INSERT_ANSWERS = t.answers.insert()
INSERT_EVENT = t.events.insert()

ASSIGNMENT = select(t.assignments).where(A.id == bindparam("aid"))
ASSIGNMENT_ROWS = (select(A.job_id, A.worker, A.status, A.kind.label("a_kind"), A.n, A.created_at, A.expires_at,
                          A.captcha, W.id, W.item_id, W.kind, I.key, I.golden, I.hint)
                   .join(t.answers, W.assignment_id == A.id).join(t.items, I.id == W.item_id)
                   .where(A.id == bindparam("aid")).order_by(W.position))
STORE_ANSWERS = (update(t.answers).where(W.id == bindparam("b_id"))
                 .values(value=bindparam("b_value"), correct=bindparam("b_correct"), status="submitted",
                         submitted_at=bindparam("b_now")))
SUBMIT_ASSIGNMENT = update(t.assignments).where(A.id == bindparam("aid")).values(
    status="submitted", submitted_at=bindparam("now"), duration_s=bindparam("duration"),
    captcha_ok=bindparam("captcha_ok"), review=bindparam("review"), reward=bindparam("reward"))

ANY_QUEUED = select(I.id).where(I.job_id == bindparam("job"), t.QUEUED).limit(1)
ANY_ACTIVE_WORK = select(A.id).where(A.job_id == bindparam("job"), A.status == "active", A.kind == "work").limit(1)

# the PostgreSQL forms: FOR UPDATE [SKIP LOCKED] on the rows taken, NOT_SEEN_PG, and "any queued item"
# in the queue index's order (without one, statistics that still counted most items as queued made
# it scan the table past every finished item)
_POSTGRES: dict[int, Select] = {
    id(CANDIDATES): _candidates(NOT_SEEN_PG).with_for_update(skip_locked=True),
    id(CANDIDATES_FIXED): _candidates_fixed(NOT_SEEN_PG).with_for_update(skip_locked=True),
    id(GOLDEN): _golden(NOT_SEEN_PG).with_for_update(skip_locked=True),
    id(TRAINING_MIX): _training_mix(NOT_SEEN_PG),
    id(OVERDUE): OVERDUE.with_for_update(skip_locked=True),
    # FOR NO KEY UPDATE, what an UPDATE of the row takes: not FOR UPDATE, which would also wait for
    # every transaction holding the key-share lock that inserting an assignment (its foreign key to
    # the job) takes, i.e. every pull in flight, and deadlock two work sessions ending a job
    id(JOB_LOCK): JOB_LOCK.with_for_update(key_share=True),
    id(JOB_WORKER): JOB_WORKER.with_for_update(),
    id(ASSIGNMENT): ASSIGNMENT.with_for_update(),
    id(ASSIGNMENT_ROWS): ASSIGNMENT_ROWS.with_for_update(of=t.assignments),
    id(ANY_QUEUED): select(I.id).where(I.job_id == bindparam("job"), t.QUEUED).order_by(I.id).limit(1),
}


# SKIP LOCKED passes over an item another transaction holds for a moment: a submit moving its slot to
# done, or another pull taking one of its several free slots. So an empty pull is asked again in these
# forms, which wait for those rows (an item with a free slot left after the wait is still taken).
_POSTGRES_WAITING: dict[int, Select] = {
    id(CANDIDATES): _candidates(NOT_SEEN_PG).with_for_update(),
    id(CANDIDATES_FIXED): _candidates_fixed(NOT_SEEN_PG).with_for_update(),
}


def waiting(stmt: Select, dialect: str) -> Select | None:
    """The form of a candidates query that waits for rows other transactions hold, where the usual
    form skips them (PostgreSQL); None where nothing is skipped (SQLite serialises writers)."""
    return _POSTGRES_WAITING[id(stmt)] if dialect == "postgresql" else None


def for_dialect(stmt: Select, dialect: str) -> Select:
    """``stmt`` as run on this database: its PostgreSQL form there (row locks, index-bound plans),
    as written on SQLite."""
    return _POSTGRES[id(stmt)] if dialect == "postgresql" else stmt
