"""Jobs from task JSON: task states, the state of a job made of several tasks, and ``list_jobs`` rows.

Pure functions over the tasks one ``POST /annotationtasks/query`` returns, so listing every job of a
project costs the query's pages and nothing per task. ``progress()`` uses the same state rule, so a
job shows the same state in ``annotate jobs`` and in ``annotate status``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import timezone
from typing import Any

from annotate_core.backend import JobState
from annotate_core.errors import MalformedResponseError
from annotate_dataloop.jobref import JobRef
from annotate_dataloop.payloads import META_KEY
from annotate_dataloop.wire import get, parse_time

log = logging.getLogger(__name__)

#: task statuses [O TaskStatus] -> neutral states
TASK_STATES = {
    "open": JobState.OPEN,
    "in progress": JobState.OPEN,
    "completed": JobState.COMPLETED,
    "completed with issues": JobState.COMPLETED,
    "dismissed": JobState.CLOSED,
}


def task_state(task: Mapping[str, Any]) -> JobState:
    """One task's neutral state; an unknown status counts as open (work may still be going on)."""
    return TASK_STATES.get(str(task.get("status")), JobState.OPEN)


def combined_state(tasks: Iterable[Mapping[str, Any]]) -> JobState:
    """A job's state from its tasks: closed if any is dismissed, completed if all are, else open."""
    states = [task_state(t) for t in tasks]
    if any(s is JobState.CLOSED for s in states):
        return JobState.CLOSED
    if states and all(s is JobState.COMPLETED for s in states):
        return JobState.COMPLETED
    return JobState.OPEN


def created_at(task: Mapping[str, Any]) -> str | None:
    """``createdAt`` as ISO-8601 in UTC (``...+00:00``, as the local backend lists it); None if unreadable."""
    try:
        when = parse_time(task.get("createdAt"), f"task {task.get('id')}: createdAt")
    except MalformedResponseError as exc:  # one odd date does not hide the whole listing
        log.debug("%s", exc)
        return None
    return when.astimezone(timezone.utc).isoformat() if when else None


def _items(task: Mapping[str, Any]) -> int | None:
    n = task.get("totalItems")
    return int(n) if isinstance(n, int | float) and not isinstance(n, bool) else None


def parent_task(task: Mapping[str, Any]) -> str | None:
    """The task a QA task reviews: ``spec.parentTaskId``, or the id annotate stored in its metadata."""
    parent = get(task, "spec.parentTaskId") or get(task, f"metadata.user.{META_KEY}.parentTaskId")
    return parent if isinstance(parent, str) else None


def is_qa(task: Mapping[str, Any]) -> bool:
    return get(task, "spec.type") == "qa" or parent_task(task) is not None


def creation_order(task: Mapping[str, Any]) -> tuple[str, str]:
    return (str(task.get("createdAt") or ""), str(task.get("id") or ""))


def job_rows(tasks: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``list_jobs`` rows (id, name, state, created_at, items) for annotate's tasks, oldest first.

    * an annotation task with a QA task reviewing it is one job ``task:<id>,qa:<qaId>``: closed if
      either task is dismissed, completed if both are, else open; its items are the annotation task's;
    * an annotation task without one is ``task:<id>``;
    * a task a pipeline's node made (``metadata.system.pipelineId``) belongs to a ``pipeline:<id>``
      job, which no task listing can name reliably: left out (the platform does not copy annotate's
      metadata onto node tasks anyway);
    * a QA task whose annotation task is not among ``tasks`` names no job annotate can open, and is
      left out (logged). When several QA tasks review one task, the oldest makes the job.

    ``items`` is the task JSON's ``totalItems`` (None when the listing does not carry it).
    """
    annotation: list[Mapping[str, Any]] = []
    reviews: dict[str, list[Mapping[str, Any]]] = {}
    for task in sorted(tasks, key=creation_order):
        if not isinstance(task.get("id"), str) or get(task, "metadata.system.pipelineId"):
            continue
        if is_qa(task):
            reviews.setdefault(parent_task(task) or "", []).append(task)
        else:
            annotation.append(task)

    rows: list[Mapping[str, Any]] = []
    ids = {t["id"] for t in annotation}
    for parent, qas in reviews.items():
        if parent not in ids:
            log.info("QA task(s) %s review task %r, which is not one of annotate's tasks here: not listed",
                     [q["id"] for q in qas], parent or None)
        elif len(qas) > 1:
            log.info("task %s has %d QA tasks; the job pairs it with the oldest, %s", parent, len(qas), qas[0]["id"])
    for task in annotation:
        reviewing = reviews.get(task["id"])
        qa = reviewing[0] if reviewing else None
        members = [task] if qa is None else [task, qa]
        ref = JobRef(task=task["id"], qa=None if qa is None else qa["id"])
        name = task.get("name")
        rows.append({"id": str(ref), "name": str(name) if name is not None else None,
                     "state": combined_state(members).value, "created_at": created_at(task), "items": _items(task)})
    return rows  # oldest first: ``annotation`` is in creation order
