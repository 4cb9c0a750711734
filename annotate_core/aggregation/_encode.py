"""Validate an answers frame once and turn it into integer codes every method computes on.

Every aggregation method works on three code arrays (task, worker, label) and the sorted unique
values behind them. Doing the checks and the hashing here, once, keeps the methods free of pandas
group-bys and gives every bad input the same clear ``ValueError`` instead of a numpy traceback
deep inside an EM loop.

Order: tasks, workers and labels are sorted when their values can be compared, else kept in the
order they first appear. Tie-breaking ("the label that sorts first") follows from this order.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS: tuple[str, str, str] = ("task", "worker", "label")


@dataclass(frozen=True)
class EncodedAnswers:
    """The answers as codes: ``tasks[task[i]]`` is the task of answer ``i``, and so on.

    ``task``, ``worker`` and ``label`` are integer arrays of one entry per answer, as narrow as
    their ranges allow (``code_dtype``: int16 / int32 / int64): at 3M answers three ``intp``
    arrays were 72 MB of a run's peak; int32 task codes with int16 workers and labels are 24.
    Arithmetic that can leave that range widens first (``cells``). ``tasks``, ``workers`` and
    ``labels`` are the unique values (named ``task`` / ``worker`` / ``label``).
    """

    task: np.ndarray
    worker: np.ndarray
    label: np.ndarray
    tasks: pd.Index
    workers: pd.Index
    labels: pd.Index

    @property
    def n_answers(self) -> int:
        return int(self.task.size)

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    @property
    def n_workers(self) -> int:
        return len(self.workers)

    @property
    def n_labels(self) -> int:
        return len(self.labels)

    def cells(self) -> np.ndarray:
        """``task * n_labels + label`` of each answer: its cell of a (tasks x labels) table, in
        the narrowest dtype that holds every cell."""
        k = self.n_labels
        dtype = code_dtype(self.n_tasks * max(k, 1))
        cells = self.task.astype(dtype)  # a copy: the product is formed in place
        cells *= k
        cells += self.label
        return cells

    def answers_per_task(self) -> np.ndarray:
        """How many answers (rows) each task has, in ``tasks`` order (read-only: counted once, as
        vote shares, the answer matrix and the models all ask)."""
        return self._answers_per_task

    @functools.cached_property
    def _answers_per_task(self) -> np.ndarray:
        counts = count_codes(self.task, self.n_tasks)
        counts.flags.writeable = False
        return counts

    def with_labels(self, extra: pd.Index) -> EncodedAnswers:
        """The same answers over a label set widened by ``extra`` (e.g. a golden label nobody gave).

        Codes are remapped so that the widened ``labels`` stay in the same (sorted) order rule.
        """
        missing = extra[~extra.isin(self.labels)].unique()
        if len(missing) == 0:
            return self
        widened = _ordered_unique(self.labels.append(missing))
        remap = widened.get_indexer(self.labels).astype(code_dtype(len(widened)))
        return EncodedAnswers(
            task=self.task,
            worker=self.worker,
            label=remap[self.label],
            tasks=self.tasks,
            workers=self.workers,
            labels=widened.rename("label"),
        )


def code_dtype(n: int) -> type[np.signedinteger[Any]]:
    """The narrowest dtype codes below ``n`` fit in (int16 at least: a few hundred workers or
    labels in 2 bytes an answer, and no int8 to overflow in a careless product)."""
    if n < 2**15:
        return np.int16
    return np.int32 if n < 2**31 else np.int64


def count_codes(codes: np.ndarray, minlength: int = 0) -> np.ndarray:
    """``np.bincount(codes, minlength=minlength)`` without its copy of the codes.

    ``np.bincount`` turns its input into an ``intp`` array first: for 3M int32 or int16 codes a
    24 MB copy at every call. ``np.add.at`` reads any integer dtype in place (and since numpy 1.25
    is as fast). Codes are never negative here (``encode_answers`` refuses missing values).
    """
    if codes.dtype == np.intp:
        return np.bincount(codes, minlength=minlength)
    out = np.zeros(max(minlength, int(codes.max()) + 1 if codes.size else 0), dtype=np.intp)
    np.add.at(out, codes, 1)
    return out


def sum_codes(codes: np.ndarray, weights: Any, minlength: int) -> np.ndarray:
    """``np.bincount(codes, weights, minlength)``, bit for bit, without copies of every answer's codes.

    Both add each weight into its bin in the order of the answers, so the float sums are the same
    to the last bit. ``weights`` is an array, a number (1.0: counts, as floats), or a function of
    ``(lo, hi)`` giving the weights of answers ``lo:hi``: then they are made a million at a time,
    never one float per answer at once.
    """
    out = np.zeros(minlength)
    if not callable(weights):
        np.add.at(out, codes, weights)
        return out
    for lo in range(0, codes.size, _SUM_CHUNK):
        hi = min(lo + _SUM_CHUNK, codes.size)
        np.add.at(out, codes[lo:hi], weights(lo, hi))
    return out


#: answers whose weights ``sum_codes`` makes at once
_SUM_CHUNK = 1 << 20


def _ordered_unique(values: pd.Index) -> pd.Index:
    """Unique values, sorted when they can be compared, else in order of first appearance."""
    uniques = values.unique()
    try:
        return uniques.sort_values()
    except TypeError:
        return uniques


def _dense_int_codes(column: pd.Series, name: str) -> tuple[np.ndarray, pd.Index] | None:
    """Sorted codes of a plain integer column whose values span a small range, without hashing.

    Integer ids (tasks 0..n, workers, 0/1 labels) are the common case; a bincount over the
    value range finds the uniques already sorted, several times faster than a hash table.
    """
    if not isinstance(column.dtype, np.dtype) or column.dtype.kind not in "iu" or column.empty:
        return None
    values = column.to_numpy()
    lo, hi = int(values.min()), int(values.max())
    span = hi - lo + 1
    if span > 4 * values.size + 65536:
        return None
    shifted = (values - lo) if lo else values
    present = count_codes(shifted if shifted.dtype.kind == "i" else shifted.astype(np.intp), span) > 0
    uniques = (np.flatnonzero(present) + lo).astype(column.dtype)
    dtype = code_dtype(uniques.size)
    if bool(present.all()):  # every value in the range present (the codes 0..n of streamed answers)
        # the values are their own codes, shifted: no lookup, and no copy when already narrow
        return shifted.astype(dtype, copy=False), pd.Index(uniques, name=name)
    codes = (np.cumsum(present) - 1).astype(dtype).take(shifted)
    return codes, pd.Index(uniques, name=name)


def _categorical_codes(column: pd.Series, name: str) -> tuple[np.ndarray, pd.Index] | None:
    """Codes of a categorical column, in the order its values would have as a plain column.

    A categorical's categories come in any order and may include values no row holds (answers
    streamed page by page are kept as codes against an index grown in order of appearance). Only
    the categories present are kept, ordered by the rule ``pd.factorize`` applies to the values
    themselves (sorted; first appearance when they cannot be compared), so labels, probabilities
    and ties are those of the same answers in an object column.
    """
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return None
    codes = column.cat.codes.to_numpy()  # int8/16/32 as pandas holds them: no intp copy of every row
    n_missing = int(np.count_nonzero(codes < 0))
    if n_missing:
        _raise_missing(name, n_missing, len(column))
    categories = column.cat.categories
    used = np.flatnonzero(count_codes(codes, len(categories)))
    values = pd.Series(categories.take(used))  # the categories' dtype, as the plain column would have
    try:
        rank, uniques = pd.factorize(values, sort=True)  # distinct values: rank is a permutation
    except TypeError:
        first = np.unique(codes, return_index=True)[1]  # first row of each used code, in code order
        order = np.argsort(first, kind="stable")
        rank = np.empty(used.size, dtype=np.intp)
        rank[order] = np.arange(used.size)
        uniques = values.to_numpy()[order]
    dtype = code_dtype(used.size)
    if used.size == len(categories) and bool(np.all(rank == np.arange(used.size))):
        # categories already in the values' order, every one used: the codes are the codes
        return codes.astype(dtype, copy=False), pd.Index(uniques, name=name)
    remap = np.full(len(categories), -1, dtype=dtype)
    remap[used] = rank
    return remap.take(codes), pd.Index(uniques, name=name)


def _raise_missing(name: str, n_missing: int, n_rows: int) -> None:
    raise ValueError(
        f"column {name!r}: {n_missing} of {n_rows} rows have no value (NaN/None); "
        f"drop them first, e.g. df.dropna(subset=[{name!r}])"
    )


def _factorize(column: pd.Series, name: str) -> tuple[np.ndarray, pd.Index]:
    """Codes and uniques of one column; missing values raise, naming the column and the count."""
    dense = _dense_int_codes(column, name)
    if dense is None:
        dense = _categorical_codes(column, name)
    if dense is not None:
        return dense
    try:
        try:
            codes, uniques = pd.factorize(column, sort=True)
        except TypeError as exc:
            if "unhashable" in str(exc):
                raise
            # Values of types that cannot be compared (e.g. 1 and "a" with a tuple): keep the
            # order of first appearance, which is still deterministic for a given frame.
            codes, uniques = pd.factorize(column, sort=False)
    except TypeError as exc:
        kinds = sorted({type(v).__name__ for v in column.head(1000) if not isinstance(v, Hashable)})
        raise ValueError(
            f"column {name!r} holds unhashable values ({', '.join(kinds) or exc}); labels must be "
            f"hashable scalars such as str, int or tuple (convert lists with .map(tuple))"
        ) from None
    n_missing = int(np.count_nonzero(codes < 0))
    if n_missing:
        _raise_missing(name, n_missing, len(column))
    return codes.astype(code_dtype(len(uniques)), copy=False), pd.Index(uniques, name=name)


def check_frame(data: Any) -> pd.DataFrame:
    """``data`` if it is a DataFrame with columns task, worker, label; else an error naming why."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"data: expected a pandas DataFrame with columns task, worker, label; "
            f"got {type(data).__name__}"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in data.columns]
    if missing:
        raise ValueError(
            f"data: missing column(s) {', '.join(repr(c) for c in missing)}; the answers frame "
            f"needs columns 'task', 'worker', 'label' (got {list(data.columns)})"
        )
    return data


