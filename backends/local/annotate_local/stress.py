"""Many annotators at once, from several processes: used by the concurrency tests and the benchmark.

``hammer`` is what one process does: its annotators pull and submit (and now and then skip) until
the job is complete. Several processes run it against the same store at the same time; afterwards
``check_consistency`` verifies from the database alone that no answer was lost or double-counted.
"""

from __future__ import annotations

import random
import time
from contextlib import nullcontext
from typing import Any

from sqlalchemy import func, select

from annotate_local import schema as t
from annotate_local.backend import LocalBackend


def hammer(url: str, job_id: str, workers: list[str], *, seed: int = 0, skip_rate: float = 0.05,
           timeout: float = 120.0, barrier: Any = None, pause: float = 0.0,
           session_ops: int | None = None) -> dict[str, Any]:
    """Pull and submit for ``workers`` until the job completes; returns what this process did.

    ``barrier`` (a multiprocessing barrier) makes every process start pulling at the same moment;
    ``pause`` seconds between batches stand for the annotator's work (and let other processes in);
    ``session_ops`` runs them in a work session committed every that many operations, as the
    simulated crowd does (committed at once when a round finds no work).
    """
    backend = LocalBackend(url=url)
    try:
        with backend.work_session(job_id, max_ops=session_ops) if session_ops else nullcontext() as session:
            return _hammer(backend, job_id, workers, seed=seed, skip_rate=skip_rate, timeout=timeout,
                           barrier=barrier, pause=pause, session=session)
    finally:
        backend.close_backend()


def _hammer(backend: LocalBackend, job_id: str, workers: list[str], *, seed: int, skip_rate: float,
            timeout: float, barrier: Any, pause: float, session: Any) -> dict[str, Any]:
    rng = random.Random(seed)
    out: dict[str, float] = {"answers": 0, "batches": 0, "skips": 0, "empty_pulls": 0}
    deadline = time.monotonic() + timeout
    spec = backend.get_spec(job_id)
    assert spec is not None
    options = list(spec.outputs[0].option_values)
    if barrier is not None:
        barrier.wait(timeout=timeout)
    start = time.perf_counter()
    while time.monotonic() < deadline:
        got_work = False
        for w in workers:
            batch = backend.pull(job_id, w)
            if batch is None:
                out["empty_pulls"] += 1
                continue
            got_work = True
            if rng.random() < skip_rate:
                backend.skip(job_id, batch.assignment)
                out["skips"] += 1
                continue
            if pause:
                time.sleep(pause)
            backend.submit(job_id, batch.assignment, [rng.choice(options) for _ in batch.items])
            out["answers"] += len(batch.items)
            out["batches"] += 1
        if not got_work:
            if session is not None:
                session.commit()  # nothing to do here: let the other processes see this one's work
            if backend.progress(job_id).state.finished:
                out["seconds"] = time.perf_counter() - start
                return out
            time.sleep(0.005)
    raise TimeoutError(f"job {job_id} not complete after {timeout}s: {out}")


