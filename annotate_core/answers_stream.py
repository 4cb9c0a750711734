"""answers.csv written page by page, keeping of the answers only codes, counts and one row per item.

``annotate run --simulate`` used to read every answer into one frame (``Job.answers``), aggregate it
and write it: at 3M answers that frame was most of a 1.8 GiB peak. A backend with the columnar
``iter_answer_frames`` gives pages instead; each page is appended to answers.csv as it comes. Of the
counted output field's rows the counts are tallied per page (statuses, golden answers, the items
seen), and of its usable rows only what ``Job.results`` reads is kept, compactly:

- the task of each answer as an integer code; the distinct task keys once, as numpy UTF-8 strings
  (``StringDType``, numpy >= 2; object arrays before) held sorted, so a page's keys are found by
  binary search, not in a dict of a million Python strings (~0.4 KB an item once fragmentation is
  counted). The code aggregation sees is a key's rank in that sorted order: tasks come out in the
  order ``pd.factorize(sort=True)`` gives their keys;
- worker and label as codes against small indexes grown in order of appearance (categoricals at
  the end: ``aggregation._encode`` orders their values as it orders an object column's, so labels,
  probabilities and ties are the same);
- per item, its first usable row's golden flag and golden answer, as compact strings too, and its
  inputs zlib-packed page by page (``_Packed``: unpacked only while results.csv is written).

results.csv is then written a chunk of items at a time (``write_results``): keys and inputs become
Python strings only for the rows being written, and the accuracy line looks truth keys up in the
sorted keys. At 3M answers on 1M items that is ~40 MB of codes, ~30 MB of keys and a few MB of inputs.

Same files, same figures: a page's object columns are settled like the whole frame's
(``settle_like_records``), which gives the same cells only when every value is a string or missing,
and a datetime column prints alike page by page only when every page needs the same precision.
When a page breaks either (numeric or list labels, say), or has an answer without a task,
``stream_answers`` gives up and returns None: the caller reads the whole frame as before.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotate_core.answers import ANSWER_COLUMNS, INPUT_PREFIX, cycle_collector_paused, settle_like_records
from annotate_core.counts import USABLE_STATUSES, Counts, tallied

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from annotate_core.job import Job

_SAFE = frozenset({"string", "empty"})  # inferred kinds whose page-by-page settling equals the whole column's
#: keys the small sorted run of ``_Keys`` holds at least before it is merged into the big one
SMALL_RUN = 65_536
#: items per chunk of results.csv: the rows whose keys and inputs exist as Python strings at once
RESULTS_CHUNK = 100_000


def _strings() -> Any:
    """The dtype kept strings are held in: UTF-8 in one buffer (numpy >= 2), else Python objects."""
    try:
        from numpy.dtypes import StringDType
    except ImportError:  # numpy 1.x: the same code on object arrays, only bigger
        return object
    return StringDType(na_object=None)


def _compact(values: Any) -> np.ndarray:
    """Strings (or None) as a compact string array."""
    import numpy as np

    return np.asarray(values, dtype=object).astype(_strings())


def _find(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Each of ``keys``' position in ``sorted_keys``, -1 where it is not there."""
    import numpy as np

    pos = np.searchsorted(sorted_keys, keys)
    hit = pos < sorted_keys.size
    hit[hit] = sorted_keys[pos[hit]] == keys[hit]
    return np.where(hit, pos, -1)


