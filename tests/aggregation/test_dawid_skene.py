"""Dawid-Skene and one-coin: the naive EM, golden clamping, fitted attributes, numerical safety."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import annotate_core.aggregation as agg

from . import naive
from .cases import golden, load_case


def posteriors(probas: dict) -> pd.DataFrame:
    return pd.DataFrame(probas).T


def assert_matches_naive(
    model: agg.DawidSkene | agg.OneCoinDawidSkene,
    answers: pd.DataFrame,
    atol: float = 1e-12,
    **naive_kwargs: object,
) -> None:
    """``model`` (fitted on ``answers``) has the naive EM's posteriors, labels and bound history."""
    probas, winners, history = naive.dawid_skene(answers, **naive_kwargs)
    expected = posteriors(probas).reindex(index=model.probas_.index, columns=model.probas_.columns)
    np.testing.assert_allclose(model.probas_.to_numpy(), expected.to_numpy(), atol=atol)
    assert model.labels_.to_dict() == winners
    np.testing.assert_allclose(model.loss_history_, history, rtol=atol)


@pytest.mark.parametrize("case", ["bluebirds", "multiclass"])
@pytest.mark.parametrize("one_coin", [False, True])
@pytest.mark.parametrize("with_golden", [False, True])
def test_matches_naive_em(case: str, one_coin: bool, with_golden: bool) -> None:
    answers, truth = load_case(case)
    known = golden(truth) if with_golden else None
    cls = agg.OneCoinDawidSkene if one_coin else agg.DawidSkene
    model = cls().fit(answers, known)
    assert_matches_naive(model, answers, golden=None if known is None else known.to_dict(), one_coin=one_coin)


def test_synthetic_crowd_with_int_labels_matches_naive() -> None:
    answers, truth = agg.simulate_crowd(500, overlap=4, n_workers=25, labels=(0, 1, 2), seed=2)
    model = agg.DawidSkene(n_iter=15, tol=0).fit(answers)
    assert_matches_naive(model, answers, n_iter=15, tol=0)
    assert (model.labels_ == truth).mean() > 0.85


def test_many_labels_take_the_wide_engine_and_match_naive_em(monkeypatch: pytest.MonkeyPatch) -> None:
    """From WIDE_MIN_LABELS labels Dawid-Skene runs task-major (``_wide_em``), where pairs with a
    single answer keep no confusion table; golden tasks, pairs with several answers and a worker
    answering one task twice must give what the label-major engine and the naive EM give."""
    from annotate_core.aggregation import dawid_skene

    labels = tuple(f"l{i:02d}" for i in range(70))
    answers, truth = agg.simulate_crowd(300, overlap=3, n_workers=30, labels=labels, seed=5)
    answers = pd.concat([answers, answers.iloc[[0, 4]]], ignore_index=True)  # repeated answers
    known = truth.iloc[::15]
    assert len(labels) >= dawid_skene.WIDE_MIN_LABELS
    wide = agg.DawidSkene(n_iter=8, tol=0).fit(answers, known)
    assert_matches_naive(wide, answers, atol=1e-10, n_iter=8, tol=0, golden=known.to_dict())

    monkeypatch.setattr(dawid_skene, "WIDE_MIN_LABELS", 10**9)
    narrow = agg.DawidSkene(n_iter=8, tol=0).fit(answers, known)
    assert wide.labels_.equals(narrow.labels_)
    np.testing.assert_allclose(wide.probas_.to_numpy(), narrow.probas_.to_numpy(), atol=1e-12)
    np.testing.assert_allclose(wide.errors_.to_numpy(), narrow.errors_.to_numpy(), atol=1e-12)
    assert wide.errors_.index.equals(narrow.errors_.index)
    np.testing.assert_allclose(wide.priors_.to_numpy(), narrow.priors_.to_numpy(), atol=1e-14)
    np.testing.assert_allclose(wide.loss_history_, narrow.loss_history_, rtol=1e-13)


