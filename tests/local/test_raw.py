"""The cursor path (annotate_local.raw) reads and writes exactly what SQLAlchemy's execute does, on
SQLite's driver and on psycopg (PostgreSQL, when ANNOTATE_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import pytest
from annotate_local import LocalBackend, raw
from annotate_local import schema as t
from annotate_local import statements as S
from sqlalchemy import bindparam

from .conftest import fresh_schema, postgres_server_url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path, clock):
    """Each test on a SQLite file and on a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        b = LocalBackend(path=str(tmp_path / "annotate.db"), clock=clock)
        yield b
        b.close_backend()
        return
    with fresh_schema(postgres_server_url()) as url:
        b = LocalBackend(url=url, clock=clock)
        yield b
        b.close_backend()


def test_rows_match_sqlalchemy_with_json_expanding_and_literals(started, backend):
    job, _ = started(30, golden=2)
    batch = job.pull("ann-1")
    assert batch is not None
    with backend.store.read() as conn:
        params = {"aid": batch.assignment}
        mine = raw.rows(conn, S.ASSIGNMENT_ROWS, params)
        theirs = conn.execute(S.ASSIGNMENT_ROWS, params).all()
        assert [tuple(r) for r in mine] == [tuple(r) for r in theirs]
        assert mine[0].a_kind == "work" and mine[0].worker == "ann-1"
        ids = [r.item_id for r in mine]
        find = t.items.select().where(t.items.c.id.in_(bindparam("ids", expanding=True)))
        assert [tuple(r) for r in raw.rows(conn, find, {"ids": ids[:3]})] == [
            tuple(r) for r in conn.execute(find, {"ids": ids[:3]}).all()]
        # literals bound by the statement itself (free > 0, LIMIT/OFFSET) and a RETURNING
        cand = raw.rows(conn, S.CANDIDATES, {"job": job.id, "worker": "ann-2", "n": 2})
        assert [tuple(r) for r in cand] == [tuple(r) for r in conn.execute(
            S.CANDIDATES, {"job": job.id, "worker": "ann-2", "n": 2}).all()]
        assert len(cand) == 2 and isinstance(cand[0].inputs, dict)  # JSON decoded as SQLAlchemy does
        assert raw.scalar(conn, S.ANY_ACTIVE_WORK, {"job": job.id}) == batch.assignment


def test_run_and_insert_id_write_what_execute_would(started, backend):
    job, _ = started(3)
    with backend.store.connect() as conn, conn.begin():
        seq = raw.insert_id(conn, t.events.insert(), {"job_id": job.id, "type": "submitted", "worker": "w",
                                                       "assignment": None, "data": {"answers": 3}, "at": 1.0})
        row = conn.execute(t.events.select().where(t.events.c.seq == seq)).one()
        assert row.data == {"answers": 3} and row.worker == "w"
        none = raw.insert_id(conn, t.events.insert(), {"job_id": job.id, "type": "submitted", "worker": None,
                                                        "assignment": None, "data": None, "at": 2.0})
        assert none == seq + 1
        before = {r.id: (r.open, r.free) for r in conn.execute(t.items.select().where(t.items.c.job_id == job.id))}
        assert raw.run(conn, S.TAKE_QUEUED, {"ids": list(before)}) == 3
        after = {r.id: (r.open, r.free) for r in conn.execute(t.items.select().where(t.items.c.job_id == job.id))}
        assert after == {i: (o + 1, f - 1) for i, (o, f) in before.items()}
        conn.rollback()


def test_an_empty_in_list_is_left_to_sqlalchemy(started, backend):
    job, _ = started(3)
    with backend.store.read() as conn:
        assert raw.fast(conn)
        keep = t.items.select().where(t.items.c.id.not_in(bindparam("ids", expanding=True)))
        assert len(raw.rows(conn, keep, {"ids": []})) == 3  # NOT IN () keeps every row, as SQL means
        assert raw.rows(conn, S.CANDIDATES, {"job": job.id, "worker": "w", "n": 0}) == []


def test_driver_errors_come_as_sqlalchemy_errors_the_retries_know(started, backend):
    """A unique-key race on the cursor path is SQLAlchemy's IntegrityError, as on conn.execute: the
    store's and the work sessions' retries look for it (and for PostgreSQL's deadlock code)."""
    from annotate_local.store import retryable
    from sqlalchemy.exc import IntegrityError

    job, _ = started(2)
    row = {"job_id": job.id, "worker": "w", "n_assignments": 0}
    with backend.store.connect() as conn, conn.begin():
        raw.run(conn, t.job_workers.insert(), row)
        with pytest.raises(IntegrityError) as caught:
            raw.run(conn, t.job_workers.insert(), row)
        assert retryable(caught.value)
        assert type(caught.value.orig).__module__.split(".")[0] in ("sqlite3", "psycopg")
        conn.rollback()
