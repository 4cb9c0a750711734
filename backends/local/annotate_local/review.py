"""QA review: a stable sample of submitted assignments waits for a reviewer, who accepts or rejects it.

The sample is a hash of the assignment id (``stable_fraction``), so it is the same in every process.
A reviewer pulls one assignment at a time (``job.pull(reviewer, role="review")``); an assignment
taken and not decided within the assignment time limit (or an hour) goes back to the review queue.
In a pipeline, review stages wait until annotation is done: stages run in order.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, func, select, update

from annotate_core.errors import JobStateError, NotFoundError
from annotate_core.model.workflow import OnReject
from annotate_local import raw, verdicts
from annotate_local import schema as t
from annotate_local.context import JobCtx, ReviewPlan
from annotate_local.errors import NotAllowedError
from annotate_local.events import EventLog
from annotate_local.types import ReviewBatch, ReviewItem

A = t.assignments.c
I = t.items.c  # noqa: E741
W = t.answers.c

TAKEN_TIMEOUT = 3600.0


#: ``status = 'submitted'`` as a term no index serves, so the queries below read the review queue
#: through (job_id, review): SQLite's planner (no statistics) took (job_id, status, expires_at)
#: instead, i.e. every submitted assignment of the job per review pull (1M items: ~120k rows, 22 ms
#: a pull; the simulated reviewers' polling made it 60% of the run), where (job_id, review) holds the
#: few pending ones.
_SUBMITTED = A.status.concat("") == "submitted"

# built once: every pull sweeps
_RETURN_TAKEN = update(t.assignments).where(
    A.job_id == bindparam("job"), A.review == "taken", A.review_taken_at < bindparam("before")
).values(review="pending", reviewer=None, review_taken_at=None)
#: submitted work whose review is still to decide (waiting, or taken by a reviewer)
_UNDECIDED = (A.job_id == bindparam("job"), A.review.in_(("pending", "taken")), _SUBMITTED)
_UNREVIEWED_SINCE = select(A.id, A.worker).where(*_UNDECIDED, A.submitted_at < bindparam("before"))
_NEXT = (select(A.id, A.worker).where(A.job_id == bindparam("job"), A.review == "pending", _SUBMITTED,
                                       A.worker != bindparam("reviewer")).order_by(A.submitted_at, A.id).limit(1))
_NEXT_LOCKED = _NEXT.with_for_update(skip_locked=True)
_TAKE = update(t.assignments).where(A.id == bindparam("aid")).values(
    review="taken", reviewer=bindparam("b_reviewer"), review_taken_at=bindparam("now"))
_ITEMS = (select(I.key, I.inputs, W.value).join(t.items, I.id == W.item_id)
          .where(W.assignment_id == bindparam("aid")).order_by(W.position))
_PENDING = select(func.count()).select_from(t.assignments).where(*_UNDECIDED)
#: is any review still to decide (for ``work.OUTSTANDING``, which reads it with the rest)
ANY_PENDING = select(A.id).where(*_UNDECIDED).limit(1)


def pending(conn: Connection, ctx: JobCtx) -> int:
    return int(raw.scalar(conn, _PENDING, {"job": ctx.id}))


def sweep(conn: Connection, ctx: JobCtx, plan: ReviewPlan, now: float, events: EventLog) -> None:
    timeout = float(ctx.spec.limits.assignment_max_seconds or TAKEN_TIMEOUT)
    raw.run(conn, _RETURN_TAKEN, {"job": ctx.id, "before": now - timeout})
    if plan.auto_accept_after_days:
        old = raw.rows(conn, _UNREVIEWED_SINCE,
                       {"job": ctx.id, "before": now - plan.auto_accept_after_days * 86400})
        for aid, worker in old:
            verdicts.accept(conn, ctx, aid, worker, now, events, reviewer=None,
                            comment=f"accepted automatically after {plan.auto_accept_after_days} day(s)")


def annotation_done(conn: Connection, ctx: JobCtx) -> bool:
    from annotate_local.work import has_outstanding

    return not has_outstanding(conn, ctx)


def pull(conn: Connection, ctx: JobCtx, reviewer: str, now: float) -> ReviewBatch | None:
    plan = ctx.review
    if plan is None:
        raise JobStateError(f"job {ctx.id} has no review (set `review` or a pipeline review stage)")
    if plan.reviewers and reviewer not in plan.reviewers:
        raise NotAllowedError(reviewer, f"not a reviewer of job {ctx.id} (reviewers: {', '.join(plan.reviewers)})")
    if plan.after_annotation and not annotation_done(conn, ctx):
        return None  # the review stage starts when the annotate stage is finished
    q = _NEXT_LOCKED if conn.dialect.name == "postgresql" else _NEXT
    row = raw.first(conn, q, {"job": ctx.id, "reviewer": reviewer})
    if row is None:
        return None
    raw.run(conn, _TAKE, {"aid": row.id, "b_reviewer": reviewer, "now": now})
    rows = raw.rows(conn, _ITEMS, {"aid": row.id})
    return ReviewBatch(row.id, ctx.id, row.worker, reviewer,
                       tuple(ReviewItem(r.key, dict(r.inputs), dict(r.value or {})) for r in rows))


def decide(conn: Connection, ctx: JobCtx, assignment: str, now: float, events: EventLog, *, accept: bool,
           comment: str | None, reviewer: str | None) -> None:
    """Accept or reject a submitted assignment (sampled for review or not)."""
    a = conn.execute(select(A.job_id, A.worker, A.status, A.review, A.reviewer).where(A.id == assignment)).first()
    if a is None or a.job_id != ctx.id:
        raise NotFoundError(f"assignment {assignment!r} not found in job {ctx.id}", backend="local")
    if a.status != "submitted":
        raise JobStateError(f"assignment {assignment} is {a.status}; only submitted work can be reviewed")
    if reviewer is not None and reviewer == a.worker:
        raise NotAllowedError(reviewer, "a worker cannot review their own assignment")
    who = reviewer or a.reviewer
    if accept:
        decided = verdicts.accept(conn, ctx, assignment, a.worker, now, events, reviewer=who, comment=comment)
    else:
        plan = ctx.review
        requeue = plan is None or plan.on_reject is OnReject.REQUEUE
        decided = verdicts.reject(conn, ctx, assignment, a.worker, now, events, reviewer=who, comment=comment,
                                  requeue=requeue)
    if not decided:  # another verdict committed since the read above (PostgreSQL: see verdicts)
        status = conn.execute(select(A.status).where(A.id == assignment)).scalar_one()
        raise JobStateError(f"assignment {assignment} is {status}; only submitted work can be reviewed")
