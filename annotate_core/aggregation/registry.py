"""Aggregators by name, and ``aggregate``: the one-call results table ``job.results`` uses.

Names are what users type (``job.results(method="ds")``, a CLI flag, a config value), so both
short names and crowd-kit class names work, case-insensitively, and a wrong one lists the valid
choices.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from annotate_core.aggregation._base import BaseAggregator, choose, empty_result
from annotate_core.aggregation._encode import encode_answers, encode_golden
from annotate_core.aggregation.dawid_skene import DawidSkene, OneCoinDawidSkene
from annotate_core.aggregation.glad import GLAD
from annotate_core.aggregation.mace import MACE
from annotate_core.aggregation.majority import GoldMajorityVote, MajorityVote
from annotate_core.aggregation.wawa import Wawa
from annotate_core.defaults import DEFAULT_METHOD as DEFAULT_METHOD  # re-exported: one definition

__all__ = ["AGGREGATORS", "RESULT_COLUMNS", "aggregate", "available_methods", "get_aggregator"]

# short name -> class; class names (and snake_case forms) are accepted too.
AGGREGATORS: dict[str, type[BaseAggregator]] = {
    "mv": MajorityVote,
    "ds": DawidSkene,
    "ocds": OneCoinDawidSkene,
    "one_coin": OneCoinDawidSkene,
    "wawa": Wawa,
    "gold_mv": GoldMajorityVote,
    "glad": GLAD,
    "mace": MACE,
}

_LONG_NAMES: dict[str, type[BaseAggregator]] = {
    "majority_vote": MajorityVote,
    "dawid_skene": DawidSkene,
    "one_coin_dawid_skene": OneCoinDawidSkene,
    "gold_majority_vote": GoldMajorityVote,
}

RESULT_COLUMNS = ("task", "label", "confidence", "n_answers")
#: ``DEFAULT_METHOD`` lives in annotate_core.defaults (imported above) so that Job loads no numpy


def available_methods() -> list[str]:
    """Every accepted name: short names, then class names."""
    classes = dict.fromkeys(cls.__name__ for cls in AGGREGATORS.values())
    return [*AGGREGATORS, *classes]


def _lookup() -> dict[str, type[BaseAggregator]]:
    table = {name.lower(): cls for name, cls in {**AGGREGATORS, **_LONG_NAMES}.items()}
    table.update({cls.__name__.lower(): cls for cls in AGGREGATORS.values()})
    return table


def get_aggregator(name: str, **params: Any) -> BaseAggregator:
    """A new aggregator for ``name`` ("mv", "ds", "ocds"/"one_coin", "wawa", "gold_mv", "glad",
    "mace" or a class name such as "DawidSkene"), built with ``params`` (e.g. ``n_iter=50``)."""
    if not isinstance(name, str):
        raise ValueError(
            f"method: expected a name, one of {', '.join(available_methods())}; "
            f"got {type(name).__name__}"
        )
    cls = _lookup().get(name.strip().lower().replace("-", "_"))
    if cls is None:
        raise ValueError(
            f"method: unknown aggregation method {name!r}; valid names: "
            f"{', '.join(available_methods())}"
        )
    return cls(**params)


def aggregate(
    df: pd.DataFrame,
    method: str | BaseAggregator = "mv",
    true_labels: pd.Series | Mapping[Any, Any] | None = None,
) -> pd.DataFrame:
    """One row per task: ``task``, ``label`` (aggregated), ``confidence``, ``n_answers``.

    ``df`` has columns task, worker, label (others are ignored). ``method`` is a name for
    ``get_aggregator`` or a configured aggregator instance. ``confidence`` is the probability of
    the chosen label: for majority vote, the label's share of the task's votes. ``n_answers``
    counts the task's rows.

    ``true_labels`` (task -> known label, e.g. golden items): Dawid-Skene and one-coin clamp them
    inside EM so they calibrate the workers; gold majority vote measures skills on them (and
    needs them); GLAD, MACE, majority vote and Wawa do not use them. Whatever the method, a task
    with a known label comes out with that label and confidence 1.0: the known answer beats any
    estimate of it.

    Rows are in task order (sorted when task ids are comparable). An empty ``df`` gives an empty
    table with these columns; missing columns or missing values raise ``ValueError``.
    """
    aggregator = method if isinstance(method, BaseAggregator) else get_aggregator(method)
    enc = encode_answers(df)
    if isinstance(aggregator, DawidSkene):
        aggregator._fit_encoded(enc, true_labels)
    elif isinstance(aggregator, GoldMajorityVote):
        aggregator._fit_encoded(enc, true_labels)._predict_encoded(enc)
    elif isinstance(aggregator, Wawa):
        aggregator._fit_encoded(enc)._predict_encoded(enc)
    elif isinstance(aggregator, MajorityVote | GLAD | MACE):
        aggregator._fit_encoded(enc)
    else:
        aggregator.fit(df)
    probas = aggregator.probas_ if enc.n_answers else empty_result(enc)[0]
    assert probas is not None
    if not isinstance(method, BaseAggregator):
        del aggregator  # its fitted state (labels, an EM's pairs) is not returned: free it first

    enc, golden = encode_golden(enc, true_labels)
    # Align the method's label columns with the (possibly widened) label set, then choose.
    if not (probas.index.equals(enc.tasks) and probas.columns.equals(enc.labels)):
        probas = probas.reindex(index=enc.tasks, columns=enc.labels, fill_value=0.0)
    probs = probas.to_numpy(dtype=np.float64)  # aligned already: a view, not a copy of the table
    del probas
    codes = choose(probs)
    confidence = probs[np.arange(probs.shape[0]), codes] if probs.size else np.zeros(0)
    if len(golden):
        codes[golden.task] = golden.label
        confidence[golden.task] = 1.0
    labels = enc.labels.take(codes) if enc.n_labels else pd.Index([], dtype=object)
    return pd.DataFrame(
        {
            "task": enc.tasks.to_numpy(),
            "label": labels.to_numpy() if len(labels) else np.empty(0, dtype=object),
            "confidence": confidence,
            "n_answers": enc.answers_per_task(),
        },
        columns=list(RESULT_COLUMNS),
        copy=False,  # the arrays are this table's own: no copy of each (nor one block of two)
    )
