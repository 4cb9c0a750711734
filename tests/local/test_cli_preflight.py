"""``annotate run`` and ``annotate demo`` check everything before any side effect.

The spec, every row of the items file and ``--out`` are checked before the store is opened: a bad
input exits 1 naming the line and field, and leaves no job (the store is not even created).
``--allow-partial`` keeps the valid rows. The demo's temporary store is removed when it ends.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotate_core.cli.main import cli
from annotate_core.client import connect

HEADER = "key,image,golden:result\n"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def rows(n: int, start: int = 0) -> str:
    """Item rows; img-0 carries a golden answer, as the spec mixes one golden item into every batch."""
    return "".join(f"img-{i},https://x.example/{i}.jpg,{'cat' if i == 0 else ''}\n" for i in range(start, start + n))


def run(examples_dir: Path, db: Path, items: Path, *extra: str):
    return invoke("run", str(examples_dir / "cats_vs_dogs.yaml"), "--backend", "local", "--db", str(db),
                  "--items", str(items), "--no-progress", *extra)


def job_count(db: Path) -> int:
    listing = invoke("jobs", "--db", str(db))
    assert listing.exit_code == 0, listing.output
    return 0 if listing.output.strip() == "no jobs" else len(listing.output.strip().splitlines())


def test_an_unclosed_quote_exits_1_with_its_line_and_creates_nothing(tmp_path, examples_dir) -> None:
    items = tmp_path / "items.csv"
    items.write_text(HEADER + rows(2) + 'img-9996,"https://x.example/a.jpg,,dog\n' + rows(3, 9997))
    db = tmp_path / "run.db"
    r = run(examples_dir, db, items)
    assert r.exit_code == 1, r.output
    assert "items.csv:4: a quote opened in this row is never closed" in r.output
    assert "Traceback" not in r.output
    assert not db.exists(), "the store was opened before the items were checked"


def test_a_quote_that_merges_two_rows_is_a_rejected_row(tmp_path, examples_dir) -> None:
    items = tmp_path / "items.csv"
    items.write_text(HEADER + rows(2) + 'img-9996,"https://x.example/a.jpg,,dog\nimg-9997,https://x.example/b.jpg",\n'
                     + rows(2, 9998))
    db = tmp_path / "run.db"
    r = run(examples_dir, db, items)
    assert r.exit_code == 1
    assert "items.csv: 1 of 5 row(s) rejected; nothing was created" in r.output
    assert "line 4 (item 'img-9996'): inputs.image: expected a URL without spaces, quotes or line breaks" in r.output
    assert "the row spans lines 4-5" in r.output
    assert not db.exists()


@pytest.mark.parametrize(("content", "message"), [
    (HEADER + rows(3) + "img-1,https://x.example/again.jpg,\n",
     "line 5 (item 'img-1'): key: duplicate key (first on line 3)"),
    ("key,img\n" + "".join(f"k{i},https://x.example/{i}.jpg\n" for i in range(5)),
     "line 1: img: unknown column"),
    ("", "the file is empty"),
    (HEADER, "the file has a header but no rows"),
])
def test_bad_files_create_no_job(tmp_path, examples_dir, content: str, message: str) -> None:
    items = tmp_path / "items.csv"
    items.write_text(content)
    db = tmp_path / "run.db"
    r = run(examples_dir, db, items)
    assert r.exit_code == 1, r.output
    assert message in r.output
    assert not db.exists()
    # a store that already holds a job gets no second one either
    good = tmp_path / "good.csv"
    good.write_text(HEADER + rows(2))
    assert run(examples_dir, db, good).exit_code == 0
    assert run(examples_dir, db, items).exit_code == 1
    assert job_count(db) == 1


def test_the_rejected_rows_listing_is_capped_with_a_count(tmp_path, examples_dir) -> None:
    items = tmp_path / "items.csv"
    items.write_text("key,image\n" + "".join(f"k{i},not-a-url-{i}\n" for i in range(45)) + "ok,https://x.io/a.jpg\n")
    r = run(examples_dir, tmp_path / "run.db", items)
    assert r.exit_code == 1
    assert "45 of 46 row(s) rejected" in r.output and "pass --allow-partial to keep the 1 valid row(s)" in r.output
    assert r.output.count("inputs.image: expected an http(s) URL") == 20
    assert "line 21 (item 'k19')" in r.output and "k20'" not in r.output
    assert "... and 25 more" in r.output


def test_allow_partial_keeps_the_valid_rows_and_lists_the_others(tmp_path, examples_dir) -> None:
    items = tmp_path / "items.csv"
    items.write_text(HEADER + rows(3) + "img-3,https://x.example/3.jpg,cow\nimg-4,https://x.example/4 .jpg,\n"
                     + rows(2, 5))
    db = tmp_path / "run.db"
    r = run(examples_dir, db, items, "--allow-partial")
    assert r.exit_code == 0, r.output
    assert "items.csv: 2 of 7 row(s) rejected; keeping the 5 valid row(s) (--allow-partial)" in r.output
    assert "line 5 (item 'img-3'): golden.result: expected one of ['cat', 'dog'], got 'cow'" in r.output
    assert "started on local with 5 item(s)" in r.output
    job_id = r.output.split("annotate status ")[1].split()[0]
    with connect(driver="local", path=str(db)) as client:
        assert client.job(job_id).progress().total_items == 4  # to label: img-0 is the golden one


def test_allow_partial_with_no_valid_row_creates_nothing(tmp_path, examples_dir) -> None:
    items = tmp_path / "items.csv"
    items.write_text("key,image\na,nope\n")
    db = tmp_path / "run.db"
    r = run(examples_dir, db, items, "--allow-partial")
    assert r.exit_code == 1 and "no row is valid" in r.output
    assert not db.exists()


def test_truth_columns_reach_the_simulation_after_the_check(tmp_path, examples_dir) -> None:
    items = tmp_path / "items.csv"
    with items.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "image", "golden:result", "truth:result"])
        w.writerow(["gold", "https://example.com/gold.jpg", "cat", ""])  # the spec mixes one into every batch
        for i in range(20):
            w.writerow([f"k{i}", f"https://example.com/{i}.jpg", "", "cat" if i % 2 else "dog"])
    r = run(examples_dir, tmp_path / "run.db", items, "--simulate", "--workers", "8", "--out", str(tmp_path / "o"))
    assert r.exit_code == 0, r.output
    assert "vs true labels of 20 items" in r.output


@pytest.mark.parametrize("where", ["a-file", "a-file/sub", "results-dir"])
def test_an_unusable_out_fails_before_any_job_exists(tmp_path, examples_dir, where: str) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    (tmp_path / "results-dir" / "results.csv").mkdir(parents=True)  # results.csv cannot be written there
    items = tmp_path / "items.csv"
    items.write_text(HEADER + rows(3))
    db = tmp_path / "run.db"
    r = run(examples_dir, db, items, "--simulate", "--out", str(tmp_path / where))
    if where == "a-file":  # click's own check of the option: a usage error
        assert r.exit_code == 2 and "is a file" in r.output, r.output
    else:
        assert r.exit_code == 1, r.output
        assert f"--out {tmp_path / where}: " in r.output
    assert "Traceback" not in r.output
    assert not db.exists()


def test_checking_out_leaves_no_trace_when_the_run_stops_later(tmp_path, examples_dir) -> None:
    items = tmp_path / "items.csv"
    items.write_text(HEADER + rows(3))
    out = tmp_path / "new" / "deeper"
    # the --out probe passes (and is cleaned up), then the backend refuses --simulate
    r = invoke("run", str(examples_dir / "cats_vs_dogs.yaml"), "--backend", "memory", "--items", str(items),
               "--simulate", "--out", str(out), "--no-progress")
    assert r.exit_code == 2 and "has no simulated workforce" in r.output
    assert not (tmp_path / "new").exists()


@pytest.fixture
def temp_root(tmp_path, monkeypatch) -> Path:
    """Where ``tempfile`` puts directories during the test, to see what is left behind."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def test_demo_removes_its_temporary_store(tmp_path, temp_root) -> None:
    r = invoke("demo", "--no-progress", "--items", "30", "--workers", "8", "--out", str(tmp_path / "out"))
    assert r.exit_code == 0, r.output
    assert "(temporary store)" in r.output and "the temporary store is removed" in r.output
    assert (tmp_path / "out" / "results.csv").is_file()
    assert list(temp_root.iterdir()) == []


