"""answers.csv page by page (annotate run --simulate): the same file, counts and results as the whole frame."""

from __future__ import annotations

import filecmp

import pytest
from annotate_local import answer_frames

from annotate_core.answers_stream import stream_answers
from annotate_core.cli.jobs import results_table
from annotate_core.counts import job_counts

from .conftest import make_spec


@pytest.fixture
def small_pages(monkeypatch) -> None:
    monkeypatch.setattr(answer_frames, "PAGE", 7)  # a 40-item job is read in a dozen pages


def test_streamed_answers_give_the_whole_frames_file_counts_and_results(started, tmp_path, small_pages) -> None:
    job, _ = started(40, golden=6)
    job.simulate(workers=6, seed=3, progress=False)
    streamed = stream_answers(job, tmp_path / "streamed.csv", "result")
    assert streamed is not None
    whole = job.answers()
    whole.to_csv(tmp_path / "whole.csv", index=False)
    assert streamed.rows == len(whole) >= 40
    assert filecmp.cmp(tmp_path / "streamed.csv", tmp_path / "whole.csv", shallow=False)
    assert job_counts(job, streamed.counted, field_name="result") == job_counts(job, whole, field_name="result")
    assert len(streamed.usable) == job_counts(job, whole, field_name="result").usable_answers
    for method in ("mv", "ds", "ocds", "glad"):
        assert (results_table(job, method, streamed.usable).to_csv(index=False)
                == results_table(job, method, whole).to_csv(index=False)), method


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
