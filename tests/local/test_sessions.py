"""Work sessions: many operations of one job per transaction, each all-or-nothing, events after commit;
and the simulated crowd on them gives what one transaction per call gives."""

from __future__ import annotations

import sqlite3

import pytest
from annotate_local import LocalBackend, raw, sessions
from annotate_local import schema as t
from annotate_local.datasets import cats_vs_dogs, split_truth
from annotate_local.errors import NotAllowedError
from annotate_local.stress import check_consistency
from sqlalchemy import create_engine

from annotate_core.client import connect
from annotate_core.errors import JobStateError
from annotate_core.specfile import load_spec

from .conftest import fresh_schema, make_items, make_spec, postgres_server_url


def test_operations_in_a_session_commit_together_and_a_failing_one_alone_is_undone(backend, started) -> None:
    job, _ = started(6, distribution={"kind": "pulling", "batch_size": 2}, overlap={"count": 1})
    seen: list[str] = []
    backend.subscribe(lambda e: seen.append(e["type"]), types=["submitted"])
    with backend.work_session(job.id, max_ops=1000, max_seconds=60) as session:
        batch = backend.pull(job.id, "ann")
        assert batch is not None
        backend.submit(job.id, batch.assignment, ["cat", "dog"])
        with pytest.raises(JobStateError):  # a second submit of the same assignment: refused, undone
            backend.submit(job.id, batch.assignment, ["cat", "cat"])
        assert backend.progress(job.id).submitted_answers == 2  # reads in the session see its work
        assert seen == []  # nothing committed yet: no event delivered
        with backend.store.read() as conn:  # another connection does not see it yet
            assert conn.execute(t.answers.select().where(t.answers.c.status == "submitted")).all() == []
        assert session.commits == 0
    assert seen == ["submitted"]  # delivered once the session committed
    df = job.answers()
    assert sorted(df["label"]) == ["cat", "dog"]  # the refused second submit left nothing behind


def test_an_exception_leaving_the_session_rolls_back_what_was_not_committed(backend, started) -> None:
    job, _ = started(4, distribution={"kind": "pulling", "batch_size": 2}, overlap={"count": 1})
    with pytest.raises(RuntimeError, match="crash"), backend.work_session(job.id, max_ops=1000, max_seconds=60):
        assert backend.pull(job.id, "ann") is not None
        raise RuntimeError("crash")
    p = backend.progress(job.id)  # as if the process had died before the commit
    assert p.details["assignments"] == {} and check_consistency(backend, job.id) == []
    with backend.work_session(job.id, max_ops=1):  # every operation commits at once
        batch = backend.pull(job.id, "ann")
        assert batch is not None
        with backend.store.read() as conn:
            assert len(conn.execute(t.assignments.select()).all()) == 1


def test_a_refused_pull_in_a_session_keeps_the_operations_before_it(backend, started) -> None:
    job, _ = started(4, workforce={"assignees": [{"id": "ann"}]}, overlap={"count": 1},
                     distribution={"kind": "pulling", "batch_size": 2})
    with backend.work_session(job.id, max_ops=1000, max_seconds=60):
        assert backend.pull(job.id, "ann") is not None
        with pytest.raises(NotAllowedError):
            backend.pull(job.id, "bob")
        assert backend.pull(job.id, "ann") is not None
    assert backend.progress(job.id).details["assignments"] == {"active": 2}


def test_one_session_at_a_time_and_settings_are_checked(backend, started) -> None:
    job, _ = started(2)
    with backend.work_session(job.id), pytest.raises(RuntimeError, match="already open"), \
            backend.work_session(job.id):
        pass
    with pytest.raises(ValueError, match="max_ops"):
        sessions.WorkSession(backend.store, backend._specs, job.id, max_ops=0)


def _demo_run(url: str) -> tuple[dict, list]:
    client = connect(driver="local", url=url)
    job = client.create_job(load_spec(_examples() / "cats_vs_dogs.yaml"))
    rows, truth = split_truth(cats_vs_dogs(150, seed=3))
    job.add_items(rows, progress=False)
    client.backend.set_truth(job.id, truth)
    job.start()
    summary = dict(job.simulate(workers=15, seed=4, progress=False))
    summary.pop("job_id")
    df = job.answers()
    answers = sorted(zip(df["task"], df["worker"], df["label"].astype(str), df["status"], strict=True))
    assert check_consistency(client.backend, job.id) == []
    client.backend.close_backend()
    return summary, answers


def _examples():
    from pathlib import Path

    return Path(__file__).resolve().parents[2] / "examples"


