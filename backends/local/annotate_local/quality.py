"""Quality rules, evaluated for a worker each time they submit or skip, and the actions they take.

The same *when/then* rules a crowd platform runs server-side (Toloka's collectors, conditions and
actions): each condition measures the worker's recent work in this job; when every condition of a
rule holds, its action applies. Actions are idempotent: a worker already banned is not banned
again, only still-unreviewed work is rejected, a skill is only written when it changes.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, select

from annotate_core.model.commercial import Event
from annotate_core.model.quality import (
    AnswerCount,
    Ban,
    CaptchaFailRate,
    FastSubmits,
    GoldenAccuracy,
    QualityRule,
    RejectAnswers,
    SetSkill,
    SkillValue,
    SkippedInRow,
    SkipRate,
)
from annotate_core.model.workforce import Op
from annotate_local import raw, verdicts, workforce
from annotate_local import schema as t
from annotate_local import statements as S
from annotate_local.context import JobCtx
from annotate_local.events import EventLog

log = logging.getLogger(__name__)

A = t.assignments.c
W = t.answers.c
_DONE = ("submitted", "accepted", "rejected")


def _recent(statuses: tuple[str, ...], *extra: Any) -> Select:
    """A worker's latest ``n`` work assignments in these statuses, newest first (``ix_assignments_recent``)."""
    return (select(A.id, A.status, A.duration_s, A.captcha_ok).where(
        A.job_id == bindparam("job"), A.worker == bindparam("worker"), A.kind == "work", A.status.in_(statuses),
        *extra).order_by(A.submitted_at.desc(), A.n.desc()).limit(bindparam("n")))


# built once: rules run on every submit, and building a statement costs more than running it
_RECENT_DONE = _recent(_DONE)
_RECENT_CAPTCHAS = _recent(_DONE, A.captcha_ok.is_not(None))
_RECENT_WITH_SKIPS = _recent((*_DONE, "skipped"))
_RECENT_GOLDEN = (select(W.correct).where(
    W.job_id == bindparam("job"), W.worker == bindparam("worker"), W.kind == "golden", W.status.in_(_DONE))
    .order_by(W.submitted_at.desc(), W.id.desc()).limit(bindparam("n")))
_ANSWER_COUNT = select(func.count()).select_from(t.answers).where(
    W.job_id == bindparam("job"), W.worker == bindparam("worker"), W.kind != "training",
    W.status.in_(("submitted", "accepted")))


def _last_assignments(conn: Connection, ctx: JobCtx, worker: str, n: int, query: Select) -> list[Any]:
    return raw.rows(conn, query, {"job": ctx.id, "worker": worker, "n": n})


def measure(conn: Connection, ctx: JobCtx, worker: str, cond: Any) -> tuple[bool, float | None]:
    """Whether ``cond`` holds for ``worker`` now, and the measured value."""
    if isinstance(cond, GoldenAccuracy):
        rows = [r[0] for r in raw.rows(conn, _RECENT_GOLDEN, {"job": ctx.id, "worker": worker, "n": cond.window})]
        if len(rows) < cond.min_answers:
            return False, None
        acc = 100.0 * sum(bool(r) for r in rows) / len(rows)
        return acc < cond.below, acc
    if isinstance(cond, FastSubmits):
        rows = _last_assignments(conn, ctx, worker, cond.window, _RECENT_DONE)
        fast = sum(1 for r in rows if r.duration_s is not None and r.duration_s < cond.faster_than_seconds)
        return fast >= cond.at_least, float(fast)
    if isinstance(cond, CaptchaFailRate):
        rows = _last_assignments(conn, ctx, worker, cond.window, _RECENT_CAPTCHAS)
        if not rows:
            return False, None
        rate = 100.0 * sum(1 for r in rows if not r.captcha_ok) / len(rows)
        return rate > cond.above, rate
    if isinstance(cond, SkippedInRow):
        rows = _last_assignments(conn, ctx, worker, cond.at_least, _RECENT_WITH_SKIPS)
        in_row = 0
        for r in rows:
            if r.status != "skipped":
                break
            in_row += 1
        return in_row >= cond.at_least, float(in_row)
    if isinstance(cond, SkipRate):
        rows = _last_assignments(conn, ctx, worker, cond.window, _RECENT_WITH_SKIPS)
        if not rows:
            return False, None
        rate = 100.0 * sum(1 for r in rows if r.status == "skipped") / len(rows)
        return rate > cond.above, rate
    if isinstance(cond, AnswerCount):
        count = raw.scalar(conn, _ANSWER_COUNT, {"job": ctx.id, "worker": worker})
        return count >= cond.at_least, float(count)
    if isinstance(cond, SkillValue):
        value = workforce.get_skills(conn, worker).get(cond.skill)
        if value is None:
            return False, None
        v = cond.value
        holds = {Op.EQ: value == v, Op.NE: value != v, Op.GT: value > v,
                 Op.GTE: value >= v, Op.LT: value < v, Op.LTE: value <= v}.get(cond.op, False)
        return holds, value
    raise TypeError(f"unknown quality condition {type(cond).__name__}")  # pragma: no cover


