"""Wawa (worker agreement with aggregate): majority vote re-weighted by agreement with itself.

A cheap step up from majority vote when no golden tasks exist: workers who usually side with the
majority get more say. Interface as crowd-kit's ``Wawa``.
"""

from __future__ import annotations

import pandas as pd

from annotate_core.aggregation._base import choose, encoded, vote_shares
from annotate_core.aggregation._base import worker_accuracy as _worker_accuracy
from annotate_core.aggregation._encode import EncodedAnswers
from annotate_core.aggregation.majority import SkillWeightedPredictor

__all__ = ["Wawa"]


class Wawa(SkillWeightedPredictor):
    """Three steps: majority vote; each worker's skill = share of their answers equal to it;
    majority vote weighted by those skills.

    ``fit(data)`` measures ``skills_``; ``predict(data)`` runs the weighted vote (workers unseen at
    fit time raise ``ValueError``, as crowd-kit's does); ``fit_predict`` does both on one frame.
    Ties in either vote go to the label that sorts first, as in ``MajorityVote``.
    """

    def __init__(self) -> None:
        self.skills_: pd.Series | None = None

    def fit(self, data: pd.DataFrame) -> Wawa:
        """Measure each worker's agreement with the plain majority vote on ``data``."""
        return self._fit_encoded(encoded(data))

    def _fit_encoded(self, enc: EncodedAnswers) -> Wawa:
        if enc.n_answers == 0:
            self.skills_ = pd.Series([], index=enc.workers, name="skill", dtype=float)
            return self
        self.skills_ = _worker_accuracy(enc, choose(vote_shares(enc)))
        return self

    def fit_predict(self, data: pd.DataFrame) -> pd.Series:
        enc = encoded(data)
        self._fit_encoded(enc)._predict_encoded(enc)
        assert self.labels_ is not None
        return self.labels_

    def fit_predict_proba(self, data: pd.DataFrame) -> pd.DataFrame:
        enc = encoded(data)
        self._fit_encoded(enc)._predict_encoded(enc)
        assert self.probas_ is not None
        return self.probas_
