"""Handing out work: pulling batches, fixed workloads by weight, overlap by different workers, limits."""

from __future__ import annotations

from collections import Counter

import pytest
from annotate_local import InvalidAnswerError, NotAllowedError

from annotate_core.backend import JobState
from annotate_core.errors import JobStateError
from annotate_core.model.workflow import Overlap

from .conftest import make_items, make_spec


def drain(job, workers, answer="cat"):
    """Every worker pulls and submits until nobody gets work; returns {worker: batches}."""
    got: Counter[str] = Counter()
    while True:
        moved = False
        for w in workers:
            b = job.pull(w)
            if b is not None:
                job.submit(b.assignment, [answer] * len(b))
                got[w] += 1
                moved = True
        if not moved:
            return got


def test_overlap_answers_come_from_different_workers(started):
    job, _items = started(12, overlap={"count": 3}, distribution={"kind": "pulling", "batch_size": 5})
    drain(job, [f"w{i}" for i in range(5)])
    df = job.answers()
    per_item = df.groupby("task")["worker"]
    assert (per_item.size() == 3).all() and (per_item.nunique() == 3).all()
    assert job.progress().state is JobState.COMPLETED


def test_an_item_is_never_handed_out_beyond_its_overlap(started):
    job, _ = started(2, overlap={"count": 2}, distribution={"kind": "pulling", "batch_size": 2})
    a, b = job.pull("a"), job.pull("b")
    assert a.keys == b.keys == ["it-0000", "it-0001"]
    assert job.pull("c") is None  # both slots of both items are open: nothing left for a third worker
    job.skip(b.assignment)
    c = job.pull("c")  # a skipped batch goes back to the queue
    assert c.keys == ["it-0000", "it-0001"]
    assert job.pull("a") is None  # and never to a worker who already has the item


def test_partial_overlap_follows_overlap_for_key(started):
    job, items = started(40, overlap={"count": 3, "fraction": 0.3})
    ov = Overlap(count=3, fraction=0.3)
    drain(job, [f"w{i}" for i in range(4)])
    counts = job.answers().groupby("task").size()
    assert {k: counts[k] for k in counts.index} == {i.key: ov.for_key(i.key) for i in items}
    assert set(counts) == {1, 3}


def test_item_overlap_overrides_the_spec(client):
    from annotate_core.items import Item

    job = client.create_job(make_spec(overlap={"count": 1}))
    job.add_items([Item(key="x", inputs={"image": "https://e.com/x.jpg"}, overlap=2)], progress=False)
    job.start()
    drain(job, ["a", "b", "c"])
    assert len(job.answers()) == 2


def test_fixed_workload_is_split_by_weight(started):
    assignees = [{"id": "ann@x", "weight": 3}, {"id": "bob@x", "weight": 1}]
    job, _items = started(40, workforce={"assignees": assignees}, distribution={"kind": "fixed"})
    with pytest.raises(NotAllowedError, match="not an assignee"):
        job.pull("eve@x")
    got = drain(job, ["ann@x", "bob@x"])
    per_worker = job.answers().groupby("worker").size()
    assert per_worker["ann@x"] == 30 and per_worker["bob@x"] == 10
    assert got["ann@x"] == 3  # pulled 10 at a time


def test_fixed_workload_with_overlap_uses_different_assignees(started):
    assignees = ["a@x", "b@x", "c@x"]
    job, _items = started(9, workforce={"assignees": assignees}, distribution={"kind": "fixed"},
                         overlap={"count": 2})
    drain(job, assignees)
    df = job.answers()
    assert (df.groupby("task")["worker"].nunique() == 2).all()
    assert sorted(df.groupby("worker").size()) == [6, 6, 6]


def test_max_batch_workload_caps_open_items(started):
    job, _ = started(30, distribution={"kind": "pulling", "batch_size": 5, "max_batch_workload": 8})
    first = job.pull("a")
    second = job.pull("a")
    assert len(first) == 5 and len(second) == 3  # 8 open at most
    assert job.pull("a") is None
    job.submit(first.assignment, ["cat"] * 5)
    assert len(job.pull("a")) == 5


