"""The frame path (``iter_answer_frames``, what ``job.answers()`` uses) reads Dataloop's pages of items and
annotations into the very frame the record path (``iter_answers`` + ``answers_frame``) builds.

Two levels: every branch of the mapping (QA verdicts, annotation marks, custom and discard statuses,
multi-label groups, consensus copies, bool labels, items with a status and no annotation) on crafted
entities, and a whole job against the fake gate on loopback.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from annotate_dataloop import answers as amap
from pandas.testing import assert_frame_equal

from annotate_core import Client, json_bodies
from annotate_core.answers import AnswerColumns, answers_frame, job_answers, settle_like_records
from annotate_core.errors import MalformedResponseError
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
        shared: dict[Any, Any] = {}  # the backend's page path: the fast mapping, the same frame
        paged = AnswerColumns(["image"], shared, share_items=False, share_assignments=True)
        fast = [amap.page_frame(paged, shared, page, notes, originals, ctx)
                for page, notes, originals in pages(field_type)]
        assert_frame_equal(settle_like_records(pd.concat(fast, ignore_index=True)), expected, check_exact=True)
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
        json_bodies.use_fast_decoder(False)  # the standard library decodes every key of the pages
        try:
            whole = job_answers(backend, job.id, spec)
        finally:
            json_bodies.use_fast_decoder(True)
        backend.close_backend()
    assert_frame_equal(frames, records, check_exact=True)
    assert_frame_equal(frames, whole, check_exact=True)
    assert len(frames) == 7 and set(frames["label"]) == {"cat", "dog"}
    assert frames["item_key"].str.startswith("conf-").all()
    # an assignment id decoded from every annotation made in it is stored once
    for _, ids in frames.groupby("assignment")["assignment"]:
        assert len({id(a) for a in ids}) == 1, list(ids)
    assert frames["assignment"].nunique() < len(frames)
    assert str(frames["submitted_at"].dtype) == "datetime64[ns, UTC]"


def reference_frame(page: list[dict[str, Any]], notes: dict[str, list[dict[str, Any]]],
                    originals: dict[str, dict[str, Any]], ctx: amap.TaskContext, names: list[str]) -> pd.DataFrame:
    columns = AnswerColumns(names, share_items=False, share_assignments=True)
    for i in page:
        amap.add_item(columns.add, i, notes.get(i["id"], []), ctx, original=originals.get(str(amap.parent_id(i))))
    return columns.frame()


def outcome(build: Any) -> tuple[str, Any]:
    try:
        return "frame", build()
    except Exception as exc:  # compared: the same error either way
        return "error", (type(exc), str(exc))


def test_the_fast_mapping_takes_the_gates_pages(monkeypatch: Any) -> None:
    """Pages in the gate's shape never reach ``add_item`` (the fast path is taken, not fallen back from)."""
    def refuse(*args: Any, **kw: Any) -> None:
        raise AssertionError("the page went through add_item")

    for field_type in (FieldType.LABEL, FieldType.BOOL):
        ctx = amap.TaskContext(frozenset({TASK}), frozenset({QA}), "result", field_type, ("image",), "image")
        expected = [reference_frame(page, notes, originals, ctx, ["image"])
                    for page, notes, originals in pages(field_type)]
        monkeypatch.setattr(amap, "add_item", refuse)
        shared: dict[Any, Any] = {}
        columns = AnswerColumns(["image"], shared, share_items=False, share_assignments=True)
        for (page, notes, originals), want in zip(pages(field_type), expected, strict=True):
            assert_frame_equal(amap.page_frame(columns, shared, page, notes, originals, ctx), want, check_exact=True)
        monkeypatch.undo()


