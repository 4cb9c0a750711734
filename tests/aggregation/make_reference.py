"""Record crowd-kit's results for the parity tests (run by hand when a case changes).

    python tests/aggregation/make_reference.py

Needs crowd-kit (and scikit-learn<1.6 for Wawa). Writes the synthetic multiclass crowd (once) and
``<case>_crowdkit.csv``: one row per (method, task, label) with crowd-kit's probability and
whether crowd-kit chose that label. Tasks and labels are written as text. MACE is recorded from
crowd-kit's MACE with its label-order bug fixed (``cases.aligned_mace``). Rows of a method already
recorded need not be rewritten: crowd-kit's numbers move in the last bit between numpy builds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import crowdkit.aggregation as ck

from annotate_core.aggregation import simulate_crowd
from tests.aggregation.cases import CASES, METHODS, REFERENCE, load_case, run_method


def write_multiclass() -> None:
    # Labels named so that crowd-kit's (undocumented) tie order, first appearance, is also the
    # sorted order we document: then even majority-vote ties must agree. test_ties.py covers
    # crowds where the two orders differ.
    answers, truth = simulate_crowd(
        300, overlap=5, n_workers=40, labels=("cow", "bee", "ant"), priors=(0.2, 0.3, 0.5),
        accuracy=(0.35, 0.9), string_ids=True, seed=3,
    )
    answers.to_csv(REFERENCE / "multiclass_answers.csv", index=False)
    truth.rename("label").reset_index().to_csv(REFERENCE / "multiclass_truth.csv", index=False)


def main() -> None:
    REFERENCE.mkdir(exist_ok=True)
    if not (REFERENCE / "multiclass_answers.csv").exists():
        write_multiclass()
    for case in CASES:
        answers, truth = load_case(case)
        rows = []
        for method in METHODS:
            model = run_method(ck, method, answers, truth)
            long = model.probas_.rename_axis(index="task", columns="label").stack()
            long = long.rename("proba").reset_index()
            chosen = model.labels_.reindex(long["task"]).to_numpy() == long["label"].to_numpy()
            long.insert(0, "method", method)
            long["chosen"] = chosen
            rows.append(long)
        out = pd.concat(rows, ignore_index=True)
        out.to_csv(REFERENCE / f"{case}_crowdkit.csv", index=False, float_format="%.17g")
        print(case, len(out), "rows")


if __name__ == "__main__":
    main()
