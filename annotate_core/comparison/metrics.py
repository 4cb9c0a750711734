"""Quality, speed and workforce metrics of one job, computed from its neutral answers frame.

Every function takes the frame of ``annotate_core.answers`` (or a slice of it) and plain truth
Series, so the same numbers come out whatever vendor produced the answers, and each one can be
checked by hand on a few rows.

Conventions (they are the ones a vendor comparison needs; each is a choice worth knowing):

- *usable* answers are those in status submitted or accepted, as in ``Job.results``; rejected,
  skipped, expired and still-active answers are not aggregated.
- labels are compared through ``labels.label_key`` (``1 == "1" == 1.0``; lists order-free).
- aggregation for quality metrics runs *without* the golden answers as known labels, so accuracy on
  golden items measures the crowd and the method, not a method echoing the truth it was given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from annotate_core.comparison.labels import label_key
from annotate_core.counts import USABLE_STATUSES  # defined once there, with the rest of the counts

GIVEN_STATUSES = ("submitted", "accepted", "rejected")  # answers a worker actually handed in


def select_field(answers: pd.DataFrame, field: str | None) -> pd.DataFrame:
    """Rows answering ``field`` (all rows when ``field`` is None)."""
    if field is None:
        return answers
    return answers[answers["field"] == field]


def usable(answers: pd.DataFrame) -> pd.DataFrame:
    return answers[answers["status"].isin(USABLE_STATUSES)]


def golden_truth(answers: pd.DataFrame) -> pd.Series:
    """task -> known label (as ``label_key``) of the golden items present in the answers."""
    g = answers[answers["golden"].astype(bool)]
    g = g[g["golden_label"].map(label_key).notna()].drop_duplicates("task")
    return pd.Series([label_key(v) for v in g["golden_label"]], index=g["task"].astype(str).to_numpy(),
                     dtype="object")


def as_truth(truth: pd.Series | dict[Any, Any] | None) -> pd.Series:
    """Any task -> label mapping as a Series of ``label_key`` values indexed by task (str)."""
    if truth is None:
        return pd.Series(dtype="object")
    s = pd.Series(truth) if isinstance(truth, dict) else truth
    out = pd.Series([label_key(v) for v in s.to_numpy()], index=s.index.astype(str), dtype="object")
    return out[out.notna()]


def combine_truth(golden: pd.Series, truth: pd.Series) -> pd.Series:
    """Known labels for every item that has one: the truth file wins over a golden item's label."""
    if truth.empty:
        return golden
    return pd.concat([truth, golden[~golden.index.isin(truth.index)]])


@dataclass(frozen=True)
class Accuracy:
    """Share of ``correct`` among ``n`` comparisons; NaN when nothing could be compared."""

    correct: int
    n: int

    @property
    def value(self) -> float:
        return self.correct / self.n if self.n else float("nan")


def label_accuracy(predicted: pd.Series, truth: pd.Series) -> Accuracy:
    """Accuracy of one predicted label per task against the truth, over tasks that have both."""
    pred = as_truth(predicted)
    common = pred.index.intersection(truth.index)
    if common.empty:
        return Accuracy(0, 0)
    correct = int((pred.loc[common].to_numpy() == truth.loc[common].to_numpy()).sum())
    return Accuracy(correct, len(common))


def answer_accuracy(answers: pd.DataFrame, truth: pd.Series) -> Accuracy:
    """Share of individual answers that match the truth, over answers on items with known truth."""
    tasks = answers["task"].astype(str)
    known = tasks.isin(truth.index).to_numpy()
    if not known.any():
        return Accuracy(0, 0)
    given = np.array([label_key(v) for v in answers["label"].to_numpy()[known]], dtype=object)
    expected = truth.loc[tasks[known]].to_numpy()
    return Accuracy(int((given == expected).sum()), int(known.sum()))


Aggregator = Callable[[pd.DataFrame], "pd.Series | pd.DataFrame"]


def aggregated_labels(answers: pd.DataFrame, method: str | Aggregator) -> pd.Series:
    """task -> aggregated label (``label_key``).

    ``method`` is a name for ``annotate_core.aggregation.aggregate`` ("mv", "ds", ...) or any callable
    taking a ``task, worker, label`` frame and returning crowd-kit's Series (task -> label) or a frame
    with ``task`` and ``label`` columns, e.g. ``crowdkit.aggregation.GLAD().fit_predict``.
    """
    df = answers[["task", "worker", "label"]].copy()
    df["task"] = df["task"].astype(str)
    df["worker"] = df["worker"].astype(str)
    df["label"] = [label_key(v) for v in df["label"]]
    df = df[df["label"].notna()].reset_index(drop=True)
    if df.empty:
        return pd.Series(dtype="object")
    if callable(method):
        out = method(df)
        if isinstance(out, pd.DataFrame):
            out = pd.Series(out["label"].to_numpy(), index=out["task"].to_numpy())
    else:
        from annotate_core.aggregation import aggregate

        agg = aggregate(df, method=method, true_labels=None)
        out = pd.Series(agg["label"].to_numpy(), index=agg["task"].to_numpy())
    return pd.Series([label_key(v) for v in out.to_numpy()], index=out.index.astype(str), dtype="object")