def odd_pages() -> list[tuple[str, list[dict[str, Any]], dict[str, list[dict[str, Any]]], dict[str, dict[str, Any]]]]:
    """Pages in shapes the gate should not send: each is mapped by the fast path or the reference alike."""
    cases: list[tuple[str, Any]] = [
        ("metadata a list", lambda i, ns: i.update(metadata=[1])),
        ("metadata null", lambda i, ns: i.update(metadata=None)),
        ("system a string", lambda i, ns: i["metadata"].update(system="x")),
        ("refs an object", lambda i, ns: i["metadata"]["system"].update(refs={"id": TASK})),
        ("refs a number", lambda i, ns: i["metadata"]["system"].update(refs=5)),
        ("ref metadata a list", lambda i, ns: i["metadata"]["system"]["refs"][0].update(metadata=[])),
        ("ref id an object", lambda i, ns: i["metadata"]["system"]["refs"].append({"id": {"x": 1}})),
        ("status a number", lambda i, ns: i["metadata"]["system"]["refs"][0].update(
            metadata={"status": 3, "creator": "z"})),
        ("reviewer an object", lambda i, ns: i["metadata"]["system"]["refs"].append(
            {"id": QA, "metadata": {"status": "approved", "creator": {"e": 1}}})),
        ("reviewer a number", lambda i, ns: i["metadata"]["system"]["refs"].append(
            {"id": QA, "metadata": {"status": "discard", "creator": 7}})),
        ("user annotate a list", lambda i, ns: i["metadata"]["user"].update(annotate=["k"])),
        ("key empty", lambda i, ns: i["metadata"]["user"]["annotate"].update(key="")),
        ("inputs a list", lambda i, ns: i["metadata"]["user"]["annotate"].update(inputs=["u"])),
        ("inputs empty", lambda i, ns: i["metadata"]["user"]["annotate"].update(inputs={})),
        ("spec a list", lambda i, ns: i.update(spec=["p"])),
        ("parent a number", lambda i, ns: i.update(spec={"parentDatasetItemId": 99})),
        ("creator an object", lambda i, ns: [n.update(creator={"id": 1}) for n in ns]),
        ("creator empty", lambda i, ns: [n.update(creator="") for n in ns]),
        ("label a number", lambda i, ns: [n.update(label=4) for n in ns]),
        ("label an object", lambda i, ns: [n.update(label={"a": 1}) for n in ns]),
        ("note metadata a string", lambda i, ns: [n.update(metadata="s") for n in ns]),
        ("note system null", lambda i, ns: [n.update(metadata={"system": None}) for n in ns]),
        ("task id an object", lambda i, ns: [n["metadata"]["system"].update(taskId={"t": 1}) for n in ns]),
        ("assignment an object", lambda i, ns: [n["metadata"]["system"].update(assignmentId={"a": 1}) for n in ns]),
        ("mark a list", lambda i, ns: [n["metadata"]["system"].update(status=["approved"]) for n in ns]),
        ("time in epoch ms", lambda i, ns: [n.update(createdAt=1768478401565) for n in ns]),
        ("time with an offset", lambda i, ns: [n.update(createdAt="2026-01-15T12:00:01.565+02:00") for n in ns]),
        ("time in microseconds", lambda i, ns: [n.update(createdAt="2026-01-15T12:00:01.565123Z") for n in ns]),
        ("time without fraction", lambda i, ns: [n.update(createdAt="2026-01-15T12:00:01Z") for n in ns]),
        ("time out of range", lambda i, ns: [n.update(createdAt="2026-02-30T12:00:01.565Z") for n in ns]),
        ("time in year 0", lambda i, ns: [n.update(createdAt="0000-01-15T12:00:01.565Z") for n in ns]),
        ("time in 2300", lambda i, ns: [n.update(createdAt="2300-01-15T12:00:01.565Z") for n in ns]),
        ("time garbage", lambda i, ns: [n.update(createdAt="2026-0x-15T12:00:01.565Z") for n in ns]),
        ("time a list", lambda i, ns: [n.update(createdAt=[1]) for n in ns]),
        ("time a bool", lambda i, ns: [n.update(createdAt=True) for n in ns]),
    ]
    out = []
    for name, change in cases:
        page = [item(0, status="completed"), item(1, status="completed", qa="approved"), item(2),
                item(3, status="completed", parent="item099")]
        notes = {"item000": [note(0, "item000", "cat")], "item001": [note(1, "item001", "true", mark="issue")],
                 "item002": [note(2, "item002", "dog", who="ann1@x.ai")], "item003": [note(3, "item003", "cat")]}
        change(page[1], notes["item001"])
        out.append((name, page, notes, {"item099": item(99, qa="approved")}))
    return out


