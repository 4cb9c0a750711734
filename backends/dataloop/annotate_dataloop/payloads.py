"""Request bodies for tasks, QA tasks, added items, recipes and ontologies — pure functions of a spec.

Both ``plan()`` (with placeholders for ids it cannot know offline) and the real calls build their
bodies here, so what a dry run shows is byte-for-byte what is sent. Field names, order and value
types follow what dtlpy 1.126.5 sends (reference §3.4-§3.9, tags [W]).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from annotate_core.model.fields import FieldType
from annotate_core.model.spec import JobSpec
from annotate_core.model.workforce import Assignee
from annotate_core.stored_spec import spec_document
from annotate_dataloop import dql
from annotate_dataloop.options import dataloop_options
from annotate_dataloop.rules import consensus_settings, pulling_settings
from annotate_dataloop.wire import DEFAULT_DUE_DAYS, due_date_ms, encode_query

#: key under ``metadata.user`` where annotate keeps its own data on tasks and items
META_KEY = "annotate"

#: label colours for created ontologies; dtlpy fails without one (reference §6.17)
PALETTE = ("#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6",
           "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#fffac8", "#800000", "#aaffc3")


# ---- assignees and workload ---------------------------------------------------------------------


def workload(assignees: Sequence[Assignee | str]) -> list[dict[str, Any]]:
    """``[{"assigneeId", "load"}]``: integer percentages summing to 100, proportional to weights.

    Equal weights reproduce dtlpy's split exactly (``100 // n``, the remainder to the first
    assignees: 3 -> 34/33/33 [K entities/assignment.py:Workload.generate]); unequal weights use the
    largest remainder, ties going to the earlier assignee. E-mails are sent lower-cased, as dtlpy
    matches them (reference §1.4).
    """
    people = [a if isinstance(a, Assignee) else Assignee(id=a) for a in assignees]
    if not people:
        return []
    total = sum(a.weight for a in people)
    exact = [a.weight * 100 / total for a in people]
    loads = [math.floor(x) for x in exact]
    order = sorted(range(len(people)), key=lambda i: (-(exact[i] - loads[i]), i))
    for i in order[: 100 - sum(loads)]:
        loads[i] += 1
    return [{"assigneeId": a.id.lower(), "load": load} for a, load in zip(people, loads, strict=True)]


def emails(ids: Sequence[str]) -> list[str]:
    return [i.lower() for i in ids]


# ---- labels -------------------------------------------------------------------------------------


def label_tags(spec: JobSpec) -> list[tuple[str, str | None]]:
    """(tag, display label) of every label the task's recipe must offer, from the output field."""
    out: list[tuple[str, str | None]] = []
    for f in spec.outputs:
        if f.type is FieldType.BOOL:
            out += [("true", None), ("false", None)]
        else:
            out += [(o.value, o.label) for o in f.options]
    return out


def ontology_body(spec: JobSpec, project_id: str) -> dict[str, Any]:
    """``POST /ontologies`` creating the label tree for the spec's options [W §3.4]."""
    roots = [
        {
            "value": {"tag": tag, "attributes": [], "displayLabel": display, "displayData": {},
                      "color": PALETTE[i % len(PALETTE)]},
            "children": [],
        }
        for i, (tag, display) in enumerate(label_tags(spec))
    ]
    return {"roots": roots, "projectIds": [project_id], "attributes": []}


def recipe_title(spec: JobSpec, key: str | None = None) -> str:
    """A created recipe's title; with a job key it names the key, which is how a rerun finds it."""
    return f"{spec.name} (annotate {key})" if key else f"{spec.name} (annotate)"


def recipe_body(spec: JobSpec, project_id: str, ontology_id: str, key: str | None = None) -> dict[str, Any]:
    """``POST /recipes`` pointing at the created ontology [W §3.4]."""
    return {
        "title": recipe_title(spec, key),
        "projectIds": [project_id],
        "ontologyIds": [ontology_id],
        "uiSettings": {"allowObjectIdAutoAssign": True, "studioV2App": True},
    }


