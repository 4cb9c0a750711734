"""The rehearsal of examples/compare end to end on the local backend: two simulated vendors, then the
same two jobs compared again by id from their SQLite stores."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import annotate_core as ac
from annotate_core.cli.main import cli

from . import browser

browser.need("annotate_local", "pip install -e backends/local")
browser.need("matplotlib", "pip install -e '.[report]'")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CONFIG = EXAMPLES / "compare" / "annotate.toml"
ITEMS = EXAMPLES / "compare" / "items.csv"
SPEC = EXAMPLES / "cats_vs_dogs.yaml"


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, str]:
    """The README's command, run once in a scratch directory (the profiles' SQLite files land there)."""
    where = tmp_path_factory.mktemp("rehearsal")
    mp = pytest.MonkeyPatch()
    mp.chdir(where)
    try:
        res = CliRunner().invoke(cli, [
            "--config", str(CONFIG), "compare", "--spec", str(SPEC), "--items", str(ITEMS),
            "--profile", "cheap", "--profile", "careful", "--simulate", "--out", "report", "--poll", "0"])
    finally:
        mp.undo()
    assert res.exit_code == 0, res.output
    jobs = {j["job"]: j for j in json.loads((where / "report" / "metrics.json").read_text())["jobs"]}
    return where, jobs, res.output


def test_rehearsal_gives_a_meaningful_comparison(rehearsal) -> None:
    where, jobs, _ = rehearsal
    cheap, careful = jobs["cheap"], jobs["careful"]
    for j in (cheap, careful):
        assert j["backend"] == "local" and j["state"] == "completed"
        # 202 items, 20 golden; the hidden truth:result column gave a known label to every other item
        assert (j["items"], j["golden_items"], j["truth_items"]) == (202, 20, 202)
        assert j["accuracy_basis"] == "truth"
        assert j["cost_source"] == "reported" and j["currency"] == "USD"
        assert j["banned_source"] == "progress"
        assert set(j) >= {"acc_truth_mv", "acc_truth_ds", "alpha", "turnaround_h", "answers_per_hour"}
    # what the two profiles were tuned to show
    assert careful["accuracy"] > cheap["accuracy"] + 0.1
    assert careful["alpha"] > cheap["alpha"]
    assert cheap["cost"] < careful["cost"]
    assert cheap["banned_workers_share"] > 0 and careful["banned_workers_share"] == 0
    # each profile kept its own store
    assert (where / "compare-cheap.db").is_file() and (where / "compare-careful.db").is_file()
    html = (where / "report" / "report.html").read_text(encoding="utf-8")
    assert "Most accurate: <b>careful</b>" in html and "Cheapest: <b>cheap</b>" in html


def test_rehearsal_prints_a_plain_verdict_with_currencies(rehearsal) -> None:
    _, jobs, output = rehearsal
    verdict = [line[2:] for line in output.splitlines() if line.startswith("* ")]
    assert len(verdict) >= 4, output
    for line in verdict:  # text for a terminal: no markup, no HTML entities
        assert "<" not in line and ">" not in line and not re.search(r"&#?\w+;", line), line
    cost = jobs["cheap"]["cost"]
    assert f"Cheapest: cheap — {cost:.4g} USD (reported)." in verdict
    (tradeoff,) = [line for line in verdict if line.startswith("Trade-off")]
    # every amount of money in it is followed by its currency
    amounts = re.findall(r"for (\S+) (\S+) more, that is (\S+) (\S+) per extra", tradeoff)
    assert amounts and amounts[0][1] == amounts[0][3] == "USD", tradeoff
    table = {line.split("  ")[0]: line for line in output.splitlines()}
    assert table["cost"].split()[-4:] == [f"{cost:.4g}", "USD", f"{jobs['careful']['cost']:.4g}", "USD"]


def test_the_report_directory_of_the_example_is_git_ignored(tmp_path: Path) -> None:
    """The README's command writes examples/compare/report/: it must not show up in `git status`."""
    git = shutil.which("git")
    assert git, "git is needed to check the repository's .gitignore"
    shutil.copy(EXAMPLES.parent / ".gitignore", tmp_path / ".gitignore")
    subprocess.run([git, "init", "-q", str(tmp_path)], check=True)

    def ignored(path: str) -> bool:
        res = subprocess.run([git, "-C", str(tmp_path), "check-ignore", "-q", "--no-index", path], check=False)
        assert res.returncode in (0, 1), res
        return res.returncode == 0

    assert ignored("examples/compare/report/report.html")
    assert ignored("examples/compare/report/metrics.csv")
    assert not ignored("examples/compare/items.csv") and not ignored("examples/compare/annotate.toml")


def test_profile_spec_overrides_reached_the_jobs(rehearsal, monkeypatch: pytest.MonkeyPatch) -> None:
    where, jobs, _ = rehearsal
    monkeypatch.chdir(where)
    from annotate_core.comparison.run import resolve_profiles

    for target in resolve_profiles(["cheap", "careful"], config=CONFIG):
        with target.connect() as client:
            spec = client.job(jobs[target.name]["job_id"]).spec
        assert spec.pricing == target.spec_for(ac.load_spec(SPEC)).pricing
    assert {t.name: t.spec_overrides["pricing"]["reward_per_batch"]
            for t in resolve_profiles(["cheap", "careful"], config=CONFIG)} == {"cheap": 0.005, "careful": 0.03}


def test_the_same_jobs_compared_again_by_id(rehearsal, monkeypatch: pytest.MonkeyPatch) -> None:
    where, jobs, _ = rehearsal
    monkeypatch.chdir(where)
    refs = [f"cheap:{jobs['cheap']['job_id']}", f"careful:{jobs['careful']['job_id']}"]
    truth = where / "truth.csv"
    rows = [ln.split(",") for ln in ITEMS.read_text().splitlines()[1:]]
    truth.write_text("key,label\n" + "".join(f"{r[0]},{r[3]}\n" for r in rows if r[3]), encoding="utf-8")
    res = CliRunner().invoke(cli, ["--config", str(CONFIG), "compare", *refs, "--truth", str(truth), "--json"])
    assert res.exit_code == 0, res.output
    again = {j["profile"]: j for j in json.loads(res.output)["jobs"]}
    for name in ("cheap", "careful"):
        for col in ("answers", "truth_items", "acc_truth_mv", "acc_truth_ds", "alpha", "cost", "turnaround_h",
                    "banned_workers_share", "rejected_answers_share"):
            assert again[name][col] == pytest.approx(jobs[name][col]), (name, col)
