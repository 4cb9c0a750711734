"""An in-memory backend, written the way an outside plugin author would write one.

It lives outside the core's source tree, declares a small set of capabilities, and is found
through the ``annotate.backends`` entry point alone. Answers are recorded with ``record_answer``,
standing in for the people who would give them on a real vendor.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from annotate_core import Backend, Capability, Item, JobSpec, JobState, PlannedOperation, Progress, UploadReport
from annotate_core.errors import JobStateError, NotFoundError

_ids = itertools.count(1)


class MemoryBackend(Backend):
    name = "memory"
    capabilities = frozenset(
        {
            Capability.UPLOAD_ITEMS,
            Capability.OUTPUT_LABEL,
            Capability.INTERFACE,
            Capability.PULLING,
            Capability.OVERLAP,
            Capability.GOLDEN,
            Capability.MANUAL_REVIEW,
            Capability.PAUSE,
        }
    )
    hints = {Capability.FIXED_WORKLOAD: "the memory backend only hands out work by pulling"}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._lock = threading.Lock()
        self._jobs: dict[str, dict[str, Any]] = {}

    def _job(self, job_id: str) -> dict[str, Any]:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise NotFoundError(f"job {job_id!r} not found", backend=self.name) from None

    def plan(self, spec: JobSpec, n_items: int | None = None) -> list[PlannedOperation]:
        return [PlannedOperation("create job", f"in-memory job {spec.name!r}")]

    def create_job(self, spec: JobSpec) -> str:
        job_id = f"mem-{next(_ids)}"
        self._jobs[job_id] = {"spec": spec, "state": JobState.DRAFT, "items": {}, "answers": []}
        return job_id

    def get_spec(self, job_id: str) -> JobSpec | None:
        return self._job(job_id)["spec"]

    def add_items(self, job_id: str, spec: JobSpec, items: Iterable[Item], *, on_progress=None) -> UploadReport:
        job = self._job(job_id)
        if job["state"].finished:
            raise JobStateError(f"job {job_id} is {job['state'].value}; items cannot be added")
        report = UploadReport()
        with self._lock:
            for item in items:
                if item.key in job["items"]:
                    report.existing += 1
                else:
                    job["items"][item.key] = item
                    report.created += 1
                report.keys.append(item.key)
                if on_progress:
                    on_progress(1)
        return report

    def start(self, job_id: str) -> None:
        self._job(job_id)["state"] = JobState.OPEN

    def pause(self, job_id: str) -> None:
        self._job(job_id)["state"] = JobState.PAUSED

    def close(self, job_id: str) -> None:
        self._job(job_id)["state"] = JobState.CLOSED

    def progress(self, job_id: str) -> Progress:
        job = self._job(job_id)
        need = job["spec"].overlap.count
        counts: dict[str, int] = {}
        for a in job["answers"]:
            counts[a["item_key"]] = counts.get(a["item_key"], 0) + 1
        done = sum(1 for k in job["items"] if counts.get(k, 0) >= need)
        state = job["state"]
        if state is JobState.OPEN and job["items"] and done == len(job["items"]):
            state = JobState.COMPLETED
        return Progress(state, len(job["items"]), done, len(job["answers"]), need * len(job["items"]))

    def record_answer(self, job_id: str, item_key: str, worker: str, label: Any) -> str:
        """Store one worker's answer (what a person would do on a real vendor)."""
        job = self._job(job_id)
        item = job["items"][item_key]
        field = job["spec"].outputs[0].name
        assignment = f"{job_id}-a{len(job['answers']) + 1}"
        job["answers"].append(
            {
                "item_key": item_key, "worker": worker, "label": label, "field": field,
                "assignment": assignment, "status": "submitted",
                "submitted_at": datetime.now(timezone.utc), "duration_s": 1.0,
                "golden": item.is_golden, "golden_label": (item.golden or {}).get(field),
                "inputs": dict(item.inputs),
            }
        )
        return assignment

    def iter_answers(self, job_id: str, spec: JobSpec | None) -> Iterator[Mapping[str, Any]]:
        yield from (dict(a) for a in self._job(job_id)["answers"])

    def review(self, job_id: str, assignment: str, *, accept: bool, comment: str | None = None) -> None:
        for a in self._job(job_id)["answers"]:
            if a["assignment"] == assignment:
                a["status"] = "accepted" if accept else "rejected"
                a["review_comment"] = comment
                return
        raise NotFoundError(f"assignment {assignment!r} not found", backend=self.name)
