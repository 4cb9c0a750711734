"""answers.csv written page by page, keeping of the answers only codes, counts and one row per item.

``annotate run --simulate`` used to read every answer into one frame (``Job.answers``), aggregate it
and write it: at 3M answers that frame was most of a 1.8 GiB peak. A backend with the columnar
``iter_answer_frames`` gives pages instead; each page is appended to answers.csv as it comes. Of the
counted output field's rows, the counts are tallied per page (statuses, golden answers, the items
seen), and of its usable rows only what ``Job.results`` reads is kept: task, worker and label as
integer codes against indexes grown in order of first appearance (a categorical per column at the
end: ``aggregation._encode`` orders their values as it orders an object column's, so labels,
probabilities and ties are the same), and per task its first usable row's golden flag, golden
answer and inputs. At 3M answers on 1M items that is ~40 MB of codes and the items' own strings.

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


@dataclass
class StreamedAnswers:
    """What was kept of a job's answers once answers.csv is written."""

    field: str  # the counted output field
    rows: int  # rows written to answers.csv
    by_status: dict[str, int]  # the field's rows by status (as ``count_answers`` tallies them)
    golden_answers: int  # usable rows on golden items
    seen_to_label: int  # distinct tasks among the field's rows, not golden
    seen_golden: int  # and golden
    answers: pd.DataFrame  # usable rows: task, worker, label, as categoricals
    items: pd.DataFrame  # per task (index ``task``, order of first usable row): golden, golden_label, inputs

    def counts(self, items_to_label: int | None = None, golden_items: int | None = None) -> Counts:
        """The job's counts (``count_answers`` of the whole frame), with the items its backend knows."""
        return tallied(self.by_status, self.golden_answers, seen_to_label=self.seen_to_label,
                       seen_golden=self.seen_golden, field_name=self.field, items_to_label=items_to_label,
                       golden_items=golden_items)

    def results(self, method: str, *, use_golden: bool = True, inputs: bool = True) -> pd.DataFrame:
        """``Job.results(method, answers=<the whole frame>)`` from the kept codes: the same table
        (without the input columns when ``inputs`` is False)."""
        import pandas as pd

        from annotate_core.aggregation import aggregate

        if self.answers.empty:
            raise ValueError(f"no usable answers for field {self.field!r} yet")
        truth = None
        if use_golden and self.items["golden"].any():
            g = self.items[self.items["golden"]]
            truth = pd.Series(g["golden_label"].to_numpy(), index=g.index.to_numpy())
        agg = aggregate(self.answers, method=method, true_labels=truth)
        kept = [c for c in self.items.columns if c.startswith(INPUT_PREFIX)] if inputs else []
        res = agg.set_index("task").join(self.items[["golden", *kept]], how="left").reset_index()
        res.insert(1, "item_key", res["task"])
        return res


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
        return np.append(mapping, -1).take(page_codes)  # -1 (missing) takes the appended -1

    def values(self) -> np.ndarray:
        """The index's values in code order (the index is dropped: nothing more is coded)."""
        import numpy as np

        out = np.empty(len(self.index), dtype=object)
        out[:] = list(self.index)
        self.index = {}
        return out


class _Kept:
    """The counts and coded usable answers of one field, page by page."""

    def __init__(self, field: str) -> None:
        import numpy as np

        self.field = field
        self.tasks, self.workers, self.labels = _Coder(), _Coder(), _Coder()
        self.by_status: dict[str, int] = {}
        self.golden_answers = 0
        self.seen = np.zeros(0, dtype=np.int8)  # per task code: 1 seen not golden, 2 seen golden, 3 both
        self.task: list[np.ndarray] = []
        self.worker: list[np.ndarray] = []
        self.label: list[np.ndarray] = []
        self.item_codes: list[np.ndarray] = []  # tasks in order of their first usable row
        self.item_columns: dict[str, list[np.ndarray]] = {}
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
        if len(self.tasks.index) > self.seen.size:
            grown = max(len(self.tasks.index), 2 * self.seen.size)
            self.seen = np.concatenate([self.seen, np.zeros(grown - self.seen.size, np.int8)])
            self.has_item = np.concatenate([self.has_item, np.zeros(grown - self.has_item.size, bool)])
        self.seen[codes[~golden]] |= 1
        self.seen[codes[golden]] |= 2
        take = np.flatnonzero(ours)[usable]  # the page's usable rows of the field
        codes = codes[usable]
        self.task.append(codes.astype(np.int32))
        self.worker.append(self.workers.codes(page["worker"].to_numpy()[take]).astype(np.int32))
        self.label.append(self.labels.codes(page["label"].to_numpy()[take]).astype(np.int32))
        firsts, at = np.unique(codes, return_index=True)
        fresh = ~self.has_item[firsts]
        if fresh.any():
            at = np.sort(at[fresh])  # first usable row of each new task, in page order
            rows = take[at]
            self.item_codes.append(codes[at])
            self.has_item[codes[at]] = True
            for c in ("golden", "golden_label", *inputs):
                self.item_columns.setdefault(c, []).append(page[c].to_numpy()[rows])
        return True

    def finish(self, rows: int, inputs: list[str]) -> StreamedAnswers:
        import numpy as np
        import pandas as pd

        n_tasks = len(self.tasks.index)
        seen = self.seen[:n_tasks]
        item_codes = np.concatenate(self.item_codes) if self.item_codes else np.zeros(0, np.int64)
        values = self.tasks.values()  # every task seen: the kept tasks are the first len(item_codes)
        remap = np.full(n_tasks, -1, dtype=np.int64)
        remap[item_codes] = np.arange(item_codes.size)
        keys = pd.Index(values.take(item_codes), dtype=object, name="task")
        del values

        def categorical(codes: list[np.ndarray], categories: np.ndarray, mapped: np.ndarray | None = None) -> Any:
            joined = np.concatenate(codes) if codes else np.zeros(0, np.int32)
            codes.clear()
            if mapped is not None:
                joined = mapped.take(joined)
            return pd.Categorical.from_codes(joined, categories=pd.Index(categories, dtype=object))

        answers = pd.DataFrame({
            "task": categorical(self.task, keys.to_numpy(), remap),
            "worker": categorical(self.worker, self.workers.values()),
            "label": categorical(self.label, self.labels.values()),
        })
        columns = {c: (np.concatenate(parts) if parts else np.zeros(0, bool if c == "golden" else object))
                   for c, parts in ((c, self.item_columns.get(c, [])) for c in ("golden", "golden_label", *inputs))}
        items = pd.DataFrame({c: pd.Series(v, index=keys, dtype=bool if c == "golden" else object, copy=False)
                              for c, v in columns.items()}, index=keys)
        return StreamedAnswers(
            field=self.field, rows=rows, by_status=self.by_status, golden_answers=self.golden_answers,
            seen_to_label=int(np.count_nonzero(seen & 1)), seen_golden=int(np.count_nonzero(seen & 2)),
            answers=answers, items=items)


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
    return kept.finish(rows, inputs)


def _datetime_stamp(column: pd.Series) -> tuple[bool, ...]:
    """What decides how pandas prints a datetime column: dates only, and the sub-second digits needed."""
    import pandas as pd

    ns = pd.DatetimeIndex(column.dropna()).as_unit("ns").asi8
    if not ns.size:
        return ()
    day = 86_400 * 10**9
    return (bool((ns % day == 0).all()), *(bool((ns % step != 0).any()) for step in (10**9, 10**6, 10**3)))