def hammer_into(queue: Any, *args: Any, **kwargs: Any) -> None:
    """``hammer`` for a ``multiprocessing.Process``: puts its report (or its error, as text) on ``queue``."""
    try:
        queue.put(hammer(*args, **kwargs))
    except Exception as exc:  # the parent reports it; a traceback in a child would be lost
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def run_processes(url: str, job_id: str, processes: int, workers_per_process: int, *, skip_rate: float = 0.05,
                  timeout: float = 300.0, pause: float = 0.0,
                  session_ops: int | list[int | None] | None = None) -> list[dict[str, Any]]:
    """``processes`` processes hammer the job together (started at one barrier); their reports.

    ``session_ops``: ``hammer``'s, for every process, or one per process (None: a transaction per call)."""
    per_process = session_ops if isinstance(session_ops, list) else [session_ops] * processes
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    queue = ctx.Queue()
    procs = [ctx.Process(target=hammer_into, args=(queue, url, job_id,
                                                   [f"p{p}-w{w}" for w in range(workers_per_process)]),
                         kwargs={"seed": p, "skip_rate": skip_rate, "barrier": barrier, "timeout": timeout,
                                 "pause": pause, "session_ops": per_process[p]})
             for p in range(processes)]
    for proc in procs:
        proc.start()
    reports = [queue.get(timeout=timeout) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    errors = [r["error"] for r in reports if "error" in r]
    if errors:
        raise RuntimeError(f"{len(errors)} process(es) failed: {errors}")
    return reports


def check_consistency(backend: LocalBackend, job_id: str) -> list[str]:
    """Every way the store could disagree with itself after concurrent work; empty when consistent."""
    problems: list[str] = []
    i, a = t.items.c, t.answers.c
    with backend.store.read() as conn:
        counted = (select(a.item_id, func.count().label("n"), func.count(a.worker.distinct()).label("workers"))
                   .where(a.job_id == job_id, a.status.in_(("submitted", "accepted"))).group_by(a.item_id)
                   .subquery())
        active = (select(a.item_id, func.count().label("n")).where(a.job_id == job_id, a.status == "active")
                  .group_by(a.item_id).subquery())
        rows = conn.execute(
            select(i.key, i.kind, i.needed, i.done, i.open, i.free, func.coalesce(counted.c.n, 0),
                   func.coalesce(counted.c.workers, 0), func.coalesce(active.c.n, 0))
            .outerjoin(counted, counted.c.item_id == i.id).outerjoin(active, active.c.item_id == i.id)
            .where(i.job_id == job_id, i.kind != "training")).all()
    for key, kind, needed, done, open_, free, n, workers, n_active in rows:
        if done != n:
            problems.append(f"{key}: done counter {done} but {n} counted answers")
        if open_ != n_active:
            problems.append(f"{key}: open counter {open_} but {n_active} active answers")
        if workers != n:
            problems.append(f"{key}: {n} answers from only {workers} different workers")
        if kind == "real" or (kind == "golden" and needed):
            if n > needed:
                problems.append(f"{key}: {n} answers, overlap is {needed}")
            if free != needed - done - open_:
                problems.append(f"{key}: free {free} != needed {needed} - done {done} - open {open_}")
    return problems


def check_complete(backend: LocalBackend, job_id: str, reports: list[dict[str, Any]]) -> list[str]:
    """After a run to completion: every item that needs answers holds exactly its overlap of counted answers, and the
    answers the processes say they submitted are exactly the ones stored (none lost, none duplicated).

    ``check_consistency`` compares the store with itself; this compares it with what the clients did,
    by plain counts, so the scale-out benchmark can state them. For jobs without review (a rejected
    answer is submitted but no longer counted) or golden mixing (a mixed-in golden answer is submitted but
    not one of the overlap).
    """
    problems: list[str] = []
    i, a = t.items.c, t.answers.c
    with backend.store.read() as conn:
        counted = (select(a.item_id, func.count().label("n"))
                   .where(a.job_id == job_id, a.status.in_(("submitted", "accepted"))).group_by(a.item_id)
                   .subquery())
        rows = conn.execute(
            select(i.key, i.needed, func.coalesce(counted.c.n, 0))
            .outerjoin(counted, counted.c.item_id == i.id)
            .where(i.job_id == job_id, (i.kind == "real") | ((i.kind == "golden") & (i.needed > 0)))).all()
        stored = conn.execute(select(func.count()).select_from(t.answers)
                              .where(a.job_id == job_id, a.status.in_(("submitted", "accepted")))).scalar_one()
    for key, needed, n in rows:
        if n != needed:
            problems.append(f"{key}: {n} counted answers, overlap is {needed}")
    expected = sum(needed for _, needed, _ in rows)
    submitted = sum(int(r["answers"]) for r in reports)
    if stored != expected:
        problems.append(f"{stored} counted answers stored, {expected} expected (items x overlap)")
    if submitted != stored:
        problems.append(f"the processes submitted {submitted} answers, the store counts {stored}")
    return problems
