"""Aggregation speed and memory: annotate_core.aggregation against crowd-kit, same crowd, one run.

    python benchmarks/aggregation.py            # full: DS on 300k answers, MV on 3M answers
    python benchmarks/aggregation.py --quick    # small: DS on 30k, MV on 300k (seconds)
    python benchmarks/aggregation.py --string-ids --repeat 5

The crowd is synthetic and seeded (``simulate_crowd``): overlap 3, 500 workers, yes/no labels,
task-major rows. Times are the best of ``--repeat`` runs of ``fit_predict``, crowd-kit and ours
alternating in one process. Peak memory is measured with tracemalloc in a fresh subprocess per
library and method (numpy and pandas report their buffers to it), so one run's leftovers never
count against the other. Targets: Dawid-Skene (20 iterations, tol=0) >= 20x faster, majority vote
>= 4x faster, memory well under crowd-kit's. Without crowd-kit installed only our figures print.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    import annotate_core.aggregation as ours
except ImportError:  # run from a checkout without installing the core
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import annotate_core.aggregation as ours

OVERLAP = 3
WORKERS = 500
DS_ITER = 20
TARGETS = {"ds": 20.0, "mv": 4.0}


def crowdkit_module() -> Any | None:
    """crowd-kit's aggregation package, or None when it is not installed (or fails to import)."""
    # crowd-kit 1.4.2 on pandas 3 warns about its own deprecated pandas calls at every step.
    warnings.filterwarnings("ignore", module="crowdkit")
    try:
        import crowdkit.aggregation as ck
    except Exception as exc:  # crowd-kit pulls scikit-learn & co.: any failure means "absent"
        print(f"crowd-kit not available ({type(exc).__name__}: {exc}); timing ours only")
        return None
    return ck


def make_method(lib: Any, method: str, n_iter: int) -> Callable[[Any], Any]:
    if method == "ds":
        return lambda df: lib.DawidSkene(n_iter=n_iter, tol=0.0).fit_predict(df)
    if method == "mv":
        return lambda df: lib.MajorityVote().fit_predict(df)
    raise ValueError(f"method: {method!r}")


def crowd(n_tasks: int, string_ids: bool) -> Any:
    answers, _ = ours.simulate_crowd(
        n_tasks, overlap=OVERLAP, n_workers=WORKERS, string_ids=string_ids, seed=7
    )
    return answers


def timings(
    fns: dict[str, Callable[[Any], Any]], df: Any, repeat: int
) -> tuple[dict[str, float], dict[str, Any]]:
    """Best wall time of each function over ``repeat`` rounds, alternating within each round so
    a slow spell of a shared machine hits both libraries alike; and each one's last result."""
    best = dict.fromkeys(fns, float("inf"))
    results: dict[str, Any] = {}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            results[name] = fn(df)
            best[name] = min(best[name], time.perf_counter() - start)
    return best, results


def _status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` field (VmRSS, VmHWM) in KiB, or None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux: write 5 to clear_refs); False if not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_kib("VmHWM") is not None


def memory_child(
    lib_name: str, method: str, n_tasks: int, string_ids: bool, n_iter: int, mode: str
) -> None:
    """Runs in a subprocess: print the peak memory one fit_predict adds, in bytes.

    ``traced``: tracemalloc's peak (numpy and pandas buffers and Python objects). ``rss``: growth
    of the resident set's peak over the level before the call, everything included (Linux).
    """
    lib = ours if lib_name == "ours" else crowdkit_module()
    df = crowd(n_tasks, string_ids)
    fn = make_method(lib, method, n_iter)
    gc.collect()
    if mode == "traced":
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        fn(df)
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    elif _reset_peak_rss():
        base = _status_kib("VmRSS") or 0
        fn(df)
        peak = ((_status_kib("VmHWM") or 0) - base) * 1024
    else:
        peak = -1  # no way to measure the peak of one call here
    print(json.dumps({"peak": peak}))


def peak_memory(
    lib_name: str, method: str, n_tasks: int, string_ids: bool, n_iter: int, mode: str
) -> float:
    """Peak MiB of one fit_predict, measured in a fresh interpreter (see ``memory_child``)."""
    cmd = [
        sys.executable, __file__, "--memory-child", lib_name, method, str(n_tasks),
        str(int(string_ids)), str(n_iter), mode,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["peak"] / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10x smaller crowds")
    parser.add_argument("--string-ids", action="store_true", help='ids like "t17"/"w3", not ints')
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best kept)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument("--memory-child", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        lib_name, method, n_tasks, string_ids, n_iter, mode = args.memory_child
        memory_child(lib_name, method, int(n_tasks), bool(int(string_ids)), int(n_iter), mode)
        return 0

    scale = 10 if args.quick else 1
    cases = [("ds", 100_000 // scale), ("mv", 1_000_000 // scale)]
    ck = crowdkit_module()
    ids = "string" if args.string_ids else "int"
    print(f"crowd: overlap {OVERLAP}, {WORKERS} workers, binary labels, {ids} ids; "
          f"best of {args.repeat}; DS: {DS_ITER} iterations, tol=0")
    mismatch = False
    for method, n_tasks in cases:
        df = crowd(n_tasks, args.string_ids)
        name = f"{method.upper()} on {len(df):,} answers"
        fns = {"ours": make_method(ours, method, DS_ITER)}
        if ck is not None:
            fns["crowd-kit"] = make_method(ck, method, DS_ITER)
        best, results = timings(fns, df, args.repeat)
        line = f"{name:<26} ours {best['ours'] * 1e3:8.1f} ms"
        if ck is not None:
            labels = results["ours"]
            same = bool(labels.equals(results["crowd-kit"].reindex(labels.index)))
            ratio = best["crowd-kit"] / best["ours"]
            met = "met" if ratio >= TARGETS[method] else "MISSED"
            mismatch |= not same
            line += (f" | crowd-kit {best['crowd-kit'] * 1e3:8.1f} ms | {ratio:5.1f}x faster "
                     f"(target {TARGETS[method]:.0f}x: {met}) | same labels: {same}")
        print(line, flush=True)

    if not args.no_memory:
        # Both methods on the larger crowd; DS runs 3 iterations (its peak is per step).
        n_tasks = 1_000_000 // scale
        for method in ("ds", "mv"):
            for mode in ("traced", "rss"):
                mine = peak_memory("ours", method, n_tasks, args.string_ids, 3, mode)
                line = (f"peak memory ({mode:>6}) {method.upper()} on {n_tasks * OVERLAP:,} "
                        f"answers: ours {mine:7.1f} MiB")
                if ck is not None:
                    theirs = peak_memory("crowdkit", method, n_tasks, args.string_ids, 3, mode)
                    line += f" | crowd-kit {theirs:7.1f} MiB | {theirs / mine:4.1f}x less"
                print(line, flush=True)
    return 1 if mismatch else 0


if __name__ == "__main__":
    sys.exit(main())
