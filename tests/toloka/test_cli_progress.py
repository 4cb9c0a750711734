"""Every phase of a Toloka job that can run long says so on stderr (issue 16), through the CLI against the
stateful fake on loopback: the upload's bar, starting the pool, then reading the answers, aggregating
and writing the files of ``annotate results``. ``NOTICE_AFTER = 0`` makes every phase count as long."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotate_core import phases
from annotate_core.cli.main import cli
from annotate_core.testing.faults import FaultyServer

from .fake_toloka import FakeToloka


@pytest.fixture
def toloka_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeToloka]:
    """``annotate.toml`` with a profile ``t`` on the fake Toloka; every phase counts as long."""
    fake = FakeToloka()
    server = FaultyServer(fake.handle)
    server.start()
    config = tmp_path / "annotate.toml"
    config.write_text(f'[profiles.t]\ndriver = "toloka"\ntoken_env = "FAKE_TOLOKA_TOKEN"\nbase_url = "{server.url}"\n'
                      'poll_interval = 0\npage_size = 2\n')
    monkeypatch.setenv("ANNOTATE_CONFIG", str(config))
    monkeypatch.setenv("FAKE_TOLOKA_TOKEN", fake.token)
    monkeypatch.setattr(phases, "NOTICE_AFTER", 0)
    yield fake
    server.stop()


def test_run_and_results_announce_every_phase_on_toloka(tmp_path: Path, examples_dir: Path,
                                                        toloka_profile: FakeToloka) -> None:
    items = tmp_path / "items.csv"
    with items.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "image"])
        w.writerows([f"k{i}", f"https://example.com/{i}.jpg"] for i in range(7))
    spec = tmp_path / "cats.yaml"  # the tour's spec without golden mixing: these items have no golden answers
    tour = (examples_dir / "cats_vs_dogs.yaml").read_text()
    spec.write_text(tour.replace("golden_per_batch: 1", "golden_per_batch: 0"))
    r = CliRunner().invoke(cli, ["run", str(spec), "--profile", "t", "--items", str(items)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    job_id = r.stdout.split("job ")[1].split()[0]
    lines = r.stderr.replace("\r", "\n").splitlines()
    assert any(line.startswith("upload Cat or Dog?:") and "/7 [" in line for line in lines), r.stderr  # tqdm's bar
    for line in (f"checking {items}...", f"starting job {job_id}..."):
        assert line in lines, (line, r.stderr)

    assert toloka_profile.answer_pool(job_id, lambda task: {"result": "cat"}) == 7 * 3  # overlap 3: pages of 2
    out = tmp_path / "results.csv"
    res = CliRunner().invoke(cli, ["results", job_id, "--profile", "t", "-o", str(out),
                                   "--answers", str(tmp_path / "answers.csv")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    for line in ("reading answers...", "aggregating with Dawid-Skene...", f"writing {out}...",
                 f"writing {tmp_path / 'answers.csv'}..."):
        assert line in res.stderr.splitlines(), (line, res.stderr)
    assert "reading answers: done in " in res.stderr
    assert len(out.read_text().splitlines()) == 8  # header + one row per item

    quiet = CliRunner().invoke(cli, ["results", job_id, "--profile", "t", "--no-progress"])
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_upload_progress_and_status_reading_the_answers_it_counts(toloka_profile: FakeToloka) -> None:
    from annotate_core import connect
    from annotate_core.testing.suite import conformance_items

    from . import expected as e

    client = connect("t")
    job = client.create_job(e.CATS)
    done: list[int] = []  # what moves the upload's bar: every item counted once
    client.backend.add_items(job.id, e.CATS, conformance_items(3, golden=1), on_progress=done.append)
    assert sum(done) == 3
    job.start()
    toloka_profile.answer_pool(job.id, lambda task: {"result": "dog"})
    r = CliRunner().invoke(cli, ["status", job.id, "--profile", "t"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "counting items and answers..." in r.stderr.splitlines(), r.stderr
    assert "counting" not in r.stdout
