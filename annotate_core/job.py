"""The ``Job`` handle: one job on one backend, with the same methods whatever the vendor."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotate_core.answers import job_answers
from annotate_core.backend import Backend, JobState, Progress
from annotate_core.capabilities import Capability
from annotate_core.counts import USABLE_STATUSES
from annotate_core.defaults import DEFAULT_METHOD
from annotate_core.errors import (
    ItemsRejectedError,
    JobIdleError,
    SpecError,
    WaitTimeoutError,
)
from annotate_core.items import Item, UploadReport
from annotate_core.items_check import ItemsCheck, check_items
from annotate_core.model.spec import JobSpec

if TYPE_CHECKING:  # pandas and tqdm load in the methods that use them: connect() stays light
    import pandas as pd


log = logging.getLogger(__name__)


def _refuse(backend: Backend, cap: Capability, feature: str) -> None:
    if cap not in backend.capabilities:
        raise backend.refusal(cap, feature)


class Job:
    """A handle on a job. Cheap to create; every call goes to the backend."""

    def __init__(self, backend: Backend, job_id: str, spec: JobSpec | None, *, key: str | None = None,
                 created: bool = False) -> None:
        self.backend = backend
        self.id = job_id
        self._spec = spec
        #: the job key it was created or attached with, if any
        self.key = key
        #: True when ``create_job`` made this job now; False when it attached to an existing one
        self.created = created

    def __repr__(self) -> str:
        name = self._spec.name if self._spec else "?"
        key = f", key={self.key!r}" if self.key else ""
        return f"Job(id={self.id!r}, backend={self.backend.name!r}, spec={name!r}{key})"

    @property
    def spec(self) -> JobSpec:
        if self._spec is None:
            self._spec = self.backend.get_spec(self.id)
        if self._spec is None:
            raise SpecError(f"backend {self.backend.name!r} does not store specs; pass spec= to client.job()")
        return self._spec

    # ---- items ------------------------------------------------------------------------------

    def add_items(
        self,
        items: Iterable[Item | Mapping[str, Any]] | pd.DataFrame | str | Path | ItemsCheck,
        *,
        allow_partial: bool = False,
        on_error: str = "raise",
        progress: bool = True,
    ) -> UploadReport:
        """Validate every item, then upload them idempotently by key.

        Atomic by default: when any item is rejected (a bad cell, an unknown or missing column, a
        duplicate key, a row that cannot be read) nothing is uploaded. With ``allow_partial=True``
        the valid items are uploaded and the rejected ones reported. Then, with ``on_error="raise"``
        (default), ``ItemsRejectedError`` carries the report listing each rejected item, its line or
        index, and the field; with ``on_error="report"`` the report is returned instead. A file that
        cannot be read at all, or no items, raises ``ItemsInputError``.

        A path is read twice (validate, then upload) rather than held in memory; a list or DataFrame
        is iterated twice; a one-shot iterator is kept for the second pass. An ``ItemsCheck`` from
        ``check_items`` for this spec is uploaded without validating again.
        """
        if on_error not in ("raise", "report"):
            raise ValueError("on_error: expected 'raise' or 'report'")
        spec = self.spec
        golden_refused = None
        if Capability.GOLDEN not in self.backend.capabilities:
            golden_refused = f"backend {self.backend.name!r} has no golden items"
        if isinstance(items, ItemsCheck) and items.spec == spec and (
                items.golden_refused == golden_refused or not items.golden):
            check = items
        else:
            check = check_items(spec, items, golden_refused=golden_refused)

        if check.errors and not allow_partial:
            report = UploadReport(errors=list(check.errors), rejected=check.rejected, uploaded=False)
            log.warning("job %s: %d of %d item(s) rejected; nothing uploaded", self.id, check.rejected, check.rows)
        else:
            from tqdm.auto import tqdm

            bar = tqdm(total=check.valid, desc=f"upload {spec.name}", unit="item", disable=not progress, leave=False)
            try:
                report = self.backend.add_items(self.id, spec, check.items(), on_progress=bar.update)
            finally:
                bar.close()
            refused_by_backend = len({e.key for e in report.errors})
            report.errors = check.errors + report.errors
            report.rejected = check.rejected + refused_by_backend
            log.info(
                "job %s: %d item(s) created, %d already present, %d rejected",
                self.id, report.created, report.existing, report.rejected,
            )
        if report.errors and on_error == "raise":
            raise ItemsRejectedError(report)
        return report

    def add_from_dataset(self, source: Any, *, assignees: tuple[str, ...] | list[str] = ()) -> UploadReport:
        """Add items already stored on the vendor (a ``DatasetSource`` or its dict), e.g. by filter."""
        from annotate_core.model.source import DatasetSource

        _refuse(self.backend, Capability.VENDOR_DATASET, "items from a vendor dataset")
        src = source if isinstance(source, DatasetSource) else DatasetSource.model_validate(source)
        return self.backend.add_source(self.id, self.spec, src, assignees=tuple(assignees))

    # ---- lifecycle --------------------------------------------------------------------------

    def start(self) -> Job:
        self.backend.start(self.id)
        log.info("job %s started", self.id)
        return self

    def resume(self) -> Job:
        return self.start()

    def pause(self) -> Job:
        _refuse(self.backend, Capability.PAUSE, "pause")
        self.backend.pause(self.id)
        return self

    def close(self) -> Job:
        self.backend.close(self.id)
        log.info("job %s closed", self.id)
        return self

    def progress(self) -> Progress:
        return self.backend.progress(self.id)

    def wait(
        self,
        *,
        timeout: float | None = None,
        poll_interval: float = 30.0,
        progress: bool = True,
        sleep: Any = time.sleep,
    ) -> Progress:
        """Block until the job is finished (completed or closed), showing a progress bar.

        A job nobody works on never finishes, so when the backend can tell (``Progress.idle``: the
        local backend, where the work is done by ``job.simulate()`` or by people through
        ``job.pull``/``job.submit``) waiting without a ``timeout`` raises ``JobIdleError`` at once,
        saying what to do, instead of showing a bar stuck at 0%; with a ``timeout`` it logs that
        warning once and keeps waiting for people to start. After ``timeout`` seconds it raises
        ``WaitTimeoutError`` (a ``TimeoutError``) carrying the progress reached; the job keeps running.
        """
        if timeout is not None and timeout < 0:
            raise ValueError(f"timeout: expected seconds >= 0 or None, got {timeout}")
        deadline = None if timeout is None else time.monotonic() + timeout
        warned = False
        from tqdm.auto import tqdm

        bar = tqdm(total=100, desc=f"job {self.id}", unit="%", disable=not progress,
                   bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f}% [{elapsed}]")
        try:
            while True:
                p = self.backend.progress(self.id)
                bar.n = round(p.fraction * 100, 1)
                bar.set_postfix_str(p.state.value, refresh=True)
                if p.state.finished:
                    return p
                if p.idle and deadline is None:
                    raise JobIdleError(f"job {self.id} cannot finish by itself, so wait() would never return: "
                                       f"{p.idle}; or wait for people with job.wait(timeout=SECONDS)")
                if p.idle and not warned:
                    log.warning("job %s: %s; waiting up to %gs anyway", self.id, p.idle, timeout)
                    warned = True
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise WaitTimeoutError(
                        f"job {self.id} not finished after {timeout:g}s: {p.state.value}, {p.fraction:.0%} "
                        f"({p.completed_items} of {p.total_items} items complete); it keeps running on "
                        f"{self.backend.name}: wait again, or look with job.progress()", p)
                sleep(poll_interval if remaining is None else min(poll_interval, remaining))
        finally:
            bar.close()

    # ---- answers and results ----------------------------------------------------------------

    def answers(self) -> pd.DataFrame:
        """Every answer, in every status, as the neutral DataFrame (see ``annotate_core.answers``)."""
        spec = self._spec or self.backend.get_spec(self.id)
        return job_answers(self.backend, self.id, spec)

    def review(self, assignment: str, *, accept: bool, comment: str | None = None) -> None:
        """Accept or reject one assignment (a batch of answers by one worker)."""
        _refuse(self.backend, Capability.MANUAL_REVIEW, "manual review")
        if not accept and not comment:
            raise ValueError("comment: a rejection needs a comment the worker can act on")
        self.backend.review(self.id, assignment, accept=accept, comment=comment)

    def review_sample(self) -> list[str]:
        """The assignments of the spec's review sample (``review.fraction``) awaiting your verdict, to
        pass to ``review``. The same call on every backend: the local store samples as work arrives;
        on Toloka, which has no server-side sample, it also accepts the submitted work outside it."""
        _refuse(self.backend, Capability.MANUAL_REVIEW, "manual review")
        return self.backend.review_sample(self.id)

    def results(
        self,
        method: str = DEFAULT_METHOD,
        *,
        field: str | None = None,
        use_golden: bool = True,
        answers: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """One row per item: key, inputs, aggregated label, its confidence, number of answers.

        Only usable answers (submitted or accepted, see ``annotate_core.counts``) are aggregated, so
        ``n_answers`` sums to the job's usable answers. With ``use_golden`` the known answers of golden
        items are passed to methods that can use them.
        """
        import pandas as pd

        from annotate_core.aggregation import aggregate

        spec = self.spec
        out_field = field or spec.outputs[0].name
        if out_field not in {f.name for f in spec.outputs}:
            raise ValueError(f"field: {out_field!r} is not an output; outputs are {[f.name for f in spec.outputs]}")
        df = self.answers() if answers is None else answers
        df = df[(df["field"] == out_field) & df["status"].isin(USABLE_STATUSES)]
        if df.empty:
            raise ValueError(f"job {self.id} has no usable answers for field {out_field!r} yet")
        truth = None
        if use_golden and df["golden"].any():
            g = df[df["golden"]].drop_duplicates("task")
            truth = pd.Series(g["golden_label"].values, index=g["task"].values)
        agg = aggregate(df[["task", "worker", "label"]], method=method, true_labels=truth)
        inputs = [c for c in df.columns if c.startswith("input:")]
        meta = df.drop_duplicates("task").set_index("task")[["golden", *inputs]]
        res = agg.set_index("task").join(meta, how="left").reset_index()
        res.insert(1, "item_key", res["task"])
        return res

    # ---- extras gated by capability ---------------------------------------------------------

    def events(self, since: int = 0) -> Iterator[Mapping[str, Any]]:
        _refuse(self.backend, Capability.EVENTS, "event stream")
        return self.backend.iter_events(self.id, since=since)

    def simulate(self, **workforce: Any) -> Mapping[str, Any]:
        """Drive the job with a simulated workforce (local backend); returns a summary."""
        _refuse(self.backend, Capability.SIMULATION, "simulated workforce")
        return self.backend.simulate(self.id, self.spec, **workforce)

    def pull(self, assignee: str, **kw: Any) -> Any:
        """Next batch for an in-house annotator (``Backend.pull``: ``role``, ``limit``)."""
        _refuse(self.backend, Capability.PULL_API, "pull/submit")
        return self.backend.pull(self.id, assignee, **kw)

    def submit(self, assignment: str, answers: Any, **kw: Any) -> Any:
        """Answers to a pulled batch, in its order or by item key (``Backend.submit``)."""
        _refuse(self.backend, Capability.PULL_API, "pull/submit")
        return self.backend.submit(self.id, assignment, answers, **kw)

    def skip(self, assignment: str, **kw: Any) -> Any:
        """Give a pulled batch back untouched (it returns to the queue for someone else)."""
        _refuse(self.backend, Capability.PULL_API, "pull/submit")
        return self.backend.skip(self.id, assignment, **kw)

    def state(self) -> JobState:
        return self.progress().state
