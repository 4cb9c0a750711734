"""Aggregation speed and memory against crowd-kit: every method, 2/5/20 labels, int and string ids.

    python benchmarks/aggregation.py                 # the full matrix (~10 min with crowd-kit)
    python benchmarks/aggregation.py --quick         # 10x smaller crowds (~2 min)
    python benchmarks/aggregation.py --only ds,mv --labels 5 --ids str --repeat 5

Every measurement is a fresh interpreter (``--child``): it builds the seeded synthetic crowd
(``simulate_crowd``: overlap 3, 500 workers, task-major rows), resets the kernel's peak-RSS mark,
times one ``fit`` and reports the time, the peak resident memory the call added and the process's
peak. Nothing one run warms up (imports, caches, allocator pools) helps the next, and neither
library runs in the other's leftovers. Ours runs ``--repeat`` times and crowd-kit
``--crowdkit-repeat`` times (it is slow); medians are reported with the spread, and ratios are
from the same run, of wall time and of CPU time (``time.process_time``: all the process's
threads; steadier than wall time on a machine shared with other work). Labels are compared task
by task. The machine's load average is printed before and after: on a shared machine, read the
ratios, not the absolute times.

Cases (full size; ``--quick`` divides the crowds by 10):

- ``ds`` / ``ocds``: Dawid-Skene and one-coin, 300k answers, 20 iterations (``tol=0``).
- ``mv`` / ``mv+skills``: majority vote on 3M answers; ours measures ``skills_`` only when read,
  crowd-kit always does, so ``mv+skills`` reads it.
- ``glad`` / ``mace``: 6k answers, int ids, 2 and 5 labels (crowd-kit's GLAD takes seconds per
  thousand answers; ``--quick``: 1.5k); MACE
  with one restart for both (crowd-kit's restarts with an integer seed repeat the same run; ours
  runs it once, so at the default ten restarts ours is a further 10x ahead).
- ``ds``/``ocds`` with 1,000 labels on 20k answers: ours only (crowd-kit takes many minutes).

Imports are not timed for either library: crowd-kit imports scipy with itself, ours imports the
part of scipy a method needs on first use, so the child imports it before the clock starts.
``--ds-tasks 1000000`` gives the 3M-answer Dawid-Skene cases.

Without crowd-kit installed (``pip install -e ".[parity]"``) only our figures print.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from procstat import status_kib  # a sibling module: benchmarks run as scripts

try:
    import annotate_core.aggregation as ours
except ImportError:  # run from a checkout without installing the core
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import annotate_core.aggregation as ours

OVERLAP = 3
WORKERS = 500
DS_ITER = 20


@dataclass(frozen=True)
class Case:
    method: str
    labels: int
    ids: str  # "int" or "str"
    tasks: int
    crowdkit: bool = True

    @property
    def answers(self) -> int:
        return self.tasks * OVERLAP

    def name(self) -> str:
        return f"{self.method} K={self.labels} {self.ids} ids, {self.answers:,} answers"


def cases(
    quick: bool, only: set[str] | None, labels: list[int], ids: list[str], ds_tasks: int = 100_000
) -> list[Case]:
    scale = 10 if quick else 1
    out: list[Case] = []
    for id_kind in ids:
        for k in labels:
            out += [Case("ds", k, id_kind, ds_tasks // scale), Case("ocds", k, id_kind, ds_tasks // scale)]
            out += [Case("mv", k, id_kind, 1_000_000 // scale), Case("mv+skills", k, id_kind, 1_000_000 // scale)]
            if id_kind == "int" and k <= 5:
                small = 500 if quick else 2_000
                out += [Case("glad", k, id_kind, small), Case("mace", k, id_kind, small)]
    if "int" in ids:
        out += [Case("ds", 1000, "int", 6_667 // scale, crowdkit=False),
                Case("ocds", 1000, "int", 6_667 // scale, crowdkit=False)]
    return [c for c in out if only is None or c.method in only]


def crowdkit_module() -> Any | None:
    """crowd-kit's aggregation package, or None when it is not installed (or fails to import)."""
    warnings.filterwarnings("ignore", module="crowdkit")  # its own pandas deprecations, every step
    try:
        import crowdkit.aggregation as ck
    except Exception:  # crowd-kit pulls scikit-learn & co.: any failure means "absent"
        return None
    return ck


def fit(lib: Any, method: str, df: Any) -> Any:
    """Run ``method`` the way a user would; return the labels (Series task -> label)."""
    if method == "ds":
        return lib.DawidSkene(n_iter=DS_ITER, tol=0.0).fit_predict(df)
    if method == "ocds":
        return lib.OneCoinDawidSkene(n_iter=DS_ITER, tol=0.0).fit_predict(df)
    if method in ("mv", "mv+skills"):
        mv = lib.MajorityVote().fit(df)
        if method == "mv+skills":
            assert mv.skills_ is not None
        return mv.labels_
    if method == "glad":
        return lib.GLAD().fit_predict(df)
    if method == "mace":
        return lib.MACE(n_restarts=1).fit_predict(df)
    raise ValueError(f"method: {method!r}")



