"""Job keys on cassettes: create then attach, and reruns after a create that failed half-way.

Each test runs the same code twice with one key, as a user reruns a script after a failure; between
the runs the fake gate finishes whatever it was doing (``settle``), as the real gate would while the
script is restarted. The cassettes show what goes over the wire: the key in annotate's metadata, the
lookups by key, and no create sent twice.
"""

from __future__ import annotations

import pytest
from annotate_dataloop.jobref import JobRef

from annotate_core import Client
from annotate_core.errors import VendorError
from annotate_core.jobkeys import JobKeyConflictError
from annotate_core.testing.faults import ClientDied, Fault

from .faulty import AimedPlan
from .helpers import example
from .recorded import all_of, calls, first, replayed_all

pytestmark = pytest.mark.vcr

KEY = "nightly-2026-01-15"
REVIEW = {"fraction": 1.0, "reviewers": ["reviewer@dataloop.ai"], "on_reject": "discard"}


def settle(fake) -> None:
    if fake is not None:
        fake.settle()


def key_lookups(vcr) -> list[dict]:
    return [c.body["filter"] for c in all_of(vcr, "POST /annotationtasks/query")]


def test_keyed_create_then_rerun_attaches(make_backend, vcr, fake) -> None:
    spec = example("task_from_items")
    first_run = Client(make_backend()).create_job(spec, key=KEY)
    again = Client(make_backend()).create_job(spec, key=KEY)
    assert first_run.created and (again.id, again.created) == (first_run.id, False)
    [post] = all_of(vcr, "POST /annotationtasks")
    assert post.body["metadata"]["user"]["annotate"]["key"] == KEY
    assert "checkIfExist" not in post.body
    # find_job, create_job's own look before creating, then the rerun's find_job: all by key, all pages
    assert key_lookups(vcr) == [{"$and": [{"metadata.user.annotate.key": KEY}]}] * 3
    assert [t["id"] for t in all_of(vcr, "POST /annotationtasks/query")[-1].response["items"]] == [
        JobRef.parse(first_run.id).task]
    assert replayed_all(vcr)


def test_lost_create_reply_then_rerun_makes_one_task(make_backend, vcr, fake) -> None:
    spec = example("task_from_items")
    plan = AimedPlan(method="POST", path=r"/annotationtasks$", fault=Fault.CLIENT_DIES_AFTER)
    with pytest.raises(ClientDied), plan.client_deaths():  # the gate took the create; the client never read it
        Client(make_backend()).create_job(spec, key=KEY)
    settle(fake)
    job = Client(make_backend()).create_job(spec, key=KEY)
    assert not job.created, "the rerun found the task the lost create made"
    assert len(all_of(vcr, "POST /annotationtasks")) == 1
    assert first(vcr, f"GET /annotationtasks/{JobRef.parse(job.id).task}").status == 200
    if fake is not None:
        assert len(fake.s.tasks) == 1
    assert replayed_all(vcr)


def test_failed_qa_create_then_rerun_makes_only_the_qa_task(make_backend, vcr, fake) -> None:
    spec = example("task_from_items", review=REVIEW)
    if fake is not None:  # the gate is down for the QA task's create: every attempt answers 503
        fake.fail("POST", r"/annotationtasks$", 503, {"status": 503, "message": "Service Unavailable"},
                  after=1, times=3)
    with pytest.raises(VendorError, match="Service Unavailable"):
        Client(make_backend()).create_job(spec, key=KEY)
    settle(fake)
    job = Client(make_backend()).create_job(spec, key=KEY)
    ref = JobRef.parse(job.id)
    assert ref.qa is not None
    posts = all_of(vcr, "POST /annotationtasks")
    assert [p.body["spec"]["type"] for p in posts] == ["annotation", "qa", "qa", "qa", "qa"]
    assert [p.status for p in posts] == [200, 503, 503, 503, 200]
    # each unknown outcome was looked up (by key) before the QA create was sent again
    assert posts[-1].body["spec"]["parentTaskId"] == ref.task
    assert posts[-1].body["metadata"]["user"]["annotate"] == {
        "createId": posts[-1].body["metadata"]["user"]["annotate"]["createId"], "key": KEY, "parentTaskId": ref.task}
    if fake is not None:
        assert sorted(t["spec"]["type"] for t in fake.s.tasks.values()) == ["annotation", "qa"]
    assert Client(make_backend()).create_job(spec, key=KEY).id == job.id  # complete now: attaches
    assert replayed_all(vcr)


