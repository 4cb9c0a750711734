"""The work API (pull / submit / skip) is part of the Backend contract: typed, refused with a hint when
the backend lacks ``pull_api``, and an author's missing implementation named when it declares it."""

from __future__ import annotations

import pytest
from annotate_memory import MemoryBackend

from annotate_core import Backend, Capability, Client, PulledWork, UnsupportedFeatureError

from .conftest import make_spec


class _DeclaresPullOnly(MemoryBackend):
    name = "memory-declares-pull"
    capabilities = MemoryBackend.capabilities | {Capability.PULL_API}


class _Pulls(MemoryBackend):
    """A backend implementing the work API over the memory plugin: one item per batch."""

    name = "memory-pulls"
    capabilities = MemoryBackend.capabilities | {Capability.PULL_API}

    def pull(self, job_id: str, assignee: str, *, role: str = "work", limit: int | None = None):
        answered = {a["item_key"] for a in self._job(job_id)["answers"]}
        for key in self._job(job_id)["items"]:
            if key not in answered:
                return _Batch(f"{job_id}:{key}:{assignee}", (_Key(key),))
        return None

    def submit(self, job_id: str, assignment: str, answers):
        _, key, worker = assignment.split(":")
        return self.record_answer(job_id, key, worker, answers[0])


class _Key:
    def __init__(self, key: str) -> None:
        self.key = key


class _Batch:
    def __init__(self, assignment: str, items: tuple[_Key, ...]) -> None:
        self.assignment, self.items = assignment, items


@pytest.mark.parametrize("call", [
    lambda b: b.pull("mem-1", "ann"),
    lambda b: b.submit("mem-1", "a-1", ["cat"]),
    lambda b: b.skip("mem-1", "a-1"),
])
def test_a_backend_without_pull_api_refuses_with_its_hint(call) -> None:
    backend = MemoryBackend()
    with pytest.raises(UnsupportedFeatureError) as err:
        call(backend)
    (gap,) = err.value.unsupported
    assert gap.capability is Capability.PULL_API and gap.hint and err.value.backend == "memory"


def test_the_hint_is_the_backends_own_when_it_has_one() -> None:
    class Hinted(MemoryBackend):
        hints = {Capability.PULL_API: "annotators work in Acme's own UI"}

    with pytest.raises(UnsupportedFeatureError, match="annotators work in Acme's own UI"):
        Hinted().pull("mem-1", "ann")
    assert "Acme" in Hinted().refusal(Capability.PULL_API, "pull/submit").unsupported[0].hint


def test_declaring_pull_api_without_implementing_it_names_the_method() -> None:
    with pytest.raises(NotImplementedError, match="declares pull_api but does not implement submit"):
        _DeclaresPullOnly().submit("mem-1", "a-1", ["cat"])


def test_job_pull_and_submit_go_through_the_base_contract() -> None:
    client = Client(_Pulls())
    job = client.create_job(make_spec())
    job.add_items([{"key": "k1", "image": "https://x/1.jpg"}], progress=False)
    job.start()
    batch = job.pull("ann")
    assert isinstance(batch, PulledWork) and not isinstance(object(), PulledWork)
    assert [i.key for i in batch.items] == ["k1"]
    job.submit(batch.assignment, ["dog"])
    assert job.pull("ann") is None
    assert list(job.answers()["label"]) == ["dog"]


def test_base_class_declares_the_work_api() -> None:
    for name in ("pull", "submit", "skip"):
        assert getattr(Backend, name).__doc__, name
        assert getattr(Backend, name).__annotations__["return"], name
