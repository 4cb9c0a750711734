"""Aggregation: turn overlapping answers into one label per task.

The classes keep crowd-kit's interface (``fit`` / ``fit_predict`` / ``fit_predict_proba`` and its
fitted attribute names ``labels_``, ``probas_``, ``skills_``, ``errors_``, ``priors_``, GLAD's
``alphas_`` / ``betas_``, MACE's ``spamming_`` / ``thetas_``), so code moves between the two
libraries by changing an import; they compute the same results on integer codes with numpy, tens
of times faster. Input is the answers DataFrame (columns ``task``,
``worker``, ``label``; any hashable labels; other columns ignored).

    from annotate_core.aggregation import DawidSkene, aggregate
    labels = DawidSkene(n_iter=100).fit_predict(answers)
    table = aggregate(answers, method="ds")   # task, label, confidence, n_answers

Ties, the one rule every method follows (``_base.choose``): labels whose probability is within
``TIE_TOLERANCE`` (1e-9) of a task's highest are tied, and the tie goes to the label that sorts
first (``0`` before ``1``, ``"cat"`` before ``"dog"``; labels of types that cannot be compared keep
their order of first appearance). The tolerance makes the rule hold in floating point: an EM
posterior that is exactly 1/2 each way can come out 0.49999999999999994 / 0.5000000000000001, and
skill weights 0.1 + 0.2 outweigh 0.3 in binary. The result does not depend on row order.
"""

from annotate_core.aggregation._base import BaseAggregator
from annotate_core.aggregation.dawid_skene import DawidSkene, OneCoinDawidSkene
from annotate_core.aggregation.glad import GLAD
from annotate_core.aggregation.mace import MACE
from annotate_core.aggregation.majority import GoldMajorityVote, MajorityVote
from annotate_core.aggregation.registry import (
    AGGREGATORS,
    DEFAULT_METHOD,
    RESULT_COLUMNS,
    aggregate,
    available_methods,
    get_aggregator,
)
from annotate_core.aggregation.synthetic import simulate_crowd
from annotate_core.aggregation.wawa import Wawa

__all__ = [
    "AGGREGATORS",
    "DEFAULT_METHOD",
    "GLAD",
    "MACE",
    "RESULT_COLUMNS",
    "BaseAggregator",
    "DawidSkene",
    "GoldMajorityVote",
    "MajorityVote",
    "OneCoinDawidSkene",
    "Wawa",
    "aggregate",
    "available_methods",
    "get_aggregator",
    "simulate_crowd",
]
