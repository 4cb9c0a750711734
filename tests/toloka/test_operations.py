"""Toloka operations over HTTP, replayed from cassettes: create, upload, lifecycle, progress, answers, review."""

from __future__ import annotations

import pytest
from annotate_toloka import TolokaBackend
from annotate_toloka.backend import in_review_sample

from annotate_core.backend import JobState
from annotate_core.client import Client
from annotate_core.comparison.collect import reported_cost
from annotate_core.errors import JobStateError
from annotate_core.items import Item

from . import expected as e

pytestmark = pytest.mark.vcr
#: these act on a pool in a state only the generated cassettes have (uploaded, answered, ...)
synthetic = pytest.mark.synthetic

POOL = "36502086"


def cats_items(n: int, prefix: str = "cat") -> list[Item]:
    return [Item(key=f"{prefix}-{i}",
                 inputs={"image": f"https://tlk.s3.yandex.net/dataset/cats_vs_dogs/{'cat' if i % 2 == 0 else 'dog'}s/"
                                  f"{prefix}{i}.jpg"})
            for i in range(n)]


def test_create_job_and_read_its_spec_back(backend: TolokaBackend, vcr) -> None:
    job = Client(backend).create_job(e.CATS)
    assert job.id.isdigit()  # the pool id (36502086 in the cassette)
    assert backend.get_spec(job.id) == e.CATS
    assert vcr.all_played


@synthetic
def test_add_items_in_chunks_with_operation_ids(make_backend, sleeps: list[float], vcr) -> None:
    backend = make_backend(upload_chunk_size=3, poll_interval=0.5)
    job = Client(backend).job(POOL, spec=e.CATS)
    items = cats_items(5)
    seen: list[int] = []
    report = job.add_items(items, progress=False)
    assert (report.created, report.existing, report.errors) == (5, 0, [])
    assert sorted(report.keys) == sorted(i.key for i in items)
    again = backend.add_items(POOL, e.CATS, items, on_progress=seen.append)
    assert (again.created, again.existing) == (0, 5)  # nothing is uploaded twice
    assert seen == [3, 2]
    assert sleeps == [0.5, 0.5, 0.5]  # one poll of the first operation, two of the second
    assert vcr.all_played


@synthetic
def test_open_close_archive(backend: TolokaBackend, sleeps: list[float], vcr) -> None:
    backend.start(POOL)
    backend.start(POOL)  # 204: already open, nothing to wait for
    backend.close(POOL)
    backend.close(POOL)  # 204 again
    backend.archive(POOL)
    assert len(sleeps) == 5  # open twice polled, close once, archive pool once, archive project once
    assert vcr.all_played


@synthetic
def test_start_refuses_golden_mixing_without_golden_items(backend: TolokaBackend, vcr) -> None:
    """golden_per_batch: 1 with no golden item uploaded: Toloka would open the pool and hand out
    nothing, so start() refuses with the counts and sends no open (the cassette has none)."""
    job = Client(backend).job(POOL, spec=e.CATS)
    with pytest.raises(JobStateError, match=r"pool 36502086 was not opened: it mixes 1 golden item\(s\) into every "
                       r"task suite \(distribution.golden_per_batch: 1\) but 0 golden item\(s\) are uploaded.*"
                       r"Add at least 1 more item\(s\) with golden answers"):
        job.start()
    assert vcr.all_played  # every page of tasks was read before refusing


@synthetic
def test_accept_unsampled_accepts_what_the_review_sample_leaves_out(backend: TolokaBackend, vcr) -> None:
    """review.fraction 0.1 honoured from the requester's side: the sample comes back for job.review,
    every other submitted assignment is accepted (one PATCH each, the cassette has exactly those).
    Called as every backend's neutral ``job.review_sample()``."""
    from annotate_core.client import Client

    sample = Client(backend).job(POOL).review_sample()
    assert sample == [f"00022c1a86--6650{n:020x}" for n in (12, 15)]
    assert vcr.all_played


