"""Handing out work and taking it back: pull, submit, skip, expiry, and the end of a job.

Every function here runs inside one write transaction (``Store.write``). A pull locks the item rows
it takes (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers)
and moves a slot from ``free`` to ``open``; a submit moves it from ``open`` to ``done``. So an item
never gets more answers than its overlap, and a unique index on (item, worker) makes sure those
answers come from different workers, whatever the number of concurrent annotators.
"""

from __future__ import annotations

import hashlib
import logging
import random
import string
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from annotate_core.answers import AnswerStatus
from annotate_core.backend import JobState
from annotate_core.errors import JobStateError, NotFoundError
from annotate_core.items import _check_value
from annotate_core.model.commercial import Event
from annotate_core.model.fields import FieldType
from annotate_core.model.workflow import Pulling
from annotate_core.model.workforce import iter_conditions
from annotate_local import quality, raw, review, workforce
from annotate_local import schema as t
from annotate_local import statements as S
from annotate_local.context import CAPTCHA_PERIOD, JobCtx, lock_state, stable_fraction
from annotate_local.errors import BannedError, InvalidAnswerError, NotAllowedError
from annotate_local.events import EventLog
from annotate_local.types import Batch, BatchItem, GoldenFeedback, SubmitResult

log = logging.getLogger(__name__)

A = t.assignments.c
I = t.items.c  # noqa: E741 - the items table's columns, used everywhere below
W = t.answers.c

#: statuses of an answer that count toward an item's overlap
COUNTED = (AnswerStatus.SUBMITTED.value, AnswerStatus.ACCEPTED.value)
FIXED_BATCH = 10  # items per pull for a fixed workload when the caller gives no limit


# ---- answers going back to the queue -----------------------------------------------------------


def _counters(ctx: JobCtx, kinds_ids: Sequence[tuple[str, int]]) -> tuple[list[int], list[int]]:
    """Split item ids into queued items (free/open/done) and mixed-in golden items (open/done only)."""
    queued: list[int] = []
    mixed: list[int] = []
    for kind, item_id in kinds_ids:
        if kind == "training":
            continue
        (mixed if kind == "golden" and ctx.mixing else queued).append(item_id)
    return sorted(queued), sorted(mixed)


#: ends an assignment only while it is still active: the caller's earlier read that it was (closing a
#: job, ``expire_assignment``, ``reclaim``: no row lock) may be out of date by now on PostgreSQL, where a
#: submit or skip can commit in between; this update waits for such a transaction and re-checks the status
_END = update(t.assignments).where(A.id == bindparam("aid"), A.status == "active").values(
    status=bindparam("b_status"), submitted_at=bindparam("now"))


def release(conn: Connection, ctx: JobCtx, assignment: str, status: AnswerStatus, now: float,
            events: EventLog, *, worker: str) -> bool:
    """An active assignment ends without answers (skipped, expired, job closed): free its slots.
    False when it was no longer active (submitted, skipped or expired by another transaction)."""
    if not raw.run(conn, _END, {"aid": assignment, "b_status": status.value, "now": now}):
        return False  # its answers (or its release) committed first: their slots are not ours to free
    rows = conn.execute(select(W.kind, W.item_id).where(W.assignment_id == assignment)).all()
    queued, mixed = _counters(ctx, [(r.kind, r.item_id) for r in rows])
    if queued:
        conn.execute(S.FREE_QUEUED, {"ids": queued})
    if mixed:
        conn.execute(S.FREE_MIXED, {"ids": mixed})
    conn.execute(update(t.answers).where(W.assignment_id == assignment).values(status=status.value))
    events.add(conn, ctx.id, Event(status.value), now, worker=worker, assignment=assignment)
    return True


def sweep(conn: Connection, ctx: JobCtx, now: float, events: EventLog) -> None:
    """Lazy timers: expire overdue assignments, end the job at its deadline, auto-accept old reviews."""
    overdue: Sequence[Any] = ()
    if ctx.spec.limits.assignment_max_seconds:  # only then do assignments have an expiry time
        overdue = raw.rows(conn, S.for_dialect(S.OVERDUE, conn.dialect.name), {"job": ctx.id, "now": now})
    for aid, worker in overdue:
        release(conn, ctx, aid, AnswerStatus.EXPIRED, now, events, worker=worker)
    if overdue:
        log.info("job %s: %d assignment(s) expired; their items are back in the queue", ctx.id, len(overdue))
    if ctx.deadline_at is not None and now >= ctx.deadline_at and ctx.state in ("open", "paused", "draft"):
        close_job(conn, ctx, now, events, reason="deadline")
    plan = ctx.review
    if plan is not None:
        review.sweep(conn, ctx, plan, now, events)


