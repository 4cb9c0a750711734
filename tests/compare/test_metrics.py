"""Metrics of one job on the hand-built fixture of conftest.py; every expected value is derived in a comment."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from annotate_core import JobState, Progress, answers_frame
from annotate_core.comparison import metrics as m
from annotate_core.comparison.build import build_comparison, job_metrics
from annotate_core.comparison.collect import JobData, banned_from_details, banned_from_events, reported_cost
from annotate_core.comparison.labels import label_key
from annotate_core.comparison.truth import load_truth

from .conftest import GOLDEN, TRUTH, hand_records, make_spec
from .synth import first_answer, majority_vote


def known() -> pd.Series:
    return m.combine_truth(pd.Series(GOLDEN, dtype="object"), m.as_truth(TRUTH))


def test_label_key_makes_sources_comparable() -> None:
    assert label_key(1) == label_key("1") == label_key(1.0) == label_key(" 1 ") == "1"
    assert label_key(True) == label_key("True") == "true"
    assert label_key(["b", "a"]) == label_key(("a", "b"))
    assert label_key(None) is None and label_key(float("nan")) is None
    assert label_key(0.5) != label_key(1)


def test_golden_truth_and_truth_file_combine(hand_frame: pd.DataFrame) -> None:
    golden = m.golden_truth(hand_frame)
    assert golden.to_dict() == GOLDEN
    # the truth file wins where both know an item
    both = m.combine_truth(golden, m.as_truth({"g1": "dog", "i1": "cat"}))
    assert both.to_dict() == {"g1": "dog", "i1": "cat", "g2": "dog"}


def test_answer_accuracy(hand_frame: pd.DataFrame) -> None:
    ok = m.usable(hand_frame)
    assert len(ok) == 14  # w2's rejected answer on i3 is out
    # golden: g1 cat,cat,dog vs cat -> 2; g2 dog,cat,dog vs dog -> 2: 4 of 6
    acc = m.answer_accuracy(ok, m.golden_truth(ok))
    assert (acc.correct, acc.n) == (4, 6)
    # + i1 cat x3 vs cat -> 3; i2 dog,dog,cat vs cat -> 1; i3 dog,dog vs dog -> 2: 10 of 14
    acc = m.answer_accuracy(ok, known())
    assert (acc.correct, acc.n) == (10, 14)


def test_label_accuracy_over_common_tasks() -> None:
    predicted = pd.Series({"g1": "cat", "g2": "cat", "i1": "cat", "zz": "dog"})
    acc = m.label_accuracy(predicted, known())
    # g1 right, g2 wrong, i1 right; zz has no truth, i2/i3 no prediction
    assert (acc.correct, acc.n) == (2, 3)
    assert math.isnan(m.label_accuracy(pd.Series({"zz": "a"}), known()).value)


def test_worker_accuracy(hand_frame: pd.DataFrame) -> None:
    w = m.worker_accuracy(m.usable(hand_frame), known()).set_index("worker")
    # w1: g1 ok, g2 ok, i1 ok, i2 wrong, i3 ok -> 4/5
    # w2: g1 ok, g2 wrong, i1 ok, i2 wrong (its i3 answer was rejected) -> 2/4
    # w3: g1 wrong, g2 ok, i1 ok, i2 ok, i3 ok -> 4/5
    assert w.loc["w1", ["answers", "correct"]].tolist() == [5, 4]
    assert w.loc["w2", ["answers", "correct"]].tolist() == [4, 2]
    assert w.loc["w3", ["answers", "correct"]].tolist() == [5, 4]
    assert w.loc["w2", "accuracy"] == 0.5


def test_timing(hand_frame: pd.DataFrame) -> None:
    t = m.timing(hand_frame)
    # first answer submitted 10:00 after 120 s -> start 09:58; last at 12:58: 3 h, 15 answers handed in
    assert t.start == pd.Timestamp("2024-05-01 09:58", tz="UTC")
    assert t.turnaround_hours == pytest.approx(3.0)
    assert t.answers_per_hour == pytest.approx(5.0)


def test_timing_counts_one_answer_per_assignment_and_item_across_fields() -> None:
    recs = hand_records()[:2]
    extra = [dict(r, field="comment", label="x") for r in recs]
    t = m.timing(answers_frame(recs + extra, ["image"]))
    assert t.answers == 2


def test_completion_curve(hand_frame: pd.DataFrame) -> None:
    t = m.timing(hand_frame)
    curve = m.completion_curve(hand_frame, t.start, expected=28)
    # 14 usable answers of 28 expected: the curve starts at 0 and ends at one half, at 3 h
    assert curve["fraction"].iloc[0] == 0.0
    assert curve["answers"].iloc[-1] == 14
    assert curve["fraction"].iloc[-1] == pytest.approx(0.5)
    assert curve["hours"].iloc[-1] == pytest.approx(3.0)
    assert curve["hours"].is_monotonic_increasing
    # unknown expectation: ends at 1
    assert m.completion_curve(hand_frame, t.start, None)["fraction"].iloc[-1] == 1.0


def test_worker_shares(hand_frame: pd.DataFrame) -> None:
    s = m.worker_shares(hand_frame, banned=["w2", "w9"])
    # 15 answers handed in, 1 rejected; 3 workers, w2 rejected once; banned w2 (w9 never answered here)
    assert s.rejected_answers_share == pytest.approx(1 / 15)
    assert s.rejected_workers_share == pytest.approx(1 / 3)
    assert s.banned_workers_share == pytest.approx(1 / 3)
    assert math.isnan(m.worker_shares(hand_frame, banned=None).banned_workers_share)
    assert m.worker_shares(hand_frame, banned=2).banned_workers_share == pytest.approx(2 / 3)


def test_answers_per_item(hand_frame: pd.DataFrame) -> None:
    # 14 usable answers over 5 items
    assert m.answers_per_item(hand_frame) == pytest.approx(2.8)


def test_reported_cost_and_bans_from_backend_data() -> None:
    assert reported_cost({"cost": 1.25, "currency": "EUR"}) == (1.25, "EUR")
    assert reported_cost({"cost": {"amount": 3, "currency": "USD"}}) == (3.0, "USD")
    assert reported_cost({"pool_status": "CLOSED"}) == (None, None)
    assert banned_from_details({"banned_workers": ["a", "b"]}) == {"a", "b"}
    assert banned_from_details({"banned_workers": 4}) == 4
    assert banned_from_details({}) is None
    events = [{"event": "banned", "worker": "w1"}, {"type": "submitted", "worker": "w2"},
              {"kind": "BANNED", "worker": 7}]
    assert banned_from_events(events) == {"w1", "7"}


def hand_job(**kw) -> JobData:
    defaults = dict(name="local:1", answers=answers_frame(hand_records(), ["image"]), backend="memory",
                    job_id="1", spec=make_spec(), progress=Progress(JobState.COMPLETED, 5, 5, 14),
                    banned={"w2"}, banned_source="events")
    defaults.update(kw)
    return JobData(**defaults)


def test_job_metrics_row_without_aggregation() -> None:
    row, workers, curve = job_metrics(hand_job(), truth=m.as_truth(TRUTH), methods=())
    assert row["items"] == 5 and row["golden_items"] == 2 and row["truth_items"] == 5
    assert row["usable_answers"] == 14 and row["workers"] == 3
    assert row["answers"] == 15 and row["rejected"] == 1 and row["items_to_label"] == 3
    assert row["alpha"] == pytest.approx(20 / 98)
    assert row["answer_acc_golden"] == pytest.approx(4 / 6)
    assert row["answer_acc_truth"] == pytest.approx(10 / 14)
    # spec: 3 real items x overlap 3 = 9 answers in batches of 2 -> 5 batches x 0.1 = 0.5 USD
    assert (row["cost"], row["currency"], row["cost_source"]) == (pytest.approx(0.5), "USD", "estimated")
    assert row["cost_per_item"] == pytest.approx(0.5 / 3)
    assert row["turnaround_h"] == pytest.approx(3.0)
    assert row["answers_per_hour"] == pytest.approx(5.0)
    assert row["banned_workers_share"] == pytest.approx(1 / 3)
    assert row["state"] == "completed"
    assert sorted(workers["worker"]) == ["w1", "w2", "w3"]
    # no expected_answers in the progress: 9 expected real answers + the 6 golden ones = 15
    assert curve["fraction"].iloc[-1] == pytest.approx(14 / 15)


def test_reported_cost_wins_over_estimate() -> None:
    row, _, _ = job_metrics(hand_job(reported_cost=2.0, reported_currency="EUR"), methods=())
    assert (row["cost"], row["currency"], row["cost_source"]) == (2.0, "EUR", "reported")
    # without truth there is no all-items accuracy
    assert math.isnan(row["answer_acc_truth"])


def test_no_spec_no_pricing_cost_unknown() -> None:
    row, _, _ = job_metrics(hand_job(spec=None), methods=())
    assert row["cost_source"] == "unknown" and math.isnan(row["cost"])
    assert row["field"] == "result"  # taken from the answers


def test_build_comparison_refuses_duplicate_names_and_empty() -> None:
    with pytest.raises(ValueError, match="at least one"):
        build_comparison([])
    with pytest.raises(ValueError, match="repeated"):
        build_comparison([hand_job(), hand_job()], methods=())


def test_load_truth(tmp_path) -> None:
    p = tmp_path / "truth.csv"
    p.write_text("key,label\n007,cat\ni2, dog\ni3,\n", encoding="utf-8")
    t = load_truth(p)
    assert t.to_dict() == {"007": "cat", "i2": "dog"}  # keys keep their zeros; an empty label is unknown
    p.write_text("task,truth,extra\na,1\n", encoding="utf-8")
    assert load_truth(p).to_dict() == {"a": "1"}
    p.write_text("item,cls,extra\na,1,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no key column"):
        load_truth(p)
    assert load_truth(p, key="item", label="cls").to_dict() == {"a": "1"}
    p.write_text("key,label\na,1\na,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="repeated key"):
        load_truth(p)


def test_aggregated_accuracy_with_a_callable_method() -> None:
    # majority vote on usable answers: g1 cat (right), g2 dog (right), i1 cat (right), i2 dog (truth: cat,
    # wrong), i3 dog (right). Golden: 2 of 2; all known: 4 of 5. The first answer per item:
    # g1 cat, g2 dog, i1 cat, i2 dog, i3 dog -> the same labels here.
    row, _, _ = job_metrics(hand_job(), truth=m.as_truth(TRUTH),
                            methods={"mv": majority_vote, "first": first_answer})
    assert row["acc_golden_mv"] == 1.0
    assert row["acc_truth_mv"] == pytest.approx(0.8)
    assert row["acc_truth_first"] == pytest.approx(0.8)
    assert (row["accuracy"], row["accuracy_basis"]) == (pytest.approx(0.8), "truth")
    row, _, _ = job_metrics(hand_job(), methods={"mv": majority_vote})
    assert (row["accuracy"], row["accuracy_basis"]) == (1.0, "golden")
    assert math.isnan(row["acc_truth_mv"])


def test_method_names_must_fit_column_names() -> None:
    with pytest.raises(ValueError, match="not a usable method name"):
        job_metrics(hand_job(), methods={"m v": majority_vote})
