"""What a comparison needs from one finished job, fetched once through its ``Job`` handle.

``JobData`` holds the answers, the spec (when the backend stores it or the caller gives it), the
last progress, what the backend says about cost and bans, and the simulation summary of a local
rehearsal. Metrics are computed from this snapshot only, so a report never calls a vendor twice.

Where the numbers come from (vendor-neutral, through the public ``Job`` API):

- reported cost: ``Progress.details["cost"]`` (a number, or ``{"amount": .., "currency": ..}``) and
  ``Progress.details["currency"]``; else ``cost`` in the summary ``job.simulate(...)`` returned.
  Otherwise the cost is estimated from the spec's pricing (``annotate_core.plan.estimate_cost``).
- banned workers: ``Progress.details["banned_workers"]`` (worker ids, or a count), or the events of
  backends with the ``events`` capability whose ``event``/``type``/``kind`` is ``"banned"``
  (worker id under ``worker``). A backend that reports neither leaves the ban share empty (NaN):
  zero would claim something nobody measured.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from annotate_core.backend import Progress
from annotate_core.capabilities import Capability
from annotate_core.errors import SpecError

if TYPE_CHECKING:
    from annotate_core.job import Job
    from annotate_core.model.spec import JobSpec

log = logging.getLogger(__name__)

EVENT_KIND_KEYS = ("event", "type", "kind")


@dataclass
class JobData:
    """A snapshot of one job for comparison. ``name`` labels it in tables and plots."""

    name: str
    answers: pd.DataFrame
    backend: str = ""
    profile: str | None = None
    job_id: str = ""
    spec: JobSpec | None = None
    progress: Progress | None = None
    banned: set[str] | int | None = None
    banned_source: str | None = None
    reported_cost: float | None = None
    reported_currency: str | None = None
    simulation: Mapping[str, Any] = field(default_factory=dict)


def reported_cost(details: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """``(amount, currency)`` from a progress' details or a simulation summary, if it holds a cost."""
    cost = details.get("cost")
    currency = details.get("currency")
    if isinstance(cost, Mapping):
        currency = cost.get("currency", currency)
        cost = cost.get("amount", cost.get("value"))
    if isinstance(cost, bool) or not isinstance(cost, (int, float)):
        return None, None
    return float(cost), (str(currency) if currency else None)


def banned_from_details(details: Mapping[str, Any]) -> set[str] | int | None:
    value = details.get("banned_workers")
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping)):
        return {str(v) for v in value}
    return None


def banned_from_events(events: Iterable[Mapping[str, Any]]) -> set[str]:
    out: set[str] = set()
    for ev in events:
        kind = next((ev.get(k) for k in EVENT_KIND_KEYS if ev.get(k) is not None), None)
        kind = getattr(kind, "value", kind)
        if str(kind).lower() == "banned" and ev.get("worker") is not None:
            out.add(str(ev["worker"]))
    return out


def collect(job: Job, *, name: str | None = None, profile: str | None = None,
            spec: JobSpec | None = None, simulation: Mapping[str, Any] | None = None) -> JobData:
    """Fetch everything a comparison needs from ``job`` (answers, spec, progress, bans, cost)."""
    if spec is None:
        try:
            spec = job.spec
        except SpecError:
            log.warning("job %s on %s: no stored spec; cost is estimated only from a given spec",
                        job.id, job.backend.name)
            spec = None
    answers = job.answers() if spec is None else _answers(job, spec)
    progress = job.progress()
    details = progress.details or {}
    banned = banned_from_details(details)
    source = "progress" if banned is not None else None
    if banned is None and Capability.EVENTS in job.backend.capabilities:
        banned = banned_from_events(job.events())
        source = "events"
    cost, currency = reported_cost(details)
    sim = dict(simulation or {})
    if cost is None and sim:
        cost, currency = reported_cost(sim)
    label = name or (f"{profile}:{job.id}" if profile else f"{job.backend.name}:{job.id}")
    return JobData(
        name=label, answers=answers, backend=job.backend.name, profile=profile, job_id=str(job.id), spec=spec,
        progress=progress, banned=banned, banned_source=source, reported_cost=cost,
        reported_currency=currency, simulation=sim,
    )


def _answers(job: Job, spec: JobSpec) -> pd.DataFrame:
    from annotate_core.answers import job_answers

    return job_answers(job.backend, job.id, spec)
