"""The real bluebirds crowd (Welinder et al. 2010): the published reference accuracies."""

from __future__ import annotations

import pandas as pd
import pytest

import annotate_core.aggregation as agg


def accuracy(labels: pd.Series, truth: pd.Series) -> float:
    return float((labels.reindex(truth.index) == truth).mean())


def test_data_is_what_the_readme_says(bluebirds_data: tuple[pd.DataFrame, pd.Series]) -> None:
    answers, truth = bluebirds_data
    assert len(answers) == 4212
    assert answers["task"].nunique() == 108 == len(truth)
    assert answers["worker"].nunique() == 39


@pytest.mark.parametrize(
    ("method", "expected"),
    [("mv", 0.759), ("ds", 0.889), ("wawa", 0.759), ("ocds", 0.583), ("glad", 0.722),
     ("mace", 0.861)],
)
def test_reference_accuracy(
    bluebirds_data: tuple[pd.DataFrame, pd.Series], method: str, expected: float
) -> None:
    answers, truth = bluebirds_data
    labels = agg.get_aggregator(method).fit_predict(answers)
    assert round(accuracy(labels, truth), 3) == expected


def test_aggregate_table_on_bluebirds(bluebirds_data: tuple[pd.DataFrame, pd.Series]) -> None:
    answers, truth = bluebirds_data
    table = agg.aggregate(answers, method="ds")
    assert list(table.columns) == ["task", "label", "confidence", "n_answers"]
    assert len(table) == 108 and (table["n_answers"] == 39).all()
    assert table["confidence"].between(0.5, 1.0).all()
    assert round(accuracy(table.set_index("task")["label"], truth), 3) == 0.889


def test_golden_tasks_help_dawid_skene(bluebirds_data: tuple[pd.DataFrame, pd.Series]) -> None:
    """Clamping a third of the tasks to their truth calibrates the workers: accuracy on the other
    two thirds does not drop below plain Dawid-Skene's there."""
    answers, truth = bluebirds_data
    golden = truth.iloc[::3]
    rest = truth.drop(golden.index)
    plain = agg.DawidSkene().fit_predict(answers)
    clamped = agg.DawidSkene().fit_predict(answers, golden)
    assert (clamped[golden.index] == golden).all()
    assert accuracy(clamped, rest) >= accuracy(plain, rest)
