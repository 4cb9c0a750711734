"""MACE (Hovy et al. 2013): each worker either knows the answer or spams from a label distribution.

Worker ``w`` knows (answers the true label) with probability ``spamming_[w, 1]`` and spams with
probability ``spamming_[w, 0]``, then drawing label ``l`` with probability ``thetas_[w, l]``. EM
(or variational Bayes with Beta / Dirichlet priors, the default) alternates task posteriors with
the expected "knowing" and "spamming" counts, from ``n_restarts`` random starts, keeping the one
with the best marginal likelihood. Interface, parameters, initialisation and updates are
crowd-kit's ``MACE``.

Each answer's factor for true label ``c`` is ``a + s1 * [c == label]`` with ``a = s0 * theta``,
so a task's log-likelihood is one sum of ``log a`` over its answers plus, per label, the sum of
``log(1 + s1 / a)`` over the answers giving that label: two ``np.bincount`` passes, whatever K,
in log space (crowd-kit multiplies the factors, which underflows to 0/0 once a task has a few
hundred answers). The expected counts are one more gather and ``np.bincount``.

Two differences from crowd-kit 1.4.2, both in crowd-kit's favour of being fixed:

- crowd-kit stores the spamming counts in sorted (worker, label) order but reads them in order
  of first appearance, so when the two orders differ (bluebirds' labels appear as 1, 0) each
  worker's spamming distribution is read for the wrong label or worker. Here they line up; on
  data where the orders agree the results are crowd-kit's (tests/aggregation check both).
- With an integer ``random_state`` crowd-kit draws the same start for every restart, so its
  restarts repeat one run; here that run is done once (same result, 1/``n_restarts`` the time).
  ``None`` or a ``numpy.random.RandomState`` / ``Generator`` give different starts per restart.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import pandas as pd

from annotate_core.aggregation._base import BaseAggregator, empty_result, encoded
from annotate_core.aggregation._em import Pairs
from annotate_core.aggregation._encode import EncodedAnswers

__all__ = ["MACE"]

logger = logging.getLogger(__name__)

RandomState = int | np.random.RandomState | np.random.Generator | None


def _first_appearance(codes: np.ndarray, n: int) -> np.ndarray:
    """Codes (sorted order) ranked by first appearance: crowd-kit's ``pd.factorize`` order."""
    order = pd.unique(codes)
    if order.size < n:  # a widened label set: labels nobody gave come last
        order = np.concatenate([order, np.setdiff1d(np.arange(n), order)])
    return np.asarray(order, dtype=np.intp)


def _normalize(x: np.ndarray, smoothing: float) -> np.ndarray:
    """Rows of ``x + smoothing`` divided by their sums (rows summing to ~0 become 0), as crowd-kit."""
    x = x + smoothing
    norm = x.sum(axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=_not_close_to_zero(norm))


def _variational_normalize(x: np.ndarray, hparams: np.ndarray) -> np.ndarray:
    """``exp(digamma(x + h)) / exp(digamma(row sum of x + h))``: the mean-field update, as crowd-kit."""
    from scipy.special import digamma

    x = x + hparams
    norm = np.exp(digamma(x.sum(axis=1, keepdims=True)))
    return np.divide(np.exp(digamma(x)), norm, out=np.zeros_like(x), where=_not_close_to_zero(norm))


def _not_close_to_zero(x: np.ndarray) -> np.ndarray:
    """``~np.isclose(x, 0.0)`` (``|x| <= 1e-8`` is close; NaN is not), in one comparison:
    ``isclose``'s generality costs more than the whole update on small crowds."""
    return ~(np.abs(x) <= 1e-8)


