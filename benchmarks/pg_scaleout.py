"""PostgreSQL scale-out: one job on one PostgreSQL served by 1, 2, 4, 8 client processes at once.

    python benchmarks/pg_scaleout.py [N_ITEMS] [--processes 1,2,4,8] [--annotators 8]

Needs ANNOTATE_TEST_POSTGRES_URL (see .ci/postgres.sh). Each process count gets a fresh schema (dropped
afterwards) and a fresh job of N_ITEMS items x overlap 3 (batches of 10); its processes start at one
barrier and pull + submit through the local backend until the job is complete. Printed per count:
answers/s (all answers / slowest process's time), the speedup over 1 process, and the checks:
``check_consistency`` (counters agree with the answer rows, overlap never exceeded, no worker twice
on an item) and ``check_complete`` (every item exactly its overlap, the answers the processes
submitted are exactly the ones stored). Exits 1 if any check fails.

The client processes and the server share the machine's cores: past the core count, more processes
only add contention (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import os
import sys

from annotate_local.stress import check_complete, check_consistency, run_processes
from local_throughput import OVERLAP, make_job, scoped_schema  # a sibling module: benchmarks run as scripts


def run_once(url: str, n_items: int, processes: int, annotators: int) -> tuple[int, float, list[str]]:
    """(answers, seconds, problems) for one process count, in a schema of its own."""
    with scoped_schema(url, "bench_scale") as scoped:
        backend, job_id = make_job(scoped, n_items)
        try:
            reports = run_processes(scoped, job_id, processes, annotators, skip_rate=0.0, timeout=600.0)
            problems = check_consistency(backend, job_id) + check_complete(backend, job_id, reports)
        finally:
            backend.close_backend()
        return sum(int(r["answers"]) for r in reports), max(r["seconds"] for r in reports), problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n_items", nargs="?", type=int, default=3000, help="items per run (default 3000)")
    parser.add_argument("--processes", default="1,2,4,8", help="client process counts (default 1,2,4,8)")
    parser.add_argument("--annotators", type=int, default=8, help="annotators per process (default 8)")
    args = parser.parse_args()
    counts = [int(c) for c in args.processes.split(",")]
    url = os.environ.get("ANNOTATE_TEST_POSTGRES_URL")
    if not url:
        print("ANNOTATE_TEST_POSTGRES_URL is not set (e.g. `. .ci/postgres.sh`)", file=sys.stderr)
        return 2
    print(f"PostgreSQL scale-out: {args.n_items} items x overlap {OVERLAP}, {args.annotators} annotators "
          f"per process, {os.cpu_count()} CPU cores on this machine (shared with the server)")
    # the 1-minute load average before each run: other work on the machine shows up there
    print(f"  {'processes':>9} {'answers':>8} {'seconds':>8} {'answers/s':>10} {'speedup':>8} {'load':>5}  checks")
    base = None
    failed = False
    for n in counts:
        load = os.getloadavg()[0]
        answers, seconds, problems = run_once(url, args.n_items, n, args.annotators)
        rate = answers / seconds
        base = base or rate
        verdict = "ok" if not problems else f"FAILED ({len(problems)} problems)"
        print(f"  {n:>9} {answers:>8} {seconds:>8.2f} {rate:>10.0f} {rate / base:>7.2f}x {load:>5.2f}  {verdict}")
        for p in problems[:10]:
            print(f"      {p}")
        failed = failed or bool(problems) or answers != args.n_items * OVERLAP
    print("all checks passed" if not failed else "CHECKS FAILED", file=sys.stderr if failed else sys.stdout)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
