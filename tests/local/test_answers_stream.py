"""answers.csv page by page (annotate run --simulate): the same file, counts and results as the whole frame."""

from __future__ import annotations

import filecmp
import re

import pytest
from annotate_local import answer_frames
from pandas.testing import assert_frame_equal

from annotate_core import answers_stream
from annotate_core.answers_stream import stream_answers
from annotate_core.cli.jobs import results_table
from annotate_core.counts import count_answers, job_counts, progress_items

from .conftest import make_spec


@pytest.fixture
def small_pages(monkeypatch) -> None:
    monkeypatch.setattr(answer_frames, "PAGE", 7)  # a 40-item job is read in a dozen pages


RESULT_COLUMNS = ("key", "label", "confidence", "n_answers", "golden", "method")  # without the inputs
METHODS = ("mv", "ds", "ocds", "wawa", "gold_mv", "glad", "mace")


def assert_same_as_the_whole_frame(job, tmp_path, field: str = "result") -> None:
    streamed = stream_answers(job, tmp_path / "streamed.csv", field)
    assert streamed is not None
    whole = job.answers()
    whole.to_csv(tmp_path / "whole.csv", index=False)
    assert streamed.rows == len(whole) >= 40
    assert filecmp.cmp(tmp_path / "streamed.csv", tmp_path / "whole.csv", shallow=False)
    by_backend = job_counts(job, whole, field_name=field)
    assert streamed.counts(*progress_items(job.progress())) == by_backend
    assert streamed.counts() == count_answers(whole, field)  # the items seen among the answers
    assert len(streamed.answers) == by_backend.usable_answers
    assert streamed.answers["task"].dtype.kind == "i"  # ranks of the sorted keys, not a column of strings
    assert streamed.answers["worker"].dtype == "category" and streamed.answers["label"].dtype == "category"
    compared = 0
    for method in METHODS:
        try:
            expected = results_table(job, method, whole)
        except ValueError as exc:  # e.g. gold_mv when some worker answered no golden item: the same error
            with pytest.raises(ValueError, match=re.escape(str(exc))):
                results_table(job, method, streamed)
            continue
        assert results_table(job, method, streamed).to_csv(index=False) == expected.to_csv(index=False), method
        lean = expected.drop(columns=[c for c in expected.columns if c not in RESULT_COLUMNS])
        assert_frame_equal(results_table(job, method, streamed, inputs=False), lean, check_exact=True)
        assert_frame_equal(streamed.results(method), job.results(method, answers=whole), check_exact=True)
        compared += 1
    assert compared >= len(METHODS) - 1


def test_streamed_answers_give_the_whole_frames_file_counts_and_results(started, tmp_path, small_pages) -> None:
    job, _ = started(40, golden=6)
    job.simulate(workers=6, seed=3, progress=False)
    assert_same_as_the_whole_frame(job, tmp_path)


def test_ties_and_labels_nobody_sorted_first_come_out_alike(client, tmp_path, small_pages) -> None:
    """Labels first seen out of sorted order, and tied votes: the codes order them as the strings do."""
    spec = make_spec(outputs=[{"name": "result", "type": "label", "options": ["zebra", "cat", "dog", "ant"]}])
    job = client.create_job(spec)
    prefixes = ["k", "é", "Z", "\U0001f431", "ß"]  # keys whose sorted order is Python's, not bytes' or first seen
    job.add_items([{"key": f"{prefixes[i % 5]}{40 - i:02d}", "image": f"https://example.com/{i}.jpg"}
                   for i in range(40)], progress=False)
    job.start()
    choices = ["zebra", "dog", "cat", "ant"]
    n = 0
    for w in range(4):
        while (batch := job.pull(f"worker-{3 - w}", limit=5)) is not None and len(batch):
            job.submit(batch.assignment, [choices[(n + i * w) % 4] for i in range(len(batch))])
            n += 1
    answers = job.answers()
    assert answers["label"].iloc[0] == "zebra" and answers["task"].iloc[0] != min(answers["task"])
    per_task = answers.groupby("task")["label"].agg(lambda s: s.value_counts().iloc[0])
    assert (per_task == 1).any()  # some task's votes all differ: a tie broken by label order
    assert_same_as_the_whole_frame(job, tmp_path)


def test_values_printed_by_the_whole_column_fall_back_to_the_whole_frame(client, tmp_path, small_pages) -> None:
    spec = make_spec(outputs=[{"name": "score", "type": "number"}])
    job = client.create_job(spec)
    job.add_items([{"key": f"k{i}", "image": f"https://example.com/{i}.jpg"} for i in range(20)], progress=False)
    job.start()
    job.simulate(workers=4, seed=1, progress=False)
    assert stream_answers(job, tmp_path / "answers.csv", "score") is None  # numbers: the caller reads the frame


