"""Side by side, per seed flow: annotate's body and the one dtlpy 1.126.5 sent, differing exactly in the
fields ``reference.DIFFERENCES`` lists (and justifies). A new difference, or a listed one that went
away, fails here; the bodies themselves are pinned field by field in ``test_payloads.py``."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from annotate_dataloop import dql, payloads
from annotate_dataloop import pipeline as pl
from annotate_dataloop.planning import source_query

from . import reference as ref
from .helpers import example
from .test_payloads import IDS, SEED, task_body

CREATED = datetime(2026, 1, 15, 10, tzinfo=timezone.utc)


def differing(ours: Any, theirs: Any, path: str = "") -> set[str]:
    """Dotted paths where two JSON values differ; a key only one side has is named where it starts."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        out: set[str] = set()
        for key in set(ours) | set(theirs):
            where = f"{path}.{key}" if path else key
            if key not in ours or key not in theirs:
                out.add(where)
            else:
                out |= differing(ours[key], theirs[key], where)
        return out
    return set() if ours == theirs else {path}


def qa_body() -> dict[str, Any]:
    spec = example("task_from_filter", options=SEED,
                   review={"fraction": 1.0, "reviewers": ["annotator1@dataloop.ai", "annotator2@dataloop.ai"],
                           "on_reject": "discard"})
    return payloads.qa_task_body(spec, parent_query=source_query(spec.source), parent_id=ref.PARENT_TASK,
                                 parent_name="seed-task", ids=IDS, create_id="c2", due=payloads.due_date(spec))


def task_node() -> tuple[dict[str, Any], dict[str, Any]]:
    spec = example("pipeline_task_node", options={"dataloop": {"task_owner": "owner", "position": [2, 1]}},
                   workforce={"assignees": ["assignee_id"]},
                   pipeline={"stages": [{"kind": "annotate", "name": "My Task"}]})
    node = pl.task_node(spec, spec.pipeline.stages[0], 0, ids=pl.node_ids("p1", 0), project_id=ref.PROJECT,
                        dataset_id=ref.DATASET, recipe_id=ref.RECIPE, recipe_title="pets Default Recipe",
                        owner="owner", due=payloads.due_date(spec, CREATED))
    meta = dict(node["metadata"])
    assert meta.pop("dueDate") == payloads.due_date(spec, CREATED)  # value-only: see VALUE_DIFFERENCES
    return meta, ref.TASK_NODE_METADATA


def pipeline_update() -> tuple[dict[str, Any], dict[str, Any]]:
    entity = {"id": "p1", "name": "x", "projectId": ref.PROJECT, "status": "Created", "description": "",
              "variables": [], "nodes": [], "connections": [], "startNodes": []}
    spec = example("pipeline_task_node")
    body = pl.update_body(entity, spec, project_id=ref.PROJECT, dataset_id=ref.DATASET, recipe_id=ref.RECIPE,
                          recipe_title="t", owner="o", due=1.0, description=pl.key_mark("k", pl.READY),
                          source=pl.source_variable(source_query(spec.source), uploaded=False))
    # pipeline.update() sends the entity as returned with its nodes, edges and start node (§3.14)
    keep = ("nodes", "connections", "startNodes")
    return ({k: v for k, v in body.items() if k not in keep}, {k: v for k, v in entity.items() if k not in keep})


def connection() -> tuple[dict[str, Any], dict[str, Any]]:
    ours = pl.connection(pl.node_ids("p", 0), pl.node_ids("p", 1), "complete")
    return ours, {k: ours[k] for k in ref.CONNECTION_KEYS}


FLOWS = {
    "task from filter": lambda: (task_body(example("task_from_filter", options=SEED)), ref.TASK_FROM_FILTER),
    "pulling": lambda: (task_body(example("pulling_task", options={"dataloop": {"task_name": "seed-pulling"}})),
                        ref.PULLING),
    "consensus": lambda: (task_body(example("consensus_task"))["metadata"]["system"], ref.CONSENSUS_SYSTEM),
    "qa": lambda: (qa_body(), ref.QA),
    "add by filter": lambda: (payloads.add_to_task_body(dql.from_user_filter({"metadata.system.refs": []}),
                                                        ["annotator1@dataloop.ai", "annotator2@dataloop.ai"]),
                              ref.ADD_BY_FILTER),
    "add by items": lambda: (payloads.add_to_task_body(dql.items_by_id(["65f1c1000000000000000001"]),
                                                       ["annotator1@dataloop.ai"]), ref.ADD_BY_ITEMS),
    "uploaded items task": lambda: (task_body(example("task_from_filter", options=SEED), empty=True),
                                    task_body(example("task_from_filter", options=SEED))),
    "task node": task_node,
    "pipeline create": lambda: (pl.create_body("pipeline-faas-example-dataset", ref.PROJECT, pl.key_mark("k")),
                                ref.PIPELINE_CREATE),
    "pipeline update": pipeline_update,
    "connection": connection,
}


@pytest.mark.parametrize("flow", list(FLOWS))
def test_body_differs_from_dtlpys_only_where_listed(flow: str) -> None:
    ours, dtlpys = FLOWS[flow]()
    assert differing(ours, dtlpys) == set(ref.DIFFERENCES[flow]), flow


def test_every_listed_flow_is_compared_and_justified() -> None:
    assert set(ref.DIFFERENCES) == set(FLOWS)
    reasons = [*(why for d in ref.DIFFERENCES.values() for why in d.values()), *ref.VALUE_DIFFERENCES.values()]
    assert all(len(why) > 40 for why in reasons)  # each says why, not just what


def test_differing_names_fields_one_side_lacks_and_values_that_differ() -> None:
    assert differing({"a": 1, "b": {"c": 1, "d": 2}}, {"a": 1, "b": {"c": 2}, "e": 0}) == {"b.c", "b.d", "e"}
    assert differing([1, 2], [1, 2]) == set() and differing([1], [2]) == {""}
