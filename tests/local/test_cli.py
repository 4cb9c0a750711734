"""The CLI on the local backend: ``annotate demo``, ``run --simulate``, ``status``, ``results``, ``jobs``."""

from __future__ import annotations

import csv
import json

import pandas as pd
from click.testing import CliRunner

from annotate_core.cli.main import cli


def invoke(*args: str):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def test_demo_end_to_end_and_rerun(tmp_path):
    db = tmp_path / "demo.db"
    out = tmp_path / "out"
    r = invoke("demo", "--no-progress", "--db", str(db), "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "202 (182 to label, 20 golden)" in r.output
    for word in ("answers", "bans", "QA review", "cost", "majority vote", "Dawid-Skene"):
        assert word in r.output
    res = pd.read_csv(out / "results.csv")
    assert list(res.columns) == ["key", "image", "label", "confidence", "n_answers", "golden", "method"]
    assert len(res) == 202 and set(res["label"]) <= {"cat", "dog"} and (res["method"] == "ds").all()
    answers = pd.read_csv(out / "answers.csv")
    assert {"task", "worker", "label", "status", "golden"} <= set(answers.columns) and len(answers) > 546
    job_id = r.output.split("annotate status ")[1].split()[0]
    again = invoke("demo", "--no-progress", "--db", str(db), "--out", str(out))  # rerunning works
    assert again.exit_code == 0, again.output
    st = invoke("status", job_id, "--db", str(db), "--json")
    data = json.loads(st.output)
    assert data["state"] == "completed" and data["total_items"] == 182 and data["name"] == "Cat or Dog?"
    listing = invoke("jobs", "--db", str(db))
    assert listing.output.count("Cat or Dog?") == 2


def test_demo_accuracy_beats_chance(tmp_path):
    r = invoke("demo", "--no-progress", "--db", str(tmp_path / "d.db"), "--out", str(tmp_path), "--seed", "5")
    line = next(ln for ln in r.output.splitlines() if "accuracy   vs" in ln)
    figures = [float(x.split("%")[0]) for x in line.split("majority vote ")[1].split("Dawid-Skene ")]
    assert all(f > 80 for f in figures), line


def test_run_simulate_status_and_results(tmp_path, examples_dir):
    items = tmp_path / "items.csv"
    with items.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "image", "golden:result", "truth:result"])
        for i in range(30):
            label = "cat" if i % 3 else "dog"
            w.writerow([f"k{i}", f"https://example.com/{i}.jpg", label if i < 3 else "", "" if i < 3 else label])
    db = tmp_path / "run.db"
    r = invoke("run", str(examples_dir / "cats_vs_dogs.yaml"), "--backend", "local", "--db", str(db),
               "--items", str(items), "--simulate", "--workers", "12", "--no-progress", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert "accuracy" in r.output
    job_id = r.output.split("annotate status ")[1].split()[0] if "annotate status" in r.output else None
    listing = invoke("jobs", "--db", str(db)).output.split()
    job_id = job_id or listing[0]
    st = invoke("status", job_id, "--backend", "local", "--db", str(db))
    assert "completed" in st.output and "27 of 27 items complete" in st.output
    out = tmp_path / "res.csv"
    res = invoke("results", job_id, "--db", str(db), "-o", str(out), "--method", "ds")
    assert res.exit_code == 0
    table = pd.read_csv(out)
    assert set(table["key"]) == {f"k{i}" for i in range(30)}
    stdout = invoke("results", job_id, "--db", str(db))
    assert stdout.output.startswith("key,image,label,confidence")
    from annotate_core.aggregation import AGGREGATORS

    for method in AGGREGATORS:  # every method is offered; golden items' known labels always win
        res = invoke("results", job_id, "--db", str(db), "-o", str(out), "--method", method)
        assert res.exit_code == 0, (method, res.output)
        table = pd.read_csv(out).set_index("key")
        assert set(table["label"]) <= {"cat", "dog"} and (table["method"] == method).all()
        assert (table.loc[["k0", "k1", "k2"], "label"] == ["dog", "cat", "cat"]).all()


def test_run_without_simulation_starts_the_job(tmp_path, examples_dir):
    items = tmp_path / "items.jsonl"
    rows = [{"key": f"j{i}", "image": f"https://e.com/{i}.png"} for i in range(4)]
    rows.append({"key": "gold", "image": "https://e.com/g.png", "golden:result": "cat"})  # the spec mixes one in
    items.write_text("\n".join(json.dumps(r) for r in rows))
    db = tmp_path / "r.db"
    r = invoke("run", str(examples_dir / "cats_vs_dogs.yaml"), "--db", str(db), "--items", str(items),
               "--no-progress")
    assert r.exit_code == 0 and "started on local with 5 item(s)" in r.output
    job_id = r.output.split()[1]
    st = invoke("status", job_id, "--db", str(db))
    assert "open" in st.output and "0 of 4 items complete" in st.output
    assert "nobody is working on it" in st.output  # and what to do about it


def test_results_of_a_job_without_answers_is_a_clear_error(tmp_path, examples_dir):
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"key": "a", "image": "https://e.com/a.png"}) + "\n"
                     + json.dumps({"key": "g", "image": "https://e.com/g.png", "golden:result": "cat"}))
    db = tmp_path / "r.db"
    job_id = invoke("run", str(examples_dir / "cats_vs_dogs.yaml"), "--db", str(db), "--items", str(items),
                    "--no-progress").output.split()[1]
    r = CliRunner().invoke(cli, ["results", job_id, "--db", str(db)])
    assert r.exit_code == 1 and "no usable answers" in r.output


def test_unknown_job_is_an_error(tmp_path):
    from annotate_local import LocalBackend

    LocalBackend(path=str(tmp_path / "x.db")).open_store().dispose()
    r = CliRunner().invoke(cli, ["status", "nope", "--db", str(tmp_path / "x.db")])
    assert r.exit_code == 1 and "job 'nope' not found" in r.output


def test_packaged_spec_matches_the_example(examples_dir):
    from importlib import resources

    shipped = (resources.files("annotate_local") / "data" / "cats_vs_dogs.yaml").read_text()
    assert shipped == (examples_dir / "cats_vs_dogs.yaml").read_text()
