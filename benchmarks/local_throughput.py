"""Pull + submit throughput of the local backend, against a raw-SQL floor measured in the same run.

    python benchmarks/local_throughput.py [N_ITEMS]

* SQLite, one process: annotators pull batches of 10 and submit them until every item has its 3
  answers (target: at least 2,000 answers/s); then the same with the demo's features switched on
  (golden mixing, captchas, quality rules, 10% review).
* floor: the same essential writes with the bare DB-API driver and hand-written SQL (take 10 free
  items, insert the assignment and its 10 answer rows, update the counters; then store the answers
  and update the counters again), two transactions per batch like the backend.
* PostgreSQL with 4 concurrent client processes, when ANNOTATE_TEST_POSTGRES_URL is set (see
  .ci/postgres.sh): the backend against the floor run by 4 processes too.

Ratios are floor time / backend time per answer: 1.0 would be "as fast as hand-written SQL".
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from annotate_local import LocalBackend
from annotate_local.stress import check_consistency, run_processes
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from annotate_core.client import Client
from annotate_core.items import Item
from annotate_core.model.spec import JobSpec

TARGET = 2000.0  # answers per second, SQLite, one process
BATCH = 10
OVERLAP = 3
CLIENTS = 4

BASE = {
    "name": "throughput",
    "inputs": [{"name": "image", "type": "image"}],
    "outputs": [{"name": "result", "type": "label", "options": ["cat", "dog"]}],
    "overlap": {"count": OVERLAP},
    "distribution": {"kind": "pulling", "batch_size": BATCH},
}
DEMO_FEATURES = {
    "distribution": {"kind": "pulling", "batch_size": BATCH, "golden_per_batch": 1},
    "quality": {"captcha_frequency": "medium", "rules": [
        {"when": [{"metric": "captcha_fail_rate", "window": 5, "above": 20}], "then": {"action": "ban"}},
        {"when": [{"metric": "fast_submits", "window": 5, "faster_than_seconds": 0.0001, "at_least": 5}],
         "then": {"action": "ban"}}]},
    "review": {"fraction": 0.1, "on_reject": "requeue"},
    "limits": {"assignment_max_seconds": 300},
    "pricing": {"reward_per_batch": 0.005},
}


def make_job(url: str, n_items: int, **overrides: Any) -> tuple[LocalBackend, str]:
    backend = LocalBackend(url=url)
    spec = JobSpec.model_validate({**BASE, **overrides, "name": f"throughput-{uuid.uuid4().hex[:6]}"})
    job = Client(backend).create_job(spec)
    golden = n_items // 10 if "golden_per_batch" in str(overrides) else 0
    items = [Item(key=f"k{i}", inputs={"image": f"https://example.com/{i}.jpg"},
                  golden={"result": "cat"} if i < golden else None) for i in range(n_items + golden)]
    job.add_items(items, progress=False)
    job.start()
    return backend, job.id


def drive(backend: LocalBackend, job_id: str, workers: int = 30) -> tuple[int, float]:
    """Pull and submit until the job is complete; (answers submitted, seconds)."""
    names = [f"w{i}" for i in range(workers)]
    answers = 0
    start = time.perf_counter()
    while True:
        moved = False
        for w in names:
            batch = backend.pull(job_id, w)
            if batch is None:
                continue
            backend.submit(job_id, batch.assignment, ["cat"] * len(batch), captcha=batch.captcha)
            answers += len(batch)
            moved = True
        if not moved:
            return answers, time.perf_counter() - start


# ---- the floor: the same writes with the bare driver ---------------------------------------------

FLOOR_SCHEMA = [
    "CREATE TABLE f_items (id INTEGER PRIMARY KEY, free INTEGER NOT NULL, open INTEGER NOT NULL, "
    "done INTEGER NOT NULL)",
    "CREATE INDEX f_queue ON f_items (id) WHERE free > 0",
    "CREATE TABLE f_assignments (id TEXT PRIMARY KEY, worker TEXT NOT NULL, status TEXT NOT NULL)",
    "CREATE TABLE f_answers (id {serial} PRIMARY KEY, assignment_id TEXT NOT NULL, item_id INTEGER NOT NULL, "
    "worker TEXT NOT NULL, value TEXT, status TEXT NOT NULL)",
    "CREATE INDEX f_answers_assignment ON f_answers (assignment_id)",
]


def floor_setup(conn: Any, n_items: int, serial: str) -> None:
    cur = conn.cursor()
    for stmt in FLOOR_SCHEMA:
        cur.execute(stmt.format(serial=serial))
    conn.commit()


def floor_fill(conn: Any, n_items: int, ph: str) -> None:
    cur = conn.cursor()
    cur.executemany(f"INSERT INTO f_items (id, free, open, done) VALUES ({ph}, {ph}, 0, 0)",
                    [(i, OVERLAP) for i in range(n_items)])
    conn.commit()


def floor_run(conn: Any, ph: str, begin: str, lock: str, tag: str) -> tuple[int, float]:
    """Batches of 10 through two transactions each until no item is free; (answers, seconds)."""
    cur = conn.cursor()
    answers = n = 0
    start = time.perf_counter()
    while True:
        if begin:
            cur.execute(begin)
        cur.execute(f"SELECT id FROM f_items WHERE free > 0 ORDER BY id LIMIT {BATCH}{lock}")
        ids = [r[0] for r in cur.fetchall()]
        if not ids:
            conn.commit()
            return answers, time.perf_counter() - start
        n += 1
        aid = f"{tag}-{n}"
        cur.execute(f"INSERT INTO f_assignments (id, worker, status) VALUES ({ph}, {ph}, 'active')", (aid, tag))
        cur.executemany(f"INSERT INTO f_answers (assignment_id, item_id, worker, status) "
                        f"VALUES ({ph}, {ph}, {ph}, 'active')", [(aid, i, tag) for i in ids])
        marks = ",".join([ph] * len(ids))
        cur.execute(f"UPDATE f_items SET open = open + 1, free = free - 1 WHERE id IN ({marks})", ids)
        conn.commit()
        if begin:
            cur.execute(begin)
        cur.execute(f"SELECT id, item_id FROM f_answers WHERE assignment_id = {ph}", (aid,))
        rows = cur.fetchall()
        cur.executemany(f"UPDATE f_answers SET value = {ph}, status = 'submitted' WHERE id = {ph}",
                        [('{"result": "cat"}', r[0]) for r in rows])
        cur.execute(f"UPDATE f_items SET open = open - 1, done = done + 1 WHERE id IN ({marks})", ids)
        cur.execute(f"UPDATE f_assignments SET status = 'submitted' WHERE id = {ph}", (aid,))
        conn.commit()
        answers += len(ids)


def sqlite_floor(path: Path, n_items: int) -> tuple[int, float]:
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("BEGIN")
    floor_setup(conn, n_items, "INTEGER")
    conn.execute("BEGIN")
    floor_fill(conn, n_items, "?")
    try:
        return floor_run(conn, "?", "BEGIN IMMEDIATE", "", "p0")
    finally:
        conn.close()


def _pg_dsn(url: str) -> str:
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_floor_client(dsn: str, schema: str, tag: str, barrier: Any, queue: Any) -> None:
    import psycopg

    with psycopg.connect(dsn, options=f"-csearch_path={schema}") as conn:
        barrier.wait(timeout=120)
        queue.put(floor_run(conn, "%s", "", " FOR UPDATE SKIP LOCKED", tag))


def pg_floor(url: str, n_items: int) -> tuple[int, float]:
    import psycopg

    dsn = _pg_dsn(url)
    schema = f"bench_floor_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'SET search_path TO "{schema}"')
        floor_setup(conn, n_items, "BIGSERIAL")
        floor_fill(conn, n_items, "%s")
    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(CLIENTS), ctx.Queue()
    procs = [ctx.Process(target=_pg_floor_client, args=(dsn, schema, f"p{i}", barrier, queue)) for i in range(CLIENTS)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    with psycopg.connect(dsn) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return sum(r[0] for r in results), max(r[1] for r in results)


@contextmanager
def scoped_schema(url: str, prefix: str) -> Iterator[str]:
    """``url`` pointed at a fresh schema of its own (dropped afterwards), so runs never see each other."""
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def pg_backend(url: str, n_items: int) -> tuple[int, float, list[str]]:
    with scoped_schema(url, "bench") as scoped:
        backend, job_id = make_job(scoped, n_items)
        reports = run_processes(scoped, job_id, CLIENTS, 8, skip_rate=0.0)
        problems = check_consistency(backend, job_id)
        backend.close_backend()
        return sum(r["answers"] for r in reports), max(r["seconds"] for r in reports), problems


def line(label: str, answers: int, seconds: float) -> float:
    rate = answers / seconds if seconds else float("inf")
    print(f"  {label:<44} {answers:>7} answers in {seconds:6.2f} s = {rate:8.0f} answers/s")
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n_items", nargs="?", type=int, default=3000, help="items per run (default 3000)")
    n_items = parser.parse_args().n_items
    print(f"local backend throughput: {n_items} items x overlap {OVERLAP}, batches of {BATCH}")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite, one process")
        floor = line("floor (sqlite3, hand-written SQL)", *sqlite_floor(Path(tmp) / "floor.db", n_items))
        backend, job_id = make_job(f"sqlite:///{tmp}/plain.db", n_items)
        plain = line("annotate-local, pull + submit", *drive(backend, job_id))
        backend.close_backend()
        backend, job_id = make_job(f"sqlite:///{tmp}/demo.db", n_items, **DEMO_FEATURES)
        full = line("annotate-local, demo features on", *drive(backend, job_id))
        backend.close_backend()
        print(f"  ratio floor/backend: {floor / plain:.2f}x plain, {floor / full:.2f}x with demo features")
        verdict = "ok" if plain >= TARGET else "BELOW TARGET"
        print(f"  target >= {TARGET:.0f} answers/s: {plain:.0f} ({verdict})")
        ok = plain >= TARGET
    url = os.environ.get("ANNOTATE_TEST_POSTGRES_URL")
    if url:
        print(f"PostgreSQL, {CLIENTS} concurrent client processes")
        pg_floor_rate = line(f"floor (psycopg, {CLIENTS} processes, SKIP LOCKED)", *pg_floor(url, n_items))
        answers, seconds, problems = pg_backend(url, n_items)
        pg_rate = line(f"annotate-local, {CLIENTS} processes x 8 annotators", answers, seconds)
        print(f"  ratio floor/backend: {pg_floor_rate / pg_rate:.2f}x; consistency problems: {len(problems)}")
        ok = ok and not problems
    else:
        print("PostgreSQL: skipped (set ANNOTATE_TEST_POSTGRES_URL, e.g. `. .ci/postgres.sh`)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
