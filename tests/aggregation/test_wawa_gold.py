"""Wawa and GoldMajorityVote: skills from agreement (with the vote, or with golden tasks)."""

from __future__ import annotations

import pandas as pd
import pytest

import annotate_core.aggregation as agg

from . import naive


def test_wawa_matches_the_three_naive_steps() -> None:
    answers, _ = agg.simulate_crowd(2000, overlap=5, n_workers=50, labels=("a", "b", "c"),
                                    accuracy=(0.3, 0.95), seed=12)
    model = agg.Wawa()
    labels = model.fit_predict(answers)
    _, mv = naive.majority_vote(answers)
    skills = naive.accuracy_skills(answers, mv)
    assert model.skills_.to_dict() == pytest.approx(skills)
    assert labels.to_dict() == naive.weighted_vote(answers, skills)
    assert model.probas_.sum(axis=1).to_numpy() == pytest.approx(1.0)


def test_wawa_fit_then_predict_and_unknown_workers() -> None:
    answers, _ = agg.simulate_crowd(100, overlap=3, n_workers=10, seed=13)
    model = agg.Wawa().fit(answers)
    assert model.predict(answers).equals(agg.Wawa().fit_predict(answers))
    assert model.predict_proba(answers).shape == (100, 2)
    stranger = pd.DataFrame({"task": [0], "worker": ["nobody"], "label": [1]})
    with pytest.raises(ValueError, match="have no skill"):
        model.predict(stranger)
    with pytest.raises(ValueError, match="call fit"):
        agg.Wawa().predict(answers)


def test_gold_majority_vote_skills_and_votes() -> None:
    answers, truth = agg.simulate_crowd(600, overlap=3, n_workers=15, accuracy=(0.3, 0.95), seed=14)
    known = truth.iloc[::2]
    model = agg.GoldMajorityVote()
    labels = model.fit_predict(answers, known)
    skills = naive.accuracy_skills(answers, known.to_dict())
    assert model.skills_.to_dict() == pytest.approx(skills)
    assert labels.to_dict() == naive.weighted_vote(answers, skills)
    assert (labels == truth).mean() >= (agg.MajorityVote().fit_predict(answers) == truth).mean()


def test_gold_majority_vote_workers_without_golden_answers() -> None:
    df = pd.DataFrame({"task": ["g", "g", "t", "t", "t"], "worker": ["a", "b", "a", "b", "c"],
                       "label": ["x", "y", "y", "x", "x"]})
    known = pd.Series({"g": "x"})
    with pytest.raises(ValueError, match=r"worker 'c'"):
        agg.GoldMajorityVote().fit_predict(df, known)
    lenient = agg.GoldMajorityVote(on_missing_skill="value", default_skill=0.5)
    # on t: a (skill 1) says y; b (0) and c (default 0.5) say x
    assert lenient.fit_predict(df, known).to_dict() == {"g": "x", "t": "y"}
    assert lenient.skills_.to_dict() == {"a": 1.0, "b": 0.0}


def test_gold_majority_vote_needs_golden_answers() -> None:
    df = pd.DataFrame({"task": ["t"], "worker": ["a"], "label": ["x"]})
    with pytest.raises(ValueError, match="none of the given tasks has answers"):
        agg.GoldMajorityVote().fit(df, pd.Series({"other": "x"}))
    with pytest.raises(ValueError, match="needs the known labels"):
        agg.aggregate(df, "gold_mv")
