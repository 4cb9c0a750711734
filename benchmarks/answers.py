"""Reading a job's answers: the record path (``iter_answers`` + ``answers_frame``) against the columnar
path (``iter_answer_frames``, what ``job.answers()`` uses), on the local backend and through Toloka's and
Dataloop's pagination, in one command.

    python benchmarks/answers.py                  # 3,000,000 answers (overlap 3: 1M items), every backend
    python benchmarks/answers.py --answers 300000 --repeat 3
    python benchmarks/answers.py --backends toloka,dataloop        # the vendors only
    python benchmarks/answers.py --store /tmp/answers.db --keep   # reuse a built store next time

The vendors' pages come from ``vendor_pages.py``, a loopback HTTP server in its own process that makes
each page on request in the vendor's wire shape (Toloka: 1,000 assignments of ten tasks a page, the
backend's default; Dataloop: 1,000 items a page and their annotations, 1,000 a page), so the time
includes HTTP and JSON decoding as against the real APIs, less the network.

The store is filled by bulk SQL inserts (a job created through the backend, then items, assignments
and answers written with ``executemany``), not by simulating: building 3M answers takes seconds, not
the simulator's minutes. Each measurement runs in a fresh interpreter that opens the store, resets
the kernel's peak-RSS mark, reads the answers once, and reports wall time, the peak resident memory
of the process and what the read added to it. The two frames are checked equal (small stores only:
``--check-below``, as holding both frames at 3M would measure the check, not the read).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from procstat import status_kib  # sibling modules: benchmarks run as scripts
from vendor_pages import POOL, TASK

OVERLAP = 3
BATCH = 10  # items per assignment
WORKERS = 1000
SPEC = {
    "name": "answers-benchmark",
    "inputs": [{"name": "image", "type": "image"}],
    "outputs": [{"name": "result", "type": "label", "options": ["cat", "dog", "bird", "other"]}],
}



def build(path: Path, n_answers: int, seed: int = 0) -> str:
    """A SQLite store with one job holding ``n_answers`` answers; returns the job id."""
    import sqlite3

    from annotate_local.backend import LocalBackend

    from annotate_core.client import Client
    from annotate_core.model.spec import JobSpec

    backend = LocalBackend(path=str(path))
    job = Client(backend, profile="bench").create_job(JobSpec.model_validate(SPEC))
    job_id = str(job.id)
    backend.close_backend()

    rng = random.Random(seed)
    labels = SPEC["outputs"][0]["options"]
    n_items = -(-n_answers // OVERLAP)
    now = 1_800_000_000.0
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    first = (con.execute("SELECT coalesce(max(id), 0) FROM annotate_items").fetchone()[0]) + 1
    golden_every = 10  # one item in ten is golden
    con.executemany(
        "INSERT INTO annotate_items (id, job_id, key, kind, inputs, golden, needed, done, open, free, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?)",
        ((first + i, job_id, f"img-{i:07d}", "golden" if i % golden_every == 0 else "real",
          json.dumps({"image": f"https://images.example.org/bench/{i:07d}.jpg"}),
          json.dumps({"result": labels[i % len(labels)]}) if i % golden_every == 0 else None,
          OVERLAP, OVERLAP, now) for i in range(n_items)))

    def assignments():
        for a in range(-(-n_answers // BATCH)):
            status = rng.choices(("accepted", "rejected", "submitted"), (90, 5, 5))[0]
            reviewed = status == "rejected"
            t = now + a * 0.37
            yield (f"a{a:09d}", job_id, f"w{a % WORKERS:04d}", "work", status, a // WORKERS, t, t + rng.uniform(20, 90),
                   rng.uniform(20, 90), "done" if reviewed else "none", "reviewer-1" if reviewed else None,
                   "wrong label" if reviewed else None)

    con.executemany(
        "INSERT INTO annotate_assignments (id, job_id, worker, kind, status, n, created_at, submitted_at, duration_s,"
        " review, reviewer, review_comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", assignments())

    def answers():
        statuses = dict(con.execute("SELECT id, status FROM annotate_assignments WHERE job_id = ?", (job_id,)))
        for n in range(n_answers):
            a = n // BATCH
            item = (n % BATCH) + BATCH * ((a // OVERLAP) % -(-n_items // BATCH))  # overlap distinct workers
            item = min(item, n_items - 1)
            assignment = f"a{a:09d}"
            yield (job_id, assignment, first + item, f"w{a % WORKERS:04d}", "real", n % BATCH, statuses[assignment],
                   json.dumps({"result": rng.choice(labels)}), now + a * 0.37 + 30)

    con.executemany(
        "INSERT OR IGNORE INTO annotate_answers (job_id, assignment_id, item_id, worker, kind, position, status,"
        " value, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", answers())
    con.commit()
    con.close()
    return job_id


def vendor_backend(name: str, url: str) -> tuple[Any, str, Any]:
    """(backend, job id, spec) of the benchmark's job on the page server at ``url``."""
    import base64

    from pydantic import SecretStr

    from annotate_core.model.spec import JobSpec

    spec = JobSpec.model_validate(SPEC)
    if name == "toloka":
        from annotate_toloka import TolokaBackend

        return TolokaBackend(token=SecretStr("bench-toloka-api-key"), base_url=url + "/api"), POOL, spec
    from annotate_dataloop import DataloopBackend

    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    jwt = f"{part({'alg': 'none'})}.{part({'email': 'owner@example.com', 'exp': 4102444800})}.bench"
    return (DataloopBackend(token=SecretStr(jwt), project="bench", dataset="bench", base_url=url + "/api/v1"),
            f"task:{TASK}", spec)


