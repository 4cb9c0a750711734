"""Seed 004 task flows on cassettes: from a filter, from listed items, the whole dataset, pulling, consensus.

Each test drives the flow from its examples/ spec through the public API (``Client.create_job``) and
checks the calls the backend made against dtlpy's wire bodies (reference §3.5-§3.7).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from annotate_dataloop.jobref import JobRef

from annotate_core import Client, JobState

from . import reference as ref
from .conftest import CLOCK
from .fake_gate import GateError
from .helpers import DROP, example
from .recorded import all_of, calls, first, lines, replayed_all
from .test_payloads import without_annotate_extras

pytestmark = pytest.mark.vcr

RESOLVE = ["GET /projects/my-project/name", "POST /datasets/query", "GET /recipes/{recipe}", "GET /ontologies/{onto}"]
CREATE = ["POST /annotationtasks", "GET /commands/{cmd}", "GET /commands/{cmd}", "GET /annotationtasks/{task}"]


def shape(vcr) -> list[str]:
    """The call sequence with ids replaced by their role, so it reads like the reference's wire log."""
    out = []
    roles = {"recipes": "{recipe}", "ontologies": "{onto}", "commands": "{cmd}", "annotationtasks": "{task}",
             "datasets": "{dataset}", "pipelines": "{pipeline}"}
    for line in lines(vcr):
        parts = line.split("/")
        for i in range(1, len(parts) - 1):
            if parts[i] in roles and len(parts[i + 1]) == 24:
                parts[i + 1] = roles[parts[i]]
        out.append("/".join(parts))
    return out


def resolved(vcr) -> dict[str, str]:
    """The ids the backend resolved: project, dataset and the dataset's recipe."""
    project = first(vcr, "GET /projects/my-project/name").response[0]["id"]
    dataset = first(vcr, "POST /datasets/query").response["items"][0]
    return {"projectId": project, "datasetId": dataset["id"], "recipeId": dataset["metadata"]["system"]["recipes"][0]}


def created_task(vcr) -> dict:
    polls = [c for c in calls(vcr) if c.path.startswith("/commands/")]
    task_id = polls[-1].response["spec"]["createdTaskId"]
    return first(vcr, f"GET /annotationtasks/{task_id}").response


def test_task_from_filter(backend, vcr) -> None:
    client = Client(backend)
    job = client.create_job(example("task_from_filter"))

    assert shape(vcr) == RESOLVE + CREATE
    sent = first(vcr, "POST /annotationtasks").body
    expected = {**ref.TASK_FROM_FILTER, **resolved(vcr), "name": "Annotate unlabeled items"}
    assert without_annotate_extras(sent) == expected  # dtlpy's body, byte for byte in the query string
    polls = all_of(vcr, f"GET /commands/{first(vcr, 'POST /annotationtasks').response['id']}")
    assert [p.response["status"] for p in polls] == ["in-progress", "success"]
    task = created_task(vcr)
    assert job.id == f"task:{task['id']}"
    assert json.loads(task["query"])["filter"] == json.loads(sent["query"])["filter"]  # stored with a sort key
    assert replayed_all(vcr)


def test_task_from_filter_progress_and_spec(backend, vcr) -> None:
    job = Client(backend).create_job(example("task_from_filter"))
    p = job.progress()
    assert p.state is JobState.OPEN and p.total_items == 6 and p.completed_items == 0
    assert sorted(a["annotator"] for a in p.details["assignments"]) == ["annotator1@dataloop.ai",
                                                                       "annotator2@dataloop.ai"]
    assert [a["total_items"] for a in p.details["assignments"]] == [3, 3]
    # the spec travels in the task's metadata, so a fresh handle gets it back
    again = Client(backend).job(job.id)
    assert again.spec == example("task_from_filter")
    # assignments are listed page by page (the fake serves two per page): every page was read
    pages = all_of(vcr, "GET /assignments")
    assert pages[0].query["taskId"] == JobRef.parse(job.id).task and pages[-1].response["hasNextPage"] is False
    assert replayed_all(vcr)


