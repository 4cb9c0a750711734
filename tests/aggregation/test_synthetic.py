"""simulate_crowd: the seeded crowd behind the tests and the benchmark."""

from __future__ import annotations

import pytest

from annotate_core.aggregation import simulate_crowd


def test_shape_overlap_and_determinism() -> None:
    answers, truth = simulate_crowd(1000, overlap=4, n_workers=50, seed=3)
    assert len(answers) == 4000 and len(truth) == 1000
    assert (answers.groupby("task")["worker"].nunique() == 4).all()  # distinct workers per task
    again, _ = simulate_crowd(1000, overlap=4, n_workers=50, seed=3)
    assert answers.equals(again)
    other, _ = simulate_crowd(1000, overlap=4, n_workers=50, seed=4)
    assert not answers.equals(other)


def test_accuracy_range_and_labels() -> None:
    answers, truth = simulate_crowd(20000, overlap=3, labels=("a", "b", "c"), accuracy=(0.7, 0.7),
                                    string_ids=True, seed=5)
    right = (answers["label"].to_numpy() == truth.reindex(answers["task"]).to_numpy()).mean()
    assert right == pytest.approx(0.7, abs=0.01)
    assert set(answers["label"]) == {"a", "b", "c"}
    assert answers["task"].iloc[0] == "t0" and str(answers["worker"].iloc[0]).startswith("w")


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="overlap"):
        simulate_crowd(10, overlap=5, n_workers=3)
    with pytest.raises(ValueError, match="at least two labels"):
        simulate_crowd(10, labels=("only",))
