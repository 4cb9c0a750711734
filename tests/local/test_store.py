"""The store: schema and its version, jobs and specs, idempotent items, progress and answers."""

from __future__ import annotations

import pytest
from annotate_local import LocalBackend
from annotate_local import schema as t
from sqlalchemy import select

from annotate_core.backend import JobState
from annotate_core.client import connect
from annotate_core.errors import ConfigError, JobStateError, NotFoundError

from .conftest import make_items, make_spec


def test_schema_is_created_once_with_its_version(tmp_path):
    path = tmp_path / "s.db"
    b = LocalBackend(path=str(path))
    with b.open_store().read() as conn:
        version = conn.execute(select(t.meta.c.value).where(t.meta.c.key == "schema_version")).scalar_one()
    assert int(version) == t.SCHEMA_VERSION
    b.close_backend()
    again = LocalBackend(path=str(path))  # reopening an existing store neither fails nor resets it
    assert again.list_jobs() == []
    again.close_backend()


def test_a_newer_store_is_refused(tmp_path):
    b = LocalBackend(path=str(tmp_path / "s.db"))
    b.open_store().write(lambda c: c.execute(t.meta.update().values(value=str(t.SCHEMA_VERSION + 1))))
    b.close_backend()
    with pytest.raises(ConfigError, match="newer"):
        LocalBackend(path=str(tmp_path / "s.db")).store  # noqa: B018


def test_default_store_is_annotate_db_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    client = connect(driver="local")
    client.create_job(make_spec())
    assert (tmp_path / "annotate.db").is_file()
    client.close()


def test_url_and_path_options(tmp_path):
    url = f"sqlite:///{tmp_path / 'u.db'}"
    with connect(driver="local", url=url) as client:
        job = client.create_job(make_spec())
    assert (tmp_path / "u.db").is_file()
    with connect(driver="local", path=str(tmp_path / "u.db")) as client:
        assert client.job(job.id).spec.name == "pets"
    with pytest.raises(ConfigError, match="url` or `path"):
        LocalBackend(url=url, path="x.db")
    with pytest.raises(ConfigError, match="unknown option"):
        LocalBackend(pth="x.db")


def test_spec_is_stored_with_the_job(client, examples_dir):
    from annotate_core.specfile import load_spec

    spec = load_spec(examples_dir / "cats_vs_dogs.yaml")
    job = client.create_job(spec)
    again = client.job(job.id).spec  # a fresh handle reads the spec from the store
    assert again == spec
    assert client.backend.list_jobs()[0]["id"] == job.id


def test_unknown_job_is_not_found(client):
    with pytest.raises(NotFoundError):
        client.job("nope").progress()


def test_items_are_idempotent_by_key(client):
    job = client.create_job(make_spec())
    items = make_items(8)
    first = job.add_items(items[:5], progress=False)
    again = job.add_items(items, progress=False)
    assert (first.created, first.existing) == (5, 0)
    assert (again.created, again.existing) == (3, 5)
    assert job.progress().total_items == 8


def test_items_cannot_be_added_to_a_closed_job(client):
    job = client.create_job(make_spec())
    job.start()
    job.close()
    with pytest.raises(JobStateError, match="closed"):
        job.add_items(make_items(2), progress=False)


def test_lifecycle_states(started):
    job, _ = started(4)
    assert job.progress().state is JobState.OPEN
    job.pause()
    assert job.progress().state is JobState.PAUSED
    assert job.pull("w1") is None  # paused: no work handed out
    job.resume()
    assert job.pull("w1") is not None
    job.close()
    p = job.progress()
    assert p.state is JobState.CLOSED
    assert p.details["assignments"] == {"expired": 1}  # the open batch ended with the job
    with pytest.raises(JobStateError):
        job.start()


def test_pull_before_start_is_an_error(client):
    job = client.create_job(make_spec())
    job.add_items(make_items(2), progress=False)
    with pytest.raises(JobStateError, match="started"):
        job.pull("w1")


def test_pull_submit_answers_and_progress(started):
    job, items = started(4, overlap={"count": 2}, distribution={"kind": "pulling", "batch_size": 3})
    b = job.pull("alice")
    assert b.keys == ["it-0000", "it-0001", "it-0002"] and b.kind == "work"
    assert b.interface["components"][0] == {"kind": "image", "field": "image", "ratio": None, "full_height": False}
    res = job.submit(b.assignment, {k: "cat" for k in b.keys})
    assert res.status == "submitted" and res.answers == 3
    p = job.progress()
    assert (p.total_items, p.completed_items, p.submitted_answers, p.expected_answers) == (4, 0, 3, 8)
    df = job.answers()
    assert len(df) == 3 and set(df["status"]) == {"submitted"} and set(df["worker"]) == {"alice"}
    assert df["submitted_at"].notna().all()
    assert df.loc[0, "input:image"] == items[0].inputs["image"]


def test_job_completes_when_every_item_has_its_answers(started):
    job, _items = started(3, overlap={"count": 2})
    for w in ("a", "b"):
        b = job.pull(w)
        job.submit(b.assignment, ["dog"] * len(b))
    assert job.pull("c") is None
    p = job.progress()
    assert p.state is JobState.COMPLETED and p.completed_items == 3 and p.fraction == 1.0
    events = [e["type"] for e in job.events()]
    assert events.count("completed") == 1
    job.add_items(make_items(1, prefix="more"), progress=False)  # new work reopens a finished job
    assert job.progress().state is JobState.OPEN


def test_active_answers_are_listed_without_labels(started):
    job, _ = started(2)
    job.pull("a")
    df = job.answers()
    assert set(df["status"]) == {"active"} and df["label"].isna().all()


def test_repr_masks_the_password_of_a_database_url() -> None:
    from annotate_local import LocalBackend

    shown = repr(LocalBackend(url="postgresql+psycopg://annotate:hunter2-secret@db.internal:5432/annotate"))
    assert "hunter2-secret" not in shown
    assert "postgresql+psycopg://annotate:***@db.internal:5432/annotate" in shown
