"""Fixtures of the local backend's tests: a fresh SQLite store per test, a manual clock, small specs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from annotate_local import LocalBackend
from annotate_local.clock import ManualClock
from sqlalchemy import create_engine, text

from annotate_core.client import Client
from annotate_core.items import Item
from annotate_core.model.spec import JobSpec

BASE: dict[str, Any] = {
    "name": "pets",
    "inputs": [{"name": "image", "type": "image"}],
    "outputs": [{"name": "result", "type": "label", "options": ["cat", "dog"]}],
}



def make_spec(**overrides: Any) -> JobSpec:
    return JobSpec.model_validate({**BASE, **overrides})


def make_items(n: int, *, golden: int = 0, prefix: str = "it") -> list[Item]:
    """``n`` items; the last ``golden`` of them carry a known answer (cat for even, dog for odd)."""
    return [
        Item(key=f"{prefix}-{i:04d}", inputs={"image": f"https://example.com/{prefix}/{i:04d}.jpg"},
             golden={"result": "cat" if i % 2 == 0 else "dog"} if i >= n - golden else None)
        for i in range(n)
    ]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend(tmp_path, clock) -> LocalBackend:
    b = LocalBackend(path=str(tmp_path / "annotate.db"), clock=clock)
    yield b
    b.close_backend()


@pytest.fixture
def client(backend) -> Client:
    return Client(backend, profile="test")


@pytest.fixture
def started(client):
    """``started(n_items, golden=0, **spec_overrides)`` -> (job, items): a job with items, open."""

    def make(n: int = 10, *, golden: int = 0, **overrides: Any):
        job = client.create_job(make_spec(**overrides))
        items = make_items(n, golden=golden)
        job.add_items(items, progress=False)
        job.start()
        return job, items

    return make


# ---- PostgreSQL -----------------------------------------------------------------------------------
# The PostgreSQL tests read ANNOTATE_TEST_POSTGRES_URL (``.ci/postgres.sh`` starts a server and sets
# it). Without it they skip locally, and fail in CI (``CI=true``), where the server must be there.


def postgres_server_url() -> str:
    url = os.environ.get("ANNOTATE_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("ANNOTATE_TEST_POSTGRES_URL is not set in CI: .ci/postgres.sh must start PostgreSQL")
        pytest.skip("ANNOTATE_TEST_POSTGRES_URL is not set (run `. .ci/postgres.sh` to start a local server)")
    return url


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A URL whose search path is a new, empty schema, dropped afterwards: runs never see each other's data."""
    schema = f"annotate_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A fresh schema on the test server for a whole module."""
    with fresh_schema(postgres_server_url()) as url:
        yield url


@pytest.fixture
def pg_empty_url() -> Iterator[str]:
    """A fresh, empty schema on the test server for one test."""
    with fresh_schema(postgres_server_url()) as url:
        yield url
