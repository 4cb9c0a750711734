"""Several processes pulling and submitting at once, on SQLite and on a real PostgreSQL server.

The PostgreSQL tests read ANNOTATE_TEST_POSTGRES_URL (``.ci/postgres.sh`` starts a server and sets
it). Without it they skip locally, and fail in CI (``CI=true``), where the server must be there.
"""

from __future__ import annotations

import uuid

import pytest
from annotate_local import LocalBackend, stress
from annotate_local.stress import check_consistency

from annotate_core.backend import JobState
from annotate_core.client import Client

from .conftest import make_items, make_spec

PROCESSES = 4
WORKERS_PER_PROCESS = 4
N_ITEMS, N_GOLDEN = 300, 20


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'concurrent.db'}"


def run_processes(url: str, job_id: str) -> list[dict]:
    # a short pause between batches (an annotator's work) lets every process take turns at the lock
    return stress.run_processes(url, job_id, PROCESSES, WORKERS_PER_PROCESS, skip_rate=0.1, pause=0.003)


def concurrent_job(url: str, **spec_overrides):
    backend = LocalBackend(url=url)
    client = Client(backend)
    spec = make_spec(name=f"concurrency-{uuid.uuid4().hex[:6]}", **spec_overrides)
    job = client.create_job(spec)
    job.add_items(make_items(N_ITEMS + N_GOLDEN, golden=N_GOLDEN), progress=False)
    job.start()
    return backend, job


def check_outcome(backend, job, reports):
    assert check_consistency(backend, job.id) == []
    p = job.progress()
    assert p.state is JobState.COMPLETED, p
    df = job.answers()
    counted = df[df["status"].isin(["submitted", "accepted"])]
    # every answer a process says it submitted is stored once, and nothing else is
    assert len(df[df["status"] == "submitted"]) == sum(r["answers"] for r in reports)
    per_item = counted[~counted["golden"]].groupby("task")["worker"]
    assert (per_item.size() == 3).all() and (per_item.nunique() == 3).all()
    assert per_item.ngroups == N_ITEMS
    assert sum(r["skips"] for r in reports) > 0  # skipped batches went back to the queue and were redone
    assert [e["type"] for e in job.events()].count("completed") == 1
    # the processes really worked side by side (SQLite's lock is not fair: one may get few turns)
    assert sum(r["batches"] > 0 for r in reports) >= 2, reports


SPEC = {"overlap": {"count": 3}, "distribution": {"kind": "pulling", "batch_size": 5, "golden_per_batch": 1}}


def test_concurrent_pulls_and_submits_on_sqlite(sqlite_url):
    backend, job = concurrent_job(sqlite_url, **SPEC)
    reports = run_processes(sqlite_url, job.id)
    check_outcome(backend, job, reports)
    backend.close_backend()


@pytest.mark.postgres
def test_concurrent_pulls_and_submits_on_postgres(pg_url):
    backend, job = concurrent_job(pg_url, **SPEC)
    assert backend.store.is_postgres
    reports = run_processes(pg_url, job.id)
    check_outcome(backend, job, reports)
    backend.close_backend()


@pytest.mark.postgres
def test_postgres_runs_the_demo_job_like_sqlite(pg_url, examples_dir):
    from annotate_local.datasets import cats_vs_dogs, split_truth

    from annotate_core.specfile import load_spec

    client = Client(LocalBackend(url=pg_url))
    job = client.create_job(load_spec(examples_dir / "cats_vs_dogs.yaml"))
    rows, truth = split_truth(cats_vs_dogs(60, seed=0))
    job.add_items(rows, progress=False)
    client.backend.set_truth(job.id, truth)
    job.start()
    summary = job.simulate(workers=15, seed=3, progress=False)
    assert summary["completed"] and summary["bans"] > 0
    assert check_consistency(client.backend, job.id) == []
    assert len(job.results(method="ds")) >= 54
    client.close()


@pytest.mark.postgres
def test_postgres_url_without_driver_name_uses_psycopg(pg_url):
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    backend = LocalBackend(url=plain)
    assert backend.url.startswith("postgresql+psycopg://")
    assert backend.list_jobs() is not None
    backend.close_backend()


