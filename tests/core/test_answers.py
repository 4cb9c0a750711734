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


def pages_of(records: list[dict], size: int, names: list[str]) -> list[pd.DataFrame]:
    return [columns_frame(records[i:i + size], names) for i in range(0, len(records), size)]


def test_joined_pages_are_the_concatenated_pages() -> None:
    from annotate_core.answers import join_pages

    records = [record(worker=f"w{n % 3}", label=["cat", "dog"] if n % 4 == 0 else None if n % 5 == 0 else "cat",
                      submitted_at=None if n % 3 == 0 else datetime(2026, 1, 1, 0, 0, n, 123456, tzinfo=timezone.utc),
                      duration_s=None if n % 2 else n / 3, golden=n % 6 == 0, reviewer="r" if n % 7 == 0 else None,
                      inputs={"image": f"https://x.io/{n}.jpg"}) for n in range(23)]
    pages = pages_of(records, 5, ["image", "note"])
    expected = pd.concat(pages, ignore_index=True)
    got = join_pages(iter(pages_of(records, 5, ["image", "note"])))
    assert got is not None
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got.loc[0, "label"] == ["cat", "dog"] and got.loc[4, "label"] == ["cat", "dog"]
    assert join_pages(iter([])) is None


def test_pages_of_other_dtypes_are_joined_by_pandas() -> None:
    from annotate_core.answers import join_pages

    pages = pages_of([record(worker=f"w{n}") for n in range(6)], 2, [])
    odd = pages[1].astype({"duration_s": "int64"})  # a page whose dtypes differ from the first's
    got = join_pages(iter([pages[0], odd, pages[2]]))
    assert got is not None
    pd.testing.assert_frame_equal(got, pd.concat([pages[0], odd, pages[2]], ignore_index=True), check_exact=True)
    first = pages[0].astype({"duration_s": "int64"})  # a dtype outside ANSWER_COLUMNS' from the first page on
    got = join_pages(iter([first, pages[1]]))
    assert got is not None and got["worker"].tolist() == ["w0", "w1", "w2", "w3"]


def test_a_page_given_as_arrays_is_the_page_given_as_lists() -> None:
    import numpy as np

    from annotate_core.answers import ANSWER_COLUMNS
    from annotate_core.answers import columns_frame as from_columns

    when = [datetime(2026, 1, 1, 12, 0, 0, 565000, tzinfo=timezone.utc), None]
    lists = {"task": ["k1", "k2"], "worker": ["w1", "w2"], "label": ["cat", ["a", "b"]], "field": ["f", "f"],
             "item_key": ["k1", "k2"], "assignment": [None, "a1"], "status": ["submitted", "accepted"],
             "submitted_at": when, "duration_s": [None, None], "golden": [False, False],
             "golden_label": [None, None], "reviewer": [None, "r"], "review_comment": [None, None]}
    arrays = {**lists, "field": np.full(2, "f", dtype=object), "golden_label": np.full(2, None, dtype=object),
              "submitted_at": np.array(["2026-01-01T12:00:00.565", "NaT"], dtype="datetime64[ns]"),
              "duration_s": np.full(2, np.nan), "golden": np.zeros(2, dtype=bool)}
    expected = from_columns(lists, {"image": ["u1", "u2"]}, 2)
    got = from_columns(arrays, {"image": np.array(["u1", "u2"], dtype=object)}, 2)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert [str(t) for t in got.dtypes] == [*ANSWER_COLUMNS.values(), "object"]
    assert got.loc[1, "label"] == ["a", "b"]
    empty = from_columns({c: [] for c in ANSWER_COLUMNS}, {}, 0)
    pd.testing.assert_frame_equal(empty, answers_frame([]), check_exact=True)


def test_settling_keeps_none_only_columns_and_replays_the_others() -> None:
    from annotate_core.answers import settle_like_records

    records = [record(label=None, reviewer=None, review_comment=c, golden_label=None) for c in (None, float("nan"))]
    records.append(record(label=None, reviewer=None, review_comment=None, golden_label=pd.NA))
    got = settle_like_records(columns_frame(records, ["image"]))
    pd.testing.assert_frame_equal(got, answers_frame(records, ["image"]), check_exact=True)
    assert got["reviewer"].tolist() == [None, None, None]  # only None: as it was
    assert got["review_comment"].isna().all() and got.loc[0, "review_comment"] is not None  # None and NaN: NaN
