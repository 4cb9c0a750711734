"""A neutral pipeline (annotate -> review) as Dataloop task nodes connected in order.

Node JSON is what ``dl.TaskNode(...)`` serialises to [W §3.14]: a ``task`` node running
``pipeline-utils/move_to_task``, one item input port, one output port with the node's actions, and
the task settings (recipe, owner, workload, position, dataset) under ``metadata``. Node and port
ids are UUIDs the client chooses; annotate derives them from the pipeline id so a repeated update
sends the same ids (and a replayed test the same bodies).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from annotate_core.model.spec import JobSpec
from annotate_core.model.workflow import Stage, StageKind
from annotate_core.model.workforce import Assignee
from annotate_dataloop.options import dataloop_options
from annotate_dataloop.payloads import workload
from annotate_dataloop.rules import consensus_settings, pulling_settings

_NAMESPACE = uuid.UUID("0b9a1f64-5d1e-4c3a-9a57-3f7f2d6a9c10")

NAMESPACE = {"functionName": "move_to_task", "projectName": "DataloopTasks", "serviceName": "pipeline-utils"}
ACTIONS = {"annotation": ["complete", "discard"], "qa": ["approve", "discard"]}


@dataclass(frozen=True)
class NodeIds:
    node: str
    input_port: str
    output_port: str


def node_ids(pipeline_id: str, index: int) -> NodeIds:
    def make(role: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"{pipeline_id}/{index}/{role}"))

    return NodeIds(make("node"), make("in"), make("out"))


def position(col: float, row: float) -> dict[str, Any]:
    """Canvas coordinates of ``position=(col, row)``: x = col*1.7*200+100, y = row*1.5*87+87 [K node.py]."""
    return {"x": col * 1.7 * 200 + 100, "y": row * 1.5 * 87 + 87, "z": 0}


def create_body(name: str, project_id: str, description: str | None = None) -> dict[str, Any]:
    """``POST /pipelines`` for an empty pipeline [W §3.14]; ``description`` carries annotate's mark
    (``key_mark``), kept by every whole-entity ``PATCH`` after it."""
    body: dict[str, Any] = {"name": name, "projectId": project_id, "nodes": [], "connections": [], "startNodes": [],
                            "variables": []}
    if description is not None:
        body["description"] = description
    return body


#: what a pipeline's ``description`` says while annotate is building it, and once every step is done
BUILDING, READY = "building", "ready"


def key_mark(token: str, stage: str = BUILDING) -> str:
    """The ``description`` naming a pipeline's job key (or, without a key, its create call's id).

    Pipelines carry no user metadata annotate could rely on, but ``description`` is sent and returned
    whole by ``POST``/``PATCH /pipelines`` [W §3.14]; the stage says whether the create got to its end
    (the nodes are in place: the same ``PATCH`` that adds them says ``ready``), so a rerun knows
    whether to resume it. Install and execute are ``start()``'s, checked against the pipeline's state.
    """
    return f"annotate job {token} ({stage})"


def pipeline_name(spec: JobSpec) -> str:
    return dataloop_options(spec).pipeline_name or spec.name


def stage_assignees(spec: JobSpec, stage: Stage) -> list[Assignee]:
    """Who works a stage: its own assignees, else the workforce (annotate) or the reviewers (review)."""
    weights = {a.id: a.weight for a in spec.workforce.assignees}
    if stage.assignees:
        return [Assignee(id=a, weight=weights.get(a, 1.0)) for a in stage.assignees]
    if stage.kind is StageKind.ANNOTATE:
        return list(spec.workforce.assignees)
    if spec.review is not None:
        return [Assignee(id=a) for a in spec.review.reviewers]
    return []


def stage_name(spec: JobSpec, stage: Stage, index: int) -> str:
    if stage.name:
        return stage.name
    return spec.name if index == 0 else f"{spec.name} {stage.kind.value} {index}"


def task_node(
    spec: JobSpec,
    stage: Stage,
    index: int,
    *,
    ids: NodeIds,
    project_id: str,
    dataset_id: str,
    recipe_id: str,
    recipe_title: str,
    owner: str,
    due: float | None,
) -> dict[str, Any]:
    """One ``dl.TaskNode`` as JSON [W §3.14]."""
    task_type = "qa" if stage.kind is StageKind.REVIEW else "annotation"
    actions = ACTIONS[task_type]
    col, row = dataloop_options(spec).position
    meta: dict[str, Any] = {
        "position": position(col + index, row),
        "datasetId": dataset_id,
        "recipeTitle": recipe_title,
        "recipeId": recipe_id,
        "taskOwner": owner,
        "taskType": task_type,
        "workload": workload(stage_assignees(spec, stage)),
        "repeatable": True,
        "priority": dataloop_options(spec).priority,
    }
    if due is not None:
        meta["dueDate"] = due
    if task_type == "annotation":
        pulling = pulling_settings(spec)
        if pulling is not None:
            meta["batchSize"] = pulling.batch_size
            meta["maxBatchWorkload"] = pulling.max_batch_workload
        consensus = consensus_settings(spec)
        if consensus is not None:
            meta["consensusPercentage"] = consensus.percentage
            meta["consensusAssignees"] = consensus.assignees
    return {
        "name": stage_name(spec, stage, index),
        "id": ids.node,
        "type": "task",
        "namespace": dict(NAMESPACE),
        "projectId": project_id,
        "dpkName": None,
        "appName": None,
        "inputs": [{"portId": ids.input_port, "type": "Item", "name": "item", "color": None, "displayName": "item",
                    "variableName": None, "portPercentage": None}],
        "outputs": [{"portId": ids.output_port, "type": "Item", "name": "item", "color": None,
                     "displayName": actions[0], "variableName": None, "portPercentage": None,
                     "actions": list(actions)}],
        "metadata": meta,
    }


def connection(src: NodeIds, tgt: NodeIds, action: str) -> dict[str, Any]:
    """An edge taken when the source task sets ``action`` on an item [W §3.14].

    ``condition`` is required by the OpenAPI schema although dtlpy omits it; ``"{}"`` (no filter)
    is what Dataloop's own pipeline template sends [D pipeline_template.json].
    """
    return {"src": {"nodeId": src.node, "portId": src.output_port},
            "tgt": {"nodeId": tgt.node, "portId": tgt.input_port},
            "condition": "{}", "action": action}


def task_stages(spec: JobSpec) -> list[Stage]:
    """The stages that become task nodes (aggregation happens client-side, in ``job.results``)."""
    assert spec.pipeline is not None
    return [s for s in spec.pipeline.stages if s.kind in (StageKind.ANNOTATE, StageKind.REVIEW)]


#: the pipeline variable holding what ``start()`` runs through the pipeline (see ``source_variable``)
SOURCE_VARIABLE = "annotate_source"


def source_variable(query: Mapping[str, Any], *, uploaded: bool) -> dict[str, Any]:
    """A pipeline variable (``dl.Variable`` JSON: name, type, value [K entities/pipeline.py:Variable])
    holding the items query ``start()`` executes the pipeline over: the source's DQL, or the job's upload
    folder (``uploaded``). Creating a job only builds the pipeline; ``start()`` has nothing but the job
    id, so the pipeline itself keeps the query. No node reads the variable."""
    return {"name": SOURCE_VARIABLE, "type": "Json", "value": {"query": dict(query), "uploaded": uploaded}}


def stored_source(pipeline: Mapping[str, Any]) -> tuple[dict[str, Any], bool] | None:
    """(query, uploaded) kept by ``source_variable`` on a pipeline, or None (made by an older annotate)."""
    for v in pipeline.get("variables") or []:
        if isinstance(v, dict) and v.get("name") == SOURCE_VARIABLE and isinstance(v.get("value"), dict):
            query = v["value"].get("query")
            if isinstance(query, dict):
                return dict(query), bool(v["value"].get("uploaded"))
    return None


#: the pipeline variable holding the spec the job was made from (``get_spec``, job-key conflicts)
SPEC_VARIABLE = "annotate_spec"


def spec_variable(spec: JobSpec) -> dict[str, Any]:
    """A pipeline variable (``dl.Variable`` JSON) with the whole spec, losslessly (``spec_document``): a
    pipeline job has no task of its own to carry it, and a rerun with the job's key compares it."""
    from annotate_core.stored_spec import spec_document

    return {"name": SPEC_VARIABLE, "type": "Json", "value": spec_document(spec)}