def test_failure_after_pipeline_create_then_rerun_makes_one_pipeline(make_backend, vcr, fake) -> None:
    spec = example("pipeline_task_node")
    if fake is not None:  # the pipeline create's reply is lost: the gate made it, the client saw a 503
        fake.fail("POST", r"/pipelines$", 503, {"status": 503, "message": "Service Unavailable"}, process=True)
        # ... and once built, starting it fails: install answers 503 on every attempt
        fake.fail("POST", r"/install$", 503, {"status": 503, "message": "Service Unavailable"}, times=3)
    job = Client(make_backend()).create_job(spec, key=KEY)
    pipeline_id = JobRef.parse(job.id).pipeline
    assert [c.status for c in all_of(vcr, "POST /pipelines")] == [503]  # looked up by key, not sent again
    assert first(vcr, "POST /pipelines").body["description"] == f"annotate job {KEY} (building)"
    [patch] = all_of(vcr, f"PATCH /pipelines/{pipeline_id}")
    assert patch.body["description"] == f"annotate job {KEY} (ready)"  # the nodes and the mark, in one PATCH
    with pytest.raises(VendorError, match="Service Unavailable"):
        job.start()
    settle(fake)
    again = Client(make_backend()).create_job(spec, key=KEY)  # the rerun attaches and starts
    assert (again.id, again.created) == (job.id, False)
    again.start()
    assert [c.status for c in all_of(vcr, f"POST /pipelines/{pipeline_id}/install")] == [503, 503, 503, 200]
    assert len(all_of(vcr, f"POST /pipelines/{pipeline_id}/execute")) == 1
    assert len(all_of(vcr, "POST /pipelines")) == 1 and len(all_of(vcr, f"PATCH /pipelines/{pipeline_id}")) == 1
    if fake is not None:
        assert len(fake.s.pipelines) == 1
    assert replayed_all(vcr)


def test_keyed_recipe_is_reused_by_a_rerun(make_backend, vcr, fake) -> None:
    spec = example("task_whole_dataset", outputs=[{"name": "label", "type": "label", "options": ["bird", "fish"]}])
    if fake is not None:  # the recipe is made, then the task create is refused
        fake.fail("POST", r"/annotationtasks$", 400, {"status": 400, "message": "Missing or Invalid id"})
    with pytest.raises(VendorError, match="Missing or Invalid id"):
        Client(make_backend()).create_job(spec, key=KEY)
    job = Client(make_backend()).create_job(spec, key=KEY)
    [recipe] = all_of(vcr, "POST /recipes")
    assert recipe.body["title"] == f"{spec.name} (annotate {KEY})"
    assert len(all_of(vcr, "POST /ontologies")) == 1
    listed = [c for c in calls(vcr) if c.line == "GET /recipes"]
    assert listed and all(c.query["projects"] for c in listed)
    # the first run attached the recipe to the dataset: the rerun finds the labels there
    [attach] = [c for c in calls(vcr) if c.method == "PATCH" and c.path.startswith("/datasets/")]
    assert attach.query == {"system": "true"}
    assert attach.body["metadata"]["system"]["recipes"] == [recipe.response["id"]]
    task = first(vcr, f"GET /annotationtasks/{JobRef.parse(job.id).task}").response
    assert task["recipeId"] == recipe.response["id"]
    assert replayed_all(vcr)


def test_a_pipeline_key_used_with_another_spec_is_a_conflict(make_backend, vcr, fake) -> None:
    """The pipeline keeps its spec (variable annotate_spec), so a key reused for another pipeline
    spec is refused instead of silently attached."""
    spec = example("pipeline_task_node")
    job = Client(make_backend()).create_job(spec, key=KEY)
    other = spec.model_copy(update={"description": "another job under the same key"})
    with pytest.raises(JobKeyConflictError) as err:
        Client(make_backend()).create_job(other, key=KEY)
    assert err.value.job_id == job.id and "description" in err.value.differences
