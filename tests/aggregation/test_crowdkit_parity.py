"""Same labels as crowd-kit and probabilities within 1e-8, on real and synthetic crowds.

With crowd-kit installed (a test dependency) the comparison is live, and the recorded results in
``reference/`` are checked against it too; without it, the recorded crowd-kit 1.4.2 results are the
expectation. Either way every case asserts.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pandas as pd
import pytest

import annotate_core.aggregation as ours

from .cases import CASES, METHODS, load_case, recorded, run_method

# crowd-kit 1.4.2 on pandas 3 warns about its own deprecated pandas calls; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::Warning:crowdkit")

TOL = 1e-8  # crowd-kit clips final probabilities at 1e-10; everything else agrees to rounding
# GLAD's M-step is 25 conjugate-gradient steps stopped far from convergence: rounding in the last
# bits of the objective (a different summation order) moves that path, and the probabilities
# with it, by up to ~1e-3 on bluebirds; the labels stay the same.
TOLERANCE = {"glad": 3e-3}


def as_text(probas: pd.DataFrame, labels: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """Tasks and labels as strings, the form they are recorded in."""
    probas = probas.copy()
    probas.index = probas.index.map(str)
    probas.columns = probas.columns.map(str)
    labels = pd.Series(labels.map(str).to_numpy(), index=labels.index.map(str))
    return probas.sort_index(axis=0).sort_index(axis=1), labels.sort_index()


def expected(crowdkit: ModuleType | None, case: str, method: str) -> tuple[pd.DataFrame, pd.Series]:
    rec_probas, rec_labels = recorded(case, method)
    rec_probas, rec_labels = as_text(rec_probas, rec_labels)
    if crowdkit is None:
        return rec_probas, rec_labels
    answers, truth = load_case(case)
    model = run_method(crowdkit, method, answers, truth)
    live_probas, live_labels = as_text(model.probas_, model.labels_)
    # The recording must still be what crowd-kit computes.
    np.testing.assert_allclose(live_probas.to_numpy(), rec_probas.to_numpy(), atol=1e-12)
    assert (live_labels == rec_labels).all()
    return live_probas, live_labels


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", CASES)
def test_same_labels_and_probabilities_as_crowdkit(
    crowdkit: ModuleType | None, case: str, method: str
) -> None:
    answers, truth = load_case(case)
    model = run_method(ours, method, answers, truth)
    probas, labels = as_text(model.probas_, model.labels_)
    want_probas, want_labels = expected(crowdkit, case, method)

    assert list(probas.index) == list(want_probas.index)
    assert list(probas.columns) == list(want_probas.columns)
    atol = TOLERANCE.get(method, TOL)
    np.testing.assert_allclose(probas.to_numpy(), want_probas.to_numpy(), rtol=0, atol=atol)
    mismatched = labels[labels != want_labels.reindex(labels.index)]
    assert mismatched.empty, f"labels differ from crowd-kit on {len(mismatched)} tasks"


def test_multiclass_case_has_majority_ties(crowdkit: ModuleType | None) -> None:
    """The synthetic case exercises tie-breaking: several tasks have two labels tied on top."""
    answers, _ = load_case("multiclass")
    counts = answers.groupby(["task", "label"]).size().unstack(fill_value=0)
    tied = (counts.eq(counts.max(axis=1), axis=0).sum(axis=1) > 1).sum()
    assert tied >= 5


@pytest.mark.parametrize("case", CASES)
def test_fitted_attributes_match_crowdkit(crowdkit: ModuleType | None, case: str) -> None:
    """errors_, priors_ and skills_ carry crowd-kit's names and values (live comparison), or the
    structure crowd-kit documents (without crowd-kit)."""
    answers, _ = load_case(case)
    ds = ours.DawidSkene().fit(answers)
    oc = ours.OneCoinDawidSkene().fit(answers)
    mv = ours.MajorityVote().fit(answers)
    assert ds.errors_.index.names == ["worker", "label"]
    assert ds.priors_.name == "prior" and mv.skills_.name == "skill" and oc.skills_.name == "skill"
    assert ds.labels_.name == "agg_label" and ds.labels_.index.name == "task"
    if crowdkit is None:
        # Confusion columns sum to 1 over the labels each worker gave; priors sum to 1.
        sums = ds.errors_.groupby(level="worker").sum()
        np.testing.assert_allclose(sums.to_numpy(), 1.0, atol=1e-12)
        assert ds.priors_.sum() == pytest.approx(1.0)
        return
    ck_ds = crowdkit.DawidSkene().fit(answers)
    ck_oc = crowdkit.OneCoinDawidSkene().fit(answers)
    ck_mv = crowdkit.MajorityVote().fit(answers)
    errors = ck_ds.errors_.reindex(index=ds.errors_.index, columns=ds.errors_.columns)
    np.testing.assert_allclose(ds.errors_.to_numpy(), errors.to_numpy(), atol=1e-9)
    np.testing.assert_allclose(ds.priors_.to_numpy(), ck_ds.priors_[ds.priors_.index], atol=1e-9)
    np.testing.assert_allclose(oc.skills_.to_numpy(), ck_oc.skills_[oc.skills_.index], atol=1e-9)
    np.testing.assert_allclose(mv.skills_.to_numpy(), ck_mv.skills_[mv.skills_.index], atol=1e-12)
    assert len(ds.loss_history_) == len(ck_ds.loss_history_)
    np.testing.assert_allclose(ds.loss_history_, ck_ds.loss_history_, atol=1e-9)


def test_mace_matches_crowdkit_as_released_where_its_orders_agree(crowdkit: ModuleType | None) -> None:
    """crowd-kit's MACE reads its spamming counts in first-appearance order but stores them
    sorted (see ``cases.aligned_mace``). Renaming bluebirds' labels 1 -> "a", 0 -> "b" makes the
    two orders agree (its workers already appear in sorted order): then crowd-kit as released
    computes what ours does, and our result does not depend on what the labels are called."""
    answers, truth = load_case("bluebirds")
    names = {1: "a", 0: "b"}
    renamed = answers.assign(label=answers["label"].map(names))
    ours_renamed = ours.MACE().fit(renamed)
    ours_plain = ours.MACE().fit(answers)
    np.testing.assert_allclose(
        ours_renamed.probas_[["a", "b"]].to_numpy(), ours_plain.probas_[[1, 0]].to_numpy(), atol=1e-12
    )
    assert ours_renamed.labels_.equals(ours_plain.labels_.map(names))
    assert (ours_plain.labels_ == truth.reindex(ours_plain.labels_.index)).mean() == pytest.approx(93 / 108)
    if crowdkit is None:
        return
    released = crowdkit.MACE().fit(renamed)
    probas = released.probas_.reindex(index=ours_renamed.probas_.index, columns=["a", "b"])
    np.testing.assert_allclose(ours_renamed.probas_.to_numpy(), probas.to_numpy(), atol=TOL)
    assert released.labels_.reindex(ours_renamed.labels_.index).equals(ours_renamed.labels_)
    # on the labels as they come, crowd-kit as released reads swapped counts and is less accurate
    unaligned = crowdkit.MACE().fit_predict(answers)
    assert (unaligned == truth.reindex(unaligned.index)).mean() == pytest.approx(78 / 108)
