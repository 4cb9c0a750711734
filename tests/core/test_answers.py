"""The answers frame: same columns and dtypes from every backend; malformed records are typed errors."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pytest

from annotate_core import ANSWER_COLUMNS, answers_frame
from annotate_core.errors import MalformedResponseError


def record(**kw):
    base = {"worker": "w1", "label": "cat", "field": "result", "item_key": "k1", "assignment": "a1",
            "submitted_at": datetime(2026, 1, 1, tzinfo=timezone.utc), "duration_s": 12,
            "inputs": {"image": "https://x.io/1.jpg"}}
    return {**base, **kw}


def test_columns_and_dtypes() -> None:
    df = answers_frame([record(), record(worker="w2", label="dog", golden=True, golden_label="dog",
                                         status="accepted")], ["image"])
    assert list(df.columns) == [*ANSWER_COLUMNS, "input:image"]
    assert str(df["submitted_at"].dtype) == "datetime64[ns, UTC]"
    assert df["duration_s"].dtype == "float64" and df["golden"].dtype == bool
    assert df["task"].tolist() == ["k1", "k1"]  # task defaults to the item key
    assert df["status"].tolist() == ["submitted", "accepted"]
    assert df.loc[1, "golden_label"] == "dog" and df.loc[0, "input:image"] == "https://x.io/1.jpg"


def test_empty_frame_has_the_schema() -> None:
    df = answers_frame([], ["text"])
    assert df.empty and list(df.columns) == [*ANSWER_COLUMNS, "input:text"]
    assert isinstance(df["submitted_at"].dtype, pd.DatetimeTZDtype)


def test_missing_worker_is_a_typed_error() -> None:
    with pytest.raises(MalformedResponseError, match="answer record #1 has no 'worker'"):
        answers_frame([record(), record(worker=None)])
