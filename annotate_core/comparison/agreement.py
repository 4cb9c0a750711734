"""Inter-annotator agreement: Krippendorff's alpha for nominal labels, vectorised with numpy.

Alpha compares the disagreement observed between workers on the same item with the disagreement
expected if labels were handed out at random with the same overall frequencies:
``alpha = 1 - D_o / D_e``. 1 is perfect agreement, 0 is chance, below 0 is systematic disagreement.
Unlike percent agreement it corrects for chance and copes with any number of workers per item and
missing answers, which is what crowd data looks like.

Reference: K. Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from annotate_core.comparison.labels import label_key


def value_counts_matrix(answers: pd.DataFrame, *, task: str = "task", worker: str = "worker",
                        label: str = "label") -> np.ndarray:
    """Units x categories matrix: how many workers gave item ``u`` the label ``c``.

    A worker counts once per item (their last answer in frame order), as the coefficient assumes one
    value per coder and unit.
    """
    if answers.empty:
        return np.zeros((0, 0))
    df = pd.DataFrame({
        "task": answers[task].astype(str).to_numpy(),
        "worker": answers[worker].astype(str).to_numpy(),
        "label": [label_key(v) for v in answers[label]],
    })
    df = df[df["label"].notna()].drop_duplicates(["task", "worker"], keep="last")
    if df.empty:
        return np.zeros((0, 0))
    units, u_idx = np.unique(df["task"].to_numpy(), return_inverse=True)
    cats, c_idx = np.unique(df["label"].to_numpy(), return_inverse=True)
    counts = np.zeros((len(units), len(cats)))
    np.add.at(counts, (u_idx, c_idx), 1)
    return counts


def alpha_from_counts(counts: np.ndarray) -> float:
    """Nominal alpha from a units x categories count matrix; NaN when it is undefined.

    Only units with two or more values are pairable. The coincidence matrix is
    ``o = sum_u (n_u n_u^T - diag(n_u)) / (m_u - 1)``; with ``n_c`` its marginals and ``n`` its total,
    ``alpha = 1 - (n - 1) * (n - trace(o)) / (n^2 - sum_c n_c^2)``. Undefined (NaN) when fewer than two
    values are pairable or every pairable value is the same category (no variation to agree on).
    """
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2 or counts.size == 0:
        return float("nan")
    m = counts.sum(axis=1)
    pairable = counts[m >= 2]
    if pairable.size == 0:
        return float("nan")
    weights = 1.0 / (pairable.sum(axis=1) - 1.0)
    # o_ck = sum_u n_uc * n_uk / (m_u - 1), minus the self-pairs on the diagonal
    o = (pairable * weights[:, None]).T @ pairable
    o -= np.diag((pairable * weights[:, None]).sum(axis=0))
    n_c = o.sum(axis=1)
    n = n_c.sum()
    expected = n * n - float((n_c * n_c).sum())
    if n <= 1 or expected <= 0:
        return float("nan")
    observed = n - float(np.trace(o))
    return float(1.0 - (n - 1.0) * observed / expected)


def krippendorff_alpha(answers: pd.DataFrame, *, task: str = "task", worker: str = "worker",
                       label: str = "label") -> float:
    """Krippendorff's alpha (nominal) of an answers frame with ``task, worker, label`` columns."""
    return alpha_from_counts(value_counts_matrix(answers, task=task, worker=worker, label=label))
