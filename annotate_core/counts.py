"""The one vocabulary of counts: items, answers by status, usable and golden answers.

Every surface that prints how big a job is or how much work it got (the run summary, ``annotate
status``, ``annotate compare``) takes its numbers from ``Counts``, and ``answers.csv`` /
``results.csv`` hold exactly the rows these numbers count, so one job shows one set of numbers under
one set of names. The definitions are in ``docs/counts.md``; in short:

- **items**: every item of the job that gets answers, ``items to label`` plus ``golden items``
  (items with a known answer, mixed in as control tasks or queued like any other).
- **answers**: one row per worker and item (for the counted output field): every row of
  ``answers.csv``, in every status. By status: ``submitted`` (handed in, not reviewed),
  ``accepted``, ``rejected``, ``expired`` (handed out, never handed in in time), ``skipped`` (given
  back untouched), ``active`` (handed out, not yet handed in).
- **usable answers**: submitted + accepted, the ones aggregation uses; ``results.csv``'s
  ``n_answers`` sums to it.
- **golden answers**: the usable answers on golden items (part of the usable answers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from annotate_core.answers import AnswerStatus
from annotate_core.errors import SpecError

if TYPE_CHECKING:  # pandas loads when answers are counted: Job imports USABLE_STATUSES at connect()
    import pandas as pd

    from annotate_core.backend import Progress
    from annotate_core.job import Job

#: answer statuses in the order they are printed; ``active`` only shows while work is handed out
STATUSES: tuple[str, ...] = (
    AnswerStatus.SUBMITTED.value, AnswerStatus.ACCEPTED.value, AnswerStatus.REJECTED.value,
    AnswerStatus.EXPIRED.value, AnswerStatus.SKIPPED.value, AnswerStatus.ACTIVE.value,
)
#: statuses whose answers are aggregated (``Job.results``) and counted as usable
USABLE_STATUSES: tuple[str, ...] = (AnswerStatus.SUBMITTED.value, AnswerStatus.ACCEPTED.value)

#: the name each count goes by, everywhere it is printed (keys are ``Counts.to_dict()``'s)
LABELS: dict[str, str] = {
    "items": "items",
    "items_to_label": "items to label",
    "golden_items": "golden items",
    "answers": "answers",
    **{s: f"{s} answers" for s in STATUSES},
    "usable_answers": "usable answers",
    "golden_answers": "golden answers",
}


@dataclass(frozen=True)
class Counts:
    """How many items a job has and how many answers it got, by status, for one output field."""

    items_to_label: int
    golden_items: int
    by_status: Mapping[str, int] = field(default_factory=dict)
    golden_answers: int = 0
    field_name: str | None = None  # the output field counted (one row per answer and field)

    @property
    def items(self) -> int:
        return self.items_to_label + self.golden_items

    @property
    def answers(self) -> int:
        return sum(self.by_status.values())

    @property
    def usable_answers(self) -> int:
        return sum(self.by_status.get(s, 0) for s in USABLE_STATUSES)

    def status(self, name: str) -> int:
        return int(self.by_status.get(name, 0))

    def to_dict(self) -> dict[str, int]:
        """Flat ``{name: count}``, keys as in ``LABELS``; every status is present, zero or not."""
        return {
            "items": self.items, "items_to_label": self.items_to_label, "golden_items": self.golden_items,
            "answers": self.answers, **{s: self.status(s) for s in STATUSES},
            "usable_answers": self.usable_answers, "golden_answers": self.golden_answers,
        }

    def lines(self) -> list[tuple[str, str]]:
        """``(heading, text)`` rows as the CLI prints them (run summary and ``annotate status``)."""
        statuses = ", ".join(f"{self.status(s)} {s}" for s in STATUSES
                             if s != AnswerStatus.ACTIVE.value or self.status(s))
        return [
            ("items", f"{self.items} ({self.items_to_label} to label, {self.golden_items} golden)"),
            ("answers", f"{self.answers} ({statuses})"),
            ("usable", f"{self.usable_answers} answers (submitted + accepted): "
                       f"{self.usable_answers - self.golden_answers} on items to label + {self.golden_answers} golden"),
        ]


def answer_rows(answers: pd.DataFrame, field_name: str | None) -> pd.DataFrame:
    """The rows of the answers frame that the counts count: those of one output field.

    A job with several outputs has one row per answer and output; counting one field counts each
    answer once. With ``field_name`` None, the first field present is used.
    """
    if answers.empty or "field" not in answers:
        return answers
    if field_name is None:
        present = answers["field"].dropna()
        if present.empty:
            return answers
        field_name = str(present.iloc[0])
    return answers[answers["field"] == field_name]


def count_answers(answers: pd.DataFrame, field_name: str | None = None, *, items_to_label: int | None = None,
                  golden_items: int | None = None) -> Counts:
    """Counts from the neutral answers frame (see ``annotate_core.answers``).

    Items come from the backend when it knows them (``items_to_label`` / ``golden_items``); items
    that got no answer at all are not in the frame, so without them the frame's own items are counted.
    """
    rows = answer_rows(answers, field_name)
    if not rows.empty and "field" in rows:
        field_name = field_name or str(rows["field"].iloc[0])
    import pandas as pd

    statuses = rows["status"].astype(str) if not rows.empty else pd.Series(dtype="object")
    by_status = {str(k): int(v) for k, v in statuses.value_counts().items()}
    golden = rows["golden"].astype(bool) if not rows.empty else pd.Series(dtype="bool")
    usable = statuses.isin(USABLE_STATUSES)
    golden_answers = int((golden & usable).sum()) if not rows.empty else 0
    tasks = rows["task"].astype(str) if not rows.empty else pd.Series(dtype="object")
    seen_golden = int(tasks[golden].nunique()) if not rows.empty else 0
    seen_to_label = int(tasks[~golden].nunique()) if not rows.empty else 0
    return tallied(by_status, golden_answers, seen_to_label=seen_to_label, seen_golden=seen_golden,
                   field_name=field_name, items_to_label=items_to_label, golden_items=golden_items)


def tallied(by_status: Mapping[str, int], golden_answers: int, *, seen_to_label: int, seen_golden: int,
            field_name: str | None, items_to_label: int | None, golden_items: int | None) -> Counts:
    """``Counts`` from answers tallied by status (whole frame or page by page, ``answers_stream``);
    the items the backend knows win over those seen among the answers."""
    return Counts(
        items_to_label=seen_to_label if items_to_label is None else int(items_to_label),
        golden_items=seen_golden if golden_items is None else int(golden_items),
        by_status={s: by_status.get(s, 0) for s in (*STATUSES, *sorted(set(by_status) - set(STATUSES)))},
        golden_answers=golden_answers,
        field_name=field_name,
    )


def progress_items(progress: Progress | None) -> tuple[int | None, int | None]:
    """``(items to label, golden items)`` as the backend reports them in ``Progress.details``, when it does.

    A backend that knows both puts ``items_to_label`` and ``golden_items`` in the details (the local
    one does); the others leave them out and the counts fall back to the items seen in the answers.
    """
    if progress is None:
        return None, None
    details: Mapping[str, Any] = progress.details or {}
    to_label, golden = details.get("items_to_label"), details.get("golden_items")
    return (int(to_label) if isinstance(to_label, int) else None, int(golden) if isinstance(golden, int) else None)


def job_counts(job: Job, answers: pd.DataFrame | None = None, progress: Progress | None = None,
               field_name: str | None = None) -> Counts:
    """The counts of a job: its answers (fetched unless given) and the items its backend reports."""
    if answers is None:
        answers = job.answers()
    if progress is None:
        progress = job.progress()
    if field_name is None:
        try:
            field_name = job.spec.outputs[0].name
        except SpecError:  # a backend that stores no specs: the first field present is counted
            field_name = None
    to_label, golden = progress_items(progress)
    return count_answers(answers, field_name, items_to_label=to_label, golden_items=golden)
