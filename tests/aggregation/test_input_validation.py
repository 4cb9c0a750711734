"""Bad input gets a ValueError naming the column and the problem; edge cases, defined results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import annotate_core.aggregation as agg

METHODS = ("mv", "ds", "ocds", "wawa")


def frame(rows: list[tuple[object, object, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


def fit(method: str, df: pd.DataFrame) -> pd.Series:
    return agg.get_aggregator(method).fit_predict(df)


@pytest.mark.parametrize("method", METHODS)
def test_missing_column_is_named(method: str) -> None:
    df = pd.DataFrame({"task": ["t"], "label": ["x"]})
    with pytest.raises(ValueError, match=r"missing column\(s\) 'worker'"):
        fit(method, df)
    with pytest.raises(ValueError, match="'worker'"):
        agg.aggregate(df, method)


def test_not_a_dataframe() -> None:
    with pytest.raises(TypeError, match="expected a pandas DataFrame"):
        agg.MajorityVote().fit([("t", "w", "x")])  # type: ignore[arg-type]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("missing", [None, np.nan])
def test_rows_without_a_label_raise_with_their_count(method: str, missing: object) -> None:
    df = frame([("t1", "w1", "x"), ("t1", "w2", missing), ("t2", "w1", missing), ("t2", "w3", "y")])
    with pytest.raises(ValueError, match=r"column 'label': 2 of 4 rows have no value") as err:
        fit(method, df)
    assert "dropna(subset=['label'])" in str(err.value)
    with pytest.raises(ValueError, match="2 of 4 rows"):
        agg.aggregate(df, method)


@pytest.mark.parametrize("column", ["task", "worker"])
def test_missing_task_or_worker_is_named(column: str) -> None:
    df = frame([("t1", "w1", "x"), ("t2", "w2", "y")])
    df.loc[1, column] = None
    with pytest.raises(ValueError, match=rf"column '{column}': 1 of 2 rows have no value"):
        agg.DawidSkene().fit(df)


def test_unhashable_labels_are_refused_clearly() -> None:
    df = frame([("t1", "w1", ["a", "b"]), ("t1", "w2", ["a"])])
    with pytest.raises(ValueError, match=r"column 'label' holds unhashable values \(list\)"):
        agg.MajorityVote().fit(df)


@pytest.mark.parametrize("method", METHODS)
def test_empty_frame_gives_empty_results(method: str) -> None:
    df = frame([])
    model = agg.get_aggregator(method)
    labels = model.fit_predict(df)
    assert labels.empty and labels.name == "agg_label" and labels.index.name == "task"
    assert model.probas_.shape[0] == 0
    table = agg.aggregate(df, method)
    assert table.empty and list(table.columns) == list(agg.RESULT_COLUMNS)


@pytest.mark.parametrize("method", METHODS)
def test_a_single_label_value_wins_with_certainty(method: str) -> None:
    df = frame([("t1", "w1", "x"), ("t1", "w2", "x"), ("t2", "w1", "x")])
    model = agg.get_aggregator(method)
    assert model.fit_predict(df).to_dict() == {"t1": "x", "t2": "x"}
    assert (model.probas_.to_numpy() == 1.0).all()
    table = agg.aggregate(df, method)
    assert table["confidence"].tolist() == [1.0, 1.0] and table["n_answers"].tolist() == [2, 1]


@pytest.mark.parametrize("method", ["mv", "ocds", "wawa"])
def test_one_answer_per_task_keeps_that_answer(method: str) -> None:
    df = frame([("a", "w1", "x"), ("b", "w2", "y"), ("c", "w1", "y"), ("d", "w3", "x")])
    assert fit(method, df).to_dict() == {"a": "x", "b": "y", "c": "y", "d": "x"}


def test_one_answer_per_task_dawid_skene_is_defined() -> None:
    """A worker who used one label only carries no information in Dawid-Skene (their confusion
    column is flat), so their lone task falls back to the priors: a defined, finite result."""
    df = frame([("a", "w1", "x"), ("b", "w2", "y"), ("c", "w1", "y"), ("d", "w3", "x")])
    model = agg.DawidSkene().fit(df)
    assert np.isfinite(model.probas_.to_numpy()).all()
    assert model.labels_[["a", "c"]].tolist() == ["x", "y"]  # w1 used both labels: trusted
    assert model.probas_.loc["b"].tolist() == pytest.approx([0.5, 0.5])


def test_extra_columns_are_ignored() -> None:
    df = frame([("t1", "w1", "x"), ("t1", "w2", "x"), ("t1", "w3", "y")])
    noisy = df.assign(status="accepted", duration_s=[1.0, np.nan, 3.0], golden=False)
    for method in METHODS:
        assert fit(method, noisy).equals(fit(method, df))


def test_label_types_are_kept() -> None:
    ints = frame([("t1", "w1", 3), ("t1", "w2", 3), ("t2", "w1", 7)])
    assert agg.DawidSkene().fit_predict(ints).dtype == np.int64
    bools = frame([("t1", "w1", True), ("t1", "w2", True), ("t2", "w1", False)])
    assert agg.MajorityVote().fit_predict(bools).tolist() == [True, False]
    tuples = frame([("t1", "w1", ("a", 1)), ("t1", "w2", ("a", 1)), ("t1", "w3", ("b", 2))])
    assert agg.MajorityVote().fit_predict(tuples)["t1"] == ("a", 1)


def test_object_columns_as_the_answers_frame_has_them() -> None:
    """The core's answers frame holds ids and labels in object columns."""
    df = frame([("i1", "w1", "cat"), ("i1", "w2", "cat"), ("i2", "w1", "dog")]).astype(object)
    table = agg.aggregate(df, "ds")
    assert table["label"].tolist() == ["cat", "dog"]
    assert table["task"].tolist() == ["i1", "i2"]


def test_bad_constructor_parameters() -> None:
    with pytest.raises(ValueError, match="on_missing_skill"):
        agg.MajorityVote(on_missing_skill="skip")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="default_skill"):
        agg.MajorityVote(on_missing_skill="value")
    with pytest.raises(ValueError, match="default_skill"):
        agg.MajorityVote(default_skill=0.5)
    with pytest.raises(ValueError, match="n_iter"):
        agg.DawidSkene(n_iter=-1)
