"""Payload builders against the bodies dtlpy sends (reference [W] captures)."""

from __future__ import annotations

import json

import pytest
from annotate_dataloop import dql, payloads
from annotate_dataloop import pipeline as pl
from annotate_dataloop.planning import source_query
from annotate_dataloop.wire import due_date_ms, encode_query

from annotate_core.errors import SpecError

from . import reference as ref
from .helpers import example

IDS = payloads.Ids(ref.PROJECT, ref.DATASET, ref.RECIPE, "owner@example.com")
SEED = {"dataloop": {"task_name": "seed-task"}}


def without_annotate_extras(body: dict) -> dict:
    """The body minus what annotate adds on top of dtlpy: its metadata.user entry."""
    out = dict(body)
    meta = dict(out.pop("metadata", {}))
    meta.pop("user", None)
    if meta:
        out["metadata"] = meta
    return out


def task_body(spec, **kw):
    return payloads.annotation_task_body(spec, query=source_query(spec.source), ids=IDS, create_id="c1",
                                         due=payloads.due_date(spec), **kw)


def test_task_from_filter_is_dtlpys_body() -> None:
    body = task_body(example("task_from_filter", options=SEED))
    assert without_annotate_extras(body) == ref.TASK_FROM_FILTER
    assert list(body)[:8] == list(ref.TASK_FROM_FILTER)[:8]  # same field order as dtlpy


def test_task_body_keeps_spec_create_id_and_key() -> None:
    spec = example("task_from_filter")
    body = task_body(spec)
    assert body["metadata"]["user"]["annotate"]["createId"] == "c1"
    assert body["metadata"]["user"]["annotate"]["spec"]["name"] == spec.name
    assert "key" not in body["metadata"]["user"]["annotate"]
    # no server-side dedupe is relied on: what the gate does with checkIfExist is not documented
    assert "checkIfExist" not in body
    keyed = task_body(spec, key="nightly-2026-01-15")
    assert keyed["metadata"]["user"]["annotate"]["key"] == "nightly-2026-01-15"
    qa = payloads.qa_task_body(example("qa_task"), parent_query=source_query(spec.source), parent_id=ref.PARENT_TASK,
                               parent_name="t", ids=IDS, create_id="c2", due=None, key="nightly-2026-01-15")
    assert qa["metadata"]["user"]["annotate"] == {"createId": "c2", "key": "nightly-2026-01-15",
                                                  "parentTaskId": ref.PARENT_TASK}
    assert "checkIfExist" not in qa


def test_key_lookups_query_annotates_metadata() -> None:
    assert dql.tasks_marked("key", "k1", ref.PROJECT) == {
        "filter": {"$and": [{"metadata.user.annotate.key": "k1"}]}, "page": 0, "pageSize": 500,
        "resource": "tasks", "context": {"projectIds": [ref.PROJECT]}}
    assert "context" not in dql.tasks_marked("createId", "c1", None)
    marks = [pl.key_mark("k1"), pl.key_mark("k1", pl.READY)]
    assert marks == ["annotate job k1 (building)", "annotate job k1 (ready)"]
    assert dql.pipelines_described(marks, ref.PROJECT)["filter"] == {
        "$and": [{"description": {"$in": marks}}, {"projectId": ref.PROJECT}]}


def test_item_list_becomes_id_in_query_without_defaults() -> None:
    spec = example("task_from_items", source={"kind": "dataset", "dataset": "d",
                                              "item_ids": ["65f1c1000000000000000001", "65f1c1000000000000000002"]})
    assert task_body(spec)["query"] == ref.ITEMS_QUERY


def test_whole_dataset_weighted_workload() -> None:
    body = task_body(example("task_whole_dataset"))
    assert body["query"] == ref.WHOLE_DATASET_QUERY
    assert body["workload"] == [{"assigneeId": "annotator1@dataloop.ai", "load": 67},
                                {"assigneeId": "annotator2@dataloop.ai", "load": 33}]


def test_pulling_body_is_dtlpys() -> None:
    body = task_body(example("pulling_task", options={"dataloop": {"task_name": "seed-pulling"}}))
    assert without_annotate_extras(body) == ref.PULLING


def test_consensus_metadata_is_dtlpys() -> None:
    body = task_body(example("consensus_task"))
    assert body["metadata"]["system"] == ref.CONSENSUS_SYSTEM
    assert body["workload"] == ref.TASK_FROM_FILTER["workload"]


