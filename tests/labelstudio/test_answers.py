"""Reading a Label Studio job back, against the real server (live) and its recordings (replay): the
counts of items (every task, the golden ones counted by the server), choices posted with the text an
option shows read back as the option's value, and the columnar answers path (``iter_answer_frames``)
giving the very frame the record path gives, page by page.
"""

from __future__ import annotations

from typing import Any

import pytest
from annotate_labelstudio import LabelStudioBackend
from annotate_labelstudio.labeling import object_names, result_entry
from pandas.testing import assert_frame_equal

from annotate_core import JobSpec
from annotate_core.answers import answers_frame, job_answers
from annotate_core.client import Client
from annotate_core.counts import job_counts
from annotate_core.testing import base_spec, conformance_items

from .labeling_work import label_everything
from .server import Annotator

pytestmark = pytest.mark.vcr

#: options whose text differs from their value: the config says <Choice value="Cat" alias="cat"/>
SHOWN = {"outputs": [{"name": "result", "type": "label",
                      "options": [{"value": "cat", "label": "Cat"}, {"value": "dog", "label": "Dog"}]}]}


def spec(**overrides: Any) -> JobSpec:
    return base_spec(LabelStudioBackend.capabilities, **overrides)


def test_counts_hold_every_task_and_the_golden_ones(make_backend, annotators: list[Annotator]) -> None:
    """Items are the project's tasks, answered or not; golden items those whose data holds known answers."""
    job = Client(make_backend(), profile="studio").create_job(spec(name="counted"))
    assert job.progress().details["items_to_label"] == job.progress().details["golden_items"] == 0
    job.add_items(conformance_items(7, golden=2, prefix="cnt"), progress=False)
    job.start()
    made = label_everything(job.spec, job.id, annotators, limit=3)
    counts = job_counts(job)
    assert (counts.items, counts.items_to_label, counts.golden_items, counts.answers) == (7, 5, 2, made)
    assert counts.lines()[0] == ("items", "7 (5 to label, 2 golden)")
    progress = job.progress()
    assert (progress.total_items, progress.details["items_to_label"], progress.details["golden_items"]) == (7, 5, 2)


def test_choices_posted_with_their_text_read_back_as_values(make_backend, annotators: list[Annotator]) -> None:
    """Label Studio's UI stores a choice's alias (the value); an annotation posted with the text shown
    keeps the text. Both read back as the value; a choice the spec does not know is kept as it came."""
    job = Client(make_backend(), profile="studio").create_job(spec(name="aliases", **SHOWN))
    items = conformance_items(3, prefix="alias")
    job.add_items(items, progress=False)
    job.start()
    field = job.spec.outputs[0]
    to_name = object_names(job.spec)[0]
    posted = {}
    for person, choice in zip(annotators, ["Cat", "dog", "Lion"], strict=True):
        task = person.next_task(job.id)
        assert task is not None
        person.annotate(task["id"], [result_entry(field, to_name, choice)], lead_time=2.0)
        posted[task["data"]["_annotate_key"]] = choice
    raw = {t["data"]["_annotate_key"]: t["annotations"][0]["result"][0]["value"]["choices"]
           for t in job.backend.api.iter_tasks(job.id, annotations=True)}
    assert raw == {k: [v] for k, v in posted.items()}  # the server kept what was posted
    df = job.answers()
    read = dict(zip(df["task"], df["label"], strict=True))
    assert read == {k: {"Cat": "cat", "dog": "dog", "Lion": "Lion"}[v] for k, v in posted.items()}


def test_answer_frames_equal_the_records_frame_page_by_page(make_backend, annotators: list[Annotator]) -> None:
    """Two tasks a page: the frame path yields a frame per page and, joined, the record path's frame."""
    backend = make_backend(page_size=2)
    job = Client(backend, profile="studio").create_job(spec(name="frames", overlap={"count": 2}, **SHOWN))
    job.add_items(conformance_items(5, golden=1, prefix="frm"), progress=False)
    job.start()
    made = label_everything(job.spec, job.id, annotators, skip_every=4)
    pages = list(backend.iter_answer_frames(job.id, job.spec))
    assert len(pages) == 3 and sum(len(p) for p in pages) == made
    names = [f.name for f in job.spec.inputs]
    frames = job_answers(backend, job.id, job.spec)
    records = answers_frame(backend.iter_answers(job.id, job.spec), names)
    assert_frame_equal(frames, records, check_exact=True)
    assert set(frames["status"]) == {"submitted", "skipped"} and frames["golden"].any()
    assert set(frames["label"].dropna()) <= {"cat", "dog"}
    assert str(frames["submitted_at"].dtype) == "datetime64[ns, UTC]" and frames["duration_s"].dtype == "float64"
    # without a spec: the stored one is read from the project (no input columns, as the record path)
    assert_frame_equal(job_answers(backend, job.id, None), answers_frame(backend.iter_answers(job.id, None), []),
                       check_exact=True)
