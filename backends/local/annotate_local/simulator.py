"""A seeded simulated workforce that drives a local job through the same pull/submit API people use.

Workers come in three kinds: honest ones (an accuracy, or a confusion matrix), spammers (random or
constant answers, bad at captchas) and fast clickers (a fraction of a second per item, careless).
Time is simulated: an event queue moves a clock the backend reads, so nothing sleeps, and durations,
expiry, deadlines and fast-submit rules all see realistic times. Reviewers check the sampled work
against the truth with their own accuracy.

Truth, for answering "correctly" with probability = accuracy, comes from (first found): the
``truth`` argument, the hidden truth stored with the items (``backend.set_truth``, e.g. from the
``truth:<output>`` columns of an items file), the golden answer, else a latent answer derived from
the item key (stable, so workers still agree around one answer and aggregation has a signal).

At scale (issue 16): the run works inside ``backend.work_session`` (``annotate_local.sessions``), so
its pulls, submits, skips and reviews share transactions, each still all-or-nothing and each the
same operation a person's call runs (quality rules, bans, golden mixing, captchas, review, expiry);
their prebuilt statements run straight on the driver's cursor, SQLite's or psycopg's (``annotate_local.raw``).
Nothing in the loop grows with the job: it reads the truth of the items in hand (not a copy of every
item's), learns that the job finished from the job's row in its own transaction (not from a full
``progress()`` every ten steps), and the summary is counted by queries, not from a frame of every
answer. A seed replays the same run as before on jobs that finish without the crowd running out of
work (the demo's figures are unchanged); two things differ on big jobs, on purpose: without a
``reviewers`` number the reviewers scale with the crowd (``REVIEWERS_PER_WORKER``, at least the two
it always had), and a worker out of patience while reviews are pending looks back now and then
instead of leaving, since a late rejection puts items back in the queue. Before, a 100k-item job
with 300 workers could end "open" with items short of answers.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import logging
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select
from tqdm.auto import tqdm

from annotate_core.backend import JobState
from annotate_core.counts import STATUSES, USABLE_STATUSES, Counts, progress_items
from annotate_core.errors import JobStateError
from annotate_core.model.fields import DataField, FieldType
from annotate_core.model.spec import JobSpec
from annotate_core.phases import phase
from annotate_local import raw
from annotate_local import schema as t
from annotate_local.context import review_plan
from annotate_local.errors import BannedError, NotAllowedError
from annotate_local.types import Batch, ReviewBatch

if TYPE_CHECKING:
    from annotate_local.backend import LocalBackend

log = logging.getLogger(__name__)

LANGUAGES = ("EN", "DE", "FR", "ES", "RU", "TR", "PT")
REGIONS = ("US", "GB", "DE", "IN", "BR", "TR", "ID", "KE", "PH", "UA")
EDUCATION = ("basic", "middle", "high")

#: simulated seconds after which a batch a worker walked away from expires, when the spec sets no limit
ABANDONED_EXPIRE_SECONDS = 600.0

#: simulated reviewers per worker and unit of review fraction, when the caller names no number: a
#: reviewer takes ~35 s for a batch of ten, a worker hands one in about every ~55 s, so 0.6 keeps the
#: review queue level (a fixed two let a 300-worker job's reviews lag for simulated hours, and the
#: rejections that came in after the crowd had gone home left items short of answers)
REVIEWERS_PER_WORKER = 0.6
#: simulated seconds between looks at a job a worker has run out of patience with while reviews are
#: still pending (a rejection puts items back in the queue)
LOOK_BACK_SECONDS = (600.0, 1800.0)

#: kind -> (captcha failure probability, skip probability)
_KIND_HABITS = {"honest": (0.03, 0.01), "fast_clicker": (0.15, 0.0), "spammer": (0.6, 0.0)}


_I = t.items.c
_KNOWN = select(_I.key, _I.truth, _I.golden).where(_I.job_id == bindparam("job"),
                                                   _I.key.in_(bindparam("keys", expanding=True)))


@dataclass
class SimWorker:
    id: str
    kind: str  # honest | spammer | fast_clicker
    accuracy: float
    seconds_per_item: float
    constant: str | None = None  # spammers who always give one answer
    empty_pulls: int = 0
    batches: int = 0
    left: str | None = None  # why the worker stopped


@dataclass(order=True)
class _Step:
    at: float
    seq: int
    action: str = field(compare=False)
    actor: str = field(compare=False)
    payload: Any = field(compare=False, default=None)


def _fraction(*parts: Any) -> float:
    d = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(d[:8], "big") / 2**64


class SimClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class Simulation:
    """One run of a simulated workforce on a job; ``run()`` returns a summary mapping."""

    def __init__(
        self,
        backend: LocalBackend,
        job_id: str,
        spec: JobSpec,
        *,
        workers: int = 30,
        accuracy: float | tuple[float, float] = (0.75, 0.95),
        confusion: Mapping[str, Mapping[str, float]] | None = None,
        spammers: float = 0.1,
        fast_clickers: float = 0.1,
        seed: int = 0,
        truth: Mapping[str, Any] | None = None,
        seconds_per_item: float = 4.0,
        abandon: float = 0.02,
        outsiders: float = 0.05,
        reviewers: int | None = None,
        reviewer_accuracy: float = 0.95,
        attributes: Mapping[str, Any] | Callable[[int, random.Random], Mapping[str, Any]] | None = None,
        skills: Mapping[str, float] | None = None,
        patience: int = 20,
        max_hours: float = 24 * 14,
        progress: bool = True,
    ) -> None:
        for name, share in (("spammers", spammers), ("fast_clickers", fast_clickers), ("abandon", abandon),
                            ("outsiders", outsiders)):
            if not 0 <= share <= 1:
                raise ValueError(f"{name}: expected a share between 0 and 1, got {share}")
        if spammers + fast_clickers > 1:
            raise ValueError("spammers + fast_clickers: the shares add up to more than 1")
        if isinstance(accuracy, int | float):  # a mean: honest workers spread +-0.05 around it, within [0, 1]
            spread = max(0.0, min(0.05, 1 - accuracy, accuracy))
            lo, hi = accuracy - spread, accuracy + spread
        else:
            lo, hi = accuracy
        if not 0 <= lo <= hi <= 1:
            raise ValueError(f"accuracy: expected a probability or a (low, high) range in [0, 1], got {accuracy}")
        if seconds_per_item <= 0:
            raise ValueError(f"seconds_per_item: expected a positive number, got {seconds_per_item}")
        self.backend = backend
        self.job_id = job_id
        self.spec = spec
        self.rng = random.Random(seed)
        self.seed = seed
        self.seconds_per_item = seconds_per_item
        self.confusion = confusion
        self.truth_override = dict(truth or {})
        self.abandon = abandon
        self.reviewer_accuracy = reviewer_accuracy
        self.patience = patience
        self.max_seconds = max_hours * 3600
        self.show_progress = progress
        self.counts: Counter[str] = Counter()
        self._seq = itertools.count()
        self._known_cache: dict[str, dict[str, Any]] = {}
        self.answered = 0  # answers handed in by this run on items to label (the progress bar)
        self.workers = self._make_workers(workers, (lo, hi), spammers, fast_clickers, outsiders, attributes,
                                          skills or {})
        self.reviewers = self._make_reviewers(reviewers)

    # ---- population -------------------------------------------------------------------------

    def _names(self, n: int) -> list[str]:
        named = [a.id for a in self.spec.workforce.assignees]
        if named:  # named assignees: the simulation plays them
            return named
        return [f"sim{self.seed}-{i:03d}" for i in range(n)]

    def _make_workers(self, n: int, acc: tuple[float, float], spammers: float, fast: float, outsiders: float,
                      attributes: Any, skills: Mapping[str, float]) -> list[SimWorker]:
        if n < 1 and not self.spec.workforce.assignees:
            raise ValueError(f"workers: expected at least one worker, got {n}")
        names = self._names(n)
        n = len(names)
        kinds = ["spammer"] * round(n * spammers) + ["fast_clicker"] * round(n * fast)
        kinds += ["honest"] * (n - len(kinds))
        self.rng.shuffle(kinds)
        options: list[str | None] = [o.value for o in self.spec.outputs[0].options] or [None]
        out = []
        for i, (name, kind) in enumerate(zip(names, kinds, strict=True)):
            if kind == "honest":
                spi = self.seconds_per_item * self.rng.lognormvariate(0, 0.3)
                w = SimWorker(name, kind, self.rng.uniform(*acc), spi)
            elif kind == "fast_clicker":
                w = SimWorker(name, kind, self.rng.uniform(0.5, 0.65), self.rng.uniform(0.2, 0.6))
            else:
                constant = self.rng.choice(options) if self.rng.random() < 0.5 else None
                spi = self.rng.choice((0.5, self.seconds_per_item))
                w = SimWorker(name, kind, 0.0, spi, constant=constant)
            out.append(w)
            attrs = self._attributes(i, attributes, outsiders)
            self.backend.register_worker(name, **attrs, skills=dict(skills))
        self.counts.update(f"workers_{w.kind}" for w in out)
        return out

    def _attributes(self, i: int, given: Any, outsiders: float) -> dict[str, Any]:
        rng = self.rng
        if rng.random() < outsiders:
            langs = [rng.choice(LANGUAGES[1:])]
        else:
            langs = ["EN"] + ([rng.choice(LANGUAGES[1:])] if rng.random() < 0.3 else [])
        attrs: dict[str, Any] = {
            "languages": langs, "region_by_ip": rng.choice(REGIONS), "country": rng.choice(REGIONS),
            "client_type": rng.choice(("browser", "app")), "age": rng.randint(18, 65),
            "education": rng.choice(EDUCATION), "gender": rng.choice(("male", "female")),
            "rating": round(rng.uniform(1, 5), 2),
        }
        if callable(given):
            attrs.update(given(i, rng))
        elif given:
            attrs.update(given)
        return attrs

    def _make_reviewers(self, n: int | None) -> list[str]:
        plan = review_plan(self.spec)
        if plan is None:
            return []
        if plan.reviewers:
            return list(plan.reviewers)
        if n is None:  # enough to keep up with the crowd (see REVIEWERS_PER_WORKER), at least two
            n = max(2, math.ceil(REVIEWERS_PER_WORKER * len(self.workers) * plan.fraction))
        return [f"sim{self.seed}-qa{j}" for j in range(n)]

    def backend_review_plan(self):
        from annotate_local.context import review_plan

        return review_plan(self.spec)

    # ---- truth and answers ------------------------------------------------------------------

    def _known(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """What the store knows of these items (hidden truth over golden answer), read when a batch
        is answered or reviewed: no copy of every item's truth is held, whatever the job's size."""
        missing = [k for k in keys if k not in self._known_cache]
        if missing:
            with self.backend._reading(self.job_id) as conn:
                rows = raw.rows(conn, _KNOWN, {"job": self.job_id, "keys": missing})
            if len(self._known_cache) > 50_000:
                self._known_cache.clear()
            for key, truth, golden in rows:
                known = dict(golden or {})
                known.update(truth or {})
                self._known_cache[key] = known
        return {k: self._known_cache.get(k, {}) for k in keys}

    def truth_of(self, key: str, f: DataField, known: Mapping[str, Any] | None = None) -> Any:
        override = self.truth_override.get(key)
        if override is not None:
            value = override.get(f.name) if isinstance(override, Mapping) else override
            if value is not None:
                return value
        if known is None:
            known = self._known([key])[key]
        if known and known.get(f.name) is not None:
            return known[f.name]
        return _latent(key, f)

    def answer(self, w: SimWorker, key: str, known: Mapping[str, Any] | None = None) -> dict[str, Any]:
        # one generator per (worker, item): answers do not depend on where an item sits in a batch
        rng = random.Random(f"{self.seed}\x1f{w.id}\x1f{key}")
        return {f.name: self._answer_field(w, key, f, rng, known) for f in self.spec.outputs}

    def _answer_field(self, w: SimWorker, key: str, f: DataField, rng: random.Random,
                      known: Mapping[str, Any] | None = None) -> Any:
        truth = self.truth_of(key, f, known)
        draw = rng.random()
        options = list(f.option_values)
        if f.type is FieldType.LABEL:
            if w.kind == "spammer":
                return w.constant if w.constant is not None else rng.choice(options)
            if self.confusion and w.kind == "honest" and truth in self.confusion:
                row = self.confusion[truth]
                return rng.choices(list(row), weights=list(row.values()))[0]
            others = [o for o in options if o != truth] or options
            return truth if draw < w.accuracy else rng.choice(others)
        if f.type is FieldType.LABELS:
            if w.kind == "spammer":
                return [o for o in options if rng.random() < 0.5]
            keep = set(truth or [])
            flip = (1 - w.accuracy) / 2
            return [o for o in options if (o in keep) != (rng.random() < flip)]
        correct = w.kind != "spammer" and draw < w.accuracy
        if f.type is FieldType.BOOL:
            return bool(truth) if correct else not bool(truth)
        if f.type is FieldType.NUMBER:
            return truth if correct else (truth or 0) + rng.choice((-1, 1)) * rng.randint(1, 10)
        if f.type is FieldType.JSON:
            return truth if correct else {"guess": rng.randint(0, 9)}
        if f.type in (FieldType.URL, FieldType.IMAGE):
            return truth if correct else f"https://example.com/guess/{rng.randint(0, 999)}"
        return truth if correct else rng.choice(("not sure", "n/a", "something else"))

    def _duration(self, w: SimWorker, n_items: int) -> float:
        base = self.spec_seconds * w.seconds_per_item * n_items
        return max(0.5, base * self.rng.lognormvariate(0, 0.2) + (2.0 if w.kind == "honest" else 0.3))

    # ---- the event loop ---------------------------------------------------------------------

    def _at(self, at: float, action: str, actor: str, payload: Any = None) -> None:
        heapq.heappush(self.queue, _Step(at, next(self._seq), action, actor, payload))

    def run(self) -> dict[str, Any]:
        backend = self.backend
        # a resumed job (its first simulation was killed) goes on from where its simulated time stood
        start = max(backend.clock(), backend.last_activity(self.job_id) or 0.0)
        clock = SimClock(start)
        saved = backend.clock
        backend.clock = clock
        with phase("preparing the simulated workforce", enabled=self.show_progress):
            # the people this run plays cannot also be holding work from a run that died: take it back
            self.counts["reclaimed"] = backend.reclaim(self.job_id, workers=[w.id for w in self.workers],
                                                       reviewers=self.reviewers)
            self.queue: list[_Step] = []
            # workers drift in over about the time the job takes, not all in the first second
            total = backend.progress(self.job_id).expected_answers or 0
            self.arrival_seconds = max(60.0, total * self.seconds_per_item / max(1, len(self.workers)))
            self.spec_seconds = self._spec_seconds()
            by_id = {w.id: w for w in self.workers}
            for w in self.workers:
                self._at(start + self.rng.uniform(0, self.arrival_seconds), "pull", w.id)
            for r in self.reviewers:
                self._at(start + self.rng.uniform(30, 120), "review", r)
        bar = tqdm(total=total, desc=f"simulating {self.spec.name}", unit="answer", disable=not self.show_progress,
                   leave=False)
        finished = False
        shown = time.monotonic()
        try:
            # every pull, submit, skip and review below shares a transaction with its neighbours
            # (annotate_local.sessions): one commit per few hundred operations, not one per operation
            with backend.work_session(self.job_id) as session:
                while self.queue:
                    step = heapq.heappop(self.queue)
                    if step.at - start > self.max_seconds:
                        log.warning("simulation stopped after %.0f simulated hours", self.max_seconds / 3600)
                        break
                    clock.now = max(clock.now, step.at)
                    if step.action == "review":
                        self._review(step.actor, clock.now)
                    else:
                        w = by_id[step.actor]
                        if step.action == "pull":
                            self._pull(w, clock.now)
                        elif step.action == "submit":
                            self._submit(w, step.payload, clock.now)
                        elif step.action == "skip":
                            self._skip(w, step.payload, clock.now)
                        elif step.action == "expire":
                            if self.backend.expire_assignment(self.job_id, step.payload.assignment):
                                self.counts["expired_abandoned"] += 1
                    if JobState(session.ctx().state).finished:  # the job's row as this transaction sees it
                        finished = True
                        break
                    if self.show_progress and time.monotonic() - shown > 0.2:
                        shown = time.monotonic()
                        bar.n = min(self.answered, bar.total or self.answered)
                        bar.refresh()
                if not finished:
                    self._hand_back()
            bar.n = int(bar.total or 0) if finished else min(self.answered, bar.total or self.answered)
            bar.refresh()
        finally:
            bar.close()
            backend.clock = saved
        with phase("summing up the simulation", enabled=self.show_progress):
            return self._summary(start, clock.now, finished)

    def _hand_back(self) -> None:
        """The simulation stops before the job is done: its workers give back the batches they still
        hold, as people leaving would, so the job does not look worked on by workers who are gone
        (``Progress.idle``; ``job.wait()`` would otherwise wait on them)."""
        a = t.assignments.c
        ours = {w.id for w in self.workers}
        with self.backend._reading(self.job_id) as conn:
            held = conn.execute(select(a.id, a.worker).where(a.job_id == self.job_id, a.status == "active")).all()
        for aid, worker in held:
            if worker in ours:
                try:
                    self.backend.skip(self.job_id, aid, worker=worker)
                except JobStateError:  # expired or ended meanwhile: nothing left to give back
                    continue
                self.counts["handed_back"] += 1

    def _spec_seconds(self) -> float:
        # a free-text answer takes longer to give than a click
        kinds = {f.type for f in self.spec.outputs}
        return 3.0 if kinds & {FieldType.FREE_TEXT, FieldType.TEXT, FieldType.JSON} else 1.0

    def _pull(self, w: SimWorker, now: float) -> None:
        try:
            batch = self.backend.pull(self.job_id, w.id)
        except NotAllowedError as exc:
            w.left = type(exc).__name__
            self.counts["stopped_banned" if isinstance(exc, BannedError) else "not_allowed"] += 1
            log.debug("simulated %s stops: %s", w.id, exc)
            return
        except JobStateError:
            w.left = "job finished"
            return
        if batch is None:
            w.empty_pulls += 1
            if w.empty_pulls > self.patience:
                if self._pending_reviews():  # rejected work may come back: look in now and then
                    self._at(now + self.rng.uniform(*LOOK_BACK_SECONDS), "pull", w.id)
                    return
                w.left = "no work"
                return
            self._at(now + self.rng.uniform(20, 90), "pull", w.id)
            return
        assert isinstance(batch, Batch)
        w.empty_pulls = 0
        w.batches += 1
        self.counts["batches"] += 1
        habits = _KIND_HABITS[w.kind]
        if self.rng.random() < self.abandon:
            self.counts["abandoned"] += 1  # the worker walks away; the assignment expires on its own
            self._at(now + self.rng.uniform(300, 1800), "pull", w.id)
            if not self.spec.limits.assignment_max_seconds:
                # with no time limit nothing would ever expire it and the job could never finish: the
                # crowd platform's own cap (ten minutes here) ends it, as a vendor's default limit would
                self._at(now + ABANDONED_EXPIRE_SECONDS, "expire", w.id, batch)
            return
        if self.rng.random() < habits[1]:
            self._at(now + self.rng.uniform(2, 10), "skip", w.id, batch)
            return
        self._at(now + self._duration(w, len(batch)), "submit", w.id, batch)

    def _submit(self, w: SimWorker, batch: Batch, now: float) -> None:
        known = self._known(batch.keys)
        answers = {item.key: self.answer(w, item.key, known[item.key]) for item in batch.items}
        captcha = None
        if batch.captcha is not None:
            fails = random.Random(f"{self.seed}\x1f{w.id}\x1f{w.batches}").random() < _KIND_HABITS[w.kind][0]
            captcha = batch.captcha if not fails else "WRONG"
        try:
            res = self.backend.submit(self.job_id, batch.assignment, answers, captcha=captcha)
        except JobStateError:
            self.counts["late"] += 1  # too slow: the assignment expired
        else:
            self.counts["submits"] += 1
            if batch.kind == "work":
                self.answered += res.answers - res.golden_total
            if res.training_passed is False:
                self.counts["failed_training"] += 1
        self._at(now + self.rng.uniform(1, 20), "pull", w.id)

    def _skip(self, w: SimWorker, batch: Batch, now: float) -> None:
        try:
            self.backend.skip(self.job_id, batch.assignment)
            self.counts["skips"] += 1
        except JobStateError:
            pass
        self._at(now + self.rng.uniform(1, 20), "pull", w.id)

    def _review(self, reviewer: str, now: float) -> None:
        try:
            task = self.backend.pull(self.job_id, reviewer, role="review")
        except (NotAllowedError, JobStateError) as exc:
            log.debug("simulated reviewer %s stops: %s", reviewer, exc)
            return
        if task is None:
            if all(w.left for w in self.workers) and not self._pending_reviews():
                return  # nobody works any more and nothing waits for review
            self._at(now + self.rng.uniform(60, 300), "review", reviewer)
            return
        assert isinstance(task, ReviewBatch)
        fields = self.spec.outputs
        known = self._known([it.key for it in task.items])
        right = sum(1 for it in task.items
                    if all(it.answer.get(f.name) == self.truth_of(it.key, f, known[it.key]) for f in fields))
        good = right >= 0.7 * len(task.items)
        if self.rng.random() > self.reviewer_accuracy:
            good = not good
        comment = None if good else f"{len(task.items) - right} of {len(task.items)} answers look wrong"
        self.backend.review(self.job_id, task.assignment, accept=good, comment=comment, reviewer=reviewer)
        self.counts["reviews"] += 1
        self.counts["review_rejects"] += int(not good)
        self._at(now + self.rng.uniform(5, 30) * len(task.items) / 5, "review", reviewer)

    def _pending_reviews(self) -> int:
        from annotate_local import review

        with self.backend._reading(self.job_id) as conn:
            return review.pending(conn, self.backend._ctx(conn, self.job_id))

    # ---- summary ----------------------------------------------------------------------------

    def _summary(self, start: float, end: float, finished: bool) -> dict[str, Any]:
        backend = self.backend
        p = backend.progress(self.job_id)
        kinds = {w.id: w.kind for w in self.workers}
        bans = backend.bans(self.job_id)
        banned = {b["worker"] for b in bans}
        to_label, golden = progress_items(p)
        # counted in the store (what answers.csv will hold, docs/counts.md), not from a frame of every answer
        counts, workers, rule_rejects = self._answer_counts(to_label or 0, golden or 0)
        statuses = p.details.get("assignments", {})
        return {
            "job_id": self.job_id,
            "state": p.state.value,
            "completed": p.state.value == "completed",
            **counts.to_dict(),  # items, answers by status, usable and golden answers: annotate_core.counts
            "assignments": int(sum(statuses.values())),
            "workers": workers,
            "workers_by_kind": {k: self.counts[f"workers_{k}"] for k in ("honest", "spammer", "fast_clicker")},
            "not_allowed": self.counts["not_allowed"],
            "bans": len(banned),
            "banned_by_kind": dict(Counter(kinds.get(b, "other") for b in banned)),
            "qa_reviews": self.counts["reviews"],
            "qa_rejects": self.counts["review_rejects"],
            "rule_rejects": rule_rejects,
            "failed_training": self.counts["failed_training"],
            "reclaimed": self.counts["reclaimed"],  # work taken back from a run that died (resumed jobs)
            "handed_back": self.counts["handed_back"],  # batches given back when the simulation stopped short
            "answer_accuracy": self._answer_accuracy(),
            "cost": p.details.get("cost", 0.0),
            "currency": p.details.get("currency"),
            "simulated_seconds": round(end - start, 1),
            "finished": finished,
            "seed": self.seed,
        }

    def _answer_counts(self, items_to_label: int, golden_items: int) -> tuple[Counts, int, int]:
        """The job's ``Counts`` (one answer per row of answers.csv: every non-training answer), the
        workers who answered, and the assignments a quality rule rejected, by aggregate queries."""
        from annotate_local.answer_frames import job_id_unindexed

        a, w = t.assignments.c, t.answers.c
        mine = job_id_unindexed(w.job_id) == self.job_id  # a scan beats the per-worker index here
        with self.backend.store.read() as conn:
            rows = conn.execute(select(w.status, w.kind, func.count()).where(mine, w.kind != "training")
                                .group_by(w.status, w.kind)).all()
            workers = conn.execute(select(func.count(func.distinct(w.worker)))
                                   .where(mine, w.kind != "training")).scalar_one()
            rule_rejects = conn.execute(select(func.count()).select_from(t.assignments).where(
                a.job_id == self.job_id, a.status == "rejected", a.reviewer.like("rule:%"))).scalar_one()
        by_status: Counter[str] = Counter()
        golden_answers = 0
        for status, kind, n in rows:
            by_status[status] += n
            if kind == "golden" and status in USABLE_STATUSES:
                golden_answers += n
        order = (*STATUSES, *sorted(set(by_status) - set(STATUSES)))
        counts = Counts(items_to_label=items_to_label, golden_items=golden_items,
                        by_status={s: by_status.get(s, 0) for s in order},
                        golden_answers=golden_answers, field_name=self.spec.outputs[0].name)
        return counts, int(workers), int(rule_rejects)

    def _answer_accuracy(self, page: int = 20_000) -> float | None:
        """The share of handed-in answers on items to label that match the truth, read page by page."""
        from annotate_local.answer_frames import job_id_unindexed

        i, w = t.items.c, t.answers.c
        f = self.spec.outputs[0]
        if f.type is FieldType.LABEL and not self.truth_override:
            return self._label_accuracy(page)
        hits = total = 0
        last = 0
        while True:
            with self.backend.store.read() as conn:
                rows = conn.execute(
                    select(w.id, w.value, i.key, i.truth, i.golden).join(t.items, i.id == w.item_id)
                    .where(job_id_unindexed(w.job_id) == self.job_id, w.kind == "real", w.id > last,
                           w.status.in_(("submitted", "accepted", "rejected")))
                    .order_by(w.id).limit(page)).all()
            for _id, value, key, truth, golden in rows:
                known = dict(golden or {})
                known.update(truth or {})
                hits += (value or {}).get(f.name) == self.truth_of(key, f, known)
            total += len(rows)
            if len(rows) < page:
                break
            last = rows[-1].id
        return round(hits / total, 4) if total else None


    def _label_accuracy(self, page: int) -> float | None:
        """``_answer_accuracy`` for a label output: the label, the truth and the golden answer are read
        as strings by the database (JSON path), not as three JSON documents decoded per answer."""
        from annotate_local.answer_frames import job_id_unindexed

        i, w = t.items.c, t.answers.c
        f = self.spec.outputs[0]
        query = (select(w.id, i.key, w.value[f.name].as_string(), i.truth[f.name].as_string(),
                        i.golden[f.name].as_string()).join(t.items, i.id == w.item_id)
                 .where(job_id_unindexed(w.job_id) == self.job_id, w.kind == "real", w.id > bindparam("last"),
                        w.status.in_(("submitted", "accepted", "rejected")))
                 .order_by(w.id).limit(page))
        hits = total = 0
        last = 0
        while True:
            with self.backend.store.read() as conn:
                rows = conn.execute(query, {"last": last}).all()
            for _id, key, value, truth, golden in rows:
                known = truth if truth is not None else golden
                hits += value == (known if known is not None else _latent(key, f))
            total += len(rows)
            if len(rows) < page:
                break
            last = rows[-1][0]
        return round(hits / total, 4) if total else None


def _latent(key: str, f: DataField) -> Any:
    """A stable stand-in truth for items nobody knows the answer to."""
    u = _fraction(key, f.name)
    options = list(f.option_values)
    if f.type is FieldType.LABEL:
        return options[int(u * len(options))]
    if f.type is FieldType.LABELS:
        return [o for o in options if _fraction(key, f.name, o) < 0.5]
    if f.type is FieldType.BOOL:
        return u < 0.5
    if f.type is FieldType.NUMBER:
        return int(u * 100)
    if f.type is FieldType.JSON:
        return {"value": int(u * 100)}
    if f.type in (FieldType.URL, FieldType.IMAGE):
        return f"https://example.com/latent/{int(u * 1e6)}"
    return f"answer-{int(u * 1e6)}"
