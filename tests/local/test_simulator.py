"""The simulated workforce: it finishes jobs, quality rules catch its bad workers, and a seed replays it."""

from __future__ import annotations

import pytest
from annotate_local.datasets import cats_vs_dogs, split_truth

from annotate_core.backend import JobState
from annotate_core.specfile import load_spec

from .conftest import make_items, make_spec


@pytest.fixture
def demo_job(client, examples_dir):
    def make(n=202, seed=0):
        spec = load_spec(examples_dir / "cats_vs_dogs.yaml")
        job = client.create_job(spec)
        rows, truth = split_truth(cats_vs_dogs(n, seed=seed))
        job.add_items(rows, progress=False)
        assert client.backend.set_truth(job.id, truth) == len(truth)
        job.start()
        return job, truth

    return make


def test_dataset_is_deterministic_with_a_tenth_golden():
    rows = cats_vs_dogs(202, seed=3)
    assert rows == cats_vs_dogs(202, seed=3) and rows != cats_vs_dogs(202, seed=4)
    golden = [r for r in rows if "golden:result" in r]
    assert len(rows) == 202 and len(golden) == 20
    assert all(("truth:result" in r) != ("golden:result" in r) for r in rows)
    clean, truth = split_truth(rows)
    assert len(truth) == 182 and not any(k.startswith("truth:") for r in clean for k in r)


def test_simulation_completes_the_demo_job_and_catches_bad_workers(demo_job):
    job, _truth = demo_job()
    s = job.simulate(workers=30, seed=0, progress=False)
    assert s["completed"] and job.progress().state is JobState.COMPLETED
    assert s["items"] == 202 and s["items_to_label"] == 182 and s["golden_items"] == 20
    assert s["usable_answers"] - s["golden_answers"] == 546  # overlap 3 on every item to label
    assert s["answers"] > s["usable_answers"]  # rejected and expired work was redone
    assert s["bans"] >= 3 and s["banned_by_kind"].get("spammer", 0) + s["banned_by_kind"].get("fast_clicker", 0) >= 3
    assert s["qa_reviews"] > 0 and s["cost"] > 0 and s["currency"] == "USD"
    df = job.answers()
    real = df[~df["golden"] & df["status"].isin(["submitted", "accepted"])]
    assert (real.groupby("task")["worker"].nunique() == 3).all()
    assert df[df["golden"]]["task"].nunique() == 20  # golden items mixed into batches
    # times come from the simulated clock: fast clickers' batches are faster than the 10 s rule
    per_assignment = df.drop_duplicates("assignment")
    assert per_assignment["duration_s"].min() < 10 < per_assignment["duration_s"].max()
    banned = {e["worker"] for e in job.events() if e["type"] == "banned"}
    assert banned and all(str(w).startswith("sim0-") for w in banned)


def test_the_same_seed_replays_the_same_run(tmp_path, examples_dir):
    from annotate_core.client import connect

    summaries, answers = [], []
    for run in range(2):  # separate stores: bans of a project outlive its job in one store
        client = connect(driver="local", path=str(tmp_path / f"{run}.db"))
        job = client.create_job(load_spec(examples_dir / "cats_vs_dogs.yaml"))
        rows, truth = split_truth(cats_vs_dogs(60, seed=0))
        job.add_items(rows, progress=False)
        client.backend.set_truth(job.id, truth)
        job.start()
        s = dict(job.simulate(workers=12, seed=7, progress=False))
        s.pop("job_id")
        summaries.append(s)
        df = job.answers()
        answers.append(sorted(zip(df["task"], df["worker"], df["label"].astype(str), strict=True)))
    assert summaries[0] == summaries[1]
    assert answers[0] == answers[1]


def test_accuracy_drives_answer_quality(demo_job):
    job, _ = demo_job(60)
    good = job.simulate(workers=10, seed=1, accuracy=0.99, spammers=0, fast_clickers=0, progress=False)
    job2, _ = demo_job(60)
    poor = job2.simulate(workers=10, seed=1, accuracy=0.6, spammers=0, fast_clickers=0, progress=False)
    assert good["answer_accuracy"] > 0.9 > 0.75 > poor["answer_accuracy"]


def test_truth_argument_and_latent_truth(client):
    from .conftest import make_items, make_spec

    job = client.create_job(make_spec(overlap={"count": 3}))
    job.add_items(make_items(10), progress=False)
    job.start()
    truth = {f"it-{i:04d}": "dog" for i in range(10)}
    s = job.simulate(workers=5, seed=2, accuracy=1.0, spammers=0, fast_clickers=0, truth=truth, progress=False)
    assert s["completed"] and set(job.answers()["label"]) == {"dog"}
    job2 = client.create_job(make_spec(overlap={"count": 3}))
    job2.add_items(make_items(10), progress=False)
    job2.start()
    job2.simulate(workers=5, seed=2, accuracy=1.0, spammers=0, fast_clickers=0, progress=False)
    per_item = job2.answers().groupby("task")["label"].nunique()
    assert (per_item == 1).all()  # without truth, perfect workers agree on one latent answer per item


def test_simulation_options_are_checked(demo_job):
    job, _ = demo_job(10)
    with pytest.raises(ValueError, match="spammers"):
        job.simulate(spammers=1.5)
    with pytest.raises(ValueError, match="accuracy"):
        job.simulate(accuracy=(0.9, 0.5))
    with pytest.raises(TypeError):
        job.simulate(wrokers=3)


def test_confusion_matrix_drives_honest_answers(client):
    from .conftest import make_items, make_spec

    job = client.create_job(make_spec(overlap={"count": 2}))
    job.add_items(make_items(20), progress=False)
    job.start()
    truth = {f"it-{i:04d}": ("cat" if i % 2 else "dog") for i in range(20)}
    confusion = {"cat": {"cat": 1.0, "dog": 0.0}, "dog": {"cat": 1.0, "dog": 0.0}}  # dogs always taken for cats
    job.simulate(workers=4, seed=1, spammers=0, fast_clickers=0, truth=truth, confusion=confusion, progress=False)
    assert set(job.answers()["label"]) == {"cat"}


def test_batches_walked_away_from_expire_when_the_spec_sets_no_time_limit(client) -> None:
    """Without limits.assignment_max_seconds nothing expires an abandoned batch on its own: the
    simulated platform ends it after a while, so the job still finishes and overlap holds."""
    spec = make_spec(overlap={"count": 3}, distribution={"kind": "pulling", "batch_size": 5})
    assert not spec.limits.assignment_max_seconds
    job = client.create_job(spec)
    job.add_items(make_items(60), progress=False)
    job.start()
    summary = job.simulate(workers=8, seed=5, abandon=0.3, progress=False)
    assert summary["completed"], summary
    answers = job.answers()
    assert (answers["status"] == "expired").sum() > 0
    counted = answers[answers["status"].isin(["submitted", "accepted"])].groupby("task").size()
    assert counted.min() == counted.max() == 3
