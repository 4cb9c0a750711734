"""Dawid-Skene EM for many labels (hundreds to thousands): task-major, in cache-sized blocks.

With K labels the model's tables are (tasks x K) posteriors and (pairs x K) confusion entries,
where a pair is an observed (worker, label). With 1,000 labels nearly every pair has a single
answer, so the second table is as long as the answers times K (20k answers: 160 MB), and the
engine in ``_em`` passes over it several times per iteration.

The single-answer pairs need no such table at all. Such a pair's count for true label c is the
posterior of its one task, ``post[t, c]``, so its log confusion entry is
``log max(post[t, c], 1e-10) - log total[w, c]`` (``total[w, c]``: the worker's clipped counts
summed over the labels it gave). The first term is the task's own clipped log posterior, which
the E-step computes anyway (for the entropy); the second is a (workers x K) table. So a task's
log-likelihood of c is::

    log prior[c] + n_single[t] * logq[t, c] - sum over its single answers of log total[w, c]
                 + sum over its other answers of log errors[pair, c]

with ``logq`` the previous iteration's clipped log posteriors, kept in place row by row. Each
iteration reads and rewrites the (T, K) posterior tables once, in blocks of tasks that stay in
cache (softmax, golden clamp, entropy, priors and the workers' totals are all taken per block),
plus a (pairs x K) table only for pairs with two answers or more (few when K is large). The
model, initialisation, bound and stopping rule are ``_em.EM``'s: results agree to rounding.
"""

from __future__ import annotations

import numpy as np

from annotate_core.aggregation._base import EPS, dot, vote_shares
from annotate_core.aggregation._em import EMResult, Pairs, csr_matvecs, csr_t_matvecs, incidence
from annotate_core.aggregation._encode import EncodedAnswers, Golden

#: From this many labels Dawid-Skene runs here; below, ``_em``'s full (pairs x K) table costs
#: less than this engine's extra passes (60k answers, CPU: 32 labels 159 against 266 ms, 64
#: labels 536 / 599, 128 labels 1,749 / 1,131; 1,000 labels on 20k: 6.6 / 1.8 s).
WIDE_MIN_LABELS = 64
#: Target size of a block (values): a few blocks stay within a core's L2 cache.
_BLOCK_VALUES = 1 << 16


