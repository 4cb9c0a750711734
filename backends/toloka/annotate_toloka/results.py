"""Toloka assignments -> neutral answer records (one per task of the suite and output field).

An assignment is one Toloker's work on one task suite: ``tasks[i]`` is answered by
``solutions[i]``. The item key comes back in the hidden ``_key`` input; golden tasks carry
``known_solutions``. Assignments still active, skipped or expired have no solutions and yield
records with ``label`` None, so the frame shows every status.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from annotate_core.answers import AnswerColumns, AnswerStatus
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


def _assignment_parts(a: dict[str, Any]) -> tuple[str, str, AnswerStatus, list[Any], list[dict[str, Any]] | None,
                                                    datetime | None, float | None, Any]:
    """(id, worker, status, tasks, solutions, submitted, duration per answer, comment) of one
    assignment, checked: the one reading both the record and the column path use."""
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
    return aid, worker, STATUSES[raw_status], tasks, solutions, submitted, duration, a.get("public_comment")


def _task_parts(task: Any, i: int, where: str) -> tuple[str, dict[str, Any], bool, dict[str, Any]]:
    """(item key, its input values with ``_key`` among them, golden?, known answer) of ``tasks[i]``."""
    if not isinstance(task, dict):
        raise MalformedResponseError(f"{where}: tasks.{i} is not an object", backend=BACKEND)
    values = task.get("input_values") or {}
    key = values.get(KEY_FIELD) or require(task, "id", f"{where}.tasks.{i}")
    known = task.get("known_solutions") or []
    golden_values = known[0].get("output_values", {}) if known and isinstance(known[0], dict) else {}
    return key, values, bool(known), golden_values


def assignment_records(a: dict[str, Any], fields: Sequence[str]) -> Iterator[dict[str, Any]]:
    """The answer records of one assignment."""
    aid, worker, status, tasks, solutions, submitted, duration, comment = _assignment_parts(a)
    where = f"assignment {aid}"
    for i, task in enumerate(tasks):
        key, values, golden, golden_values = _task_parts(task, i, where)
        inputs = {k: v for k, v in values.items() if k != KEY_FIELD}
        answer = solutions[i] if solutions is not None else None
        for name in fields:
            yield {
                "task": key,
                "item_key": key,
                "worker": worker,
                "label": answer.get(name) if answer is not None else None,
                "field": name,
                "assignment": aid,
                "status": status,
                "submitted_at": submitted,
                "duration_s": duration,
                "golden": golden,
                "golden_label": golden_values.get(name) if golden else None,
                "reviewer": None,
                "review_comment": comment,
                "inputs": inputs,
            }


def add_assignment(columns: AnswerColumns, a: dict[str, Any], fields: Sequence[str]) -> None:
    """The answers of one assignment into a page's columns: ``assignment_records`` without a dict
    per answer (the frame path, ``iter_answer_frames``)."""
    aid, worker, status, tasks, solutions, submitted, duration, comment = _assignment_parts(a)
    where = f"assignment {aid}"
    add = columns.add
    hide_key = KEY_FIELD in columns.input_names  # else the hidden key is never asked for: no copy needed
    for i, task in enumerate(tasks):
        key, values, golden, golden_values = _task_parts(task, i, where)
        inputs = {k: v for k, v in values.items() if k != KEY_FIELD} if hide_key else values
        answer = solutions[i] if solutions is not None else None
        for name in fields:
            add(item_key=key, worker=worker, label=answer.get(name) if answer is not None else None, field=name,
                assignment=aid, status=status, submitted_at=submitted, duration_s=duration, golden=golden,
                golden_label=golden_values.get(name) if golden else None, reviewer=None, review_comment=comment,
                inputs=inputs)


def records(assignments: Iterable[dict[str, Any]], fields: Sequence[str]) -> Iterator[dict[str, Any]]:
    for a in assignments:
        yield from assignment_records(a, fields)
