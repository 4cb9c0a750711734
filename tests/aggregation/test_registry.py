"""get_aggregator by name, and aggregate(): the results table job.results() builds on."""

from __future__ import annotations

import pandas as pd
import pytest

import annotate_core.aggregation as agg


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("mv", agg.MajorityVote), ("MajorityVote", agg.MajorityVote),
        ("majority_vote", agg.MajorityVote),
        ("ds", agg.DawidSkene), ("DawidSkene", agg.DawidSkene), ("Dawid-Skene", agg.DawidSkene),
        ("ocds", agg.OneCoinDawidSkene), ("one_coin", agg.OneCoinDawidSkene),
        ("OneCoinDawidSkene", agg.OneCoinDawidSkene), ("wawa", agg.Wawa), ("Wawa", agg.Wawa),
        ("gold_mv", agg.GoldMajorityVote), ("GoldMajorityVote", agg.GoldMajorityVote),
        (" MV ", agg.MajorityVote), ("glad", agg.GLAD), ("GLAD", agg.GLAD), ("mace", agg.MACE),
        ("MACE", agg.MACE),
    ],
)
def test_names(name: str, cls: type) -> None:
    assert type(agg.get_aggregator(name)) is cls


def test_parameters_are_passed_on() -> None:
    ds = agg.get_aggregator("ds", n_iter=7, tol=0.0)
    assert (ds.n_iter, ds.tol) == (7, 0.0)


def test_unknown_name_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown aggregation method 'kos'") as err:
        agg.get_aggregator("kos")
    for name in ("mv", "ds", "ocds", "one_coin", "wawa", "gold_mv", "glad", "mace", "DawidSkene"):
        assert name in str(err.value)
    assert agg.available_methods()[:6] == ["mv", "ds", "ocds", "one_coin", "wawa", "gold_mv"]


def test_aggregate_table() -> None:
    df = pd.DataFrame({
        "task": ["b", "b", "b", "a", "a"],
        "worker": ["w1", "w2", "w3", "w1", "w2"],
        "label": ["cat", "dog", "cat", "dog", "dog"],
    })
    table = agg.aggregate(df)
    assert list(table.columns) == ["task", "label", "confidence", "n_answers"]
    assert table.to_dict("list") == {
        "task": ["a", "b"], "label": ["dog", "cat"],
        "confidence": [1.0, pytest.approx(2 / 3)], "n_answers": [2, 3],
    }


@pytest.mark.parametrize("method", ["mv", "ds", "ocds", "wawa", "gold_mv", "glad", "mace"])
def test_known_labels_win_in_every_method(method: str) -> None:
    """job.results passes golden items' known answers: they come out as such, confidence 1."""
    answers, truth = agg.simulate_crowd(200, overlap=3, n_workers=10, labels=("n", "y"), seed=21)
    # object-typed index, as job.results builds it from the answers frame
    known = pd.Series(truth.iloc[:40].to_numpy(), index=truth.index[:40].astype(object))
    table = agg.aggregate(answers, method, true_labels=known).set_index("task")
    assert (table.loc[known.index, "label"] == known).all()
    assert (table.loc[known.index, "confidence"] == 1.0).all()
    assert len(table) == 200 and (table["n_answers"] == 3).all()
    assert table["confidence"].between(0.0, 1.0).all()


def test_aggregate_accepts_a_configured_instance() -> None:
    answers, _ = agg.simulate_crowd(100, overlap=3, n_workers=10, seed=22)
    by_name = agg.aggregate(answers, "ds")
    by_instance = agg.aggregate(answers, agg.DawidSkene(n_iter=100))
    pd.testing.assert_frame_equal(by_name, by_instance)
    mv = agg.aggregate(answers, "mv").set_index("task")
    shares = agg.MajorityVote().fit_predict_proba(answers)
    assert (mv["confidence"] == shares.max(axis=1)).all()


def test_aggregate_refuses_unknown_method() -> None:
    with pytest.raises(ValueError, match="valid names"):
        agg.aggregate(pd.DataFrame({"task": [], "worker": [], "label": []}), "best")
