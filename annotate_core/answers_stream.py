"""answers.csv written page by page, keeping only the columns results and counts need.

``annotate run --simulate`` used to read every answer into one frame (``Job.answers``), aggregate it
and write it: at 3M answers that frame was most of a 1.8 GiB peak. A backend with the columnar
``iter_answer_frames`` gives pages instead; each page is appended to answers.csv as it comes, and of
it only the rows of the counted output field are kept, in the few columns ``count_answers`` and
``Job.results`` read. Object cells there point at the strings the backend shares between pages
(keys, inputs, workers, labels), so a kept row costs pointers, not strings.

Same files, same figures: a page's object columns are settled like the whole frame's
(``settle_like_records``), which gives the same cells only when every value is a string or missing,
and a datetime column prints alike page by page only when every page needs the same precision.
When a page breaks either (numeric or list labels, say), ``stream_answers`` gives up and returns
None: the caller reads the whole frame as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotate_core.answers import ANSWER_COLUMNS, INPUT_PREFIX, cycle_collector_paused, settle_like_records
from annotate_core.counts import USABLE_STATUSES

if TYPE_CHECKING:
    import pandas as pd

    from annotate_core.job import Job

#: columns count_answers reads, and those Job.results reads besides the inputs
COUNTED = ("task", "field", "status", "golden")
RESULTS = ("task", "worker", "label", "field", "status", "golden", "golden_label")
_SAFE = frozenset({"string", "empty"})  # inferred kinds whose page-by-page settling equals the whole column's


@dataclass
class StreamedAnswers:
    """What was kept of a job's answers once answers.csv is written."""

    counted: pd.DataFrame  # the counted field's rows: task, field, status, golden
    usable: pd.DataFrame  # its usable rows (submitted, accepted): what Job.results aggregates
    rows: int  # rows written to answers.csv


def stream_answers(job: Job, path: Path, field: str) -> StreamedAnswers | None:
    """Write ``job``'s answers to ``path`` page by page; None when this backend or these answers need
    the whole frame (no ``iter_answer_frames``, or values whose printing depends on the whole column)."""
    import pandas as pd

    frames_of = getattr(job.backend, "iter_answer_frames", None)
    if frames_of is None:
        return None
    counted: list[pd.DataFrame] = []
    usable: list[pd.DataFrame] = []
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
            ours = page["field"] == field
            counted.append(page.loc[ours, list(COUNTED)])
            usable.append(page.loc[ours & page["status"].isin(USABLE_STATUSES), [*RESULTS, *inputs]])
            settle_like_records(page).to_csv(out, header=rows == 0, index=False)
            rows += len(page)
    if not rows:
        return None  # the whole path writes an empty frame's header
    return StreamedAnswers(_joined(counted), _joined(usable), rows)


def _joined(pages: list[pd.DataFrame]) -> pd.DataFrame:
    """The kept pages as one frame, settled like the whole frame's columns (strings or missing only)."""
    import pandas as pd

    frame = pd.concat(pages, ignore_index=True)
    pages.clear()
    for c in frame.columns:
        if frame[c].dtype == "object" and frame[c].isna().any():
            frame[c] = pd.Series(frame[c].tolist(), index=frame.index).astype("object")
    return frame


def _datetime_stamp(column: pd.Series) -> tuple[bool, ...]:
    """What decides how pandas prints a datetime column: dates only, and the sub-second digits needed."""
    import pandas as pd

    ns = pd.DatetimeIndex(column.dropna()).as_unit("ns").asi8
    if not ns.size:
        return ()
    day = 86_400 * 10**9
    return (bool((ns % day == 0).all()), *(bool((ns % step != 0).any()) for step in (10**9, 10**6, 10**3)))
