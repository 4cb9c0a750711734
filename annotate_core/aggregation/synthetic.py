"""Seeded synthetic crowds: answers with a known truth, for tests, benchmarks and demos.

Aggregation is judged against a truth that real jobs rarely have; a simulated crowd whose workers
have known accuracies gives one, at any size, reproducibly from a seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["simulate_crowd"]


def simulate_crowd(
    n_tasks: int,
    *,
    overlap: int = 3,
    n_workers: int = 500,
    labels: Sequence[Any] = (0, 1),
    accuracy: tuple[float, float] = (0.55, 0.95),
    priors: Sequence[float] | None = None,
    string_ids: bool = False,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.Series]:
    """Answers of ``overlap`` distinct workers on each of ``n_tasks`` tasks, and the true labels.

    Each worker has an accuracy drawn uniformly from ``accuracy``; a wrong answer is uniform over
    the other labels (the one-coin model). True labels follow ``priors`` (uniform by default).
    Everything is vectorised, so millions of answers take well under a second.

    Returns ``(answers, truth)``: answers has columns ``task``, ``worker``, ``label`` (task-major
    order); truth is a Series indexed by ``task``. Ids are ints, or strings like ``"t17"`` /
    ``"w3"`` with ``string_ids``.
    """
    if n_tasks < 1 or overlap < 1 or n_workers < overlap:
        raise ValueError(
            f"need n_tasks >= 1 and 1 <= overlap <= n_workers; got n_tasks={n_tasks}, "
            f"overlap={overlap}, n_workers={n_workers}"
        )
    n_labels = len(labels)
    if n_labels < 2:
        raise ValueError(f"labels: need at least two labels, got {list(labels)}")
    rng = np.random.default_rng(seed)
    skill = rng.uniform(accuracy[0], accuracy[1], size=n_workers)
    p = None if priors is None else np.asarray(priors, dtype=float) / np.sum(priors)
    truth_codes = rng.choice(n_labels, size=n_tasks, p=p)

    # `overlap` distinct workers per task: draw with replacement, redraw rows that repeat a worker.
    workers = rng.integers(n_workers, size=(n_tasks, overlap))
    while True:
        ordered = np.sort(workers, axis=1)
        clash = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        if not clash.any():
            break
        workers[clash] = rng.integers(n_workers, size=(int(clash.sum()), overlap))

    worker_flat = workers.ravel()
    true_flat = np.repeat(truth_codes, overlap)
    correct = rng.random(worker_flat.size) < skill[worker_flat]
    # A wrong answer: shift the true code by 1..K-1, which is uniform over the other labels.
    shift = rng.integers(1, n_labels, size=worker_flat.size)
    answer_codes = np.where(correct, true_flat, (true_flat + shift) % n_labels)

    label_values = pd.Index(list(labels)).take(answer_codes)
    task_ids: Any = np.repeat(np.arange(n_tasks), overlap)
    worker_ids: Any = worker_flat
    truth_index: Any = np.arange(n_tasks)
    if string_ids:
        task_ids = np.char.add("t", task_ids.astype(str)).astype(object)
        worker_ids = np.char.add("w", worker_ids.astype(str)).astype(object)
        truth_index = np.char.add("t", truth_index.astype(str)).astype(object)
    answers = pd.DataFrame({"task": task_ids, "worker": worker_ids, "label": label_values})
    truth = pd.Series(
        pd.Index(list(labels)).take(truth_codes),
        index=pd.Index(truth_index, name="task"),
        name="label",
    )
    return answers, truth
