"""Fixtures of the local backend's tests: a fresh SQLite store per test, a manual clock, small specs."""

from __future__ import annotations

from typing import Any

import pytest
from annotate_local import LocalBackend

from annotate_core.client import Client
from annotate_core.items import Item
from annotate_core.model.spec import JobSpec

BASE: dict[str, Any] = {
    "name": "pets",
    "inputs": [{"name": "image", "type": "image"}],
    "outputs": [{"name": "result", "type": "label", "options": ["cat", "dog"]}],
}


class ManualClock:
    """A clock tests move by hand: time-based rules and expiry without sleeping."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


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
