"""Who may work: registered workers and their attributes, crowd filters, skills and bans.

Crowd filters are the spec's and/or tree of conditions, evaluated against the attributes a worker
was registered with (``backend.register_worker``) plus values the store knows (skills, accepted
answers, mean time per assignment). A worker lacking an attribute does not match a positive test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select

from annotate_core.model.workforce import AllOf, AnyOf, Attribute, Condition, Op
from annotate_local import raw
from annotate_local import schema as t

_EDUCATION = ["basic", "middle", "high"]
#: attributes computed from the store rather than registered
_DERIVED = {Attribute.ACCEPTED_COUNT, Attribute.SUBMIT_TIME_RATE}


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _ordered(attr: Attribute, value: Any) -> Any:
    if attr is Attribute.EDUCATION and isinstance(value, str):
        return _EDUCATION.index(value.lower()) if value.lower() in _EDUCATION else None
    return value


def test_condition(cond: Condition, have: Any) -> bool:
    """Does a worker's attribute value ``have`` satisfy ``cond``? Lists (languages) match by membership."""
    op = cond.op
    if have is None:
        return op in (Op.NE, Op.NOT_IN)
    wanted = [_norm(v) for v in cond.values]
    if isinstance(have, list | tuple | set):
        held = {_norm(h) for h in have}
        if op in (Op.EQ, Op.IN):
            return any(w in held for w in wanted)
        if op in (Op.NE, Op.NOT_IN):
            return not any(w in held for w in wanted)
        return False
    h = _norm(have)
    if op in (Op.EQ, Op.IN):
        return h in wanted
    if op in (Op.NE, Op.NOT_IN):
        return h not in wanted
    a, b = _ordered(cond.attribute, h), _ordered(cond.attribute, wanted[0])
    if a is None or b is None:
        return False
    try:
        return {Op.GT: a > b, Op.GTE: a >= b, Op.LT: a < b, Op.LTE: a <= b}[op]
    except TypeError:
        return False


def evaluate(node: Any, profile: Mapping[str, Any]) -> tuple[bool, str | None]:
    """Whether ``profile`` passes the filter tree, and the first failing condition in words."""
    if node is None:
        return True, None
    if isinstance(node, AllOf):
        for sub in node.all:
            ok, why = evaluate(sub, profile)
            if not ok:
                return False, why
        return True, None
    if isinstance(node, AnyOf):
        reasons = []
        for sub in node.any:
            ok, why = evaluate(sub, profile)
            if ok:
                return True, None
            reasons.append(why)
        return False, "none of: " + "; ".join(r for r in reasons if r)
    cond: Condition = node
    have = (profile.get("skills") or {}).get(cond.skill) if cond.attribute is Attribute.SKILL else profile.get(
        cond.attribute.value)
    if test_condition(cond, have):
        return True, None
    what = f"skill {cond.skill}" if cond.skill else cond.attribute.value
    return False, f"{what} {cond.op.value} {cond.value!r} (worker has {have!r})"


_ATTRIBUTES = select(t.workers.c.attributes).where(t.workers.c.id == bindparam("worker"))  # every pull: built once


def profile_of(conn: Connection, worker: str, needs: set[Attribute]) -> dict[str, Any]:
    """A worker's attributes, skills, and the derived values the filter needs."""
    attrs = raw.scalar(conn, _ATTRIBUTES, {"worker": worker})
    profile: dict[str, Any] = dict(attrs or {})
    if Attribute.SKILL in needs:
        profile["skills"] = get_skills(conn, worker)
    if Attribute.ACCEPTED_COUNT in needs:
        profile["accepted_count"] = conn.execute(
            select(func.count()).select_from(t.assignments).where(
                t.assignments.c.worker == worker, t.assignments.c.status == "accepted")
        ).scalar_one()
    if Attribute.SUBMIT_TIME_RATE in needs:
        profile["submit_time_rate"] = conn.execute(
            select(func.avg(t.assignments.c.duration_s)).where(
                t.assignments.c.worker == worker, t.assignments.c.duration_s.is_not(None))
        ).scalar_one()
    return profile


def get_skills(conn: Connection, worker: str) -> dict[str, float]:
    rows = conn.execute(select(t.skills.c.skill, t.skills.c.value).where(t.skills.c.worker == worker))
    return {s: v for s, v in rows}


def set_skill(conn: Connection, worker: str, skill: str, value: float, now: float) -> None:
    updated = conn.execute(
        t.skills.update().where(t.skills.c.worker == worker, t.skills.c.skill == skill)
        .values(value=float(value), updated_at=now)
    ).rowcount
    if not updated:
        conn.execute(t.skills.insert().values(worker=worker, skill=skill, value=float(value), updated_at=now))


_B = t.bans.c
_ACTIVE_BAN = select(_B.until, _B.reason, _B.scope, _B.rule).where(
    _B.worker == bindparam("worker"),
    or_(_B.until.is_(None), _B.until > bindparam("now")),
    or_(_B.scope == "all", and_(_B.scope == "project", _B.project == bindparam("project")),
        and_(_B.scope == "job", _B.job_id == bindparam("job"))),
).order_by(_B.until.is_(None).desc(), _B.until.desc()).limit(1)


def active_ban(conn: Connection, worker: str, job_id: str, project: str, now: float) -> dict[str, Any] | None:
    """The ban that currently keeps ``worker`` out of this job, if any (longest first)."""
    row = raw.first(conn, _ACTIVE_BAN, {"worker": worker, "now": now, "project": project, "job": job_id})
    return row._asdict() if row else None


def register_worker(conn: Connection, worker: str, attributes: Mapping[str, Any], now: float) -> None:
    attrs = {k: (list(v) if isinstance(v, tuple | set) else v) for k, v in attributes.items()}
    bad = sorted(set(attrs) - {a.value for a in Attribute if a not in _DERIVED and a is not Attribute.SKILL})
    if bad:
        raise ValueError(f"attributes: unknown worker attribute(s) {bad}; expected some of "
                         f"{sorted(a.value for a in Attribute if a not in _DERIVED and a is not Attribute.SKILL)}")
    updated = conn.execute(t.workers.update().where(t.workers.c.id == worker).values(attributes=attrs)).rowcount
    if not updated:
        conn.execute(t.workers.insert().values(id=worker, attributes=attrs, created_at=now))