#: the states a job can be closed from
_RUNNING = (JobState.OPEN.value, JobState.PAUSED.value, JobState.DRAFT.value)


def close_job(conn: Connection, ctx: JobCtx, now: float, events: EventLog, *, reason: str = "closed") -> None:
    active = conn.execute(select(A.id, A.worker).where(A.job_id == ctx.id, A.status == "active")).all()
    for aid, worker in active:
        release(conn, ctx, aid, AnswerStatus.EXPIRED, now, events, worker=worker)
    # only a job still running: one that completed (or closed) since the caller read its state stays so
    if not conn.execute(update(t.jobs).where(t.jobs.c.id == ctx.id, t.jobs.c.state.in_(_RUNNING))
                        .values(state=JobState.CLOSED.value, closed_at=now)).rowcount:
        lock_state(conn, ctx)
        return
    ctx.state = JobState.CLOSED.value
    log.info("job %s closed (%s)", ctx.id, reason)


#: (a queued item, an active work assignment, a review to decide), each id or None, read in ONE
#: statement: PostgreSQL's READ COMMITTED gives every statement its own snapshot, so a skip that
#: commits between two separate reads (its item's slot going from open, an active assignment, to
#: free) hides the item from both, and a job was marked completed with items short of answers
#: (seen in the concurrency test under load); a rejection reopening an item as its review is
#: decided did the same between the first two reads and the third
OUTSTANDING = {
    dialect: select(S.for_dialect(S.ANY_QUEUED, dialect).scalar_subquery(), S.ANY_ACTIVE_WORK.scalar_subquery(),
                    review.ANY_PENDING.scalar_subquery())
    for dialect in ("sqlite", "postgresql")
}


