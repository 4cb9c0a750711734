"""The Job handle over a third-party backend: uploads, lifecycle, waiting, answers, review."""

from __future__ import annotations

import pytest

from annotate_core import Item, ItemsRejectedError, JobState, UnsupportedFeatureError, WaitTimeoutError, connect

from .conftest import make_spec


@pytest.fixture
def job():
    client = connect(driver="memory")
    return client.create_job(make_spec(overlap={"count": 2}))


def items(n: int, start: int = 0) -> list[Item]:
    return [Item(key=f"k{i}", inputs={"image": f"https://x.io/{i}.jpg"}) for i in range(start, start + n)]


def test_rerunning_an_upload_adds_nothing_twice(job) -> None:
    first = job.add_items(items(5), progress=False)
    assert (first.created, first.existing) == (5, 0)
    again = job.add_items(items(7), progress=False)  # 5 old + 2 new, as after a crash halfway
    assert (again.created, again.existing) == (2, 5)
    assert job.progress().total_items == 7


def test_rejected_items_are_reported_and_good_ones_kept(job) -> None:
    rows = [{"key": "a", "image": "https://x.io/a.jpg"}, {"key": "b", "image": "nope"},
            {"key": "c", "image": "https://x.io/c.jpg", "golden:result": "cow"}]
    with pytest.raises(ItemsRejectedError) as err:
        job.add_items(rows, progress=False)
    report = err.value.report
    assert report.created == 1 and [e.key for e in report.errors] == ["b", "c"]
    assert "item 'b' (#1): inputs.image: expected an http(s) URL" in str(err.value)
    assert job.progress().total_items == 1  # what was valid is stored
    report = job.add_items(rows, on_error="report", progress=False)
    assert report.existing == 1 and len(report.errors) == 2


def test_wait_polls_until_finished(job) -> None:
    job.add_items(items(2), progress=False)
    job.start()
    backend = job.backend
    polls: list[float] = []

    def answer_some(seconds: float) -> None:
        polls.append(seconds)
        n = len(polls)
        backend.record_answer(job.id, f"k{(n - 1) % 2}", f"w{n}", "cat")

    final = job.wait(poll_interval=5, progress=False, sleep=answer_some)
    assert final.state is JobState.COMPLETED and final.completed_items == 2
    assert polls == [5, 5, 5, 5]


def test_wait_times_out(job) -> None:
    job.add_items(items(1), progress=False)
    job.start()
    with pytest.raises(WaitTimeoutError, match="not finished after 0s") as info:
        job.wait(timeout=0, progress=False, sleep=lambda s: None)
    assert isinstance(info.value, TimeoutError) and info.value.progress is not None
    assert info.value.progress.state is JobState.OPEN  # a backend that cannot tell idleness keeps waiting


def test_answers_and_review(job) -> None:
    job.add_items(items(1), progress=False)
    job.start()
    a1 = job.backend.record_answer(job.id, "k0", "w1", "cat")
    job.backend.record_answer(job.id, "k0", "w2", "dog")
    with pytest.raises(ValueError, match="needs a comment"):
        job.review(a1, accept=False)
    job.review(a1, accept=False, comment="it is a dog")
    df = job.answers()
    assert df[["worker", "label", "status"]].values.tolist() == [["w1", "cat", "rejected"], ["w2", "dog", "submitted"]]
    assert df["input:image"].tolist() == ["https://x.io/0.jpg"] * 2


def test_extras_are_refused_by_capability(job) -> None:
    with pytest.raises(UnsupportedFeatureError, match="simulated workforce"):
        job.simulate(workers=3)
    with pytest.raises(UnsupportedFeatureError, match="pull/submit"):
        job.pull("alice")


def test_reattaching_by_id_uses_the_stored_spec(job) -> None:
    again = connect(driver="memory").job(job.id)
    with pytest.raises(Exception, match="not found"):
        again.progress()  # a new client has a new in-memory store
    same = type(job)(job.backend, job.id, None)
    assert same.spec.name == "cats"


def test_skip_needs_the_pull_api(job) -> None:
    with pytest.raises(UnsupportedFeatureError, match="pull/submit"):
        job.skip("a1")
