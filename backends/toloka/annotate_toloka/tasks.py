"""Items -> Toloka tasks (or task suites), upload chunks with deterministic operation ids, and
reading an operation log back into per-item results.

Idempotency has two layers. (1) Before uploading, ``add_items`` lists the keys already in the pool
and skips them. (2) Each chunk is sent as an async operation whose ``operation_id`` is a UUID5 of
the job id and the chunk's item keys, so a rerun after a crash or a timeout, while that operation
is still running, gets ``409 OPERATION_ALREADY_EXISTS`` and reads the existing operation instead of
creating the tasks twice. The id covers every key of the chunk (also the ones skipped as already
present), so a rerun over the same items chunks them the same way and hits the same ids.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from annotate_core.items import Item, ItemError
from annotate_core.model.workflow import Overlap
from annotate_toloka.wire import KEY_FIELD

#: namespace of every operation id this backend derives (uuid5 of the job id and item keys)
OPERATION_NAMESPACE = uuid.UUID("7c0a5e5e-3d1f-5b8e-9a3c-61a7f0e2d4b1")
MAX_CHUNK = 10_000  # Toloka's recommended maximum per async create request

Json = dict[str, Any]


def chunked(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """Lists of at most ``size`` items, pulled lazily so a 100k stream is never held whole."""
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def operation_id(job_id: str, keys: Iterable[str], attempt: int = 0) -> str:
    """Deterministic idempotency key of one chunk; ``attempt`` > 0 steps past a failed earlier run."""
    base = uuid.uuid5(OPERATION_NAMESPACE, f"{job_id}\n" + "\n".join(keys))
    return str(base if attempt == 0 else uuid.uuid5(base, f"attempt-{attempt}"))


class TaskBuilder:
    """Builds task payloads for one pool. Plain dict construction: this runs 100k times per upload."""

    def __init__(self, pool_id: str, overlap: Overlap, *, training: bool = False) -> None:
        self.pool_id = pool_id
        self.overlap = overlap
        self.partial = overlap.count > 1 and overlap.fraction < 1
        self.training = training

    def task(self, item: Item) -> Json:
        values = dict(item.inputs)
        values[KEY_FIELD] = item.key
        t: Json = {"input_values": values, "pool_id": self.pool_id}
        if item.golden is not None:
            # control task: known answer, answered by every Toloker who gets it
            t["known_solutions"] = [{"output_values": item.golden, "correctness_weight": 1}]
            if item.hint:
                t["message_on_unknown_solution"] = item.hint
            t["infinite_overlap"] = True
        elif item.overlap is not None:
            t["overlap"] = item.overlap
        elif self.partial:
            t["overlap"] = self.overlap.for_key(item.key)
        return t

    def suite(self, items: list[Item]) -> Json:
        """One task suite (a page of tasks) for ``task_suites`` mode; overlap comes from the pool."""
        tasks = []
        for item in items:
            values = dict(item.inputs)
            values[KEY_FIELD] = item.key
            t: Json = {"input_values": values}
            if item.golden is not None:
                t["known_solutions"] = [{"output_values": item.golden, "correctness_weight": 1}]
                if item.hint:
                    t["message_on_unknown_solution"] = item.hint
            tasks.append(t)
        return {"pool_id": self.pool_id, "tasks": tasks}


# ---- operation logs -------------------------------------------------------------------------


def _field(path: str) -> str:
    """A Toloka field path as a neutral one: ``input_values.image`` -> ``inputs.image``."""
    parts = path.split(".")
    if parts and parts[0] == "tasks" and len(parts) > 2 and parts[1].isdigit():
        parts = parts[2:]
    if parts[:1] == ["input_values"]:
        return ".".join(["inputs", *parts[1:]])
    if parts[:1] == ["known_solutions"]:
        rest = [p for p in parts[1:] if not p.isdigit() and p != "output_values"]
        return ".".join(["golden", *rest])
    return ".".join(parts)


def _problems(output: Any) -> list[tuple[str | None, str, str | None]]:
    """(path, message, code) triples from a log entry's ``output``."""
    if not isinstance(output, dict) or not output:
        return [(None, "rejected by Toloka without details", None)]
    if "code" in output and "message" in output and not isinstance(output.get("message"), dict):
        return [(None, str(output["message"]), str(output["code"]))]
    out: list[tuple[str | None, str, str | None]] = []
    for path, problem in output.items():
        if isinstance(problem, dict):
            code = problem.get("code")
            out.append((str(path), str(problem.get("message", problem)), None if code is None else str(code)))
        else:
            out.append((str(path), str(problem), None))
    return out


def _keys_of(entry_input: Any) -> list[tuple[int | None, str | None]]:
    """(index in suite, key) of every task an operation-log input holds."""
    if not isinstance(entry_input, dict):
        return [(None, None)]
    if isinstance(entry_input.get("tasks"), list):
        return [(i, (t.get("input_values") or {}).get(KEY_FIELD) if isinstance(t, dict) else None)
                for i, t in enumerate(entry_input["tasks"])]
    return [(None, (entry_input.get("input_values") or {}).get(KEY_FIELD))]


@dataclass
class ChunkResult:
    created: list[str] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)


def read_log(log: Any, sent: list[Item], index_of: dict[str, int], op_id: str, *, failed: bool,
             details: Any = None) -> ChunkResult:
    """Per-item outcome of one upload operation, keyed by the ``_key`` Toloka echoes in the log.

    Every sent item ends up either created or with an error: an item the log does not mention is an
    error, and a failed operation with no per-item details fails every item of the chunk.
    """
    res = ChunkResult()
    if not isinstance(log, list):
        log = []
    wanted = {it.key for it in sent}  # an earlier run's log may also hold keys skipped as present now
    seen: set[str] = set()
    for entry in log:
        if not isinstance(entry, dict):
            continue
        kind = str(entry.get("type", ""))
        if not kind.startswith("TASK"):
            continue  # side steps such as POOL_OPEN
        keys = _keys_of(entry.get("input"))
        if entry.get("success"):
            for _, key in keys:
                if key in wanted and key not in seen:
                    seen.add(key)
                    res.created.append(key)
            continue
        problems = _problems(entry.get("output"))
        for suite_index, key in keys:
            if key not in wanted or key in seen:
                continue
            seen.add(key)
            own = [p for p in problems
                   if suite_index is None or not p[0] or not p[0].startswith("tasks.")
                   or p[0].startswith(f"tasks.{suite_index}.")]
            if not own:  # Toloka rejects a whole suite when one of its tasks is invalid
                own = [(None, "its task suite was rejected because of another task in it", None)]
            for path, message, code in own:
                text = f"{message} ({code})" if code else message
                res.errors.append(ItemError(key, _field(path) if path else None, text, index_of.get(key)))
    missing = [it.key for it in sent if it.key not in seen]
    if missing:
        why = (f"upload operation {op_id} failed: {details}" if failed
               else f"no result for this item in the log of operation {op_id}")
        for key in missing:
            res.errors.append(ItemError(key, None, why, index_of.get(key)))
    return res
