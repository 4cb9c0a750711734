"""The answers DataFrame: one schema for every backend, in crowd-kit's ``task, worker, label`` convention.

Backends yield plain records; ``answers_frame`` turns them into a frame with fixed columns and
dtypes, so aggregation, comparison and user code never special-case a vendor.
"""

from __future__ import annotations

import gc
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import Enum
from typing import TYPE_CHECKING, Any

from annotate_core.errors import MalformedResponseError

if TYPE_CHECKING:  # pandas loads when a frame is built: backends import AnswerStatus at startup
    import pandas as pd

    from annotate_core.backend import Backend
    from annotate_core.model.spec import JobSpec


class AnswerStatus(str, Enum):
    """Neutral life cycle of one answer."""

    SUBMITTED = "submitted"  # done by the worker, not yet reviewed
    ACCEPTED = "accepted"  # approved (by review, auto-accept, or QA)
    REJECTED = "rejected"  # rejected by review or a rule (Dataloop: discard)
    SKIPPED = "skipped"
    EXPIRED = "expired"
    ACTIVE = "active"  # handed out, not yet submitted


INPUT_PREFIX = "input:"

# column -> dtype; order is the frame's column order (input:<name> columns follow).
ANSWER_COLUMNS: dict[str, str] = {
    "task": "object",  # the item's key: stable across backends, so results can be joined
    "worker": "object",
    "label": "object",  # the answer value; lists for multi-choice
    "field": "object",  # which output field this row answers
    "item_key": "object",
    "assignment": "object",
    "status": "object",
    "submitted_at": "datetime64[ns, UTC]",
    "duration_s": "float64",
    "golden": "bool",
    "golden_label": "object",  # the known answer on golden items, else None
    "reviewer": "object",
    "review_comment": "object",
}

REQUIRED_RECORD_KEYS = ("worker", "label", "field", "item_key")


def answers_frame(records: Iterable[Mapping[str, Any]], input_names: Sequence[str] = ()) -> pd.DataFrame:
    """Build the neutral answers frame from backend records.

    A record has the keys of ``ANSWER_COLUMNS`` (``task`` defaults to ``item_key``) and an optional
    ``inputs`` mapping. A record missing a required key is a backend bug or a malformed vendor
    answer: it raises ``MalformedResponseError`` naming the key, instead of leaving NaN to surface
    later in aggregation.
    """
    import pandas as pd

    columns: dict[str, list[Any]] = {c: [] for c in ANSWER_COLUMNS}
    inputs: dict[str, list[Any]] = {n: [] for n in input_names}
    for n, rec in enumerate(records):
        for key in REQUIRED_RECORD_KEYS:
            if rec.get(key) is None and key != "label":
                raise MalformedResponseError(f"answer record #{n} has no {key!r}")
        for c in ANSWER_COLUMNS:
            if c == "task":
                columns[c].append(rec.get("task") or rec["item_key"])
            elif c == "golden":
                columns[c].append(bool(rec.get("golden", False)))
            elif c == "status":
                status = rec.get("status") or AnswerStatus.SUBMITTED
                columns[c].append(status.value if isinstance(status, AnswerStatus) else str(status))
            else:
                columns[c].append(rec.get(c))
        rec_inputs = rec.get("inputs") or {}
        for name in input_names:
            inputs[name].append(rec_inputs.get(name))
    frame = pd.DataFrame(columns)
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True).astype("datetime64[ns, UTC]")
    frame["duration_s"] = pd.to_numeric(frame["duration_s"], errors="coerce").astype("float64")
    frame["golden"] = frame["golden"].astype("bool")
    for c in ANSWER_COLUMNS:
        if ANSWER_COLUMNS[c] == "object":
            frame[c] = frame[c].astype("object")
    for name in input_names:
        frame[INPUT_PREFIX + name] = pd.Series(inputs[name], dtype="object")
    return frame


