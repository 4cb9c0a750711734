"""Seed 004 "Creating Pipeline Tasks Node": a task node (recipe, owner, workload, position, project and
dataset) added to a pipeline and the pipeline updated; annotate -> review as two nodes. Creating the
job stops there, as the seed does: ``job.start()`` installs the pipeline and runs the items through it."""

from __future__ import annotations

import pytest
from annotate_dataloop.jobref import JobRef

from annotate_core import Client, JobState
from annotate_core.stored_spec import spec_document

from .conftest import CLOCK
from .helpers import example
from .recorded import all_of, first, replayed_all
from .test_tasks import resolved, shape

pytestmark = pytest.mark.vcr


def test_pipeline_task_node(backend, vcr, fake) -> None:
    spec = example("pipeline_task_node")
    job = Client(backend).create_job(spec)
    pipeline_id = JobRef.parse(job.id).pipeline
    assert pipeline_id is not None and job.id == f"pipeline:{pipeline_id}"
    # creating builds the pipeline and stops: nothing is installed or run
    assert shape(vcr)[4:] == ["POST /pipelines", "PATCH /pipelines/{pipeline}"]
    assert job.progress().state is JobState.DRAFT
    ids = resolved(vcr)
    create = first(vcr, "POST /pipelines").body
    assert create == {"name": "pipeline-faas-example-dataset", "projectId": ids["projectId"], "nodes": [],
                      "connections": [], "startNodes": [], "variables": [],
                      "description": "annotate job call create-0001 (building)"}  # found by it if the reply is lost

    patch = first(vcr, f"PATCH /pipelines/{pipeline_id}").body
    assert patch["id"] == pipeline_id and patch["status"] == "Created"  # the whole entity, as pipeline.update()
    label, review = patch["nodes"]
    recipe_title = first(vcr, f"GET /recipes/{ids['recipeId']}").response["title"]
    due = (CLOCK + 7 * 86400) * 1000  # no deadline: dtlpy's TaskNode default, creation + 7 days, in ms
    assert label["metadata"] == {
        "position": {"x": 780.0, "y": 217.5, "z": 0}, "datasetId": ids["datasetId"], "recipeTitle": recipe_title,
        "recipeId": ids["recipeId"], "taskOwner": "owner@dataloop.ai", "taskType": "annotation",
        "workload": [{"assigneeId": "assignee_id@dataloop.ai", "load": 100}], "repeatable": True, "priority": 2,
        "dueDate": due}
    assert review["metadata"]["dueDate"] == due
    assert (label["name"], label["type"], label["projectId"]) == ("My Task", "task", ids["projectId"])
    assert review["metadata"]["taskType"] == "qa" and review["name"] == "QA"
    assert review["metadata"]["workload"] == [{"assigneeId": "reviewer@dataloop.ai", "load": 100}]
    assert patch["startNodes"] == [{"nodeId": label["id"], "type": "root"}]
    assert patch["connections"] == [{"src": {"nodeId": label["id"], "portId": label["outputs"][0]["portId"]},
                                     "tgt": {"nodeId": review["id"], "portId": review["inputs"][0]["portId"]},
                                     "condition": "{}", "action": "complete"}]
    whole = {"filter": {"$and": [{"hidden": False}, {"type": "file"}]}, "page": 0, "pageSize": 1000,
             "resource": "items"}
    # the query start() runs and the spec (get_spec, job-key conflicts) are kept on the pipeline; the
    # same PATCH marks it built
    assert patch["variables"] == [{"name": "annotate_source", "type": "Json",
                                   "value": {"query": whole, "uploaded": False}},
                                  {"name": "annotate_spec", "type": "Json", "value": spec_document(job.spec)}]
    assert job.backend.get_spec(job.id) == job.spec  # read back from the pipeline
    assert patch["description"] == "annotate job call create-0001 (ready)"

    job.start()
    starting = shape(vcr)[shape(vcr).index("POST /pipelines/{pipeline}/install") - 1:]
    assert starting[:4] == ["GET /pipelines/{pipeline}", "POST /pipelines/{pipeline}/install",
                            "POST /annotationtasks/query", "POST /pipelines/{pipeline}/execute"]
    execute = first(vcr, f"POST /pipelines/{pipeline_id}/execute").body
    assert execute == {"batch": {"query": whole, "args": {}}}
    job.start()  # started already: installed and holding the items, so nothing is sent again
    assert len(all_of(vcr, f"POST /pipelines/{pipeline_id}/install")) == 1
    assert len(all_of(vcr, f"POST /pipelines/{pipeline_id}/execute")) == 1

    p = job.progress()
    assert p.state is JobState.OPEN and p.total_items == 6 and p.details["pipeline"] == "Installed"
    assert [t["name"] for t in p.details["tasks"]] == ["My Task"]

    if fake is not None:  # the annotator completes everything; items move on to the QA node's task
        task = fake.node_task(pipeline_id, fake.s.pipelines[pipeline_id]["nodes"][0])
        fake.work(task["id"], lambda item, who: "dog")
        fake.advance_pipeline(pipeline_id)
        qa = fake.node_task(pipeline_id, fake.s.pipelines[pipeline_id]["nodes"][1])
        fake.review(qa["id"], lambda item: "approved")
    df = job.answers()
    assert len(df) == 6 and set(df["status"]) == {"accepted"} and set(df["reviewer"]) == {"reviewer@dataloop.ai"}
    assert set(df["worker"]) == {"assignee_id@dataloop.ai"} and set(df["label"]) == {"dog"}
    done = job.progress()
    assert done.state is JobState.COMPLETED and [t["name"] for t in done.details["qa_tasks"]] == ["QA"]
    # the node tasks are found by the pipeline id (offset paging of POST /annotationtasks/query)
    queries = all_of(vcr, "POST /annotationtasks/query")
    assert queries[0].body["filter"] == {"$and": [{"metadata.system.pipelineId": pipeline_id}]}
    job.close()
    assert first(vcr, f"POST /pipelines/{pipeline_id}/uninstall").status == 200
    assert replayed_all(vcr)


def test_pipeline_with_uploaded_items(make_backend, vcr, fake) -> None:
    spec = example("pipeline_task_node", source={"kind": "items"})
    job = Client(make_backend()).create_job(spec)
    pipeline_id = JobRef.parse(job.id).pipeline
    items = [{"key": f"k{i}", "inputs": {"image": f"https://example.com/{i}.png"}} for i in range(5)]
    report = job.add_items(items[:3], progress=False)
    assert (report.created, report.existing) == (3, 0)
    # not started: the items wait in the job's folder, nothing is installed or run
    assert not all_of(vcr, f"POST /pipelines/{pipeline_id}/install")
    assert not all_of(vcr, f"POST /pipelines/{pipeline_id}/execute")
    job.start()  # installs, then runs the waiting items (by id)
    [run] = all_of(vcr, f"POST /pipelines/{pipeline_id}/execute")
    assert len(run.body["batch"]["query"]["filter"]["$and"][0]["id"]["$in"]) == 3
    assert job.progress().total_items == 3
    job.add_items(items, progress=False)  # running now: the new items go straight in
    runs = all_of(vcr, f"POST /pipelines/{pipeline_id}/execute")
    assert len(runs) == 2 and len(runs[1].body["batch"]["query"]["filter"]["$and"][0]["id"]["$in"]) == 2
    assert job.progress().total_items == 5
    job.start()  # every item is in the node's task: nothing is executed again
    assert len(all_of(vcr, f"POST /pipelines/{pipeline_id}/execute")) == 2
    assert replayed_all(vcr)
