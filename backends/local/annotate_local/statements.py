"""The hot path's SQL, built once at import.

Building a SQLAlchemy statement costs more than running it on SQLite; pull and submit run these
prebuilt statements with bound parameters, so each call only looks up the compiled form. Statements
that lock rows come in two forms: plain (SQLite holds the write lock already) and ``FOR UPDATE``.
"""

from __future__ import annotations

from sqlalchemy import BindParameter, Select, bindparam, select, update

from annotate_local import schema as t

A = t.assignments.c
I = t.items.c  # noqa: E741
J = t.jobs.c
W = t.answers.c
JW = t.job_workers.c

JOB_STATE = select(J.state, J.project, J.created_at, J.deadline_at, J.mixing).where(J.id == bindparam("job"))
JOB_SPEC = select(J.spec).where(J.id == bindparam("job"))

OVERDUE = select(A.id, A.worker).where(A.job_id == bindparam("job"), A.status == "active",
                                       A.expires_at < bindparam("now"))

JOB_WORKER = select(t.job_workers).where(JW.job_id == bindparam("job"), JW.worker == bindparam("worker"))
BUMP_JOB_WORKER = (update(t.job_workers).where(JW.job_id == bindparam("job"), JW.worker == bindparam("b_worker"))
                   .values(n_assignments=JW.n_assignments + 1).returning(JW.n_assignments))

NOT_SEEN = ~select(W.id).where(W.item_id == I.id, W.worker == bindparam("worker")).exists()
_ITEM = (I.id, I.key, I.inputs, I.kind)
CANDIDATES = (select(*_ITEM).where(I.job_id == bindparam("job"), t.QUEUED, NOT_SEEN)
              .order_by(I.id).limit(bindparam("n")))
CANDIDATES_FIXED = (select(*_ITEM).where(
    I.job_id == bindparam("job"), t.QUEUED, NOT_SEEN,
    select(t.item_assignees.c.item_id).where(t.item_assignees.c.item_id == I.id,
                                             t.item_assignees.c.worker == bindparam("worker")).exists())
    .order_by(I.id).limit(bindparam("n")))
GOLDEN = (select(*_ITEM).where(I.job_id == bindparam("job"), t.CONTROL, I.kind == "golden", NOT_SEEN)
          .order_by(I.done + I.open, I.id).limit(bindparam("n")))
TRAINING_MIX = (select(*_ITEM).where(I.job_id == bindparam("job"), t.CONTROL, I.kind == "training", NOT_SEEN)
                .order_by(I.id).limit(bindparam("n")))

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

# the same statements with FOR UPDATE [SKIP LOCKED], for PostgreSQL
_LOCKED: dict[int, Select] = {}
for _stmt, _skip in ((CANDIDATES, True), (CANDIDATES_FIXED, True), (GOLDEN, True), (OVERDUE, True),
                     (JOB_WORKER, False), (ASSIGNMENT, False)):
    _LOCKED[id(_stmt)] = _stmt.with_for_update(skip_locked=_skip)
_LOCKED[id(ASSIGNMENT_ROWS)] = ASSIGNMENT_ROWS.with_for_update(of=t.assignments)


def locked(stmt: Select, dialect: str) -> Select:
    """``stmt`` with its row locks on PostgreSQL; as is on SQLite."""
    return _LOCKED[id(stmt)] if dialect == "postgresql" else stmt