class AnswerColumns:
    """One page of answers gathered column by column, for a backend's ``iter_answer_frames``.

    A vendor page (Toloka's assignments, Dataloop's items and annotations) is turned into columns as
    it is read, one ``add`` per answer, and ``frame()`` gives the page's frame with ``answers_frame``'s
    columns, dtypes and values; a million answers never exist as a million dicts. Strings repeated
    across answers (workers, item keys, statuses, labels, input URLs) are decoded afresh from every
    JSON object that holds them; ``shared`` keeps one object per distinct string, so a repeated value
    costs a pointer instead of a copy. Pass the same dict to every page of a job: an item's key and
    inputs come back in other pages (one per worker who answered it).
    """

    __slots__ = ("_cols", "_inputs", "_names", "_share_assignments", "_share_items", "_shared", "rows")

    def __init__(self, input_names: Sequence[str], shared: dict[Any, Any] | None = None, *,
                 share_items: bool = True, share_assignments: bool = False) -> None:
        """``share_items``: item keys and input values come back once per answer from different JSON
        objects (Toloka: one per assignment) and are worth sharing; where every answer of an item
        comes from the one item object (Dataloop) they already are, and the dict would only cost.
        ``share_assignments``: assignment ids repeat across many objects (Dataloop's annotations)."""
        self._names = tuple(input_names)
        self._cols: dict[str, list[Any]] = {c: [] for c in ANSWER_COLUMNS}
        self._inputs: list[list[Any]] = [[] for _ in self._names]
        self._shared: dict[Any, Any] = {} if shared is None else shared
        self._share_items = share_items
        self._share_assignments = share_assignments
        self.rows = 0

    @property
    def input_names(self) -> tuple[str, ...]:
        return self._names

    def share(self, value: Any) -> Any:
        """The one stored copy of a string (other values as given)."""
        return self._shared.setdefault(value, value) if type(value) is str else value

    def add(self, *, item_key: str | None, worker: str | None, label: Any, field: str | None,
            assignment: str | None, status: AnswerStatus | str | None, submitted_at: Any, duration_s: Any,
            golden: Any, golden_label: Any, reviewer: str | None, review_comment: str | None,
            inputs: Mapping[str, Any] | None, task: str | None = None) -> None:
        """One answer, with the keys of an ``answers_frame`` record (same checks, same defaults)."""
        if worker is None or field is None or item_key is None:
            missing = "worker" if worker is None else "field" if field is None else "item_key"
            raise MalformedResponseError(f"answer record #{self.rows} has no {missing!r}")
        try:  # one call per answer, millions of times on a big job: the body is inlined, not split up
            shared = self._shared.setdefault  # workers, keys, fields, statuses, reviewers: str or None
            cols = self._cols
            items = self._share_items
            key = shared(item_key, item_key) if items else item_key
            cols["task"].append((shared(task, task) if items else task) if task else key)
            cols["worker"].append(shared(worker, worker))
            cols["label"].append(shared(label, label) if type(label) is str else label)
            cols["field"].append(shared(field, field))
            cols["item_key"].append(key)
            cols["assignment"].append(shared(assignment, assignment) if self._share_assignments else assignment)
            if not status:
                status = AnswerStatus.SUBMITTED
            status = status.value if isinstance(status, AnswerStatus) else str(status)
            cols["status"].append(shared(status, status))
            cols["submitted_at"].append(submitted_at)
            cols["duration_s"].append(duration_s)
            cols["golden"].append(bool(golden))
            gold = golden_label
            cols["golden_label"].append(shared(gold, gold) if type(gold) is str else gold)
            cols["reviewer"].append(reviewer if reviewer is None else shared(reviewer, reviewer))
            comment = review_comment
            cols["review_comment"].append(comment if comment is None else shared(comment, comment))
            if self._names:
                for n, name in enumerate(self._names):
                    value = inputs.get(name) if inputs else None
                    self._inputs[n].append(shared(value, value) if items and type(value) is str else value)
        except TypeError:  # a dict or list where the vendor should have sent an id: not hashable
            raise MalformedResponseError(
                f"answer record #{self.rows}: worker, item key, field, status and reviewer must be strings, got "
                f"{[type(v).__name__ for v in (worker, item_key, field, status, reviewer)]}") from None
        self.rows += 1

    def frame(self) -> pd.DataFrame:
        """The page as a frame shaped like ``answers_frame``'s (``job_answers`` settles the object
        columns over the whole job, as ``answers_frame`` infers them over the whole list)."""
        frame = columns_frame(self._cols, dict(zip(self._names, self._inputs, strict=True)), self.rows)
        for c in self._cols:
            self._cols[c] = []
        self._inputs = [[] for _ in self._names]
        self.rows = 0
        return frame


