"""The crowds the aggregation tests compare on, and where their recorded crowd-kit results live.

``bluebirds`` is real data (tests/data/bluebirds, BSD licence beside it); ``multiclass`` is a
small synthetic crowd with string labels stored as CSV here, so the recorded crowd-kit results
never depend on a random generator's stream. ``make_reference.py`` rewrites the recordings.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference"
BLUEBIRDS = HERE.parent / "data" / "bluebirds"

# method -> fit arguments beyond the answers ("golden" = every third true label)
METHODS = (
    "mv", "ds", "ocds", "wawa", "ds_golden", "gold_mv", "glad", "mace", "ds_assign", "ds_addition",
)
CASES = ("bluebirds", "multiclass")


def bluebirds() -> tuple[pd.DataFrame, pd.Series]:
    answers = pd.read_csv(BLUEBIRDS / "answers.csv")
    truth = pd.read_csv(BLUEBIRDS / "truth.csv").set_index("task")["label"]
    return answers, truth


def multiclass() -> tuple[pd.DataFrame, pd.Series]:
    answers = pd.read_csv(REFERENCE / "multiclass_answers.csv", dtype={"label": object})
    truth = pd.read_csv(REFERENCE / "multiclass_truth.csv", dtype={"label": object})
    return answers, truth.set_index("task")["label"]


def load_case(name: str) -> tuple[pd.DataFrame, pd.Series]:
    return {"bluebirds": bluebirds, "multiclass": multiclass}[name]()


def golden(truth: pd.Series) -> pd.Series:
    """The known labels the golden-aware methods get: every third task of the truth."""
    return truth.iloc[::3]


def initial_error(answers: pd.DataFrame, truth: pd.Series, strategy: str) -> pd.DataFrame:
    """A history of confusion matrices for DawidSkene's ``initial_error``: the answers on every
    third task against its truth. "addition" gets the raw counts (only the pairs seen there);
    "assign" gets, for every (worker, label) pair in the data, add-one smoothed probabilities
    that sum to 1 over each worker's labels for each true label."""
    known = golden(truth)
    seen = answers[answers["task"].isin(known.index)]
    seen = seen.assign(true=seen["task"].map(known).to_numpy())
    counts = seen.groupby(["worker", "label", "true"]).size().unstack("true", fill_value=0)
    counts = counts.reindex(columns=sorted(truth.unique()), fill_value=0)
    counts.columns.name = None
    if strategy == "addition":
        return counts.astype(float)
    pairs = pd.MultiIndex.from_frame(answers[["worker", "label"]].drop_duplicates())
    full = counts.reindex(pairs, fill_value=0).astype(float) + 1.0
    return full / full.groupby(level="worker").transform("sum")


def run_method(lib: object, method: str, answers: pd.DataFrame, truth: pd.Series) -> object:
    """Fit ``method`` from ``lib`` (crowd-kit's aggregation module or ours); return the model."""
    if method == "mv":
        return lib.MajorityVote().fit(answers)
    if method == "ds":
        return lib.DawidSkene(n_iter=100, tol=1e-5).fit(answers)
    if method == "ds_golden":
        return lib.DawidSkene(n_iter=100, tol=1e-5).fit(answers, golden(truth))
    if method == "ocds":
        return lib.OneCoinDawidSkene(n_iter=100, tol=1e-5).fit(answers)
    if method == "wawa":
        model = lib.Wawa()
        model.fit_predict(answers)
        return model
    if method in ("ds_assign", "ds_addition"):
        strategy = method.removeprefix("ds_")
        model = lib.DawidSkene(n_iter=100, tol=1e-5, initial_error_strategy=strategy)
        return model.fit(answers, initial_error=initial_error(answers, truth, strategy))
    if method == "glad":
        return lib.GLAD().fit(answers)
    if method == "mace":
        return (aligned_mace(lib) if is_crowdkit(lib) else lib.MACE)().fit(answers)
    if method == "gold_mv":
        model = lib.GoldMajorityVote()
        model.fit_predict(answers, golden(truth))
        return model
    raise ValueError(method)


def recorded(case: str, method: str) -> tuple[pd.DataFrame, pd.Series]:
    """crowd-kit 1.4.2's probas_ and labels_ for a case and method, as recorded."""
    frame = pd.read_csv(REFERENCE / f"{case}_crowdkit.csv", dtype={"task": object, "label": object})
    frame = frame[frame["method"] == method]
    probas = frame.pivot(index="task", columns="label", values="proba")
    labels = frame[frame["chosen"]].set_index("task")["label"]
    return probas, labels


def is_crowdkit(lib: object) -> bool:
    return getattr(lib, "__name__", "").startswith("crowdkit")


def aligned_mace(ck: object) -> type:
    """crowd-kit 1.4.2's MACE with its one ordering bug fixed, the reference ours is held to.

    Its E-step returns the spamming-label counts as a (worker x label) table in sorted order, and
    its M-step reads that table's rows and columns as if they were in order of first appearance
    (``pd.factorize``). On bluebirds, whose labels first appear as 1 then 0, every spamming
    distribution is read with its labels swapped. Reindexing the table to the order it is read
    in is the whole fix; where the two orders agree it changes nothing (test_crowdkit_parity
    checks that against crowd-kit as released).
    """
    from crowdkit.aggregation.classification.mace import MACE

    class AlignedMACE(MACE):  # type: ignore[misc]
        def _e_step(self, annotation, task_names, worker_names, label_names, tasks, workers, labels):  # type: ignore[no-untyped-def]
            lml, gold, strategy, knowing = super()._e_step(
                annotation, task_names, worker_names, label_names, tasks, workers, labels
            )
            strategy = strategy.reindex(index=worker_names, columns=label_names, fill_value=0.0)
            return lml, gold, strategy, knowing

    return AlignedMACE
