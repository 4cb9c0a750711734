"""The local backend's columnar answers path gives exactly the frame the record path gives."""

from __future__ import annotations

import pandas as pd
import pytest
from annotate_local import answer_frames
from annotate_local.answer_frames import _epoch_us, iter_answer_frames
from annotate_local.backend import LocalBackend
from annotate_local.datasets import cats_vs_dogs, split_truth
from pandas.testing import assert_frame_equal

from annotate_core.answers import answers_frame, job_answers, settle_like_records
from annotate_core.client import Client
from annotate_core.specfile import load_spec

from .conftest import make_items, make_spec


def record_path(backend, job) -> pd.DataFrame:
    spec = job.spec
    return answers_frame(backend.iter_answers(job.id, spec), [f.name for f in spec.inputs])


def assert_identical(new: pd.DataFrame, old: pd.DataFrame) -> None:
    assert list(new.columns) == list(old.columns)
    assert list(new.dtypes) == list(old.dtypes)
    assert_frame_equal(new, old, check_exact=True)
    for c in new.columns:  # object cells: same values and same Python types (no numpy scalars)
        if new[c].dtype == object:
            assert [type(v) for v in new[c]] == [type(v) for v in old[c]], c


def two_field_spec():
    return make_spec(
        inputs=[{"name": "image", "type": "image"}, {"name": "note", "type": "text", "required": False}],
        outputs=[{"name": "result", "type": "label", "options": ["cat", "dog"]},
                 {"name": "tags", "type": "labels", "options": ["a", "b", "c"], "required": False},
                 {"name": "score", "type": "number", "required": False}],
    )


def test_frame_path_equals_record_path_on_a_simulated_job(client, backend, examples_dir):
    job = client.create_job(load_spec(examples_dir / "cats_vs_dogs.yaml"))
    rows, truth = split_truth(cats_vs_dogs(150, seed=2))
    job.add_items(rows, progress=False)
    backend.set_truth(job.id, truth)
    job.start()
    job.simulate(workers=30, seed=0, progress=False)
    old = record_path(backend, job)
    assert len(old) >= 450 and old["golden"].any() and old["golden_label"].notna().any()
    assert len(set(old["status"])) >= 2 and old["duration_s"].notna().any(), old["status"].value_counts()
    new = job_answers(backend, job.id, job.spec)
    assert_identical(new, old)
    assert_identical(job.answers(), old)


def test_pages_concatenate_to_the_same_frame_with_active_work_and_two_fields(client, backend, monkeypatch):
    pages_equal_records(client, backend, monkeypatch)


def test_pages_equal_records_on_postgres(pg_empty_url, clock, monkeypatch):
    backend = LocalBackend(url=pg_empty_url, clock=clock)
    try:
        pages_equal_records(Client(backend, profile="test"), backend, monkeypatch)
    finally:
        backend.close_backend()


def pages_equal_records(client, backend, monkeypatch):
    job = client.create_job(two_field_spec())
    job.add_items(make_items(9), progress=False)
    job.start()
    batch = backend.pull(job.id, "w1", limit=5)
    backend.submit(job.id, batch.assignment, [
        {"result": "cat", "tags": ["a", "c"], "score": 3}, {"result": "dog", "tags": ["b", "c"]},
        {"result": "cat", "score": 2}, {"result": "dog", "tags": []}, {"result": "dog", "score": 1}])
    backend.pull(job.id, "w2", limit=3)  # handed out, not submitted: status active, no timestamp
    old = record_path(backend, job)
    assert {"active", "submitted"} <= set(old["status"]) and set(old["field"]) == {"result", "tags", "score"}
    assert old["submitted_at"].isna().any() and old["submitted_at"].notna().any()
    pages = list(iter_answer_frames(backend.store, job.id, ["result", "tags", "score"], ["image", "note"], page=3))
    assert len(pages) > 1
    assert_identical(settle_like_records(pd.concat(pages, ignore_index=True)), old)
    assert_identical(job.answers(), old)  # one page
    monkeypatch.setattr(answer_frames, "PAGE", 2)
    assert_identical(job.answers(), old)  # pages joined column by column
    monkeypatch.setattr(answer_frames, "ITEM_CHUNK", 2)
    assert_identical(job.answers(), old)  # a page's items looked up a few ids at a time
    monkeypatch.setattr(backend, "iter_answers", lambda *a, **k: iter(()))
    assert len(job.answers()) == len(old)  # job.answers() reads the columnar path, not the records
    tags = job.answers().query("field == 'tags' and status == 'submitted'")["label"]
    assert tags.iloc[0] == ["a", "c"] and tags.iloc[0] is not tags.iloc[1]  # lists are per row


def test_a_page_reads_only_its_own_items(started, backend):
    """Items are looked up per page: a page on two items reads two, however many the job has."""
    from sqlalchemy import event

    job, _ = started(30)
    first = backend.pull(job.id, "w1", limit=2)
    backend.submit(job.id, first.assignment, ["cat", "dog"])
    looked_up: list[int] = []

    def count(conn, cursor, statement, params, context, executemany) -> None:
        if "FROM annotate_items" in statement:
            looked_up.append(len(params) if isinstance(params, (tuple, list)) else 0)

    event.listen(backend.store.engine, "before_cursor_execute", count)
    try:
        pages = list(iter_answer_frames(backend.store, job.id, ["result"], ["image"]))
    finally:
        event.remove(backend.store.engine, "before_cursor_execute", count)
    assert len(pages) == 1 and list(pages[0]["task"]) == [it.key for it in first.items]
    assert looked_up and max(looked_up) <= 3  # the job id and the page's two item ids


def test_answers_are_read_with_a_small_page_cache_then_the_usual_one(started, backend):
    from annotate_local.store import SQLITE_CACHE_KIB
    from sqlalchemy import event

    job, _ = started(5)
    batch = backend.pull(job.id, "w1", limit=2)
    backend.submit(job.id, batch.assignment, ["cat", "dog"])
    seen: list[str] = []

    def record(conn, cursor, statement, *rest) -> None:
        seen.append(statement)

    event.listen(backend.store.engine, "before_cursor_execute", record)
    try:
        assert len(next(iter_answer_frames(backend.store, job.id, ["result"], ["image"]))) == 2
    finally:
        event.remove(backend.store.engine, "before_cursor_execute", record)
    pragmas = [s for s in seen if s.startswith("PRAGMA cache_size")]
    assert pragmas == [f"PRAGMA cache_size=-{answer_frames.READ_CACHE_KIB}", f"PRAGMA cache_size={SQLITE_CACHE_KIB}"]
    first_read = min(i for i, s in enumerate(seen) if "annotate_answers" in s)
    assert seen.index(pragmas[0]) < first_read < seen.index(pragmas[1])
    with backend.store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == SQLITE_CACHE_KIB


def test_a_job_without_answers_gives_the_empty_frame(started, backend):
    job, _ = started(3)
    assert_identical(job.answers(), record_path(backend, job))


@pytest.mark.parametrize("ts", [1_800_000_000.0, 1_800_000_000.1234565, 1_700_000_000.9999996, 0.5, 1e9 + 1e-7])
def test_timestamps_round_like_datetime_fromtimestamp(ts):
    from datetime import datetime, timezone

    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    assert pd.Timestamp(_epoch_us(ts), unit="us", tz="UTC") == pd.Timestamp(dt)
