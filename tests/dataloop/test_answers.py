"""Answers, progress and the QA task on cassettes (seed 004: "Create QA task with filters").

Workers and reviewers act through the fake gate while a cassette is authored (``fake.work`` /
``fake.review``); on replay the cassette already holds the annotations and item statuses.
"""

from __future__ import annotations

import itertools
import json

import pytest
from annotate_dataloop.jobref import JobRef

from annotate_core import Client, JobState

from . import reference as ref
from .helpers import example
from .recorded import all_of, first, replayed_all
from .test_payloads import without_annotate_extras
from .test_tasks import resolved, shape

pytestmark = pytest.mark.vcr


def label_by_name(item: dict, who: str) -> str | None:
    """Deterministic workers: odd images are cats, even dogs; img_3 gets discarded."""
    number = int(item["name"].split("_")[1].split(".")[0])
    if number == 3:
        return None
    return "cat" if number % 2 else "dog"


@pytest.mark.fake_gate(folders=("/my/folder/directory",))
def test_qa_task(backend, vcr, fake) -> None:
    spec = example("qa_task")
    job = Client(backend).create_job(spec)
    job_ref = JobRef.parse(job.id)
    assert job_ref.qa is not None

    # two creates, each polled to success; the second is the QA task linked to the first
    creates = all_of(vcr, "POST /annotationtasks")
    annotation, qa = creates[0].body, creates[1].body
    assert shape(vcr)[:4] == ["GET /projects/my-project/name", "POST /datasets/query", "GET /recipes/{recipe}",
                              "GET /ontologies/{onto}"]
    expected = {**ref.QA, **resolved(vcr), "name": "Annotate then QA_qa",
                "spec": {"type": "qa", "parentTaskId": job_ref.task},
                "workload": [{"assigneeId": "reviewer1@dataloop.ai", "load": 50},
                             {"assigneeId": "reviewer2@dataloop.ai", "load": 50}]}
    parent_query = json.loads(annotation["query"])
    expected["query"] = json.dumps({**parent_query, "filter": {"$and": [
        *parent_query["filter"]["$and"],
        {"metadata.system.refs": {"$match": {"id": job_ref.task, "type": "task",
                                             "metadata": {"status": {"$exists": True}}}}}]}})
    assert without_annotate_extras(qa) == expected
    assert qa["taskOwner"] == annotation["taskOwner"] == "owner@example.com"

    if fake is not None:  # annotators label, then reviewers approve cats and discard dogs
        fake.work(job_ref.task, label_by_name)
        fake.review(job_ref.qa, lambda item: "discard" if item["name"] in ("img_2.jpg", "img_4.jpg") else "approved")

    df = job.answers().set_index("item_key")
    assert len(df) == 6 and set(df["field"]) == {"label"}
    statuses = df["status"].value_counts().to_dict()
    # the QA task takes every item with a status (completed *or* discarded, reference §3.8): the item its
    # annotator discarded was reviewed too and approved, so it is accepted with no label; 2 dogs were rejected
    assert statuses == {"accepted": 4, "rejected": 2}
    assert df[df["label"].isna()]["status"].tolist() == ["accepted"]
    reviewed = df[df["status"].isin(["accepted", "rejected"])]
    assert set(reviewed["reviewer"]) <= {"reviewer1@dataloop.ai", "reviewer2@dataloop.ai"}
    assert reviewed["reviewer"].notna().all()
    assert set(df[df["status"] == "rejected"]["label"]) == {"dog"}
    # dataset items carry their stream URL as the image input; the key is the Dataloop item id
    assert all(url.endswith(f"/items/{key}/stream") for key, url in df["input:image"].items())
    p = job.progress()
    assert p.details["qa_tasks"][0]["total_items"] == 6 and p.details["qa_tasks"][0]["completed"] == 6
    assert p.state is JobState.COMPLETED
    assert replayed_all(vcr)


