"""`annotate run SPEC --simulate` end to end, by job size, against the store's own pull/submit pace.

    python benchmarks/simulate.py                        # 2k, 20k, 100k items (~3 min)
    python benchmarks/simulate.py --sizes 2000:30,1000000:30
    python benchmarks/simulate.py --postgres             # also on PostgreSQL (ANNOTATE_TEST_POSTGRES_URL)
    python benchmarks/simulate.py --db postgresql+psycopg://annotate:annotate@127.0.0.1/annotate_pg
                                                         # on that PostgreSQL database only

Each size runs in a fresh process (`--child`): the cats-vs-dogs spec (`examples/cats_vs_dogs.yaml`:
overlap 3, batches of 10 with a golden item, captchas, two ban rules, 10% review) on N generated
items (a tenth golden, hidden truth for the rest), run as `annotate run SPEC --items FILE --simulate`
in that process. Printed per size: the simulation's answers/s (every answer it handed out, over the
seconds `job.simulate` took), the whole command's seconds (checking the file, upload, start,
simulation, reading answers, aggregating, writing results.csv and answers.csv), the process's peak
RSS, and the baseline measured in the same run: a fresh process that drives the same job (same
spec, same items, same number of workers) through the backend's pull/submit API, one transaction
per call as people working in a browser do, for `--baseline-answers` answers. The ratio is the
simulation's pace over that baseline's: above 1 the simulated crowd works faster than the store
serves single callers. On PostgreSQL the server's CPU is counted too: the CPU seconds of the server
processes behind the process's own connections (`/proc/<pid>/stat` of each `backend_pid`, so the
server must run on this machine), printed beside the client's and added to it: on a
shared machine both come out of the same cores (`per all CPU s`). Every run is checked afterwards
(`annotate_local.stress.check_consistency`: counters agree with the answer rows, overlap never
exceeded, no worker twice on an item) and must end completed; the script exits 1 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from procstat import ServerCpu, status_kib  # a sibling module: benchmarks run as scripts

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "cats_vs_dogs.yaml"
DEFAULT_SIZES = "2000:30,20000:60,100000:300"
TARGET = 5000.0  # answers/s at any size (issue 16)


def write_items(path: Path, n: int) -> None:
    from annotate_local.datasets import cats_vs_dogs

    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, ["key", "image", "golden:result", "truth:result"])
        w.writeheader()
        w.writerows(cats_vs_dogs(n, seed=1))


def child_run(url: str, items: Path, workers: int, out: Path) -> dict[str, Any]:
    """`annotate run --simulate` in this process; the simulation's own seconds are timed around it."""
    from annotate_local import simulator

    from annotate_core.cli.main import cli

    timed: dict[str, Any] = {}
    original = simulator.Simulation.run

    def run(self: simulator.Simulation) -> dict[str, Any]:
        s0 = ServerCpu.total()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        summary = original(self)
        timed.update(seconds=time.perf_counter() - t0, cpu=time.process_time() - c0, summary=dict(summary))
        s1, lost = ServerCpu.total()
        timed.update(server_cpu=s1 - s0, server_lost=lost)
        return summary

    simulator.Simulation.run = run  # type: ignore[method-assign]
    ServerCpu.install()
    t0 = time.perf_counter()
    cli(["run", str(SPEC), "--items", str(items), "--db", url, "--simulate", "--no-progress", "--workers",
         str(workers), "--out", str(out)], standalone_mode=False)
    total = time.perf_counter() - t0
    s = timed["summary"]
    return {"sim_seconds": timed["seconds"], "sim_cpu": timed["cpu"], "server_cpu": timed["server_cpu"],
            "server_lost": timed["server_lost"], "total_seconds": total, "answers": s["answers"],
            "state": s["state"], "job_id": s["job_id"], "simulated_hours": s["simulated_seconds"] / 3600}


def child_baseline(url: str, items: Path, workers: int, budget: int) -> dict[str, Any]:
    """The same job driven through pull/submit, a transaction per call, for ``budget`` answers."""
    from annotate_local import LocalBackend

    from annotate_core.client import Client
    from annotate_core.specfile import load_spec

    ticks = iter(range(1_700_000_000, 2_000_000_000, 20))  # 20 s a call: nobody trips the fast-submit ban
    ServerCpu.install()
    backend = LocalBackend(url=url, clock=lambda: float(next(ticks)))
    job = Client(backend).create_job(load_spec(SPEC))
    job.add_items(str(items), progress=False)
    job.start()
    names = [f"b{i:04d}" for i in range(workers)]
    for name in names:
        backend.register_worker(name, languages=["EN"])
    answers = 0
    s0 = ServerCpu.total()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    while answers < budget:
        moved = False
        for w in names:
            batch = backend.pull(job.id, w)
            if batch is None:
                continue
            backend.submit(job.id, batch.assignment, ["cat"] * len(batch), captcha=batch.captcha)
            answers += len(batch)
            moved = True
        if not moved:
            break
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"answers": answers, "seconds": seconds, "cpu": cpu, "server_cpu": ServerCpu.total()[0] - s0}


