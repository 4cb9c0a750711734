"""Peak memory of `annotate run SPEC --simulate` end to end, the command as a user runs it.

    python benchmarks/run_memory.py --items 100000            # ~1 CPU minute
    python benchmarks/run_memory.py --items 1000000 --workers 300   # ~10 CPU minutes

The job is `benchmarks/simulate.py`'s (`examples/cats_vs_dogs.yaml` on N generated items, a tenth
golden, hidden truth for the rest), run by the installed `annotate` script in a child process on a
fresh SQLite file. The parent samples the child's VmRSS (`/proc/<pid>/status`) every 20 ms and reads
its stderr: the phase lines (`reading answers into ...: done in 12.3s`) and tqdm bars say which part
of the command each sample belongs to. Printed: the peak (the kernel's own high-water mark of the
child, `ru_maxrss` from `wait4`, not a sample), the peak within each phase that ran long enough to
print its line, the child's CPU and wall seconds, the load average around the run, and the
summary's counts and accuracy lines. Exits 1 when the run fails or the peak exceeds `--target`.
`--keep DIR` keeps the items file, the database and the output files there.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from simulate import SPEC, write_items  # a sibling module: benchmarks run as scripts

TARGET_MIB = 500.0  # issue 16: peak <= 500 MB at any size
DONE = re.compile(r"^(?P<what>.+): done in (?P<s>[0-9.]+)s$")


def rss_kib(pid: int) -> int:
    """The process's VmRSS in KiB, 0 once it has gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def label_of(line: str) -> str:
    """The part a stderr line names: a phase line without its ``...`` / ``: done in``, a bar's title."""
    m = DONE.match(line)
    if m:
        return f"after {m['what']}"
    return line.split(":", 1)[0].removesuffix("...").strip()


def segments(samples: list[tuple[float, int]], events: list[tuple[float, str]], t0: float
             ) -> list[tuple[str, float, int]]:
    """``(label, seconds from the start, peak KiB)`` per run of samples under the same last stderr line.

    A phase line shows 2 s into its phase, so a phase's first 2 s count under the line before it."""
    out: list[tuple[str, float, int]] = []
    e = 0
    label = "start"
    for ts, kib in samples:
        while e < len(events) and events[e][0] <= ts:
            label = label_of(events[e][1])
            e += 1
        if out and out[-1][0] == label:
            out[-1] = (label, out[-1][1], max(out[-1][2], kib))
        else:
            out.append((label, ts - t0, kib))
    return out


def run(items: int, workers: int, work: Path, target: float, *, rerun: bool = False) -> int:
    items_file = work / "items.csv"
    if not items_file.exists():
        write_items(items_file, items)
    db = work / "run.db"
    for stale in work.glob("run.db*") if not rerun else ():
        stale.unlink()
    annotate = Path(sys.executable).with_name("annotate")
    if not annotate.exists():
        raise SystemExit(f"no {annotate}: run this with the Python of the venv annotate is installed in")
    cmd = [str(annotate), "run", str(SPEC), "--items", str(items_file), "--db", f"sqlite:///{db}", "--simulate",
           "--workers", str(workers), "--out", str(work / "out")]
    load_before = os.getloadavg()
    t0 = time.monotonic()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    samples: list[tuple[float, int]] = []
    events: list[tuple[float, str]] = []
    out_lines: list[str] = []

    def sample() -> None:
        while child.returncode is None:
            kib = rss_kib(child.pid)
            if not kib:
                return
            samples.append((time.monotonic(), kib))
            time.sleep(0.02)

    def read_stderr() -> None:
        assert child.stderr is not None
        buf = b""
        while chunk := child.stderr.read1(65536):
            buf += chunk
            *lines, buf = re.split(rb"[\r\n]", buf)
            now = time.monotonic()
            events.extend((now, ln.decode(errors="replace").strip()) for ln in lines if ln.strip())

    def read_stdout() -> None:
        assert child.stdout is not None
        out_lines.extend(ln.decode(errors="replace").rstrip() for ln in child.stdout)

    threads = [threading.Thread(target=f, daemon=True) for f in (sample, read_stderr, read_stdout)]
    for th in threads:
        th.start()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    for th in threads:
        th.join(timeout=5)
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    print(f"annotate run {SPEC.name} --simulate: {items:,} items, {workers} workers; {os.cpu_count()} CPU cores, "
          f"load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"  exit {child.returncode}, wall {wall:.1f} s, CPU {usage.ru_utime + usage.ru_stime:.1f} s "
          f"(user {usage.ru_utime:.1f}), peak RSS {peak:.0f} MiB (ru_maxrss), {len(samples)} samples")
    print(f"  {'part of the command (by its last stderr line)':<52} {'from s':>7} {'peak MiB':>9}")
    for label, start, kib in segments(samples, events, t0):
        print(f"  {label[:52]:<52} {start:>7.0f} {kib / 1024:>9.0f}")
    for line in out_lines:
        if line.strip().startswith(("job ", "items", "answers", "usable", "accuracy", "state")):
            print("  |", line.strip())
    if child.returncode:
        print("\n".join(line for _, line in events[-20:]), file=sys.stderr)
    ok = child.returncode == 0 and peak <= target
    print(f"target: peak <= {target:.0f} MiB: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000, help="items in the job (default 100000)")
    parser.add_argument("--workers", type=int, default=300, help="simulated workers (default 300)")
    parser.add_argument("--target", type=float, default=TARGET_MIB, help="peak MiB to meet (default 500)")
    parser.add_argument("--keep", help="a directory to keep the items, database and outputs in")
    parser.add_argument("--rerun", action="store_true",
                        help="with --keep: run the same command on the kept database, whose job resumes "
                             "completed (everything but the simulation's work, for the phases after it)")
    args = parser.parse_args()
    if args.rerun and not args.keep:
        parser.error("--rerun needs --keep DIR (the database of an earlier run)")
    if args.keep:
        work = Path(args.keep)
        work.mkdir(parents=True, exist_ok=True)
        return run(args.items, args.workers, work, args.target, rerun=args.rerun)
    with tempfile.TemporaryDirectory(prefix="annotate-runmem-") as tmp:
        return run(args.items, args.workers, Path(tmp), args.target)


if __name__ == "__main__":
    sys.exit(main())
