"""Listing the jobs annotate created in a project (``Backend.list_jobs``, ``Client.jobs()``, ``annotate jobs``).

One cassette: two jobs are created (a task, and a task reviewed by a QA task), a task made outside
annotate sits in the same project, and the listing — one ``POST /annotationtasks/query`` on
``metadata.user.annotate`` followed page by page (the fake serves two tasks per page) — pairs the QA
task with its task. The pairing rules for shapes a cassette cannot show cheaply are checked on task
JSON in the reference's shape (§3.5).
"""

from __future__ import annotations

import os

import pytest
from annotate_dataloop import dql
from annotate_dataloop.jobref import JobRef
from annotate_dataloop.listing import combined_state, created_at, job_rows
from click.testing import CliRunner

from annotate_core import Client, JobState
from annotate_core.cli.main import cli

from .conftest import FAKE_TOKEN, LIVE_TOKEN
from .fake_gate import PROJECT_ID
from .helpers import example
from .recorded import all_of, first, replayed_all
from .test_answers import label_by_name

LIST = "POST /annotationtasks/query"


@pytest.mark.vcr
@pytest.mark.fake_gate(folders=("/batch1", "/my/folder/directory"))
def test_jobs_lists_annotates_tasks_and_pairs_qa(backend, vcr, fake, tmp_path) -> None:
    client = Client(backend)
    plain = client.create_job(example("task_from_filter"))
    reviewed = client.create_job(example("qa_task"))
    task_id, qa_id = JobRef.parse(reviewed.id).task, JobRef.parse(reviewed.id).qa
    assert qa_id is not None
    if fake is not None:  # the reviewed job is worked and reviewed to the end; someone adds a task by hand
        fake.work(task_id, label_by_name)
        fake.review(qa_id, lambda item: "approved")
        fake.studio_task("made in the studio")

    rows = client.jobs()

    # one query on annotate's metadata in the configured project, offset-paged to its last page
    pages = all_of(vcr, LIST)
    assert [p.body for p in pages] == [{**dql.annotate_tasks(PROJECT_ID), "page": n} for n in range(len(pages))]
    assert len(pages) == 2 and pages[-1].response["hasNextPage"] is False
    listed = [t["id"] for p in pages for t in p.response["items"]]
    assert len(listed) == 3 and qa_id in listed  # the studio's task was not sent back

    assert [r["id"] for r in rows] == [plain.id, reviewed.id]  # oldest first; the QA task is not a job of its own
    by_id = {r["id"]: r for r in rows}
    assert by_id[plain.id] == {"id": plain.id, "name": "Annotate unlabeled items", "state": "open",
                               "created_at": by_id[plain.id]["created_at"], "items": 6}
    assert by_id[reviewed.id]["name"] == "Annotate then QA"
    assert by_id[reviewed.id]["state"] == "completed"  # both tasks completed
    assert by_id[reviewed.id]["items"] == 3
    created = {t["id"]: t["createdAt"] for p in pages for t in p.response["items"]}
    assert by_id[reviewed.id]["created_at"] == created_at({"createdAt": created[task_id]})
    assert all(r["created_at"].endswith("+00:00") for r in rows)

    # a listed id opens a job handle that reads the same state
    progress = client.job(rows[1]["id"]).progress()
    assert progress.state is JobState.COMPLETED and progress.details["qa_tasks"][0]["id"] == qa_id

    # the CLI lists the same jobs from a profile (the token comes from the environment, never the file)
    base_url = f'base_url = "{fake.base_url}/api/v1"\n' if fake is not None else (
        f'base_url = "{os.environ["DATALOOP_BASE_URL"]}"\n' if LIVE_TOKEN and "DATALOOP_BASE_URL" in os.environ else "")
    config = tmp_path / "annotate.toml"
    config.write_text('[profiles.dl]\ndriver = "dataloop"\ntoken_env = "DL_TEST_TOKEN"\nproject = "my-project"\n'
                      f"retries = 0\n{base_url}", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "jobs", "--profile", "dl"],
                                env={"DL_TEST_TOKEN": LIVE_TOKEN or FAKE_TOKEN})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == [plain.id, reviewed.id]
    assert lines[1].split()[1:3] == ["completed", "3"] and lines[1].endswith("Annotate then QA")
    assert first(vcr, "GET /projects/my-project/name").response[0]["id"] == PROJECT_ID
    assert replayed_all(vcr)


# ---- pairing rules on task JSON ------------------------------------------------------------------


def _task(tid: str, minute: int, status: str = "open", **extra) -> dict:
    return {"id": tid, "name": f"task {tid[-2:]}", "status": status, "createdAt": f"2026-01-15T10:{minute:02d}:00.000Z",
            "spec": {"type": "annotation"}, "totalItems": 4, "metadata": {"system": {}, "user": {"annotate": {}}},
            **extra}


def _qa(tid: str, parent: str, minute: int, status: str = "open") -> dict:
    return {**_task(tid, minute, status), "spec": {"type": "qa", "parentTaskId": parent}, "totalItems": 2}


T1, T2, Q1, Q2, P1 = (f"6700000000000000000000{n:02d}" for n in (1, 2, 3, 4, 5))
PIPE = "690000000000000000000001"


def test_qa_pair_is_closed_when_either_task_is_dismissed() -> None:
    rows = job_rows([_qa(Q1, T1, 3, "dismissed"), _task(T1, 1, "completed")])
    assert rows == [{"id": f"task:{T1},qa:{Q1}", "name": "task 01", "state": "closed",
                     "created_at": "2026-01-15T10:01:00+00:00", "items": 4}]
    assert job_rows([_task(T1, 1, "completed"), _qa(Q1, T1, 3, "in progress")])[0]["state"] == "open"


def test_orphan_and_extra_qa_tasks_make_no_job_of_their_own() -> None:
    rows = job_rows([_task(T1, 1), _qa(Q1, T1, 2), _qa(Q2, T1, 5), _qa(P1, T2, 3)])
    assert [r["id"] for r in rows] == [f"task:{T1},qa:{Q1}"]  # the oldest QA task pairs; T2 is not annotate's


def test_pipeline_node_tasks_are_left_out() -> None:
    node = {"system": {"pipelineId": PIPE, "nodeId": "n1"}, "user": {"annotate": {}}}
    rows = job_rows([_task(T2, 4, metadata=node), _task(T1, 1), {**_qa(Q1, T2, 6, "completed"), "metadata": node}])
    assert [r["id"] for r in rows] == [f"task:{T1}"]


def test_states_and_dates() -> None:
    assert combined_state([]) is JobState.OPEN
    assert combined_state([{"status": "completed with issues"}, {"status": "completed"}]) is JobState.COMPLETED
    assert created_at({"createdAt": "2026-01-15T12:00:00.000+02:00"}) == "2026-01-15T10:00:00+00:00"
    assert created_at({"createdAt": 1768471200000}) == "2026-01-15T10:00:00+00:00"
    assert created_at({"createdAt": "yesterday"}) is None and created_at({}) is None
