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


def columns_frame(records: list[dict], names: list[str]) -> pd.DataFrame:
    from annotate_core.answers import AnswerColumns

    columns = AnswerColumns(names)
    for rec in records:
        columns.add(**{k: rec.get(k) for k in ("item_key", "worker", "label", "field", "assignment", "status",
                                                "submitted_at", "duration_s", "golden", "golden_label", "reviewer",
                                                "review_comment", "inputs", "task")})
    return columns.frame()


def test_answer_columns_give_the_records_frame() -> None:
    from annotate_core.answers import settle_like_records

    records = [record(), record(worker="w2", label=["cat", "dog"], golden=True, golden_label="dog", status="accepted",
                                submitted_at=None, duration_s=None, reviewer="r1", review_comment="ok"),
               record(label=None, inputs=None, task="t9"), record(label=3, golden_label=4)]
    got = settle_like_records(columns_frame(records, ["image", "note"]))
    pd.testing.assert_frame_equal(got, answers_frame(records, ["image", "note"]), check_exact=True)
    assert got.loc[1, "label"] == ["cat", "dog"] and got.loc[2, "task"] == "t9"
    assert got.loc[0, "worker"] is got.loc[2, "worker"]  # one object per repeated string


def test_answer_columns_refuse_a_missing_or_unhashable_id() -> None:
    with pytest.raises(MalformedResponseError, match="record #1 has no 'item_key'"):
        columns_frame([record(), record(item_key=None)], [])
    with pytest.raises(MalformedResponseError, match=r"must be strings, got \['dict'"):
        columns_frame([record(worker={"id": "w1"})], [])


def test_reading_answers_pauses_the_cycle_collector_and_restores_it() -> None:
    import gc

    from annotate_core.answers import job_answers

    seen: list[bool] = []

    class Frames:
        def iter_answers(self, job_id, spec):  # the record path, for a backend without frames
            seen.append(gc.isenabled())
            yield record()

    class Failing:
        def iter_answer_frames(self, job_id, spec):
            seen.append(gc.isenabled())
            raise MalformedResponseError("page 2 is broken")
            yield  # pragma: no cover

    assert gc.isenabled()
    assert len(job_answers(Frames(), "j", None)) == 1  # type: ignore[arg-type]
    with pytest.raises(MalformedResponseError):
        job_answers(Failing(), "j", None)  # type: ignore[arg-type]
    assert seen == [False, False] and gc.isenabled()
    gc.disable()
    try:
        job_answers(Frames(), "j", None)  # type: ignore[arg-type]
        assert not gc.isenabled()  # a caller's choice to keep it off is kept
    finally:
        gc.enable()