def test_task_from_items(backend, vcr) -> None:
    spec = example("task_from_items")
    job = Client(backend).create_job(spec)
    sent = first(vcr, "POST /annotationtasks").body
    assert json.loads(sent["query"]) == {
        "filter": {"$and": [{"id": {"$in": list(spec.source.item_ids)}}]}, "page": 0, "pageSize": 1000,
        "resource": "items"}
    assert sent["workload"] == ref.TASK_FROM_FILTER["workload"]
    assert created_task(vcr)["totalItems"] == 3
    assert job.id.startswith("task:")
    assert replayed_all(vcr)


def test_task_whole_dataset_weighted(backend, vcr) -> None:
    job = Client(backend).create_job(example("task_whole_dataset"))
    sent = first(vcr, "POST /annotationtasks").body
    assert sent["query"] == ref.WHOLE_DATASET_QUERY
    assert sent["workload"] == [{"assigneeId": "annotator1@dataloop.ai", "load": 67},
                                {"assigneeId": "annotator2@dataloop.ai", "load": 33}]
    p = job.progress()
    assert p.total_items == 6
    assert {a["annotator"]: a["total_items"] for a in p.details["assignments"]} == {
        "annotator1@dataloop.ai": 4, "annotator2@dataloop.ai": 2}
    assert replayed_all(vcr)


@pytest.mark.fake_gate(n_items=25)
def test_pulling_task(backend, vcr) -> None:
    job = Client(backend).create_job(example("pulling_task"))
    sent = first(vcr, "POST /annotationtasks").body
    assert without_annotate_extras(sent) == {**ref.PULLING, **resolved(vcr), "name": "Pulling task"}
    assert "workload" not in sent
    p = job.progress()
    # each allowed assignee holds one batch; the rest waits in the hidden queue
    assert p.total_items == 25
    assert {a["annotator"]: a["total_items"] for a in p.details["assignments"]} == {
        "annotator1@dataloop.ai": 10, "annotator2@dataloop.ai": 10}
    assert replayed_all(vcr)


def test_consensus_task(backend, vcr, fake) -> None:
    job = Client(backend).create_job(example("consensus_task"))
    sent = first(vcr, "POST /annotationtasks").body
    assert sent["metadata"]["system"] == ref.CONSENSUS_SYSTEM
    # 6 originals + 2 copies each: the task counts the copies, as the gate does (10 items -> 30)
    assert job.progress().total_items == 18
    task_id = JobRef.parse(job.id).task
    label = lambda item, who: "cat" if who.startswith("annotator1") else "dog"  # noqa: E731
    if fake is not None:  # only annotator1 has worked: the platform merges nothing onto the originals yet
        fake.work(task_id, label, annotators=("annotator1@dataloop.ai",))
    early = job.answers()
    # the answers are read from the annotators' copies, as task.get_items() lists them: no waiting for the merge
    assert len(early) == 6 and set(early["worker"]) == {"annotator1@dataloop.ai"} and set(early["label"]) == {"cat"}
    items_query = next(c for c in all_of(vcr, f"POST /datasets/{resolved(vcr)['datasetId']}/query")
                   if c.body["resource"] == "items" and "metadata.system.refs.id" in str(c.body["filter"]))
    holder = first(vcr, f"GET /annotationtasks/{task_id}").response["metadata"]["system"]["consensusAssignmentId"]
    assert items_query.body["filter"] == {"$and": [{"metadata.system.refs.id": {"$in": [task_id]}},
                                                   {"metadata.system.refs.id": {"$ne": holder}}]}
    assert all(i["hidden"] and i["spec"]["parentDatasetItemId"] for i in items_query.response["items"])
    # each copy's answer is reported under its original item
    assert early["item_key"].nunique() == 6
    assert {i["spec"]["parentDatasetItemId"] for i in items_query.response["items"]} <= set(early["item_key"])
    if fake is not None:  # annotators at work; the cassette holds the result
        fake.work(task_id, label, only_unanswered=True)
    df = job.answers()
    assert len(df) == 12 and df["task"].nunique() == 6
    per_item = df.groupby("task")["worker"].apply(sorted)
    assert all(w == ["annotator1@dataloop.ai", "annotator2@dataloop.ai"] for w in per_item)
    assert set(df[df["worker"] == "annotator1@dataloop.ai"]["label"]) == {"cat"}
    assert (df["status"] == "submitted").all() and (df["field"] == "label").all()
    assert replayed_all(vcr)


