"""One job, one set of counts: the run summary, ``annotate status``, answers.csv, results.csv,
``annotate compare`` and the simulator's summary agree, under the names of ``annotate_core.counts``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from annotate_core.cli.main import cli
from annotate_core.counts import STATUSES, Counts, count_answers


def invoke(*args: str):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def counts_lines(output: str) -> list[str]:
    """The three lines every surface prints from ``Counts.lines()``."""
    return [ln.strip() for ln in output.splitlines() if ln.strip().split(" ")[0] in ("items", "answers", "usable")]


def from_csv(answers: pd.DataFrame, results: pd.DataFrame) -> dict[str, int]:
    """The counts as a reader of the two CSV files computes them by hand."""
    status = answers["status"].value_counts()
    usable = answers[answers["status"].isin(["submitted", "accepted"])]
    return {
        "items": len(results), "items_to_label": int((~results["golden"]).sum()),
        "golden_items": int(results["golden"].sum()),
        "answers": len(answers), **{s: int(status.get(s, 0)) for s in STATUSES},
        "usable_answers": len(usable), "golden_answers": int(usable["golden"].sum()),
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The demo's job (202 items, default crowd): rejected and expired answers occur, so every count differs."""
    where = tmp_path_factory.mktemp("counts")
    r = invoke("demo", "--no-progress", "--db", str(where / "annotate.db"), "--out", str(where / "out"))
    job_id = r.output.split("annotate status ")[1].split()[0]
    return where, job_id, r.output


def test_summary_status_csv_files_and_compare_agree(demo: tuple[Path, str, str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    where, job_id, summary = demo
    answers = pd.read_csv(where / "out" / "answers.csv")
    results = pd.read_csv(where / "out" / "results.csv")
    expected = from_csv(answers, results)
    # the demo job is big and noisy enough that no two of these numbers coincide by accident
    assert expected["rejected"] > 0 and expected["expired"] > 0 and expected["golden_answers"] > 0
    assert expected["items"] == 202 and expected["golden_items"] == 20

    # results.csv: n_answers counts the usable answers of each item
    assert results["n_answers"].sum() == expected["usable_answers"]
    assert results.loc[results["golden"], "n_answers"].sum() == expected["golden_answers"]

    # annotate status --json carries the same counts, and its text prints the summary's own lines
    status = json.loads(invoke("status", job_id, "--db", str(where / "annotate.db"), "--json").output)
    assert status["counts"] == expected
    text = invoke("status", job_id, "--db", str(where / "annotate.db")).output
    by_hand = [f"{heading:<10} {line}" for heading, line in _counts(expected).lines()]
    assert counts_lines(text) == counts_lines(summary) == by_hand
    assert f"{expected['answers']} ({expected['submitted']} submitted" in text
    assert f"{expected['usable_answers']} answers (submitted + accepted)" in summary
    documented = (Path(__file__).resolve().parents[2] / "docs" / "counts.md").read_text(encoding="utf-8")
    for line in counts_lines(summary):  # docs/counts.md shows this very job's lines
        assert f"  {line}\n" in documented, line

    # annotate compare on the finished job: the same numbers under the same names
    monkeypatch.chdir(where)  # the local backend's default store is ./annotate.db
    metrics = json.loads(invoke("compare", f"local:{job_id}", "--json").output)["jobs"][0]
    assert {k: metrics[k] for k in expected} == expected
    table = invoke("compare", f"local:{job_id}").output
    rows = {cells[0]: cells[1:] for cells in (re.split(r"\s{2,}", ln.strip()) for ln in table.splitlines())}
    assert rows["usable answers"] == [str(expected["usable_answers"])]
    assert rows["golden answers"] == [str(expected["golden_answers"])]
    assert rows["answers"] == [str(expected["answers"])] and rows["items to label"] == [str(expected["items_to_label"])]


def _counts(d: dict[str, int]) -> Counts:
    return Counts(d["items_to_label"], d["golden_items"], {s: d[s] for s in STATUSES}, d["golden_answers"])


def test_the_simulator_summary_uses_the_same_counts(tmp_path: Path, examples_dir: Path) -> None:
    from annotate_local.datasets import cats_vs_dogs, split_truth

    import annotate_core as ac

    client = ac.connect(driver="local", path=str(tmp_path / "s.db"))
    with client:
        job = client.create_job(ac.load_spec(examples_dir / "cats_vs_dogs.yaml"))
        rows, truth = split_truth(cats_vs_dogs(60, seed=4))
        job.add_items(rows, progress=False)
        job.start()
        client.backend.set_truth(job.id, truth)
        summary = job.simulate(workers=15, seed=4, progress=False)
        df = job.answers()
    counted = count_answers(df, "result", items_to_label=54, golden_items=6).to_dict()
    assert {k: summary[k] for k in counted} == counted
    assert summary["answers"] == len(df) and summary["items"] == 60


def test_counts_of_a_multi_output_job_count_each_answer_once() -> None:
    rows = [{"task": "g" if g else "a", "item_key": "g" if g else "a", "worker": w, "field": f, "label": "x",
             "status": s, "golden": g}
            for w, s, g in (("w1", "submitted", False), ("w2", "rejected", False), ("w3", "accepted", True))
            for f in ("first", "second")]
    from annotate_core.answers import answers_frame

    c = count_answers(answers_frame(rows), "second")
    assert (c.answers, c.usable_answers, c.golden_answers, c.status("rejected")) == (3, 2, 1, 1)
    assert c.to_dict()["items"] == 2  # one item to label, one golden, as seen in the answers
