"""The frame path (``iter_answer_frames``, what ``job.answers()`` uses) reads Dataloop's pages of items and
annotations into the very frame the record path (``iter_answers`` + ``answers_frame``) builds.

Two levels: every branch of the mapping (QA verdicts, annotation marks, custom and discard statuses,
multi-label groups, consensus copies, bool labels, items with a status and no annotation) on crafted
entities, and a whole job against the fake gate on loopback.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from annotate_dataloop import answers as amap
from pandas.testing import assert_frame_equal

from annotate_core import Client
from annotate_core.answers import AnswerColumns, answers_frame, job_answers
from annotate_core.model.fields import FieldType
from annotate_core.testing.specs import base_spec
from annotate_core.testing.suite import conformance_items

from .faulty import served_gate

TASK, QA = "task-1", "qa-1"


def item(n: int, *, status: str | None = None, qa: str | None = None, parent: str | None = None,
         stored: bool = True) -> dict[str, Any]:
    refs: list[dict[str, Any]] = [{"type": "task", "id": TASK, **(
        {"metadata": {"status": status, "creator": f"ann{n % 2}@x.ai"}} if status else {})}]
    if qa:
        refs.append({"type": "task", "id": QA, "metadata": {"status": qa, "creator": "rev@x.ai"}})
    user = {"annotate": {"key": f"key-{n}", "inputs": {"image": f"https://x.ai/{n}.jpg"}}} if stored else {}
    return {"id": f"item{n:03d}", "name": f"img_{n}.jpg", "stream": f"https://gate/{n}", "filename": f"/img_{n}.jpg",
            "spec": {"parentDatasetItemId": parent} if parent else None,
            "metadata": {"system": {"refs": refs}, "user": user}}


def note(n: int, on: str, label: Any, *, who: str = "ann0@x.ai", mark: str | None = None, task: str = TASK,
         when: Any = "2026-01-15T12:00:01.565Z") -> dict[str, Any]:
    system: dict[str, Any] = {"taskId": task, "assignmentId": f"asg-{who}"}
    if mark:
        system["status"] = mark
    return {"id": f"note{n:03d}", "itemId": on, "label": label, "creator": who, "createdAt": when,
            "metadata": {"system": system}}


def pages(field_type: FieldType) -> list[tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]],
                                                dict[str, dict[str, Any]]]]:
    """Two pages of (items, annotations by item, originals): every branch of the mapping."""
    first = [item(0, status="completed"), item(1, status="completed", qa="approved"),
             item(2, status="completed", qa="discard"), item(3, status="discard"), item(4, status="needs-work"),
             item(5), item(6, status="completed", stored=False)]
    second = [item(7, status="completed", parent="item099"), item(8, status="completed", parent="item099"),
              item(9)]
    originals = {"item099": item(99, qa="approved")}
    label = (lambda n: ["cat", "dog"] if n % 2 else ["dog"]) if field_type is FieldType.LABELS else \
        (lambda n: "true" if n % 2 else "False") if field_type is FieldType.BOOL else (lambda n: f"l{n % 3}")
    notes = {
        "item000": [note(0, "item000", label(0)), note(1, "item000", label(1), who="ann1@x.ai", mark="approved")],
        "item001": [note(2, "item001", label(2), when=1768478401565)],
        "item002": [note(3, "item002", label(3), mark="issue"), note(4, "item002", label(4), task="other")],
        "item004": [note(5, "item004", label(5), when=None)],
        "item006": [note(6, "item006", label(6)), note(7, "item006", label(7))],
        "item007": [note(8, "item007", label(8), who="ann1@x.ai")],
        "item008": [note(9, "item008", label(9))],
        "item009": [note(10, "item009", label(10))],  # labelled, no status in the task yet: active
    }
    split = lambda page: {i["id"]: notes.get(i["id"], []) for i in page}  # noqa: E731
    return [(first, split(first), {}), (second, split(second), originals)]


def test_every_branch_of_the_mapping_gives_the_records_frame() -> None:
    for field_type in (FieldType.LABEL, FieldType.LABELS, FieldType.BOOL):
        ctx = amap.TaskContext(frozenset({TASK}), frozenset({QA}), "result", field_type, ("image",), "image")
        records: list[dict[str, Any]] = []
        columns = AnswerColumns(["image"])
        frames = []
        for page, notes, originals in pages(field_type):
            for i in page:
                original = originals.get(str(amap.parent_id(i)))
                records.extend(amap.item_records(i, notes[i["id"]], ctx, original=original))
                amap.add_item(columns.add, i, notes[i["id"]], ctx, original=original)
            frames.append(columns.frame())
        expected = answers_frame(records, ["image"])
        got = pd.concat(frames, ignore_index=True)
        assert_frame_equal(got, expected, check_exact=True)
        assert {"accepted", "rejected", "skipped", "submitted", "active"} <= set(got["status"]), field_type
        assert got["review_comment"].eq("status 'needs-work'").any()
        assert set(got.loc[got["worker"] == "ann1@x.ai", "item_key"]) >= {"key-99"}  # a copy answers its original


def test_a_job_on_the_fake_gate_reads_the_same_frame_both_ways() -> None:
    with served_gate() as vendor:
        backend = vendor.backend()
        spec = base_spec(frozenset(backend.capabilities))
        job = Client(backend).create_job(spec)
        job.add_items(conformance_items(7), progress=False)
        job.start()
        vendor.answer(job.id, [])
        frames = job_answers(backend, job.id, spec)
        records = answers_frame(backend.iter_answers(job.id, spec), [f.name for f in spec.inputs])
        backend.close_backend()
    assert_frame_equal(frames, records, check_exact=True)
    assert len(frames) == 7 and set(frames["label"]) == {"cat", "dog"}
    assert frames["item_key"].str.startswith("conf-").all()
    # an assignment id decoded from every annotation made in it is stored once
    for _, ids in frames.groupby("assignment")["assignment"]:
        assert len({id(a) for a in ids}) == 1, list(ids)
    assert frames["assignment"].nunique() < len(frames)
    assert str(frames["submitted_at"].dtype) == "datetime64[ns, UTC]"
