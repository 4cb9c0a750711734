"""Every phase of a Dataloop job that can run long says so on stderr (issue 16), through the CLI against the
fake gate on loopback: the upload's bar, starting the task, then reading the answers (items and their
annotations, page after page), aggregating and writing the files of ``annotate results``, and the
answers ``annotate status`` reads to count them. ``NOTICE_AFTER = 0`` makes every phase count as long."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotate_core import phases
from annotate_core.cli.main import cli
from annotate_core.stored_spec import spec_document
from annotate_core.testing.specs import base_spec

from .faulty import FaultyDataloop, served_gate
from .helpers import fake_jwt


@pytest.fixture
def dataloop_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultyDataloop]:
    """``annotate.toml`` with a profile ``d`` on the fake gate; every phase counts as long."""
    with served_gate() as vendor:
        vendor.gate.settle()
        config = tmp_path / "annotate.toml"
        config.write_text(f'[profiles.d]\ndriver = "dataloop"\ntoken_env = "FAKE_DATALOOP_TOKEN"\n'
                          f'base_url = "{vendor.server.url}/api/v1"\nproject = "my-project"\ndataset = "my-dataset"\n'
                          'poll_interval = 0\nbackoff_factor = 0\n')
        monkeypatch.setenv("ANNOTATE_CONFIG", str(config))
        monkeypatch.setenv("FAKE_DATALOOP_TOKEN", fake_jwt(4102444800))
        monkeypatch.setattr(phases, "NOTICE_AFTER", 0)
        yield vendor


def test_run_results_and_status_announce_every_phase_on_dataloop(tmp_path: Path,
                                                                 dataloop_profile: FaultyDataloop) -> None:
    backend = dataloop_profile.backend()
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(spec_document(base_spec(frozenset(backend.capabilities)))))
    backend.close_backend()
    spec = spec.rename(tmp_path / "spec.yaml")  # JSON is YAML
    items = tmp_path / "items.csv"
    with items.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "image"])
        w.writerows([f"k{i}", f"https://example.com/{i}.jpg"] for i in range(5))
    r = CliRunner().invoke(cli, ["run", str(spec), "--profile", "d", "--items", str(items)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    job_id = r.stdout.split("job ")[1].split()[0]
    lines = r.stderr.replace("\r", "\n").splitlines()
    assert any(line.startswith("upload conformance:") and "/5 [" in line for line in lines), r.stderr  # tqdm's bar
    for line in (f"checking {items}...", f"starting job {job_id}..."):
        assert line in lines, (line, r.stderr)

    dataloop_profile.answer(job_id, [])
    out = tmp_path / "results.csv"
    res = CliRunner().invoke(cli, ["results", job_id, "--profile", "d", "-o", str(out),
                                   "--answers", str(tmp_path / "answers.csv")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    for line in ("reading answers...", "aggregating with Dawid-Skene...", f"writing {out}...",
                 f"writing {tmp_path / 'answers.csv'}..."):
        assert line in res.stderr.splitlines(), (line, res.stderr)
    assert len(out.read_text().splitlines()) == 6  # header + one row per item

    status = CliRunner().invoke(cli, ["status", job_id, "--profile", "d"], catch_exceptions=False)
    assert status.exit_code == 0, status.output
    assert "counting items and answers..." in status.stderr.splitlines(), status.stderr

    quiet = CliRunner().invoke(cli, ["results", job_id, "--profile", "d", "--no-progress"])
    assert quiet.exit_code == 0 and quiet.stderr == ""
