"""Dawid-Skene and one-coin Dawid-Skene: crowd-kit's models on a vectorised EM (``_em``).

Same model, initialisation, stopping rule and fitted attributes as crowd-kit's ``DawidSkene`` and
``OneCoinDawidSkene``, so results match to rounding; but each EM step is a few ``np.bincount``
passes over integer codes, not pandas joins and group-bys, which makes it tens of times faster
and lighter on memory. The classes here hold the parameters, the M-steps and the fitted
attributes; ``_em`` holds the loop, and ``_wide_em`` Dawid-Skene's for 64 labels or more (one
task-major pass per iteration, no confusion table for pairs seen once).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from annotate_core.aggregation._base import EPS, BaseAggregator, empty_result, encoded
from annotate_core.aggregation._em import EM, EMResult, OneCoinEM, Pairs
from annotate_core.aggregation._encode import EncodedAnswers, Golden, encode_golden
from annotate_core.aggregation._initial_error import InitialErrorStrategy, check_strategy, initial_errors
from annotate_core.aggregation._wide_em import WIDE_MIN_LABELS, WideEM

__all__ = ["DawidSkene", "OneCoinDawidSkene"]


class DawidSkene(BaseAggregator):
    """Dawid-Skene (1979): each worker has a K x K confusion matrix; EM estimates them, the label
    priors and each task's label posterior.

    As crowd-kit: initialised from majority-vote shares, at most ``n_iter`` EM iterations, stops
    when the (per-answer) evidence lower bound improves by less than ``tol``. Fitted:
    ``probas_`` (task x label), ``labels_`` (``agg_label``), ``priors_`` (label -> prior),
    ``errors_`` (rows (worker, observed label) for the pairs seen, columns true label) and
    ``loss_history_``.

    Golden tasks: ``fit(data, true_labels)`` clamps the posterior of each known task to its label
    at every iteration, so known tasks calibrate the confusion matrices (crowd-kit's behaviour).
    A golden label no worker gave is added to the label set.

    Known confusion matrices: ``DawidSkene(initial_error_strategy="assign" | "addition")`` and
    ``fit(data, initial_error=table)`` start EM from them, as crowd-kit does (``_initial_error``;
    ``aggregate`` never passes one).

    Ties in the posterior (within 1e-9) go to the label that sorts first (the package's rule).
    """

    _params: tuple[str, ...] = ("n_iter", "tol", "initial_error_strategy")

    def __init__(
        self,
        n_iter: int = 100,
        tol: float = 1e-5,
        initial_error_strategy: InitialErrorStrategy | None = None,
    ) -> None:
        if n_iter < 0:
            raise ValueError(f"n_iter: must be >= 0, got {n_iter}")
        check_strategy(initial_error_strategy)
        self.n_iter = n_iter
        self.tol = tol
        self.initial_error_strategy = initial_error_strategy
        self.priors_: pd.Series | None = None
        self._errors: pd.DataFrame | None = None
        self._errors_from: Callable[[], pd.DataFrame] | None = None
        self.loss_history_: list[float] = []

    def fit(
        self,
        data: pd.DataFrame,
        true_labels: pd.Series | Mapping[Any, Any] | None = None,
        initial_error: pd.DataFrame | None = None,
    ) -> DawidSkene:
        """Run EM on ``data`` (columns task, worker, label); ``true_labels`` (a Series task ->
        label) are golden tasks whose label is known; ``initial_error`` (rows (worker, label),
        columns true label) are confusion matrices from history, applied to the first M-step as
        ``initial_error_strategy`` says (see ``_initial_error``; ``aggregate`` never passes one)."""
        return self._fit_encoded(encoded(data), true_labels, initial_error)

    def _errors_from_counts(self, pairs: Pairs, counts: np.ndarray) -> np.ndarray:
        """Dawid-Skene M-step: each worker's confusion columns, normalised over the labels the
        worker gave (crowd-kit keeps only observed (worker, label) rows, clipped at 1e-10)."""
        errors = np.maximum(counts, EPS)  # keeps counts' layout: (P, K) rows from the sparse product
        totals = pairs.per_worker_sum(errors)
        if errors.flags.f_contiguous and not errors.flags.c_contiguous:
            errors.T[...] /= totals.T.take(pairs.worker, axis=0)  # divide in memory order
        else:
            errors /= totals.take(pairs.worker, axis=1)
        return errors

    def _fit_encoded(
        self,
        enc: EncodedAnswers,
        true_labels: pd.Series | Mapping[Any, Any] | None = None,
        initial_error: pd.DataFrame | None = None,
    ) -> DawidSkene:
        if initial_error is not None and self.initial_error_strategy is None:
            raise ValueError(
                f"initial_error: given, but {type(self).__name__}(initial_error_strategy=...) is "
                f'None; set it to "assign" or "addition" (crowd-kit would ignore the table)'
            )
        enc, golden = encode_golden(enc, true_labels)
        if enc.n_answers == 0:
            self._set_empty(enc)
            return self
        em, fit = self._run_em(enc, golden, initial_error)
        if isinstance(em, EM):
            em.release()
        self._store(enc, em, fit)
        return self

    def _run_em(
        self, enc: EncodedAnswers, golden: Golden, initial_error: pd.DataFrame | None = None
    ) -> tuple[EM | WideEM, EMResult]:
        if enc.n_labels >= WIDE_MIN_LABELS and initial_error is None:
            wide = WideEM(enc, golden)
            return wide, wide.run(self.n_iter, self.tol)
        em = EM(enc, golden)
        first: Callable[[np.ndarray], np.ndarray] | None = None
        strategy = self.initial_error_strategy
        if initial_error is not None and strategy is not None:
            table, how = initial_error, strategy

            def first(counts: np.ndarray) -> np.ndarray:
                return initial_errors(enc, em.pairs, counts, table, how)

        fit = em.run(
            lambda counts: self._errors_from_counts(em.pairs, counts),
            self.n_iter,
            self.tol,
            first_errors=first,
        )
        return em, fit

    def _set_empty(self, enc: EncodedAnswers) -> None:
        self.probas_, self.labels_ = empty_result(enc)
        self.priors_ = pd.Series([], index=enc.labels, name="prior", dtype=float)
        self.errors_ = pd.DataFrame(
            np.zeros((0, enc.n_labels)),
            index=pd.MultiIndex.from_arrays(
                [enc.workers[:0], enc.labels[:0]], names=["worker", "label"]
            ),
            columns=enc.labels,
        )
        self.loss_history_ = []

    def _store(self, enc: EncodedAnswers, em: EM | WideEM, fit: EMResult) -> None:
        pairs = em.pairs
        self._set_result(enc, fit.post.T)
        self.priors_ = pd.Series(fit.priors, index=enc.labels.rename("label"), name="prior")

        def errors_frame() -> pd.DataFrame:
            index = pd.MultiIndex.from_arrays(
                [enc.workers.take(pairs.worker), enc.labels.take(pairs.label)],
                names=["worker", "label"],
            )
            columns = enc.labels.rename("label")
            errors = fit.errors
            if isinstance(em, (OneCoinEM, WideEM)):
                errors = em.full_errors(errors)
            return pd.DataFrame(errors.T, index=index, columns=columns)

        self.errors_ = None
        self._errors_from = errors_frame
        self.loss_history_ = fit.history

    @property
    def errors_(self) -> pd.DataFrame | None:
        """Rows (worker, observed label) for the pairs seen, columns true label: P(observed | true).

        Built on first access: with many labels the table is large (pairs x labels) and most
        callers only want the labels.
        """
        if self._errors_from is not None:
            self._errors, self._errors_from = self._errors_from(), None
        return self._errors

    @errors_.setter
    def errors_(self, value: pd.DataFrame | None) -> None:
        self._errors, self._errors_from = value, None


class OneCoinDawidSkene(DawidSkene):
    """One-coin Dawid-Skene: each worker has one skill ``s`` (accuracy); a wrong answer is uniform
    over the other K-1 labels. Fewer parameters than full Dawid-Skene, so steadier on sparse data.

    As crowd-kit's ``OneCoinDawidSkene`` (same EM; M-step: ``s`` = mean posterior probability of
    the worker's own answers; error entries clipped to ``[1e-10, 1 - 1e-10]``), with ``skills_``
    (worker -> s). Unlike crowd-kit it also accepts ``true_labels`` (golden tasks), clamped as in
    ``DawidSkene``; without them the results are crowd-kit's.
    """

    _params: tuple[str, ...] = ("n_iter", "tol")

    def __init__(self, n_iter: int = 100, tol: float = 1e-5) -> None:
        super().__init__(n_iter=n_iter, tol=tol)
        self.skills_: pd.Series | None = None

    @staticmethod
    def _skills(pairs: Pairs, counts: np.ndarray) -> np.ndarray:
        """(W,) mean probability that each worker's answers are right."""
        own = counts[pairs.label, np.arange(pairs.n)]
        right = np.bincount(pairs.worker, weights=own, minlength=pairs.n_workers)
        return right / np.maximum(pairs.answers_per_worker, 1)

    def _errors_from_counts(self, pairs: Pairs, counts: np.ndarray) -> np.ndarray:
        k = counts.shape[0]
        skill = self._skills(pairs, counts).take(pairs.worker)
        errors = np.repeat(((1.0 - skill) / max(k - 1, 1))[None, :], k, axis=0)
        errors[pairs.label, np.arange(pairs.n)] = skill
        return np.clip(errors, EPS, 1.0 - EPS, out=errors)

    def _run_em(
        self, enc: EncodedAnswers, golden: Golden, initial_error: pd.DataFrame | None = None
    ) -> tuple[EM | WideEM, EMResult]:
        if enc.n_labels < 3:  # yes/no: the shared logistic E-step on a 2 x P table is faster
            return super()._run_em(enc, golden)
        em = OneCoinEM(enc, golden)
        return em, em.run(em.errors_from_counts, self.n_iter, self.tol)

    def _store(self, enc: EncodedAnswers, em: EM | WideEM, fit: EMResult) -> None:
        super()._store(enc, em, fit)
        skills = em.skills(fit.counts) if isinstance(em, OneCoinEM) else self._skills(em.pairs, fit.counts)
        self.skills_ = pd.Series(skills, index=enc.workers.rename("worker"), name="skill")

    def _set_empty(self, enc: EncodedAnswers) -> None:
        super()._set_empty(enc)
        self.skills_ = pd.Series([], index=enc.workers, name="skill", dtype=float)
