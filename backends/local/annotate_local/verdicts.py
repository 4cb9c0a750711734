"""Accepting and rejecting submitted assignments, whoever decides (a reviewer, a rule, the API).

A rejection that requeues takes the answers' slots back (``done`` - 1, ``free`` + 1), so the items
go to another worker; a discarding one keeps the slots used, so the items are not redone.

A verdict applies once: each updates the assignment only while it is still ``submitted``, and does the
rest only if that update found it so. Whoever decides read the status in an earlier statement (a
reviewer's decision, the auto-accept sweep, a quality rule), and on PostgreSQL another verdict can
commit in between: two rejections took the slots back twice, an acceptance after a rejection
counted answers whose slots were back in the queue.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, select, update

from annotate_core.backend import JobState
from annotate_core.model.commercial import Event
from annotate_local import raw
from annotate_local import schema as t
from annotate_local.context import JobCtx, lock_state
from annotate_local.events import EventLog

A = t.assignments.c
I = t.items.c  # noqa: E741
W = t.answers.c

_ACCEPT = update(t.assignments).where(A.id == bindparam("aid"), A.status == "submitted").values(
    status="accepted", review="done", reviewer=bindparam("b_reviewer"), review_comment=bindparam("b_comment"),
    reviewed_at=bindparam("now"))
_ACCEPT_ANSWERS = update(t.answers).where(W.assignment_id == bindparam("aid")).values(status="accepted")


def accept(conn: Connection, ctx: JobCtx, assignment: str, worker: str, now: float, events: EventLog, *,
           reviewer: str | None, comment: str | None) -> bool:
    """Accept a submitted assignment; False (nothing done) if it was decided meanwhile."""
    if not raw.run(conn, _ACCEPT, {"aid": assignment, "b_reviewer": reviewer, "b_comment": comment, "now": now}):
        return False
    raw.run(conn, _ACCEPT_ANSWERS, {"aid": assignment})
    events.add(conn, ctx.id, Event.ACCEPTED, now, worker=worker, assignment=assignment, reviewer=reviewer)
    return True


def reject(conn: Connection, ctx: JobCtx, assignment: str, worker: str, now: float, events: EventLog, *,
           reviewer: str | None, comment: str | None, requeue: bool) -> bool:
    """Reject a submitted assignment; False (nothing done) if it was decided meanwhile."""
    if not conn.execute(update(t.assignments).where(A.id == assignment, A.status == "submitted").values(
            status="rejected", review="done", reviewer=reviewer, review_comment=comment,
            reviewed_at=now)).rowcount:
        return False
    rows = conn.execute(select(W.kind, W.item_id).where(W.assignment_id == assignment)).all()
    conn.execute(update(t.answers).where(W.assignment_id == assignment).values(status="rejected"))
    if requeue:
        queued = sorted(r.item_id for r in rows if r.kind != "training" and not (r.kind == "golden" and ctx.mixing))
        mixed = sorted(r.item_id for r in rows if r.kind == "golden" and ctx.mixing)
        if queued:
            conn.execute(update(t.items).where(I.id.in_(queued)).values(done=I.done - 1, free=I.free + 1))
        if mixed:
            conn.execute(update(t.items).where(I.id.in_(mixed)).values(done=I.done - 1))
        # the job's state under its row lock, not as this transaction first read it: a completion
        # committing meanwhile did not see these free slots (see context.lock_state)
        if queued and lock_state(conn, ctx) == JobState.COMPLETED.value:
            conn.execute(update(t.jobs).where(t.jobs.c.id == ctx.id).values(state=JobState.OPEN.value,
                                                                          closed_at=None))
            ctx.state = JobState.OPEN.value
    events.add(conn, ctx.id, Event.REJECTED, now, worker=worker, assignment=assignment, reviewer=reviewer,
               comment=comment, requeued=requeue)
    return True
