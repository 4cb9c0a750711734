"""Adding work to a running task (seed 004: add items by filter / by items) and uploading neutral items."""

from __future__ import annotations

import json

import pytest
from annotate_dataloop.jobref import JobRef

from annotate_core import Client, ItemsRejectedError
from annotate_core.errors import VendorError

from . import reference as ref
from .helpers import example
from .recorded import all_of, calls, first, replayed_all

pytestmark = pytest.mark.vcr

UNASSIGNED = {"kind": "dataset", "project": "my-project", "dataset": "my-dataset",
              "filter": {"metadata.system.refs": []}}


def test_add_items_by_filter(backend, vcr) -> None:
    job = Client(backend).create_job(example("task_from_items"))  # a001..a003 are in the task
    report = job.add_from_dataset(UNASSIGNED, assignees=["annotator1@dataloop.ai", "annotator2@dataloop.ai"])
    task_id = JobRef.parse(job.id).task
    add = first(vcr, f"POST /annotationtasks/{task_id}/addToTask")
    assert add.body == ref.ADD_BY_FILTER  # dtlpy's body for the seed's unassigned-items filter
    polls = [c for c in calls(vcr) if c.path == f"/commands/{add.response['id']}"]
    assert polls[-1].response["status"] == "success" and "addToTaskPayload" in polls[-1].response["spec"]
    assert (report.created, report.existing) == (3, 0)  # a004..a006 had no refs
    assert job.progress().total_items == 6
    assert replayed_all(vcr)


def test_add_items_by_items(backend, vcr) -> None:
    job = Client(backend).create_job(example("task_from_items"))
    source = {"kind": "dataset", "dataset": "my-dataset", "item_ids": ["64f0c0ffee0000000000a004"]}
    first_add = job.add_from_dataset(source, assignees=["annotator1@dataloop.ai"])
    again = job.add_from_dataset(source, assignees=["annotator1@dataloop.ai"])
    adds = all_of(vcr, f"POST /annotationtasks/{JobRef.parse(job.id).task}/addToTask")
    assert adds[0].body == {**ref.ADD_BY_ITEMS, "query": ref.ADD_BY_ITEMS["query"].replace(
        "65f1c1000000000000000001", "64f0c0ffee0000000000a004")}
    assert (first_add.created, first_add.existing) == (1, 0)
    assert (again.created, again.existing) == (0, 1)  # already in the task: counted, not duplicated
    p = job.progress()
    assert p.total_items == 4
    assert {a["annotator"]: a["total_items"] for a in p.details["assignments"]}["annotator1@dataloop.ai"] == 3
    assert replayed_all(vcr)


def test_add_items_defaults_to_the_specs_workload(backend, vcr) -> None:
    job = Client(backend).create_job(example("task_whole_dataset", source={
        "kind": "dataset", "project": "my-project", "dataset": "my-dataset", "item_ids": ["64f0c0ffee0000000000a001"]}))
    job.add_from_dataset({"kind": "dataset", "dataset": "my-dataset", "filter": {"dir": "/batch2"}})
    add = first(vcr, f"POST /annotationtasks/{JobRef.parse(job.id).task}/addToTask").body
    assert add["workload"] == [{"assigneeId": "annotator1@dataloop.ai", "load": 67},
                               {"assigneeId": "annotator2@dataloop.ai", "load": 33}]
    assert json.loads(add["query"])["filter"] == {"$and": [{"hidden": False}, {"type": "file"}, {"dir": "/batch2"}]}
    assert replayed_all(vcr)


# ---- neutral items uploaded into the profile's dataset ------------------------------------------------

ITEMS_SPEC = {"source": {"kind": "items"}}


def items(keys: range, prefix: str = "cat") -> list[dict]:
    return [{"key": f"{prefix}-{i}", "inputs": {"image": f"https://example.com/{prefix}-{i}.jpg"}} for i in keys]