def outstanding(conn: Connection, ctx: JobCtx) -> tuple[bool, bool]:
    """(does any item still need answers, is any review still to decide): three index lookups in
    one statement (see ``OUTSTANDING``), whatever the size of the job.

    An item short of answers either has free slots (the queue index) or open ones, and an open slot
    belongs to an active work assignment; an active work assignment always holds a queued item.
    """
    stmt = OUTSTANDING["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]
    queued, active, pending = raw.first(conn, stmt, {"job": ctx.id})
    return queued is not None or active is not None, pending is not None


def has_outstanding(conn: Connection, ctx: JobCtx) -> bool:
    """Does any item still need answers (``outstanding``)?"""
    return outstanding(conn, ctx)[0]


#: does the job have an item to label at all (golden items mixed in are not work; training never is)
_ANY_ITEM = {True: select(I.id).where(I.job_id == bindparam("job"), I.kind == "real").limit(1),
             False: select(I.id).where(I.job_id == bindparam("job"), I.kind != "training").limit(1)}


def check_completion(conn: Connection, ctx: JobCtx, now: float, events: EventLog) -> bool:
    """Mark an open job completed once every item has its answers and no review is outstanding."""
    if ctx.state != JobState.OPEN.value:
        return False
    answers_due, reviews_due = outstanding(conn, ctx)
    if answers_due or reviews_due:
        return False
    # an index lookup, not a count of every item: this runs on every empty pull while reviews finish
    if raw.first(conn, _ANY_ITEM[ctx.mixing], {"job": ctx.id}) is None:
        return False
    if conn.dialect.name == "postgresql":
        # nothing outstanding as of that statement: lock the job's row, where adding items and a
        # requeuing rejection decide whether to reopen it, and look again (a new snapshot, with
        # what they committed while we waited; see context.lock_state). Only at a job's end.
        if lock_state(conn, ctx) != JobState.OPEN.value:
            return False
        answers_due, reviews_due = outstanding(conn, ctx)
        if answers_due or reviews_due:
            return False
    done = conn.execute(update(t.jobs).where(t.jobs.c.id == ctx.id, t.jobs.c.state == JobState.OPEN.value)
                        .values(state=JobState.COMPLETED.value, closed_at=now)).rowcount
    if done:
        total = conn.execute(select(func.count()).select_from(t.items).where(
            I.job_id == ctx.id, I.kind == "real" if ctx.mixing else I.kind != "training")).scalar_one()
        ctx.state = JobState.COMPLETED.value
        method = ctx.aggregate_method
        if method is not None:
            from annotate_local.pipeline import aggregate_stage

            aggregate_stage(conn, ctx, method)
        events.add(conn, ctx.id, Event.COMPLETED, now, items=total)
        log.info("job %s completed: %d item(s) have all their answers", ctx.id, total)
    return bool(done)


# ---- pull ----------------------------------------------------------------------------------------


def check_allowed(conn: Connection, ctx: JobCtx, worker: str, now: float) -> None:
    """Raise ``NotAllowedError`` / ``BannedError`` unless ``worker`` may take work in this job."""
    names = ctx.annotators
    if names and worker not in names:
        raise NotAllowedError(worker, f"not an assignee of job {ctx.id} (assignees: {', '.join(names)})")
    ban = workforce.active_ban(conn, worker, ctx.id, ctx.project, now)
    if ban:
        until = "permanently" if ban["until"] is None else f"until epoch {ban['until']:.0f}"
        raise BannedError(worker, f"banned ({ban['scope']}) {until}: {ban['reason'] or ban['rule'] or 'no reason'}",
                          ban["until"])
    tree = ctx.spec.workforce.filter
    if tree is not None:
        needs = {c.attribute for c in iter_conditions(tree)}
        ok, why = workforce.evaluate(tree, workforce.profile_of(conn, worker, needs))
        if not ok:
            raise NotAllowedError(worker, f"does not match the job's workforce filter: {why}")


def _job_worker(conn: Connection, ctx: JobCtx, worker: str) -> Any:
    params = {"job": ctx.id, "worker": worker}
    row = conn.execute(S.for_dialect(S.JOB_WORKER, conn.dialect.name), params).first()
    if row is None:
        conn.execute(t.job_workers.insert(), {"job_id": ctx.id, "worker": worker, "n_assignments": 0})
        row = conn.execute(S.JOB_WORKER, params).first()
    return row


def pull(conn: Connection, ctx: JobCtx, worker: str, now: float, events: EventLog, *,
         limit: int | None = None, wait: bool = True) -> Batch | None:
    """The next batch for ``worker``, or None when there is nothing for them now.

    ``wait``: on PostgreSQL, when every candidate is locked by another transaction, wait for them
    rather than answer None. Off in a work session, whose transaction holds the rows of many
    operations: two sessions waiting on each other's rows would deadlock on every retry.
    """
    if ctx.state == JobState.DRAFT.value:
        raise JobStateError(f"job {ctx.id} has not been started; call job.start() first")
    before = ctx.state
    sweep(conn, ctx, now, events)
    if ctx.state != before:
        return None  # the deadline passed: the job closed just now (and that must commit)
    if ctx.state in (JobState.CLOSED.value, JobState.ARCHIVED.value):
        raise JobStateError(f"job {ctx.id} is {ctx.state}; it takes no more work")
    if ctx.state != JobState.OPEN.value:
        return None  # paused or completed: nothing to do right now
    check_allowed(conn, ctx, worker, now)
    spec = ctx.spec
    training = spec.training
    if training is not None:
        jw = _job_worker(conn, ctx, worker)
        if jw.training != "passed":
            return _pull_training(conn, ctx, worker, jw, now)

    lim = spec.limits
    dist = spec.distribution
    if (training is None and conn.dialect.name == "postgresql" and (
            lim.max_batches_per_worker or lim.max_items_per_worker
            or (isinstance(dist, Pulling) and dist.max_batch_workload))):
        # the counts below, then a batch within them: one worker's pulls take turns on the worker's
        # row (READ COMMITTED: two at once each counted without the other's batch and both went
        # over the limit). A training job has locked it above already.
        _job_worker(conn, ctx, worker)
    if lim.max_batches_per_worker:
        mine = conn.execute(select(func.count()).select_from(t.assignments).where(
            A.job_id == ctx.id, A.worker == worker, A.kind == "work",
            A.status.in_(("active", "submitted", "accepted", "rejected")))).scalar_one()
        if mine >= lim.max_batches_per_worker:
            return None
    n = limit or (dist.batch_size if isinstance(dist, Pulling) else FIXED_BATCH)
    if lim.max_items_per_worker:
        answered = conn.execute(select(func.count()).select_from(t.answers).where(
            W.job_id == ctx.id, W.worker == worker, W.kind != "training",
            W.status.in_(("active", "submitted", "accepted", "rejected")))).scalar_one()
        n = min(n, lim.max_items_per_worker - answered)
    if isinstance(dist, Pulling) and dist.max_batch_workload:
        open_now = conn.execute(select(func.count()).select_from(t.answers).where(
            W.job_id == ctx.id, W.worker == worker, W.status == "active", W.kind != "training")).scalar_one()
        n = min(n, dist.max_batch_workload - open_now)
    if n <= 0:
        return None

    dialect = conn.dialect.name
    query = S.CANDIDATES_FIXED if ctx.fixed else S.CANDIDATES
    params = {"job": ctx.id, "worker": worker, "n": n}
    picked = raw.rows(conn, S.for_dialect(query, dialect), params)
    if not picked and wait and (waiting := S.waiting(query, dialect)) is not None:
        # nothing unlocked: before answering "no work", wait for the items other transactions hold
        # (a false empty pull ends a person's session while items still need them)
        picked = raw.rows(conn, waiting, params)
    if not picked:
        return None
    extra: list[Any] = []
    if isinstance(dist, Pulling) and dist.golden_per_batch:
        extra += raw.rows(conn, S.for_dialect(S.GOLDEN, dialect),
                          {"job": ctx.id, "worker": worker, "n": dist.golden_per_batch})
    if isinstance(dist, Pulling) and dist.training_per_batch:
        extra += raw.rows(conn, S.for_dialect(S.TRAINING_MIX, dialect),
                          {"job": ctx.id, "worker": worker, "n": dist.training_per_batch})
    return _hand_out(conn, ctx, worker, "work", list(picked), extra, now)


def _pull_training(conn: Connection, ctx: JobCtx, worker: str, jw: Any, now: float) -> Batch | None:
    training = ctx.spec.training
    assert training is not None
    if jw.training == "failed":
        retry = training.retry_after_days
        if retry is None or now < (jw.training_at or 0) + retry * 86400:
            when = "never" if retry is None else f"after {retry} day(s)"
            raise NotAllowedError(worker, f"failed the training ({jw.training_score:.0f}% < "
                                          f"{training.passing_score:g}%); may retry {when}")
    busy = conn.execute(select(A.id).where(A.job_id == ctx.id, A.worker == worker, A.kind == "training",
                                           A.status == "active")).first()
    if busy is not None:
        return None  # finish (or skip) the training batch you hold first
    rows = conn.execute(select(I.id, I.key, I.inputs, I.kind).where(
        I.job_id == ctx.id, t.CONTROL, I.kind == "training").order_by(I.id).limit(training.items_per_batch)).all()
    if not rows:
        raise NotAllowedError(worker, "the job requires training but has no training items")
    return _hand_out(conn, ctx, worker, "training", list(rows), [], now)


def captcha_text(assignment: str) -> str:
    rng = random.Random(assignment)
    return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(5))


