"""Toloka assignments -> neutral answer records (one per task of the suite and output field).

An assignment is one Toloker's work on one task suite: ``tasks[i]`` is answered by
``solutions[i]``. The item key comes back in the hidden ``_key`` input; golden tasks carry
``known_solutions``. Assignments still active, skipped or expired have no solutions and yield
records with ``label`` None, so the frame shows every status.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from annotate_core.answers import AnswerStatus
from annotate_core.errors import MalformedResponseError
from annotate_toloka.wire import BACKEND, KEY_FIELD, parse_datetime, require

STATUSES = {
    "ACTIVE": AnswerStatus.ACTIVE,
    "SUBMITTED": AnswerStatus.SUBMITTED,
    "ACCEPTED": AnswerStatus.ACCEPTED,
    "APPROVED": AnswerStatus.ACCEPTED,  # the TSV export's name for it
    "REJECTED": AnswerStatus.REJECTED,
    "SKIPPED": AnswerStatus.SKIPPED,
    "EXPIRED": AnswerStatus.EXPIRED,
}


def _solutions(a: dict[str, Any], n_tasks: int, where: str) -> list[dict[str, Any]] | None:
    sols = a.get("solutions")
    if not sols:
        return None
    if not isinstance(sols, list) or len(sols) != n_tasks:
        raise MalformedResponseError(
            f"{where}: 'solutions' must list one solution per task ({n_tasks}), got "
            f"{len(sols) if isinstance(sols, list) else type(sols).__name__}", backend=BACKEND)
    out = []
    for i, s in enumerate(sols):
        values = s.get("output_values") if isinstance(s, dict) else None
        if not isinstance(values, dict):
            raise MalformedResponseError(f"{where}: solutions.{i}.output_values is missing", backend=BACKEND)
        out.append(values)
    return out


def assignment_records(a: dict[str, Any], fields: Sequence[str]) -> Iterator[dict[str, Any]]:
    """The answer records of one assignment."""
    aid = require(a, "id", "assignment")
    where = f"assignment {aid}"
    worker = require(a, "user_id", where)
    raw_status = require(a, "status", where)
    if raw_status not in STATUSES:
        raise MalformedResponseError(f"{where}: unknown status {raw_status!r}", backend=BACKEND)
    tasks = require(a, "tasks", where)
    if not isinstance(tasks, list):
        raise MalformedResponseError(f"{where}: 'tasks' is not a list", backend=BACKEND)
    solutions = _solutions(a, len(tasks), where)
    submitted = parse_datetime(a.get("submitted"), f"{where}.submitted")
    created = parse_datetime(a.get("created"), f"{where}.created")
    duration = None
    if submitted is not None and created is not None and tasks:
        # Toloka times the whole suite; each answer gets its share
        duration = (submitted - created).total_seconds() / len(tasks)
    comment = a.get("public_comment")
    for i, task in enumerate(tasks):
        if not isinstance(task, dict):
            raise MalformedResponseError(f"{where}: tasks.{i} is not an object", backend=BACKEND)
        values = task.get("input_values") or {}
        key = values.get(KEY_FIELD) or require(task, "id", f"{where}.tasks.{i}")
        inputs = {k: v for k, v in values.items() if k != KEY_FIELD}
        known = task.get("known_solutions") or []
        golden_values = known[0].get("output_values", {}) if known and isinstance(known[0], dict) else {}
        answer = solutions[i] if solutions is not None else None
        for name in fields:
            yield {
                "task": key,
                "item_key": key,
                "worker": worker,
                "label": answer.get(name) if answer is not None else None,
                "field": name,
                "assignment": aid,
                "status": STATUSES[raw_status],
                "submitted_at": submitted,
                "duration_s": duration,
                "golden": bool(known),
                "golden_label": golden_values.get(name) if known else None,
                "reviewer": None,
                "review_comment": comment,
                "inputs": inputs,
            }


def records(assignments: Iterable[dict[str, Any]], fields: Sequence[str]) -> Iterator[dict[str, Any]]:
    for a in assignments:
        yield from assignment_records(a, fields)