def test_odd_pages_map_alike_on_both_paths() -> None:
    for field_type in (FieldType.LABEL, FieldType.BOOL):
        for names, link in ((["image"], "image"), (["image", "note"], None), ([], None)):
            ctx = amap.TaskContext(frozenset({TASK}), frozenset({QA}), "result", field_type, tuple(names), link)
            for name, page, notes, originals in odd_pages():
                want = outcome(lambda: reference_frame(page, notes, originals, ctx, names))  # noqa: B023
                shared: dict[Any, Any] = {}
                columns = AnswerColumns(names, shared, share_items=False, share_assignments=True)
                got = outcome(lambda: amap.page_frame(columns, shared, page, notes, originals, ctx))  # noqa: B023
                assert got[0] == want[0], (name, field_type, names, got, want)
                if want[0] == "frame":
                    assert_frame_equal(got[1], want[1], check_exact=True, obj=name)
                else:
                    assert got[1] == want[1], name


def test_page_times_parse_as_each_value_does() -> None:
    import numpy as np
    from annotate_dataloop.wire import parse_time, parse_times

    values: list[Any] = ["2026-01-15T12:00:01.565Z", None, "1999-12-31T23:59:59.999Z", "2199-01-01T00:00:00.000Z"]
    got = parse_times(values, "createdAt")
    assert isinstance(got, np.ndarray) and got.dtype == np.dtype("datetime64[ns]")
    expected = pd.to_datetime(pd.Series([parse_time(v, "createdAt") for v in values], dtype="object"), utc=True)
    assert_frame_equal(pd.DataFrame({"t": pd.to_datetime(got, utc=True)}),
                       pd.DataFrame({"t": expected.astype("datetime64[ns, UTC]")}), check_exact=True)
    for other in (["2026-01-15T12:00:01Z"], ["2026-01-15T12:00:01.565+00:00"], [1768478401565],
                  ["2026-01-15 12:00:01.565Z"], ["1899-01-15T12:00:01.565Z"]):
        assert parse_times([*values, *other], "createdAt") == [parse_time(v, "createdAt") for v in [*values, *other]]
    assert parse_times([None, None], "createdAt") == [None, None]
    with pytest.raises(MalformedResponseError, match="createdAt: expected an ISO-8601 timestamp"):
        parse_times([values[0], "2026-13-15T12:00:01.565Z"], "createdAt")


def test_the_pages_shapes_name_every_key_the_mapping_reads() -> None:
    """With msgspec only the shapes' keys are decoded: the gate's pages read through them give the frame
    the whole pages give (on the crafted pages, every branch), and the shapes name annotate's metadata key."""
    import json

    from annotate_dataloop.payloads import META_KEY

    msgspec = pytest.importorskip("msgspec")
    assert set(amap._User.__annotations__) == {META_KEY}
    for field_type in (FieldType.LABEL, FieldType.LABELS, FieldType.BOOL):
        ctx = amap.TaskContext(frozenset({TASK}), frozenset({QA}), "result", field_type, ("image",), "image")
        for page, notes, originals in pages(field_type):
            def shaped(entities: list[dict[str, Any]], shape: Any) -> list[dict[str, Any]]:
                body = json.dumps({"items": entities, "hasNextPage": False, "totalItemsCount": 3}).encode()
                return msgspec.json.Decoder(shape).decode(body)["items"]

            thin_page = shaped([{**i, "thumbnail": "https://gate/t", "annotationsCount": 3} for i in page],
                               amap.ItemsPage)
            assert not {"thumbnail", "annotationsCount"} & set(thin_page[0])  # what is not read is not built
            thin_notes = {k: shaped(v, amap.AnnotationsPage) for k, v in notes.items()}
            thin_originals = {k: shaped([v], amap.ItemsPage)[0] for k, v in originals.items()}
            assert_frame_equal(reference_frame(thin_page, thin_notes, thin_originals, ctx, ["image"]),
                               reference_frame(page, notes, originals, ctx, ["image"]), check_exact=True)