def _next_assignment_number(conn: Connection, ctx: JobCtx, worker: str) -> int:
    """The worker's next assignment number in this job, counted under the row lock of the update."""
    n = raw.scalar(conn, S.BUMP_JOB_WORKER, {"job": ctx.id, "b_worker": worker})
    if n is None:  # the worker's first assignment in this job
        conn.execute(t.job_workers.insert(), {"job_id": ctx.id, "worker": worker, "n_assignments": 1})
        n = 1
    return int(n)


def _hand_out(conn: Connection, ctx: JobCtx, worker: str, kind: str, picked: list[Any],
              extra: list[Any], now: float) -> Batch:
    spec = ctx.spec
    n = _next_assignment_number(conn, ctx, worker)
    # deterministic: (job, worker, n) is unique, and a seeded simulation then replays exactly
    aid = hashlib.sha256(f"{ctx.id}\x1f{worker}\x1f{n}".encode()).hexdigest()[:20]
    captcha = None
    if kind == "work" and spec.quality.captcha_frequency:
        if (n - 1) % CAPTCHA_PERIOD[spec.quality.captcha_frequency] == 0:
            captcha = captcha_text(aid)
    rows = list(picked)
    rng = random.Random(aid)
    for row in extra:  # golden and training items anywhere in the batch, not always last
        rows.insert(rng.randint(0, len(rows)), row)
    expires = now + spec.limits.assignment_max_seconds if spec.limits.assignment_max_seconds else None
    raw.run(conn, S.INSERT_ASSIGNMENT, {
        "id": aid, "job_id": ctx.id, "worker": worker, "kind": kind, "status": "active", "n": n, "created_at": now,
        "expires_at": expires, "captcha": captcha, "review": "none"})
    raw.run(conn, S.INSERT_ANSWERS, [
        {"job_id": ctx.id, "assignment_id": aid, "item_id": r.id, "worker": worker, "kind": r.kind,
         "position": pos, "status": "active"} for pos, r in enumerate(rows)])
    queued, mixed = _counters(ctx, [(r.kind, r.id) for r in rows])
    if queued:
        raw.run(conn, S.TAKE_QUEUED, {"ids": queued})
    if mixed:
        raw.run(conn, S.TAKE_MIXED, {"ids": mixed})
    return Batch(
        assignment=aid, job_id=ctx.id, worker=worker, kind=kind,
        items=tuple(BatchItem(r.key, dict(r.inputs), r.kind == "training") for r in rows),
        expires_at=expires, captcha=captcha, instructions=spec.instructions,
        interface=ctx.interface, adult_content=spec.adult_content,
    )