def test_task_creates_a_recipe_when_labels_are_missing(backend, vcr) -> None:
    spec = example("task_whole_dataset", outputs=[{"name": "label", "type": "label", "options": ["bird", "fish"]}])
    Client(backend).create_job(spec)
    # no recipe of the project is the job's own yet (listed page by page): an ontology and a recipe are made
    assert shape(vcr)[:9] == [*RESOLVE, "GET /recipes", "POST /ontologies", "POST /recipes",
                              "PATCH /datasets/{dataset}", "POST /annotationtasks"]
    onto = first(vcr, "POST /ontologies").body
    assert [r["value"]["tag"] for r in onto["roots"]] == ["bird", "fish"]
    recipe = first(vcr, "POST /recipes")
    assert recipe.body["ontologyIds"] == [first(vcr, "POST /ontologies").response["id"]]
    assert first(vcr, "POST /annotationtasks").body["recipeId"] == recipe.response["id"]
    # ... and attached to the dataset as dtlpy's dataset.recipes.create does (switch_recipe)
    dataset = first(vcr, "POST /datasets/query").response["items"][0]
    attach = first(vcr, f"PATCH /datasets/{dataset['id']}")
    assert attach.query == {"system": "true"}
    assert attach.body == {**dataset, "metadata": {**dataset["metadata"], "system": {
        **dataset["metadata"]["system"], "recipes": [recipe.response["id"]]}}}
    # a second job with these labels uses the dataset's recipe: no recipe, ontology or attach again
    Client(backend).create_job(spec)
    assert len(all_of(vcr, "POST /recipes")) == len(all_of(vcr, "POST /ontologies")) == 1
    assert len([c for c in calls(vcr) if c.method == "PATCH"]) == 1
    assert all_of(vcr, "POST /annotationtasks")[1].body["recipeId"] == recipe.response["id"]
    assert replayed_all(vcr)


@pytest.mark.fake_gate(labels=("cat",))
def test_an_existing_recipe_of_the_job_is_reused(make_backend, vcr, fake) -> None:
    """The job's own recipe (by title, with every label) is found among the project's and attached again,
    instead of one more recipe per run — here after somebody switched the dataset back to its old recipe."""
    spec = example("task_whole_dataset")
    Client(make_backend()).create_job(spec)
    [made] = all_of(vcr, "POST /recipes")
    assert made.body["title"] == "Annotate the whole dataset (annotate)"
    if fake is not None:
        fake.s.datasets[fake.dataset_id]["metadata"]["system"]["recipes"] = [fake.recipe_id]
    Client(make_backend()).create_job(spec)
    assert len(all_of(vcr, "POST /recipes")) == len(all_of(vcr, "POST /ontologies")) == 1
    attaches = [c for c in calls(vcr) if c.method == "PATCH" and c.path.startswith("/datasets/")]
    assert [a.body["metadata"]["system"]["recipes"] for a in attaches] == [[made.response["id"]]] * 2
    assert all_of(vcr, "POST /annotationtasks")[1].body["recipeId"] == made.response["id"]
    assert replayed_all(vcr)


CUSTOM_STATUSES = ["completed", "discard", {"action": "unclear", "display_name": "Can't tell", "color": "#ffaa00"}]