def stored_spec_document(pipeline: Mapping[str, Any]) -> dict[str, Any] | None:
    """The spec document ``spec_variable`` kept on a pipeline, or None (made by an older annotate)."""
    for v in pipeline.get("variables") or []:
        if isinstance(v, dict) and v.get("name") == SPEC_VARIABLE and isinstance(v.get("value"), dict):
            return dict(v["value"])
    return None


def update_body(
    pipeline: Mapping[str, Any],
    spec: JobSpec,
    *,
    project_id: str,
    dataset_id: str,
    recipe_id: str,
    recipe_title: str,
    owner: str,
    due: float | None,
    source: Mapping[str, Any] | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """``PATCH /pipelines/{id}``: the pipeline as the gate returned it, with nodes, edges and start node.

    Like ``pipeline.update()`` the whole entity is sent [W §3.14]; nodes are chained in stage order,
    each connected on its first action (``complete`` for annotation, ``approve`` for QA). ``source``
    (a ``source_variable``) replaces the pipeline's variables, which always end with the spec
    (``spec_variable``); ``description`` its key mark.
    """
    pipeline_id = str(pipeline.get("id"))
    stages = task_stages(spec)
    ids = [node_ids(pipeline_id, i) for i in range(len(stages))]
    nodes = [
        task_node(spec, s, i, ids=ids[i], project_id=project_id, dataset_id=dataset_id, recipe_id=recipe_id,
                  recipe_title=recipe_title, owner=owner, due=due)
        for i, s in enumerate(stages)
    ]
    connections = [
        connection(ids[i], ids[i + 1], ACTIONS[nodes[i]["metadata"]["taskType"]][0]) for i in range(len(ids) - 1)
    ]
    body = {k: v for k, v in pipeline.items() if k not in ("nodes", "connections", "startNodes")}
    body["nodes"] = nodes
    body["connections"] = connections
    body["startNodes"] = [{"nodeId": ids[0].node, "type": "root"}]
    kept = [dict(source)] if source is not None else [
        v for v in pipeline.get("variables") or [] if isinstance(v, dict) and v.get("name") != SPEC_VARIABLE]
    body["variables"] = [*kept, spec_variable(spec)]
    if description is not None:
        body["description"] = description
    return body


def execute_body(query: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /pipelines/{id}/execute`` over every item a query selects -> Command [K pipeline_executions.py]."""
    return {"batch": {"query": dict(query), "args": {}}}
