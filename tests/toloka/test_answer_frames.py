"""The frame path (``iter_answer_frames``, what ``job.answers()`` uses) reads Toloka's assignment pages
into the very frame the record path (``iter_answers`` + ``answers_frame``) builds, a frame per page.

The pages come from the stateful fake (keyset paging, documented limits) on loopback, holding
assignments in every status, suites of several tasks, golden tasks, comments and Toloka's odd
fraction widths, so every column is exercised across page boundaries.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from annotate_toloka import TolokaBackend
from pandas.testing import assert_frame_equal
from pydantic import SecretStr

from annotate_core.answers import answers_frame, job_answers
from annotate_core.errors import MalformedResponseError
from annotate_core.testing.faults import FaultyServer

from . import expected as e
from .fake_toloka import OWNER, FakeToloka

POOL = "36502086"
STATUSES = ["SUBMITTED", "ACCEPTED", "REJECTED", "SKIPPED", "EXPIRED", "ACTIVE", "APPROVED"]


def fill(fake: FakeToloka, n_assignments: int, *, suite: int = 3) -> None:
    project = "120001"
    fake.projects[project] = {"id": project, "status": "ACTIVE", "owner": OWNER, "task_spec": {
        "input_spec": {"image": {"type": "url"}, "_key": {"type": "string"}},
        "output_spec": {"result": {"type": "string"}}}}
    fake.pools[POOL] = {"id": POOL, "project_id": project, "status": "OPEN", "owner": OWNER}
    for n in range(n_assignments):
        status = STATUSES[n % len(STATUSES)]
        tasks = []
        for i in range(suite):
            item = (n * suite + i) % 11  # items come back in several assignments, across pages
            task: dict[str, Any] = {"id": f"00022c1a86--6644{item:020x}", "input_values": {
                "image": f"https://example.org/cats/{item}.jpg", "_key": f"item-{item}"}}
            if item % 5 == 0:
                task["known_solutions"] = [{"output_values": {"result": "cat"}, "correctness_weight": 1}]
            tasks.append(task)
        a: dict[str, Any] = {
            "id": f"00022c1a86--6650{n:020x}", "pool_id": POOL, "user_id": f"worker-{n % 4}", "status": status,
            "tasks": tasks, "created": f"2026-01-15T12:{n % 60:02d}:00.1" + "5" * (n % 4),
            "owner": OWNER}
        if status in ("SUBMITTED", "ACCEPTED", "REJECTED", "APPROVED"):
            a["solutions"] = [{"output_values": {"result": "dog" if (n + i) % 3 else "cat"}} for i in range(suite)]
            a["submitted"] = f"2026-01-15T12:{n % 60:02d}:41.25"
        if status == "REJECTED":
            a["public_comment"] = "Wrong label on a control image."
        fake.assignments[a["id"]] = a


@pytest.fixture
def served() -> Iterator[tuple[FakeToloka, TolokaBackend]]:
    fake = FakeToloka()
    server = FaultyServer(fake.handle)
    server.start()
    backend = TolokaBackend(token=SecretStr(fake.token), base_url=server.url, sleep=lambda s: None,
                            poll_interval=0.0, page_size=4)
    yield fake, backend
    backend.close_backend()
    server.stop()


def both(backend: TolokaBackend, spec: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    names = [f.name for f in spec.inputs] if spec else []
    return job_answers(backend, POOL, spec), answers_frame(backend.iter_answers(POOL, spec), names)


def test_frames_equal_the_records_frame_page_by_page(served: tuple[FakeToloka, TolokaBackend]) -> None:
    fake, backend = served
    fill(fake, 23)
    pages = list(backend.iter_answer_frames(POOL, e.CATS))
    assert [len(p) for p in pages] == [12, 12, 12, 12, 12, 9]  # 4 assignments of 3 tasks a page
    frames, records = both(backend, e.CATS)
    assert_frame_equal(frames, records, check_exact=True)
    assert len(frames) == 69 and set(frames["status"]) == {
        "submitted", "accepted", "rejected", "skipped", "expired", "active"}
    assert frames["golden"].sum() == records["golden"].sum() > 0
    assert str(frames["submitted_at"].dtype) == "datetime64[ns, UTC]" and frames["duration_s"].dtype == "float64"
    # a repeated string is one object: a worker's id or an item's key costs a pointer per answer
    workers = frames.loc[frames["worker"] == "worker-1", "worker"]
    assert len({id(w) for w in workers}) == 1 < len(workers)


def test_frames_equal_the_records_frame_without_a_spec(served: tuple[FakeToloka, TolokaBackend]) -> None:
    fake, backend = served
    fill(fake, 5, suite=2)
    frames, records = both(backend, None)  # fields from the project's output_spec, no input columns
    assert_frame_equal(frames, records, check_exact=True)
    assert list(frames["field"].unique()) == ["result"]


def test_a_pool_without_assignments_is_the_empty_frame(served: tuple[FakeToloka, TolokaBackend]) -> None:
    fake, backend = served
    fill(fake, 0)
    frames, records = both(backend, e.CATS)
    assert frames.empty
    assert_frame_equal(frames, records)


def test_a_malformed_assignment_is_the_same_error_on_both_paths(served: tuple[FakeToloka, TolokaBackend]) -> None:
    fake, backend = served
    fill(fake, 6)
    broken = fake.assignments[sorted(fake.assignments)[5]]
    broken["status"] = "LOST"
    for read in (lambda: job_answers(backend, POOL, e.CATS), lambda: list(backend.iter_answers(POOL, e.CATS))):
        with pytest.raises(MalformedResponseError, match="unknown status 'LOST'"):
            read()
