"""Job keys on the local backend: create-or-attach, conflicts, races, old stores, and runs that resume."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3

import pytest
from annotate_local import LocalBackend
from annotate_local import schema as t
from sqlalchemy import create_engine

from annotate_core.capabilities import Capability
from annotate_core.client import Client, connect
from annotate_core.errors import UnsupportedFeatureError
from annotate_core.jobkeys import JobKeyConflictError, JobKeyError

from .conftest import make_items, make_spec


def test_same_key_same_spec_attaches_to_the_job(client: Client) -> None:
    first = client.create_job(make_spec(), key="nightly-2026-12-01")
    assert first.created and first.key == "nightly-2026-12-01"
    first.add_items(make_items(5))
    again = client.create_job(make_spec(), key="nightly-2026-12-01")
    assert again.id == first.id
    assert not again.created
    report = again.add_items(make_items(7))
    assert (report.created, report.existing) == (2, 5)
    assert [j["id"] for j in client.jobs()] == [first.id]


def test_same_key_other_spec_is_a_conflict_naming_what_differs(client: Client) -> None:
    job = client.create_job(make_spec(), key="k1")
    other = make_spec(outputs=[{"name": "result", "type": "label", "options": ["cat", "dog", "bird"]}])
    with pytest.raises(JobKeyConflictError) as err:
        client.create_job(other, key="k1")
    assert err.value.job_id == job.id
    assert "outputs" in err.value.differences
    assert "k1" in str(err.value) and job.id in str(err.value)
    assert len(client.jobs()) == 1


def test_without_key_every_call_makes_a_job(client: Client) -> None:
    a, b = client.create_job(make_spec()), client.create_job(make_spec())
    assert a.id != b.id and a.key is None and a.created


@pytest.mark.parametrize("key", ["", " x", "a b", "x" * 121, "-leading", "ключ", "a/b"])
def test_malformed_keys_are_refused_before_anything_is_stored(client: Client, key: str, tmp_path) -> None:
    with pytest.raises(JobKeyError, match="job key"):
        client.create_job(make_spec(), key=key)
    assert not (tmp_path / "annotate.db").exists()  # not even the store was made


def test_a_backend_without_job_keys_refuses_a_key_before_any_call() -> None:
    client = connect(driver="memory")
    assert Capability.JOB_KEYS not in client.backend.capabilities
    with pytest.raises(UnsupportedFeatureError, match="job keys"):
        client.create_job(make_spec(), key="k")


def _create(url: str, key: str, out: mp.Queue) -> None:
    b = LocalBackend(url=url)
    try:
        out.put(Client(b).create_job(make_spec(), key=key).id)
    finally:
        b.close_backend()


def race_for_one_key(url: str, processes: int = 4) -> set[str]:
    """Job ids that ``processes`` processes got from creating the same key at once."""
    b = LocalBackend(url=url)
    b.open_store()  # schema first, so the race is on the key, not the tables
    b.close_backend()
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    procs = [ctx.Process(target=_create, args=(url, "race", out)) for _ in range(processes)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    return {out.get(timeout=5) for _ in procs}


def test_two_processes_creating_one_key_end_with_one_job(tmp_path) -> None:
    path = tmp_path / "race.db"
    assert len(race_for_one_key(f"sqlite:///{path}")) == 1
    with sqlite3.connect(path) as db:
        assert db.execute("select count(*) from annotate_jobs").fetchone()[0] == 1


def test_a_version_1_store_gains_the_key_column_and_keeps_its_jobs(tmp_path) -> None:
    path = tmp_path / "old.db"
    b = LocalBackend(path=str(path))
    old_id = Client(b).create_job(make_spec()).id
    b.close_backend()
    with sqlite3.connect(path) as db:  # make it look like a store written by annotate-local v1
        db.execute("drop index ux_jobs_key")
        db.execute("alter table annotate_jobs drop column job_key")
        db.execute("update annotate_meta set value = '1' where key = 'schema_version'")
    b = LocalBackend(path=str(path))
    client = Client(b)
    assert [j["id"] for j in client.jobs()] == [old_id]
    keyed = client.create_job(make_spec(), key="after-upgrade")
    assert client.create_job(make_spec(), key="after-upgrade").id == keyed.id
    b.close_backend()
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        version = conn.exec_driver_sql("select value from annotate_meta where key='schema_version'").scalar()
        assert version == str(t.SCHEMA_VERSION)
    engine.dispose()


def test_a_resumed_simulation_takes_back_work_held_by_a_crowd_that_died(backend: LocalBackend, client) -> None:
    spec = make_spec(overlap={"count": 2})
    job = client.create_job(spec, key="sim")
    job.add_items(make_items(12))
    job.start()
    # a simulated crowd took work and then its process died: its assignments stay active
    held = [backend.pull(job.id, f"sim7-{i:03d}") for i in range(3)]
    assert all(b is not None for b in held)
    summary = client.create_job(spec, key="sim").simulate(workers=6, seed=7, progress=False)
    assert summary["reclaimed"] == 3
    p = job.progress()
    assert p.state.value == "completed"
    answers = job.answers()
    done = answers[answers["status"].isin(["submitted", "accepted"])]
    assert done.groupby("task").size().max() <= 2  # overlap never exceeded
    assert set(done["task"]) == {f"it-{i:04d}" for i in range(12)}
    assert (answers["status"] == "expired").sum() >= 3
