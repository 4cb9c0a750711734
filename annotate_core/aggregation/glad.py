"""GLAD (Whitehill et al. 2009): worker abilities and task difficulties, crowd-kit's model and M-step.

Each worker ``w`` has an ability ``alpha_w``, each task ``t`` a log inverse difficulty ``beta_t``;
a worker answers a task correctly with probability ``sigmoid(alpha_w * exp(beta_t))`` and
otherwise picks one of the other K-1 labels uniformly. EM alternates the task posteriors (E-step)
with a conjugate-gradient ascent on the expected log-likelihood plus N(mean, 1) priors on alpha
and beta (M-step, ``scipy.optimize.minimize(method="CG")``, as crowd-kit).

crowd-kit evaluates every term on a long (answer x label) frame; here the expected log-likelihood
and its gradient collapse to sums over answers of ``post[task, answer's label]``, so each function
evaluation of the M-step is a handful of passes over N answers (two gathers, two ``np.bincount``),
not a pandas join over N x K rows.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from annotate_core.aggregation._base import BaseAggregator, dot, empty_result, encoded
from annotate_core.aggregation._encode import EncodedAnswers

__all__ = ["GLAD"]

logger = logging.getLogger(__name__)

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _per_entity(
    value: pd.Series | float | None, index: pd.Index, default: float, field: str
) -> np.ndarray:
    """``value`` (a Series indexed like ``index``, a number, or None for ``default``) as an array."""
    if value is None:
        return np.full(len(index), default)
    if isinstance(value, pd.Series):
        out = value.reindex(index).to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isnan(out).any():
            missing = index[np.isnan(out)]
            raise ValueError(
                f"{field}: no value for {len(missing)} of the {index.name}s in data, e.g. {missing[0]!r}"
            )
        return out
    return np.full(len(index), float(value))


class GLAD(BaseAggregator):
    """GLAD with crowd-kit's interface, parameters and results (``crowdkit.aggregation.GLAD``).

    Parameters as crowd-kit: ``n_iter``, ``tol`` (EM stops when the per-row expected
    log-likelihood improves by less), ``silent`` (accepted; this implementation shows no progress
    bar), ``labels_priors`` (label -> prior; uniform over the labels seen by default; the priors
    are not re-estimated, as in crowd-kit), ``alphas_priors_mean`` (worker -> mean of alpha's
    N(mean, 1) prior, or one number for all; 1 by default), ``betas_priors_mean`` (task -> ..., 1),
    ``m_step_max_iter`` and ``m_step_tol`` (the conjugate-gradient M-step's limits).

    Fitted: ``probas_``, ``labels_``, ``alphas_`` (worker -> alpha), ``betas_`` (task -> beta,
    the log of the inverse difficulty), ``priors_`` and ``loss_history_``. Ties in the posterior
    go to the label that sorts first (the package's rule).
    """

    _params = (
        "n_iter", "tol", "silent", "labels_priors", "alphas_priors_mean", "betas_priors_mean",
        "m_step_max_iter", "m_step_tol",
    )

    def __init__(
        self,
        n_iter: int = 100,
        tol: float = 1e-5,
        silent: bool = True,
        labels_priors: pd.Series | None = None,
        alphas_priors_mean: pd.Series | float | None = None,
        betas_priors_mean: pd.Series | float | None = None,
        m_step_max_iter: int = 25,
        m_step_tol: float = 1e-2,
    ) -> None:
        if n_iter < 0:
            raise ValueError(f"n_iter: must be >= 0, got {n_iter}")
        if m_step_max_iter < 0:
            raise ValueError(f"m_step_max_iter: must be >= 0, got {m_step_max_iter}")
        self.n_iter = n_iter
        self.tol = tol
        self.silent = silent
        self.labels_priors = labels_priors
        self.alphas_priors_mean = alphas_priors_mean
        self.betas_priors_mean = betas_priors_mean
        self.m_step_max_iter = m_step_max_iter
        self.m_step_tol = m_step_tol
        self.alphas_: pd.Series | None = None
        self.betas_: pd.Series | None = None
        self.priors_: pd.Series | None = None
        self.loss_history_: list[float] = []

    def fit(self, data: pd.DataFrame) -> GLAD:
        """Run EM on ``data`` (columns task, worker, label)."""
        return self._fit_encoded(encoded(data))

    def _priors(self, enc: EncodedAnswers) -> tuple[EncodedAnswers, np.ndarray]:
        if self.labels_priors is None:
            return enc, np.full(enc.n_labels, 1.0 / max(enc.n_labels, 1))
        given = pd.Series(self.labels_priors)
        unknown = enc.labels[~enc.labels.isin(given.index)]
        if len(unknown):
            raise ValueError(
                f"labels_priors: no prior for {len(unknown)} label(s) in data, e.g. {unknown[0]!r}"
            )
        enc = enc.with_labels(pd.Index(given.index))
        return enc, given.reindex(enc.labels).to_numpy(dtype=np.float64)

    def _fit_encoded(self, enc: EncodedAnswers) -> GLAD:
        from scipy.optimize import minimize  # a second or so to import: only when GLAD runs

        enc, priors = self._priors(enc)
        workers, tasks = enc.workers.rename("worker"), enc.tasks.rename("task")
        self.priors_ = pd.Series(priors, index=enc.labels.rename("label"), name="prior")
        self.loss_history_ = []
        if enc.n_answers == 0:
            self.probas_, self.labels_ = empty_result(enc)
            self.alphas_ = pd.Series([], index=workers, name="alpha", dtype=float)
            self.betas_ = pd.Series([], index=tasks, name="beta", dtype=float)
            return self
        mu_alpha = _per_entity(self.alphas_priors_mean, workers, 1.0, "alphas_priors_mean")
        mu_beta = _per_entity(self.betas_priors_mean, tasks, 1.0, "betas_priors_mean")
        model = _Model(enc, np.log(priors), mu_alpha, mu_beta)
        alpha, beta = np.ones(enc.n_workers), np.ones(enc.n_tasks)

        post = model.e_step(alpha, beta)
        q = model.q(alpha, beta, post)
        for _ in range(self.n_iter):
            last_q = q
            post = model.e_step(alpha, beta)
            model.hold(post)
            res = minimize(
                model.negative_q_and_gradient,
                np.concatenate([alpha, beta]),
                method="CG",
                jac=True,
                tol=self.m_step_tol,
                options={"disp": False, "maxiter": self.m_step_max_iter},
            )
            alpha, beta = res.x[: enc.n_workers], res.x[enc.n_workers :]
            # per row of crowd-kit's (answer x label) frame, as its stopping rule reads it
            q = model.q(alpha, beta, post) / (enc.n_answers * enc.n_labels)
            self.loss_history_.append(q)
            if q - last_q < self.tol:
                break
        logger.debug("GLAD stopped after %d iteration(s)", len(self.loss_history_))
        self._set_result(enc, post)
        self.alphas_ = pd.Series(alpha, index=workers, name="alpha")
        self.betas_ = pd.Series(beta, index=tasks, name="beta")
        return self


class _Model:
    """GLAD's E-step, expected log-likelihood Q and its gradient on integer codes.

    With ``z = alpha_w * exp(beta_t)`` an answer's log-likelihood given true label ``c`` is
    ``log sigmoid(z)`` if it says ``c``, else ``log(1 - sigmoid(z)) - log(K-1)``. Summed over the
    labels with posterior weights that add up to 1, an answer contributes
    ``log(1 - sigmoid(z)) - log(K-1) + q * (z + log(K-1))`` to Q, where ``q`` is the posterior of
    the label it gave; its derivative in ``z`` is ``q - sigmoid(z)``.
    """

    def __init__(
        self, enc: EncodedAnswers, log_priors: np.ndarray, mu_alpha: np.ndarray, mu_beta: np.ndarray
    ) -> None:
        self.enc = enc
        self.task, self.worker = enc.task, enc.worker
        self.cell = enc.cells()  # (task, given label) of each answer
        self.k = enc.n_labels
        # log(K-1); with one label no answer is ever wrong, so the term cancels whatever it is
        self.log_k1 = math.log(self.k - 1) if self.k > 1 else 0.0
        self.log_priors = log_priors
        self.mu_alpha, self.mu_beta = mu_alpha, mu_beta
        self.q_given = np.empty(enc.n_answers)

    def _z(self, alpha: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        exp_beta = np.exp(beta)
        return alpha.take(self.worker) * exp_beta.take(self.task), exp_beta

    def e_step(self, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """(T, K) posteriors: softmax over labels of log prior + answers' log-likelihoods."""
        enc = self.enc
        z, _ = self._z(alpha, beta)
        wrong = -np.logaddexp(0.0, z) - self.log_k1  # every answer as if it were wrong ...
        base = np.bincount(self.task, weights=wrong, minlength=enc.n_tasks)
        # ... then the answers of label c corrected to right: log sigmoid(z) - wrong = z + log(K-1)
        z += self.log_k1
        log_post = np.bincount(self.cell, weights=z, minlength=enc.n_tasks * self.k)
        log_post = log_post.reshape(enc.n_tasks, self.k)
        log_post += base[:, None]
        log_post += self.log_priors
        log_post -= log_post.max(axis=1, keepdims=True)
        post = np.exp(log_post, out=log_post)
        post /= post.sum(axis=1, keepdims=True)
        return post

    def hold(self, post: np.ndarray) -> None:
        """Fix the posteriors the M-step maximises Q under: each answer's posterior of its label."""
        post.ravel().take(self.cell, out=self.q_given)

    def _priors_term(self, alpha: np.ndarray, beta: np.ndarray) -> float:
        da, db = alpha - self.mu_alpha, beta - self.mu_beta
        n = alpha.size + beta.size
        return -0.5 * (dot(da, da) + dot(db, db)) - n * _LOG_SQRT_2PI

    def q(self, alpha: np.ndarray, beta: np.ndarray, post: np.ndarray | None = None) -> float:
        """Q: expected complete log-likelihood plus the log densities of the priors."""
        if post is not None:
            self.hold(post)
        z, _ = self._z(alpha, beta)
        total = -float(np.logaddexp(0.0, z).sum()) - z.size * self.log_k1
        total += dot(self.q_given, z + self.log_k1)
        total += self._priors_term(alpha, beta)
        return total if not math.isnan(total) else -math.inf

    def negative_q_and_gradient(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """-Q and its gradient in (alphas, betas): what the conjugate-gradient M-step minimises."""
        enc = self.enc
        alpha, beta = x[: enc.n_workers], x[enc.n_workers :]
        z, exp_beta = self._z(alpha, beta)
        log_one_minus = -np.logaddexp(0.0, z)
        total = float(log_one_minus.sum()) - z.size * self.log_k1
        total += dot(self.q_given, z) + self.log_k1 * float(self.q_given.sum())
        total += self._priors_term(alpha, beta)
        # dQ/dz = q - sigmoid(z); sigmoid(z) = exp(log sigmoid(z)) = exp(z + log(1 - sigmoid(z)))
        dz = self.q_given - np.exp(z + log_one_minus)
        d_alpha = np.bincount(self.worker, weights=dz * exp_beta.take(self.task), minlength=enc.n_workers)
        d_beta = np.bincount(self.task, weights=dz * alpha.take(self.worker), minlength=enc.n_tasks)
        d_beta *= exp_beta
        d_alpha -= alpha - self.mu_alpha
        d_beta -= beta - self.mu_beta
        grad = np.concatenate([d_alpha, d_beta])
        if math.isnan(total):
            return math.inf, -grad
        return -total, -grad