def columns_frame(columns: Mapping[str, Any], inputs: Mapping[str, Any], n: int) -> pd.DataFrame:
    """A page's frame from its columns of ``n`` values each (``ANSWER_COLUMNS``' names; inputs by name).

    A column is a list of the values ``answers_frame`` reads from records, or already an array: an
    object array (its very objects), a ``datetime64[ns, UTC]`` array or Series for ``submitted_at``,
    a float array for ``duration_s``, a bool array for ``golden``. A backend that parses a page's
    timestamps at once (Dataloop) or has a column that is the same on every row passes arrays;
    ``AnswerColumns.frame`` passes lists. Lists of only None skip pandas' inference (NaT, NaN).
    """
    import numpy as np
    import pandas as pd

    data: dict[str, Any] = {}
    for c, dtype in ANSWER_COLUMNS.items():
        values = columns[c]
        if c == "submitted_at":
            if isinstance(values, pd.Series) and values.dtype == dtype:
                data[c] = values
                continue
            if isinstance(values, np.ndarray):
                source: Any = values  # datetime64 without a zone: UTC
            elif all(v is None for v in values):
                source = np.full(n, np.datetime64("NaT", "ns"))
            else:
                source = pd.Series(values, dtype="object")
            data[c] = pd.Series(pd.to_datetime(source, utc=True), copy=False).astype(dtype)
        elif c == "duration_s":
            if isinstance(values, np.ndarray) and values.dtype == np.float64:
                data[c] = values
            elif all(v is None for v in values):
                data[c] = np.full(n, np.nan)
            else:
                data[c] = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").astype(dtype)
        elif c == "golden":
            data[c] = np.asarray(values, dtype=bool) if n else np.empty(0, dtype=bool)
        else:  # an object array of the very objects (np.array would unpack list labels)
            data[c] = pd.Series(_objects(values, n), dtype="object", copy=False)
    for name, values in inputs.items():
        data[INPUT_PREFIX + name] = pd.Series(_objects(values, n), dtype="object", copy=False)
    return pd.DataFrame(data, copy=False)


def _objects(values: Any, n: int) -> Any:
    """An object array of the very objects in ``values`` (an object array as given)."""
    import numpy as np

    if isinstance(values, np.ndarray) and values.dtype == object:
        return values
    return np.fromiter(values, dtype=object, count=n)


def empty_answers(input_names: Sequence[str] = ()) -> pd.DataFrame:
    return answers_frame([], input_names)


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a job's answers are read.

    Decoding a vendor's pages makes millions of dicts and lists, and the collector runs a full pass
    over every live container each time their number grows by a quarter: with the answers already
    read held in memory, those passes took most of the time of a big read (Toloka: 2.0 s instead of
    0.75 s per 100,000 answers). Pages hold no reference cycles, so reference counting frees all of
    them; the collector is switched back on (if it was on) when the read ends, however it ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def job_answers(backend: Backend, job_id: str, spec: JobSpec | None) -> pd.DataFrame:
    """The job's answers frame, through the backend's columnar path when it has one.

    ``Backend.iter_answers`` (records) is the contract every backend keeps. A backend may also offer
    ``iter_answer_frames(job_id, spec)``, yielding pages already shaped like ``answers_frame``'s
    output (same columns, dtypes and order); at millions of answers that skips a dict per answer.
    """
    names = [f.name for f in spec.inputs] if spec else []
    frames_of = getattr(backend, "iter_answer_frames", None)
    if frames_of is None:
        with cycle_collector_paused():
            return answers_frame(backend.iter_answers(job_id, spec), names)
    with cycle_collector_paused():
        frame = join_pages(frames_of(job_id, spec))
    return empty_answers(names) if frame is None else settle_like_records(frame)