def test_partial_consensus_percentage() -> None:
    body = task_body(example("consensus_task", overlap={"count": 3, "fraction": 0.25},
                             workforce={"assignees": ["a@x.io", "b@x.io", "c@x.io"]}))
    assert body["metadata"]["system"]["consensusPercentage"] == 25
    assert body["metadata"]["system"]["consensusAssignees"] == 3


def test_qa_body_is_dtlpys() -> None:
    spec = example("task_from_filter", options=SEED,
                   review={"fraction": 1.0, "reviewers": ["annotator1@dataloop.ai", "annotator2@dataloop.ai"],
                           "on_reject": "discard"})
    body = payloads.qa_task_body(spec, parent_query=source_query(spec.source), parent_id=ref.PARENT_TASK,
                                 parent_name="seed-task", ids=IDS, create_id="c2", due=payloads.due_date(spec))
    assert without_annotate_extras(body) == ref.QA
    assert body["metadata"]["user"]["annotate"]["parentTaskId"] == ref.PARENT_TASK


def test_qa_limit_for_partial_review() -> None:
    spec = example("qa_task", review={"fraction": 0.25, "reviewers": ["r@x.io"], "on_reject": "discard"})
    assert payloads.qa_limit(spec, 10) == 3
    assert payloads.qa_limit(example("qa_task"), 10) is None


def test_add_to_task_bodies_are_dtlpys() -> None:
    by_filter = payloads.add_to_task_body(dql.from_user_filter({"metadata.system.refs": []}),
                                          ["annotator1@dataloop.ai", "annotator2@dataloop.ai"])
    assert by_filter == ref.ADD_BY_FILTER
    by_items = payloads.add_to_task_body(dql.items_by_id(["65f1c1000000000000000001"]), ["annotator1@dataloop.ai"])
    assert by_items == ref.ADD_BY_ITEMS


@pytest.mark.parametrize(
    ("weights", "loads"),
    [([1, 1], [50, 50]), ([1, 1, 1], [34, 33, 33]), ([2, 1], [67, 33]), ([1] * 7, [15, 15, 14, 14, 14, 14, 14]),
     ([0.5, 0.25, 0.25], [50, 25, 25])],
)
def test_workload_sums_to_100(weights, loads) -> None:
    from annotate_core.model.workforce import Assignee

    got = payloads.workload([Assignee(id=f"A{i}@X.io", weight=w) for i, w in enumerate(weights)])
    assert [w["load"] for w in got] == loads and sum(loads) == 100
    assert got[0]["assigneeId"] == "a0@x.io"  # e-mails lower-cased


def test_due_date_is_epoch_ms_float() -> None:
    spec = example("task_from_filter")
    assert payloads.due_date(spec) == ref.DUE_2029 and isinstance(payloads.due_date(spec), float)
    from datetime import datetime

    assert due_date_ms(datetime(2029, 1, 1)) == ref.DUE_2029  # naive means UTC, never local time


def test_query_encoding_survives_apostrophes() -> None:
    q = dql.from_user_filter({"dir": "/owner's batch"})
    assert json.loads(encode_query(q))["filter"]["$and"][-1] == {"dir": "/owner's batch"}


def test_user_filter_forms() -> None:
    full = {"filter": {"$and": [{"dir": "/a"}]}, "resource": "items"}
    assert dql.from_user_filter(full) == {"filter": {"$and": [{"dir": "/a"}]}, "page": 0, "pageSize": 1000,
                                          "resource": "items"}
    assert dql.and_clauses(dql.from_user_filter({"$and": [{"dir": "/a"}]})) == [
        {"hidden": False}, {"type": "file"}, {"dir": "/a"}]
    with pytest.raises(SpecError, match=r"source.filter.resource"):
        dql.from_user_filter({"filter": {"$and": []}, "resource": "annotations"})


def test_keyset_paging_replaces_the_cursor() -> None:
    q = dql.task_items(["t1"])
    q2 = dql.after_id(dql.after_id(q, "a1"), "a2")
    assert q2["filter"]["$and"][-1] == {"id": {"$gt": "a2"}}
    assert sum(1 for c in q2["filter"]["$and"] if "id" in c) == 1
    assert q2["page"] == 0 and q2["sort"] == {"id": "ascending"}


def test_ontology_and_recipe_bodies() -> None:
    spec = example("task_from_filter")
    onto = payloads.ontology_body(spec, ref.PROJECT)
    assert set(onto) == ref.ONTOLOGY_KEYS
    assert [r["value"]["tag"] for r in onto["roots"]] == ["cat", "dog"]
    assert all(set(r["value"]) == ref.LABEL_VALUE_KEYS and r["value"]["color"].startswith("#") for r in onto["roots"])
    recipe = payloads.recipe_body(spec, ref.PROJECT, "o1")
    assert recipe["ontologyIds"] == ["o1"] and recipe["projectIds"] == [ref.PROJECT]


