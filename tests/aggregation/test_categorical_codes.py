"""Answers given as codes (categorical columns, as ``annotate run`` keeps streamed answers) aggregate
exactly as the same answers in object columns: same uniques in the same order, so the same labels,
probabilities and tie-breaking, whatever order the categories come in and whichever go unused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_index_equal

import annotate_core.aggregation as agg
from annotate_core.aggregation._encode import encode_answers

METHODS = ("mv", "ds", "ocds", "wawa", "gold_mv", "glad", "mace")


def as_codes(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The frame with task, worker and label as categoricals over shuffled categories plus unused ones."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    for c in ("task", "worker", "label"):
        values = frame[c]
        uniques = pd.unique(values.astype(object))
        extra = [f"unused-{c}-{i}" for i in range(2)] if all(isinstance(v, str) for v in uniques) else []
        categories = np.array([*uniques, *extra], dtype=object)[rng.permutation(len(uniques) + len(extra))]
        index = pd.Index(categories, dtype=frame[c].dtype)
        out[c] = pd.Categorical.from_codes(index.get_indexer(values), categories=index)
    return out


def crowd(labels: tuple[object, ...], seed: int, dtype: str = "object") -> tuple[pd.DataFrame, pd.Series]:
    """Answers in object columns of strings, as an answers frame holds them (or ``dtype`` "str")."""
    answers, truth = agg.simulate_crowd(300, overlap=3, n_workers=25, labels=labels, seed=seed)
    answers["task"] = ("t" + answers["task"].astype(str)).astype(dtype)
    answers["worker"] = ("w" + answers["worker"].astype(str)).astype(dtype)
    answers["label"] = answers["label"].astype(dtype)
    truth.index = "t" + truth.index.astype(str)
    return answers.sample(frac=1.0, random_state=seed).reset_index(drop=True), truth


@pytest.mark.parametrize("labels", [("dog", "cat"), ("z", "y", "x", "w")])
@pytest.mark.parametrize("method", METHODS)
def test_codes_aggregate_as_the_values_do(labels: tuple[object, ...], method: str) -> None:
    answers, truth = crowd(labels, seed=len(labels))
    golden = truth.iloc[:150]  # enough golden tasks that every worker met one (gold_mv needs it)
    coded = as_codes(answers, seed=1)
    expected = agg.aggregate(answers, method=method, true_labels=golden)
    got = agg.aggregate(coded, method=method, true_labels=golden)
    assert_frame_equal(got, expected, check_exact=True)


@pytest.mark.parametrize("dtype", ["object", "str"])
def test_encoded_codes_and_uniques_are_the_plain_columns(dtype: str) -> None:
    answers, _ = crowd(("b", "a", "c"), seed=7, dtype=dtype)
    assert answers["label"].dtype == dtype
    plain, coded = encode_answers(answers), encode_answers(as_codes(answers, seed=2))
    for name in ("tasks", "workers", "labels"):
        assert_index_equal(getattr(coded, name), getattr(plain, name), exact=True)
    for name in ("task", "worker", "label"):
        assert np.array_equal(getattr(coded, name), getattr(plain, name))
        assert getattr(coded, name).dtype == getattr(plain, name).dtype == np.int16  # narrow codes


def test_ties_break_by_the_label_that_sorts_first_not_the_first_category() -> None:
    frame = pd.DataFrame({"task": ["t1", "t1", "t2"], "worker": ["w1", "w2", "w1"],
                          "label": ["dog", "cat", "dog"]}, dtype=object)
    coded = frame.copy()
    coded["label"] = pd.Categorical(frame["label"], categories=["dog", "cat"])  # dog first by category
    assert agg.aggregate(coded)["label"].tolist() == agg.aggregate(frame)["label"].tolist() == ["cat", "dog"]


def test_incomparable_values_keep_first_appearance_as_in_an_object_column() -> None:
    frame = pd.DataFrame({"task": ["t1", "t1", "t2", "t2"], "worker": ["w1", "w2", "w1", "w2"],
                          "label": [("x", 1), 2, 2, ("x", 1)]}, dtype=object)
    coded = frame.copy()
    coded["label"] = pd.Categorical.from_codes([1, 0, 0, 1], categories=pd.Index([2, ("x", 1)], dtype=object))
    assert_index_equal(encode_answers(coded).labels, encode_answers(frame).labels, exact=True)
    assert_frame_equal(agg.aggregate(coded), agg.aggregate(frame), check_exact=True)


def test_a_missing_code_raises_as_a_missing_value_does() -> None:
    frame = pd.DataFrame({"task": ["t1", "t2"], "worker": ["w1", "w1"], "label": ["cat", None]}, dtype=object)
    coded = frame.copy()
    coded["label"] = pd.Categorical(frame["label"], categories=["cat"])
    with pytest.raises(ValueError, match=r"column 'label': 1 of 2 rows have no value"):
        encode_answers(coded)
    with pytest.raises(ValueError, match=r"column 'label': 1 of 2 rows have no value"):
        encode_answers(frame)
