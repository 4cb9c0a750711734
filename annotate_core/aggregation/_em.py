"""The vectorised EM engine behind Dawid-Skene and one-coin Dawid-Skene.

Notation: T tasks, W workers, K labels, P observed (worker, label) pairs, N answers. The models
read ``(K, T)`` posteriors and ``(K, P)`` tables; with yes/no labels they are label-major (two
contiguous rows), with three labels or more they are views of task-major ``(T, K)`` and ``(P,
K)`` buffers, so one sparse product covers every label and the softmax works on cache-sized
blocks of whole tasks (short rows of K values: see ``rows_op`` and ``column_sums`` for numpy's
cost there).
``counts[c, p]`` is the expected number of answers of pair ``p`` whose task's true label is
``c`` (the M-step's sufficient statistic); ``errors[c, p]`` = P(worker answers label(p) | true c).
With yes/no labels each iteration is two passes over the answers (a gather and an
``np.bincount``) plus a few passes over the tasks. With three labels or more, and with yes/no
labels from a million answers or once ``scipy.sparse`` is imported (``yes_no_sparse``), the
answers become a sparse (task x pair) count matrix, built
once, and both steps are sparse products (``counts = post @ A``, ``log-likelihoods = log errors
@ A.T``): a compiled fused pass instead of a gather, a temporary and a bincount each way. The
softmax runs in blocks of tasks that stay in cache, each block's log-likelihoods made just
before it. The models plug in their M-step as ``errors_from_counts``.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from annotate_core.aggregation._base import EPS, dot, vote_shares
from annotate_core.aggregation._encode import EncodedAnswers, Golden, code_dtype, count_codes

if TYPE_CHECKING:
    from scipy import sparse

logger = logging.getLogger(__name__)

#: Unshifted softmax totals at least this (and finite) lose nothing to underflow (``_softmax``).
_SAFE_TOTAL = 1e-250
#: From this many answers yes/no labels also take the sparse products: one pass over the
#: answers each way (3M answers: 3 ms) instead of a gather and a bincount (11 ms), which pays
#: for importing ``scipy.sparse`` (50-150 ms) and building the matrix within a few iterations.
#: Below it they take them only when ``scipy.sparse`` is already imported (``yes_no_sparse``).
SPARSE_MIN_ANSWERS_K2 = 1_000_000
#: Values per (block, K) slice of the softmax's tables: a few such slices stay in a core's L2.
_BLOCK_VALUES = 1 << 16
#: Clipped cells are gathered by index while at most one in this many is clipped
#: (``clipped_entropy_plus_joint``).
_FEW_CLIPPED = 8
_LOG_EPS = float(np.log(EPS))
#: Rows per tile when a short row (a value per label) is broadcast down a table (``rows_op``).
_TILE = 64


def yes_no_sparse(n_answers: int) -> bool:
    """Whether yes/no labels take the sparse products instead of a gather and a bincount.

    The products are faster at any size (300k answers, 20 iterations: 36 ms a fit against 62;
    3k: the same) but need ``scipy.sparse``, whose import (50-150 ms) only pays for itself from
    ``SPARSE_MIN_ANSWERS_K2`` answers. Once something has imported it (an earlier fit with three
    labels or more, crowd-kit, scikit-learn) there is nothing left to pay for, so they are taken.
    """
    return n_answers >= SPARSE_MIN_ANSWERS_K2 or "scipy.sparse" in sys.modules


def block_width(k: int) -> int:
    """Tasks per softmax block: about ``_BLOCK_VALUES`` values, a multiple of ``_TILE`` rows."""
    return max(_BLOCK_VALUES // max(k, 1) // _TILE, 1) * _TILE


def rows_op(rows: np.ndarray, row: np.ndarray, tiled: np.ndarray, *, add: bool) -> None:
    """``rows[...] = row`` (``add``: ``rows += row``) for C-contiguous (n, K) ``rows`` and a (K,)
    ``row``; ``tiled``: ``np.tile(row, _TILE)``.

    numpy broadcasts a short row down a table with an inner loop per row: with 5 labels that is
    four times slower than the memory allows. Read as rows of ``_TILE`` rows against the row
    tiled as often, the same operation runs long inner loops.
    """
    n = rows.shape[0] // _TILE * _TILE
    if n:
        head = rows[:n].reshape(-1, tiled.size)
        if add:
            head += tiled
        else:
            head[...] = tiled
    if n < rows.shape[0]:
        if add:
            rows[n:] += row
        else:
            rows[n:] = row


def clipped_entropy_plus_joint(
    post: np.ndarray, rel: np.ndarray, log_total: np.ndarray, ones_k: np.ndarray, scratch: np.ndarray
) -> float:
    """``-sum q log q + sum post * rel``, ``q = max(post, 1e-10)``, of (n, K) posteriors
    ``post`` whose log posteriors are ``rel - log_total`` per row (finite: no golden task among
    them); ``scratch`` holds at least ``post.size`` values (see ``EM._softmax_block``).

    That is the block's clipped entropy with its expected log-likelihood ``sum post * rel`` added
    back: the caller subtracts the whole E-step's at once, from the M-step's counts (``EM.joint``),
    so no pass over the cells takes it. What is left needs only the clipped cells: each row's
    posteriors sum to 1, so ``-sum p log p + sum p rel = sum_t log_total[t]``, and the clipped
    cells' ``p log p`` are swapped for the clip's ``1e-10 log 1e-10``. Few clipped cells (5
    labels: a few percent) are gathered by index; when many are (20 labels: ~90%), scattered one
    or two per row, finding their indices costs more than the rest of the softmax, so their sums
    are taken with the other cells' posteriors masked to 0: ``sum pm * rel - sum_t log total[t] *
    sum_c pm[t, c]``.
    """
    flat = post.reshape(-1)
    below = flat < EPS
    clipped = int(np.count_nonzero(below))
    rest = float(log_total.sum())
    if not clipped:
        return rest
    rest -= clipped * EPS * _LOG_EPS  # sum of q log q over the clipped cells
    if clipped * _FEW_CLIPPED <= flat.size:
        cells = np.flatnonzero(below)
        log_p = rel.reshape(-1).take(cells)
        log_p -= log_total.take(cells // post.shape[1])
        return rest + dot(flat.take(cells), log_p)
    masked = np.multiply(flat, below, out=scratch[: flat.size]).reshape(post.shape)
    return rest + dot(masked, rel) - dot(log_total, masked @ ones_k)


def column_sums(rows: np.ndarray) -> np.ndarray:
    """(K,) sums down the columns of C-contiguous (n, K) ``rows``: read as rows of ``_TILE``
    rows, so the reduction adds long rows (numpy's own, down columns of 5 values' stride, runs
    an inner loop per row; BLAS's product with ones is no faster for few labels)."""
    k = rows.shape[1]
    n = rows.shape[0] // _TILE * _TILE
    sums = rows[:n].reshape(-1, _TILE * k).sum(axis=0).reshape(_TILE, k).sum(axis=0) if n else np.zeros(k)
    if n < rows.shape[0]:
        sums += rows[n:].sum(axis=0)
    return sums


@dataclass(frozen=True)
class Pairs:
    """Each answer's (worker, label) pair as a code into the P observed pairs (sorted)."""

    code: np.ndarray  # (N,) pair of each answer
    worker: np.ndarray  # (P,) worker code of each pair
    label: np.ndarray  # (P,) label code of each pair
    n_workers: int
    answers_per_worker: np.ndarray  # (W,)
    answers_per_pair: np.ndarray  # (P,)

    @classmethod
    def of(cls, enc: EncodedAnswers) -> Pairs:
        k = max(enc.n_labels, 1)
        key = enc.worker.astype(code_dtype(enc.n_workers * k))  # narrow codes, widened for the key
        key *= k
        key += enc.label
        per_pair: np.ndarray | None = None
        if enc.n_workers * k <= 4 * key.size + 65536:
            # Dense key space: a bincount finds the observed pairs, already sorted, no hashing.
            per_key = count_codes(key, enc.n_workers * k)
            present = per_key > 0
            uniques = np.flatnonzero(present)
            per_pair = per_key.take(uniques)
            if uniques.size == per_key.size:  # every (worker, label) observed: the keys are the codes
                code = key
            else:
                code = (np.cumsum(present) - 1).astype(code_dtype(uniques.size)).take(key)
        else:
            code, uniques = pd.factorize(key, sort=True)
            uniques = np.asarray(uniques, dtype=np.int64)
        del key
        if per_pair is None:
            per_pair = count_codes(code, uniques.size)
        return cls(
            code.astype(code_dtype(uniques.size), copy=False),
            (uniques // k).astype(np.intp),
            (uniques % k).astype(np.intp),
            enc.n_workers,
            count_codes(enc.worker, enc.n_workers),
            per_pair.astype(np.float64),
        )

    @property
    def n(self) -> int:
        return int(self.worker.size)

    def per_worker_sum(self, values: np.ndarray) -> np.ndarray:
        """(K, W) sums of (K, P) ``values`` over each worker's pairs."""
        if values.shape[0] <= 2:
            return np.stack(
                [np.bincount(self.worker, weights=row, minlength=self.n_workers) for row in values]
            )
        # scipy's kernel straight into a (W, K) table: its ``@`` costs ~30 us of checks a call
        out = np.zeros((self.n_workers, values.shape[0]))
        csr_matvecs(self.worker_matrix(), 0, self.n_workers, np.ascontiguousarray(values.T), out)
        return out.T

    def worker_matrix(self) -> sparse.csr_matrix:
        """(W, P) incidence of workers and their pairs, built on first use."""
        cached = self.__dict__.get("_worker_matrix")
        if cached is None:
            from scipy import sparse  # ~0.1 s to import: only when three labels or more need it

            p = self.n
            cached = sparse.csr_matrix(
                (np.ones(p), (self.worker, np.arange(p))), shape=(self.n_workers, p)
            )
            object.__setattr__(self, "_worker_matrix", cached)
        return cached


@dataclass(frozen=True)
class EMResult:
    """Where EM ended: posteriors (K, T), priors (K,), counts and errors (K, P; ``OneCoinEM``:
    counts (P,) and errors (2, W)), bound history."""

    post: np.ndarray
    priors: np.ndarray
    counts: np.ndarray
    errors: np.ndarray
    history: list[float]


class EM:
    """The shared EM loop; the two models differ only in ``errors_from_counts`` (the M-step).

    Per-iteration arrays live in buffers allocated once: a fresh array of a few hundred KB per
    operation costs page faults that, on 100k tasks, take longer than the arithmetic itself.
    """

    sparse_steps = True  # counts and E-step as sparse products (K != 2, or many answers; see above)
    #: the E-step's log-likelihoods can exceed exp's range (one-coin's are ratios to ``log wrong``);
    #: Dawid-Skene's are sums of log probabilities, never above 0
    may_overflow = False

    def __init__(self, enc: EncodedAnswers, golden: Golden) -> None:
        self.enc = enc
        self.golden = golden
        self.pairs = Pairs.of(enc)
        self.task = enc.task
        self.pair = self.pairs.code
        k, t = enc.n_labels, enc.n_tasks
        self._sparse = self.sparse_steps and (k != 2 or yes_no_sparse(enc.n_answers))
        self._weights = np.empty(0 if self._sparse else enc.n_answers)  # a value per answer
        # the E-step's output, rewritten in place every iteration; (K, T) as the models read it, a
        # view of a task-major (T, K) buffer with three labels or more (see ``e_step``)
        self._post = np.empty((k, t)) if k == 2 else np.empty((0, k)).T  # 3+: the vote shares' (``run``)
        self._tmp = np.empty((2, t))
        order = np.argsort(golden.task, kind="stable")
        self._golden_task, self._golden_label = golden.task[order], golden.label[order]
        self.label_sums: np.ndarray | None = None  # set by the softmax: posterior per label
        if self._sparse:
            # (T, P): how many answers of each task are each pair's (duplicates add up)
            self._answers = incidence(self.task, self.pair, t, self.pairs.n, enc.answers_per_task())
            self._nd = np.empty(t if k == 2 else 0)  # yes/no: the E-step's log-odds
            # one block's log-likelihoods (``e_step``); yes/no takes the log-odds instead
            self._rel = np.empty((min(block_width(k), t), k) if k != 2 else (0, 0))

    def release(self) -> None:
        """Drop the working arrays once EM has run. A fitted model keeps its EM for the ``errors_``
        it builds on first access, which needs only the pairs; at 3M answers the answer matrix and
        the buffers were ~100 MB held while ``aggregate`` built its table."""
        for name in ("_answers", "_weights", "_rel", "_nd", "_tmp", "_cell"):
            self.__dict__.pop(name, None)

    def clamp(self, post: np.ndarray) -> np.ndarray:
        """Golden tasks get probability 1 for their known label (crowd-kit's golden correction)."""
        if len(self.golden):
            post[:, self.golden.task] = 0.0
            post[self.golden.label, self.golden.task] = 1.0
        return post

    def counts(self, post: np.ndarray) -> np.ndarray:
        """(K, P): sum over each pair's answers of the task's label probabilities.

        Yes/no: each task's probabilities sum to 1, so a pair's row sums to its number of answers
        and the last label's row is that minus the other: one gather and bincount in all, exact up
        to rounding in the last bits. Otherwise one sparse product, (P, T) @ (T, K), over the
        task-major posteriors: one pass over the answers for every label, returned as the (K, P)
        view of its (P, K) rows (the M-step keeps that layout).
        """
        p = self.pairs.n
        k = post.shape[0]
        if k != 2:
            counts = np.zeros((p, k))
            csr_t_matvecs(self._answers, 0, self.enc.n_tasks, np.ascontiguousarray(post.T), counts)
            return counts.T
        counts = np.zeros((k, p))
        for c in range(k - 1):
            if self._sparse:
                matvec_into(self._answers, post[c], counts[c], transpose=True)
            else:
                counts[c] = np.bincount(self.pair, weights=self._per_answer(post[c]), minlength=p)
        last = self.pairs.answers_per_pair - counts[: k - 1].sum(axis=0)
        counts[k - 1] = np.maximum(last, 0.0)
        return counts

    def _per_answer(self, values: np.ndarray) -> np.ndarray:
        """(N,) each answer's task's value of (T,) ``values``, into ``_weights``.

        ``take`` with ``out=`` and the default ``mode="raise"`` copies through a buffer to check
        the indices first (3M answers: 11 ms against 4 ms with ``mode="clip"``; the codes are in
        range by construction). ``np.repeat`` over tasks in order copies faster but into a fresh
        24 MB array each time, whose page faults cost more than it saves.
        """
        return values.take(self.task, out=self._weights, mode="clip")

    def e_step(self, log_errors: np.ndarray, priors: np.ndarray) -> tuple[np.ndarray, float]:
        """(K, T) posterior label probabilities given errors and priors (golden tasks clamped),
        and their entropy as crowd-kit's bound takes it: ``-sum q log q``, ``q = max(p, 1e-10)``.

        Computed in log space, shifted per task (the posterior is invariant to that), so long
        products never underflow: one sparse product (T, P) @ (P, K) sums every label's
        log-likelihood over the answers, into task-major (T, K) rows: one pass over the answers
        for all K labels (a product per label walked the answer matrix K times: with 20 labels a
        quarter of an iteration). ``exp`` and ``log`` dominate the step's cost, so yes/no
        labels take a logistic form with one of each per task, in one gather and bincount.
        """
        t = self.enc.n_tasks
        k = log_errors.shape[0]
        log_priors = np.log(np.maximum(priors, EPS))
        if k == 2:  # the log-odds of label 0 over 1: the negated table costs nothing, a pass over T would
            gain = log_errors[0] - log_errors[1]
            nd: np.ndarray
            if self._sparse:
                nd = self._nd
                nd.fill(log_priors[0] - log_priors[1])
                matvec_into(self._answers, gain, nd)
            else:
                gain.take(self.pair, out=self._weights, mode="clip")
                nd = np.bincount(self.task, weights=self._weights, minlength=t)
                nd += log_priors[0] - log_priors[1]
            return self._post, self._logistic(nd)
        scratch, answers = self._rel, self._answers
        log_errors_t = np.ascontiguousarray(log_errors.T)
        tiled = np.broadcast_to(log_priors, (_TILE, k)).reshape(-1)  # np.tile's Python costs ~10 us

        def block(lo: int, hi: int) -> np.ndarray:  # a block's log-likelihoods onto the log priors
            rel = scratch[: hi - lo]
            rows_op(rel, log_priors, tiled, add=False)
            csr_matvecs(answers, lo, hi, log_errors_t, rel)
            return rel

        return self._softmax(block)

    def _softmax(self, block_rel: Callable[[int, int], np.ndarray]) -> tuple[np.ndarray, float]:
        """Posteriors (into ``_post``) from the log-likelihoods (log priors included) that
        ``block_rel(lo, hi)`` gives for tasks ``lo:hi`` as task-major (hi - lo, K) rows it lets us
        overwrite, golden tasks clamped, and their clipped entropy; also each label's posterior
        summed over the tasks (``label_sums``, for the priors).

        Taken in blocks of tasks whose (block, K) rows stay in cache, so the step's eight or
        so passes (log-likelihoods, exp, sum, log, reciprocal, product, min, entropy, label sums)
        read memory once: with 1M tasks and 5 labels each pass over whole tables went to memory.
        Every step writes into a buffer allocated once: on 100k tasks x 20 labels a fresh array
        per step cost more (page faults) than the arithmetic. Sums along a block's short rows
        are a BLAS product with ones and sums down its columns go by tiles (``column_sums``):
        numpy's own reductions along rows of 5 or 20 values cost several times the ``exp``.
        """
        post = self._post.T
        t, k = post.shape
        width = block_width(k)
        ones_k = np.ones(k)
        total = np.empty(min(width, t))
        scratch = np.empty(min(width, t) * k)  # the entropy's masked posteriors (pages touched only if used)
        sums = np.zeros(k)
        entropy = 0.0
        for lo in range(0, t, width):
            hi = min(lo + width, t)
            block = post[lo:hi]
            entropy += self._softmax_block(block_rel(lo, hi), block, lo, hi, ones_k, total[: hi - lo], scratch)
            sums += column_sums(block)
        self.label_sums = sums
        return self._post, entropy

    def _softmax_block(
        self, rel: np.ndarray, post: np.ndarray, lo: int, hi: int, ones_k: np.ndarray, total: np.ndarray,
        scratch: np.ndarray,
    ) -> float:
        """``_softmax`` on tasks ``lo:hi`` (``rel``, ``post``: their (hi - lo, K) rows; ``total``:
        scratch of a value per task, ``scratch`` of one per cell); returns their clipped entropy
        plus their expected log-likelihood ``sum post * rel`` (unshifted), which ``run`` takes off
        for all blocks at once (``joint``).

        Each task's log-likelihoods are shifted by their maximum only when they need it:
        unshifted, every task's total must be finite and at least 1e-250, so its best label's
        log-likelihood is above -576 - log K and whatever underflows (below -708) weighs less
        than 1e-55 of it; that holds in most crowds (a few answers per task) and saves two
        passes. Normalising multiplies by each task's reciprocal total (a division per task,
        not per cell). Blocks without golden tasks take ``clipped_entropy_plus_joint``, which
        touches only the clipped cells; blocks with golden tasks the full clipped sum
        (``_entropy``) with the clamped posteriors' ``sum post * rel`` added.
        """
        if self.may_overflow:  # one-coin's log-likelihood ratios can be large; Dawid-Skene's are <= 0
            with np.errstate(over="ignore"):
                np.exp(rel, out=post)
        else:
            np.exp(rel, out=post)
        np.dot(post, ones_k, out=total)
        shift = 0.0  # sum of the rows' shifts: the unshifted log totals are the shifted ones plus it
        # Dawid-Skene's cells are at most 1 (log-likelihoods <= 0), so only one-coin's can overflow
        if not (float(total.min()) >= _SAFE_TOTAL and (not self.may_overflow or np.isfinite(float(total.max())))):
            top = rel[:, 0].copy()  # each row's maximum, column by column (rows are short)
            for c in range(1, rel.shape[1]):
                np.maximum(top, rel[:, c], out=top)
            rel -= top[:, None]
            shift = float(top.sum())
            np.exp(rel, out=post)
            np.dot(post, ones_k, out=total)
        log_total = np.log(total)
        post *= np.divide(1.0, total, out=total)[:, None]
        a, b = np.searchsorted(self._golden_task, [lo, hi]) if len(self.golden) else (0, 0)
        if a == b:
            return clipped_entropy_plus_joint(post, rel, log_total, ones_k, scratch) + shift
        # golden tasks: probability 1 for the known label
        rows, labels = self._golden_task[a:b] - lo, self._golden_label[a:b]
        post[rows] = 0.0
        post[rows, labels] = 1.0
        joint = dot(post, rel) + shift  # (see clipped_entropy_plus_joint) before rel is overwritten
        rel -= log_total[:, None]
        rel[rows] = -np.inf
        rel[rows, labels] = 0.0
        return self._entropy(post, rel) + joint

    @staticmethod
    def _entropy(post: np.ndarray, log_post: np.ndarray) -> float:
        """``-sum q log q`` with ``q = max(post, 1e-10)`` over (T, K) posteriors whose rows
        sum to 1 and some of which are below the clip; ``log_post`` (may hold -inf) is used as
        scratch.

        With ``lq = max(log post, log 1e-10)``: ``sum q lq = sum post * lq + log(1e-10) * sum(q -
        post)``, as ``lq`` is the floor wherever ``q`` differs from ``post``; and ``sum(q - post)
        = sum(q) - T``. Four passes, no mask: with many labels most cells are below the clip.
        """
        floor = np.log(EPS)
        np.maximum(log_post, floor, out=log_post)
        joint = dot(post, log_post)
        clipped = np.maximum(post, EPS, out=log_post)
        extra = float(clipped.sum()) - post.shape[0]
        return -(joint + floor * extra)

    def _logistic(self, nd: np.ndarray) -> float:
        """Yes/no posterior (into ``_post``, golden tasks clamped) from ``nd``, the log-odds of
        label 0 over 1 (``-d`` below; clipped in place); returns its clipped entropy (see ``e_step``).

        One ``exp`` and one ``log`` per task, few passes: ``p1 = 1/(1+e)``, ``p0 = e*p1`` with
        ``e = exp(-d)``, precise for tiny probabilities on either side; ``d`` is clipped to +-700
        so ``e`` stays finite (beyond, both sides are below 1e-300 anyway). With
        ``L = log(1+e)`` the entropy of a task is ``L + p0*d``; tasks where a probability falls
        below the 1e-10 clip (|d| > 20 covers them) and golden tasks are then corrected exactly.
        The range is read once (min, max) so the clip and the search for such tasks are skipped
        when no task needs them, as in most crowds.
        """
        post = self._post
        lo, hi = float(nd.min()), float(nd.max())
        if lo < -700.0 or hi > 700.0:
            np.clip(nd, -700.0, 700.0, out=nd)
        e, log_total = self._tmp[:2]
        np.exp(nd, out=e)
        np.add(e, 1.0, out=log_total)
        np.divide(1.0, log_total, out=post[1])
        np.log(log_total, out=log_total)
        np.multiply(e, post[1], out=post[0])
        entropy = float(log_total.sum()) - dot(post[0], nd)
        extreme = lo < -20.0 or hi > 20.0
        special = np.flatnonzero(np.abs(nd, out=e) > 20.0) if extreme else np.empty(0, dtype=np.intp)
        if len(self.golden):
            known = self.golden.task
            special = np.setdiff1d(special, known, assume_unique=True)
            entropy -= float(np.sum(log_total[known] - post[0, known] * nd[known]))
            # Clamped to one-hot: only the zero side's clipped 1e-10 * log(1e-10) is left.
            entropy -= len(self.golden) * EPS * np.log(EPS)
            self.clamp(post)
        if special.size:
            p0, p1, lt, xs = post[0, special], post[1, special], log_total[special], -nd[special]
            entropy -= float(np.sum(lt + p0 * xs))  # replace what the sums above counted
            floor = np.log(EPS)
            entropy -= float(
                np.sum(np.maximum(p0, EPS) * np.maximum(-lt - xs, floor))
                + np.sum(np.maximum(p1, EPS) * np.maximum(-lt, floor))
            )
        return entropy

    def joint(
        self, counts: np.ndarray, log_errors: np.ndarray, priors: np.ndarray, label_sums: np.ndarray
    ) -> float:
        """``sum_t,c post[c, t] * rel[t, c]``, the posteriors' expected log-likelihood under the
        ``log_errors`` and ``priors`` the E-step took, from its (K,) ``label_sums`` and the counts
        made from its posteriors: ``rel[t, c] = log prior[c] + sum_p A[t, p] log errors[c, p]``,
        so the sum is ``label_sums . log priors + counts . log errors`` (``counts = A.T @ post``):
        a (K, P) product instead of a pass over the T x K cells (``clipped_entropy_plus_joint``)."""
        log_priors = np.log(np.maximum(priors, EPS))
        return dot(label_sums, log_priors) + dot(counts, log_errors)

    def lower_bound(
        self, counts: np.ndarray, log_errors: np.ndarray, priors: np.ndarray, entropy: float
    ) -> float:
        """crowd-kit's evidence lower bound, per answer, used for its stopping rule.

        ``sum_answers sum_c q[c,t] * (log errors[c,pair] + log prior[c]) + entropy(q)``. The
        answer sum is ``sum_c,p counts[c,p] * (...)``, so it costs nothing per answer; the prior
        term is counted once per answer (not per task) exactly as crowd-kit does, so both stop
        after the same number of iterations.
        """
        log_priors = np.log(np.maximum(priors, EPS))
        joint = dot(counts, log_errors) + dot(counts.sum(axis=1), log_priors)
        return (joint + entropy) / self.enc.n_answers

    def run(
        self,
        errors_from_counts: Callable[[np.ndarray], np.ndarray],
        n_iter: int,
        tol: float,
        first_errors: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> EMResult:
        """EM from majority-vote shares; ``first_errors`` replaces the first M-step (Dawid-Skene's
        ``initial_error``)."""
        shares = vote_shares(self.enc)  # (T, K)
        post = self.clamp(np.ascontiguousarray(shares.T) if shares.shape[1] == 2 else shares.T)
        priors = post.mean(axis=1) if shares.shape[1] == 2 else column_sums(shares) / shares.shape[0]
        counts = self.counts(post)
        if n_iter > 0:
            if shares.shape[1] != 2:  # the E-step overwrites the vote shares, block by block, in place
                self._post = post  # of its own buffer: one (T, K) table fewer to allocate and fault in
            else:  # the E-step writes its own buffer: the vote shares (T x K) can go now
                post = self._post
        errors = (first_errors or errors_from_counts)(counts)
        log_errors = np.log(errors)
        loss = -np.inf
        history: list[float] = []
        for _ in range(n_iter):
            self.label_sums = None
            post, entropy = self.e_step(log_errors, priors)
            label_sums = self.label_sums
            counts = self.counts(post)
            if label_sums is not None:  # the softmax left the expected log-likelihood to the counts
                entropy -= self.joint(counts, log_errors, priors, label_sums)
            priors = post.mean(axis=1) if label_sums is None else label_sums / post.shape[1]
            errors = errors_from_counts(counts)
            log_errors = np.log(errors)
            new_loss = self.lower_bound(counts, log_errors, priors, entropy)
            history.append(new_loss)
            if new_loss - loss < tol:
                break
            loss = new_loss
        logger.debug("EM stopped after %d iteration(s)", len(history))
        return EMResult(post, priors, counts, errors, history)


class OneCoinEM(EM):
    """One-coin EM for three labels or more without any label x pair table.

    A worker's error entries are only two numbers, ``right`` (its skill) for the label it gave
    and ``wrong = (1 - skill) / (K-1)`` for every other, so "errors" here is a (2, W) array. Then
    a task's log-likelihood of label c is the sum of its answers' ``log wrong`` (the same for
    every c, so it drops out of the posterior) plus, over the answers that say c,
    ``log right - log wrong``: one bincount straight into a task-major (T, K) table. The M-step
    needs only each answer's posterior of its own label, and the bound each label's posterior
    mass over the answers. Per iteration that is a few passes over the answers and over the
    (K, T) posteriors, nothing over K x P: 1,000 labels cost what the posteriors cost.
    """

    sparse_steps = False
    may_overflow = True

    def __init__(self, enc: EncodedAnswers, golden: Golden) -> None:
        super().__init__(enc, golden)
        # (task, label) of each answer in the task-major (T, K) layout of the posteriors
        self._cell = enc.task.astype(code_dtype(enc.n_labels * enc.n_tasks))
        self._cell *= enc.n_labels
        self._cell += enc.label
        self._answers_per_task = enc.answers_per_task().astype(np.float64)
        self._label_mass = np.zeros(enc.n_labels)

    def counts(self, post: np.ndarray) -> np.ndarray:
        """(P,): each pair's summed posterior of its own label (``counts[label(p), p]``)."""
        rows = np.ascontiguousarray(post.T)  # (T, K): the buffer itself, no copy
        rows.ravel().take(self._cell, out=self._weights, mode="clip")
        # each label's posterior mass over the answers, for the prior term of the bound
        self._label_mass = self._answers_per_task @ rows
        return np.bincount(self.pair, weights=self._weights, minlength=self.pairs.n)

    def skills(self, right: np.ndarray) -> np.ndarray:
        """(W,) mean posterior probability that each worker's answers are right."""
        pairs = self.pairs
        hits = np.bincount(pairs.worker, weights=right, minlength=pairs.n_workers)
        return hits / np.maximum(pairs.answers_per_worker, 1)

    def errors_from_counts(self, right: np.ndarray) -> np.ndarray:
        """(2, W): each worker's clipped error entries for its own label and for any other."""
        skill = self.skills(right)
        k = self.enc.n_labels
        errors = np.stack([skill, (1.0 - skill) / max(k - 1, 1)])
        return np.clip(errors, EPS, 1.0 - EPS, out=errors)

    def e_step(self, log_errors: np.ndarray, priors: np.ndarray) -> tuple[np.ndarray, float]:
        t, k = self.enc.n_tasks, self.enc.n_labels
        log_right, log_wrong = log_errors
        # The sum of log wrong over a task's answers is the same for every label: the posterior
        # does not depend on it, so only the correction for the answers' own labels is summed.
        (log_right - log_wrong).take(self.enc.worker, out=self._weights, mode="clip")
        rel = np.bincount(self._cell, weights=self._weights, minlength=k * t).reshape(t, k)
        log_priors = np.log(np.maximum(priors, EPS))
        tiled = np.broadcast_to(log_priors, (_TILE, k)).reshape(-1)

        def block(lo: int, hi: int) -> np.ndarray:
            rows_op(rel[lo:hi], log_priors, tiled, add=True)
            return rel[lo:hi]

        return self._softmax(block)

    def joint(
        self, counts: np.ndarray, log_errors: np.ndarray, priors: np.ndarray, label_sums: np.ndarray
    ) -> float:
        """``EM.joint`` for one-coin's log-likelihoods (``e_step``): each pair's own-label count
        times its worker's ``log right - log wrong``."""
        log_right, log_wrong = log_errors
        gain = (log_right - log_wrong).take(self.pairs.worker)
        return dot(label_sums, np.log(np.maximum(priors, EPS))) + dot(counts, gain)

    def lower_bound(
        self, counts: np.ndarray, log_errors: np.ndarray, priors: np.ndarray, entropy: float
    ) -> float:
        """``EM.lower_bound`` with the label x pair sum taken per pair: its own label's count
        times ``log right``, the rest of its answers times ``log wrong``."""
        pairs = self.pairs
        log_errors = log_errors.take(pairs.worker, axis=1)
        joint = dot(counts, log_errors[0])
        joint += dot(pairs.answers_per_pair - counts, log_errors[1])
        joint += dot(self._label_mass, np.log(np.maximum(priors, EPS)))
        return (joint + entropy) / self.enc.n_answers

    def full_errors(self, errors: np.ndarray) -> np.ndarray:
        """The (K, P) table ``EM`` would hold, for the fitted ``errors_`` attribute."""
        pairs = self.pairs
        full = np.repeat(errors[1].take(pairs.worker)[None, :], self.enc.n_labels, axis=0)
        full[pairs.label, np.arange(pairs.n)] = errors[0].take(pairs.worker)
        return full



def incidence(
    rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int, row_counts: np.ndarray | None = None
) -> sparse.csr_matrix:
    """(n_rows, n_cols) CSR matrix with a 1 for each (rows[i], cols[i]); repeats add up.

    Built straight from its arrays: rows usually come sorted (answers grouped by task), so the
    row offsets are a cumulative count and the column indices the given ones in their order.
    scipy's (data, (row, col)) constructor scans, sorts and deduplicates them first, which on
    300k answers costs as much as three EM iterations with five labels.
    """
    from scipy import sparse  # ~0.1 s to import: only the engines for three labels or more need it

    n = rows.size
    index = np.int32 if max(n, n_cols) < 2**31 - 1 else np.int64
    if n and not bool(np.all(rows[1:] >= rows[:-1])):
        order = np.argsort(rows, kind="stable")
        cols = cols.take(order)
        del order  # an intp per answer: gone before the matrix's own arrays are made
    indptr = np.zeros(n_rows + 1, dtype=index)
    np.cumsum(count_codes(rows, n_rows) if row_counts is None else row_counts, out=indptr[1:])
    return sparse.csr_matrix(
        (np.ones(n), cols.astype(index, copy=False), indptr), shape=(n_rows, n_cols), copy=False
    )


def matvec_into(
    matrix: sparse.csr_matrix, vector: np.ndarray, out: np.ndarray, *, transpose: bool = False
) -> None:
    """``out += matrix @ vector`` (``matrix.T @ vector`` with ``transpose``) for a CSR float64
    ``matrix`` and contiguous float64 arrays.

    scipy's own kernels, called straight into ``out``: ``matrix @ vector`` costs a fresh result
    array and its copy per label, per step (with 20 labels, 40 a step: ~10% of an EM run). The
    transposed product walks the (task x pair) matrix row by row, reading ``vector`` (a value
    per task) in order and adding into ``out`` (a value per pair, small enough to stay in
    cache); multiplying by the (pair x task) transpose instead would fetch each task's value
    at random, which with 1M tasks misses the cache on nearly every answer.
    """
    if transpose:
        kernel = _sparsetools_kernel("csc_matvec")
        if kernel is None:
            out += matrix.T @ vector
            return
        n_row, n_col = matrix.shape
        # the CSR arrays of ``matrix`` are the CSC arrays of its (n_col x n_row) transpose
        kernel(n_col, n_row, matrix.indptr, matrix.indices, matrix.data, vector, out)
        return
    kernel = _csr_matvec()
    if kernel is None:
        out += matrix @ vector
        return
    n_row, n_col = matrix.shape
    kernel(n_row, n_col, matrix.indptr, matrix.indices, matrix.data, vector, out)


def csr_matvecs(
    matrix: sparse.csr_matrix, lo: int, hi: int, dense: np.ndarray, out: np.ndarray
) -> None:
    """``out += matrix[lo:hi] @ dense`` for a CSR float64 ``matrix`` and C-contiguous float64
    ``dense`` (rows: the matrix's columns) and ``out`` (hi - lo rows), without slicing the matrix:
    scipy's kernel reads the row offsets of ``lo:hi`` in place."""
    kernel = _sparsetools_kernel("csr_matvecs")
    if kernel is None:
        out += matrix[lo:hi] @ dense
        return
    kernel(hi - lo, matrix.shape[1], dense.shape[1], matrix.indptr[lo : hi + 1],
           matrix.indices, matrix.data, dense, out)


def csr_t_matvecs(
    matrix: sparse.csr_matrix, lo: int, hi: int, dense: np.ndarray, out: np.ndarray
) -> None:
    """``out += matrix[lo:hi].T @ dense`` (``dense``: hi - lo rows; ``out``: a row per column of
    the matrix), the rows ``lo:hi`` of a CSR matrix read as the columns of its transpose."""
    kernel = _sparsetools_kernel("csc_matvecs")
    if kernel is None:
        out += matrix[lo:hi].T @ dense
        return
    kernel(matrix.shape[1], hi - lo, dense.shape[1], matrix.indptr[lo : hi + 1],
           matrix.indices, matrix.data, dense, out)


def _csr_matvec() -> Callable[..., None] | None:
    return _sparsetools_kernel("csr_matvec")


@functools.cache
def _sparsetools_kernel(name: str) -> Callable[..., None] | None:
    """One of scipy's compiled CSR kernels (``y += A x``); None if a scipy release moved it (then
    the callers take the public product)."""
    try:
        from scipy.sparse import _sparsetools
    except ImportError:  # pragma: no cover - present in every scipy release since 0.14
        return None
    return getattr(_sparsetools, name, None)