def encode_answers(data: pd.DataFrame) -> EncodedAnswers:
    """Check ``data`` and encode its ``task``, ``worker`` and ``label`` columns.

    Extra columns are ignored. An empty frame encodes to zero answers (methods return empty
    results for it). Rows with a missing task, worker or label raise a ``ValueError`` naming the
    column and the number of such rows: silently dropping them would change vote shares.
    """
    frame = check_frame(data)
    task, tasks = _factorize(frame["task"], "task")
    worker, workers = _factorize(frame["worker"], "worker")
    label, labels = _factorize(frame["label"], "label")
    return EncodedAnswers(task, worker, label, tasks, workers, labels)


@dataclass(frozen=True)
class Golden:
    """Known true labels of tasks present in the answers, as codes of an ``EncodedAnswers``."""

    task: np.ndarray
    label: np.ndarray

    def __len__(self) -> int:
        return int(self.task.size)


def encode_golden(
    enc: EncodedAnswers, true_labels: pd.Series | Mapping[Any, Any] | None
) -> tuple[EncodedAnswers, Golden]:
    """Match ``true_labels`` (task -> label) to the encoded answers.

    Tasks without answers and missing (NaN/None) labels are left out: they cannot inform the
    answers. A golden label that no worker gave widens the label set (logged), so the known answer
    can still win. A task listed twice with two different labels raises ``ValueError``.
    """
    empty = Golden(np.empty(0, np.intp), np.empty(0, np.intp))
    if true_labels is None:
        return enc, empty
    if isinstance(true_labels, Mapping):
        true_labels = pd.Series(true_labels, dtype=object)
    if not isinstance(true_labels, pd.Series):
        raise TypeError(
            "true_labels: expected a pandas Series indexed by task, "
            f"got {type(true_labels).__name__}"
        )
    truth = true_labels[true_labels.notna()]
    dup = truth.index.duplicated(keep=False)
    if dup.any():
        conflicting = truth[dup].groupby(level=0).nunique()
        conflicting = conflicting[conflicting > 1]
        if len(conflicting):
            raise ValueError(
                f"true_labels: {len(conflicting)} task(s) have two different true labels, e.g. "
                f"task {conflicting.index[0]!r}"
            )
        truth = truth[~truth.index.duplicated()]
    if len(truth) == 0 or enc.n_answers == 0:
        return enc, empty
    task_codes = enc.tasks.get_indexer(truth.index)
    present = task_codes >= 0
    truth = truth[present]
    values = pd.Index(truth.to_numpy())
    unseen = values[~values.isin(enc.labels)].unique()
    if len(unseen):
        logger.warning(
            "true_labels: %d golden label value(s) never given by a worker (e.g. %r); "
            "adding them to the label set",
            len(unseen),
            unseen[0],
        )
        enc = enc.with_labels(unseen)
    return enc, Golden(task_codes[present].astype(np.intp), enc.labels.get_indexer(values))