def switch_recipe_body(dataset: Mapping[str, Any], recipe_id: str) -> dict[str, Any]:
    """``PATCH /datasets/{id}?system=true``: the dataset as the gate returned it, with ``recipe_id`` as its
    recipe — what ``dataset.recipes.create`` does through ``dataset.switch_recipe`` [W §3.4][K
    entities/dataset.py:switch_recipe]: the whole entity, ``metadata.system.recipes`` replaced by
    ``[recipe_id]``. The dataset's studio then offers the job's labels; other tasks keep their own
    ``recipeId``."""
    body = dict(dataset)
    metadata = dict(body.get("metadata") or {})
    system = dict(metadata.get("system") or {})
    system["recipes"] = [recipe_id]
    metadata["system"] = system
    body["metadata"] = metadata
    return body


def flat_labels(roots: Any, prefix: str = "") -> set[str]:
    """Every label of an ontology tree, children as dotted paths [K entities/ontology.py:labels_flat_dict]."""
    found: set[str] = set()
    for node in roots or []:
        tag = (node.get("value") or {}).get("tag") if isinstance(node, dict) else None
        if not isinstance(tag, str):
            continue
        path = f"{prefix}{tag}"
        found.add(path)
        found |= flat_labels(node.get("children"), path + ".")
    return found


# ---- tasks --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ids:
    """The ids a task body refers to; placeholders in a plan, real ids when creating."""

    project: str
    dataset: str
    recipe: str
    owner: str


def task_name(spec: JobSpec) -> str:
    return dataloop_options(spec).task_name or spec.name


def due_date(spec: JobSpec, created: datetime | None = None) -> float:
    """A task's (or task node's) ``dueDate``: the spec's deadline, else dtlpy's default, 7 days after
    ``created`` (now when not given).

    dtlpy never creates a task or task node without a due date (``now + 7 days`` when the caller gives
    none), so a task without one is a path Dataloop's own SDK never takes; annotate follows dtlpy and
    the plan says so (``fidelity.plan_warnings``, path ``deadline``). annotate never sets
    ``metadata.system.enforceDueDate`` (what the platform does at the date without it is unverified).
    """
    now = created or datetime.now(timezone.utc)
    when = spec.deadline_at(now)
    return due_date_ms(when if when is not None else now + timedelta(days=DEFAULT_DUE_DAYS))


def spec_metadata(spec: JobSpec, create_id: str, key: str | None = None, **extra: Any) -> dict[str, Any]:
    """``metadata.user.annotate`` of an annotation task: the spec (for ``get_spec``), the id of this create
    call and the job key (both looked up when a create's outcome is unknown, see ``creates.py``)."""
    return {"createId": create_id, **({"key": key} if key else {}), **extra,
            "spec": spec_document(spec)}  # lossless: an explicit null (a permanent ban) stays null


def _task_head(
    name: str, query: Mapping[str, Any], task_spec: dict[str, Any], ids: Ids, due: float | None, priority: Any
) -> dict[str, Any]:
    """The fields every ``POST /annotationtasks`` body starts with, annotation or QA, as dtlpy orders them."""
    body: dict[str, Any] = {
        "name": name,
        "query": encode_query(query),
        "taskOwner": ids.owner,
        "spec": task_spec,
        "datasetId": ids.dataset,
        "projectId": ids.project,
        "assignmentIds": [],
        "recipeId": ids.recipe,
    }
    if due is not None:
        body["dueDate"] = due
    body["asynced"] = True
    body["priority"] = priority
    return body