def test_flat_labels_of_nested_ontology() -> None:
    roots = [{"value": {"tag": "animal"}, "children": [{"value": {"tag": "cat"}, "children": []}]},
             {"value": {"tag": "dog"}, "children": []}]
    assert payloads.flat_labels(roots) == {"animal", "animal.cat", "dog"}


def test_pipeline_task_node_matches_dtlpys_task_node() -> None:
    spec = example("pipeline_task_node", options={"dataloop": {"task_owner": "owner", "position": [2, 1]}},
                   workforce={"assignees": ["assignee_id"]},
                   pipeline={"stages": [{"kind": "annotate", "name": "My Task"}]})
    stage = spec.pipeline.stages[0]
    node = pl.task_node(spec, stage, 0, ids=pl.node_ids("p1", 0), project_id=ref.PROJECT, dataset_id=ref.DATASET,
                        recipe_id=ref.RECIPE, recipe_title="pets Default Recipe", owner="owner", due=None)
    assert node["metadata"] == ref.TASK_NODE_METADATA
    assert node["type"] == "task" and node["namespace"]["functionName"] == "move_to_task"
    assert node["outputs"][0]["actions"] == ["complete", "discard"]


def test_pipeline_update_chains_nodes_in_order() -> None:
    spec = example("pipeline_task_node")
    body = pl.update_body({"id": "p1", "name": "x", "projectId": ref.PROJECT, "status": "Created"}, spec,
                          project_id=ref.PROJECT, dataset_id=ref.DATASET, recipe_id=ref.RECIPE,
                          recipe_title="t", owner="owner@dataloop.ai", due=None)
    first, second = body["nodes"]
    assert (first["name"], first["metadata"]["taskType"]) == ("My Task", "annotation")
    assert (second["name"], second["metadata"]["taskType"]) == ("QA", "qa")
    assert second["outputs"][0]["actions"] == ["approve", "discard"]
    assert second["metadata"]["workload"] == [{"assigneeId": "reviewer@dataloop.ai", "load": 100}]
    assert body["startNodes"] == [{"nodeId": first["id"], "type": "root"}]
    assert body["connections"] == [{
        "src": {"nodeId": first["id"], "portId": first["outputs"][0]["portId"]},
        "tgt": {"nodeId": second["id"], "portId": second["inputs"][0]["portId"]},
        "condition": "{}", "action": "complete"}]
    # node ids are stable for a pipeline (a repeated PATCH sends the same body) and differ between pipelines
    assert pl.node_ids("p1", 0) == pl.node_ids("p1", 0) != pl.node_ids("p2", 0)
    # options.dataloop.position (2, 1) places the first node like the seed; the next one a column right
    assert first["metadata"]["position"] == {"x": 780.0, "y": 217.5, "z": 0}
    assert second["metadata"]["position"] == {"x": 1120.0, "y": 217.5, "z": 0}


# ---- custom statuses (seed 004: "custom-statuses") ------------------------------------------------

STATUSES = ["completed", "discard", {"action": "unclear", "display_name": "Can't tell", "color": "#ffaa00"}]


def test_custom_statuses_become_available_actions() -> None:
    body = task_body(example("task_from_items", options={"dataloop": {"statuses": STATUSES}}))
    # dl.ItemAction(action, display_name=None, color='#FFFFFF').to_json(): a bare name is its own display name
    assert body["availableActions"] == [
        {"action": "completed", "displayName": "completed", "color": "#FFFFFF"},
        {"action": "discard", "displayName": "discard", "color": "#FFFFFF"},
        {"action": "unclear", "displayName": "Can't tell", "color": "#ffaa00"}]
    keys = list(body)
    assert keys.index("workload") < keys.index("availableActions") < keys.index("metadata")  # dtlpy's order
    # the reference's example body (§3.5.3) comes out of the same option in its long form
    seed = [{"action": "completed"}, {"action": "discard", "display_name": "Discard", "color": "#ff0000"}]
    assert task_body(example("task_from_items", options={"dataloop": {"statuses": seed}}))["availableActions"] == [
        {"action": "completed", "color": "#FFFFFF", "displayName": "completed"},
        {"action": "discard", "color": "#ff0000", "displayName": "Discard"}]


def test_no_statuses_send_no_available_actions() -> None:
    for statuses in (None, []):
        options = {"dataloop": {}} if statuses is None else {"dataloop": {"statuses": statuses}}
        assert "availableActions" not in task_body(example("pulling_task", options=options))


