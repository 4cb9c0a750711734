"""Reads the web pages need that the work API has no call for: what a person already holds.

A browser reloads, a person comes back after lunch: the batch they pulled (or the review they took)
must show again instead of a new one being handed out. These are reads only, always filtered by the
person asking, so nobody can load another person's assignment; handing work out and taking answers
in stays with ``LocalBackend.pull`` / ``submit`` / ``review``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from annotate_local import schema as t
from annotate_local.backend import LocalBackend
from annotate_local.serve.render import ItemData

A = t.assignments.c
I = t.items.c  # noqa: E741
W = t.answers.c


@dataclass(frozen=True)
class Held:
    """An active assignment of one worker: its items in batch order."""

    assignment: str
    kind: str
    items: tuple[ItemData, ...]
    has_captcha: bool
    expires_at: float | None


@dataclass(frozen=True)
class HeldReview:
    """A submitted assignment a reviewer took: its worker and each item with its answer."""

    assignment: str
    worker: str
    items: tuple[tuple[ItemData, dict[str, Any]], ...]


def held_batch(backend: LocalBackend, job_id: str, worker: str, assignment: str | None = None) -> Held | None:
    """``worker``'s active, unexpired assignment in the job (the given one, else the oldest), or None."""
    now = backend.clock()
    q = select(A.id, A.kind, A.captcha, A.expires_at).where(
        A.job_id == job_id, A.worker == worker, A.status == "active",
        or_(A.expires_at.is_(None), A.expires_at > now))
    if assignment is not None:
        q = q.where(A.id == assignment)
    with backend.store.read() as conn:
        row = conn.execute(q.order_by(A.created_at, A.id).limit(1)).first()
        if row is None:
            return None
        items = conn.execute(select(I.key, I.inputs, I.kind).join(t.items, I.id == W.item_id)
                             .where(W.assignment_id == row.id).order_by(W.position)).all()
    return Held(row.id, row.kind, tuple(ItemData(r.key, dict(r.inputs or {}), r.kind == "training") for r in items),
                row.captcha is not None, row.expires_at)


def captcha_of(backend: LocalBackend, job_id: str, worker: str, assignment: str) -> str | None:
    """The captcha text of ``worker``'s own active assignment (None for anyone else's)."""
    with backend.store.read() as conn:
        return conn.execute(select(A.captcha).where(A.id == assignment, A.job_id == job_id, A.worker == worker,
                                                    A.status == "active")).scalar_one_or_none()


def held_review(backend: LocalBackend, job_id: str, reviewer: str, assignment: str | None = None
                ) -> HeldReview | None:
    """The review ``reviewer`` took and has not decided (the given one, else the oldest), or None."""
    q = select(A.id, A.worker).where(A.job_id == job_id, A.review == "taken", A.reviewer == reviewer,
                                     A.status == "submitted")
    if assignment is not None:
        q = q.where(A.id == assignment)
    with backend.store.read() as conn:
        row = conn.execute(q.order_by(A.review_taken_at, A.id).limit(1)).first()
        if row is None:
            return None
        items = conn.execute(select(I.key, I.inputs, W.value).join(t.items, I.id == W.item_id)
                             .where(W.assignment_id == row.id).order_by(W.position)).all()
    return HeldReview(row.id, row.worker,
                      tuple((ItemData(r.key, dict(r.inputs or {})), dict(r.value or {})) for r in items))