def test_per_worker_limits(started):
    job, _ = started(30, distribution={"kind": "pulling", "batch_size": 4},
                     limits={"max_items_per_worker": 10})
    got = drain(job, ["a"])
    assert got["a"] == 3 and len(job.answers()) == 10  # 4 + 4 + 2
    job2, _ = started(30, distribution={"kind": "pulling", "batch_size": 4}, limits={"max_batches_per_worker": 2})
    assert drain(job2, ["a"])["a"] == 2


def test_pull_limit_argument(started):
    job, _ = started(10)
    assert len(job.pull("a", limit=3)) == 3
    with pytest.raises(ValueError, match="limit"):
        job.pull("a", limit=0)


def test_answers_are_validated_against_the_outputs(started):
    job, _ = started(2, distribution={"kind": "pulling", "batch_size": 2})
    b = job.pull("a")
    with pytest.raises(InvalidAnswerError, match="expected one of"):
        job.submit(b.assignment, ["cat", "cow"])
    with pytest.raises(InvalidAnswerError, match="expected 2 answers"):
        job.submit(b.assignment, ["cat"])
    with pytest.raises(InvalidAnswerError, match="not in this assignment"):
        job.submit(b.assignment, {"zzz": "cat"})
    with pytest.raises(InvalidAnswerError, match="not an output field"):
        job.submit(b.assignment, {k: {"result": "cat", "extra": 1} for k in b.keys})
    job.submit(b.assignment, {k: {"result": "dog"} for k in b.keys})  # nothing was stored by the failures
    assert list(job.answers()["label"]) == ["dog", "dog"]
    with pytest.raises(JobStateError, match="submitted"):
        job.submit(b.assignment, ["cat", "cat"])


def test_multiple_outputs(client):
    spec = make_spec(outputs=[{"name": "result", "type": "label", "options": ["cat", "dog"]},
                              {"name": "note", "type": "free_text", "required": False},
                              {"name": "tags", "type": "labels", "options": ["cute", "big"]}])
    job = client.create_job(spec)
    job.add_items(make_items(1), progress=False)
    job.start()
    b = job.pull("a")
    job.submit(b.assignment, [{"result": "cat", "note": "fluffy", "tags": ["cute"]}])
    df = job.answers()
    assert sorted(df["field"]) == ["note", "result", "tags"]
    assert df.set_index("field").loc["tags", "label"] == ["cute"]


def test_a_worker_cannot_submit_someone_elses_batch(started):
    job, _ = started(2)
    b = job.pull("a")
    with pytest.raises(NotAllowedError, match="another worker"):
        job.submit(b.assignment, ["cat"] * len(b), worker="mallory")


def test_number_json_and_bool_outputs(client):
    spec = make_spec(outputs=[{"name": "count", "type": "number"}, {"name": "box", "type": "json"},
                              {"name": "ok", "type": "bool"}])
    job = client.create_job(spec)
    job.add_items(make_items(1), progress=False)
    job.start()
    b = job.pull("a")
    with pytest.raises(InvalidAnswerError, match="count: expected a number"):
        job.submit(b.assignment, [{"count": "three", "box": {}, "ok": True}])
    job.submit(b.assignment, [{"count": 3, "box": {"x": 1, "y": [2, 3]}, "ok": False}])
    got = job.answers().set_index("field")["label"]
    assert got["count"] == 3 and got["box"] == {"x": 1, "y": [2, 3]} and got["ok"] is False


def test_training_items_mixed_into_work_batches(client):
    training = {"passing_score": 0, "items_per_batch": 1, "items": [
        {"inputs": {"image": f"https://e.com/t{i}.jpg"}, "golden": {"result": "cat"}, "hint": "cats purr"}
        for i in range(3)]}
    job = client.create_job(make_spec(training=training,
                                      distribution={"kind": "pulling", "batch_size": 4, "training_per_batch": 1}))
    job.add_items(make_items(8), progress=False)
    job.start()
    first = job.pull("a")
    assert first.kind == "training"
    job.submit(first.assignment, ["dog"])  # passing score 0: admitted anyway
    b = job.pull("a")
    assert b.kind == "work" and len(b) == 5 and sum(i.training for i in b.items) == 1
    res = job.submit(b.assignment, {i.key: "dog" for i in b.items})
    assert [m.hint for m in res.mistakes] == ["cats purr"]
    assert not job.answers()["task"].str.startswith("training:").any()