# ---- submit --------------------------------------------------------------------------------------


def _same(field_type: FieldType, given: Any, expected: Any) -> bool:
    if field_type is FieldType.LABELS:
        return sorted(given or []) == sorted(expected or [])
    if isinstance(given, str) and isinstance(expected, str) and field_type is not FieldType.LABEL:
        return given.strip().casefold() == expected.strip().casefold()
    return given == expected


def normalize_answers(ctx: JobCtx, keys: list[str], answers: Any) -> list[dict[str, Any]]:
    """Answers in batch order, each ``{output: value}``, validated against the output fields.

    Accepts a mapping ``key -> {output: value}``, a list in batch order, and for single-output jobs
    ``key -> value`` (or a list of values).
    """
    outputs = ctx.spec.outputs
    single = outputs[0].name if len(outputs) == 1 else None
    if isinstance(answers, Mapping):
        unknown = sorted(set(answers) - set(keys))
        if unknown:
            raise InvalidAnswerError(f"answers for item(s) not in this assignment: {unknown[:5]}")
        ordered = [answers.get(k) for k in keys]
    else:
        ordered = list(answers)
        if len(ordered) != len(keys):
            raise InvalidAnswerError(f"expected {len(keys)} answers (one per item, in batch order), got {len(ordered)}")
    out: list[dict[str, Any]] = []
    for key, ans in zip(keys, ordered, strict=True):
        if ans is None:
            raise InvalidAnswerError(f"item {key!r}: no answer; answer every item or skip the assignment")
        if not isinstance(ans, Mapping):
            if single is None:
                raise InvalidAnswerError(f"item {key!r}: expected a mapping of output field to value")
            ans = {single: ans}
        extra = sorted(set(ans) - {f.name for f in outputs})
        if extra:
            raise InvalidAnswerError(f"item {key!r}: {extra[0]!r} is not an output field of the job")
        for f in outputs:
            problem = _check_value(f, ans.get(f.name))
            if problem:
                raise InvalidAnswerError(f"item {key!r}: {f.name}: {problem}")
        out.append({k: (list(v) if isinstance(v, tuple) else v) for k, v in ans.items()})
    return out


def reward_for(conn: Connection, ctx: JobCtx, worker: str) -> float | None:
    pricing = ctx.spec.pricing
    if pricing is None:
        return None
    if pricing.dynamic is not None:
        value = workforce.get_skills(conn, worker).get(pricing.dynamic.skill)
        if value is not None:
            for iv in pricing.dynamic.intervals:
                if iv.from_ <= value <= iv.to:
                    return iv.reward
    return pricing.reward_per_batch