def test_a_backend_without_pages_falls_back(started, tmp_path, monkeypatch) -> None:
    job, _ = started(5)
    monkeypatch.delattr(type(job.backend), "iter_answer_frames")
    assert stream_answers(job, tmp_path / "answers.csv", "result") is None


def test_accuracies_of_tables_alike_and_unlike() -> None:
    """Tables on the same tasks share one index; a table on other tasks is judged on its own."""
    import pandas as pd

    from annotate_core.cli.jobs import accuracies

    same = ["k1", "k2", "k3", "k4"]
    tables = {
        "a": pd.DataFrame({"task": same, "label": ["cat", "dog", "cat", "dog"], "golden": [False] * 3 + [True]}),
        "b": pd.DataFrame({"task": same, "label": ["dog", "dog", "dog", "dog"], "golden": [False] * 3 + [True]}),
        "c": pd.DataFrame({"task": ["k3", "k1"], "label": ["cat", "cat"], "golden": [False, False]}),
    }
    truth = {"k1": {"result": "cat"}, "k2": {"result": "dog"}, "k3": {"result": "dog"}, "k4": {"result": "cat"}}
    got = accuracies(tables, truth, "result")
    assert got["a"] == (2 / 3, 3) and got["b"] == (2 / 3, 3)  # k4 is golden: not judged
    assert got["c"] == (1 / 3, 3)  # k1 right, k3 wrong, over the first table's judged count


def test_the_run_writes_the_same_files_streamed_or_whole(started, tmp_path, small_pages, monkeypatch) -> None:
    """``annotate run --simulate``'s report: results.csv (chunk by chunk), answers.csv and the accuracy
    line alike whether the answers were streamed as codes or read as one frame."""
    from annotate_core import answers_stream
    from annotate_core.cli import jobs

    job, items = started(40, golden=6)
    truth = {it.key: {"result": "cat" if i % 3 else "dog"} for i, it in enumerate(items)}
    monkeypatch.setattr(answers_stream, "RESULTS_CHUNK", 7)
    options = {"workers": 6, "seed": 3, "progress": False}
    streamed = jobs.simulate_and_report(job, job.spec, truth, tmp_path / "streamed", options, method="ds")
    monkeypatch.setattr(jobs, "stream_answers", lambda *a, **k: None)
    whole = jobs.simulate_and_report(job, job.spec, truth, tmp_path / "whole", options, method="ds")
    for name in ("results.csv", "answers.csv"):
        assert filecmp.cmp(tmp_path / "streamed" / name, tmp_path / "whole" / name, shallow=False), name
    assert streamed["accuracy"] == whole["accuracy"] and set(whole["accuracy"]) == {"mv", "ds"}
    assert all(0 < a <= 1 for a in whole["accuracy"].values())
    assert (tmp_path / "whole" / "results.csv").read_text().count("\n") == 41  # header + 40 items


def test_task_codes_follow_first_appearance_and_ranks_sorted_order(monkeypatch) -> None:
    """``_Keys`` across many pages and merges of its sorted runs: the codes a dict would give, the
    keys in Python's sorted order, ranks that point into it."""
    import numpy as np

    monkeypatch.setattr(answers_stream, "SMALL_RUN", 5)
    rng = np.random.default_rng(4)
    pool = [f"{p}{i}" for p in ("k", "é", "Z", "\U0001f431") for i in range(60)]
    keys = answers_stream._Keys()
    reference: dict[str, int] = {}
    for _ in range(30):
        page = np.array([pool[i] for i in rng.integers(0, len(pool), 17)], dtype=object)
        got = keys.codes(page)
        assert got.tolist() == [reference.setdefault(k, len(reference)) for k in page]
    assert keys.n == len(reference) and keys.runs[1].size < keys.runs[0].size  # merged along the way
    ordered = sorted(reference)
    assert keys.sorted.astype(object).tolist() == ordered
    ranks = keys.ranks()
    assert all(ordered[ranks[code]] == key for key, code in reference.items())


def test_packed_inputs_come_back_as_they_were_kept() -> None:
    """Inputs are held zlib-packed per page until results.csv: every value back, missing ones as None,
    and a page with a NUL byte kept unpacked."""
    import numpy as np

    from annotate_core.answers_stream import _Chunks, _compact, _Packed

    first = _compact(["https://x.example/1.jpg", None, "", "é ü", "a\x01b", "\x02", "\x01"])
    second = _compact(["a\x00b", None])
    packed = [_Packed(first), _Packed(second), _Packed(_compact([]))]
    assert packed[0].plain is None and len(packed[0].data) < 80 and packed[1].plain is not None
    rows = np.array([8, 0, 1, 7, 2, 3, 4, 5, 6])
    joined = [*first.tolist(), *second.tolist()]
    assert _Chunks(packed).take(rows).tolist() == [joined[r] for r in rows]