def test_qa_task_keeps_dataloops_qa_statuses() -> None:
    spec = example("qa_task", options={"dataloop": {"statuses": STATUSES}})
    body = payloads.qa_task_body(spec, parent_query=source_query(spec.source), parent_id=ref.PARENT_TASK,
                                 parent_name="t", ids=IDS, create_id="c2", due=None)
    assert "availableActions" not in body  # approved/discard stay the QA task's statuses


@pytest.mark.parametrize(
    ("statuses", "message"),
    [([{"action": "unclear", "color": "orange"}], r"options\.dataloop\.statuses\.0\.color: expected a #RRGGBB "
                                                  r"hex colour, got 'orange'"),
     ([{"action": "x", "color": "#ffaa0"}], r"statuses\.0\.color: expected a #RRGGBB"),
     (["completed", "unclear", {"action": "unclear"}], r"options\.dataloop\.statuses: action 'unclear' is listed "
                                                       r"twice"),
     (["completed", ""], r"options\.dataloop\.statuses\.1\.action: expected a non-empty action name"),
     ([" unclear"], r"statuses\.0\.action: action ' unclear' has leading or trailing spaces"),
     ([5], r"options\.dataloop\.statuses\.0: expected an action name or \{action, display_name\?, color\?\}"),
     ([{"action": "x", "colour": "#ffffff"}], r"options\.dataloop\.statuses\.0\.colour: Extra inputs"),
     ([{"display_name": "X"}], r"options\.dataloop\.statuses\.0\.action: Field required")],
)
def test_status_option_errors_name_the_field(statuses, message) -> None:
    spec = example("task_from_items", options={"dataloop": {"statuses": statuses}})
    with pytest.raises(SpecError, match=message):
        task_body(spec)


def test_consensus_copy_answers_under_its_original() -> None:
    """A copy (hidden, spec.parentDatasetItemId) is one annotator's answer: reported with the original's key
    and inputs, its status from the copy's ref in the task, the QA verdict from the original's ref."""
    from annotate_dataloop import answers as amap

    ctx = amap.context(example("consensus_task"), ["t1"], ["qa1"])
    original = {"id": "o1", "stream": "https://gate/items/o1/stream", "metadata": {"system": {"refs": [
        {"type": "task", "id": "qa1", "metadata": {"status": "approved", "creator": "rev@x.io"}}]},
        "user": {"annotate": {"key": "k1", "inputs": {"image": "https://example.com/1.png"}}}}}
    copy = {"id": "c1", "hidden": True, "spec": {"parentDatasetItemId": "o1"}, "metadata": {"system": {"refs": [
        {"type": "task", "id": "t1", "metadata": {"status": "completed", "creator": "a@x.io"}}]}}}
    note = {"label": "cat", "creator": "a@x.io", "createdAt": "2026-01-15T10:00:00.000Z",
            "metadata": {"system": {"taskId": "t1", "assignmentId": "as1"}}}
    assert amap.parent_id(copy) == "o1" and amap.parent_id(original) is None
    [record] = amap.item_records(copy, [note], ctx, original=original)
    assert (record["item_key"], record["worker"], record["label"], record["assignment"]) == ("k1", "a@x.io", "cat",
                                                                                            "as1")
    assert record["inputs"] == {"image": "https://example.com/1.png"}
    assert (record["status"], record["reviewer"]) == ("accepted", "rev@x.io")
    [alone] = amap.item_records(copy, [note], ctx)  # without its original: the copy's own status
    assert (alone["item_key"], alone["status"]) == ("c1", "submitted")


def test_the_stored_spec_reads_back_equal_with_explicit_nulls() -> None:
    """A permanent ban is ``duration: null``: storing the spec without nulls read it back as 1 day, so
    the fingerprint changed and a rerun with the same job key became a false key conflict."""
    from annotate_core.jobkeys import spec_fingerprint
    from annotate_core.stored_spec import spec_from_json

    spec = example("task_from_items", quality={"rules": [
        {"name": "captcha", "when": [{"metric": "captcha_fail_rate", "window": 5, "above": 20}],
         "then": {"action": "ban", "duration": None, "scope": "project"}}]})
    assert spec.quality.rules[0].then.duration is None
    stored = json.loads(json.dumps(payloads.spec_metadata(spec, "create-1", key="k")))["spec"]
    back = spec_from_json(stored)
    assert back == spec and spec_fingerprint(back) == spec_fingerprint(spec)
