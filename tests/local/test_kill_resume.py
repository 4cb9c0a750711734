"""``annotate run`` killed with SIGKILL at random points, then rerun: one job, every item once, done.

Real processes, real ``kill -9``: whatever the moment (before the job exists, mid-upload, mid-
simulation, while writing files), the same command run again attaches to the job by its derived job
key, adds only the missing items, takes back the work the dead crowd held and finishes the job
without exceeding overlap.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

N_ITEMS = 120
OVERLAP = 3
SPEC = """\
name: pets
inputs: [{name: image, type: image}]
outputs: [{name: result, type: label, options: [cat, dog]}]
overlap: {count: 3}
distribution: {kind: pulling, batch_size: 5}
"""


@pytest.fixture(scope="module")
def job_files(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("kill")
    (d / "spec.yaml").write_text(SPEC)
    with open(d / "items.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "image", "truth:result"])
        for i in range(N_ITEMS):
            w.writerow([f"it-{i:04d}", f"https://example.com/{i}.jpg", "cat" if i % 3 else "dog"])
    return d


def _command(files: Path, db: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "annotate_core.cli.main", "run", str(files / "spec.yaml"),
            "--items", str(files / "items.csv"), "--db", str(db), "--simulate", "--no-progress",
            "--workers", "12", "--out", str(out)]


def _start(cmd: list[str], db: Path) -> tuple[subprocess.Popen[bytes], float]:
    """Start ``cmd``; return it with the seconds it took to open the store (most of it is start-up)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while not db.exists() and proc.poll() is None and time.monotonic() - t0 < 60:
        time.sleep(0.005)
    return proc, time.monotonic() - t0


@pytest.fixture(scope="module")
def phases(job_files, tmp_path_factory) -> tuple[float, float]:
    """(seconds before the store exists, seconds after) of an uninterrupted run, to aim the kills."""
    d = tmp_path_factory.mktemp("full")
    proc, before = _start(_command(job_files, d / "a.db", d / "out"), d / "a.db")
    t0 = time.monotonic()
    proc.communicate(timeout=120)
    assert proc.returncode == 0
    return before, time.monotonic() - t0


@pytest.mark.parametrize("seed", range(20))
def test_a_run_killed_anywhere_resumes_to_one_complete_job(seed, job_files, phases, tmp_path) -> None:
    db, out = tmp_path / "a.db", tmp_path / "out"
    cmd = _command(job_files, db, out)
    rng = random.Random(seed)
    before, after = phases
    if seed % 5 == 0:  # while starting up, before the store or the job exists
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.1, 1.0) * before)
    else:  # once the store is open: creating the job, uploading, simulating, writing results
        proc, _ = _start(cmd, db)
        time.sleep(rng.uniform(0.0, 0.9) * after)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)

    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    if proc.returncode == -signal.SIGKILL and db.exists():
        assert "resumed" in rerun.stdout or "created" in rerun.stdout

    with sqlite3.connect(db) as conn:
        jobs = conn.execute("select id, state from annotate_jobs").fetchall()
        assert len(jobs) == 1, jobs
        assert jobs[0][1] == "completed"
        items = conn.execute("select key, count(*) from annotate_items where kind = 'real' group by key").fetchall()
        assert len(items) == N_ITEMS and {n for _, n in items} == {1}
        assert conn.execute("select count(*) from annotate_assignments where status = 'active'").fetchone()[0] == 0

    answers = pd.read_csv(out / "answers.csv")
    assert not answers.duplicated(["assignment", "task"]).any()
    counted = answers[answers["status"].isin(["submitted", "accepted"])].groupby("task").size()
    assert len(counted) == N_ITEMS
    assert counted.max() == OVERLAP and counted.min() == OVERLAP  # overlap met, never exceeded
    results = pd.read_csv(out / "results.csv")
    assert sorted(results["key"]) == [f"it-{i:04d}" for i in range(N_ITEMS)]


def test_ctrl_c_says_how_to_resume_and_the_rerun_finishes(job_files, tmp_path) -> None:
    db, out = tmp_path / "a.db", tmp_path / "out"
    big = tmp_path / "big"  # a job that runs for seconds after it is created, so Ctrl-C lands inside it
    big.mkdir()
    (big / "spec.yaml").write_text(SPEC)
    with open(big / "items.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "image"])
        w.writerows([f"big-{i:05d}", f"https://example.com/big/{i}.jpg"] for i in range(800))
    cmd = _command(big, db, out)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})  # the first line as soon as it is said
    assert proc.stdout is not None
    first = proc.stdout.readline()  # "job ... created with job key ..." once the job exists
    assert "created with job key" in first
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted: job" in err and "rerun the same command to resume it" in err
    assert "Traceback" not in err
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert "resumed" in rerun.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("select state from annotate_jobs").fetchall() == [("completed",)]
