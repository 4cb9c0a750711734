"""Majority vote: shares, weighted votes, skills_, and the naive implementation on a large crowd."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import annotate_core.aggregation as agg

from . import naive


def frame(rows: list[tuple[object, object, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


SMALL = frame([
    ("t1", "p1", 0), ("t1", "p2", 0), ("t1", "p3", 1),
    ("t2", "p1", 1), ("t2", "p2", 0), ("t2", "p3", 1),
])


def test_shares_labels_and_skills() -> None:
    mv = agg.MajorityVote().fit(SMALL)
    assert mv.labels_.to_dict() == {"t1": 0, "t2": 1}
    assert mv.probas_.loc["t1"].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert list(mv.probas_.columns) == [0, 1] and mv.probas_.columns.name == "label"
    assert mv.skills_.to_dict() == {"p1": 1.0, "p2": 0.5, "p3": 0.5}


def test_weighted_vote_follows_skills() -> None:
    skills = pd.Series({"p1": 0.5, "p2": 0.7, "p3": 0.4})
    mv = agg.MajorityVote().fit(SMALL, skills)
    # t2: label 1 has 0.5 + 0.4 = 0.9 against 0.7
    assert mv.labels_.to_dict() == {"t1": 0, "t2": 1}
    assert mv.probas_.loc["t2", 1] == pytest.approx(0.9 / 1.6)
    heavy = agg.MajorityVote().fit_predict(SMALL, {"p1": 0.1, "p2": 5.0, "p3": 0.1})
    assert heavy.to_dict() == {"t1": 0, "t2": 0}


def test_missing_skills_error_ignore_value() -> None:
    skills = pd.Series({"p1": 0.9, "p2": 0.6})
    with pytest.raises(ValueError, match=r"2 answer\(s\) by 1 worker\(s\) have no skill.*'p3'"):
        agg.MajorityVote().fit(SMALL, skills)
    ignored = agg.MajorityVote(on_missing_skill="ignore").fit(SMALL, skills)
    assert ignored.labels_.to_dict() == {"t1": 0, "t2": 1}  # t2: p1 (0.9) beats p2 (0.6)
    valued = agg.MajorityVote(on_missing_skill="value", default_skill=2.0).fit(SMALL, skills)
    assert valued.probas_.loc["t2", 1] == pytest.approx(2.9 / 3.5)
    lonely = pd.concat([SMALL, frame([("t3", "p3", 0)])], ignore_index=True)
    with pytest.raises(ValueError, match=r"1 task\(s\) have no answer by a worker with a known"):
        agg.MajorityVote(on_missing_skill="ignore").fit(lonely, skills)


def test_zero_weight_task_falls_back_to_plain_shares() -> None:
    mv = agg.MajorityVote().fit(SMALL, {"p1": 0.0, "p2": 0.0, "p3": 0.0})
    assert np.isfinite(mv.probas_.to_numpy()).all()
    assert mv.probas_.loc["t1"].tolist() == pytest.approx([2 / 3, 1 / 3])


@pytest.mark.parametrize("shuffle", [False, True])
def test_repeated_answers_count_once_in_skills(shuffle: bool) -> None:
    """As crowd-kit: votes count every row, skills count each (task, worker, label) once. Both the
    grouped-rows path and the hash path (shuffled rows) are exercised."""
    df = pd.concat([SMALL, frame([("t2", "p2", 0), ("t2", "p2", 0)])], ignore_index=True)
    if shuffle:
        df = df.sample(frac=1.0, random_state=1)
    mv = agg.MajorityVote().fit(df)
    assert mv.probas_.loc["t2"].tolist() == pytest.approx([3 / 5, 2 / 5])  # p2's three zeros
    assert mv.labels_["t2"] == 0
    assert mv.skills_.to_dict() == pytest.approx({"p1": 0.5, "p2": 1.0, "p3": 0.0})
    assert mv.skills_.to_dict() == pytest.approx(naive.accuracy_skills(df, mv.labels_.to_dict()))


def test_matches_naive_on_a_large_crowd() -> None:
    answers, _ = agg.simulate_crowd(3000, overlap=5, n_workers=60, labels=("a", "b", "c", "d"),
                                    seed=11)
    mv = agg.MajorityVote().fit(answers)
    probas, winners = naive.majority_vote(answers)
    assert mv.labels_.to_dict() == winners
    expected = pd.DataFrame(probas).T.reindex(index=mv.probas_.index, columns=mv.probas_.columns)
    np.testing.assert_allclose(mv.probas_.to_numpy(), expected.to_numpy(), atol=1e-15)
    assert mv.skills_.to_dict() == pytest.approx(naive.accuracy_skills(answers, winners))


def test_skills_are_measured_lazily_but_exactly_once() -> None:
    mv = agg.MajorityVote().fit(SMALL)
    first = mv.skills_
    assert first is mv.skills_
    mv.fit(SMALL.iloc[:3])
    assert mv.skills_.to_dict() == {"p1": 1.0, "p2": 1.0, "p3": 0.0}


def test_repr_shows_parameters() -> None:
    assert repr(agg.MajorityVote()) == "MajorityVote(on_missing_skill='error', default_skill=None)"
    assert repr(agg.DawidSkene(n_iter=7)) == "DawidSkene(n_iter=7, tol=1e-05, initial_error_strategy=None)"
    assert repr(agg.OneCoinDawidSkene(n_iter=7)) == "OneCoinDawidSkene(n_iter=7, tol=1e-05)"


def test_repeats_found_when_rows_are_grouped_but_not_sorted() -> None:
    """Grouped rows in an order that is not the tasks' sorted order ("t10" before "t2")."""
    df = frame([
        ("t10", "a", 1), ("t10", "b", 1), ("t10", "a", 1),
        ("t2", "a", 0), ("t2", "b", 1), ("t2", "c", 1),
    ])
    mv = agg.MajorityVote().fit(df)
    assert mv.skills_.to_dict() == pytest.approx({"a": 0.5, "b": 1.0, "c": 1.0})
    assert mv.skills_.to_dict() == pytest.approx(naive.accuracy_skills(df, mv.labels_.to_dict()))