def test_the_simulation_gives_the_same_run_with_a_commit_per_call_and_in_bulk(tmp_path, monkeypatch) -> None:
    """Chunked commits change nothing a run does: one commit per operation (what the simulator did
    before work sessions, a transaction per pull and submit) replays the same answers."""
    bulk = _demo_run(f"sqlite:///{tmp_path / 'bulk.db'}")
    monkeypatch.setattr(sessions, "MAX_OPS", 1)
    per_call = _demo_run(f"sqlite:///{tmp_path / 'per-call.db'}")
    assert bulk == per_call
    assert bulk[0]["completed"] and bulk[0]["usable_answers"] - bulk[0]["golden_answers"] == 135 * 3


def test_the_simulation_gives_the_same_run_on_postgresql(tmp_path) -> None:
    with fresh_schema(postgres_server_url()) as url:
        assert _demo_run(url) == _demo_run(f"sqlite:///{tmp_path / 'a.db'}")


def test_on_postgresql_the_cursor_path_gives_the_run_sqlalchemy_gives(monkeypatch) -> None:
    """psycopg's cursor (annotate_local.raw) and SQLAlchemy's execute, on the same server, replay the
    same seeded run: same summary, same answers."""
    with fresh_schema(postgres_server_url()) as url:
        fast = _demo_run(url)
    with monkeypatch.context() as m, fresh_schema(postgres_server_url()) as url:
        m.setattr(raw, "_driver", lambda dialect: None)  # every statement through conn.execute
        assert _demo_run(url) == fast


def test_reviewers_keep_up_with_a_big_crowd(client) -> None:
    from annotate_local.simulator import Simulation

    spec = make_spec(review={"fraction": 0.1})
    job = client.create_job(spec)
    assert len(Simulation(client.backend, job.id, spec, workers=30).reviewers) == 2  # the demo's crowd
    assert len(Simulation(client.backend, job.id, spec, workers=300).reviewers) == 18
    assert len(Simulation(client.backend, job.id, spec, workers=300, reviewers=3).reviewers) == 3


def test_set_truth_stores_known_keys_in_bulk(client) -> None:
    job = client.create_job(make_spec())
    job.add_items(make_items(12), progress=False)
    truth = {f"it-{i:04d}": "dog" for i in range(12)} | {"nope": "cat"}
    assert client.backend.set_truth(job.id, truth) == 12


def test_a_version_2_store_gets_the_version_3_indexes(tmp_path) -> None:
    path = tmp_path / "v2.db"
    LocalBackend(path=str(path)).open_store().dispose()
    with sqlite3.connect(path) as db:  # as annotate-local v2 left it
        db.execute("drop index ix_assignments_recent")
        db.execute("drop index ix_items_golden_use")
        db.execute("drop index ix_answers_worker")
        db.execute("create index ix_answers_worker on annotate_answers (job_id, worker, kind)")
        db.execute("update annotate_meta set value = '2' where key = 'schema_version'")
    LocalBackend(path=str(path)).open_store().dispose()
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        names = {r[0] for r in conn.exec_driver_sql("select name from sqlite_master where type = 'index'")}
        cols = [r[2] for r in conn.exec_driver_sql("pragma index_info(ix_answers_worker)")]
        version = conn.exec_driver_sql("select value from annotate_meta where key = 'schema_version'").scalar()
    engine.dispose()
    assert {"ix_assignments_recent", "ix_items_golden_use"} <= names
    assert cols == ["job_id", "worker", "kind", "submitted_at"] and version == str(t.SCHEMA_VERSION)


def test_on_postgresql_a_refused_operation_is_undone_alone_between_the_ones_kept(clock) -> None:
    """On PostgreSQL an operation's savepoint is released with the next one's start (one round trip):
    a refused operation between two kept ones still takes nothing else with it."""
    from annotate_core.client import Client

    with fresh_schema(postgres_server_url()) as url:
        backend = LocalBackend(url=url, clock=clock)
        job = Client(backend).create_job(make_spec(workforce={"assignees": [{"id": "ann"}]}, overlap={"count": 1},
                                                   distribution={"kind": "pulling", "batch_size": 2}))
        job.add_items(make_items(6), progress=False)
        job.start()
        with backend.work_session(job.id, max_ops=1000, max_seconds=60) as session:
            first = backend.pull(job.id, "ann")
            assert first is not None
            backend.submit(job.id, first.assignment, ["cat", "dog"])
            with pytest.raises(JobStateError):  # submitted already: refused, undone alone
                backend.submit(job.id, first.assignment, ["dog", "dog"])
            with pytest.raises(NotAllowedError):
                backend.pull(job.id, "bob")
            assert backend.pull(job.id, "ann") is not None
            assert session.commits == 0
        p = backend.progress(job.id)
        assert p.details["assignments"] == {"active": 1, "submitted": 1}
        assert sorted(job.answers()["label"].dropna()) == ["cat", "dog"]
        assert check_consistency(backend, job.id) == []
        backend.close_backend()