def unclear_or_label(item: dict, who: str) -> str | None:
    """img_2 gets no label and img_4 a dog, both marked "unclear"; img_3 is discarded; the rest labelled."""
    number = int(item["name"].split("_")[1].split(".")[0])
    return None if number in (2, 3) else "cat" if number % 2 else "dog"


def status_by_name(item: dict, who: str) -> str | None:
    return "unclear" if item["name"] in ("img_2.jpg", "img_4.jpg") else None


def test_task_with_custom_statuses(backend, vcr, fake) -> None:
    spec = example("task_from_filter", options={"dataloop": {"statuses": CUSTOM_STATUSES}})
    job = Client(backend).create_job(spec)
    sent = first(vcr, "POST /annotationtasks").body
    wire = [{"action": "completed", "displayName": "completed", "color": "#FFFFFF"},
            {"action": "discard", "displayName": "discard", "color": "#FFFFFF"},
            {"action": "unclear", "displayName": "Can't tell", "color": "#ffaa00"}]
    assert sent["availableActions"] == wire
    assert created_task(vcr)["availableActions"] == wire  # the task offers exactly these statuses
    if fake is not None:  # annotators finish items, some with the custom status
        task_id = JobRef.parse(job.id).task
        with pytest.raises(GateError, match="not an available action"):  # the gate refuses other statuses
            fake.work(task_id, unclear_or_label, lambda item, who: "approved")
        fake.work(task_id, unclear_or_label, status_by_name)
    df = job.answers()
    assert len(df) == 6
    # the seeded items' ids end in their image number (img_1 = ...a001)
    rows = {f"img_{int(key[-3:])}": row for key, row in df.set_index("item_key").iterrows()}
    seen = {name: tuple(None if pd.isna(r[c]) else r[c] for c in ("status", "label", "review_comment"))
            for name, r in rows.items()}
    assert seen == {
        "img_1": ("submitted", "cat", None),
        "img_2": ("submitted", None, "status 'unclear'"),  # finished as "Can't tell" without a label
        "img_3": ("skipped", None, None),  # discard stays skipped
        "img_4": ("submitted", "dog", "status 'unclear'"),
        "img_5": ("submitted", "cat", None),
        "img_6": ("submitted", "dog", None),
    }
    assert rows["img_2"]["worker"] in ("annotator1@dataloop.ai", "annotator2@dataloop.ai")  # who set the status
    p = job.progress()
    assert p.completed_items == 6
    task = all_of(vcr, f"GET /annotationtasks/{JobRef.parse(job.id).task}")[-1].response
    assert task["itemStatus"]["actions"] == {"completed": 3, "discard": 1, "unclear": 2}
    assert replayed_all(vcr)


def test_spec_without_distribution_or_deadline_gets_dtlpys_defaults(backend, vcr) -> None:
    """No distribution: dtlpy's fixed workload split among the assignees (not a pulling task); no deadline:
    dtlpy's due date, creation + 7 days, on the task and its QA task alike."""
    spec = example("task_from_items", distribution=DROP, deadline=DROP,
                   review={"fraction": 1.0, "reviewers": ["reviewer1@dataloop.ai"], "on_reject": "discard"})
    job = Client(backend).create_job(spec)
    task, qa = (c.body for c in all_of(vcr, "POST /annotationtasks"))
    assert task["workload"] == ref.TASK_FROM_FILTER["workload"]  # 50/50, as dtlpy's Workload.generate
    assert "system" not in task["metadata"]  # no batchSize / maxBatchWorkload / allowedAssignees
    due = (CLOCK + 7 * 86400) * 1000
    assert task["dueDate"] == qa["dueDate"] == due
    p = job.progress()
    assert {a["annotator"]: a["total_items"] for a in p.details["assignments"]} == {
        "annotator1@dataloop.ai": 2, "annotator2@dataloop.ai": 1}
    assert created_task(vcr)["dueDate"] == due
    assert replayed_all(vcr)