class _Keys:
    """Distinct task keys: codes in order of first appearance, the keys held sorted as compact strings.

    Two sorted runs: a page's new keys go into the small one, which is merged into the big one
    when it reaches a quarter of it. Inserting into one big run copied every key for every page:
    at a million keys those copies (16 MB and more each, freed a page later) left the allocator
    holding far more than the keys.
    """

    def __init__(self) -> None:
        import numpy as np

        self.runs = [np.empty(0, dtype=_strings()), np.empty(0, dtype=_strings())]  # big, small
        self.run_codes = [np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)]
        self.n = 0

    def codes(self, values: np.ndarray) -> np.ndarray:
        """One code per value (strings, none missing)."""
        import numpy as np
        import pandas as pd

        page_codes, uniques = pd.factorize(values)
        u = _compact(uniques)
        mapping = np.full(u.size, -1, dtype=np.int64)
        for keys, codes in zip(self.runs, self.run_codes, strict=True):
            todo = np.flatnonzero(mapping < 0)
            pos = _find(keys, u[todo])
            hit = pos >= 0
            mapping[todo[hit]] = codes[pos[hit]]
        new = np.flatnonzero(mapping < 0)  # in order of first appearance on the page
        mapping[new] = np.arange(self.n, self.n + new.size)
        self.n += new.size
        if new.size:
            order = new[np.argsort(u[new], kind="stable")]
            at = np.searchsorted(self.runs[1], u[order])
            self.runs[1] = np.insert(self.runs[1], at, u[order])
            self.run_codes[1] = np.insert(self.run_codes[1], at, mapping[order])
            if self.runs[1].size > max(SMALL_RUN, self.runs[0].size // 4):
                self._merge()
        return mapping.take(page_codes)

    def _merge(self) -> None:
        import numpy as np

        keys = np.concatenate(self.runs)
        order = np.argsort(keys, kind="stable")
        codes = np.concatenate(self.run_codes)
        self.runs = [keys[order], np.empty(0, dtype=keys.dtype)]
        del keys
        self.run_codes = [codes[order], np.empty(0, dtype=np.int64)]

    @property
    def sorted(self) -> np.ndarray:
        """Every key, sorted (one run)."""
        if self.runs[1].size:
            self._merge()
        return self.runs[0]

    def ranks(self) -> np.ndarray:
        """Per code, its key's position in sorted order."""
        import numpy as np

        self.sorted  # noqa: B018 - one run
        rank = np.empty(self.n, dtype=np.int64)
        rank[self.run_codes[0]] = np.arange(self.n)
        return rank


class _Packed:
    """One page's values of an input column, zlib-compressed until results.csv is written.

    A million items' inputs (image URLs, say) were ~70 MB as compact strings, held through the
    aggregation for the file written after it; values of one column share most of their bytes
    and pack to a tenth or less. Values holding a NUL byte (which checked items never do) stay as
    they are.
    """

    def __init__(self, values: np.ndarray) -> None:
        import zlib

        self.size = int(values.size)
        items = values.tolist()  # str, or None where missing
        self.plain: np.ndarray | None = None
        self.data = b""
        if any(v is not None and "\0" in v for v in items):
            self.plain = values
            return
        text = "\0".join("\1" if v is None else "\2" + v for v in items)
        self.data = zlib.compress(text.encode("utf-8", "surrogatepass"), 1)

    def values(self) -> np.ndarray:
        import zlib

        if self.plain is not None:
            return self.plain
        if not self.size:
            return _compact([])
        text = zlib.decompress(self.data).decode("utf-8", "surrogatepass")
        return _compact([None if v == "\1" else v[1:] for v in text.split("\0")])


class _Chunks:
    """One column kept as the pages gave it (each page packed): joining them would hold the column
    twice for a moment (at a million items' inputs, ~70 MB more at the peak)."""

    def __init__(self, parts: list[_Packed]) -> None:
        import numpy as np

        self.parts = parts
        self.starts = np.cumsum([0, *(p.size for p in parts)])

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The values at ``rows`` (positions in the joined column)."""
        import numpy as np

        out = np.empty(rows.size, dtype=_strings())
        part = np.searchsorted(self.starts, rows, side="right") - 1
        for p in np.unique(part):
            at = np.flatnonzero(part == p)
            out[at] = self.parts[p].values()[rows[at] - self.starts[p]]
        return out


def release_freed_memory() -> None:
    """Hand memory the process has freed back to the system (glibc's ``malloc_trim``; elsewhere nothing).

    Reading millions of answers allocates and frees far more than it keeps; glibc keeps the freed
    pages (~190 MB after 3M answers), and aggregation's arrays then come on top of them. Trimming
    between the phases makes the peak the larger phase's, not their sum.
    """
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return
    trim.argtypes = [ctypes.c_size_t]
    trim(0)


class _Positions:
    """``get_indexer`` of a results table's task keys, for ``cli.jobs.judge``: rows found by rank."""

    def __init__(self, keys: np.ndarray, ranks: np.ndarray) -> None:
        import numpy as np

        self.keys = keys
        self.row_of_rank = np.full(keys.size, -1, dtype=np.int64)
        self.row_of_rank[ranks] = np.arange(ranks.size)

    def get_indexer(self, keys: Any) -> np.ndarray:
        import numpy as np

        found = _find(self.keys, _compact(keys))
        return np.where(found >= 0, self.row_of_rank.take(np.maximum(found, 0)), -1)


@dataclass
class StreamedAnswers:
    """What was kept of a job's answers once answers.csv is written.

    Tasks are ranks: ``keys[r]`` is the key of rank ``r`` (sorted); ``item_of_rank[r]`` its row in
    the per-item arrays (``golden``, ``golden_label``, ``inputs``), -1 for a task without usable answers.
    """

    field: str  # the counted output field
    rows: int  # rows written to answers.csv
    by_status: dict[str, int]  # the field's rows by status (as ``count_answers`` tallies them)
    golden_answers: int  # usable rows on golden items
    seen_to_label: int  # distinct tasks among the field's rows, not golden
    seen_golden: int  # and golden
    answers: pd.DataFrame  # usable rows: task (rank), worker and label (categoricals)
    keys: np.ndarray  # every task key seen, sorted (compact strings)
    item_of_rank: np.ndarray
    golden: np.ndarray  # per item (order of first usable row)
    golden_label: np.ndarray  # per golden item, in the same order
    inputs: dict[str, _Chunks]  # column (``input:<name>``) -> per item

    def counts(self, items_to_label: int | None = None, golden_items: int | None = None) -> Counts:
        """The job's counts (``count_answers`` of the whole frame), with the items its backend knows."""
        return tallied(self.by_status, self.golden_answers, seen_to_label=self.seen_to_label,
                       seen_golden=self.seen_golden, field_name=self.field, items_to_label=items_to_label,
                       golden_items=golden_items)

    def aggregate(self, method: str, *, use_golden: bool = True) -> pd.DataFrame:
        """``aggregate()`` of the usable answers, golden answers passed as ``Job.results`` passes them;
        its ``task`` column holds ranks (see the class)."""
        import numpy as np
        import pandas as pd

        from annotate_core.aggregation import aggregate

        if self.answers.empty:
            raise ValueError(f"no usable answers for field {self.field!r} yet")
        truth = None
        if use_golden and self.golden.any():
            ranks = np.flatnonzero(self.item_of_rank >= 0)
            rows = self.item_of_rank[ranks]
            golden = self.golden[rows]
            order = np.argsort(rows[golden], kind="stable")  # Job.results: golden tasks in order of first row
            at = np.cumsum(self.golden) - 1  # an item's place among the golden items: golden_label's index
            truth = pd.Series(self.golden_label[at[rows[golden][order]]].astype(object), index=ranks[golden][order])
        return aggregate(self.answers, method=method, true_labels=truth)

    def table(self, agg: pd.DataFrame, *, inputs: bool = True) -> pd.DataFrame:
        """``Job.results``' table from ``aggregate``'s (keys and inputs as Python strings)."""
        import pandas as pd

        ranks = agg["task"].to_numpy()
        keys = self.keys[ranks].astype(object)
        rows = self.item_of_rank[ranks]
        res = pd.DataFrame({"task": keys, "item_key": keys, "label": agg["label"].to_numpy(),
                            "confidence": agg["confidence"].to_numpy(), "n_answers": agg["n_answers"].to_numpy(),
                            "golden": self.golden[rows]})
        for column, values in (self.inputs.items() if inputs else ()):
            res[column] = pd.Series(values.take(rows).astype(object), dtype=object)
        return res

    def results(self, method: str, *, use_golden: bool = True, inputs: bool = True) -> pd.DataFrame:
        """``Job.results(method, answers=<the whole frame>)`` from the kept codes: the same table
        (without the input columns when ``inputs`` is False)."""
        return self.table(self.aggregate(method, use_golden=use_golden), inputs=inputs)

    def positions(self, agg: pd.DataFrame) -> tuple[_Positions, list[Any]]:
        """What ``cli.jobs.judge`` compares with the truth: the non-golden rows' tasks and labels."""

        ranks = agg["task"].to_numpy()
        judged = ~self.golden[self.item_of_rank[ranks]]
        return _Positions(self.keys, ranks[judged]), agg["label"].to_numpy()[judged].tolist()

    def write_results(self, agg: pd.DataFrame, method: str, path: Path, shape: Any) -> None:
        """results.csv, ``RESULTS_CHUNK`` items at a time: ``shape(table, method)`` makes each chunk
        the rows ``results_table`` would give (same columns, same printing)."""
        with open(path, "w", newline="", encoding="utf-8") as out:
            for start in range(0, max(len(agg), 1), RESULTS_CHUNK):
                part = agg.iloc[start:start + RESULTS_CHUNK]
                shape(self.table(part), method).to_csv(out, header=start == 0, index=False)


class _Coder:
    """Integer codes for a column's values against an index grown in order of first appearance."""

    def __init__(self) -> None:
        self.index: dict[Hashable, int] = {}

    def codes(self, values: np.ndarray) -> np.ndarray:
        """One code per value (-1 for a missing one)."""
        import numpy as np
        import pandas as pd

        page_codes, uniques = pd.factorize(values)
        index = self.index
        mapping = np.fromiter((index.setdefault(u, len(index)) for u in uniques), dtype=np.int64,
                              count=len(uniques))
        small = np.int16 if len(index) < 2**15 else np.int32  # joined pages take the widest
        return np.append(mapping, -1).astype(small).take(page_codes)  # -1 (missing) takes the appended -1

    def categorical(self, codes: list[np.ndarray]) -> pd.Categorical:
        """The codes kept page by page as one categorical over the index's values."""
        import numpy as np
        import pandas as pd

        joined = np.concatenate(codes) if codes else np.zeros(0, np.int32)
        codes.clear()
        categories = np.empty(len(self.index), dtype=object)
        categories[:] = list(self.index)
        return pd.Categorical.from_codes(joined, categories=pd.Index(categories, dtype=object))


class _Kept:
    """The counts and coded usable answers of one field, page by page."""

    def __init__(self, field: str) -> None:
        import numpy as np

        self.field = field
        self.tasks = _Keys()
        self.workers, self.labels = _Coder(), _Coder()
        self.by_status: dict[str, int] = {}
        self.golden_answers = 0
        self.seen = np.zeros(0, dtype=np.int8)  # per task code: 1 seen not golden, 2 seen golden, 3 both
        self.task: list[np.ndarray] = []
        self.worker: list[np.ndarray] = []
        self.label: list[np.ndarray] = []
        self.item_codes: list[np.ndarray] = []  # tasks in order of their first usable row
        self.item_columns: dict[str, list[np.ndarray]] = {}
        self.packed: dict[str, list[_Packed]] = {}  # input columns, per item, page by page
        self.has_item = np.zeros(0, dtype=bool)

    def add(self, page: pd.DataFrame, inputs: list[str]) -> bool:
        """Tally and keep one page; False when it has an answer without a task (not countable alike)."""
        import numpy as np
        import pandas as pd

        ours = (page["field"] == self.field).to_numpy()
        tasks = page["task"].to_numpy()[ours]
        if pd.isna(tasks).any():
            return False
        status = page["status"][ours].astype(str)
        for k, v in status.value_counts().items():
            self.by_status[str(k)] = self.by_status.get(str(k), 0) + int(v)
        usable = status.isin(USABLE_STATUSES).to_numpy()
        golden = page["golden"].to_numpy()[ours].astype(bool)
        self.golden_answers += int(np.count_nonzero(golden & usable))
        codes = self.tasks.codes(tasks)
        if self.tasks.n > self.seen.size:
            grown = max(self.tasks.n, 2 * self.seen.size)
            self.seen = np.concatenate([self.seen, np.zeros(grown - self.seen.size, np.int8)])
            self.has_item = np.concatenate([self.has_item, np.zeros(grown - self.has_item.size, bool)])
        self.seen[codes[~golden]] |= 1
        self.seen[codes[golden]] |= 2
        take = np.flatnonzero(ours)[usable]  # the page's usable rows of the field
        codes = codes[usable]
        self.task.append(codes.astype(np.int32))
        self.worker.append(self.workers.codes(page["worker"].to_numpy()[take]))
        self.label.append(self.labels.codes(page["label"].to_numpy()[take]))
        firsts, at = np.unique(codes, return_index=True)
        fresh = ~self.has_item[firsts]
        if fresh.any():
            at = np.sort(at[fresh])  # first usable row of each new task, in page order
            rows = take[at]
            self.item_codes.append(codes[at])
            self.has_item[codes[at]] = True
            golden = page["golden"].to_numpy()[rows].astype(bool)
            self.item_columns.setdefault("golden", []).append(golden)
            labels = _compact(page["golden_label"].to_numpy()[rows[golden]])  # golden items only
            self.item_columns.setdefault("golden_label", []).append(labels)
            for c in inputs:
                self.packed.setdefault(c, []).append(_Packed(_compact(page[c].to_numpy()[rows])))
        return True

    def finish(self, rows: int, inputs: list[str]) -> StreamedAnswers:
        import numpy as np
        import pandas as pd

        n = self.tasks.n
        seen = self.seen[:n]
        rank = self.tasks.ranks()
        item_codes = np.concatenate(self.item_codes) if self.item_codes else np.zeros(0, np.int64)
        item_of_rank = np.full(n, -1, dtype=np.int64)
        item_of_rank[rank[item_codes]] = np.arange(item_codes.size)
        narrow = np.int32 if n < 2**31 else np.int64  # aggregation's own code dtype: encoded without a copy
        task = rank.astype(narrow).take(np.concatenate(self.task)) if self.task else np.zeros(0, narrow)
        self.task.clear()
        answers = pd.DataFrame({"task": task, "worker": self.workers.categorical(self.worker),
                                "label": self.labels.categorical(self.label)})

        def joined(c: str) -> np.ndarray:
            parts = self.item_columns.pop(c, [])
            return np.concatenate(parts) if parts else np.zeros(0, dtype=bool if c == "golden" else _strings())

        return StreamedAnswers(
            field=self.field, rows=rows, by_status=self.by_status, golden_answers=self.golden_answers,
            seen_to_label=int(np.count_nonzero(seen & 1)), seen_golden=int(np.count_nonzero(seen & 2)),
            answers=answers, keys=self.tasks.sorted, item_of_rank=item_of_rank, golden=joined("golden"),
            golden_label=joined("golden_label"), inputs={c: _Chunks(self.packed.pop(c, [])) for c in inputs})


def stream_answers(job: Job, path: Path, field: str) -> StreamedAnswers | None:
    """Write ``job``'s answers to ``path`` page by page; None when this backend or these answers need
    the whole frame (no ``iter_answer_frames``, or values whose printing depends on the whole column)."""
    import pandas as pd

    frames_of = getattr(job.backend, "iter_answer_frames", None)
    if frames_of is None:
        return None
    kept = _Kept(field)
    inputs: list[str] = []
    stamp: tuple[Any, ...] | None = None
    rows = 0
    with cycle_collector_paused(), open(path, "w", newline="", encoding="utf-8") as out:
        for page in frames_of(job.id, job.spec):
            inputs = [c for c in page.columns if c.startswith(INPUT_PREFIX)]
            if any(pd.api.types.infer_dtype(page[c], skipna=True) not in _SAFE
                   for c in (*inputs, *(c for c, d in ANSWER_COLUMNS.items() if d == "object"))):
                return None
            page_stamp = tuple(_datetime_stamp(page[c]) for c, d in ANSWER_COLUMNS.items() if d.startswith("datetime"))
            if stamp is not None and page_stamp != stamp and all(page_stamp) and all(stamp):
                return None
            stamp = stamp if stamp is not None and all(stamp) else page_stamp
            if not kept.add(page, inputs):
                return None
            settle_like_records(page).to_csv(out, header=rows == 0, index=False)
            rows += len(page)
            del page
    if not rows:
        return None  # the whole path writes an empty frame's header
    release_freed_memory()  # the pages' garbage, before the kept columns are joined
    streamed = kept.finish(rows, inputs)
    del kept
    release_freed_memory()
    return streamed


def _datetime_stamp(column: pd.Series) -> tuple[bool, ...]:
    """What decides how pandas prints a datetime column: dates only, and the sub-second digits needed."""
    import pandas as pd

    ns = pd.DatetimeIndex(column.dropna()).as_unit("ns").asi8
    if not ns.size:
        return ()
    day = 86_400 * 10**9
    return (bool((ns % day == 0).all()), *(bool((ns % step != 0).any()) for step in (10**9, 10**6, 10**3)))
