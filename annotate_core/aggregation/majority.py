"""Majority vote, plain or weighted by worker skills, and its golden-set variant.

Interface as crowd-kit's ``MajorityVote`` and ``GoldMajorityVote`` so code moves either way; the
work is one ``np.bincount`` over (task, label) codes instead of a pandas group-by and unstack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from annotate_core.aggregation._base import (
    BaseAggregator,
    choose,
    empty_result,
    encoded,
    vote_fractions,
    vote_shares,
    worker_accuracy,
)
from annotate_core.aggregation._encode import EncodedAnswers, encode_golden

__all__ = ["GoldMajorityVote", "MajorityVote"]

OnMissingSkill = Literal["error", "ignore", "value"]
_ON_MISSING = ("error", "ignore", "value")


def _check_missing_skill_options(on_missing_skill: str, default_skill: float | None) -> None:
    if on_missing_skill not in _ON_MISSING:
        raise ValueError(
            f"on_missing_skill: {on_missing_skill!r} is not one of {', '.join(_ON_MISSING)}"
        )
    if on_missing_skill == "value" and default_skill is None:
        raise ValueError('default_skill: needed when on_missing_skill="value"')
    if on_missing_skill != "value" and default_skill is not None:
        raise ValueError('default_skill: only used with on_missing_skill="value"')


def answer_weights(
    enc: EncodedAnswers,
    skills: pd.Series | Mapping[Any, float],
    on_missing_skill: str,
    default_skill: float | None,
) -> tuple[EncodedAnswers, np.ndarray]:
    """Per-answer weights from per-worker ``skills``, handling workers without a skill.

    ``error`` raises naming how many answers lack a skill; ``ignore`` drops those answers (and
    raises if a task is left with none); ``value`` uses ``default_skill``. Returns the (possibly
    reduced) answers and their weights.
    """
    by_worker = skills if isinstance(skills, pd.Series) else pd.Series(skills, dtype=float)
    per_worker = by_worker.reindex(enc.workers).to_numpy(dtype=np.float64, na_value=np.nan)
    weights = per_worker[enc.worker]
    missing = np.isnan(weights)
    if not missing.any():
        return enc, weights
    n_missing = int(missing.sum())
    if on_missing_skill == "error":
        n_workers = int(np.isnan(per_worker).sum())
        raise ValueError(
            f"skills: {n_missing} answer(s) by {n_workers} worker(s) have no skill, e.g. worker "
            f"{enc.workers[np.flatnonzero(np.isnan(per_worker))[0]]!r}; give every worker a "
            f'skill or use on_missing_skill="ignore" or "value" with default_skill'
        )
    if on_missing_skill == "value":
        assert default_skill is not None
        weights[missing] = default_skill
        return enc, weights
    keep = ~missing
    left = np.bincount(enc.task[keep], minlength=enc.n_tasks)
    if (left == 0).any():
        raise ValueError(
            f"skills: {int((left == 0).sum())} task(s) have no answer by a worker with a known "
            f'skill (on_missing_skill="ignore"); give those workers skills or use "value"'
        )
    reduced = EncodedAnswers(
        enc.task[keep], enc.worker[keep], enc.label[keep], enc.tasks, enc.workers, enc.labels
    )
    return reduced, weights[keep]


class MajorityVote(BaseAggregator):
    """Majority vote: each task gets the label with the most answers (or the largest sum of skills).

    ``probas_`` holds each label's share of the task's votes; ``skills_`` each worker's agreement
    with the aggregated labels (as crowd-kit: a repeated identical answer counts once).

    Ties (vote shares within 1e-9, so weights 0.1 + 0.2 tie with 0.3): the label that sorts first
    wins (``0`` before ``1``, ``"cat"`` before ``"dog"``); see the package docstring for the rule
    every method shares.

    Parameters as crowd-kit: ``on_missing_skill`` ("error", "ignore" or "value") and
    ``default_skill`` say what ``fit(data, skills)`` does with workers that have no skill.
    """

    _params = ("on_missing_skill", "default_skill")

    def __init__(
        self, on_missing_skill: OnMissingSkill = "error", default_skill: float | None = None
    ) -> None:
        _check_missing_skill_options(on_missing_skill, default_skill)
        self.on_missing_skill = on_missing_skill
        self.default_skill = default_skill
        self._skills: pd.Series | None = None
        self._skills_from: tuple[EncodedAnswers, np.ndarray] | None = None

    @property
    def skills_(self) -> pd.Series | None:
        """Each worker's share of answers equal to the aggregated label (Series ``skill``).

        Measured on first access, not in ``fit``: it costs more than the vote itself (repeated
        answers must be found), and most callers only want the labels. Until then the fitted
        object keeps the answers' integer codes.
        """
        if self._skills_from is not None:
            enc, codes = self._skills_from
            self._skills, self._skills_from = worker_accuracy(enc, codes), None
        return self._skills

    @skills_.setter
    def skills_(self, value: pd.Series | None) -> None:
        self._skills, self._skills_from = value, None

    def fit(
        self, data: pd.DataFrame, skills: pd.Series | Mapping[Any, float] | None = None
    ) -> MajorityVote:
        """Count votes in ``data`` (columns task, worker, label), weighted by ``skills`` if any."""
        return self._fit_encoded(encoded(data), skills)

    def _fit_encoded(
        self,
        enc: EncodedAnswers,
        skills: pd.Series | Mapping[Any, float] | None = None,
        *,
        measure_skills: bool = True,
    ) -> MajorityVote:
        """``fit`` on encoded answers; ``measure_skills=False`` skips ``skills_`` (for callers that
        only need the vote, such as Wawa's and GoldMajorityVote's predict)."""
        if enc.n_answers == 0:
            self.probas_, self.labels_ = empty_result(enc)
            self.skills_ = pd.Series([], index=enc.workers, name="skill", dtype=float)
            return self
        if skills is None:
            probs, codes = vote_fractions(enc)
        else:
            enc, weights = answer_weights(enc, skills, self.on_missing_skill, self.default_skill)
            probs = vote_shares(enc, weights)
            codes = choose(probs)
        self._set_result(enc, probs, codes)
        self.skills_ = None
        if measure_skills:
            self._skills_from = (enc, codes)
        return self


class SkillWeightedPredictor(BaseAggregator):
    """Methods that measure worker skills in ``fit``, then predict by a skill-weighted vote."""

    skills_: pd.Series | None

    def _majority(self) -> MajorityVote:
        return MajorityVote()

    def predict(self, data: pd.DataFrame) -> pd.Series:
        """Skill-weighted majority vote on ``data`` with the skills measured by ``fit``."""
        self._predict_encoded(encoded(data))
        assert self.labels_ is not None
        return self.labels_

    def predict_proba(self, data: pd.DataFrame) -> pd.DataFrame:
        self._predict_encoded(encoded(data))
        assert self.probas_ is not None
        return self.probas_

    def _predict_encoded(self, enc: EncodedAnswers) -> SkillWeightedPredictor:
        if self.skills_ is None:
            raise ValueError(f"{type(self).__name__}: call fit(...) before predict")
        mv = self._majority()._fit_encoded(enc, self.skills_, measure_skills=False)
        self.probas_, self.labels_ = mv.probas_, mv.labels_
        return self


class GoldMajorityVote(SkillWeightedPredictor):
    """Majority vote weighted by each worker's accuracy on golden tasks (known true labels).

    ``fit(data, true_labels)`` measures ``skills_``: the share of a worker's answers on golden
    tasks that match the known label. ``predict(data)`` then runs a skill-weighted majority vote.
    As in crowd-kit, a worker with no golden answer has no skill; what happens to their answers
    is set by ``on_missing_skill`` / ``default_skill`` (crowd-kit always raises: "error").
    Ties go to the label that sorts first, as in ``MajorityVote``.
    """

    _params = ("on_missing_skill", "default_skill")

    def __init__(
        self, on_missing_skill: OnMissingSkill = "error", default_skill: float | None = None
    ) -> None:
        _check_missing_skill_options(on_missing_skill, default_skill)
        self.on_missing_skill = on_missing_skill
        self.default_skill = default_skill
        self.skills_: pd.Series | None = None

    def fit(  # type: ignore[override]
        self, data: pd.DataFrame, true_labels: pd.Series | Mapping[Any, Any]
    ) -> GoldMajorityVote:
        """Measure each worker's accuracy on the golden tasks of ``data``."""
        return self._fit_encoded(encoded(data), true_labels)

    def _fit_encoded(
        self, enc: EncodedAnswers, true_labels: pd.Series | Mapping[Any, Any] | None
    ) -> GoldMajorityVote:
        if true_labels is None:
            raise ValueError("true_labels: GoldMajorityVote needs the known labels of some tasks")
        enc, golden = encode_golden(enc, true_labels)
        if enc.n_answers and len(golden) == 0:
            raise ValueError(
                "true_labels: none of the given tasks has answers in data; GoldMajorityVote "
                "needs answers on golden tasks to measure skills"
            )
        reference = np.full(enc.n_tasks, -1, dtype=np.intp)
        reference[golden.task] = golden.label
        self.skills_ = worker_accuracy(enc, reference)
        return self

    def _majority(self) -> MajorityVote:
        return MajorityVote(self.on_missing_skill, self.default_skill)

    def fit_predict(
        self, data: pd.DataFrame, true_labels: pd.Series | Mapping[Any, Any]
    ) -> pd.Series:
        enc = encoded(data)
        self._fit_encoded(enc, true_labels)._predict_encoded(enc)
        assert self.labels_ is not None
        return self.labels_

    def fit_predict_proba(
        self, data: pd.DataFrame, true_labels: pd.Series | Mapping[Any, Any]
    ) -> pd.DataFrame:
        enc = encoded(data)
        self._fit_encoded(enc, true_labels)._predict_encoded(enc)
        assert self.probas_ is not None
        return self.probas_