def submit(conn: Connection, ctx: JobCtx, assignment: str, answers: Any, now: float, events: EventLog, *,
           captcha: str | None = None, worker: str | None = None) -> SubmitResult | str:
    """Record a worker's answers. Returns a ``SubmitResult``, or "expired" when the time ran out."""
    # the assignment (locked) and its items in one query: one row per item
    rows = raw.rows(conn, S.for_dialect(S.ASSIGNMENT_ROWS, conn.dialect.name), {"aid": assignment})
    a = rows[0] if rows else None
    if a is None or a.job_id != ctx.id:
        raise NotFoundError(f"assignment {assignment!r} not found in job {ctx.id}", backend="local")
    if worker is not None and worker != a.worker:
        raise NotAllowedError(worker, f"assignment {assignment} belongs to another worker")
    if a.status != "active":
        raise JobStateError(f"assignment {assignment} is {a.status}; only active assignments take answers")
    if a.expires_at is not None and now > a.expires_at:
        release(conn, ctx, assignment, AnswerStatus.EXPIRED, now, events, worker=a.worker)
        return "expired"
    values = normalize_answers(ctx, [r.key for r in rows], answers)
    types = {f.name: f.type for f in ctx.spec.outputs}
    updates, mistakes = [], []
    golden_total = golden_correct = 0
    for r, v in zip(rows, values, strict=True):
        correct = None  # (r.id is the answer row's id; the assignment's columns repeat on each row)
        if r.golden:
            correct = all(_same(types[k], v.get(k), exp) for k, exp in r.golden.items())
            golden_total += 1
            golden_correct += int(correct)
            if not correct:
                mistakes.append(GoldenFeedback(r.key, dict(r.golden), v, r.hint))
        updates.append({"b_id": r.id, "b_value": v, "b_correct": correct, "b_now": now})
    raw.run(conn, S.STORE_ANSWERS, updates)
    queued, mixed = _counters(ctx, [(r.kind, r.item_id) for r in rows])
    if queued:
        raw.run(conn, S.DONE_QUEUED, {"ids": queued})
    if mixed:
        raw.run(conn, S.DONE_MIXED, {"ids": mixed})

    captcha_ok = None
    if a.captcha is not None:
        captcha_ok = captcha is not None and captcha.strip().upper() == a.captcha
    result_extra: dict[str, Any] = {}
    if a.a_kind == "training":
        result_extra = _grade_training(conn, ctx, a.worker, golden_correct, golden_total, now)
    plan = ctx.review
    # the sample depends on who and which of their assignments, not on random ids: seeded runs replay
    under_review = (a.a_kind == "work" and plan is not None
                    and stable_fraction(ctx.project, a.worker, a.n, "review") < plan.fraction)
    raw.run(conn, S.SUBMIT_ASSIGNMENT, {
        "aid": assignment, "now": now, "duration": max(0.0, now - a.created_at), "captcha_ok": captcha_ok,
        "review": "pending" if under_review else "none",
        "reward": reward_for(conn, ctx, a.worker) if a.a_kind == "work" else None})
    events.add(conn, ctx.id, Event.SUBMITTED, now, worker=a.worker, assignment=assignment, answers=len(rows))
    actions = quality.evaluate(conn, ctx, a.worker, now, events) if ctx.spec.quality.rules else []
    status = "submitted"
    if actions:  # a rule may have rejected this very assignment
        status = conn.execute(select(A.status).where(A.id == assignment)).scalar_one()
    return SubmitResult(
        assignment=assignment, status=status, answers=len(rows), golden_total=golden_total,
        golden_correct=golden_correct, mistakes=tuple(mistakes), captcha_ok=captcha_ok,
        under_review=under_review and status == "submitted", actions=tuple(actions), **result_extra)


def _grade_training(conn: Connection, ctx: JobCtx, worker: str, correct: int, total: int,
                    now: float) -> dict[str, Any]:
    training = ctx.spec.training
    assert training is not None
    score = 100.0 * correct / total if total else 0.0
    passed = score >= training.passing_score - 1e-9
    jwc = t.job_workers.c
    conn.execute(update(t.job_workers).where(jwc.job_id == ctx.id, jwc.worker == worker).values(
        training="passed" if passed else "failed", training_score=score, training_at=now))
    log.info("job %s: %s %s the training with %.0f%%", ctx.id, worker, "passed" if passed else "failed", score)
    return {"training_score": score, "training_passed": passed}


def skip(conn: Connection, ctx: JobCtx, assignment: str, now: float, events: EventLog,
         *, worker: str | None = None) -> list[str]:
    """The worker gives the batch back unanswered; its items return to the queue."""
    a = conn.execute(S.for_dialect(S.ASSIGNMENT, conn.dialect.name), {"aid": assignment}).first()
    if a is None or a.job_id != ctx.id:
        raise NotFoundError(f"assignment {assignment!r} not found in job {ctx.id}", backend="local")
    if worker is not None and worker != a.worker:
        raise NotAllowedError(worker, f"assignment {assignment} belongs to another worker")
    if a.status != "active":
        raise JobStateError(f"assignment {assignment} is {a.status}; only active assignments can be skipped")
    release(conn, ctx, assignment, AnswerStatus.SKIPPED, now, events, worker=a.worker)
    return quality.evaluate(conn, ctx, a.worker, now, events)