def child(lib_name: str, case: Case, out: str) -> None:
    """One measurement in this (fresh) process; writes a JSON line and the labels (pickle)."""
    lib = ours if lib_name == "ours" else crowdkit_module()
    # crowd-kit imports scipy with itself, ours the part it needs on first use: import it here so
    # both are timed without their imports (scipy.sparse: 50-150 ms, once per process)
    if case.method in ("glad", "mace"):
        import scipy.optimize
        import scipy.special
    if case.method in ("ds", "ocds"):  # 3+ labels, or 2 from 1M answers (ours: not imported below)
        import scipy.sparse  # noqa: F401
    df, _ = ours.simulate_crowd(
        case.tasks, overlap=OVERLAP, n_workers=WORKERS, labels=tuple(range(case.labels)),
        string_ids=case.ids == "str", seed=7,
    )
    with contextlib.suppress(OSError):  # reset the peak-RSS mark so the peak below is this call's
        Path("/proc/self/clear_refs").write_text("5")
    base = status_kib("VmRSS")
    start, cpu_start = time.perf_counter(), time.process_time()
    labels = fit(lib, case.method, df)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = status_kib("VmHWM")
    labels.to_pickle(out)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "added_mib": (peak - base) / 1024,
                      "peak_mib": peak / 1024}))


def output(lib_name: str, case: Case, tmp: Path) -> Path:
    return tmp / f"{lib_name}-{case.method}-{case.labels}-{case.ids}.pkl"


def run_once(lib_name: str, case: Case, tmp: Path) -> dict[str, float]:
    """One fresh-process measurement; its labels land in ``output(lib_name, case, tmp)``."""
    cmd = [sys.executable, __file__, "--child", lib_name, json.dumps(case.__dict__), str(output(lib_name, case, tmp))]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{lib_name} {case.name()} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def schedule(ours: int, theirs: int) -> list[str]:
    """The order of one case's runs: crowd-kit's spread evenly among ours, so a slow spell of a
    shared machine (they last tens of seconds on the VMs this ran on) falls on both libraries
    rather than on whichever ran during it."""
    slots = [((i + 0.5) / ours, 0, "ours") for i in range(ours)]
    slots += [((j + 0.5) / theirs, 1, "crowdkit") for j in range(theirs)]
    return [name for _, _, name in sorted(slots)]


def measure(case: Case, repeat: int, ck_repeat: int, tmp: Path) -> dict[str, list[dict[str, float]]]:
    runs: dict[str, list[dict[str, float]]] = {"ours": [], "crowdkit": []}
    for lib_name in schedule(repeat, ck_repeat):
        runs[lib_name].append(run_once(lib_name, case, tmp))
    return runs


def summary(runs: list[dict[str, float]]) -> tuple[float, float, float, float, float]:
    """Median, min and max wall seconds, median CPU seconds, median memory the call added (MiB)."""
    times = [r["seconds"] for r in runs]
    return (statistics.median(times), min(times), max(times),
            statistics.median(r["cpu"] for r in runs), statistics.median(r["added_mib"] for r in runs))


def load() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10x smaller crowds")
    parser.add_argument("--repeat", type=int, default=3, help="fresh-process runs of ours per case")
    parser.add_argument("--crowdkit-repeat", type=int, default=1, help="fresh-process runs of crowd-kit")
    parser.add_argument("--only", help="comma-separated methods: ds,ocds,mv,mv+skills,glad,mace")
    parser.add_argument("--labels", default="2,5,20", help="comma-separated label counts")
    parser.add_argument("--ids", default="int,str", help="int, str or both")
    parser.add_argument("--no-crowdkit", action="store_true", help="time ours only")
    parser.add_argument("--ds-tasks", type=int, default=100_000,
                        help="tasks of the ds/ocds crowds (x3 answers; 1000000 for the 3M-answer case)")
    parser.add_argument("--no-wide", action="store_true", help="leave out the 1,000-label cases")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        lib_name, spec, out = args.child
        child(lib_name, Case(**json.loads(spec)), out)
        return 0

    import pandas as pd

    only = set(args.only.split(",")) if args.only else None
    todo = cases(args.quick, only, [int(k) for k in args.labels.split(",")], args.ids.split(","),
                 args.ds_tasks)
    if args.no_wide:
        todo = [c for c in todo if c.labels < 1000]
    ck = None if args.no_crowdkit else crowdkit_module()
    print(f"{len(todo)} cases; ours x{args.repeat}, crowd-kit x{args.crowdkit_repeat if ck else 0} "
          f"fresh processes each; {os.cpu_count()} cores; {load()}", flush=True)
    print("| case | ours wall median (min-max) | crowd-kit wall | ratio wall | ratio CPU "
          "| peak MiB added, ours / crowd-kit | labels differ |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |", flush=True)
    mismatch = False
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for case in todo:
            with_ck = ck is not None and case.crowdkit
            runs = measure(case, args.repeat, args.crowdkit_repeat if with_ck else 0, tmp)
            med, lo, hi, cpu, mem = summary(runs["ours"])
            row = f"| {case.name()} | {med * 1e3:,.0f} ms ({lo * 1e3:,.0f}-{hi * 1e3:,.0f}) |"
            if with_ck:
                t_med, _, _, t_cpu, t_mem = summary(runs["crowdkit"])
                a, b = pd.read_pickle(output("ours", case, tmp)), pd.read_pickle(output("crowdkit", case, tmp))
                differ = int((a != b.reindex(a.index)).sum())
                mismatch |= differ > 0 and case.method in ("ds", "ocds")
                row += (f" {t_med * 1e3:,.0f} ms | {t_med / med:.1f}x | {t_cpu / cpu:.1f}x "
                        f"| {mem:,.0f} / {t_mem:,.0f} | {differ} |")
            else:
                row += f" - | - | - | {mem:,.0f} / - | - |"
            print(row, flush=True)
    print(f"done; {load()}")
    return 1 if mismatch else 0


if __name__ == "__main__":
    sys.exit(main())