def join_pages(pages: Iterable[pd.DataFrame]) -> pd.DataFrame | None:
    """A job's pages as one frame (None when there is no page), keeping about one copy of the answers.

    Joined from a list of every page (``pd.concat`` column by column), a big read ended with two
    copies: a page's arrays are small blocks that the C allocator keeps for reuse once freed, so
    dropping them as each column was joined gave nothing back, while every joined column was fresh
    memory (3M answers: ~300 MiB twice). Here each page is appended to one growing list (object
    columns) or byte buffer (datetime, float and bool columns) per column as it arrives, and dropped,
    so the next page reuses its blocks; each column becomes its array at the end, one at a time. Pages
    whose columns or dtypes differ from the first's, or of a dtype not in ``ANSWER_COLUMNS``, are
    joined by ``pd.concat`` instead.
    """
    import numpy as np
    import pandas as pd

    it = iter(pages)
    first = next(it, None)
    if first is None:
        return None
    names, dtypes = list(first.columns), list(first.dtypes)
    typed = {np.dtype(object): None, np.dtype("float64"): "float64", np.dtype(bool): "bool",
             pd.DatetimeTZDtype("ns", "UTC"): "datetime64[ns]"}
    if len(set(names)) != len(names) or any(d not in typed for d in dtypes):
        return _concat([first, *it])
    kinds = [typed[d] for d in dtypes]
    parts: list[Any] = [[] if kind is None else bytearray() for kind in kinds]
    rows = 0
    page: pd.DataFrame | None
    page, first = first, None  # no name keeps the first page past its turn
    while page is not None:
        if list(page.columns) != names or list(page.dtypes) != dtypes:
            return _concat([_built(names, kinds, parts, rows), page, *it])
        for i, (name, kind) in enumerate(zip(names, kinds, strict=True)):
            column = page[name]
            if kind is None:
                parts[i] += column.to_numpy().tolist()
            else:  # datetimes as their UTC instants
                parts[i] += (column.dt.tz_convert(None) if kind == "datetime64[ns]" else column).to_numpy().tobytes()
        rows += len(page)
        page = None  # dropped before the next is made, so it reuses this one's memory
        page = next(it, None)
    return _built(names, kinds, parts, rows)


def _built(names: list[str], kinds: list[str | None], parts: list[Any], rows: int) -> pd.DataFrame:
    """``join_pages``' columns as a frame, each list or buffer let go as soon as its array is made."""
    import numpy as np
    import pandas as pd

    data: dict[str, Any] = {}
    for i, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        if kind is None:
            data[name] = pd.Series(np.fromiter(parts[i], dtype=object, count=rows), dtype="object", copy=False)
        elif kind == "datetime64[ns]":
            data[name] = pd.Series(np.frombuffer(parts[i], dtype=kind), copy=False).dt.tz_localize("UTC")
        else:
            data[name] = pd.Series(np.frombuffer(parts[i], dtype=kind), copy=False)
        parts[i] = None
    return pd.DataFrame(data, copy=False)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Pages that ``join_pages`` does not take, joined column by column by pandas."""
    import pandas as pd

    columns: dict[str, pd.Series] = {}
    for c in list(frames[0].columns):
        columns[c] = pd.concat([f[c] for f in frames], ignore_index=True)
    return pd.DataFrame(columns, copy=False)


def settle_like_records(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a columnar page's object columns the values ``answers_frame`` gives them.

    ``answers_frame`` lets pandas infer each answer column from its list before casting it to
    object, and that inference changes cells: under pandas 3 a column of strings and None becomes
    ``str`` with NaN for None, one of ints and None becomes float. Frame paths keep Python objects
    with None, and this replays the same inference over the whole column (not per page, where it
    could decide differently), so both paths give equal frames. A column of only None (no golden
    answers, no reviewer) comes out of that inference as it went in, so it is left alone: replaying
    it cost a list and two arrays of the column (~70 MiB at 3M answers) for nothing.
    """
    import pandas as pd

    for c, dtype in ANSWER_COLUMNS.items():
        if dtype == "object" and frame[c].dtype == "object" and frame[c].isna().any():
            if _only_none(frame[c].to_numpy()):
                continue
            frame[c] = pd.Series(frame[c].tolist(), index=frame.index).astype("object")
    return frame


def _only_none(values: Any) -> bool:
    """Every cell is None (NaN, NaT or pd.NA are not: pandas' inference turns None beside them into NaN)."""
    try:
        return operator.countOf(values, None) == len(values)
    except (TypeError, ValueError):  # a cell that will not compare with None (pd.NA, an array): not only None
        return False
