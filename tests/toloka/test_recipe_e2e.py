"""Seed 001, the cats-vs-dogs recipe, end to end through annotate's own API on the Toloka backend.

examples/cats_vs_dogs.yaml -> project -> pool -> 202 images (+ 10 golden) -> open -> wait -> answers
(606 answers on the real images, 3 per image) -> majority vote, as the recipe does with toloka-kit.
"""

from __future__ import annotations

import pandas as pd
import pytest

from annotate_core.aggregation import MajorityVote
from annotate_core.backend import JobState
from annotate_core.client import Client

from . import recipe
from .conftest import EXAMPLES_DIR

# synthetic: the images are generated URLs and the Tolokers' answers are written by the generator
pytestmark = [pytest.mark.vcr, pytest.mark.synthetic]


def test_seed_001_recipe_end_to_end(make_backend, sleeps: list[float], vcr) -> None:
    client = Client(make_backend(page_size=10))
    job = client.create_job(EXAMPLES_DIR / "cats_vs_dogs.yaml")

    report = job.add_items(recipe.recipe_items(), progress=False)
    assert (report.created, report.existing, report.errors) == (212, 0, [])

    job.start()
    waits: list[float] = []
    final = job.wait(poll_interval=60, sleep=waits.append, progress=False)
    assert final.state is JobState.COMPLETED and final.percent == 100
    assert waits == [60, 60]  # 0% -> 74% -> 100% and closed
    assert final.details["cost"] == {"amount": 0.756, "currency": "USD"}  # the pool's spent_budget
    banned = final.details["banned_workers"]  # the pool's restrictions, read once it is finished
    assert len(banned) == 2

    df = job.answers()
    assert vcr.all_played  # every page of assignments was read, up to has_more false
    real = df[~df["golden"]]
    assert len(real) == 606, "the recipe's answer count: 202 images x overlap 3"
    assert real["task"].nunique() == recipe.N_REAL
    per_task = real.groupby("task")["worker"]
    assert (per_task.nunique() == 3).all(), "every image answered by 3 different Tolokers"
    assert len(df[df["golden"]]) == 63  # one control image per task suite
    assert set(banned) <= set(df["worker"])
    assert (df[df["golden"]]["golden_label"].notna()).all()
    assert set(df["status"]) == {"submitted", "accepted"}

    # majority vote, as the recipe does with crowd-kit: MajorityVote().fit_predict(answers_df)
    truth = pd.Series({it.key: recipe.truth(int(it.key.split("-")[1])) for it in recipe.real_items()})
    predicted = MajorityVote().fit_predict(real[["task", "worker", "label"]])
    assert predicted.name == "agg_label" and len(predicted) == recipe.N_REAL
    assert (predicted.sort_index() == truth.sort_index()).mean() >= 0.95
    # and through the job: one row per item, golden images' known answers passed to the method
    results = job.results(method="mv", answers=df)
    by_key = results.set_index("item_key")
    assert set(truth.index) <= set(by_key.index)
    assert (by_key.loc[truth.index, "label"] == truth).mean() >= 0.95
    assert (by_key.loc[truth.index, "n_answers"] == 3).all()
