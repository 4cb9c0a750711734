"""Small pure pieces: Toloka datetimes and errors, operation ids, operation logs, assignment records."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests
from annotate_toloka.results import assignment_records
from annotate_toloka.tasks import TaskBuilder, chunked, operation_id, read_log
from annotate_toloka.wire import parse_datetime, parse_error, quota_wait

from annotate_core.answers import AnswerStatus
from annotate_core.errors import MalformedResponseError
from annotate_core.items import Item
from annotate_core.model.workflow import Overlap


def response(status: int, body: bytes, content_type: str = "application/json") -> requests.Response:
    r = requests.Response()
    r.status_code, r._content = status, body
    r.headers["Content-Type"] = content_type
    r.reason = "Reason"
    return r


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-05-20T10:15:30.123", datetime(2024, 5, 20, 10, 15, 30, 123000, tzinfo=timezone.utc)),
    ("2024-05-20T10:19:08.51", datetime(2024, 5, 20, 10, 19, 8, 510000, tzinfo=timezone.utc)),
    ("2024-05-20T10:19:03.99999", datetime(2024, 5, 20, 10, 19, 3, 999990, tzinfo=timezone.utc)),
    ("2020-09-01T13:00", datetime(2020, 9, 1, 13, 0, tzinfo=timezone.utc)),
])
def test_toloka_datetimes_of_any_fraction_length(text: str, expected: datetime) -> None:
    assert parse_datetime(text, "f") == expected


def test_bad_datetime_names_the_field() -> None:
    with pytest.raises(MalformedResponseError, match="assignment 1.submitted: expected an ISO-8601"):
        parse_datetime("yesterday", "assignment 1.submitted")


def test_error_bodies_toloka_kit_chokes_on() -> None:
    html = parse_error(response(502, b"<html>Bad Gateway</html>", "text/html"))
    assert html.message == "<html>Bad Gateway</html>" and html.code is None
    no_code = parse_error(response(500, b'{"message": "boom"}'))
    assert (no_code.message, no_code.code) == ("boom", None)
    empty = parse_error(response(500, b""))
    assert empty.message == "Reason"
    v = parse_error(response(400, b'{"code": "VALIDATION_ERROR", "message": "Validation failed", "request_id": "r1",'
                                  b'"payload": {"input_values.image": {"code": "VALUE_REQUIRED", "message": "no"}}}'))
    assert v.code == "VALIDATION_ERROR" and v.request_id == "r1"
    assert [(d.field, d.code) for d in v.details] == [("input_values.image", "VALUE_REQUIRED")]


def test_quota_interval_becomes_a_wait() -> None:
    assert quota_wait(response(429, b'{"code": "TOO_MANY_REQUESTS", "payload": {"interval": "MIN"}}')) == 60
    assert quota_wait(response(429, b'{"code": "TOO_MANY_REQUESTS", "payload": {"interval": "DAY"}}')) == 86400
    assert quota_wait(response(429, b'{"code": "TOO_MANY_REQUESTS"}')) is None
    assert quota_wait(response(429, b"slow down", "text/plain")) is None


def test_operation_ids_are_stable_and_distinct() -> None:
    keys = ["a", "b", "c"]
    # reruns depend on this exact value never changing between versions
    assert operation_id("36502086", keys) == "2ab93306-fa90-5653-95bc-2e5dec650ab9"
    assert operation_id("36502086", keys) == operation_id("36502086", list(keys))
    assert operation_id("36502086", keys) != operation_id("36502087", keys)
    assert operation_id("36502086", keys) != operation_id("36502086", ["a", "b"])
    assert operation_id("36502086", keys, attempt=1) not in (operation_id("36502086", keys),
                                                             operation_id("36502086", keys, attempt=2))


def test_chunks_are_lazy() -> None:
    pulled = []

    def items():
        for i in range(25):
            pulled.append(i)
            yield Item(key=f"k{i}", inputs={"x": i})

    it = chunked(items(), 10)
    first = next(it)
    assert len(first) == 10 and len(pulled) == 10
    assert [len(c) for c in it] == [10, 5]


def test_tasks_carry_key_golden_and_partial_overlap() -> None:
    b = TaskBuilder("7", Overlap(count=3, fraction=0.5))
    golden = b.task(Item(key="g", inputs={"image": "u"}, golden={"result": "cat"}, hint="pointy ears"))
    assert golden == {"input_values": {"image": "u", "_key": "g"}, "pool_id": "7",
                      "known_solutions": [{"output_values": {"result": "cat"}, "correctness_weight": 1}],
                      "message_on_unknown_solution": "pointy ears", "infinite_overlap": True}
    overlaps = {b.task(Item(key=f"k{i}", inputs={"image": "u"}))["overlap"] for i in range(40)}
    assert overlaps == {1, 3}
    assert b.task(Item(key="k0", inputs={"image": "u"}))["overlap"] == Overlap(count=3, fraction=0.5).for_key("k0")
    assert b.task(Item(key="o", inputs={"image": "u"}, overlap=5))["overlap"] == 5
    assert "overlap" not in TaskBuilder("7", Overlap(count=3)).task(Item(key="x", inputs={"image": "u"}))


def _item(i: int) -> Item:
    return Item(key=f"k{i}", inputs={"image": f"https://e.com/{i}.jpg"})


def test_log_maps_results_back_by_key() -> None:
    sent = [_item(0), _item(1), _item(2)]
    log = [
        {"type": "TASK_CREATE", "success": True, "input": {"input_values": {"_key": "k2"}},
         "output": {"task_id": "t2"}},
        {"type": "TASK_VALIDATE", "success": False, "input": {"input_values": {"_key": "k1", "image": None}},
         "output": {"input_values.image": {"code": "VALUE_REQUIRED", "message": "Value must be present"}}},
        {"type": "POOL_OPEN", "success": False, "input": {"pool_id": 1}, "output": {"code": "EMPTY_POOL"}},
    ]
    res = read_log(log, sent, {"k0": 10, "k1": 11, "k2": 12}, "op-1", failed=False)
    assert res.created == ["k2"]
    errors = {(e.key, e.field, e.index): e.message for e in res.errors}
    assert errors[("k1", "inputs.image", 11)] == "Value must be present (VALUE_REQUIRED)"
    assert "no result for this item in the log of operation op-1" in errors[("k0", None, 10)]


def test_failed_operation_with_an_empty_log_fails_every_item() -> None:
    res = read_log([], [_item(0), _item(1)], {}, "op-2", failed=True, details={"reason": "pool archived"})
    assert res.created == [] and len(res.errors) == 2
    assert all("upload operation op-2 failed" in e.message for e in res.errors)


def test_suite_log_fails_the_siblings_of_a_bad_task() -> None:
    log = [{"type": "TASK_SUITE_VALIDATE", "success": False,
            "input": {"tasks": [{"input_values": {"_key": "k0"}}, {"input_values": {"_key": "k1"}}]},
            "output": {"tasks.1.input_values.image": {"code": "INVALID_URL", "message": "invalid url"}}}]
    res = read_log(log, [_item(0), _item(1)], {}, "op", failed=False)
    errors = {e.key: (e.field, e.message) for e in res.errors}
    assert errors["k1"] == ("inputs.image", "invalid url (INVALID_URL)")
    assert "rejected because of another task" in errors["k0"][1]


ASSIGNMENT = {
    "id": "a1", "pool_id": "1", "user_id": "w1", "status": "ACCEPTED", "public_comment": "Well done!",
    "tasks": [{"id": "t1", "input_values": {"image": "u1", "_key": "k1"}},
              {"id": "t2", "input_values": {"image": "u2", "_key": "g1"},
               "known_solutions": [{"output_values": {"result": "dog"}}]}],
    "solutions": [{"output_values": {"result": "cat"}}, {"output_values": {"result": "dog"}}],
    "created": "2024-05-20T10:20:00.000", "submitted": "2024-05-20T10:20:30.000",
}


def test_assignment_records() -> None:
    recs = list(assignment_records(ASSIGNMENT, ["result"]))
    assert [(r["task"], r["label"], r["golden"], r["golden_label"]) for r in recs] == [
        ("k1", "cat", False, None), ("g1", "dog", True, "dog")]
    r = recs[0]
    assert r["status"] is AnswerStatus.ACCEPTED and r["worker"] == "w1" and r["assignment"] == "a1"
    assert r["inputs"] == {"image": "u1"} and r["duration_s"] == 15.0 and r["review_comment"] == "Well done!"
    assert r["submitted_at"] == datetime(2024, 5, 20, 10, 20, 30, tzinfo=timezone.utc)


def test_skipped_assignment_has_records_without_labels() -> None:
    a = {**ASSIGNMENT, "status": "SKIPPED", "solutions": [], "submitted": None}
    recs = list(assignment_records(a, ["result"]))
    assert [r["label"] for r in recs] == [None, None] and recs[0]["status"] is AnswerStatus.SKIPPED


@pytest.mark.parametrize(("change", "needle"), [
    ({"solutions": [{"output_values": {"result": "cat"}}]}, "one solution per task"),
    ({"status": "WEIRD"}, "unknown status 'WEIRD'"),
    ({"user_id": None}, "no 'user_id'"),
    ({"solutions": [{"output_values": {"result": "cat"}}, {"nope": 1}]}, "solutions.1.output_values is missing"),
])
def test_malformed_assignments_name_the_field(change: dict, needle: str) -> None:
    with pytest.raises(MalformedResponseError, match=needle):
        list(assignment_records({**ASSIGNMENT, **change}, ["result"]))
