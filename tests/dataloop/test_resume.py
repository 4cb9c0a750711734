"""Every fault on every non-idempotent call of a job, then reruns: one task (+ QA task) or one pipeline.

The conformance suite's harness throws a few faults at random requests; here each fault kind is aimed
at each create or follow-up that must not be repeated blindly — the task and QA task creates,
``addToTask``, the pipeline create, its update, install and execute — against the fake gate served on
loopback (it never dedupes, and runs commands to their end whether or not anyone polls them). The
same code is rerun with the same key until it gets through, as a user would rerun a script.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from annotate_dataloop.jobref import JobRef

from annotate_core import Client
from annotate_core.testing.faults import Fault, FaultPlan, run_with_reruns
from annotate_core.testing.specs import base_spec
from annotate_core.testing.suite import conformance_items

from .faulty import AimedPlan, FaultyDataloop, served_gate
from .helpers import example

#: the faults whose outcome the client cannot know, and the two that are plain failures
FAULTS = [Fault.ERROR_BEFORE, Fault.ERROR_AFTER, Fault.LOST_REPLY, Fault.READ_TIMEOUT, Fault.CLIENT_DIES_BEFORE,
          Fault.CLIENT_DIES_AFTER]


@pytest.fixture
def vendor() -> Iterator[FaultyDataloop]:
    with served_gate() as served:
        yield served


def rerun_until_done(vendor: FaultyDataloop, plan: FaultPlan, spec: Any, key: str, *, answer: bool = True
                     ) -> tuple[Any, list[str]]:
    """The same script, rerun after each failure: create with the key, add items, start, read answers."""
    run = run_with_reruns(vendor, plan, spec, conformance_items(6), key, max_runs=6, answer=answer)
    assert run.finished, f"never finished ({plan.describe()}; {run.failures})"
    return run.job, run.failures


def assert_once(vendor: FaultyDataloop, job: Any, spec: Any, key: str, expected: dict[str, int], plan: FaultPlan,
                failures: list[str]) -> None:
    where = f"{plan.describe()}; failed runs: {failures}"
    assert plan.fired, f"the aimed fault never fired ({where})"
    assert dict(vendor.objects()) == expected, where
    copies = vendor.item_copies()
    assert set(copies.values()) == {1} and len(copies) == 6, f"items stored twice or missing ({where})"
    assert vendor.gate.repeats == [], f"items sent again to a task holding them ({where})"
    again = Client(vendor.backend()).create_job(spec, key=key)  # one more rerun attaches, creates nothing
    assert (again.id, again.created) == (job.id, False), where
    assert dict(vendor.objects()) == expected, where


@pytest.mark.parametrize("fault", [Fault.LOST_REPLY, Fault.ERROR_AFTER, Fault.READ_TIMEOUT])
def test_unknown_create_outcomes_never_make_a_second_task(vendor: FaultyDataloop, fault: Fault) -> None:
    """Without a key too: every create reply lost (six in a row) still ends with the one task it made."""
    plan = AimedPlan(method="POST", path=r"/annotationtasks$", fault=fault, times=6)
    vendor.server.plan = plan
    backend = vendor.backend()
    job = Client(backend).create_job(base_spec(frozenset(backend.capabilities)))
    backend.close_backend()
    assert len(plan.fired) == 1, "the create was sent again although the first one had made the task"
    assert dict(vendor.objects()) == {"task": 1} and job.id == f"task:{next(iter(vendor.gate.s.tasks))}"


TASK_CALLS = {"task create": ("POST", r"/annotationtasks$", 1), "addToTask": ("POST", r"/addToTask$", 1)}


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
@pytest.mark.parametrize("call", list(TASK_CALLS))
def test_task_job_survives(vendor: FaultyDataloop, call: str, fault: Fault) -> None:
    method, path, nth = TASK_CALLS[call]
    plan = AimedPlan(method=method, path=path, fault=fault, nth=nth)
    spec = base_spec(frozenset(vendor.backend().capabilities))
    job, failures = rerun_until_done(vendor, plan, spec, "resume-task")
    assert_once(vendor, job, spec, "resume-task", {"task": 1}, plan, failures)
    task = JobRef.parse(job.id).task
    assert task is not None and len(vendor.gate.task_items(task)) == 6  # every item in the task once
    assert vendor.answer_count(job.id) == 6


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_failed_qa_create_then_rerun_makes_only_the_qa_task(vendor: FaultyDataloop, fault: Fault) -> None:
    spec = base_spec(frozenset(vendor.backend().capabilities),
                     review={"fraction": 1.0, "reviewers": ["reviewer@example.com"], "on_reject": "discard"})
    plan = AimedPlan(method="POST", path=r"/annotationtasks$", fault=fault, nth=2)  # the second create: QA
    job, failures = rerun_until_done(vendor, plan, spec, "resume-qa")
    assert_once(vendor, job, spec, "resume-qa", {"task": 1, "qa_task": 1}, plan, failures)
    ref = JobRef.parse(job.id)
    assert ref.qa is not None and vendor.gate.s.tasks[ref.qa]["spec"]["parentTaskId"] == ref.task


PIPELINE_CALLS = {"pipeline create": ("POST", r"/pipelines$"), "nodes update": ("PATCH", r"/pipelines/[0-9a-f]+$"),
                  "install": ("POST", r"/install$"), "execute": ("POST", r"/execute$")}


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
@pytest.mark.parametrize("call", list(PIPELINE_CALLS))
def test_pipeline_job_survives(vendor: FaultyDataloop, call: str, fault: Fault) -> None:
    method, path = PIPELINE_CALLS[call]
    plan = AimedPlan(method=method, path=path, fault=fault)
    spec = example("pipeline_task_node", source={"kind": "items"})
    job, failures = rerun_until_done(vendor, plan, spec, "resume-pipeline", answer=False)
    assert_once(vendor, job, spec, "resume-pipeline", {"pipeline": 1}, plan, failures)
    pipeline_id = JobRef.parse(job.id).pipeline
    assert pipeline_id is not None
    vendor.gate.settle()
    start = vendor.gate.s.pipelines[pipeline_id]["nodes"][0]
    node_task = vendor.gate.node_task(pipeline_id, start)
    assert len(vendor.gate.task_items(node_task["id"])) == 6  # every uploaded item reached the first node
    assert vendor.gate.s.pipelines[pipeline_id]["description"] == "annotate job resume-pipeline (ready)"


@pytest.mark.parametrize("seed", range(10))
def test_random_faults_on_a_reviewed_job(vendor: FaultyDataloop, seed: int) -> None:
    """The suite's random harness on a job of two tasks: faults anywhere, reruns, one task + one QA task."""
    spec = base_spec(frozenset(vendor.backend().capabilities),
                     review={"fraction": 1.0, "reviewers": ["reviewer@example.com"], "on_reject": "discard"})
    plan = FaultPlan.random(1000 + seed, requests=45, faults=4)
    run = run_with_reruns(vendor, plan, spec, conformance_items(6), f"reviewed-{seed}")
    where = f"{plan.describe()}; failed runs: {run.failures}"
    assert run.finished, f"never finished ({where})"
    assert plan.fired, f"no fault fired ({where})"
    job, answers = run.job, run.answers
    assert dict(vendor.objects()) == {"task": 1, "qa_task": 1}, where
    copies = vendor.item_copies()
    assert set(copies.values()) == {1} and len(copies) == 6, where
    assert not answers.duplicated(["assignment", "task"]).any() and len(answers) == vendor.answer_count(job.id), where
    assert vendor.gate.repeats == [], where
