"""The columnar answers path: the store's answers as pandas frames, one per keyset page.

``LocalBackend.iter_answers`` yields one dict per answer, which ``answers_frame`` then takes apart
again: at millions of answers the per-record dicts, the per-row JSON decoding of item inputs (an
item's inputs are decoded once per answer) and a fresh string object per cell dominate time and
memory. Here answers are read in keyset pages straight into column lists, and with each page the
items it is on (inputs and golden answers decoded once per item and page; the job's other items are
not held); repeated strings (workers, statuses, answer values, a page's assignment ids) are shared
instead of copied, and each page becomes a frame whose columns, dtypes and values are those
``answers_frame`` builds from the records (a test compares both). A page's cells of one item share
its input objects, as rows with the same answer value share it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import ColumnElement, Connection

    from annotate_local.store import Store

#: answers per page: a page's rows, decoded values and frame are ~2 KB an answer while it is built;
#: 20,000 keeps that near 40 MB (50,000 cost ~45 MB more at the peak of ``annotate run`` for ~7% less CPU)
PAGE = 20_000


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


#: item ids per ``IN (...)`` lookup: well under SQLite's and PostgreSQL's bound parameter limits
ITEM_CHUNK = 5_000


def _page_items(conn: Connection, job_id: str, ids: Any, input_names: Sequence[str], outputs: Sequence[str]
                ) -> tuple[Any, list[Any], Any, list[Any]]:
    """The items a page's answers are on (``ids``: ascending, distinct), in that order: keys, one
    object array per input name, golden flags, one object array of golden labels per output.

    Only the page's items are read, not the job's: at a million items holding every item's key,
    inputs and golden answer for the whole read was ~0.5 GB, more than the answers it served.
    """
    import numpy as np
    from sqlalchemy import Text, cast, select

    from annotate_local import schema as t

    I = t.items.c  # noqa: E741
    n = len(ids)
    found = np.empty(n, dtype=np.int64)
    keys = np.empty(n, dtype=object)
    inputs = [np.empty(n, dtype=object) for _ in input_names]
    golden = np.zeros(n, dtype=bool)
    golden_labels = [np.empty(n, dtype=object) for _ in outputs]
    pos = 0
    for start in range(0, n, ITEM_CHUNK):
        chunk = [int(i) for i in ids[start:start + ITEM_CHUNK]]
        rows = conn.execute(select(I.id, I.key, cast(I.inputs, Text), cast(I.golden, Text))
                            .where(I.job_id == job_id, I.id.in_(chunk)).order_by(I.id))
        for item_id, key, raw_inputs, raw_golden in rows:
            found[pos] = item_id
            keys[pos] = key
            values = json.loads(raw_inputs) if raw_inputs is not None else None
            for arr, name in zip(inputs, input_names, strict=True):
                arr[pos] = values.get(name) if values else None
            gold = json.loads(raw_golden) if raw_golden is not None else None
            gold = gold or None  # as the record path: an empty golden mapping is no golden answer
            golden[pos] = gold is not None
            for arr, name in zip(golden_labels, outputs, strict=True):
                arr[pos] = gold.get(name) if gold else None
            pos += 1
    if pos != n or not np.array_equal(found, ids):
        raise LookupError(f"job {job_id}: {n - pos} answered item(s) missing from its items")
    return keys, inputs, golden, golden_labels


#: SQLite page cache (KiB) while answers are read: they are read once, in key order, so a page cache
#: of the store's usual size (``store.SQLITE_CACHE_KIB``, for the simulation's random access) only
#: adds ~30 MB to the peak of a big read
READ_CACHE_KIB = 2048


@contextmanager
def _small_cache(conn: Connection) -> Iterator[None]:
    """On SQLite, a small page cache for this connection while the block runs, the usual one after."""
    if conn.dialect.name != "sqlite":
        yield
        return
    from annotate_local.store import SQLITE_CACHE_KIB

    conn.exec_driver_sql(f"PRAGMA cache_size=-{READ_CACHE_KIB}")  # shrinks the cache it holds now
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={SQLITE_CACHE_KIB}")


def _close_idle_sqlite_connections(store: Store) -> None:
    """Close the pooled connections of a SQLite file store (reopened when next needed).

    Each holds its page cache (up to ``store.SQLITE_CACHE_KIB``) and its prepared statements (the
    pages' ``IN`` lists of 5,000 ids each); at 300k items that was ~30 MB, held through aggregation.
    An in-memory store lives in its one connection, and a server's connections cost this process
    little: both are left alone.
    """
    from sqlalchemy.pool import StaticPool

    engine = store.engine
    if engine.dialect.name == "sqlite" and not isinstance(engine.pool, StaticPool):
        engine.dispose()


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
    strings: dict[Any, Any] = {}  # workers, statuses, reviewers: a few distinct values per job
    values: dict[str, dict[str, Any]] = {}  # raw answer JSON -> decoded, when it holds only scalars
    nat = np.iinfo(np.int64).min
    k = len(outputs)
    last = 0
    _close_idle_sqlite_connections(store)  # the simulation's page caches, before the read's peak
    while True:
        with store.read() as conn, _small_cache(conn):
            rows = conn.execute(
                select(W.id, W.item_id, cast(W.value, Text), W.status, W.worker, W.assignment_id, W.submitted_at,
                       A.duration_s, A.reviewer, A.review_comment)
                .join(t.assignments, A.id == W.assignment_id)
                .where(job_id_unindexed(W.job_id) == job_id, W.kind != "training", W.id > last)
                .order_by(W.id).limit(page)
            ).all()
            if not rows:
                break
            ids, at = np.unique(np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows)),
                                return_inverse=True)
            key_arr, input_arrs, golden_arr, gold_arrs = _page_items(conn, job_id, ids, input_names, outputs)
        last = rows[-1][0]
        page_strings: dict[Any, Any] = {}  # assignment ids: shared within the page, not kept past it
        workers: list[str] = []
        statuses: list[str] = []
        assignments: list[str] = []
        stamps: list[int] = []
        durations: list[float] = []
        reviewers: list[Any] = []
        comments: list[Any] = []
        labels: list[list[Any]] = [[] for _ in outputs]
        for _, _item, raw, status, worker, assignment, submitted, duration, reviewer, comment in rows:
            workers.append(_shared(strings, worker))
            statuses.append(_shared(strings, status))
            assignments.append(_shared(page_strings, assignment))
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
        idx = at.reshape(-1)
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
            break
    _close_idle_sqlite_connections(store)  # the read's statements and pages, before aggregation's peak