@pytest.mark.parametrize("one_coin", [False, True])
def test_yes_no_sparse_products_match_the_gather_and_bincount_path(
    one_coin: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Yes/no labels take the sparse products (one pass over the answers each way) from
    SPARSE_MIN_ANSWERS_K2 answers or once scipy.sparse is imported, else a gather and a
    bincount: same posteriors, bound and labels either way and as the naive EM, with golden
    tasks, rows out of task order and a repeated answer."""
    from annotate_core.aggregation import _em

    answers, truth = load_case("bluebirds")
    answers = pd.concat([answers, answers.iloc[[3]]], ignore_index=True).sample(frac=1.0, random_state=3)
    known = golden(truth)
    cls = agg.OneCoinDawidSkene if one_coin else agg.DawidSkene
    no_golden = _em.Golden(np.empty(0, np.intp), np.empty(0, np.intp))
    monkeypatch.setattr(_em, "yes_no_sparse", lambda n_answers: False)
    assert not _em.EM(agg._encode.encode_answers(answers), no_golden)._sparse
    small = cls(n_iter=12, tol=0).fit(answers, known)
    monkeypatch.undo()
    monkeypatch.setattr(_em, "SPARSE_MIN_ANSWERS_K2", 0)
    assert _em.EM(agg._encode.encode_answers(answers), no_golden)._sparse
    large = cls(n_iter=12, tol=0).fit(answers, known)
    np.testing.assert_allclose(large.probas_.to_numpy(), small.probas_.to_numpy(), atol=1e-12)
    np.testing.assert_allclose(large.loss_history_, small.loss_history_, rtol=1e-12)
    np.testing.assert_allclose(large.errors_.to_numpy(), small.errors_.to_numpy(), atol=1e-12)
    assert large.labels_.equals(small.labels_)
    assert_matches_naive(large, answers, n_iter=12, tol=0, golden=known.to_dict(), one_coin=one_coin)


def test_yes_no_fits_import_scipy_only_when_it_pays() -> None:
    """Below SPARSE_MIN_ANSWERS_K2 answers a yes/no fit leaves scipy unimported (50-150 ms of
    import for a fit of a few ms); with scipy.sparse already imported it takes the products."""
    probe = (
        "import sys\n"
        "import annotate_core.aggregation as agg\n"
        "from annotate_core.aggregation import _em\n"
        "answers, _ = agg.simulate_crowd(2000, seed=1)\n"
        "agg.DawidSkene(n_iter=5).fit(answers)\n"
        "print('scipy' in sys.modules, _em.yes_no_sparse(len(answers)))\n"
        "import scipy.sparse\n"
        "print(_em.yes_no_sparse(len(answers)), _em.yes_no_sparse(10**6))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "True", "True"]


@pytest.mark.parametrize("one_coin", [False, True])
@pytest.mark.parametrize("few_clipped", [1, 8, 10**9])
def test_softmax_in_blocks_of_tasks_matches_naive_em(
    one_coin: bool, few_clipped: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The softmax runs in blocks of tasks (``_em._BLOCK_VALUES``, a multiple of ``_TILE`` rows);
    with blocks of 7 tasks, golden tasks fall in some blocks and not others, blocks with and
    without posteriors below the entropy's 1e-10 clip alternate, and the last block (300 = 42 x 7
    + 6) is shorter than a tile. The clipped entropy is taken from the gathered clipped cells
    (``few_clipped`` 10**9: always), from the masked unclipped ones (1: always) or as the share
    decides (8): every way the naive EM's posteriors and bound."""
    from annotate_core.aggregation import _em

    answers, truth = agg.simulate_crowd(300, overlap=4, n_workers=12, labels=("a", "b", "c", "d"),
                                        accuracy=(0.5, 0.999), seed=11)
    known = truth.iloc[5:60:7]
    monkeypatch.setattr(_em, "_BLOCK_VALUES", 4 * 7)
    monkeypatch.setattr(_em, "_TILE", 7)  # 7 tasks a block, one tile each
    monkeypatch.setattr(_em, "_FEW_CLIPPED", few_clipped)
    cls = agg.OneCoinDawidSkene if one_coin else agg.DawidSkene
    model = cls(n_iter=10, tol=0).fit(answers, known)
    assert_matches_naive(model, answers, n_iter=10, tol=0, golden=known.to_dict(), one_coin=one_coin)
    assert (model.probas_.to_numpy() < 1e-10).any()  # the clip was exercised


def test_golden_tasks_are_clamped_and_guide_the_rest() -> None:
    answers, truth = agg.simulate_crowd(300, overlap=3, n_workers=20, accuracy=(0.3, 0.95), seed=4)
    known = truth.iloc[:100]
    model = agg.DawidSkene().fit(answers, known)
    assert (model.labels_[known.index] == known).all()
    assert (model.probas_.loc[known.index].max(axis=1) == 1.0).all()
    plain = agg.DawidSkene().fit_predict(answers)
    rest = truth.index[100:]
    assert (model.labels_[rest] == truth[rest]).mean() >= (plain[rest] == truth[rest]).mean()


def test_golden_as_dict_missing_tasks_and_nan_are_tolerated() -> None:
    answers, truth = agg.simulate_crowd(50, overlap=3, n_workers=10, seed=6)
    known = {0: int(truth[0]), 1: np.nan, 999: 1}  # 999 has no answers; NaN is "unknown"
    model = agg.DawidSkene().fit(answers, known)
    assert model.labels_[0] == truth[0] and model.probas_.loc[0].max() == 1.0
    assert model.probas_.loc[1].max() < 1.0


def test_golden_label_nobody_gave_widens_the_label_set() -> None:
    df = pd.DataFrame({"task": ["a", "a", "b", "b"], "worker": ["w1", "w2", "w1", "w2"],
                       "label": ["x", "x", "x", "x"]})
    model = agg.DawidSkene().fit(df, pd.Series({"b": "y"}))
    assert list(model.probas_.columns) == ["x", "y"]
    assert model.labels_["b"] == "y" and model.probas_.loc["b", "y"] == 1.0
    assert np.isfinite(model.probas_.to_numpy()).all()
    table = agg.aggregate(df, "mv", true_labels=pd.Series({"b": "y"}))
    assert table["label"].tolist() == ["x", "y"] and table["confidence"].tolist() == [1.0, 1.0]


def test_conflicting_golden_labels_raise() -> None:
    answers, _ = agg.simulate_crowd(10, seed=1)
    known = pd.Series([0, 1], index=[3, 3])
    with pytest.raises(ValueError, match=r"1 task\(s\) have two different true labels"):
        agg.DawidSkene().fit(answers, known)


def test_zero_iterations_is_majority_vote() -> None:
    answers, _ = agg.simulate_crowd(200, overlap=5, n_workers=20, labels=("a", "b", "c"), seed=8)
    ds = agg.DawidSkene(n_iter=0).fit(answers)
    mv = agg.MajorityVote().fit(answers)
    pd.testing.assert_frame_equal(ds.probas_, mv.probas_)
    assert ds.loss_history_ == []


def test_fitted_attributes() -> None:
    answers, _ = agg.simulate_crowd(400, overlap=3, n_workers=30, labels=("n", "y"), seed=9)
    ds = agg.DawidSkene().fit(answers)
    assert ds.priors_.sum() == pytest.approx(1.0) and ds.priors_.name == "prior"
    assert list(ds.priors_.index) == ["n", "y"]
    assert ds.errors_.index.names == ["worker", "label"] and list(ds.errors_.columns) == ["n", "y"]
    observed = answers[["worker", "label"]].drop_duplicates()
    assert len(ds.errors_) == len(observed)
    # each worker's confusion column sums to 1 over the labels they gave
    np.testing.assert_allclose(ds.errors_.groupby(level="worker").sum().to_numpy(), 1.0)
    np.testing.assert_allclose(ds.probas_.sum(axis=1), 1.0)
    oc = agg.OneCoinDawidSkene().fit(answers)
    assert oc.skills_.between(0, 1).all() and oc.skills_.index.name == "worker"
    worker = oc.skills_.index[0]
    rows = oc.errors_.loc[worker]
    for label, row in rows.iterrows():
        assert row[label] == pytest.approx(min(oc.skills_[worker], 1 - 1e-10))


@pytest.mark.parametrize("with_golden", [False, True])
@pytest.mark.parametrize("other", [("n",), ("n", "m")])
def test_many_answers_per_task_do_not_underflow(other: tuple[str, ...], with_golden: bool) -> None:
    """2,000 confident answers on one task: products of probabilities would underflow to 0/0,
    and unshifted log-likelihoods too (Dawid-Skene's sum to below -708 for every label; one-coin's
    3+-label form sums log-odds, above +709); log space with the per-task shift keeps the
    posterior finite and certain, and the other tasks as the naive EM has them. With golden
    tasks beside it, the shifted block is also clamped (its bound takes both corrections)."""
    n = 2000
    df = pd.DataFrame({
        "task": ["big"] * n + [f"t{i}" for i in range(n)],
        "worker": [f"w{i}" for i in range(n)] * 2,
        "label": ["y"] * n + [other[i % len(other)] if i % 10 else "y" for i in range(n)],
    })
    known = {"t1": "n", "t7": "y"} if with_golden else None
    for cls in (agg.DawidSkene, agg.OneCoinDawidSkene):
        model = cls(n_iter=5, tol=0).fit(df, None if known is None else pd.Series(known))
        assert np.isfinite(model.probas_.to_numpy()).all()
        assert model.labels_["big"] == "y" and model.probas_.loc["big", "y"] == pytest.approx(1.0)
        probas, winners, history = naive.dawid_skene(
            df, n_iter=5, tol=0, golden=known, one_coin=cls is agg.OneCoinDawidSkene
        )
        expected = posteriors(probas).reindex(index=model.probas_.index, columns=model.probas_.columns)
        np.testing.assert_allclose(model.probas_.to_numpy(), expected.to_numpy(), atol=1e-12)
        assert model.labels_.to_dict() == winners
        np.testing.assert_allclose(model.loss_history_, history, rtol=1e-10)


# --- initial_error: confusion matrices from history (parity with crowd-kit: test_crowdkit_parity)


def test_initial_error_assign_starts_from_the_given_matrices() -> None:
    """With n_iter=0 nothing but the first M-step runs: "assign" makes errors_ the given table
    (already normalised); "addition" adds it to the counts before normalising."""
    answers, truth = load_case("bluebirds")
    from .cases import initial_error

    table = initial_error(answers, truth, "assign")
    model = agg.DawidSkene(n_iter=1, tol=0, initial_error_strategy="assign").fit(
        answers, initial_error=table
    )
    assert model.labels_.index.equals(agg.DawidSkene().fit(answers).labels_.index)
    plain = agg.DawidSkene(n_iter=1, tol=0).fit(answers)
    assert not np.allclose(model.probas_.to_numpy(), plain.probas_.to_numpy())
    addition = initial_error(answers, truth, "addition")
    strong = agg.DawidSkene(initial_error_strategy="addition").fit_predict(answers, initial_error=addition * 50)
    assert (strong == truth[strong.index]).mean() >= (plain.labels_ == truth[strong.index]).mean()


def test_initial_error_rows_for_labels_not_given_count_in_the_normalisation() -> None:
    """A history row for a label the worker did not give here still takes its share of the
    worker's column: w said "x" on both tasks, its history says "y" as often when the truth is y."""
    df = pd.DataFrame({"task": ["a", "b", "a", "b"], "worker": ["w", "w", "v", "v"],
                       "label": ["x", "x", "y", "x"]})
    index = pd.MultiIndex.from_tuples([("w", "x"), ("w", "y")], names=["worker", "label"])
    with_row = pd.DataFrame([[9.0, 5.0], [1.0, 5.0]], index=index, columns=["x", "y"])
    without = with_row.iloc[:1]
    fits = [
        agg.DawidSkene(n_iter=1, tol=0, initial_error_strategy="addition").fit(df, initial_error=t)
        for t in (with_row, without)
    ]
    # without the row, w's columns are all on "x": its "x" answers say nothing about x vs y
    assert fits[0].probas_.loc["a", "x"] != pytest.approx(fits[1].probas_.loc["a", "x"])
    assert fits[0].probas_.loc["a", "x"] > fits[1].probas_.loc["a", "x"]


@pytest.mark.parametrize(
    ("kwargs", "table", "message"),
    [
        ({"initial_error_strategy": "replace"}, None, "not one of 'assign', 'addition'"),
        ({}, "valid", "initial_error_strategy=...\\) is None"),
        ({"initial_error_strategy": "assign"}, "flat", "index must be \\(worker, label\\)"),
        ({"initial_error_strategy": "assign"}, "partial", "needs a row for every \\(worker, label\\) pair"),
        ({"initial_error_strategy": "assign"}, "unnormalised", "must sum to 1.0"),
        ({"initial_error_strategy": "addition"}, "unknown_label", "not in the data, e.g. 'z'"),
        ({"initial_error_strategy": "addition"}, "nan", "NaN"),
    ],
)
def test_initial_error_bad_input(kwargs: dict, table: str | None, message: str) -> None:
    df = pd.DataFrame({"task": ["a", "a", "b"], "worker": ["w1", "w2", "w1"], "label": ["x", "y", "y"]})
    index = pd.MultiIndex.from_tuples([("w1", "x"), ("w1", "y"), ("w2", "y")], names=["worker", "label"])
    valid = pd.DataFrame([[0.5, 0.5], [0.5, 0.5], [1.0, 1.0]], index=index, columns=["x", "y"])
    tables = {
        "valid": valid,
        "flat": valid.reset_index(drop=True),
        "partial": valid.iloc[:2],
        "unnormalised": valid * 0.5,
        "unknown_label": valid.assign(z=1.0),
        "nan": valid.where(valid < 1.0),
    }
    with pytest.raises(ValueError, match=message):
        agg.DawidSkene(**kwargs).fit(df, initial_error=tables.get(table or ""))
    if table == "valid":
        with pytest.raises(ValueError, match="initial_error_strategy"):
            agg.OneCoinDawidSkene().fit(df, initial_error=valid)


@pytest.mark.parametrize("few_clipped", [1, 8, 10**9])
@pytest.mark.parametrize("clipped_share", [0.0, 0.05, 0.9])
def test_clipped_entropy_of_a_block(few_clipped: int, clipped_share: float,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """``-sum q log q + sum p rel`` with ``q = max(p, 1e-10)`` (the clipped entropy with the
    expected log-likelihood added back: ``EM.joint`` takes it off per iteration), from unnormalised
    log-likelihoods and their row totals, whichever set of cells (clipped or not) it gathers; rows
    of 20 labels."""
    from annotate_core.aggregation import _em

    monkeypatch.setattr(_em, "_FEW_CLIPPED", few_clipped)
    rng = np.random.default_rng(3)
    rel = rng.normal(-3.0, 1.0, (500, 20))
    rel[rng.random(rel.shape) < clipped_share] -= 40.0  # far below the rest of their row
    total = np.exp(rel).sum(axis=1)
    post = np.exp(rel) / total[:, None]
    assert ((post < 1e-10).mean() > 0) == (clipped_share > 0)
    q = np.maximum(post, 1e-10)
    expected = -float((q * np.log(q)).sum()) + float((post * rel).sum())
    got = _em.clipped_entropy_plus_joint(post.copy(), rel.copy(), np.log(total), np.ones(20),
                                         np.empty(post.size))
    assert got == pytest.approx(expected, rel=1e-12)
