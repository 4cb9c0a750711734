"""Startup time: `import annotate_core`, `annotate --help` and `annotate backends`, each in fresh processes.

    python benchmarks/startup.py              # 11 runs of each, interleaved
    python benchmarks/startup.py --runs 21

Every figure is the median of ``--runs`` fresh processes, measured alongside a bare ``python -c pass``
in the same run: the commands take turns (round-robin), so a busy machine slows them all alike.
Wall time is what a user waits; CPU time (user + system of the child) is steadier when other
processes share the cores, and is printed beside it. Targets (issue 16): ``import annotate_core``
<= 150 ms over the bare interpreter, ``annotate --help`` <= 250 ms and ``annotate backends``
<= 400 ms (whole command, interpreter included). Exit status 1 when a median wall time misses its
target with ``--strict``.

To see where the time goes: ``python -X importtime -c "import annotate_core" 2>&1 | sort -t'|' -k2 -n``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    name: str
    argv: list[str]
    target_ms: float | None
    #: the target counts the time over the bare interpreter (True) or the whole command (False)
    over_baseline: bool


def annotate_argv() -> list[str]:
    """The installed console script next to this interpreter, as a user runs it; else ``-m``."""
    script = Path(sys.executable).with_name("annotate")
    if script.exists():
        return [str(script)]
    found = shutil.which("annotate")
    return [found] if found else [sys.executable, "-m", "annotate_core.cli.main"]


def cases() -> list[Case]:
    cli = annotate_argv()
    return [
        Case("python -c pass (baseline)", [sys.executable, "-c", "pass"], None, False),
        Case("import annotate_core", [sys.executable, "-c", "import annotate_core"], 150, True),
        Case("annotate --help", [*cli, "--help"], 250, False),
        Case("annotate backends", [*cli, "backends"], 400, False),
    ]


def run_once(argv: list[str], cwd: str) -> tuple[float, float]:
    """(wall ms, child CPU ms) of one fresh process; its output is discarded, a failure stops the run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=cwd)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    cpu = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=11, help="fresh processes per command (median)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a median wall time misses its target")
    args = parser.parse_args()

    todo = cases()
    # an empty working directory: `python -c` puts it first on sys.path, so a checkout there (or an
    # annotate.toml) would change what is measured
    with tempfile.TemporaryDirectory(prefix="annotate-startup-") as cwd:
        for case in todo:  # warm the OS file cache and the bytecode caches once; not counted
            run_once(case.argv, cwd)
        walls: dict[str, list[float]] = {c.name: [] for c in todo}
        cpus: dict[str, list[float]] = {c.name: [] for c in todo}
        for _ in range(args.runs):
            for case in todo:
                wall, cpu = run_once(case.argv, cwd)
                walls[case.name].append(wall)
                cpus[case.name].append(cpu)

    base_wall = statistics.median(walls[todo[0].name])
    base_cpu = statistics.median(cpus[todo[0].name])
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, median of {args.runs} fresh processes each\n")
    print(f"{'command':<28} {'wall ms':>8} {'over bare':>10} {'cpu ms':>8} {'over bare':>10}  target")
    missed = []
    for case in todo:
        wall = statistics.median(walls[case.name])
        cpu = statistics.median(cpus[case.name])
        verdict = ""
        if case.target_ms is not None:
            measured = wall - base_wall if case.over_baseline else wall
            ok = measured <= case.target_ms
            what = "over bare" if case.over_baseline else "whole command"
            verdict = f"<= {case.target_ms:.0f} ms {what}: {'met' if ok else 'MISSED'}"
            if not ok:
                missed.append(case.name)
        print(f"{case.name:<28} {wall:8.0f} {wall - base_wall:10.0f} {cpu:8.0f} {cpu - base_cpu:10.0f}  {verdict}")
    spread = max(walls[todo[0].name]) - min(walls[todo[0].name])
    print(f"\nbaseline spread (max - min wall): {spread:.0f} ms; a large spread means a busy machine")
    if missed:
        print("missed: " + ", ".join(missed))
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