def test_demo_removes_its_temporary_store_when_it_fails(tmp_path, temp_root, monkeypatch) -> None:
    import annotate_core.cli.demo as demo

    def broken(*args, **kwargs):
        raise RuntimeError("simulator crashed")

    monkeypatch.setattr(demo, "simulate_and_report", broken)
    r = invoke("demo", "--no-progress", "--items", "20", "--out", str(tmp_path / "out"))
    assert r.exit_code != 0 and "simulator crashed" in str(r.exception) + r.output
    assert list(temp_root.iterdir()) == []


def test_demo_checks_out_before_creating_anything(tmp_path, temp_root) -> None:
    (tmp_path / "taken").write_text("a file")
    r = invoke("demo", "--no-progress", "--out", str(tmp_path / "taken" / "sub"))
    assert r.exit_code == 1 and f"--out {tmp_path / 'taken' / 'sub'}: cannot write there" in r.output
    assert list(temp_root.iterdir()) == []


def test_golden_mixing_without_golden_rows_is_refused_before_any_job(tmp_path, examples_dir) -> None:
    """The spec mixes one golden item into every batch: a file without any is what only the items
    reveal, refused with the count before anything is created (the store itself refuses at start)."""
    items = tmp_path / "items.csv"
    items.write_text("key,image\n" + "".join(f"k{i},https://x.example/{i}.jpg\n" for i in range(3)))
    db = tmp_path / "run.db"
    r = run(examples_dir, db, items)
    assert r.exit_code == 1
    assert "distribution.golden_per_batch is 1 but the file has no golden items" in r.output
    assert not db.exists()