def worker_accuracy(answers: pd.DataFrame, truth: pd.Series) -> pd.DataFrame:
    """Per worker: answers on items with known truth, how many were right, and the share.

    Workers who answered no such item are left out: their accuracy is unknown, not zero.
    """
    cols = ["worker", "answers", "correct", "accuracy"]
    tasks = answers["task"].astype(str)
    known = tasks.isin(truth.index).to_numpy()
    if not known.any():
        return pd.DataFrame(columns=cols)
    sub = answers[known]
    given = np.array([label_key(v) for v in sub["label"]], dtype=object)
    right = given == truth.loc[sub["task"].astype(str)].to_numpy()
    out = (pd.DataFrame({"worker": sub["worker"].astype(str).to_numpy(), "correct": right.astype(int)})
           .groupby("worker", sort=True)["correct"].agg(["size", "sum"])
           .rename(columns={"size": "answers", "sum": "correct"}).reset_index())
    out["accuracy"] = out["correct"] / out["answers"]
    return out[cols]


@dataclass(frozen=True)
class Timing:
    """When work started (first answer's start: submitted_at - duration) and the last answer came."""

    start: pd.Timestamp | None
    end: pd.Timestamp | None
    answers: int

    @property
    def turnaround_hours(self) -> float:
        if self.start is None or self.end is None:
            return float("nan")
        return (self.end - self.start).total_seconds() / 3600.0

    @property
    def answers_per_hour(self) -> float:
        hours = self.turnaround_hours
        return self.answers / hours if hours and hours > 0 else float("nan")


def timing(answers: pd.DataFrame) -> Timing:
    """Turnaround and throughput of the answers handed in (any status but active/expired/skipped)."""
    given = answers[answers["status"].isin(GIVEN_STATUSES) & answers["submitted_at"].notna()]
    if given.empty:
        return Timing(None, None, 0)
    # one answer per assignment and task: the rows of several output fields are one answer
    given = given.drop_duplicates(["task", "worker", "assignment", "submitted_at"])
    duration = pd.to_timedelta(given["duration_s"].fillna(0.0).clip(lower=0.0), unit="s")
    start = (given["submitted_at"] - duration).min()
    return Timing(start, given["submitted_at"].max(), len(given))


def completion_curve(answers: pd.DataFrame, start: pd.Timestamp | None, expected: int | None) -> pd.DataFrame:
    """Cumulative share of the expected usable answers received, by hours since ``start``.

    ``expected`` is the number of answers the job should end with (Progress.expected_answers, or the
    spec's estimate); when unknown the curve ends at 1.0 with the last answer.
    """
    ok = usable(answers)
    ok = ok[ok["submitted_at"].notna()].sort_values("submitted_at")
    if ok.empty or start is None:
        return pd.DataFrame({"hours": [], "answers": [], "fraction": []})
    total = max(int(expected or 0), len(ok))
    hours = (ok["submitted_at"] - start).dt.total_seconds().to_numpy() / 3600.0
    count = np.arange(1, len(ok) + 1)
    return pd.DataFrame({"hours": np.concatenate([[0.0], hours]),
                         "answers": np.concatenate([[0], count]),
                         "fraction": np.concatenate([[0.0], count / total])})


@dataclass(frozen=True)
class WorkerShares:
    """How many workers a job used, and the shares rejected or banned (NaN when not reported)."""

    workers: int
    rejected_workers: int
    rejected_answers: int
    given_answers: int
    banned_workers: int | None

    @property
    def rejected_workers_share(self) -> float:
        return self.rejected_workers / self.workers if self.workers else float("nan")

    @property
    def rejected_answers_share(self) -> float:
        return self.rejected_answers / self.given_answers if self.given_answers else float("nan")

    @property
    def banned_workers_share(self) -> float:
        if self.banned_workers is None or not self.workers:
            return float("nan")
        return self.banned_workers / self.workers


def worker_shares(answers: pd.DataFrame, banned: Iterable[str] | int | None = None) -> WorkerShares:
    """Workers who handed in answers; those with at least one rejected answer; banned ones.

    ``banned`` is what the backend reports: worker ids (counted when they answered in this job, or
    all of them when none did), a count, or None when the backend says nothing about bans.
    """
    given = answers[answers["status"].isin(GIVEN_STATUSES)]
    workers = set(given["worker"].astype(str))
    rejected = given[given["status"] == "rejected"]
    n_banned: int | None
    if banned is None:
        n_banned = None
    elif isinstance(banned, (int, np.integer)):
        n_banned = int(banned)
    else:
        ids = {str(b) for b in banned}
        n_banned = len(ids & workers) if workers else len(ids)
    return WorkerShares(
        workers=len(workers),
        rejected_workers=rejected["worker"].astype(str).nunique(),
        rejected_answers=len(rejected),
        given_answers=len(given),
        banned_workers=n_banned,
    )


def answers_per_item(answers: pd.DataFrame) -> float:
    """Mean number of usable answers per item that got any."""
    ok = usable(answers)
    if ok.empty:
        return float("nan")
    return float(ok.groupby(ok["task"].astype(str)).size().mean())