@pytest.mark.fake_gate(n_items=9, max_page_size=4)
def test_answers_follow_every_page(backend, vcr, fake) -> None:
    job = Client(backend).create_job(example("task_whole_dataset"))
    if fake is not None:
        fake.work(JobRef.parse(job.id).task, label_by_name)
    df = job.answers()
    assert len(df) == 9 and df["item_key"].nunique() == 9  # 8 labels + 1 discarded item
    discarded = df[df["label"].isna()]
    assert discarded["status"].tolist() == ["skipped"] and discarded["worker"].notna().all()
    queries = [c for c in all_of(vcr, f"POST /datasets/{resolved(vcr)['datasetId']}/query")
               if c.body["resource"] == "items"]
    assert [len(q.response["items"]) for q in queries] == [4, 4, 1]
    assert [q.response["hasNextPage"] for q in queries] == [True, True, False]
    # keyset paging: page stays 0 and the cursor is the last id of the previous page
    for before, after in itertools.pairwise(queries):
        assert after.body["page"] == 0
        assert after.body["filter"]["$and"][-1] == {"id": {"$gt": before.response["items"][-1]["id"]}}
    notes = [c for c in all_of(vcr, f"POST /datasets/{resolved(vcr)['datasetId']}/query")
             if c.body["resource"] == "annotations"]
    assert sum(len(n.response["items"]) for n in notes) == 8 and notes[-1].response["hasNextPage"] is False
    assert df["submitted_at"].notna().sum() == 8
    assert set(df["worker"]) == {"annotator1@dataloop.ai", "annotator2@dataloop.ai"}
    assert replayed_all(vcr)


def test_progress_until_completed_and_close(backend, vcr, fake) -> None:
    job = Client(backend).create_job(example("task_from_items"))
    before = job.progress()
    assert (before.state, before.total_items, before.completed_items, before.percent) == (JobState.OPEN, 3, 0, 0.0)
    if fake is not None:
        fake.work(JobRef.parse(job.id).task, lambda item, who: "cat")
    done = job.wait(poll_interval=0, progress=False, sleep=lambda s: None)
    assert (done.state, done.completed_items, done.percent) == (JobState.COMPLETED, 3, 100.0)
    assert done.submitted_answers == 3
    job.close()  # already completed: nothing to PATCH
    assert not all_of(vcr, f"PATCH /annotationtasks/{JobRef.parse(job.id).task}")
    assert replayed_all(vcr)


def test_close_marks_the_task_completed(backend, vcr) -> None:
    job = Client(backend).create_job(example("task_from_items"))
    job.close()
    task_id = JobRef.parse(job.id).task
    patch = first(vcr, f"PATCH /annotationtasks/{task_id}").body
    assert patch["status"] == "completed" and patch["id"] == task_id and "metadata" in patch  # whole entity
    assert job.progress().state.finished
    assert replayed_all(vcr)


def test_multi_label_answers(backend, vcr, fake) -> None:
    spec = example("task_from_items", outputs=[{"name": "tags", "type": "labels", "options": ["cat", "dog"]}])
    job = Client(backend).create_job(spec)
    if fake is not None:
        fake.work(JobRef.parse(job.id).task, lambda item, who: ["cat", "dog"] if "1" in item["name"] else ["dog"])
    df = job.answers()
    assert len(df) == 3 and (df["field"] == "tags").all()
    assert sorted(map(tuple, df["label"])) == [("cat", "dog"), ("dog",), ("dog",)]
    assert replayed_all(vcr)


@pytest.mark.fake_gate(folders=("/my/folder/directory",))
def test_partial_review_takes_a_share_of_the_items(backend, vcr, fake) -> None:
    spec = example("qa_task", review={"fraction": 0.5, "reviewers": ["reviewer1@dataloop.ai"], "on_reject": "discard"})
    job = Client(backend).create_job(spec)
    qa = all_of(vcr, "POST /annotationtasks")[1].body
    assert qa["limit"] == 3  # ceil(0.5 x the 6 items of the annotation task)
    job_ref = JobRef.parse(job.id)
    if fake is not None:
        fake.work(job_ref.task, lambda item, who: "cat")
        fake.review(job_ref.qa, lambda item: "approved")
    df = job.answers()
    assert df["status"].value_counts().to_dict() == {"accepted": 3, "submitted": 3}
    assert job.progress().details["qa_tasks"][0]["total_items"] == 3
    assert replayed_all(vcr)