class MACE(BaseAggregator):
    """MACE with crowd-kit's interface (``crowdkit.aggregation.MACE``).

    Parameters as crowd-kit: ``n_restarts``, ``n_iter`` (EM iterations per restart), ``method``
    ("vb": variational Bayes with Beta(``alpha``, ``beta``) priors on knowing and Dirichlet(10)
    priors on the spamming labels; "em": plain EM smoothed by ``smoothing_`` = 0.01 / K, which is
    what crowd-kit uses whatever ``smoothing`` says), ``smoothing``, ``default_noise`` (starting
    values are uniform on [1, 2 + default_noise], normalised), ``alpha``, ``beta``,
    ``random_state`` and ``verbose`` (accepted; no progress bars are shown).

    Fitted: ``probas_``, ``labels_``, ``spamming_`` (W x 2 array: per worker, probability of
    spamming and of knowing), ``thetas_`` (W x K array: spamming label distributions),
    ``theta_priors_``, ``strategy_priors_``, ``smoothing_`` and ``log_marginal_likelihood_``.
    Rows of the arrays follow the sorted workers (as ``probas_`` does tasks) and columns of
    ``thetas_`` the sorted labels (``probas_``'s columns); crowd-kit orders both by first
    appearance. Ties in the posterior go to the label that sorts first (the package's rule).
    """

    _params = (
        "n_restarts", "n_iter", "method", "smoothing", "default_noise", "alpha", "beta",
        "random_state", "verbose",
    )

    def __init__(
        self,
        n_restarts: int = 10,
        n_iter: int = 50,
        method: Literal["vb", "em"] = "vb",
        smoothing: float = 0.1,
        default_noise: float = 0.5,
        alpha: float = 0.5,
        beta: float = 0.5,
        random_state: RandomState = 0,
        verbose: int = 0,
    ) -> None:
        if method not in ("vb", "em"):
            raise ValueError(f'method: expected "vb" or "em", got {method!r}')
        if n_restarts < 1:
            raise ValueError(f"n_restarts: must be >= 1, got {n_restarts}")
        if n_iter < 0:
            raise ValueError(f"n_iter: must be >= 0, got {n_iter}")
        self.n_restarts = n_restarts
        self.n_iter = n_iter
        self.method = method
        self.smoothing = smoothing
        self.default_noise = default_noise
        self.alpha = alpha
        self.beta = beta
        self.random_state = random_state
        self.verbose = verbose
        self.spamming_: np.ndarray | None = None
        self.thetas_: np.ndarray | None = None
        self.theta_priors_: np.ndarray | None = None
        self.strategy_priors_: np.ndarray | None = None
        self.smoothing_: float | None = None
        self.log_marginal_likelihood_: float | None = None

    def fit(self, data: pd.DataFrame) -> MACE:
        """Run the restarts of EM (or VB) on ``data`` (columns task, worker, label)."""
        return self._fit_encoded(encoded(data))

    def _starts(self, enc: EncodedAnswers) -> list[tuple[np.ndarray, np.ndarray]]:
        """The (spamming, thetas) each restart begins from, in sorted worker and label order.

        crowd-kit draws them with ``scipy.stats.uniform(1, 1 + noise).rvs(size, random_state)``
        for workers and labels in order of first appearance: the spamming draw first, then the
        thetas draw, each from a fresh ``RandomState(seed)`` when the seed is an integer.
        """
        w, k = enc.n_workers, enc.n_labels
        worker_rank = _first_appearance(enc.worker, w)
        label_rank = _first_appearance(enc.label, k)
        scale = 1.0 + self.default_noise
        seed = self.random_state
        if seed is None or isinstance(seed, np.random.RandomState | np.random.Generator):
            rng = np.random.mtrand._rand if seed is None else seed
            draws = [[rng.uniform(size=(w, n)) for n in (2, k)] for _ in range(self.n_restarts)]
        else:  # crowd-kit: a fresh RandomState(seed) per draw, so every restart is the same
            draws = [[np.random.RandomState(seed).uniform(size=(w, n)) for n in (2, k)]]
        starts = []
        for draw in draws:
            spamming, thetas = (1.0 + scale * d for d in draw)
            spamming = spamming / spamming.sum(axis=1, keepdims=True)
            thetas = thetas / thetas.sum(axis=1, keepdims=True)
            # row i of a draw is the i-th worker to appear; column j the j-th label
            spam_sorted = np.empty_like(spamming)
            spam_sorted[worker_rank] = spamming
            theta_sorted = np.empty_like(thetas)
            theta_sorted[np.ix_(worker_rank, label_rank)] = thetas
            starts.append((spam_sorted, theta_sorted))
        return starts

    def _fit_encoded(self, enc: EncodedAnswers) -> MACE:
        w, k = enc.n_workers, enc.n_labels
        self.smoothing_ = 0.01 / max(k, 1)
        self.theta_priors_ = self.strategy_priors_ = None
        if self.method == "vb":
            self.theta_priors_ = np.empty((w, 2))
            self.theta_priors_[:, 0] = self.alpha
            self.theta_priors_[:, 1] = self.beta
            self.strategy_priors_ = np.full((w, k), 10.0)
        if enc.n_answers == 0:
            self.probas_, self.labels_ = empty_result(enc)
            self.spamming_, self.thetas_ = np.zeros((0, 2)), np.zeros((0, k))
            self.log_marginal_likelihood_ = None
            return self
        model = _Model(enc)
        best: tuple[float, np.ndarray, np.ndarray] | None = None
        for spamming, thetas in self._starts(enc):
            lml, post = model.e_step(spamming, thetas)
            for _ in range(self.n_iter):
                knowing, strategy = model.expected_counts(spamming, thetas, post)
                if self.method == "vb":
                    assert self.theta_priors_ is not None and self.strategy_priors_ is not None
                    spamming = _variational_normalize(knowing, self.theta_priors_)
                    thetas = _variational_normalize(strategy, self.strategy_priors_)
                else:
                    spamming = _normalize(knowing, self.smoothing_)
                    thetas = _normalize(strategy, self.smoothing_)
                lml, post = model.e_step(spamming, thetas)
            if best is None or lml > best[0]:
                best = (lml, spamming, thetas)
        assert best is not None
        self.log_marginal_likelihood_, self.spamming_, self.thetas_ = best
        _, post = model.e_step(self.spamming_, self.thetas_)
        self._set_result(enc, post)
        return self


