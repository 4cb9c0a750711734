"""Krippendorff's alpha (nominal) against values worked out by hand and the published example."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from annotate_core.comparison.agreement import alpha_from_counts, krippendorff_alpha, value_counts_matrix


def frame(rows: list[tuple[str, str, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


def test_hand_fixture(hand_frame: pd.DataFrame) -> None:
    # Usable answers per item (cat, dog): g1 (2,1) g2 (1,2) i1 (3,0) i2 (1,2) i3 (0,2) (w2's i3 rejected).
    # Coincidences o_cc = 1+3 = 4, o_dd = 1+1+2 = 4, o_cd = o_dc = 1+1+1 = 3; n_cat = n_dog = 7, n = 14.
    # alpha = 1 - (n-1) * (o_cd + o_dc) / (n^2 - n_cat^2 - n_dog^2) = 1 - 13 * 6 / 98 = 20/98.
    ok = hand_frame[hand_frame["status"].isin(["submitted", "accepted"])]
    assert krippendorff_alpha(ok) == pytest.approx(20 / 98, abs=1e-12)


def test_krippendorff_2011_example() -> None:
    # "Computing Krippendorff's Alpha-Reliability" (2011), nominal data, 4 observers, 12 units with
    # missing values: alpha = 0.743 (exactly 1 - 39 * 10 / 1520 = 113/152).
    data = {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    }
    rows = [(f"u{u}", w, v) for w, vals in data.items() for u, v in enumerate(vals, 1) if v is not None]
    alpha = krippendorff_alpha(frame(rows))
    assert round(alpha, 3) == 0.743
    assert alpha == pytest.approx(113 / 152, abs=1e-12)


def test_two_coders_by_hand() -> None:
    # 4 items, 2 coders: (a,a) (a,b) (b,b) (b,b). o_aa = 2, o_bb = 4, o_ab = o_ba = 1; n_a = 3, n_b = 5, n = 8.
    # alpha = 1 - 7 * 2 / (64 - 9 - 25) = 1 - 14/30 = 16/30.
    rows = [("1", "x", "a"), ("1", "y", "a"), ("2", "x", "a"), ("2", "y", "b"),
            ("3", "x", "b"), ("3", "y", "b"), ("4", "x", "b"), ("4", "y", "b")]
    assert krippendorff_alpha(frame(rows)) == pytest.approx(16 / 30, abs=1e-12)


def test_perfect_agreement_is_one_and_systematic_disagreement_negative() -> None:
    same = [(t, w, lab) for t, lab in [("1", "a"), ("2", "b"), ("3", "a")] for w in "xyz"]
    assert krippendorff_alpha(frame(same)) == 1.0
    # every pair disagrees: alpha = 1 - (n-1) * n / (n^2 - sum n_c^2) with n = 4, n_a = n_b = 2 -> 1 - 12/8
    opposite = [("1", "x", "a"), ("1", "y", "b"), ("2", "x", "b"), ("2", "y", "a")]
    assert krippendorff_alpha(frame(opposite)) == pytest.approx(-0.5)


def test_undefined_cases_are_nan() -> None:
    assert math.isnan(krippendorff_alpha(frame([])))
    # one answer per item: nothing is pairable
    assert math.isnan(krippendorff_alpha(frame([("1", "x", "a"), ("2", "y", "b")])))
    # a single category everywhere: no variation, the coefficient is undefined
    assert math.isnan(krippendorff_alpha(frame([("1", "x", "a"), ("1", "y", "a")])))


def test_a_worker_counts_once_per_item_and_labels_compare_by_value() -> None:
    # the same worker twice on item 1 (last one wins) and 1 / "1" / 1.0 are one category
    rows = [("1", "x", 1), ("1", "y", "1"), ("1", "x", 0), ("2", "x", 1.0), ("2", "y", 1),
            ("3", "x", 0), ("3", "y", 0)]
    counts = value_counts_matrix(frame(rows))
    assert counts.tolist() == [[1, 1], [0, 2], [2, 0]]
    # o_00 = 2, o_11 = 2, o_01 = o_10 = 1; n_0 = n_1 = 3, n = 6: alpha = 1 - 5 * 2 / (36 - 18) = 8/18
    assert krippendorff_alpha(frame(rows)) == pytest.approx(8 / 18)


def test_multi_choice_labels_are_order_free() -> None:
    rows = [("1", "x", ["a", "b"]), ("1", "y", ["b", "a"]), ("2", "x", ["a"]), ("2", "y", ["a"])]
    assert krippendorff_alpha(frame(rows)) == 1.0


def naive_alpha(counts: np.ndarray) -> float:
    """Pair-by-pair definition: for each unit, every ordered pair of values, weighted 1/(m_u - 1)."""
    cats = counts.shape[1]
    o = np.zeros((cats, cats))
    for row in counts:
        values = [c for c in range(cats) for _ in range(int(row[c]))]
        if len(values) < 2:
            continue
        for i, j in itertools.permutations(range(len(values)), 2):
            o[values[i], values[j]] += 1 / (len(values) - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    d_o = sum(o[c, k] for c in range(cats) for k in range(cats) if c != k)
    d_e = sum(n_c[c] * n_c[k] for c in range(cats) for k in range(cats) if c != k)
    return 1 - (n - 1) * d_o / d_e


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_matches_the_pairwise_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 4, size=(30, 4)).astype(float)
    assert alpha_from_counts(counts) == pytest.approx(naive_alpha(counts), abs=1e-12)