@pytest.mark.postgres
def test_processes_creating_one_job_key_on_postgres_end_with_one_job(pg_url):
    from .test_job_keys import race_for_one_key

    ids = race_for_one_key(pg_url)
    assert len(ids) == 1
    backend = LocalBackend(url=pg_url)
    with backend.store.read() as conn:  # the schema is shared by this module's tests: count this key's jobs
        keyed = conn.exec_driver_sql("select id from annotate_jobs where job_key = 'race'").scalars().all()
    assert keyed == list(ids)
    backend.close_backend()


def test_scale_out_checks_hold_with_two_processes_on_postgres(pg_url):
    # what benchmarks/pg_scaleout.py checks at each process count, on a small job
    backend, job = concurrent_job(pg_url, overlap={"count": 3}, distribution={"kind": "pulling", "batch_size": 10})
    reports = stress.run_processes(pg_url, job.id, 2, 4, skip_rate=0.0)
    # golden items without golden mixing are answered like any other item
    assert sum(r["answers"] for r in reports) == (N_ITEMS + N_GOLDEN) * 3
    assert check_consistency(backend, job.id) == []
    assert stress.check_complete(backend, job.id, reports) == []
    backend.close_backend()


def test_work_sessions_in_two_processes_beside_a_plain_one_on_postgres_lose_nothing(pg_url):
    """The simulated crowd's way of working (work sessions: many operations per transaction, each in
    a savepoint, on psycopg's cursor) in two processes at once, beside a process committing every call:
    overlap never exceeded, no answer lost or doubled (row locks held across operations make the
    others skip those items or wait; deadlocks and key races are retried per operation)."""
    backend, job = concurrent_job(pg_url, overlap={"count": 3}, distribution={"kind": "pulling", "batch_size": 5})
    reports = stress.run_processes(pg_url, job.id, 3, 3, skip_rate=0.1, session_ops=[20, 20, None])
    assert sum(r["answers"] for r in reports) == (N_ITEMS + N_GOLDEN) * 3
    assert sum(r["skips"] for r in reports) > 0 and all(r["batches"] > 0 for r in reports)  # all three worked
    assert check_consistency(backend, job.id) == []
    assert stress.check_complete(backend, job.id, reports) == []
    backend.close_backend()


def test_check_complete_names_missing_and_unreported_answers(tmp_path):
    backend, job = concurrent_job(f"sqlite:///{tmp_path / 'c.db'}", overlap={"count": 2},
                                  distribution={"kind": "pulling", "batch_size": 10})
    batch = backend.pull(job.id, "w0")
    assert batch is not None
    backend.submit(job.id, batch.assignment, ["cat"] * len(batch))
    problems = stress.check_complete(backend, job.id, [{"answers": len(batch) + 1}])
    assert sum(p.endswith("0 counted answers, overlap is 2") for p in problems) == N_ITEMS + N_GOLDEN - 10
    assert sum(p.endswith("1 counted answers, overlap is 2") for p in problems) == 10
    assert f"10 counted answers stored, {(N_ITEMS + N_GOLDEN) * 2} expected (items x overlap)" in problems
    assert "the processes submitted 11 answers, the store counts 10" in problems
    backend.close_backend()


@pytest.mark.postgres
def test_a_pull_waits_for_an_item_another_transaction_holds_instead_of_saying_no_work(pg_url):
    """SKIP LOCKED passes over rows held by a concurrent submit or pull. An item with a free slot left
    must still go to the next person: a false "no work for you" ends a browser session (and a crowd
    worker's loop) while the job is short of their answers. Without the waiting retry this pull
    returns None at once."""
    import threading

    from annotate_local import schema as t
    from sqlalchemy import create_engine, update

    backend, job = concurrent_job(pg_url, overlap={"count": 2})
    other = create_engine(backend.store.engine.url)
    try:
        with other.connect() as conn:  # another transaction holds every item row, like a submit in flight
            conn.execute(update(t.items).where(t.items.c.job_id == job.id).values(done=t.items.c.done))
            got: list = []
            puller = threading.Thread(target=lambda: got.append(backend.pull(job.id, "ann", limit=3)))
            puller.start()
            puller.join(timeout=1.0)
            assert puller.is_alive() and not got  # waiting on the held rows, not answering "no work"
            conn.commit()
        puller.join(timeout=30)
        assert got and got[0] is not None and len(got[0].items) == 3
    finally:
        other.dispose()
        backend.close_backend()
