"""``annotate_core.comparison`` and ``annotate compare`` over Job handles of the third-party memory plugin."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

import annotate_core as ac
from annotate_core import JobSpec, Progress
from annotate_core.cli.main import cli
from annotate_core.comparison import comparison
from annotate_core.comparison import run as compare_run

from . import browser
from .conftest import GOLDEN, HAND_ANSWERS, TRUTH

browser.need("annotate_memory", "pip install -e tests/plugins/annotate-memory")
from annotate_memory import MemoryBackend  # noqa: E402


def memory_spec() -> JobSpec:
    """The memory plugin pays nobody: no pricing (so cost is unknown unless the backend reports one)."""
    return JobSpec.model_validate({
        "name": "cats",
        "inputs": [{"name": "image", "type": "image"}],
        "outputs": [{"name": "result", "type": "label", "options": ["cat", "dog"]}],
        "overlap": {"count": 3},
    })


class ReportingMemory(MemoryBackend):
    """The memory plugin, plus what some vendors report: the money spent and the workers banned."""

    name = "reporting-memory"

    def progress(self, job_id: str) -> Progress:
        p = super().progress(job_id)
        return Progress(p.state, p.total_items, p.completed_items, p.submitted_answers, p.expected_answers,
                        details={"cost": 1.5, "currency": "EUR", "banned_workers": ["w3"]})


def fill(client: ac.Client, rows=HAND_ANSWERS) -> ac.Job:
    job = client.create_job(memory_spec())
    items = [{"key": k, "image": f"https://img.example/{k}.jpg",
              **({"golden:result": GOLDEN[k]} if k in GOLDEN else {})} for k in ["g1", "g2", "i1", "i2", "i3"]]
    job.add_items(items, progress=False)
    job.start()
    for task, worker, label, status in rows:
        assignment = client.backend.record_answer(job.id, task, worker, label)
        if status != "submitted":
            job.review(assignment, accept=status == "accepted", comment=None if status == "accepted" else "wrong")
    return job


@pytest.fixture
def memory() -> ac.Client:
    return ac.connect(driver="memory")


def test_compare_is_exported_and_takes_job_handles(memory: ac.Client) -> None:
    job = fill(memory)
    df = ac.compare([job], truth=TRUTH, methods=("mv", "wawa"))
    row = df.iloc[0]
    assert row["job"] == f"memory:{job.id}" and row["backend"] == "memory"
    assert (row["items"], row["golden_items"], row["usable_answers"], row["workers"]) == (5, 2, 14, 3)
    assert (row["answers"], row["rejected"], row["golden_answers"]) == (15, 1, 6)  # annotate_core.counts
    # majority vote: g1 cat, g2 dog, i1 cat, i2 dog (truth cat), i3 dog -> golden 2/2, all 4/5.
    # WAWA weighs workers by agreement with MV (w1 5/5, w2 3/4, w3 3/5) and gives the same labels.
    assert row["acc_golden_mv"] == 1.0 and row["acc_truth_mv"] == pytest.approx(0.8)
    assert row["acc_golden_wawa"] == 1.0 and row["acc_truth_wawa"] == pytest.approx(0.8)
    assert row["alpha"] == pytest.approx(20 / 98)
    assert row["rejected_answers_share"] == pytest.approx(1 / 15)
    # the memory plugin reports no cost and no bans; its spec has no pricing
    assert row["cost_source"] == "unknown" and math.isnan(row["cost"])
    assert math.isnan(row["banned_workers_share"]) and row["banned_source"] is None
    assert row["state"] == "completed"


def test_aggregation_runs_without_the_golden_labels(memory: ac.Client) -> None:
    # everyone calls golden g1 a dog: a method given the golden labels would echo "cat" back and score 1.0
    rows = [(t, w, "dog" if t == "g1" else lab, s) for t, w, lab, s in HAND_ANSWERS]
    df = ac.compare([fill(memory, rows)], methods=("mv", "ds"))
    assert df.loc[0, "acc_golden_mv"] == 0.5
    assert df.loc[0, "acc_golden_ds"] == 0.5
    assert df.loc[0, "accuracy_basis"] == "golden" and df.loc[0, "accuracy"] == 0.5


def test_ds_column_is_the_aggregation_modules_answer(memory: ac.Client) -> None:
    from annotate_core.aggregation import aggregate

    job = fill(memory)
    df = ac.compare([job], truth=TRUTH, methods=("ds",))
    ok = job.answers()
    ok = ok[ok["status"].isin(["submitted", "accepted"])]
    ds = aggregate(ok[["task", "worker", "label"]], method="ds").set_index("task")["label"]
    truth = {**GOLDEN, **TRUTH}
    expected = sum(ds[t] == lab for t, lab in truth.items()) / len(truth)
    assert df.loc[0, "acc_truth_ds"] == pytest.approx(expected)


def test_reported_cost_and_bans_come_from_progress_details() -> None:
    client = ac.Client(ReportingMemory(), "vendor")
    job = fill(client)
    row = ac.compare([job], methods=("mv",), names=["vendor-a"]).iloc[0]
    assert row["job"] == "vendor-a"
    assert (row["cost"], row["currency"], row["cost_source"]) == (1.5, "EUR", "reported")
    assert row["cost_per_item"] == pytest.approx(0.5)  # 3 non-golden items
    assert row["banned_workers_share"] == pytest.approx(1 / 3) and row["banned_source"] == "progress"


def test_two_jobs_side_by_side(memory: ac.Client) -> None:
    good = fill(memory)
    # a sloppier crowd on the same items: w3 answers everything "cat"
    bad = fill(memory, [(t, w, "cat" if w == "w3" else lab, s) for t, w, lab, s in HAND_ANSWERS])
    c = comparison([good, bad], truth=TRUTH, methods=("mv",), names=["good", "bad"])
    m = c.metrics.set_index("job")
    assert list(m.index) == ["good", "bad"]
    # bad: g1 cat,cat,cat -> cat ok; g2 dog,cat,cat -> cat wrong; i2 dog,dog,cat -> dog wrong (truth cat);
    # i3 dog,cat -> tie, the label sorting first (cat) wins: wrong. i1 cat ok: 2 of 5.
    assert m.loc["bad", "acc_truth_mv"] == pytest.approx(0.4)
    assert m.loc["good", "accuracy"] > m.loc["bad", "accuracy"]
    assert set(c.workers["job"]) == {"good", "bad"}
    assert set(c.completion["job"]) == {"good", "bad"}


def test_names_must_match_jobs(memory: ac.Client) -> None:
    with pytest.raises(ValueError, match="one per job"):
        ac.compare([fill(memory)], names=["a", "b"])


# ---- the CLI over job ids ------------------------------------------------------------------------


@pytest.fixture
def shared_memory(monkeypatch: pytest.MonkeyPatch) -> dict[str, ac.Client]:
    """Profiles "mem" and "vendor" resolve to clients whose jobs live in this process."""
    clients = {"mem": ac.connect(driver="memory"), "vendor": ac.Client(ReportingMemory(), "vendor")}
    seen: list[Any] = []

    def fake_connect(profile: str | None = None, *, driver: str | None = None, **kw: Any) -> ac.Client:
        name = profile or driver
        seen.append(name)
        if name not in clients:
            raise ac.ConfigError(f"profile {name!r} not found")
        return clients[name]

    monkeypatch.setattr(compare_run, "connect", fake_connect)
    for c in clients.values():  # closing a memory client must not drop its jobs between refs
        monkeypatch.setattr(c, "close", lambda: None)
    clients["_seen"] = seen  # type: ignore[assignment]
    return clients


def test_cli_compares_job_ids_and_writes_the_outputs(shared_memory, tmp_path) -> None:
    a = fill(shared_memory["mem"])
    b = fill(shared_memory["vendor"])
    truth = tmp_path / "truth.csv"
    pd.DataFrame({"key": list(TRUTH), "label": list(TRUTH.values())}).to_csv(truth, index=False)
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["compare", f"mem:{a.id}", "--job", f"vendor:{b.id}", "--truth", str(truth),
                                   "-m", "mv", "--out", str(out)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].split()[1:] == [f"mem:{a.id}", f"vendor:{b.id}"]
    acc_line = next(x for x in lines if x.startswith("majority vote accuracy, all known"))
    assert acc_line.split()[-2:] == ["0.800", "0.800"]
    assert any(x.startswith("cost source") and x.split()[-2:] == ["unknown", "reported"] for x in lines)
    assert "* Most accurate:" in res.output and "<b>" not in res.output
    assert {p.name for p in out.iterdir()} == {"metrics.csv", "metrics.json", "report.html"}
    data = json.loads((out / "metrics.json").read_text())
    assert [j["profile"] for j in data["jobs"]] == ["mem", "vendor"]
    assert shared_memory["_seen"] == ["mem", "vendor"]  # one client per profile


def test_cli_json_output(shared_memory) -> None:
    a = fill(shared_memory["mem"])
    res = CliRunner().invoke(cli, ["compare", f"mem:{a.id}", "--json", "-m", "mv"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["methods"] == ["mv"] and data["jobs"][0]["acc_golden_mv"] == 1.0
    assert data["jobs"][0]["answer_acc_truth"] is None  # no truth file: null, not NaN


def test_cli_default_methods_are_every_method_without_golden_input(shared_memory) -> None:
    a = fill(shared_memory["mem"])
    res = CliRunner().invoke(cli, ["compare", f"mem:{a.id}", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["methods"] == ["mv", "ds", "ocds", "wawa", "glad", "mace"]
    for method in data["methods"]:
        assert data["jobs"][0][f"acc_golden_{method}"] == 1.0


@pytest.mark.parametrize(("args", "message"), [
    (["compare"], "nothing to compare"),
    (["compare", "no-colon"], "expected PROFILE:JOB_ID"),
    (["compare", "--profile", "x"], "give --spec SPEC"),
    (["compare", "local:1", "-m", "nope"], "unknown aggregation method 'nope'"),
    (["compare", "local:1", "-m", "gold_mv"], "needs the golden labels"),
])
def test_cli_usage_errors(args: list[str], message: str) -> None:
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2
    assert message in res.output


def test_cli_unknown_job_is_a_one_line_error(shared_memory) -> None:
    res = CliRunner().invoke(cli, ["compare", "mem:nope", "-m", "mv"])
    assert res.exit_code == 1
    assert "error:" in res.output and "nope" in res.output


def test_cli_without_matplotlib_writes_the_metrics_and_says_what_to_install(shared_memory, tmp_path,
                                                                              monkeypatch) -> None:
    import sys

    a = fill(shared_memory["mem"])
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the 'report' extra were not installed
    res = CliRunner().invoke(cli, ["compare", f"mem:{a.id}", "-m", "mv", "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert "pip install 'annotate-core[report]'" in res.output
    assert {p.name for p in (tmp_path / "o").iterdir()} == {"metrics.csv", "metrics.json"}


def test_cli_announces_long_phases_on_stderr_unless_no_progress(shared_memory, tmp_path, monkeypatch) -> None:
    from annotate_core import phases

    monkeypatch.setattr(phases, "NOTICE_AFTER", 0)  # every phase counts as long
    a = fill(shared_memory["mem"])
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["compare", f"mem:{a.id}", "--json", "-m", "mv", "--out", str(out)])
    assert res.exit_code == 0, res.output
    json.loads(res.stdout)  # stdout stays pure JSON
    lines = res.stderr.splitlines()
    for line in (f"reading the answers of mem:{a.id}...", "comparing 1 job(s): aggregating with mv...",
                 f"writing metrics to {out}...", f"writing {out / 'report.html'}..."):
        assert line in lines, (line, res.stderr)
    quiet = CliRunner().invoke(cli, ["compare", f"mem:{a.id}", "--json", "-m", "mv", "--no-progress"])
    assert quiet.exit_code == 0 and "..." not in quiet.stderr
