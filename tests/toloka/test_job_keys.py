"""Job keys on Toloka, replayed from cassettes: a keyed create stores the key on what it makes and a
rerun attaches; a lost reply is looked up instead of sent again; an interrupted create resumes from
the objects it made. The generated conversations show every request: a duplicate create would be an
unmatched request."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from annotate_toloka import TolokaBackend

from annotate_core.client import Client

from . import expected as e

pytestmark = [pytest.mark.vcr, pytest.mark.synthetic]

POOL = "36502086"
KEY = "cats-vs-dogs-2026-01"


def test_keyed_create_then_attach(make_backend, vcr) -> None:
    first = Client(make_backend(page_size=2)).create_job(e.CATS, key=KEY)
    assert (first.id, first.created, first.key) == (POOL, True, KEY)
    again = Client(make_backend(page_size=2)).create_job(e.CATS, key=KEY)  # a rerun: a new process
    assert (again.id, again.created) == (POOL, False)
    assert vcr.all_played  # every page of the project listing read; one project and one pool created


def test_lost_pool_reply_is_looked_up_then_rerun_attaches(backend: TolokaBackend, make_backend, vcr,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    send = requests.adapters.HTTPAdapter.send
    posted: list[str] = []

    def lose_the_pool_reply(self: Any, request: requests.PreparedRequest, **kw: Any) -> requests.Response:
        response = send(self, request, **kw)  # Toloka created the pool and answered 201...
        if request.method == "POST":
            posted.append((request.path_url or "").split("?")[0])
            if posted[-1] == "/api/v1/pools":
                raise requests.exceptions.ConnectionError("Connection aborted: RemoteDisconnected")  # ...lost
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", lose_the_pool_reply)
    job = Client(backend).create_job(e.CATS, key=KEY)
    assert (job.id, job.created) == (POOL, True)
    rerun = Client(make_backend()).create_job(e.CATS, key=KEY)
    assert (rerun.id, rerun.created) == (POOL, False)
    assert posted == ["/api/v1/projects", "/api/v1/pools"], "one project and one pool, each sent once"
    assert vcr.all_played


def test_resume_when_the_project_exists_but_the_pool_does_not(backend: TolokaBackend, vcr) -> None:
    job = Client(backend).create_job(e.CATS, key=KEY)
    assert (job.id, job.created) == (POOL, True)
    assert vcr.all_played  # no second project: the cassette holds no POST /v1/projects


def test_resume_after_the_training_pool_and_its_tasks(backend: TolokaBackend, vcr) -> None:
    job = Client(backend).create_job(e.MEDIUM, key="medium-1")
    assert (job.id, job.created) == (POOL, True)
    assert vcr.all_played  # no project, training pool or training task sent again


def test_resume_subscribes_the_webhooks_a_stopped_run_left_out(backend: TolokaBackend, vcr) -> None:
    job = Client(backend).create_job(e.MEDIUM, key="medium-1")
    assert job.id == POOL  # nothing created: the cassette holds no POST
    again = Client(backend).create_job(e.MEDIUM, key="medium-1")
    assert (again.id, again.created) == (POOL, False)
    assert vcr.all_played