class WideEM:
    """Dawid-Skene EM on row-major (task x label) tables; see the module docstring."""

    def __init__(self, enc: EncodedAnswers, golden: Golden) -> None:
        from scipy import sparse

        self.enc = enc
        self.golden = golden
        self.pairs = pairs = Pairs.of(enc)
        t, k, w = enc.n_tasks, enc.n_labels, enc.n_workers
        single_pair = pairs.answers_per_pair == 1
        single = single_pair.take(pairs.code)  # answers whose pair has no other answer
        self._n_single = np.bincount(enc.task[single], minlength=t).astype(np.float64)[:, None]
        self._n_answers = enc.answers_per_task().astype(np.float64)
        # (T, W): each task's single answers by worker (a count, for a worker who answered twice)
        self._by_worker = incidence(enc.task[single], enc.worker[single], t, w)
        self._minus_by_worker = sparse.csr_matrix(
            (-self._by_worker.data, self._by_worker.indices, self._by_worker.indptr), shape=(t, w)
        )
        # the other answers, over the pairs with two answers or more (sorted by worker)
        self._multi = np.flatnonzero(~single_pair)
        multi_code = np.cumsum(~single_pair) - 1
        other = ~single
        self._answers = incidence(
            enc.task[other], multi_code.take(pairs.code[other]), t, self._multi.size
        )
        self._answers_t = self._answers.T.tocsr()
        multi_worker = pairs.worker.take(self._multi)
        self._multi_worker = multi_worker
        bounds = np.flatnonzero(np.r_[True, multi_worker[1:] != multi_worker[:-1]])
        self._multi_starts = bounds
        self._multi_workers = multi_worker.take(bounds)

        rows = max(_BLOCK_VALUES // max(k, 1), 1)
        self._blocks = [(lo, min(lo + rows, t)) for lo in range(0, t, rows)]
        self._scratch = np.empty((rows, k))
        order = np.argsort(golden.task, kind="stable")
        self._golden_task, self._golden_label = golden.task[order], golden.label[order]
        self.priors = np.empty(k)
        self._log_q = np.empty((t, k))  # clipped log posteriors of the last E-step
        self._totals = np.zeros((w, k))  # per worker: clipped counts summed over its labels
        self._by_worker_post = np.zeros((w, k))  # per worker: posteriors of its single answers
        self._label_mass = np.zeros(k)  # per label: posterior mass over the answers
        self._log_totals = np.zeros((w, k))
        self._log_errors = np.zeros((self._multi.size, k))  # multi-answer pairs only
        self._single_joint = 0.0

    def _clamp(self, lo: int, hi: int, post: np.ndarray, log_post: np.ndarray | None) -> None:
        """Golden tasks in rows ``lo:hi`` get probability 1 for their known label."""
        if not len(self.golden):
            return
        a, b = np.searchsorted(self._golden_task, [lo, hi])
        if a == b:
            return
        rows, labels = self._golden_task[a:b] - lo, self._golden_label[a:b]
        post[rows] = 0.0
        post[rows, labels] = 1.0
        if log_post is not None:
            log_post[rows] = -np.inf
            log_post[rows, labels] = 0.0

    def _reset_sums(self) -> None:
        self._totals.fill(0.0)
        self._by_worker_post.fill(0.0)
        self._label_mass.fill(0.0)
        self._single_joint = 0.0

    def _add_block(self, lo: int, hi: int, post: np.ndarray, log_q: np.ndarray) -> float:
        """Fold a block of posteriors and their clipped logs into the per-worker and per-label
        sums of the M-step and the bound; returns the block's ``sum post * log_q``."""
        row_dots = np.einsum("tk,tk->t", post, log_q)
        self._single_joint += float(row_dots @ self._n_single[lo:hi, 0])
        self._label_mass += self._n_answers[lo:hi] @ post
        csr_t_matvecs(self._by_worker, lo, hi, post, self._by_worker_post)
        q = np.maximum(post, EPS, out=self._scratch[: hi - lo])
        csr_t_matvecs(self._by_worker, lo, hi, q, self._totals)
        return float(row_dots.sum())

    def e_step(self, priors: np.ndarray) -> tuple[np.ndarray, float]:
        """Posteriors (T, K) into ``post`` from the last M-step; their clipped entropy (as
        ``_em.EM._entropy``). Also sets ``priors`` and the single-answer sums of the M-step."""
        log_priors = np.log(np.maximum(priors, EPS))
        floor = np.log(EPS)
        post_all, log_q_all = self.post, self._log_q
        joint = extra = 0.0
        mass = np.zeros(log_priors.size)
        self._reset_sums()
        for lo, hi in self._blocks:
            rel = log_q_all[lo:hi]  # holds the last clipped log posteriors; rewritten in place
            rel *= self._n_single[lo:hi]
            rel += log_priors
            csr_matvecs(self._minus_by_worker, lo, hi, self._log_totals, rel)
            if self._multi.size:
                csr_matvecs(self._answers, lo, hi, self._log_errors, rel)
            rel -= rel.max(axis=1, keepdims=True)
            post = post_all[lo:hi]
            np.exp(rel, out=post)
            total = post.sum(axis=1, keepdims=True)
            post /= total
            rel -= np.log(total)
            self._clamp(lo, hi, post, rel)
            np.maximum(rel, floor, out=rel)
            mass += post.sum(axis=0)
            joint += self._add_block(lo, hi, post, rel)
            extra += float(self._scratch[: hi - lo].sum()) - (hi - lo)  # sum max(post, 1e-10)
        self.priors = mass / self.enc.n_tasks
        return post_all, -(joint + floor * extra)

    def m_step(self, post: np.ndarray) -> float:
        """Log confusion entries of the multi-answer pairs and the workers' log totals (the
        single-answer sums were taken by the E-step); returns the bound's ``sum counts * log
        errors``."""
        joint = self._single_joint
        if self._multi.size:
            counts = np.zeros((self._multi.size, post.shape[1]))
            csr_matvecs(self._answers_t, 0, self._multi.size, post, counts)
            clipped = np.maximum(counts, EPS, out=self._log_errors)
            self._totals[self._multi_workers] += np.add.reduceat(clipped, self._multi_starts, axis=0)
        np.log(self._totals, out=self._log_totals)
        joint -= dot(self._by_worker_post, self._log_totals)
        if self._multi.size:
            log_errors = np.log(self._log_errors, out=self._log_errors)
            log_errors -= self._log_totals.take(self._multi_worker, axis=0)
            joint += dot(counts, log_errors)
        return joint

    def run(self, n_iter: int, tol: float) -> EMResult:
        """``_em.EM.run`` (from majority-vote shares; stop when the bound gains less than ``tol``)."""
        self.post = post = vote_shares(self.enc)
        self._clamp(0, self.enc.n_tasks, post, None)
        priors = post.mean(axis=0)
        np.log(np.maximum(post, EPS), out=self._log_q)
        self._reset_sums()
        for lo, hi in self._blocks:
            self._add_block(lo, hi, post[lo:hi], self._log_q[lo:hi])
        self.m_step(post)
        loss = -np.inf
        history: list[float] = []
        for _ in range(n_iter):
            post, entropy = self.e_step(priors)
            priors = self.priors
            joint = self.m_step(post)
            log_priors = np.log(np.maximum(priors, EPS))
            new_loss = (joint + dot(self._label_mass, log_priors) + entropy) / self.enc.n_answers
            history.append(new_loss)
            if new_loss - loss < tol:
                break
            loss = new_loss
        # no (K, P) table is held during EM: ``full_errors`` builds it when ``errors_`` is read
        return EMResult(post.T, priors, np.empty((0, 0)), np.empty((0, 0)), history)

    def full_errors(self, _unused: np.ndarray) -> np.ndarray:
        """The (K, P) confusion entries of the last M-step, for the fitted ``errors_``."""
        pairs = self.pairs
        log_errors = np.empty((pairs.n, self.enc.n_labels))
        single = np.ones(pairs.n, dtype=bool)
        single[self._multi] = False
        task_of_pair = np.empty(pairs.n, dtype=np.intp)
        task_of_pair[pairs.code] = self.enc.task  # for single pairs: the task of their answer
        idx = np.flatnonzero(single)
        log_errors[idx] = self._log_q.take(task_of_pair[idx], axis=0)
        log_errors[idx] -= self._log_totals.take(pairs.worker[idx], axis=0)
        log_errors[self._multi] = self._log_errors
        return np.exp(log_errors, out=log_errors).T
