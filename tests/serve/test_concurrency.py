"""Several people at once over real HTTP: one thread per annotator against the app served by uvicorn,
on SQLite and on PostgreSQL. The store's guarantees hold through the web UI: every item gets exactly
its overlap, from different people, and the job completes."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from annotate_local import LocalBackend
from annotate_local.serve.app import create_app
from local.conftest import fresh_schema, postgres_server_url

from . import browser
from .conftest import make_items, make_spec, open_job

ASSIGNMENT = re.compile(r'data-assignment="([0-9a-f]+)"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalBackend]:
    if request.param == "sqlite":
        b = LocalBackend(path=str(tmp_path / "annotate.db"))
        b.open_store()
        yield b
        b.close_backend()
        return
    with fresh_schema(postgres_server_url()) as url:
        b = LocalBackend(url=url)
        b.open_store()
        yield b
        b.close_backend()


def annotate_until_done(base_url: str, job_id: str, name: str, log: list[Any]) -> None:
    """One person: sign in, then take and answer batches until the job has nothing more for them."""
    import httpx2

    with httpx2.Client(base_url=base_url, follow_redirects=True, timeout=60) as client:
        token = CSRF.search(client.get("/").text).group(1)  # type: ignore[union-attr]
        client.post("/signin", data={"csrf": token, "name": name})
        page = client.post(f"/jobs/{job_id}/pull", data={"csrf": token}).text
        while (found := ASSIGNMENT.search(page)) is not None:
            n = page.count('type="radio" name="a') // 2
            data = {"csrf": token, **{f"a{i}.result": "cat" if i % 2 == 0 else "dog" for i in range(n)}}
            page = client.post(f"/jobs/{job_id}/submit/{found.group(1)}", data=data).text
            assert "submitted" in page, page[-3000:]
            log.append((name, found.group(1), n))


def test_annotators_in_parallel_complete_a_job_with_exact_overlap(store_backend: LocalBackend) -> None:
    job = open_job(store_backend, make_spec(overlap={"count": 3}), make_items(12))
    names = ["ann", "bob", "cho", "dee"]
    log: list[Any] = []
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            annotate_until_done(url, job.id, name, log)
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    with browser.live_server(create_app(store_backend)) as url:
        threads = [threading.Thread(target=run, args=(n,)) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    assert not errors, errors
    assert job.state().value == "completed"
    answers = job.answers()
    assert len(answers) == 12 * 3 == sum(n for _, _, n in log)
    per_item = answers.groupby("task")["worker"].agg(["count", "nunique"])
    assert (per_item["count"] == 3).all() and (per_item["nunique"] == 3).all()
    assert len({a for _, a, _ in log}) == len(log)  # no batch was submitted twice
    assert set(answers["worker"]) <= set(names) and len(set(answers["worker"])) >= 3
