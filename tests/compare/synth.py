"""A seeded synthetic crowd for report and end-to-end tests (the local backend does this for real)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd

from annotate_core import JobState, Progress, answers_frame
from annotate_core.comparison.collect import JobData

from .conftest import make_spec


def crowd_records(*, n_items: int = 40, n_golden: int = 8, workers: int = 12, accuracy: float = 0.8,
                  spammers: float = 0.0, overlap: int = 3, minutes_per_answer: float = 2.0,
                  seed: int = 0) -> list[dict[str, Any]]:
    """Answers of ``workers`` workers (a share of them spammers answering at random) on cat/dog items."""
    rng = np.random.default_rng(seed)
    labels = np.array(["cat", "dog"])
    truth = {f"i{k:03d}": labels[rng.integers(2)] for k in range(n_items)}
    golden = set(list(truth)[:n_golden])
    n_spam = round(workers * spammers)
    skill = {f"w{k:02d}": (0.5 if k < n_spam else float(np.clip(rng.normal(accuracy, 0.05), 0.5, 1.0)))
             for k in range(workers)}
    names = list(skill)
    t0 = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)
    out: list[dict[str, Any]] = []
    n = 0
    for key, label in truth.items():
        for worker in rng.choice(names, size=overlap, replace=False):
            right = rng.random() < skill[worker]
            given = label if right else labels[labels != label][0]
            n += 1
            out.append({
                "task": key, "item_key": key, "worker": str(worker), "label": str(given), "field": "result",
                "assignment": f"a{n}", "status": "rejected" if (worker in names[:n_spam] and rng.random() < 0.3)
                else "submitted",
                "submitted_at": t0 + timedelta(minutes=minutes_per_answer * n * float(rng.uniform(0.8, 1.2))),
                "duration_s": 20.0, "golden": key in golden, "golden_label": str(label) if key in golden else None,
                "inputs": {"image": f"{key}.jpg"},
            })
    return out


def crowd_truth(**kw: Any) -> dict[str, str]:
    """The hidden labels ``crowd_records`` drew with the same arguments."""
    rng = np.random.default_rng(kw.get("seed", 0))
    labels = np.array(["cat", "dog"])
    return {f"i{k:03d}": str(labels[rng.integers(2)]) for k in range(kw.get("n_items", 40))}


def crowd_job(name: str, *, reward: float = 0.1, reported_cost: float | None = None, **kw: Any) -> JobData:
    recs = crowd_records(**kw)
    spec = make_spec(pricing={"reward_per_batch": reward, "currency": "USD"},
                     overlap={"count": kw.get("overlap", 3)})
    return JobData(name=name, answers=answers_frame(recs, ["image"]), backend="synthetic", job_id=name,
                   spec=spec, progress=Progress(JobState.COMPLETED, kw.get("n_items", 40), kw.get("n_items", 40)),
                   reported_cost=reported_cost, reported_currency="USD" if reported_cost is not None else None)


def majority_vote(df: pd.DataFrame) -> pd.Series:
    """The most frequent label per task (ties: the smallest label), crowd-kit's ``fit_predict`` shape."""
    counts = df.groupby(["task", "label"]).size().reset_index(name="n")
    counts = counts.sort_values(["task", "n", "label"], ascending=[True, False, True])
    top = counts.drop_duplicates("task")
    return pd.Series(top["label"].to_numpy(), index=top["task"].to_numpy(), name="agg_label")


def first_answer(df: pd.DataFrame) -> pd.DataFrame:
    """The first answer per task, as a frame with task/label columns (the other accepted return shape)."""
    return df.drop_duplicates("task")[["task", "label"]]
