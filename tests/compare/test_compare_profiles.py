"""``annotate compare --spec SPEC --profile A --profile B --simulate``: the same spec run on each profile.

A test backend (the memory plugin plus a seeded simulated crowd) stands in for any backend with the
``simulation`` capability, so these tests pin down the runner whatever the local backend simulates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from annotate_core import Capability, JobSpec
from annotate_core.cli.main import cli
from annotate_core.comparison.run import resolve_profiles, run_profiles
from annotate_core.errors import ConfigError
from annotate_core.registry import register_backend, unregister_backend

from . import browser

browser.need("annotate_memory", "pip install -e tests/plugins/annotate-memory")
from annotate_memory import MemoryBackend  # noqa: E402

SPEC = """
name: cats
inputs: [{name: image, type: image}]
outputs: [{name: result, type: label, options: [cat, dog]}]
overlap: {count: 3}
pricing: {reward_per_batch: 0.05, currency: USD}
distribution: {kind: pulling, batch_size: 5}
"""


class SimulatingMemory(MemoryBackend):
    """The memory plugin with a simulated crowd: ``workers`` workers of ``accuracy``, a share spammers."""

    name = "simmem"
    capabilities = MemoryBackend.capabilities | {Capability.SIMULATION, Capability.REWARD}
    calls: list[dict[str, Any]] = []

    def simulate(self, job_id: str, spec: JobSpec, *, workers: int = 10, accuracy: float = 0.8,
                 spammers: float = 0.0, seed: int = 0) -> dict[str, Any]:
        type(self).calls.append({"workers": workers, "accuracy": accuracy, "spammers": spammers, "seed": seed})
        rng = np.random.default_rng(seed)
        job = self._job(job_id)
        names = [f"w{i}" for i in range(workers)]
        n_spam = round(workers * spammers)
        for key, item in job["items"].items():
            truth = (item.golden or {}).get("result") or item.inputs["image"].rsplit("/", 1)[-1].split("-")[0]
            for w in rng.choice(names, size=spec.overlap.count, replace=False):
                p = 0.5 if names.index(w) < n_spam else accuracy
                label = truth if rng.random() < p else ("dog" if truth == "cat" else "cat")
                self.record_answer(job_id, key, str(w), label)
        self.close(job_id)
        return {"answers": len(job["answers"])}


@pytest.fixture
def simmem():
    register_backend("simmem", SimulatingMemory)
    SimulatingMemory.calls = []
    yield SimulatingMemory
    unregister_backend("simmem")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A spec, 60 items (6 golden; the true label is in each image name) and two profiles."""
    (tmp_path / "job.yaml").write_text(SPEC, encoding="utf-8")
    rng = np.random.default_rng(7)
    lines = ["key,image,golden:result"]
    truth = ["key,label"]
    for k in range(60):
        label = "cat" if rng.random() < 0.5 else "dog"
        lines.append(f"i{k},https://img.example/{label}-{k}.jpg,{label if k < 6 else ''}")
        truth.append(f"i{k},{label}")
    (tmp_path / "items.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "truth.csv").write_text("\n".join(truth) + "\n", encoding="utf-8")
    (tmp_path / "annotate.toml").write_text(
        """
[profiles.cheap]
driver = "simmem"
simulate = {workers = 30, accuracy = 0.65, spammers = 0.3}

[profiles.careful]
driver = "simmem"
simulate = {workers = 12, accuracy = 0.95, seed = 5}

[profiles.memory]
driver = "memory"
""", encoding="utf-8")
    return tmp_path


def test_cli_runs_the_spec_on_each_profile_and_compares(simmem, project: Path) -> None:
    out = project / "report"
    res = CliRunner().invoke(cli, [
        "--config", str(project / "annotate.toml"), "compare", "--spec", str(project / "job.yaml"),
        "--profile", "cheap", "--profile", "careful", "--simulate", "--items", str(project / "items.csv"),
        "--truth", str(project / "truth.csv"), "--seed", "3", "-m", "mv", "--poll", "0", "--out", str(out)])
    assert res.exit_code == 0, res.output
    # the profile's simulate table reached job.simulate; --seed filled in only where the profile had none
    assert simmem.calls == [{"workers": 30, "accuracy": 0.65, "spammers": 0.3, "seed": 3},
                            {"workers": 12, "accuracy": 0.95, "spammers": 0.0, "seed": 5}]
    data = json.loads((out / "metrics.json").read_text())
    jobs = {j["job"]: j for j in data["jobs"]}
    assert list(jobs) == ["cheap", "careful"]
    assert jobs["careful"]["accuracy"] > jobs["cheap"]["accuracy"]
    assert jobs["cheap"]["items"] == 60 and jobs["cheap"]["golden_items"] == 6 and jobs["cheap"]["answers"] == 180
    # the spec's pricing: 54 real items x 3 answers / 5 per batch -> 33 batches x 0.05
    assert jobs["cheap"]["cost"] == pytest.approx(1.65) and jobs["cheap"]["cost_source"] == "estimated"
    assert "Most accurate: careful" in res.output
    assert (out / "report.html").is_file()


def test_simulate_refuses_a_profile_that_cannot_simulate(simmem, project: Path) -> None:
    with pytest.raises(ConfigError, match="profile 'memory' .* has no simulated workforce"):
        resolve_profiles(["cheap", "memory"], config=project / "annotate.toml", simulate=True)
    res = CliRunner().invoke(cli, ["--config", str(project / "annotate.toml"), "compare", "--spec",
                                   str(project / "job.yaml"), "-p", "cheap", "-p", "memory", "--simulate"])
    assert res.exit_code == 1 and "no simulated workforce" in res.output
    assert simmem.calls == []  # refused before any job was created


def test_profile_simulate_table_must_be_a_table(simmem, tmp_path: Path) -> None:
    cfg = tmp_path / "annotate.toml"
    cfg.write_text('[profiles.bad]\ndriver = "simmem"\nsimulate = 3\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"profiles.bad.simulate: expected a table"):
        resolve_profiles(["bad"], config=cfg, simulate=True)


def test_unknown_simulate_setting_names_the_profile(simmem, tmp_path: Path, project: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[profiles.bad]\ndriver = "simmem"\nsimulate = {workerz = 3}\n', encoding="utf-8")
    from annotate_core.specfile import load_spec

    with pytest.raises(ConfigError, match=r"profiles.bad.simulate: .*workerz"):
        run_profiles(load_spec(project / "job.yaml"), ["bad"], items=project / "items.csv", simulate=True,
                     config=cfg, poll_interval=0, progress=False)


def test_python_runner_returns_job_data(simmem, project: Path) -> None:
    from annotate_core.comparison import compare
    from annotate_core.specfile import load_spec

    data = run_profiles(load_spec(project / "job.yaml"), ["careful"], items=project / "items.csv",
                        simulate=True, config=project / "annotate.toml", poll_interval=0, progress=False)
    assert [d.name for d in data] == ["careful"] and data[0].profile == "careful"
    assert data[0].simulation == {"answers": 180}
    df = compare(data, methods=("mv",))
    assert df.loc[0, "answers"] == 180
