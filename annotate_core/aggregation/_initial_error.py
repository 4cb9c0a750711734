"""Dawid-Skene's ``initial_error``: confusion matrices known from history, used for the first M-step.

As crowd-kit's ``initial_error_apply``: the table is indexed by (worker, observed label), one column
per true label. ``"assign"`` replaces the first M-step's counts with it (every (worker, label) pair
in the data needs a row; probabilities must sum to 1 per worker and true label); ``"addition"``
adds its counts to the first M-step's (partial tables are fine). Either way the result is clipped
at 1e-10 and normalised per worker over all of that worker's rows, including rows for labels the
worker did not give in this data. Later iterations use the data alone.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from annotate_core.aggregation._base import EPS
from annotate_core.aggregation._em import Pairs
from annotate_core.aggregation._encode import EncodedAnswers

InitialErrorStrategy = Literal["assign", "addition"]
STRATEGIES = ("assign", "addition")


def check_strategy(strategy: str | None) -> None:
    if strategy is not None and strategy not in STRATEGIES:
        raise ValueError(
            f"initial_error_strategy: {strategy!r} is not one of 'assign', 'addition' (or None)"
        )


def _check_table(table: object, enc: EncodedAnswers, strategy: str) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            f"initial_error: expected a pandas DataFrame indexed by (worker, label), got {type(table).__name__}"
        )
    if list(table.index.names) != ["worker", "label"]:
        raise ValueError(
            f"initial_error: the index must be (worker, label), got {list(table.index.names)}"
        )
    unknown = table.columns[enc.labels.get_indexer(table.columns) < 0]
    if len(unknown):
        raise ValueError(
            f"initial_error: column(s) for true label(s) not in the data, e.g. {unknown[0]!r}; "
            f"labels are {list(enc.labels)}"
        )
    missing = enc.labels[~enc.labels.isin(table.columns)]
    if strategy == "assign" and len(missing):
        raise ValueError(
            f'initial_error: "assign" needs a column for every label; missing {list(missing)}'
        )
    values = table.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(values).any():
        raise ValueError("initial_error: has missing (NaN) values; use 0 for no history")
    if strategy == "assign" and (values <= 1.0).all():
        sums = table.groupby(level="worker", sort=False).sum()
        if not np.allclose(sums.to_numpy(dtype=np.float64), 1.0):
            raise ValueError(
                "initial_error: with probabilities (all values <= 1), each worker's column for each "
                "true label must sum to 1.0"
            )
    return table


def initial_errors(
    enc: EncodedAnswers,
    pairs: Pairs,
    counts: np.ndarray,
    table: pd.DataFrame,
    strategy: InitialErrorStrategy,
) -> np.ndarray:
    """The (K, P) error table of the first M-step, ``table`` applied to the data's ``counts``."""
    _check_table(table, enc, strategy)
    k = enc.n_labels
    # (K, rows): the table's values as true label x row, columns in our label order (0 if absent)
    columns = enc.labels.get_indexer(table.columns)
    values = np.zeros((k, len(table)))
    values[columns] = table.to_numpy(dtype=np.float64).T
    worker = enc.workers.get_indexer(table.index.get_level_values("worker"))
    label = enc.labels.get_indexer(table.index.get_level_values("label"))
    # the row's pair code, or -1: pairs are sorted (worker, label) keys
    key = np.where((worker >= 0) & (label >= 0), worker.astype(np.int64) * k + label, -1)
    pair_keys = pairs.worker.astype(np.int64) * k + pairs.label
    pos = np.searchsorted(pair_keys, key)
    pos = np.minimum(pos, max(pairs.n - 1, 0))
    pair = np.where((key >= 0) & (pair_keys[pos] == key), pos, -1)
    if pd.Index(pair[pair >= 0]).has_duplicates:
        raise ValueError("initial_error: a (worker, label) row appears twice")
    seen = pair >= 0
    if strategy == "assign":
        covered = np.zeros(pairs.n, dtype=bool)
        covered[pair[seen]] = True
        if not covered.all():
            absent = np.flatnonzero(~covered)
            workers = np.unique(pairs.worker[absent])
            raise ValueError(
                f'initial_error: "assign" needs a row for every (worker, label) pair in the data; '
                f"{len(absent)} pair(s) of {len(workers)} worker(s) have none, e.g. worker "
                f"{enc.workers[workers[0]]!r} label {enc.labels[pairs.label[absent[0]]]!r}"
            )
        observed = np.zeros_like(counts)
    else:
        observed = np.array(counts, dtype=np.float64, copy=True)
    observed[:, pair[seen]] += values[:, seen]
    np.maximum(observed, EPS, out=observed)
    totals = pairs.per_worker_sum(observed)
    # rows of workers in the data for labels they did not give here still count in their totals
    extra = (worker >= 0) & ~seen
    if extra.any():
        clipped = np.maximum(values[:, extra], EPS)
        for c in range(k):
            totals[c] += np.bincount(worker[extra], weights=clipped[c], minlength=enc.n_workers)
    observed /= totals.take(pairs.worker, axis=1)
    return observed
