"""Every long phase of ``annotate run --simulate``, ``results`` and ``demo`` says so on stderr (issue 16),
and ``--no-progress`` keeps them quiet. ``NOTICE_AFTER = 0`` makes every phase count as long."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotate_core import phases
from annotate_core.cli.main import cli


@pytest.fixture
def every_phase_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(phases, "NOTICE_AFTER", 0)


def items_file(tmp_path: Path) -> Path:
    items = tmp_path / "items.csv"
    with items.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "image", "golden:result", "truth:result"])
        w.writerow(["gold", "https://example.com/gold.jpg", "cat", ""])  # the spec mixes one into every batch
        for i in range(20):
            w.writerow([f"k{i}", f"https://example.com/{i}.jpg", "", "cat" if i % 3 else "dog"])
    return items


def test_run_simulate_and_results_announce_their_phases(tmp_path, examples_dir, every_phase_long) -> None:
    items, db, out = items_file(tmp_path), tmp_path / "run.db", tmp_path / "out"
    r = CliRunner().invoke(cli, ["run", str(examples_dir / "cats_vs_dogs.yaml"), "--db", str(db), "--items",
                                 str(items), "--simulate", "--workers", "8", "--out", str(out)],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    job_id = r.stdout.split("job ")[1].split()[0]
    for line in (f"checking {items}...", f"starting job {job_id}...", "preparing the simulated workforce...",
                 "summing up the simulation...", f"reading answers into {out / 'answers.csv'}...",
                 "counting items and answers...", "aggregating with majority vote...",
                 "aggregating with Dawid-Skene...", "comparing with the hidden truth...",
                 f"writing {out / 'results.csv'}..."):
        assert line in r.stderr.splitlines(), (line, r.stderr)
    assert f"reading answers into {out / 'answers.csv'}: done in " in r.stderr
    assert "reading answers" not in r.stdout  # the summary on stdout stays as it was

    res = CliRunner().invoke(cli, ["results", job_id, "--db", str(db), "-o", str(tmp_path / "r.csv")])
    assert res.exit_code == 0, res.output
    for line in ("reading answers...", "aggregating with Dawid-Skene...", f"writing {tmp_path / 'r.csv'}..."):
        assert line in res.stderr.splitlines(), (line, res.stderr)

    quiet = CliRunner().invoke(cli, ["results", job_id, "--db", str(db), "--no-progress"])
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert quiet.stdout.startswith("key,")


def test_no_progress_silences_every_phase_line(tmp_path, examples_dir, every_phase_long) -> None:
    r = CliRunner().invoke(cli, ["run", str(examples_dir / "cats_vs_dogs.yaml"), "--db", str(tmp_path / "q.db"),
                                 "--items", str(items_file(tmp_path)), "--simulate", "--workers", "8",
                                 "--no-progress", "--out", str(tmp_path)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "..." not in r.stderr and "done in" not in r.stderr


def test_demo_announces_generating_and_aggregating(tmp_path, every_phase_long) -> None:
    r = CliRunner().invoke(cli, ["demo", "--items", "30", "--db", str(tmp_path / "d.db"), "--out", str(tmp_path)],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    lines = r.stderr.splitlines()
    for line in ("generating 30 items...", f"reading answers into {tmp_path / 'answers.csv'}...",
                 "aggregating with Dawid-Skene..."):
        assert line in lines, (line, r.stderr)


def test_upload_bar_and_status_counting_on_the_local_store(tmp_path, examples_dir, every_phase_long) -> None:
    db = tmp_path / "s.db"
    r = CliRunner().invoke(cli, ["run", str(examples_dir / "cats_vs_dogs.yaml"), "--db", str(db), "--items",
                                 str(items_file(tmp_path))], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    lines = r.stderr.replace("\r", "\n").splitlines()
    assert any(line.startswith("upload Cat or Dog?:") and "/21 [" in line for line in lines), r.stderr  # tqdm's bar
    job_id = r.stdout.split("job ")[1].split()[0]
    status = CliRunner().invoke(cli, ["status", job_id, "--db", str(db)], catch_exceptions=False)
    assert status.exit_code == 0, status.output
    assert "counting items and answers..." in status.stderr.splitlines(), status.stderr
    assert "counting" not in status.stdout
    quiet = CliRunner().invoke(cli, ["status", job_id, "--db", str(db), "--no-progress"], catch_exceptions=False)
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == status.stdout