def measure(store: Path | None, job_id: str, path: str, out: Path | None, backend_name: str = "local",
            url: str = "") -> None:
    """One read in this (fresh) process; prints a JSON line."""
    from annotate_core.answers import answers_frame, job_answers

    if backend_name == "local":
        from annotate_local.backend import LocalBackend

        backend = LocalBackend(path=str(store))
        spec = backend.get_spec(job_id)
    else:
        backend, job_id, spec = vendor_backend(backend_name, url)
        import requests  # noqa: F401  (as pandas below)
    import pandas  # noqa: F401  (loaded before the mark: both paths need it, neither should pay it)

    Path("/proc/self/clear_refs").write_text("5") if Path("/proc/self/clear_refs").exists() else None
    base = status_kib("VmRSS")
    start, cpu = time.perf_counter(), time.process_time()
    if path == "records":
        frame = answers_frame(backend.iter_answers(job_id, spec), [f.name for f in spec.inputs])
    else:
        frame = job_answers(backend, job_id, spec)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = status_kib("VmHWM")
    frame_mib = frame.memory_usage(deep=False).sum() / 2**20
    if out is not None:
        frame.to_pickle(out)
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mib": peak / 1024,
                      "added_mib": (peak - base) / 1024, "rows": len(frame), "frame_mib": frame_mib}))