def test_review_sample_is_stable_and_near_its_fraction() -> None:
    ids = [f"a{n}" for n in range(20_000)]
    drawn = [a for a in ids if in_review_sample(POOL, a, 0.1)]
    assert 0.09 < len(drawn) / len(ids) < 0.11
    assert drawn == [a for a in ids if in_review_sample(POOL, a, 0.1)]  # the same draw every time
    assert set(drawn) <= {a for a in ids if in_review_sample(POOL, a, 0.5)}  # a larger share keeps it
    assert all(in_review_sample(POOL, a, 1) for a in ids[:100])


def test_accept_unsampled_refuses_a_share_out_of_range(backend: TolokaBackend) -> None:
    with pytest.raises(ValueError, match=r"fraction: expected a share in \(0, 1\], got 1.5"):
        backend.accept_unsampled(POOL, 1.5)


@synthetic
def test_progress_from_pool_analytics(backend: TolokaBackend) -> None:
    p = backend.progress(POOL)
    assert p.state is JobState.OPEN
    assert p.percent == 74 and p.fraction == pytest.approx(0.74)
    assert (p.total_items, p.completed_items) == (202, 149)
    assert p.details["submitted_assignments"] == 45  # Toloka's bare-number result shape
    assert reported_cost(p.details) == (0.54, "USD")  # spent_budget: what a comparison reports as the cost


@synthetic
def test_answers_every_status_across_pages(make_backend, vcr) -> None:
    job = Client(make_backend(page_size=3)).job(POOL, spec=e.CATS)
    df = job.answers()
    assert vcr.all_played  # three pages, the last with has_more false
    assert len(df) == 14 and df["assignment"].nunique() == 7
    assert df.groupby("assignment")["status"].first().value_counts().to_dict() == {
        "submitted": 2, "accepted": 1, "rejected": 1, "skipped": 1, "expired": 1, "active": 1}
    answered = df[df["status"].isin(["submitted", "accepted", "rejected"])]
    assert set(answered["label"]) == {"cat", "dog"}
    assert df[~df["status"].isin(["submitted", "accepted", "rejected"])]["label"].isna().all()
    rejected = df[df["status"] == "rejected"].iloc[0]
    assert rejected["review_comment"] == "Wrong label on a control image."
    assert df["task"].str.startswith("s").all() and (df["task"] == df["item_key"]).all()
    assert df["input:image"].str.startswith("https://").all()
    assert str(df["submitted_at"].dtype) == "datetime64[ns, UTC]"


@synthetic
def test_review_accept_and_reject(backend: TolokaBackend, vcr) -> None:
    job = Client(backend).job(POOL, spec=e.CATS)
    job.review("00022c1a86--665000000000000000000001", accept=True, comment="Well done!")
    job.review("00022c1a86--665000000000000000000002", accept=False, comment="Wrong label on a control image.")
    assert vcr.all_played


@synthetic
def test_jobs_are_the_pools_annotate_made(make_backend, vcr) -> None:
    backend = make_backend(page_size=2)
    rows = Client(backend).jobs()  # Backend.list_jobs, as `annotate jobs --profile <toloka>` prints it
    assert vcr.all_played  # OPEN over two pages (id_gt), then CLOSED and LOCKED; never ARCHIVED
    # the two pools without our stored spec (no metadata; someone else's metadata key) are left out
    assert rows == [
        {"id": "36501990", "name": "Cat or Dog? (first run)", "state": "completed",
         "created_at": "2026-01-10T08:00:00+00:00", "items": None},
        {"id": POOL, "name": "Cat or Dog?", "state": "open",
         "created_at": "2026-01-12T09:30:00.120000+00:00", "items": None},
        {"id": "36502110", "name": "Cat or Dog? (draft)", "state": "draft",
         "created_at": "2026-01-15T12:00:01.123000+00:00", "items": None},
    ]


@synthetic
def test_answers_of_a_pool_made_elsewhere(backend: TolokaBackend, vcr) -> None:
    job = Client(backend).job(POOL)  # no spec given, none stored on the pool
    df = job.answers()
    assert list(df["field"]) == ["result", "result"]  # the project's output_spec names the fields
    assert list(df["task"]) == ["00022c1a86--664400000000000000000000", "00022c1a86--664400000000000000000001"]
    assert list(df["label"]) == ["cat", "dog"] and (df["status"] == "accepted").all()
    assert vcr.all_played
