"""A job as the work modules see it: its stored row, its parsed spec, and settings derived from both."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from annotate_core.errors import JobStateError, NotFoundError
from annotate_core.model.spec import JobSpec
from annotate_core.model.workflow import Fixed, OnReject, Pulling, StageKind

CAPTCHA_PERIOD = {"low": 10, "medium": 5, "high": 2}  # a captcha on every n-th assignment of a worker


@dataclass(frozen=True)
class ReviewPlan:
    """Review settings from ``spec.review`` or a pipeline review stage (which then waits for annotation)."""

    fraction: float
    reviewers: tuple[str, ...]
    on_reject: OnReject
    auto_accept_after_days: int | None
    after_annotation: bool


@dataclass
class JobCtx:
    id: str
    spec: JobSpec
    state: str
    project: str
    created_at: float
    deadline_at: float | None
    mixing: bool
    interface: dict[str, Any]  # the spec's effective interface as JSON, what a batch carries

    @property
    def pulling(self) -> bool:
        return isinstance(self.spec.distribution, Pulling)

    @property
    def fixed(self) -> bool:
        return isinstance(self.spec.distribution, Fixed)

    @property
    def review(self) -> ReviewPlan | None:
        return review_plan(self.spec)

    @property
    def aggregate_method(self) -> str | None:
        if self.spec.pipeline is None:
            return None
        for stage in self.spec.pipeline.stages:
            if stage.kind is StageKind.AGGREGATE:
                return stage.method or "mv"
        return None

    @property
    def annotators(self) -> tuple[str, ...]:
        """Who may annotate: named assignees, narrowed by the annotate stage's assignees if any."""
        names = tuple(a.id for a in self.spec.workforce.assignees)
        if self.spec.pipeline is not None:
            stage = self.spec.pipeline.stages[0]
            if stage.assignees:
                names = tuple(n for n in names if n in stage.assignees) if names else stage.assignees
        return names


def review_plan(spec: JobSpec) -> ReviewPlan | None:
    stage = None
    if spec.pipeline is not None:
        stage = next((s for s in spec.pipeline.stages if s.kind is StageKind.REVIEW), None)
    base = spec.review
    if stage is None and base is None:
        return None
    if stage is None:
        assert base is not None
        return ReviewPlan(base.fraction, base.reviewers, base.on_reject, base.auto_accept_after_days, False)
    return ReviewPlan(
        fraction=stage.fraction or (base.fraction if base else 1.0),
        reviewers=stage.assignees or (base.reviewers if base else ()),
        on_reject=base.on_reject if base else OnReject.REQUEUE,
        auto_accept_after_days=base.auto_accept_after_days if base else None,
        after_annotation=True,
    )


def mixes_golden(spec: JobSpec) -> bool:
    """Golden items are a separate control pool mixed into batches (else they queue like any item)."""
    return isinstance(spec.distribution, Pulling) and spec.distribution.golden_per_batch > 0


def check_golden_for_mixing(conn: Connection, job_id: str, spec: JobSpec) -> None:
    """Refuse to open a job whose batches promise golden items it does not have: what only the items
    reveal (a plan cannot know), checked when the job starts, as a crowd platform would hand out no
    control tasks and the golden-accuracy rules would never see an answer."""
    from sqlalchemy import func, select

    from annotate_local import schema as t

    wanted = spec.distribution.golden_per_batch if isinstance(spec.distribution, Pulling) else 0
    have = conn.execute(select(func.count()).select_from(t.items).where(
        t.items.c.job_id == job_id, t.items.c.kind == "golden")).scalar_one()
    if wanted and not have:
        raise JobStateError(
            f"job {job_id} was not opened: distribution.golden_per_batch is {wanted} but 0 golden items are "
            "uploaded; add items with a golden:<output> answer, or set golden_per_batch to 0")


def lock_state(conn: Connection, ctx: JobCtx) -> str:
    """The job's state as last committed, its row locked until this transaction ends (PostgreSQL, FOR NO KEY UPDATE; on
    SQLite the write transaction holds the store already and ``ctx.state`` is current); sets ``ctx.state``.

    Completing a job and making work for it again (items added, a rejection requeuing an item) meet
    on this lock. READ COMMITTED gives each statement its own snapshot: a completion that found
    nothing outstanding could otherwise commit while such a change, which had read the job as open
    (so did not reopen it), was not committed yet, and the job ended completed with work queued.
    The completion reads what is outstanding again once it holds the lock (``work.check_completion``).
    """
    if conn.dialect.name == "postgresql":
        from annotate_local import raw
        from annotate_local.statements import JOB_LOCK, for_dialect

        ctx.state = str(raw.scalar(conn, for_dialect(JOB_LOCK, "postgresql"), {"job": ctx.id}))
    return ctx.state


def stable_fraction(*parts: Any) -> float:
    """A number in [0, 1) fixed by ``parts``: the same sample in every process and every run."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class SpecCache:
    """Specs are immutable once stored: read and parse each job's spec once per process."""

    def __init__(self) -> None:
        self._specs: dict[str, tuple[JobSpec, dict[str, Any]]] = {}

    def load(self, conn: Connection, job_id: str, *, backend: str = "local") -> JobCtx:
        from annotate_local.statements import JOB_SPEC, JOB_STATE

        row = conn.execute(JOB_STATE, {"job": job_id}).first()
        if row is None:
            raise NotFoundError(f"job {job_id!r} not found in the local store", backend=backend)
        cached = self._specs.get(job_id)
        if cached is None:
            spec = JobSpec.model_validate(conn.execute(JOB_SPEC, {"job": job_id}).scalar_one())
            cached = self._specs[job_id] = (spec, spec.effective_interface().model_dump(mode="json"))
        spec, interface = cached
        return JobCtx(job_id, spec, row.state, row.project, row.created_at, row.deadline_at, bool(row.mixing),
                      interface)
