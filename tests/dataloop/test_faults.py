"""Faults on cassettes: failed commands, 429, 5xx mid-way, expired and refreshed tokens, malformed answers."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

import pytest
from annotate_dataloop import DataloopBackend
from annotate_dataloop.jobref import JobRef
from pydantic import SecretStr

from annotate_core import Client
from annotate_core.errors import (
    AuthenticationError,
    MalformedResponseError,
    NotFoundError,
    OperationFailedError,
)

from .conftest import CASSETTE_FAKES, CASSETTES, CLOCK, FAKE_REFRESH_TOKEN, FAKE_TOKEN
from .helpers import example, fake_jwt
from .recorded import all_of, calls, first, replayed_all

vcr = pytest.mark.vcr


@vcr
def test_failed_command_reports_the_servers_message(backend, vcr, fake) -> None:
    if fake is not None:
        fake.fail_next_command("Recipe 65f1 is not compatible with the dataset")
    with pytest.raises(OperationFailedError) as err:
        Client(backend).create_job(example("task_from_filter"))
    message = str(err.value)
    assert "Recipe 65f1 is not compatible with the dataset" in message and "failed" in message
    command = first(vcr, "POST /annotationtasks").response["id"]
    assert command in message and err.value.backend == "dataloop"
    assert [c.response["status"] for c in all_of(vcr, f"GET /commands/{command}")] == ["in-progress", "failed"]
    assert replayed_all(vcr)


@vcr
@pytest.mark.fake_gate(polls_per_command=50)
def test_command_that_never_ends_times_out(make_backend, vcr, fake) -> None:
    backend = make_backend(command_timeout=0.0)
    with pytest.raises(OperationFailedError, match=r"still 'in-progress' after 0s"):
        Client(backend).create_job(example("task_from_items"))
    assert replayed_all(vcr)


@vcr
def test_rate_limit_waits_retry_after(backend, vcr, fake, sleeps: list[float]) -> None:
    if fake is not None:
        fake.fail("POST", r"/annotationtasks$", 429, {"status": 429, "message": "Too Many Requests"},
                  headers={"Retry-After": "7"})
    job = Client(backend).create_job(example("task_from_items"))
    posts = all_of(vcr, "POST /annotationtasks")
    assert [p.status for p in posts] == [429, 200] and posts[0].body == posts[1].body
    assert 7.0 in sleeps  # Retry-After honoured, through the injectable sleep
    assert job.id.startswith("task:")
    assert replayed_all(vcr)


@vcr
@pytest.mark.fake_gate(n_items=9, max_page_size=4)
def test_server_errors_mid_way_are_retried(backend, vcr, fake) -> None:
    job = Client(backend).create_job(example("task_whole_dataset"))
    if fake is not None:
        fake.work(JobRef.parse(job.id).task, lambda item, who: "cat")
        # the second page of items answers 502 once, then works: the read-only query is repeated
        fake.fail("POST", r"/datasets/[0-9a-f]+/query$", 502, b"<html>502 Bad Gateway</html>", after=2)
    df = job.answers()
    assert len(df) == 9
    queries = [c for c in calls(vcr) if c.line.endswith("/query") and c.line.startswith("POST /datasets/6")]
    statuses = [q.status for q in queries]
    assert 502 in statuses
    failed = statuses.index(502)
    assert queries[failed].body == queries[failed + 1].body and queries[failed + 1].status == 200
    assert replayed_all(vcr)


@vcr
def test_lost_create_answer_is_looked_up_not_repeated(backend, vcr, fake) -> None:
    if fake is not None:  # the gate creates the task but the answer is a 500
        fake.fail("POST", r"/annotationtasks$", 500, {"status": 500, "message": "Internal Server Error"},
                  process=True)
    job = Client(backend).create_job(example("task_from_items"))
    posts = all_of(vcr, "POST /annotationtasks")
    assert [p.status for p in posts] == [500]  # never repeated blindly, by urllib3 or the backend
    create_id = posts[0].body["metadata"]["user"]["annotate"]["createId"]
    lookup = first(vcr, "POST /annotationtasks/query")
    assert lookup.body["filter"] == {"$and": [{"metadata.user.annotate.createId": create_id}]}
    assert [t["id"] for t in lookup.response["items"]] == [JobRef.parse(job.id).task]
    if fake is not None:
        assert len(fake.s.tasks) == 1
    assert replayed_all(vcr)


@vcr
def test_upload_retried_after_503(backend, vcr, fake) -> None:
    job = Client(backend).create_job(example("task_from_filter", source={"kind": "items"}))
    if fake is not None:
        fake.fail("POST", r"/items$", 503, {"status": 503, "message": "Service Unavailable"}, after=1)
    report = job.add_items([{"key": f"k{i}", "inputs": {"image": f"https://example.com/{i}.jpg"}} for i in range(3)],
                           progress=False)
    assert (report.created, report.errors) == (3, [])
    dataset = first(vcr, "POST /annotationtasks").body["datasetId"]
    assert [u.status for u in all_of(vcr, f"POST /datasets/{dataset}/items")] == [200, 503, 200, 200]
    assert replayed_all(vcr)


# ---- tokens -----------------------------------------------------------------------------------------


def test_expired_token_is_refused_before_sending(make_backend, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[Any] = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: sent.append(a))
    backend = make_backend(token=SecretStr(fake_jwt(CLOCK - 3600)))
    client = Client(backend)
    with pytest.raises(AuthenticationError, match=r"token expired at .* refresh_token_env"):
        client.create_job(example("task_from_items"))
    with pytest.raises(AuthenticationError, match="expired"):
        client.job("task:67000000000000000000000a").progress()
    assert sent == []
    assert client.plan(example("task_from_items")).ok  # planning needs no token


def test_token_expiring_within_a_minute_counts_as_expired(make_backend) -> None:
    backend = make_backend(token=SecretStr(fake_jwt(CLOCK + 30)))
    with pytest.raises(AuthenticationError, match="expired"):
        backend.progress("task:67000000000000000000000a")


def test_missing_token_says_how_to_set_it(make_backend) -> None:
    backend = DataloopBackend(project="my-project")
    with pytest.raises(AuthenticationError, match="token_env"):
        backend.progress("task:67000000000000000000000a")


@vcr
def test_expired_token_is_refreshed(make_backend, vcr) -> None:
    backend = make_backend(token=SecretStr(fake_jwt(CLOCK - 3600)),
                           refresh_token=SecretStr(FAKE_REFRESH_TOKEN))
    job = Client(backend).create_job(example("task_from_items"))
    refresh = calls(vcr)[0]
    assert (refresh.method, refresh.uri) == ("POST", "https://gate.dataloop.ai/token?default")  # not under /api/v1
    assert refresh.body == {"type": "refresh_token", "refresh_token": FAKE_REFRESH_TOKEN}
    assert refresh.response["id_token"] == FAKE_TOKEN
    assert len(all_of(vcr, "POST /token")) == 1  # the new JWT is used from then on
    assert job.id.startswith("task:")
    assert replayed_all(vcr)


@vcr
def test_revoked_token_is_an_authentication_error(backend, vcr, fake) -> None:
    if fake is not None:
        fake.fail("GET", r"/projects/my-project/name$", 401, {"status": 401, "message": "Unauthorized"})
    with pytest.raises(AuthenticationError, match="Unauthorized") as err:
        Client(backend).create_job(example("task_from_items"))
    assert err.value.status == 401 and err.value.request_id is not None
    assert replayed_all(vcr)


# ---- malformed or unexpected answers ----------------------------------------------------------------


@vcr
def test_command_without_created_task_id_is_malformed(backend, vcr, fake) -> None:
    if fake is not None:
        fake.fail("GET", r"/commands/", 200, lambda path: {
            "id": path.rsplit("/", 1)[-1], "url": f"https://gate.dataloop.ai{path}", "type": "CreateTask",
            "status": "success", "progress": 100, "createdAt": "2026-01-15T10:00:00.000Z", "spec": {},
            "error": None, "report": None}, after=1)
    with pytest.raises(MalformedResponseError, match=r"GET /commands/[0-9a-f]+: response has no 'spec.createdTaskId'"):
        Client(backend).create_job(example("task_from_items"))
    assert replayed_all(vcr)


@vcr
def test_page_without_items_is_malformed(backend, vcr, fake) -> None:
    job = Client(backend).create_job(example("task_from_items"))
    if fake is not None:
        fake.fail("POST", r"/datasets/[0-9a-f]+/query$", 200, {"totalItemsCount": 3, "hasNextPage": False})
    with pytest.raises(MalformedResponseError, match=r"/query: response has no 'items'"):
        job.answers()
    assert replayed_all(vcr)


@vcr
def test_html_instead_of_json_is_malformed(backend, vcr, fake) -> None:
    job = Client(backend).create_job(example("task_from_items"))
    if fake is not None:
        fake.fail("GET", r"/annotationtasks/[0-9a-f]+$", 200, b"<html>maintenance</html>")
    with pytest.raises(MalformedResponseError, match="expected a JSON body"):
        job.progress()
    assert replayed_all(vcr)


@vcr
def test_unknown_project_is_not_found(backend, vcr) -> None:
    spec = example("task_from_items", source={"kind": "dataset", "project": "nope", "dataset": "my-dataset",
                                              "item_ids": ["64f0c0ffee0000000000a001"]})
    with pytest.raises(NotFoundError, match="project 'nope' not found"):
        Client(backend).create_job(spec)
    assert replayed_all(vcr)


@vcr
def test_unknown_task_is_not_found(backend, vcr) -> None:
    with pytest.raises(NotFoundError, match="Task not found"):
        Client(backend).job("task:670000000000000000000fff").progress()
    assert replayed_all(vcr)


# ---- hygiene ------------------------------------------------------------------------------------


def test_no_secret_in_any_cassette() -> None:
    """The kit's scan (credential headers, cookies, token fields, token-shaped strings) finds nothing
    but the obviously fake tokens; no credential header, and the only JWT is the fake one."""
    from annotate_core.testing import scan_cassettes

    files = sorted(Path(CASSETTES).rglob("*.yaml"))
    assert files, "cassettes are missing: run tests/dataloop/generate_cassettes.py"
    assert [f.describe() for f in scan_cassettes(files, fakes=CASSETTE_FAKES)] == []
    jwt = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
    for path in files:
        text = path.read_text()
        assert "authorization" not in text.lower() and "bearer " not in text.lower(), path
        assert set(jwt.findall(text)) <= {FAKE_TOKEN}, path
        assert "refresh_token" not in text or FAKE_REFRESH_TOKEN in text, path
