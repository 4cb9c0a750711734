"""Plain-Python reference implementations, written straight from the math with dicts and loops.

They are slow and obviously correct, and independent of both numpy tricks and crowd-kit: the
tests compare the vectorised classes to them on every run, whether or not crowd-kit is installed.
Conventions follow crowd-kit's (see ``dawid_skene.py``): majority-vote start, only observed
(worker, label) rows in the error matrices, 1e-10 clipping, the per-answer prior term in the bound.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable

import pandas as pd

EPS = 1e-10

Probas = dict[Hashable, dict[Hashable, float]]


def _rows(df: pd.DataFrame) -> list[tuple[Hashable, Hashable, Hashable]]:
    return list(zip(df["task"], df["worker"], df["label"], strict=True))


def majority_vote(df: pd.DataFrame) -> tuple[Probas, dict[Hashable, Hashable]]:
    """Vote shares per task, and the winner: most votes, ties to the smallest label."""
    labels = sorted(set(df["label"]))
    votes: dict[Hashable, Counter] = defaultdict(Counter)
    for task, _, label in _rows(df):
        votes[task][label] += 1
    probas = {t: {c: v[c] / sum(v.values()) for c in labels} for t, v in votes.items()}
    winners = {t: min(c for c in labels if p[c] == max(p.values())) for t, p in probas.items()}
    return probas, winners


def dawid_skene(
    df: pd.DataFrame,
    n_iter: int = 100,
    tol: float = 1e-5,
    golden: dict[Hashable, Hashable] | None = None,
    one_coin: bool = False,
) -> tuple[Probas, dict[Hashable, Hashable], list[float]]:
    """EM for (one-coin) Dawid-Skene. Returns posteriors, winners and the bound's history."""
    rows = _rows(df)
    labels = sorted(set(df["label"]))
    tasks = sorted(set(df["task"]))
    golden = {t: c for t, c in (golden or {}).items() if t in set(tasks)}
    k = len(labels)

    def clamp(probas: Probas) -> Probas:
        for t, c in golden.items():
            probas[t] = {x: 1.0 if x == c else 0.0 for x in labels}
        return probas

    def m_step(probas: Probas) -> dict[tuple, dict[Hashable, float]]:
        counts: dict[tuple, dict[Hashable, float]] = defaultdict(lambda: dict.fromkeys(labels, 0.0))
        for t, w, y in rows:
            for c in labels:
                counts[(w, y)][c] += probas[t][c]
        if one_coin:
            right: dict[Hashable, float] = defaultdict(float)
            n: dict[Hashable, int] = defaultdict(int)
            for t, w, y in rows:
                right[w] += probas[t][y]
                n[w] += 1
            errors = {}
            for (w, y) in counts:
                s = right[w] / n[w]
                row = {c: s if c == y else (1 - s) / max(k - 1, 1) for c in labels}
                errors[(w, y)] = {c: min(max(v, EPS), 1 - EPS) for c, v in row.items()}
            return errors
        clipped = {pair: {c: max(v, EPS) for c, v in row.items()} for pair, row in counts.items()}
        totals: dict[tuple, float] = defaultdict(float)
        for (w, _), row in clipped.items():
            for c in labels:
                totals[(w, c)] += row[c]
        return {
            (w, y): {c: row[c] / totals[(w, c)] for c in labels} for (w, y), row in clipped.items()
        }

    def e_step(priors: dict[Hashable, float], errors: dict) -> Probas:
        ll = {t: {c: math.log(max(priors[c], EPS)) for c in labels} for t in tasks}
        for t, w, y in rows:
            for c in labels:
                ll[t][c] += math.log(errors[(w, y)][c])
        probas = {}
        for t, row in ll.items():
            top = max(row.values())
            e = {c: math.exp(v - top) for c, v in row.items()}
            z = sum(e.values())
            probas[t] = {c: v / z for c, v in e.items()}
        return probas

    def bound(probas: Probas, priors: dict, errors: dict) -> float:
        joint = 0.0
        for t, w, y in rows:
            for c in labels:
                log_prior = math.log(max(priors[c], EPS))
                joint += probas[t][c] * (math.log(errors[(w, y)][c]) + log_prior)
        entropy = 0.0
        for row in probas.values():
            for p in row.values():
                q = max(p, EPS)
                entropy -= q * math.log(q)
        return (joint + entropy) / len(rows)

    probas = clamp(majority_vote(df)[0])
    priors = {c: sum(p[c] for p in probas.values()) / len(tasks) for c in labels}
    errors = m_step(probas)
    loss = -math.inf
    history: list[float] = []
    for _ in range(n_iter):
        probas = clamp(e_step(priors, errors))
        priors = {c: sum(p[c] for p in probas.values()) / len(tasks) for c in labels}
        errors = m_step(probas)
        new_loss = bound(probas, priors, errors)
        history.append(new_loss)
        if new_loss - loss < tol:
            break
        loss = new_loss
    winners = {t: min(c for c in labels if p[c] == max(p.values())) for t, p in probas.items()}
    return probas, winners, history


def accuracy_skills(df: pd.DataFrame, reference: dict[Hashable, Hashable]) -> dict[Hashable, float]:
    """Each worker's share of distinct (task, label) answers equal to ``reference`` (known only)."""
    seen = {(t, w, y) for t, w, y in _rows(df) if t in reference}
    hits: dict[Hashable, int] = defaultdict(int)
    n: dict[Hashable, int] = defaultdict(int)
    for t, w, y in seen:
        n[w] += 1
        hits[w] += int(y == reference[t])
    return {w: hits[w] / n[w] for w in n}


def weighted_vote(df: pd.DataFrame, skills: dict[Hashable, float]) -> dict[Hashable, Hashable]:
    """Winner per task by summed skills, ties to the smallest label."""
    score: dict[Hashable, Counter] = defaultdict(Counter)
    for t, w, y in _rows(df):
        score[t][y] += skills[w]
    return {t: min(c for c in s if s[c] == max(s.values())) for t, s in score.items()}