class _Model:
    """MACE's E-step and expected counts on integer codes (see the module docstring)."""

    def __init__(self, enc: EncodedAnswers) -> None:
        self.enc = enc
        self.pairs = Pairs.of(enc)
        self.cell = enc.cells()  # (task, given label) of each answer
        self.post_given = np.empty(enc.n_answers)
        self.weights = np.empty(enc.n_answers)
        self._log_k = np.log(max(enc.n_labels, 1))

    def _pair_terms(self, spamming: np.ndarray, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per observed (worker, label) pair: ``a = s0 * theta`` and the knowing share ``s1``."""
        pw, pl = self.pairs.worker, self.pairs.label
        a = spamming[pw, 0] * thetas[pw, pl]
        return np.maximum(a, 1e-300), spamming[pw, 1]

    def e_step(self, spamming: np.ndarray, thetas: np.ndarray) -> tuple[float, np.ndarray]:
        """The log marginal likelihood (crowd-kit's: ``sum log(instance marginal + 1e-8)``) and
        the (T, K) posteriors."""
        enc, code = self.enc, self.pairs.code
        t, k = enc.n_tasks, enc.n_labels
        a, s1 = self._pair_terms(spamming, thetas)
        np.log(a).take(code, out=self.weights)
        base = np.bincount(enc.task, weights=self.weights, minlength=t)
        np.log1p(s1 / a).take(code, out=self.weights)
        log_gold = np.bincount(self.cell, weights=self.weights, minlength=t * k).reshape(t, k)
        log_gold += (base - self._log_k)[:, None]
        top = log_gold.max(axis=1)
        log_gold -= top[:, None]
        post = np.exp(log_gold, out=log_gold)
        total = post.sum(axis=1)
        post /= total[:, None]
        log_instance = top + np.log(total)
        lml = float(np.logaddexp(log_instance, np.log(1e-8)).sum())
        return lml, post

    def expected_counts(
        self, spamming: np.ndarray, thetas: np.ndarray, post: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(W, 2) expected spamming / knowing counts and (W, K) expected spamming-label counts.

        An answer was "known" with probability ``post[task, label] * s1 / (a + s1)``; the rest of
        it counts as spam, towards its own label.
        """
        enc, pairs = self.enc, self.pairs
        a, s1 = self._pair_terms(spamming, thetas)
        post.ravel().take(self.cell, out=self.post_given)
        (s1 / (a + s1)).take(pairs.code, out=self.weights)
        self.weights *= self.post_given
        known = np.bincount(pairs.code, weights=self.weights, minlength=pairs.n)
        strategy = np.zeros((enc.n_workers, enc.n_labels))
        strategy[pairs.worker, pairs.label] = pairs.answers_per_pair - known
        knowing = np.empty((enc.n_workers, 2))
        knowing[:, 1] = np.bincount(pairs.worker, weights=known, minlength=enc.n_workers)
        knowing[:, 0] = pairs.answers_per_worker - knowing[:, 1]
        return knowing, strategy