def run(store: Path | None, job_id: str, path: str, out: Path | None = None, backend: str = "local",
        url: str = "") -> dict:
    cmd = [sys.executable, __file__, "--measure", path, "--job", job_id, "--backend", backend, "--url", url]
    if store is not None:
        cmd += ["--store", str(store)]
    if out is not None:
        cmd += ["--out", str(out)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(name: str, results: dict[str, list[dict]]) -> None:
    """The table of one backend: both paths, answers/s, peak memory, and their ratios."""
    print(f"{name}:")
    print(f"  {'path':8} {'rows':>10} {'seconds (median, min-max)':>28} {'CPU s':>7} {'answers/s':>10}"
          f" {'peak MiB':>9} {'added MiB':>10} {'frame MiB':>10}")
    med = {}
    for path, runs in results.items():
        secs = [r["seconds"] for r in runs]
        med[path] = {k: statistics.median(r[k] for r in runs)
                     for k in ("seconds", "cpu_seconds", "peak_mib", "added_mib")}
        print(f"  {path:8} {runs[0]['rows']:>10,} {med[path]['seconds']:>12.2f} ({min(secs):.2f}-{max(secs):.2f})"
              f"{'':>8} {med[path]['cpu_seconds']:>7.2f} {runs[0]['rows'] / med[path]['seconds']:>10,.0f}"
              f" {med[path]['peak_mib']:>9.0f} {med[path]['added_mib']:>10.0f} {runs[0]['frame_mib']:>10.0f}")
    r, f = med["records"], med["frames"]
    print(f"  ratio records/frames: time {r['seconds'] / f['seconds']:.1f}x (CPU "
          f"{r['cpu_seconds'] / f['cpu_seconds']:.1f}x), peak memory "
          f"{r['peak_mib'] / f['peak_mib']:.1f}x, memory added {r['added_mib'] / max(f['added_mib'], 1):.1f}x")


def check_equal(tmp: Path, store: Path | None, job_id: str, backend: str = "local", url: str = "") -> None:
    import pandas as pd
    from pandas.testing import assert_frame_equal

    run(store, job_id, "records", tmp / "records.pkl", backend, url)
    run(store, job_id, "frames", tmp / "frames.pkl", backend, url)
    assert_frame_equal(pd.read_pickle(tmp / "frames.pkl"), pd.read_pickle(tmp / "records.pkl"), check_exact=True)
    print("  frames equal: yes")


def vendors(names: list[str], args: argparse.Namespace, tmp: Path) -> None:
    """Both paths through each vendor's pagination, against one page server."""
    t = time.perf_counter()
    server = subprocess.Popen([sys.executable, str(Path(__file__).with_name("vendor_pages.py")),
                               "--answers", str(args.answers), "--cache", str(tmp / "pages"),
                               "--vendors", ",".join(names)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        print(f"rendered {args.answers:,} answers of {', '.join(names)} pages in {time.perf_counter() - t:.1f}s")
        for name in names:
            results: dict[str, list[dict]] = {"records": [], "frames": []}
            for _ in range(args.repeat):
                for path in results:
                    results[path].append(run(None, "", path, backend=name, url=url))
            report(name, results)
            if args.answers <= args.check_below:
                check_equal(tmp, None, "", name, url)
    finally:
        server.terminate()
        server.wait(timeout=30)


def local(args: argparse.Namespace, tmp: Path) -> None:
    """Both paths on a SQLite store built for the run (or kept from an earlier one)."""
    store = args.store or tmp / "answers.db"
    marker = store.with_suffix(".job")
    if args.keep and store.exists() and marker.exists():
        job_id = marker.read_text().strip()
        print(f"reusing {store} (job {job_id})")
    else:
        store.unlink(missing_ok=True)
        t = time.perf_counter()
        job_id = build(store, args.answers)
        marker.write_text(job_id)
        print(f"built {args.answers:,} answers in {time.perf_counter() - t:.1f}s ({store})")
    results: dict[str, list[dict]] = {"records": [], "frames": []}
    for _ in range(args.repeat):
        for path in results:
            results[path].append(run(store, job_id, path))
    report("local", results)
    if args.answers <= args.check_below:
        check_equal(tmp, store, job_id)
    if not args.keep and args.store:
        store.unlink(missing_ok=True)
        marker.unlink(missing_ok=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--answers", type=int, default=3_000_000, help="answers in the job (default 3,000,000)")
    p.add_argument("--repeat", type=int, default=1, help="reads per path (median shown)")
    p.add_argument("--store", type=Path, help="SQLite file to build (or reuse with --keep); default: a temp dir")
    p.add_argument("--keep", action="store_true", help="keep the store and reuse it if it exists")
    p.add_argument("--check-below", type=int, default=500_000, help="compare both frames up to this size")
    p.add_argument("--measure", choices=("records", "frames"), help=argparse.SUPPRESS)
    p.add_argument("--job", help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--backend", default="local", help=argparse.SUPPRESS)
    p.add_argument("--url", default="", help=argparse.SUPPRESS)
    p.add_argument("--backends", default="local,toloka,dataloop",
                   help="comma-separated: local, toloka, dataloop (default: all three)")
    args = p.parse_args()
    if args.measure:
        measure(args.store, args.job, args.measure, args.out, args.backend, args.url)
        return 0
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    unknown = sorted(set(names) - {"local", "toloka", "dataloop"})
    if unknown:
        p.error(f"--backends: unknown {unknown}; expected local, toloka and/or dataloop")

    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (other work on them slows every row alike;"
          " CPU s is this process's own time)")
    with tempfile.TemporaryDirectory() as tmp:
        if "local" in names:
            local(args, Path(tmp))
        if set(names) - {"local"}:
            vendors([n for n in names if n != "local"], args, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