def evaluate(conn: Connection, ctx: JobCtx, worker: str, now: float, events: EventLog) -> list[str]:
    """Run every rule of the job for ``worker``; returns the actions taken, in words.

    On PostgreSQL the worker's row of the job (``job_workers``) is locked first, so one worker's rules
    run one transaction at a time and each measures what the one before committed. Without it two
    submits or skips of the same worker at once (READ COMMITTED: neither sees the other's) each
    measured half of the recent work (two skips in a row, seen as one each: never banned) or each
    found the rule met and no ban yet (banned twice). Other workers' rules do not wait.
    """
    rules = ctx.spec.quality.rules
    if not rules:
        return []
    if conn.dialect.name == "postgresql":
        raw.first(conn, S.for_dialect(S.JOB_WORKER, "postgresql"), {"job": ctx.id, "worker": worker})
    taken: list[str] = []
    for i, rule in enumerate(rules):
        values: list[float | None] = []
        for cond in rule.when:
            holds, value = measure(conn, ctx, worker, cond)
            if not holds:
                break
            values.append(value)
        else:
            done = _apply(conn, ctx, worker, rule, i, values, now, events)
            if done:
                taken.append(done)
    return taken


def _apply(conn: Connection, ctx: JobCtx, worker: str, rule: QualityRule, index: int,
           values: list[float | None], now: float, events: EventLog) -> str | None:
    name = rule.name or f"rule {index}"
    action = rule.then
    if isinstance(action, Ban):
        if workforce.active_ban(conn, worker, ctx.id, ctx.project, now):
            return None
        seconds = action.seconds()
        until = None if seconds is None else now + seconds
        conn.execute(t.bans.insert().values(
            worker=worker, scope=action.scope.value, job_id=ctx.id, project=ctx.project, until=until,
            reason=action.reason, rule=name, created_at=now))
        events.add(conn, ctx.id, Event.BANNED, now, worker=worker, rule=name, reason=action.reason,
                   scope=action.scope.value, until=until, metrics=values)
        log.info("job %s: %s banned by %r (%s)", ctx.id, worker, name, action.reason)
        return f"ban: {action.reason or name}"
    if isinstance(action, RejectAnswers):
        windows = [getattr(c, "window", None) for c in rule.when]
        n = max((w for w in windows if w), default=10_000)
        recent = _last_assignments(conn, ctx, worker, n, _RECENT_DONE)
        # rejected here unless decided since the read above (a reviewer's verdict committing meanwhile)
        todo = [r.id for r in recent if r.status == "submitted"
                and verdicts.reject(conn, ctx, r.id, worker, now, events, reviewer=f"rule:{name}",
                                    comment=action.comment, requeue=True)]
        return f"reject: {len(todo)} assignment(s)" if todo else None
    if isinstance(action, SetSkill):
        value = values[0] if action.from_metric else action.value
        if value is None:
            return None
        if workforce.get_skills(conn, worker).get(action.skill) == float(value):
            return None
        workforce.set_skill(conn, worker, action.skill, float(value), now)
        return f"set_skill: {action.skill}={value:g}"
    raise TypeError(f"unknown quality action {type(action).__name__}")  # pragma: no cover