def child(args: argparse.Namespace) -> int:
    from annotate_local import LocalBackend
    from annotate_local import schema as t
    from annotate_local.stress import check_consistency
    from sqlalchemy import func, select

    work = Path(args.workdir)
    items = work / "items.csv"
    if not items.exists():
        write_items(items, args.child)
    url = args.url or f"sqlite:///{work / args.mode}.db"
    if args.mode == "run":
        out = child_run(url, items, args.workers, work / "out")
        backend = LocalBackend(url=url)
        out["problems"] = check_consistency(backend, out["job_id"])
        with backend.store.read() as conn:  # complete: every item to label holds its overlap
            short = conn.execute(select(func.count()).where(
                t.items.c.job_id == out["job_id"], t.items.c.kind == "real",
                t.items.c.done != t.items.c.needed)).scalar_one()
        if short:
            out["problems"].append(f"{short} item(s) without their overlap of answers")
        backend.close_backend()
    else:
        out = child_baseline(url, items, args.workers, args.baseline_answers)
    out["peak_rss_mib"] = status_kib("VmHWM") / 1024
    print(json.dumps(out))
    return 0


def spawn(size: int, workers: int, mode: str, work: Path, url: str | None, budget: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", str(size), "--workers", str(workers), "--mode", mode,
           "--workdir", str(work), "--baseline-answers", str(budget)]
    if url:
        cmd += ["--url", url]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{mode} at {size} items failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"items:workers,... (default {DEFAULT_SIZES})")
    parser.add_argument("--baseline-answers", type=int, default=20_000,
                        help="answers the pull/submit baseline runs for (default 20000)")
    parser.add_argument("--postgres", action="store_true",
                        help="run on PostgreSQL too (ANNOTATE_TEST_POSTGRES_URL; a fresh schema per run)")
    parser.add_argument("--db", metavar="URL",
                        help="run on this PostgreSQL database only, e.g. postgresql+psycopg://user:pw@host/db "
                             "(a fresh schema per run, dropped afterwards)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=30, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="run", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    stores = ["sqlite"]
    pg_url = os.environ.get("ANNOTATE_TEST_POSTGRES_URL")
    if args.db:
        if not args.db.startswith(("postgresql", "postgres:")):
            print(f"--db: expected a PostgreSQL URL (postgresql+psycopg://...), got {args.db.split(':')[0]}:...",
                  file=sys.stderr)
            return 2
        stores, pg_url = ["postgresql"], args.db
    elif args.postgres:
        if not pg_url:
            print("--postgres: ANNOTATE_TEST_POSTGRES_URL is not set (e.g. `. .ci/postgres.sh`)", file=sys.stderr)
            return 2
        stores.append("postgresql")
    sizes = [tuple(int(x) for x in part.split(":")) for part in args.sizes.split(",")]
    print(f"annotate run {SPEC.relative_to(ROOT)} --simulate, by size; {os.cpu_count()} CPU cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"  {'store':<10} {'items':>9} {'workers':>7} {'answers':>9} {'sim s':>7} {'answers/s':>9} "
          f"{'per CPU s':>9} {'server CPU s':>12} {'per all CPU s':>13} {'end to end s':>12} {'peak MiB':>8} "
          f"{'baseline/s':>10} {'per CPU s':>9} {'per all CPU s':>13} {'ratio':>6}  checks")
    failed = False
    for store in stores:
        for size, workers in sizes:
            with tempfile.TemporaryDirectory(prefix="annotate-simbench-") as tmp:
                work = Path(tmp)
                if store == "postgresql":
                    from local_throughput import scoped_schema

                    assert pg_url is not None
                    with scoped_schema(pg_url, "bench_sim") as url:
                        run = spawn(size, workers, "run", work, url, args.baseline_answers)
                    with scoped_schema(pg_url, "bench_sim") as url:
                        base = spawn(size, workers, "baseline", work, url, args.baseline_answers)
                else:
                    run = spawn(size, workers, "run", work, None, args.baseline_answers)
                    base = spawn(size, workers, "baseline", work, None, args.baseline_answers)
            rate, rate_cpu = run["answers"] / run["sim_seconds"], run["answers"] / run["sim_cpu"]
            base_rate, base_cpu = base["answers"] / base["seconds"], base["answers"] / base["cpu"]
            rate_all = run["answers"] / (run["sim_cpu"] + run["server_cpu"])
            base_all = base["answers"] / (base["cpu"] + base["server_cpu"])
            problems = list(run["problems"])
            if run["server_lost"]:
                problems.append(f"server CPU misses {run['server_lost']} closed connection(s)")
            if run["state"] != "completed":
                problems.append(f"job ended {run['state']}")
            failed |= bool(problems)
            checks = "ok" if not problems else "; ".join(problems[:3])
            print(f"  {store:<10} {size:>9,} {workers:>7} {run['answers']:>9,} {run['sim_seconds']:>7.1f} "
                  f"{rate:>9,.0f} {rate_cpu:>9,.0f} {run['server_cpu']:>12.1f} {rate_all:>13,.0f} "
                  f"{run['total_seconds']:>12.1f} {run['peak_rss_mib']:>8.0f} {base_rate:>10,.0f} {base_cpu:>9,.0f} "
                  f"{base_all:>13,.0f} {rate / base_rate:>5.2f}x  {checks}", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print(f"target: >= {TARGET:,.0f} answers/s at every size, 100k items end to end < 60 s, peak <= 500 MiB")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
