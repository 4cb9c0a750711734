"""The columnar answers path: the store's answers as pandas frames, one per keyset page.

``LocalBackend.iter_answers`` yields one dict per answer, which ``answers_frame`` then takes apart
again: at millions of answers the per-record dicts, the per-row JSON decoding of item inputs (an
item's inputs are decoded once per answer) and a fresh string object per cell dominate time and
memory. Here items are read once (inputs and golden answers decoded once per item), answers are
read in keyset pages straight into column lists, repeated strings (workers, statuses, assignment
ids, answer values) are shared instead of copied, and each page becomes a frame whose columns,
dtypes and values are those ``answers_frame`` builds from the records (a test compares both).
Cells of one item share their input objects, as rows with the same answer value share it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import ColumnElement, Connection

    from annotate_local.store import Store

PAGE = 50_000


def job_id_unindexed(column: ColumnElement[str]) -> ColumnElement[str]:
    """``job_id || ''``: the same value, but no index on job_id can serve it.

    A keyset page (``id > last ORDER BY id LIMIT n``) must walk the primary key. Given ``job_id = ?``
    SQLite picks the (job_id, worker, kind) index instead, reads every answer of the job and sorts
    them, for every page: 1.5 s a page at 3M answers, so reading them all took time quadratic in
    their number (~40 min at 3M with the record path's 2,000-answer pages); walking the key it is
    0.06 s a page.
    """
    return column.concat("")


def _shared(cache: dict[Any, Any], value: Any) -> Any:
    """One object per distinct value: a repeated string costs a pointer, not a copy."""
    return cache.setdefault(value, value)


def _epoch_us(ts: float) -> int:
    """Epoch seconds to whole microseconds the way ``datetime.fromtimestamp`` rounds (half even on
    the fraction), so the frame's timestamps equal the record path's to the nanosecond."""
    frac, whole = math.modf(ts)
    us = round(frac * 1e6)
    return int(whole) * 1_000_000 + us


def _objects(seq: Sequence[Any]) -> Any:
    """An object array holding the very objects of ``seq`` (``np.array`` would unpack lists)."""
    import numpy as np

    return np.fromiter(seq, dtype=object, count=len(seq))


def _per_answer(arr: Any, k: int) -> Any:
    """One value per answer, repeated for each of the ``k`` output fields (one row per field)."""
    import numpy as np

    return arr if k == 1 else np.repeat(arr, k)


def _per_field(columns: Sequence[Any]) -> Any:
    """Answer-major, field-minor: the record path's order (one record per output per answer)."""
    import numpy as np

    k = len(columns)
    if k == 1:
        return columns[0]
    arr = np.empty(len(columns[0]) * k, dtype=object)
    for f, col in enumerate(columns):
        arr[f::k] = col
    return arr


def _items(conn: Connection, job_id: str, input_names: Sequence[str], outputs: Sequence[str]
           ) -> tuple[list[int], list[str], list[list[Any]], list[bool], list[list[Any]]]:
    """The job's items in id order: ids, keys, one list per input name, golden flags, one list of
    golden labels per output."""
    from sqlalchemy import Text, cast, select

    from annotate_local import schema as t

    I = t.items.c  # noqa: E741
    ids: list[int] = []
    keys: list[str] = []
    inputs: list[list[Any]] = [[] for _ in input_names]
    golden: list[bool] = []
    golden_labels: list[list[Any]] = [[] for _ in outputs]
    rows = conn.execute(select(I.id, I.key, cast(I.inputs, Text), cast(I.golden, Text))
                        .where(I.job_id == job_id).order_by(I.id))
    for item_id, key, raw_inputs, raw_golden in rows:
        ids.append(item_id)
        keys.append(key)
        values = json.loads(raw_inputs) if raw_inputs is not None else None
        for n, name in enumerate(input_names):
            inputs[n].append(values.get(name) if values else None)
        gold = json.loads(raw_golden) if raw_golden is not None else None
        gold = gold or None  # as the record path: an empty golden mapping is no golden answer
        golden.append(gold is not None)
        for n, name in enumerate(outputs):
            golden_labels[n].append(gold.get(name) if gold else None)
    return ids, keys, inputs, golden, golden_labels


def iter_answer_frames(store: Store, job_id: str, outputs: Sequence[str], input_names: Sequence[str],
                       *, page: int | None = None) -> Iterator[pd.DataFrame]:
    """Every non-training answer of the job in answer-id order, ``page`` answers per frame."""
    import numpy as np
    import pandas as pd
    from sqlalchemy import Text, cast, select

    from annotate_core.answers import ANSWER_COLUMNS, INPUT_PREFIX
    from annotate_local import schema as t

    page = page or PAGE
    A = t.assignments.c
    W = t.answers.c
    with store.read() as conn:
        item_ids, keys, inputs, golden, golden_labels = _items(conn, job_id, input_names, outputs)
    ids = np.asarray(item_ids, dtype=np.int64)  # ascending: positions by binary search, not a dict
    del item_ids
    key_arr = _objects(keys)
    input_arrs = [_objects(seq) for seq in inputs]
    golden_arr = np.asarray(golden, dtype=bool)
    gold_arrs = [_objects(seq) for seq in golden_labels]
    del keys, inputs, golden, golden_labels
    strings: dict[Any, Any] = {}  # workers, statuses, assignment ids, reviewers
    values: dict[str, dict[str, Any]] = {}  # raw answer JSON -> decoded, when it holds only scalars
    nat = np.iinfo(np.int64).min
    k = len(outputs)
    last = 0
    while True:
        with store.read() as conn:
            rows = conn.execute(
                select(W.id, W.item_id, cast(W.value, Text), W.status, W.worker, W.assignment_id, W.submitted_at,
                       A.duration_s, A.reviewer, A.review_comment)
                .join(t.assignments, A.id == W.assignment_id)
                .where(job_id_unindexed(W.job_id) == job_id, W.kind != "training", W.id > last)
                .order_by(W.id).limit(page)
            ).all()
        if not rows:
            return
        last = rows[-1][0]
        at: list[int] = []
        workers: list[str] = []
        statuses: list[str] = []
        assignments: list[str] = []
        stamps: list[int] = []
        durations: list[float] = []
        reviewers: list[Any] = []
        comments: list[Any] = []
        labels: list[list[Any]] = [[] for _ in outputs]
        for _, item_id, raw, status, worker, assignment, submitted, duration, reviewer, comment in rows:
            at.append(item_id)
            workers.append(_shared(strings, worker))
            statuses.append(_shared(strings, status))
            assignments.append(_shared(strings, assignment))
            stamps.append(nat if submitted is None or status == "active" else _epoch_us(submitted))
            durations.append(math.nan if duration is None else duration)
            reviewers.append(None if reviewer is None else _shared(strings, reviewer))
            comments.append(comment)
            value = values.get(raw) if raw is not None else None
            if value is None:
                value = (json.loads(raw) if raw is not None else None) or {}
                if raw is not None and len(values) < 100_000 and all(
                        not isinstance(v, (list, dict)) for v in value.values()):
                    values[raw] = value  # lists stay per row: a cell edited in place edits one row
            for n, name in enumerate(outputs):
                labels[n].append(value.get(name))
        idx = np.searchsorted(ids, np.asarray(at, dtype=np.int64))
        key_col = _per_answer(key_arr[idx], k)
        columns: dict[str, Any] = {
            "task": key_col,
            "worker": _per_answer(_objects(workers), k),
            "label": _per_field([_objects(seq) for seq in labels]),
            "field": np.tile(_objects(list(outputs)), len(rows)),
            "item_key": key_col,
            "assignment": _per_answer(_objects(assignments), k),
            "status": _per_answer(_objects(statuses), k),
            "submitted_at": pd.DatetimeIndex(
                _per_answer(np.asarray(stamps, dtype=np.int64), k).view("datetime64[us]").astype("datetime64[ns]")
            ).tz_localize("UTC"),
            "duration_s": _per_answer(np.asarray(durations, dtype=np.float64), k),
            "golden": _per_answer(golden_arr[idx], k),
            "golden_label": _per_field([arr[idx] for arr in gold_arrs]),
            "reviewer": _per_answer(_objects(reviewers), k),
            "review_comment": _per_answer(_objects(comments), k),
        }
        for name, arr in zip(input_names, input_arrs, strict=True):
            columns[INPUT_PREFIX + name] = _per_answer(arr[idx], k)
        # dtype=object as answers_frame's: left to infer, pandas 3 would make string columns ``str``
        # copy=False: one block per column, no copy into 2D blocks, so job_answers can join the pages
        # column by column and free each page's column as it goes
        frame = pd.DataFrame({c: pd.Series(v, dtype=ANSWER_COLUMNS.get(c, "object"), copy=False)
                              if ANSWER_COLUMNS.get(c, "object") == "object" else v for c, v in columns.items()},
                             copy=False)
        yield frame
        if len(rows) < page:
            return
