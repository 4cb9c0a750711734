"""Majority-vote ties: the label that sorts first wins, whatever the row order (documented rule).

crowd-kit leaves ties to an undocumented label order (its issue #108: first appearance for text
labels); here the rule is stated, and these tests pin it down.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pandas as pd
import pytest

import annotate_core.aggregation as agg

from . import naive

pytestmark = pytest.mark.filterwarnings("ignore::Warning:crowdkit")


def frame(rows: list[tuple[object, object, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


def test_tie_goes_to_the_label_that_sorts_first() -> None:
    text = agg.MajorityVote().fit_predict(frame([("t1", "w1", "dog"), ("t1", "w2", "cat")]))
    assert text["t1"] == "cat"
    numbers = agg.MajorityVote().fit_predict(frame([("t", "a", 1), ("t", "b", 0), ("u", "a", 2)]))
    assert numbers["t"] == 0


def test_tie_rule_does_not_depend_on_row_order() -> None:
    answers, _ = agg.simulate_crowd(400, overlap=4, n_workers=30, labels=("z", "y", "x"), seed=5)
    first = agg.MajorityVote().fit_predict(answers)
    for seed in range(3):
        shuffled = answers.sample(frac=1.0, random_state=seed)
        assert agg.MajorityVote().fit_predict(shuffled).equals(first)


def test_three_way_tie_and_confidence_in_aggregate() -> None:
    df = frame([("t", "w1", "b"), ("t", "w2", "c"), ("t", "w3", "a")])
    out = agg.aggregate(df, "mv")
    assert out.loc[0, "label"] == "a"
    assert out.loc[0, "confidence"] == pytest.approx(1 / 3)


def test_unsortable_labels_fall_back_to_first_appearance() -> None:
    """Labels of types that cannot be compared (a tuple and an int) keep their order of first
    appearance; still deterministic for a given frame."""
    df = frame([("t", "w1", (1, 2)), ("t", "w2", 5)])
    assert agg.MajorityVote().fit_predict(df)["t"] == (1, 2)
    assert agg.MajorityVote().fit_predict(df.iloc[::-1])["t"] == 5


def test_ties_match_the_naive_rule_on_a_crowd_full_of_ties(crowdkit: ModuleType | None) -> None:
    """On a crowd with many ties, every task's label is the naive implementation's winner (most
    votes, smallest label); crowd-kit agrees wherever the vote is not tied, and its probabilities
    agree everywhere."""
    answers, _ = agg.simulate_crowd(
        300, overlap=4, n_workers=40, labels=("bird", "cat", "dog"), priors=(0.2, 0.3, 0.5),
        accuracy=(0.35, 0.9), string_ids=True, seed=3,
    )
    ours = agg.MajorityVote().fit(answers)
    _, winners = naive.majority_vote(answers)
    assert ours.labels_.to_dict() == winners
    top = ours.probas_.max(axis=1)
    tied = ours.probas_.eq(top, axis=0).sum(axis=1) > 1
    assert tied.sum() >= 20
    if crowdkit is not None:
        theirs = crowdkit.MajorityVote().fit(answers)
        probas = theirs.probas_.reindex(index=ours.probas_.index, columns=ours.probas_.columns)
        np.testing.assert_allclose(ours.probas_.to_numpy(), probas.to_numpy())
        untied = ~tied
        assert (ours.labels_[untied] == theirs.labels_[ours.labels_.index[untied]]).all()