def annotation_task_body(
    spec: JobSpec,
    *,
    query: Mapping[str, Any],
    ids: Ids,
    create_id: str,
    due: float | None,
    empty: bool = False,
    key: str | None = None,
) -> dict[str, Any]:
    """``POST /annotationtasks`` for an annotation, pulling or consensus task [W §3.5-§3.7].

    Pulling: ``metadata.system.{allowedAssignees, batchSize, maxBatchWorkload, scoring: false}`` and
    no workload, as in the seed flow. Consensus: ``consensusPercentage``/``consensusAssignees``,
    ``allowedAssignees`` and the equal workload. Otherwise the assignees' weighted workload.
    ``options.dataloop.statuses`` become ``availableActions`` (the task's item statuses); without
    them nothing is sent and the task offers Dataloop's completed/discard.
    """
    opts = dataloop_options(spec)
    people = spec.workforce.assignees
    pulling = pulling_settings(spec)
    consensus = consensus_settings(spec)
    body = _task_head(task_name(spec), query, {"type": "annotation"}, ids, due, opts.priority)
    system: dict[str, Any] = {}
    if pulling is not None:
        if people:
            system["allowedAssignees"] = emails([a.id for a in people])
        system["batchSize"] = pulling.batch_size
        system["maxBatchWorkload"] = pulling.max_batch_workload
        system["scoring"] = False
    else:
        if people:
            body["workload"] = workload(people)
        if consensus is not None:
            if people:
                system["allowedAssignees"] = emails([a.id for a in people])
            system["consensusPercentage"] = consensus.percentage
            system["consensusAssignees"] = consensus.assignees
            system["scoring"] = False
    actions = opts.available_actions()
    if actions is not None:
        body["availableActions"] = actions  # custom statuses, after workload as dtlpy orders them [W §3.5.3]
    metadata: dict[str, Any] = {}
    if system:
        metadata["system"] = system
    metadata["user"] = {META_KEY: spec_metadata(spec, create_id, key)}
    body["metadata"] = metadata
    if empty:
        body["emptyTask"] = True  # [O TaskPayload]: items come later through addToTask
    return body


def qa_query(parent_query: Mapping[str, Any], parent_id: str) -> dict[str, Any]:
    """The parent's query plus "has a status in the parent task" — completed or discarded [W §3.8]."""
    return dql.with_clauses(parent_query, dql.has_status_in(parent_id))


def qa_task_body(
    spec: JobSpec,
    *,
    parent_query: Mapping[str, Any],
    parent_id: str,
    parent_name: str,
    ids: Ids,
    create_id: str,
    due: float | None,
    limit: int | str | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """``POST /annotationtasks`` for the QA task of ``parent_id`` (``create_qa_task``) [W §3.8].

    ``limit`` caps how many of the parent's items the QA task takes, for ``review.fraction < 1``.
    """
    assert spec.review is not None
    opts = dataloop_options(spec)
    body = _task_head(
        opts.qa_task_name or f"{parent_name}_qa",
        qa_query(parent_query, parent_id),
        {"type": "qa", "parentTaskId": parent_id},
        ids,
        due,
        opts.priority,
    )
    if spec.review.reviewers:
        body["workload"] = workload(list(spec.review.reviewers))
    if limit is not None:
        body["limit"] = limit
    body["metadata"] = {"user": {META_KEY: {"createId": create_id, **({"key": key} if key else {}),
                                            "parentTaskId": parent_id}}}
    return body


def qa_limit(spec: JobSpec, parent_total: int) -> int | None:
    """How many items a QA task reviewing ``review.fraction`` of ``parent_total`` items takes."""
    if spec.review is None or spec.review.fraction >= 1:
        return None
    return max(1, math.ceil(spec.review.fraction * parent_total))


def add_to_task_body(query: Mapping[str, Any], assignees: Sequence[Assignee | str]) -> dict[str, Any]:
    """``POST /annotationtasks/{id}/addToTask`` [W §3.9]; new assignees get new assignments."""
    body: dict[str, Any] = {"query": encode_query(query)}
    if assignees:
        body["workload"] = workload(assignees)
    body["asynced"] = True
    return body


def task_update_body(task: Mapping[str, Any], status: str) -> dict[str, Any]:
    """``PATCH /annotationtasks/{id}``: the whole entity with a new status, as ``task.update()`` [W §3.15]."""
    fields = ("name", "status", "metadata", "id", "url", "creator", "spec", "query", "assignmentIds", "progress",
              "priority", "projectId", "datasetId", "recipeId", "taskOwner", "dueDate", "totalItems", "forReview",
              "description", "availableActions")
    body = {k: task[k] for k in fields if k in task}
    body["status"] = status
    return body


# ---- uploaded items -----------------------------------------------------------------------------

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def folder_for(spec: JobSpec) -> str:
    """Where a job's uploaded items live: ``options.dataloop.folder`` or ``/annotate/<slug of name>``."""
    opts = dataloop_options(spec)
    if opts.folder:
        return "/" + opts.folder.strip("/")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", spec.name).strip("-").lower() or "job"
    return f"/annotate/{slug}"
