"""Small answers frames whose every metric is worked out by hand in the tests' comments."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pandas as pd
import pytest

from annotate_core import JobSpec, answers_frame

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)

# (task, worker, label, status); golden items g1 = cat, g2 = dog. Truth file: i1 cat, i2 cat, i3 dog.
HAND_ANSWERS: list[tuple[str, str, str, str]] = [
    ("g1", "w1", "cat", "accepted"), ("g1", "w2", "cat", "submitted"), ("g1", "w3", "dog", "submitted"),
    ("g2", "w1", "dog", "submitted"), ("g2", "w2", "cat", "submitted"), ("g2", "w3", "dog", "submitted"),
    ("i1", "w1", "cat", "submitted"), ("i1", "w2", "cat", "submitted"), ("i1", "w3", "cat", "submitted"),
    ("i2", "w1", "dog", "submitted"), ("i2", "w2", "dog", "submitted"), ("i2", "w3", "cat", "submitted"),
    ("i3", "w1", "dog", "submitted"), ("i3", "w2", "cat", "rejected"), ("i3", "w3", "dog", "submitted"),
]
GOLDEN = {"g1": "cat", "g2": "dog"}
TRUTH = {"i1": "cat", "i2": "cat", "i3": "dog"}


def hand_records(rows=HAND_ANSWERS, *, t0: datetime = T0) -> list[dict[str, Any]]:
    """Answers 12 minutes apart from 10:00, the first taking 120 s, the last submitted at 12:58.

    So work started at 09:58 and ended at 12:58: a turnaround of exactly 3 hours.
    """
    out = []
    for n, (task, worker, label, status) in enumerate(rows):
        at = t0 + timedelta(minutes=12 * n) if n < len(rows) - 1 else t0 + timedelta(hours=2, minutes=58)
        out.append({
            "task": task, "item_key": task, "worker": worker, "label": label, "field": "result",
            "assignment": f"a{n}", "status": status, "submitted_at": at,
            "duration_s": 120.0 if n == 0 else 30.0,
            "golden": task in GOLDEN, "golden_label": GOLDEN.get(task), "inputs": {"image": f"{task}.jpg"},
        })
    return out


@pytest.fixture
def hand_frame() -> pd.DataFrame:
    return answers_frame(hand_records(), ["image"])


def make_spec(**overrides: Any) -> JobSpec:
    data: dict[str, Any] = {
        "name": "cats",
        "inputs": [{"name": "image", "type": "image"}],
        "outputs": [{"name": "result", "type": "label", "options": ["cat", "dog"]}],
        "distribution": {"kind": "pulling", "batch_size": 2},
        "overlap": {"count": 3},
        "pricing": {"reward_per_batch": 0.1, "currency": "USD"},
    }
    data.update(overrides)
    return JobSpec.model_validate(data)
