"""Fixtures of the web UI's tests: a local store with a small job, the app, and signed-in clients."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from annotate_local import LocalBackend
from annotate_local.clock import ManualClock
from annotate_local.serve import EXTRA_HINT, missing_dependencies

from annotate_core.items import Item
from annotate_core.job import Job
from annotate_core.model.spec import JobSpec

if missing_dependencies():  # CI installs the extra (README install line): there, a missing one fails
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        raise RuntimeError(f"CI: the serve extra is not installed ({missing_dependencies()}): {EXTRA_HINT}")
    pytest.skip(f"the serve extra is not installed: {EXTRA_HINT}", allow_module_level=True)

from starlette.testclient import TestClient

BASE: dict[str, Any] = {
    "name": "pets",
    "instructions": "Is it a <b>cat</b> or a dog?<script>alert('spec')</script>",
    "inputs": [{"name": "image", "type": "image"}, {"name": "caption", "type": "text", "required": False}],
    "outputs": [{"name": "result", "type": "label", "options": [{"value": "cat", "label": "Cat"},
                                                                 {"value": "dog", "label": "Dog"}]}],
    "distribution": {"kind": "pulling", "batch_size": 2},
    "overlap": {"count": 2},
}



def make_spec(**overrides: Any) -> JobSpec:
    return JobSpec.model_validate({**BASE, **overrides})


def make_items(n: int, prefix: str = "it") -> list[Item]:
    return [Item(key=f"{prefix}-{i:03d}", inputs={"image": f"https://images.example.org/{prefix}/{i:03d}.jpg",
                                                   "caption": f"photo {i}"}) for i in range(n)]


def open_job(backend: LocalBackend, spec: JobSpec, items: list[Item]) -> Job:
    job = Job(backend, backend.create_job(spec), spec)
    job.add_items(items, progress=False)
    job.start()
    return job


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend(tmp_path: Path, clock: ManualClock) -> Iterator[LocalBackend]:
    b = LocalBackend(path=str(tmp_path / "annotate.db"), clock=clock)
    b.open_store()
    yield b
    b.close_backend()


def make_client(app: Any) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1", follow_redirects=True)


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def post(client: TestClient, page: str, action: str, data: dict[str, Any] | None = None) -> Any:
    """GET ``page`` for its CSRF token, then POST ``action`` with it, as a browser would."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf": token, **(data or {})})


def sign_in(client: TestClient, name: str) -> None:
    r = post(client, "/", "/signin", {"name": name})
    assert r.status_code == 200 and f'id="me">{name}<' in r.text, r.text[:2000]
