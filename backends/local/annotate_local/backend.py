"""``LocalBackend``: the embedded default, and the reference implementation of the neutral model.

Jobs live in a SQLAlchemy store: a SQLite file (``annotate.db`` in the working directory, or the
profile's ``path`` / ``url``) or PostgreSQL (``url = "postgresql+psycopg://..."``). In-house
annotators take work through ``job.pull`` / ``job.submit``; a seeded simulated workforce drives the
same API for rehearsals (``job.simulate``). Everything a crowd platform does server-side (golden
mixing, training, quality rules, review, deadlines) happens here as answers arrive.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import SecretStr

from annotate_core.answers import AnswerStatus
from annotate_core.backend import Backend, JobState, PlannedOperation, Progress, ProgressCallback, shown_option
from annotate_core.capabilities import Capability
from annotate_core.errors import ConfigError, JobStateError
from annotate_core.items import Item, ItemError, UploadReport
from annotate_core.secrets import register_secret
from annotate_local.types import Batch, ReviewBatch, SubmitResult

if TYPE_CHECKING:
    # SQLAlchemy and the store's modules are imported inside the methods that use them, so they load
    # when a LocalBackend is made, not when the class is imported: `annotate backends` imports every
    # backend class to read its capabilities (tests/core/test_startup.py).
    import pandas as pd
    from sqlalchemy import Connection

    from annotate_core.model.spec import JobSpec
    from annotate_local.context import JobCtx
    from annotate_local.events import EventCallback, EventLog
    from annotate_local.sessions import WorkSession
    from annotate_local.store import Store

log = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], float]

UPLOAD_CHUNK = 500
TRUTH_CHUNK = 5000  # hidden truths stored per transaction
#: seconds without a pull, an answer or a review after which an open job counts as unattended
IDLE_AFTER = 60.0


def _utc(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=timezone.utc)


def _iso(ts: float | None) -> str | None:
    """An epoch-seconds column as ISO 8601 UTC text for JSON-ready dicts; None stays None."""
    dt = _utc(ts)
    return None if dt is None else dt.isoformat()


class LocalBackend(Backend):
    """Options: ``url`` (SQLAlchemy URL; ``url_env`` reads it from the environment) or ``path`` (SQLite
    file, default ``./annotate.db``), ``password`` (from ``password_env``: the password of a ``url``
    written without one), ``echo`` (log SQL), ``clock`` (a callable returning epoch seconds; the
    simulator swaps in its own), ``webhook_timeout`` (seconds per webhook POST, default 10).
    """

    name = "local"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability) - {Capability.VENDOR_DATASET}
    hints: ClassVar[Mapping[Capability, str]] = {
        Capability.VENDOR_DATASET: "the local store has no vendor datasets: use source kind 'items' and upload them",
    }

    def __init__(self, **options: Any) -> None:
        from sqlalchemy import make_url

        from annotate_local.context import SpecCache
        from annotate_local.events import Subscribers
        from annotate_local.store import store_url

        known = {"url", "path", "password", "echo", "clock", "webhook_timeout"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(f"local backend: unknown option(s) {unknown}; expected some of {sorted(known)}")
        super().__init__(**options)
        self.clock: Clock = options.get("clock") or time.time
        self._url = store_url(options.get("url"), options.get("path"), options.get("password"))
        if isinstance(options.get("url"), SecretStr):  # from url_env: its password alone is a secret too
            register_secret(make_url(self._url).password)
        self._store: Store | None = None
        self._specs = SpecCache()
        self.subscribers = Subscribers()
        self._http: Any = None
        self._webhook_backlog = False
        self._session: WorkSession | None = None

    def __repr__(self) -> str:
        shown = {k: shown_option(v) for k, v in self.options.items() if k != "clock"}
        return f"LocalBackend({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    # ---- plumbing ---------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The store, which must exist: reads and operations on jobs never create one."""
        return self.open_store(create=False)

    def open_store(self, *, create: bool = True) -> Store:
        """The store, created (file and schema) when missing unless ``create=False``; only what makes
        something new (a job, a worker) creates it, so a mistyped path is an error, not an empty store."""
        from annotate_local.store import Store

        if self._store is None:
            self._store = Store(self._url, echo=bool(self.options.get("echo")), create=create)
        return self._store

    @property
    def url(self) -> str:
        return self._url

    def _ctx(self, conn: Connection, job_id: str) -> JobCtx:
        return self._specs.load(conn, job_id)

    def _write(self, job_id: str, fn: Callable[[Connection, JobCtx, float, EventLog], T]) -> T:
        """Run ``fn`` in one write transaction on the job, then deliver its events to subscribers
        (inside a ``work_session`` on the job: in a savepoint of the session's transaction)."""
        from annotate_local.events import EventLog

        session = self._session
        if session is not None and session.owns(job_id):
            return session.write(lambda conn, ctx, events: fn(conn, ctx, self.clock(), events))
        events = EventLog()

        def tx(conn: Connection) -> T:
            events.pending.clear()
            events.deliveries = 0
            ctx = self._ctx(conn, job_id)
            events.webhooks = ctx.spec.webhooks
            return fn(conn, ctx, self.clock(), events)

        out = self.store.write(tx)
        self._delivered(events)
        return out

    def _delivered(self, events: EventLog) -> None:
        """After a commit: the events it holds go to subscribers, and queued webhooks out."""
        self.subscribers.deliver(events)
        if events.deliveries or self._webhook_backlog:
            self.deliver_webhooks()

    @contextmanager
    def _reading(self, job_id: str) -> Iterator[Connection]:
        """A connection for reads about ``job_id``: the work session's when one is open on it (so the
        read sees its operations not committed yet), else a read transaction of its own."""
        session = self._session
        if session is not None and session.owns(job_id):
            yield session.read(lambda conn: conn)
            return
        with self.store.read() as conn:
            yield conn

    @contextmanager
    def work_session(self, job_id: str, *, max_ops: int | None = None,
                     max_seconds: float | None = None) -> Iterator[WorkSession]:
        """Run this thread's operations on ``job_id`` inside the block in shared transactions, each
        committed after ``max_ops`` operations or ``max_seconds`` (see ``annotate_local.sessions``):
        what a simulated crowd needs to work at the store's pace. Leaving the block commits; an
        exception rolls back what was not committed yet and propagates."""
        from annotate_local import sessions

        if self._session is not None:
            raise RuntimeError(f"a work session is already open on job {self._session.job_id}")
        session = sessions.WorkSession(
            self.store, self._specs, job_id, on_commit=self._delivered,
            max_ops=max_ops or sessions.MAX_OPS, max_seconds=max_seconds or sessions.MAX_SECONDS)
        self._session = session
        try:
            yield session
        except BaseException:
            self._session = None
            session.rollback()
            raise
        self._session = None
        session.commit()

    def deliver_webhooks(self, job_id: str | None = None) -> dict[str, int]:
        """POST pending webhook deliveries now (done after every change that queues one)."""
        from annotate_local import webhooks

        if self._http is None:
            from annotate_core.http import HttpClient

            timeout = float(self.options.get("webhook_timeout") or 10.0)
            self._http = HttpClient("", backend=self.name, retries=0, max_rate_limit_retries=0,
                                    timeout=(min(5.0, timeout), timeout))
        counts = webhooks.deliver(self.store, self._http, job_id=job_id)
        self._webhook_backlog = webhooks.backlog(self.store) if counts["retry"] else False
        return counts

    def webhook_deliveries(self, job_id: str) -> list[dict[str, Any]]:
        """Every webhook delivery of a job, with its event, status, attempts and last error."""
        from sqlalchemy import select

        from annotate_local import schema as t

        d, e = t.webhook_deliveries.c, t.events.c
        with self.store.read() as conn:
            rows = conn.execute(select(d.id, d.url, d.status, d.attempts, d.last_error, e.seq, e.type)
                                .join(t.events, e.seq == d.event_seq).where(d.job_id == job_id).order_by(d.id))
            return [dict(r) for r in rows.mappings()]

    # ---- planning ---------------------------------------------------------------------------

    def plan(self, spec: JobSpec, n_items: int | None = None) -> list[PlannedOperation]:
        from annotate_local.context import mixes_golden

        where = self.store_description()
        ops = [PlannedOperation("insert job", f"job {spec.name!r} in {where}",
                                {"name": spec.name, "state": "draft", "mixing": mixes_golden(spec)})]
        if spec.training is not None:
            ops.append(PlannedOperation("insert training items",
                                        f"{len(spec.training.items)} training item(s), pass at "
                                        f"{spec.training.passing_score:g}%"))
        if n_items is not None:
            ops.append(PlannedOperation("insert items", f"{n_items} item(s), idempotent by key"))
        if spec.workforce.assignees:
            ops.append(PlannedOperation("assign items", f"split among {len(spec.workforce.assignees)} assignee(s)"))
        ops.append(PlannedOperation("open job", "workers pull batches with job.pull() (or job.simulate())"))
        return ops

    def store_description(self) -> str:
        from annotate_local.store_errors import describe

        return f"{'SQLite' if self._url.startswith('sqlite') else 'PostgreSQL'} {describe(self._url)}"

    # ---- lifecycle --------------------------------------------------------------------------

    def find_job(self, key: str) -> str | None:
        # only create_job(key=...) looks a key up, and it creates the store next anyway
        from sqlalchemy import select

        from annotate_local import schema as t

        with self.open_store().read() as conn:
            return conn.execute(select(t.jobs.c.id).where(t.jobs.c.job_key == key)).scalar_one_or_none()

    def create_job(self, spec: JobSpec, *, key: str | None = None) -> str:
        from sqlalchemy import select

        from annotate_core import stored_spec
        from annotate_local import schema as t
        from annotate_local.context import mixes_golden

        job_id = uuid.uuid4().hex[:12]
        now = self.clock()
        project = str((spec.options.get("local") or {}).get("project") or spec.name)
        deadline = spec.deadline_at(_utc(now))

        def tx(conn: Connection) -> str:
            if key is not None:  # a concurrent create of the same key won: its job is ours
                # (on PostgreSQL the loser's insert hits ux_jobs_key and store.write reruns this)
                found = conn.execute(select(t.jobs.c.id).where(t.jobs.c.job_key == key)).scalar_one_or_none()
                if found is not None:
                    return str(found)
            conn.execute(t.jobs.insert().values(
                id=job_id, name=spec.name, project=project, spec=stored_spec.spec_document(spec),
                state=JobState.DRAFT.value, created_at=now, deadline_at=deadline.timestamp() if deadline else None,
                mixing=mixes_golden(spec), job_key=key))
            if spec.training is not None:
                conn.execute(t.items.insert(), [
                    {"job_id": job_id, "key": f"training:{it.key}", "kind": "training", "inputs": it.inputs,
                     "golden": it.golden, "hint": it.hint, "needed": 0, "done": 0, "open": 0, "free": 0,
                     "created_at": now} for it in spec.training.items])
            return job_id

        made = self.open_store().write(tx)
        if made != job_id:
            log.info("local job key %s was created by another process as job %s", key, made)
            return made
        log.info("local job %s created (%s)%s", job_id, spec.name, f" with key {key}" if key else "")
        return job_id

    def get_spec(self, job_id: str) -> JobSpec | None:
        with self.store.read() as conn:
            return self._ctx(conn, job_id).spec

    def add_items(self, job_id: str, spec: JobSpec, items: Iterable[Item], *,
                  on_progress: ProgressCallback | None = None) -> UploadReport:
        report = UploadReport()
        chunk: list[Item] = []
        for item in items:
            chunk.append(item)
            if len(chunk) >= UPLOAD_CHUNK:
                report.merge(self._add_chunk(job_id, chunk))
                if on_progress:
                    on_progress(len(chunk))
                chunk = []
        if chunk:
            report.merge(self._add_chunk(job_id, chunk))
            if on_progress:
                on_progress(len(chunk))
        return report

    def _add_chunk(self, job_id: str, chunk: list[Item]) -> UploadReport:
        from sqlalchemy import select, update

        from annotate_local import schema as t
        from annotate_local.context import lock_state
        I = t.items.c  # noqa: E741

        def tx(conn: Connection, ctx: JobCtx, now: float, events: EventLog) -> UploadReport:
            # the state under the job's row lock: a completion committing before this transaction
            # does must see these items or be seen by it (reopening the job; see context.lock_state)
            lock_state(conn, ctx)
            if ctx.state in (JobState.CLOSED.value, JobState.ARCHIVED.value):
                raise JobStateError(f"job {job_id} is {ctx.state}; items cannot be added")
            rep = UploadReport(keys=[i.key for i in chunk])
            present = set(conn.execute(select(I.key).where(I.job_id == job_id,
                                                           I.key.in_([i.key for i in chunk]))).scalars())
            new = [i for i in chunk if i.key not in present]
            rep.existing = len(chunk) - len(new)
            rows: list[dict[str, Any]] = []  # items table rows, one per new item
            for it in new:
                mixed = it.is_golden and ctx.mixing
                needed = it.overlap or ctx.spec.overlap.for_key(it.key)
                if ctx.fixed:
                    n_people = len(ctx.annotators)
                    if needed > n_people:
                        rep.errors.append(ItemError(it.key, "overlap", f"needs {needed} different assignees, "
                                                                       f"the job has {n_people}"))
                        continue
                rows.append({"job_id": job_id, "key": it.key, "kind": "golden" if it.is_golden else "real",
                             "inputs": it.inputs, "golden": it.golden, "hint": it.hint,
                             "needed": 0 if mixed else needed, "done": 0, "open": 0,
                             "free": 0 if mixed else needed, "created_at": now})
            if rows:
                conn.execute(t.items.insert(), rows)
                if ctx.fixed:
                    self._allocate(conn, ctx, [r["key"] for r in rows])
                if ctx.state == JobState.COMPLETED.value:  # new work reopens a finished job
                    conn.execute(update(t.jobs).where(t.jobs.c.id == job_id).values(state="open", closed_at=None))
            rep.created = len(rows)
            return rep

        return self._write(job_id, tx)

    def _allocate(self, conn: Connection, ctx: JobCtx, keys: list[str]) -> None:
        """Fixed workload: each item goes to ``needed`` different assignees, least loaded by weight first."""
        from sqlalchemy import func, select

        from annotate_local import schema as t
        I = t.items.c  # noqa: E741

        weights = {a.id: a.weight for a in ctx.spec.workforce.assignees if a.id in ctx.annotators}
        ia = t.item_assignees.c
        load = {w: 0 for w in weights}
        for worker, n in conn.execute(select(ia.worker, func.count()).where(ia.job_id == ctx.id).group_by(ia.worker)):
            if worker in load:
                load[worker] = n
        order = list(weights)
        rows = []
        for item_id, needed in conn.execute(select(I.id, I.needed).where(I.job_id == ctx.id, I.key.in_(keys))
                                            .order_by(I.id)):
            chosen = sorted(order, key=lambda w: ((load[w] + 1) / weights[w], order.index(w)))[:needed]
            for w in chosen:
                load[w] += 1
                rows.append({"job_id": ctx.id, "item_id": item_id, "worker": w})
        if rows:
            conn.execute(t.item_assignees.insert(), rows)

    def set_truth(self, job_id: str, truth: Mapping[str, Any]) -> int:
        """Store hidden true answers (item key -> ``{output: value}`` or a value for one-output jobs).

        Only the simulator reads them; workers never see them. Returns how many items were updated.
        """
        from sqlalchemy import bindparam, select, update

        from annotate_local import schema as t
        I = t.items.c  # noqa: E741

        find = select(I.id, I.key).where(I.job_id == job_id, I.key.in_(bindparam("keys", expanding=True)))
        store = update(t.items).where(I.id == bindparam("b_id")).values(truth=bindparam("b_truth"))

        def tx(chunk: list[tuple[str, Any]]) -> Callable[[Connection, JobCtx, float, EventLog], int]:
            def run(conn: Connection, ctx: JobCtx, now: float, events: EventLog) -> int:
                single = ctx.spec.outputs[0].name
                given = dict(chunk)
                rows = [{"b_id": item_id, "b_truth": dict(v if isinstance(v, Mapping) else {single: v})}
                        for item_id, key in conn.execute(find, {"keys": list(given)})
                        for v in (given[key],)]
                if rows:  # one executemany per chunk: a million items take seconds, not minutes
                    conn.execute(store, rows)
                return len(rows)

            return run

        pairs = [(str(k), v) for k, v in truth.items()]
        return sum(self._write(job_id, tx(pairs[at:at + TRUTH_CHUNK])) for at in range(0, len(pairs), TRUTH_CHUNK))

    def start(self, job_id: str) -> None:
        from sqlalchemy import func, update

        from annotate_local import schema as t
        from annotate_local import work
        from annotate_local.context import check_golden_for_mixing, lock_state

        def tx(conn: Connection, ctx: JobCtx, now: float, events: EventLog) -> None:
            if ctx.state in (JobState.CLOSED.value, JobState.ARCHIVED.value):
                raise JobStateError(f"job {job_id} is {ctx.state}; a closed job cannot be reopened")
            if ctx.state == JobState.DRAFT.value and ctx.mixing:
                check_golden_for_mixing(conn, job_id, ctx.spec)
            if ctx.state in (JobState.DRAFT.value, JobState.PAUSED.value):
                # only from the state read above: a close committing since then stays closed
                if not conn.execute(update(t.jobs).where(t.jobs.c.id == job_id, t.jobs.c.state == ctx.state).values(
                        state=JobState.OPEN.value, started_at=func.coalesce(t.jobs.c.started_at, now))).rowcount:
                    raise JobStateError(f"job {job_id} is {lock_state(conn, ctx)}; it was not opened")
                ctx.state = JobState.OPEN.value
                work.sweep(conn, ctx, now, events)
                work.check_completion(conn, ctx, now, events)

        self._write(job_id, tx)

    def pause(self, job_id: str) -> None:
        from sqlalchemy import update

        from annotate_local import schema as t
        from annotate_local.context import lock_state

        def tx(conn: Connection, ctx: JobCtx, now: float, events: EventLog) -> None:
            if ctx.state != JobState.OPEN.value:
                raise JobStateError(f"job {job_id} is {ctx.state}; only an open job can be paused")
            # only if still open: a completion (or close) committing since the read above stands
            if not conn.execute(update(t.jobs).where(t.jobs.c.id == job_id, t.jobs.c.state == JobState.OPEN.value)
                                .values(state=JobState.PAUSED.value)).rowcount:
                raise JobStateError(f"job {job_id} is {lock_state(conn, ctx)}; only an open job can be paused")

        self._write(job_id, tx)

    def close(self, job_id: str) -> None:
        from annotate_local import work

        def tx(conn: Connection, ctx: JobCtx, now: float, events: EventLog) -> None:
            if ctx.state in (JobState.CLOSED.value, JobState.COMPLETED.value, JobState.ARCHIVED.value):
                return
            work.close_job(conn, ctx, now, events)

        self._write(job_id, tx)

    def progress(self, job_id: str) -> Progress:
        from annotate_local import work

        def tx(conn: Connection, ctx: JobCtx, now: float, events: EventLog) -> JobCtx:
            if ctx.state in ("open", "paused", "draft"):
                work.sweep(conn, ctx, now, events)
                work.check_completion(conn, ctx, now, events)
            return ctx

        ctx = self._write(job_id, tx)
        with self._reading(job_id) as conn:
            return self._progress(conn, ctx)

    def _progress(self, conn: Connection, ctx: JobCtx) -> Progress:
        from sqlalchemy import case, func, select

        from annotate_local import review as review_mod
        from annotate_local import schema as t
        from annotate_local import work
        A = t.assignments.c
        I = t.items.c  # noqa: E741

        kind = I.kind == "real" if ctx.mixing else I.kind != "training"
        total, completed, expected, done = conn.execute(select(
            func.count(), func.coalesce(func.sum(case((I.done >= I.needed, 1), else_=0)), 0),
            func.coalesce(func.sum(I.needed), 0), func.coalesce(func.sum(I.done), 0),
        ).where(I.job_id == ctx.id, kind)).one()
        by_status: dict[str, int] = dict(conn.execute(
            select(A.status, func.count()).where(A.job_id == ctx.id, A.kind == "work").group_by(A.status)).all())
        cost = conn.execute(select(func.coalesce(func.sum(A.reward), 0.0)).where(
            A.job_id == ctx.id, A.status.in_(("submitted", "accepted")))).scalar_one()
        bans = conn.execute(select(func.count()).select_from(t.bans).where(t.bans.c.job_id == ctx.id)).scalar_one()
        pending = review_mod.pending(conn, ctx)
        by_kind: dict[str, int] = dict(conn.execute(
            select(I.kind, func.count()).where(I.job_id == ctx.id, I.kind != "training").group_by(I.kind)).all())
        stage = "done"
        if ctx.state in ("open", "paused", "draft"):
            answers_due, reviews_due = work.outstanding(conn, ctx)  # one snapshot (see work.OUTSTANDING)
            stage = "annotate" if answers_due else ("review" if reviews_due else "done")
        banned = sorted(conn.execute(select(t.bans.c.worker).where(t.bans.c.job_id == ctx.id).distinct()).scalars())
        details = {
            "assignments": by_status, "pending_reviews": pending, "bans": bans, "banned_workers": banned,
            "items_to_label": int(by_kind.get("real", 0)), "golden_items": int(by_kind.get("golden", 0)),
            "cost": round(float(cost), 6), "currency": ctx.spec.pricing.currency if ctx.spec.pricing else None,
            "stage": stage, "deadline": _iso(ctx.deadline_at),
        }
        percent = 100.0 * done / expected if expected else (100.0 if JobState(ctx.state).finished else 0.0)
        return Progress(JobState(ctx.state), int(total), int(completed), int(done), int(expected),
                        round(min(percent, 100.0), 2), details, idle=self._idle(conn, ctx, stage))

    def _idle(self, conn: Connection, ctx: JobCtx, stage: str) -> str | None:
        """Why the job cannot move on by itself now, and what to do; None while someone works on it.

        Someone works on it while a batch or a review is handed out, or when anything was pulled,
        handed in or reviewed in the last ``IDLE_AFTER`` seconds (people pause between batches).
        Activity stamped well after now came from a simulation's clock running ahead: it is over.
        """
        from sqlalchemy import func, or_, select

        from annotate_local import schema as t
        A = t.assignments.c

        if ctx.state == JobState.DRAFT.value:
            return "it has not been started: call job.start()"
        if ctx.state == JobState.PAUSED.value:
            return "it is paused: call job.resume()"
        if ctx.state != JobState.OPEN.value:
            return None
        busy = conn.execute(select(A.id).where(A.job_id == ctx.id, or_(A.status == "active", A.review == "taken"))
                            .limit(1)).first()
        if busy is not None:
            return None
        last = [v for v in conn.execute(select(func.max(A.created_at), func.max(A.submitted_at),
                                               func.max(A.review_taken_at), func.max(A.reviewed_at))
                                        .where(A.job_id == ctx.id)).one() if v is not None]
        if last and abs(self.clock() - max(last)) < IDLE_AFTER:
            return None
        if stage == "review":
            return (f"nobody has reviewed it for {IDLE_AFTER:g}s and reviews are pending: have a reviewer take "
                    "them with job.pull(reviewer, role='review') and job.review(...), or let job.simulate() do it")
        return (f"nobody is working on it (no batch handed out, nothing handed in for {IDLE_AFTER:g}s): let a "
                "simulated crowd do the work with job.simulate(), or have people take batches with "
                "job.pull(annotator) and job.submit(...), or in a browser with `annotate serve`")

    # ---- answers ----------------------------------------------------------------------------

    def iter_answers(self, job_id: str, spec: JobSpec | None, *, page: int = 2000) -> Iterator[Mapping[str, Any]]:
        from sqlalchemy import select

        from annotate_local import schema as t
        from annotate_local.answer_frames import job_id_unindexed
        A = t.assignments.c
        I = t.items.c  # noqa: E741
        W = t.answers.c

        with self.store.read() as conn:
            ctx = self._ctx(conn, job_id)
        outputs = [f.name for f in ctx.spec.outputs]
        last = 0
        while True:
            with self.store.read() as conn:
                rows = conn.execute(
                    select(W.id, W.value, W.status, W.worker, W.assignment_id, W.submitted_at, I.key, I.inputs,
                           I.golden, A.duration_s, A.reviewer, A.review_comment)
                    .join(t.items, I.id == W.item_id).join(t.assignments, A.id == W.assignment_id)
                    .where(job_id_unindexed(W.job_id) == job_id, W.kind != "training", W.id > last)
                    .order_by(W.id).limit(page)
                ).all()
            for r in rows:
                value = r.value or {}
                golden = r.golden or None
                for name in outputs:
                    yield {
                        "task": r.key, "item_key": r.key, "worker": r.worker, "label": value.get(name),
                        "field": name, "assignment": r.assignment_id, "status": r.status,
                        "submitted_at": _utc(r.submitted_at) if r.status not in ("active",) else None,
                        "duration_s": r.duration_s, "golden": golden is not None,
                        "golden_label": golden.get(name) if golden else None, "reviewer": r.reviewer,
                        "review_comment": r.review_comment, "inputs": r.inputs,
                    }
            if len(rows) < page:
                return
            last = rows[-1].id

    def iter_answer_frames(self, job_id: str, spec: JobSpec | None) -> Iterator[pd.DataFrame]:
        """The columnar path ``Job.answers`` prefers: the frame ``iter_answers`` would give, in pages
        read straight into columns (see ``annotate_local.answer_frames``)."""
        from annotate_local.answer_frames import iter_answer_frames

        with self.store.read() as conn:
            ctx = self._ctx(conn, job_id)
        names = [f.name for f in spec.inputs] if spec else []
        return iter_answer_frames(self.store, job_id, [f.name for f in ctx.spec.outputs], names)

    def review(self, job_id: str, assignment: str, *, accept: bool, comment: str | None = None,
               reviewer: str | None = None) -> None:
        from annotate_local import review as review_mod
        from annotate_local import work

        def tx(conn: Connection, ctx: JobCtx, now: float, events: EventLog) -> None:
            review_mod.decide(conn, ctx, assignment, now, events, accept=accept, comment=comment, reviewer=reviewer)
            work.check_completion(conn, ctx, now, events)

        self._write(job_id, tx)

    def review_sample(self, job_id: str) -> list[str]:
        """Submitted assignments the store sampled for review (as work arrived) still without a verdict."""
        from sqlalchemy import select

        from annotate_local import schema as t

        a = t.assignments.c
        with self.store.read() as conn:
            self._ctx(conn, job_id)  # an unknown job is a NotFoundError
            return list(conn.execute(select(a.id).where(
                a.job_id == job_id, a.status == "submitted", a.review.in_(("pending", "taken")))
                .order_by(a.submitted_at, a.id)).scalars())

    def stage_results(self, job_id: str) -> list[dict[str, Any]]:
        """What a pipeline's aggregate stage stored: one row per item and output field."""
        from sqlalchemy import select

        from annotate_local import schema as t

        r = t.results.c
        with self.store.read() as conn:
            self._ctx(conn, job_id)
            rows = conn.execute(select(t.results).where(r.job_id == job_id).order_by(r.field, r.item_key))
            return [dict(row) for row in rows.mappings()]

    # ---- the work API (in-house annotators, the simulator, a UI) -------------------------------

    def pull(self, job_id: str, assignee: str, *, role: str = "work", limit: int | None = None
             ) -> Batch | ReviewBatch | None:
        """The next batch for ``assignee`` (``role="review"``: the next assignment to review), or None."""
        from annotate_local import review as review_mod
        from annotate_local import work

        if role not in ("work", "review"):
            raise ValueError(f"role: expected 'work' or 'review', got {role!r}")
        if limit is not None and limit <= 0:
            raise ValueError(f"limit: expected a positive number of items, got {limit}")

        in_session = self._session is not None and self._session.owns(job_id)

        def tx(conn: Connection, ctx: JobCtx, now: float, events: EventLog) -> Batch | ReviewBatch | None:
            if role == "review":
                if ctx.state == JobState.DRAFT.value:
                    raise JobStateError(f"job {job_id} has not been started")
                work.sweep(conn, ctx, now, events)
                return review_mod.pull(conn, ctx, assignee, now)
            batch = work.pull(conn, ctx, assignee, now, events, limit=limit, wait=not in_session)
            if batch is None:
                work.check_completion(conn, ctx, now, events)
            return batch

        return self._write(job_id, tx)

    def submit(self, job_id: str, assignment: str, answers: Any, *, captcha: str | None = None,
               worker: str | None = None) -> SubmitResult:
        """Answers for every item of an assignment (mapping key -> answer, or a list in batch order)."""
        from annotate_local import work

        def tx(conn: Connection, ctx: JobCtx, now: float, events: EventLog) -> SubmitResult | str:
            out = work.submit(conn, ctx, assignment, answers, now, events, captcha=captcha, worker=worker)
            work.check_completion(conn, ctx, now, events)
            return out

        out = self._write(job_id, tx)
        if out == "expired":
            raise JobStateError(f"assignment {assignment} expired before it was submitted; its items went "
                                "back to the queue")
        assert isinstance(out, SubmitResult)
        return out

    def skip(self, job_id: str, assignment: str, *, worker: str | None = None) -> list[str]:
        """Give an assignment back unanswered; returns quality actions it triggered."""
        from annotate_local import work

        return self._write(job_id, lambda conn, ctx, now, ev: work.skip(conn, ctx, assignment, now, ev, worker=worker))

    def reclaim(self, job_id: str, *, workers: Iterable[str] = (), reviewers: Iterable[str] = ()) -> int:
        """Take back what ``workers`` and ``reviewers`` hold in a job: their active assignments expire
        (slots back in the queue) and reviews they took go back to pending. Returns how many were taken.

        For a party known to be gone without a word: a simulated crowd whose process was killed, before
        a resumed run plays the same people again. Nothing answered is touched.
        """
        from sqlalchemy import select, update

        from annotate_local import schema as t
        from annotate_local import work
        A = t.assignments.c

        workers, reviewers = list(workers), list(reviewers)

        def tx(conn: Connection, ctx: JobCtx, now: float, events: EventLog) -> int:
            held = conn.execute(select(A.id, A.worker).where(
                A.job_id == job_id, A.status == "active", A.worker.in_(workers))).all() if workers else []
            released = sum(work.release(conn, ctx, aid, AnswerStatus.EXPIRED, now, events, worker=worker)
                           for aid, worker in held)
            taken = conn.execute(update(t.assignments).where(
                A.job_id == job_id, A.review == "taken", A.reviewer.in_(reviewers))
                .values(review="pending", reviewer=None, review_taken_at=None)).rowcount if reviewers else 0
            return released + (taken or 0)

        n = self._write(job_id, tx)
        if n:
            log.info("job %s: took back %d assignment(s)/review(s) held by a workforce that is gone", job_id, n)
        return n

    def expire_assignment(self, job_id: str, assignment: str) -> bool:
        """End an assignment nobody will finish (its worker walked away): its slots go back to the queue.
        Returns False when it was no longer active (submitted, skipped or expired meanwhile)."""
        from sqlalchemy import select

        from annotate_local import schema as t
        from annotate_local import work
        A = t.assignments.c


        def tx(conn: Connection, ctx: JobCtx, now: float, events: EventLog) -> bool:
            row = conn.execute(select(A.worker).where(A.id == assignment, A.job_id == job_id,
                                                      A.status == "active")).first()
            if row is None:
                return False
            # False if a submit or skip committed since the read above (PostgreSQL: see work.release)
            return work.release(conn, ctx, assignment, AnswerStatus.EXPIRED, now, events, worker=row.worker)

        return self._write(job_id, tx)

    def last_activity(self, job_id: str) -> float | None:
        """The latest time anything happened in a job (epoch seconds), for a clock that must not go back."""
        from sqlalchemy import func, select

        from annotate_local import schema as t

        with self.store.read() as conn:
            return conn.execute(select(func.max(t.events.c.at)).where(t.events.c.job_id == job_id)).scalar_one()

    # ---- workers ----------------------------------------------------------------------------

    def register_worker(self, worker: str, **attributes: Any) -> None:
        """Record a worker's attributes (languages, region_by_ip, client_type, age, ...) for crowd filters."""
        from annotate_local import workforce

        skills = attributes.pop("skills", None) or {}
        now = self.clock()

        def tx(conn: Connection) -> None:
            workforce.register_worker(conn, worker, attributes, now)
            for name, value in skills.items():
                workforce.set_skill(conn, worker, name, float(value), now)

        self.open_store().write(tx)

    def set_skill(self, worker: str, skill: str, value: float) -> None:
        from annotate_local import workforce

        now = self.clock()
        self.open_store().write(lambda conn: workforce.set_skill(conn, worker, skill, value, now))

    def get_skills(self, worker: str) -> dict[str, float]:
        from annotate_local import workforce

        with self.store.read() as conn:
            return workforce.get_skills(conn, worker)

    def bans(self, job_id: str | None = None) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from annotate_local import schema as t

        q = select(t.bans).order_by(t.bans.c.id)
        if job_id is not None:
            q = q.where(t.bans.c.job_id == job_id)
        with self.store.read() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def training_status(self, job_id: str, worker: str) -> dict[str, Any] | None:
        from sqlalchemy import select

        from annotate_local import schema as t

        jw = t.job_workers.c
        with self.store.read() as conn:
            row = conn.execute(select(jw.training, jw.training_score, jw.training_at)
                               .where(jw.job_id == job_id, jw.worker == worker)).mappings().first()
        return dict(row) if row else None

    # ---- events, simulation, listing --------------------------------------------------------

    def iter_events(self, job_id: str, *, since: int = 0) -> Iterator[Mapping[str, Any]]:
        from annotate_local.events import iter_events

        with self.store.read() as conn:
            self._ctx(conn, job_id)  # unknown job: NotFoundError now, not an empty stream
        return iter_events(self.store.read, job_id, since)

    def subscribe(self, callback: EventCallback, job_id: str | None = None,
                  types: Iterable[str] | None = None) -> Callable[[], None]:
        """Call ``callback(event)`` after each change this process commits; returns an unsubscribe function."""
        return self.subscribers.add(callback, job_id, frozenset(types) if types is not None else None)

    def simulate(self, job_id: str, spec: JobSpec, **workforce_options: Any) -> Mapping[str, Any]:
        from annotate_local.simulator import Simulation

        return Simulation(self, job_id, spec, **workforce_options).run()

    def web_app(self, *, token: str | None = None, secret: str | None = None, loopback: bool = True,
                links_only: bool = False, spec_files: Iterable[str] = (), https: bool = False) -> Any:
        """The browser UI over this store (``annotate serve``), as an ASGI app; needs the ``serve`` extra.

        Options as ``annotate_local.serve.app.create_app``. The CLI reaches it through this method, so
        the core never imports a backend by name.
        """
        from annotate_local import serve

        missing = serve.missing_dependencies()
        if missing:
            raise serve.ServeExtraMissing(f"annotate serve needs the serve extra ({', '.join(missing)} missing): "
                                          f"{serve.EXTRA_HINT}")
        from annotate_local.serve.app import create_app

        return create_app(self, token=token, secret=secret, loopback=loopback, links_only=links_only,
                          spec_files=list(spec_files), https=https)

    def list_jobs(self) -> list[Mapping[str, Any]]:
        from sqlalchemy import func, select

        from annotate_local import schema as t
        I = t.items.c  # noqa: E741

        j = t.jobs.c
        n_items = select(func.count()).where(I.job_id == j.id, I.kind != "training").scalar_subquery()
        with self.store.read() as conn:
            rows = conn.execute(select(j.id, j.name, j.state, j.created_at, n_items.label("items"))
                                .order_by(j.created_at)).all()
        return [{"id": r.id, "name": r.name, "state": r.state, "created_at": _iso(r.created_at),
                 "items": r.items} for r in rows]

    def close_backend(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._store is not None:
            self._store.dispose()
            self._store = None
