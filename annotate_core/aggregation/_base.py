"""What every aggregator shares: crowd-kit's fitted-attribute conventions and the numeric kernels.

The kernels work on ``EncodedAnswers`` codes with ``np.bincount`` (one pass over the answers, no
per-task Python loop); the helpers here turn their arrays back into the pandas objects crowd-kit
users expect (``labels_`` named ``agg_label`` indexed by ``task``, ``probas_`` task x label, ...).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from annotate_core.aggregation._encode import EncodedAnswers, encode_answers, sum_codes

logger = logging.getLogger(__name__)

# Lower clip for probabilities before a log, as crowd-kit's Dawid-Skene (1e-10).
EPS = 1e-10
#: Probabilities this close to a task's highest count as tied with it (see ``choose``). Far above
#: the rounding of an EM run (~1e-15 per step) and far below any difference the data can make.
TIE_TOLERANCE = 1e-9
# Up to this many labels, K whole-column operations on a (T, K) array beat numpy's per-row
# reductions; beyond, each strided column pass reads the whole array (K=20, 1M tasks: 139 ms for
# the column loop against 23 ms for .sum(axis=1)).
_COLUMN_LOOP_MAX = 8


class BaseAggregator:
    """Common surface: ``fit`` (returns self), ``fit_predict``, ``fit_predict_proba``.

    Subclasses set ``labels_`` (Series named ``agg_label``, index ``task``) and ``probas_``
    (DataFrame task x label) in ``fit``. ``__repr__`` shows constructor parameters, so a logged
    aggregator says how it was configured.
    """

    labels_: pd.Series | None = None
    probas_: pd.DataFrame | None = None
    _params: tuple[str, ...] = ()

    def __repr__(self) -> str:
        args = ", ".join(f"{p}={getattr(self, p)!r}" for p in self._params)
        return f"{type(self).__name__}({args})"

    def fit(self, data: pd.DataFrame) -> BaseAggregator:  # pragma: no cover - abstract
        raise NotImplementedError

    def fit_predict(self, data: pd.DataFrame, *args: Any, **kwargs: Any) -> pd.Series:
        """Fit on ``data`` and return one label per task (Series ``agg_label`` indexed by task)."""
        self.fit(data, *args, **kwargs)
        assert self.labels_ is not None
        return self.labels_

    def fit_predict_proba(self, data: pd.DataFrame, *args: Any, **kwargs: Any) -> pd.DataFrame:
        """Fit on ``data`` and return the task x label probability DataFrame."""
        self.fit(data, *args, **kwargs)
        assert self.probas_ is not None
        return self.probas_

    def _set_result(
        self, enc: EncodedAnswers, probs: np.ndarray, codes: np.ndarray | None = None
    ) -> None:
        """Store ``probas_`` and ``labels_`` from a (tasks x labels) probability array."""
        self.probas_ = probas_frame(enc, probs)
        self.labels_ = labels_series(enc, choose(probs) if codes is None else codes)


def encoded(data: pd.DataFrame | EncodedAnswers) -> EncodedAnswers:
    """Accept raw answers or an already encoded frame (``aggregate`` encodes only once)."""
    return data if isinstance(data, EncodedAnswers) else encode_answers(data)


#: rows ``choose`` takes at a time from a row-major table
_CHOOSE_ROWS = 8192


def choose(probs: np.ndarray, tolerance: float = TIE_TOLERANCE) -> np.ndarray:
    """Code of the most probable label per task, by the tie rule every method shares.

    Labels whose probability is within ``tolerance`` of the task's highest are tied, and the tie
    goes to the one that sorts first: codes follow sorted label order (see ``_encode``), e.g.
    ``"cat"`` over ``"dog"`` and ``0`` over ``1``; labels that cannot be compared keep their order
    of first appearance. The tolerance makes the rule exact: an EM posterior that is 0.5/0.5 in
    exact arithmetic may come out 0.49999999999999994/0.5000000000000001, and weighted votes of
    0.1 + 0.2 and 0.3 differ in the last bit; neither is a real preference. crowd-kit takes the
    strict maximum and leaves ties to its column order, which it does not document (its issue
    #108): sorted for numbers, first appearance for text, so on tied text votes the two differ.
    """
    n, k = probs.shape
    if k == 0:
        return np.zeros(n, dtype=np.intp)
    if k > _COLUMN_LOOP_MAX:
        floor = probs.max(axis=1) - tolerance
        return np.argmax(probs >= floor[:, None], axis=1)
    if k > 1 and probs.flags.c_contiguous and n > _CHOOSE_ROWS:
        # rows in memory (Dawid-Skene's task-major posteriors): each block of rows transposed in
        # cache, so the column passes below read contiguous memory, not one value per row
        codes = np.empty(n, dtype=np.intp)
        for lo in range(0, n, _CHOOSE_ROWS):
            codes[lo : lo + _CHOOSE_ROWS] = choose(
                np.ascontiguousarray(probs[lo : lo + _CHOOSE_ROWS].T).T, tolerance
            )
        return codes
    # Column by column: K whole-array operations beat T tiny row reductions when K is small.
    floor = probs[:, 0].copy()
    for c in range(1, k):
        np.maximum(floor, probs[:, c], out=floor)
    floor -= tolerance
    codes = np.zeros(n, dtype=np.intp)
    for c in range(k - 1, 0, -1):  # from the last label down, so the first within reach wins
        codes[probs[:, c] >= floor] = c
    codes[probs[:, 0] >= floor] = 0
    return codes


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """``sum(a * b)`` over two arrays of one shape, in one pass and without BLAS.

    ``np.dot`` hands long vectors to OpenBLAS, which splits them over threads; on a busy 2-core
    machine those threads wait for each other and a 2M-element dot takes 20 ms instead of 1.
    ``einsum``'s own loop is single-threaded and reads any memory order.
    """
    axes = list(range(a.ndim))
    return float(np.einsum(a, axes, b, axes, []))


def row_sums(a: np.ndarray) -> np.ndarray:
    """Sum of each row of a (T, K) array, column by column (fast for the small K of labels)."""
    if a.shape[1] == 0 or a.shape[1] > _COLUMN_LOOP_MAX:
        return a.sum(axis=1)
    total = a[:, 0].copy()
    for c in range(1, a.shape[1]):
        total += a[:, c]
    return total


def probas_frame(enc: EncodedAnswers, probs: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        probs,
        index=enc.tasks.rename("task"),
        columns=enc.labels.rename("label"),
        copy=False,
    )


def labels_series(enc: EncodedAnswers, codes: np.ndarray) -> pd.Series:
    values = enc.labels.take(codes) if enc.n_labels else pd.Index([], dtype=object)
    return pd.Series(values, index=enc.tasks.rename("task"), name="agg_label")


def vote_scores(enc: EncodedAnswers, weights: np.ndarray | None = None) -> np.ndarray:
    """(tasks x labels) sum of answer weights (vote counts when ``weights`` is None)."""
    k = enc.n_labels
    flat = enc.cells()
    # counts straight into floats (exact): no integer table copied to floats after
    scores = sum_codes(flat, 1.0 if weights is None else weights, enc.n_tasks * k)
    return scores.reshape(enc.n_tasks, k)


def vote_fractions(enc: EncodedAnswers) -> tuple[np.ndarray, np.ndarray]:
    """Unweighted vote shares (tasks x labels) and the winning label codes, for majority vote.

    One weighted bincount adds ``1/n`` per answer (n: the task's answers) straight into the
    float table, instead of counting, copying the counts to floats and dividing (with 20 labels
    and 1M tasks that table is 160 MB and each extra pass shows). A share is ``c/n`` to the last
    bit or so. Ties are exact: every cell of a row is a sum of copies of the same ``1/n``, so two
    labels with as many votes hold the same float, and more votes always a larger one; so
    ``argmax``, which takes the first maximum, is the package's tie rule (``choose``) without
    its tolerance pass.
    """
    k = enc.n_labels
    flat = enc.cells()
    share = 1.0 / enc.answers_per_task()  # each answer's weight: its task's 1/n, made per chunk
    shares = sum_codes(flat, lambda lo, hi: share.take(enc.task[lo:hi]), enc.n_tasks * k)
    shares = shares.reshape(enc.n_tasks, k)
    return shares, shares.argmax(axis=1)


def vote_shares(enc: EncodedAnswers, weights: np.ndarray | None = None) -> np.ndarray:
    """Row-normalised ``vote_scores``: each task's probabilities sum to 1.

    A task whose answers all weigh 0 (every one of its workers has skill 0) would be 0/0; it falls
    back to plain vote shares, so no task ends up with NaN probabilities.
    """
    scores = vote_scores(enc, weights)
    # unweighted, a row holds whole counts, so its total is its number of answers, exactly
    totals = row_sums(scores) if weights is not None else enc.answers_per_task().astype(np.float64)
    if weights is not None:
        empty = totals <= 0
        if empty.any():
            logger.warning(
                "%d task(s) have only zero-weight answers; using unweighted vote shares for them",
                int(empty.sum()),
            )
            counts = vote_scores(enc)
            scores[empty] = counts[empty]
            totals[empty] = row_sums(counts[empty])
    scores /= totals[:, None]
    return scores


def worker_accuracy(enc: EncodedAnswers, reference: np.ndarray) -> pd.Series:
    """Share of each worker's answers equal to ``reference`` (a label code per task; -1: unknown).

    As crowd-kit's ``get_accuracy``: only tasks with a known reference count, a worker who gave the
    same label to the same task twice counts once, and workers with no counted answer are absent.
    Returns a Series named ``skill`` indexed by ``worker``.
    """
    ref = reference[enc.task]
    known = ref >= 0
    task, worker, label = enc.task, enc.worker, enc.label
    if not known.all():
        task, worker, label, ref = task[known], worker[known], label[known], ref[known]
    dup = _duplicated_triples(enc, task, worker, label)
    if dup.any():  # usually none: then no copies of the answers
        keep = ~dup
        worker, label, ref = worker[keep], label[keep], ref[keep]
    n = np.bincount(worker, minlength=enc.n_workers)
    hits = np.bincount(worker[label == ref], minlength=enc.n_workers)
    present = n > 0
    return pd.Series(
        hits[present] / n[present],
        index=enc.workers[present].rename("worker"),
        name="skill",
    )


def _duplicated_triples(
    enc: EncodedAnswers, task: np.ndarray, worker: np.ndarray, label: np.ndarray
) -> np.ndarray:
    """Mask of rows repeating an earlier (task, worker, label) triple.

    Answers usually come grouped by task (each task's rows together); then a repeat can only sit
    within a task's few rows, so comparing each row with its next few neighbours finds every
    repeat without a hash table (which costs ~0.2 us per row on millions of rows).
    """
    n = task.size
    if n == 0:
        return np.zeros(0, dtype=bool)
    per_task = np.bincount(task)
    runs = 1 + int(np.count_nonzero(task[1:] != task[:-1]))
    if runs == int(np.count_nonzero(per_task)):  # grouped: one run of rows per task
        longest = int(per_task.max())
        if longest <= 32:
            dup = np.zeros(n, dtype=bool)
            for s in range(1, longest):
                same = task[s:] == task[:-s]
                same &= worker[s:] == worker[:-s]
                same &= label[s:] == label[:-s]
                dup[s:] |= same
            return dup
    w, k = enc.n_workers, enc.n_labels
    if enc.n_tasks * w * k < 2**62:
        key = (task.astype(np.int64) * w + worker) * k + label
        return pd.Series(key).duplicated().to_numpy()
    return pd.MultiIndex.from_arrays([task, worker, label]).duplicated()


def empty_result(enc: EncodedAnswers) -> tuple[pd.DataFrame, pd.Series]:
    """``probas_`` and ``labels_`` for zero answers: empty, but typed and named like real ones."""
    probs = np.zeros((0, enc.n_labels))
    return probas_frame(enc, probs), labels_series(enc, np.zeros(0, dtype=np.intp))