def test_upload_items_idempotent_by_key(backend, vcr, fake) -> None:
    job = Client(backend).create_job(example("task_from_filter", **ITEMS_SPEC))
    create = first(vcr, "POST /annotationtasks").body
    assert create["emptyTask"] is True
    assert json.loads(create["query"])["filter"]["$and"][-1] == {"dir": "/annotate/annotate-unlabeled-items"}

    report = job.add_items(items(range(5)), progress=False)
    assert (report.created, report.existing, report.errors) == (5, 0, [])
    uploads = all_of(vcr, f"POST /datasets/{create['datasetId']}/items")
    assert len(uploads) == 5 and all(u.query == {"mode": "skip"} for u in uploads)
    # a link item per key: the multipart form carries type, path, metadata, then the file (last)
    form = uploads[0].body
    assert isinstance(form, bytes)
    assert form.index(b'name="type"') < form.index(b'name="path"') < form.index(b'name="metadata"') \
        < form.index(b'name="file"')
    assert b"/annotate/annotate-unlabeled-items/cat-0_link.json" in form
    assert b'"linkInfo": {"type": "url", "ref": "https://example.com/cat-0.jpg", "mimetype": "image/jpeg"}' in form
    assert b'"key": "cat-0"' in form

    again = job.add_items(items(range(7)), progress=False)
    assert (again.created, again.existing) == (2, 5)
    assert len(all_of(vcr, f"POST /datasets/{create['datasetId']}/items")) == 7  # only the 2 new ones uploaded
    adds = all_of(vcr, f"POST /annotationtasks/{JobRef.parse(job.id).task}/addToTask")
    assert [len(json.loads(a.body["query"])["filter"]["$and"][0]["id"]["$in"]) for a in adds] == [5, 2]
    assert job.progress().total_items == 7

    if fake is not None:
        fake.work(JobRef.parse(job.id).task, lambda item, who: "cat")
    df = job.answers()
    assert sorted(df["task"]) == [f"cat-{i}" for i in range(7)]  # the neutral key, not the Dataloop id
    assert set(df["input:image"]) == {f"https://example.com/cat-{i}.jpg" for i in range(7)}
    assert replayed_all(vcr)


def test_upload_resumes_after_a_failure(make_backend, vcr, fake) -> None:
    backend = make_backend(upload_batch=3)
    job = Client(backend).create_job(example("task_from_filter", **ITEMS_SPEC))
    if fake is not None:  # the second batch's addToTask command fails on the server
        fake.fail("POST", r"/addToTask$", 400, {"status": 400, "message": "Task is locked"}, after=1)
    with pytest.raises(VendorError, match="Task is locked"):
        job.add_items(items(range(5)), progress=False)
    # the rerun finds the 5 uploaded items by key, uploads nothing, and adds the 2 not yet in the task
    report = job.add_items(items(range(5)), progress=False)
    assert (report.created, report.existing) == (2, 3)
    dataset = first(vcr, "POST /annotationtasks").body["datasetId"]
    assert len(all_of(vcr, f"POST /datasets/{dataset}/items")) == 5
    assert job.progress().total_items == 5
    assert replayed_all(vcr)


def test_refused_items_are_reported_not_swallowed(backend, vcr) -> None:
    job = Client(backend).create_job(example("task_from_filter", **ITEMS_SPEC))
    batch = [*items(range(2)), {"key": "bad", "inputs": {"image": "https://example.com/REFUSE-ME.jpg"}}]
    with pytest.raises(ItemsRejectedError) as err:
        job.add_items(batch, progress=False)
    report = err.value.report
    assert (report.created, [e.key for e in report.errors]) == (2, ["bad"])
    assert "Item name is invalid" in report.errors[0].message
    assert replayed_all(vcr)


def test_text_items_upload_as_json(backend, vcr) -> None:
    spec = example("task_from_filter", source={"kind": "items"},
                   inputs=[{"name": "text", "type": "text"}, {"name": "lang", "type": "text"}])
    job = Client(backend).create_job(spec)
    report = job.add_items([{"key": "t/1", "inputs": {"text": "a cat", "lang": "en"}}], progress=False)
    assert report.created == 1
    form = next(c for c in calls(vcr) if c.path.endswith("/items") and c.method == "POST").body
    assert b'{"lang": "en", "text": "a cat"}' in form  # the inputs as a JSON item
    assert b"/annotate/annotate-unlabeled-items/k-" in form and b'"key": "t/1"' in form  # unsafe key -> hashed
    assert replayed_all(vcr)
