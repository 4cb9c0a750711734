"""DQL: the JSON query language of Dataloop, built exactly the way dtlpy's ``Filters.prepare()`` does.

A task's scope is a DQL object sent JSON-encoded in the task's ``query`` field. The builders here
produce the same objects dtlpy produces for the seed flows (reference §3.3.1, §3.5), so a task made
through annotate selects the same items as one made with dtlpy.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from annotate_core.errors import SpecError
from annotate_dataloop.wire import DQL_PAGE_SIZE

#: dtlpy's default clauses for ``resource: items``: no folders, no hidden items (consensus clones)
#: [K entities/filters.py:327-341]
DEFAULT_ITEM_CLAUSES: tuple[dict[str, Any], ...] = ({"hidden": False}, {"type": "file"})

SORT_BY_ID = {"id": "ascending"}


def _query(clauses: Sequence[Mapping[str, Any]], *, page_size: int = DQL_PAGE_SIZE) -> dict[str, Any]:
    """``{"filter": {"$and": [...]}, "page": 0, "pageSize": N, "resource": "items"}`` in dtlpy's key order."""
    return {"filter": {"$and": [dict(c) for c in clauses]}, "page": 0, "pageSize": page_size, "resource": "items"}


def whole_dataset() -> dict[str, Any]:
    """Every (visible, non-folder) item: the query dtlpy sends with neither filters nor items [W §3.5.4]."""
    return _query(DEFAULT_ITEM_CLAUSES)


def items_by_id(item_ids: Sequence[str]) -> dict[str, Any]:
    """An explicit item list, as an ``id $in`` query *without* the default clauses [W §3.5.3]."""
    return _query([{"id": {"$in": list(item_ids)}}])


def folder(path: str) -> dict[str, Any]:
    """The items of one folder (exact directory match on ``dir``) with the default clauses [W §3.3.1]."""
    return _query([*DEFAULT_ITEM_CLAUSES, {"dir": path}])


def from_user_filter(dql: Mapping[str, Any], where: str = "source.filter") -> dict[str, Any]:
    """A user's filter as a task query.

    Two forms are accepted: the full JSON that ``dl.Filters(...).prepare()`` prints (it has a
    ``filter`` key and is sent as given, with ``page``/``pageSize``/``resource`` filled in when
    missing), or a bare filter clause such as ``{"dir": "/batch1"}`` or ``{"$and": [...]}``, to which
    dtlpy's default clauses are added the way ``dl.Filters(field=..., values=...)`` adds them.
    """
    if not isinstance(dql, Mapping) or not dql:
        raise SpecError(f"{where}: expected a non-empty DQL object, got {dql!r}")
    if "filter" in dql:
        flt = dql["filter"]
        if not isinstance(flt, Mapping):
            raise SpecError(f"{where}.filter: expected an object such as {{'$and': [...]}}, got {flt!r}")
        resource = dql.get("resource", "items")
        if resource != "items":
            raise SpecError(f"{where}.resource: a task selects items, expected 'items', got {resource!r}")
        out: dict[str, Any] = {"filter": copy.deepcopy(dict(flt))}
        if "sort" in dql:
            out["sort"] = copy.deepcopy(dql["sort"])
        out["page"] = dql.get("page", 0)
        out["pageSize"] = dql.get("pageSize", DQL_PAGE_SIZE)
        out["resource"] = "items"
        for key, value in dql.items():
            if key not in out:
                out[key] = copy.deepcopy(value)  # e.g. a `join` on annotations
        return out
    if set(dql) == {"$and"}:
        clauses = dql["$and"]
        if not isinstance(clauses, list):
            raise SpecError(f"{where}.$and: expected a list of clauses, got {clauses!r}")
        return _query([*DEFAULT_ITEM_CLAUSES, *clauses])
    return _query([*DEFAULT_ITEM_CLAUSES, *({k: v} for k, v in dql.items())])


def and_clauses(query: Mapping[str, Any]) -> list[Any]:
    """The ``$and`` list of a query's filter, wrapping any other filter shape into one clause."""
    flt = query.get("filter") or {}
    if set(flt) == {"$and"} and isinstance(flt["$and"], list):
        return list(flt["$and"])
    return [flt] if flt else []


def with_clauses(query: Mapping[str, Any], *clauses: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``query`` with ``clauses`` appended to its ``$and`` (dtlpy's ``filters.add``)."""
    out = copy.deepcopy(dict(query))
    out["filter"] = {"$and": [*copy.deepcopy(and_clauses(query)), *(dict(c) for c in clauses)]}
    return out


def has_status_in(task_id: str) -> dict[str, Any]:
    """Items that have *any* status in task ``task_id``: the clause a QA task adds [W §3.8]."""
    return {
        "metadata.system.refs": {
            "$match": {"id": task_id, "type": "task", "metadata": {"status": {"$exists": True}}}
        }
    }


def task_items(task_ids: Sequence[str], *, exclude: Sequence[str] = (), page_size: int = DQL_PAGE_SIZE
               ) -> dict[str, Any]:
    """The items of one or more tasks as ``task.get_items()`` lists them, ordered by id for keyset paging.

    Like dtlpy: no default clauses (hidden items too) and, for consensus tasks, not the items the
    consensus assignment holds (``exclude``: ``metadata.system.consensusAssignmentId``) [K
    repositories/tasks.py:get_items]. So a consensus task yields the annotators' copies (hidden items
    under ``/.consensus/``, each answered by one annotator) instead of the originals, which get the
    copies' annotations only once every copy has a status [D create-consensus-tasks]: answers show up
    as each annotator gives them.
    """
    clauses: list[dict[str, Any]] = [{"metadata.system.refs.id": {"$in": list(task_ids)}}]
    clauses += [{"metadata.system.refs.id": {"$ne": holder}} for holder in exclude]
    return {
        "filter": {"$and": clauses},
        "sort": dict(SORT_BY_ID),
        "page": 0,
        "pageSize": page_size,
        "resource": "items",
    }


def items_with_keys(folder_path: str, keys: Sequence[str], *, page_size: int = DQL_PAGE_SIZE) -> dict[str, Any]:
    """Items uploaded by annotate into ``folder_path`` whose neutral key is one of ``keys``."""
    return {
        "filter": {
            "$and": [
                *DEFAULT_ITEM_CLAUSES,
                {"dir": folder_path},
                {"metadata.user.annotate.key": {"$in": list(keys)}},
            ]
        },
        "sort": dict(SORT_BY_ID),
        "page": 0,
        "pageSize": page_size,
        "resource": "items",
    }


def class_annotations(item_ids: Sequence[str], *, page_size: int = DQL_PAGE_SIZE) -> dict[str, Any]:
    """Classification annotations (``type: class``) of the given items, ordered by id [W §3.13]."""
    return {
        "filter": {"$and": [{"type": "class"}, {"itemId": {"$in": list(item_ids)}}]},
        "sort": dict(SORT_BY_ID),
        "page": 0,
        "pageSize": page_size,
        "resource": "annotations",
    }


def dataset_by_name(name: str, project_id: str) -> dict[str, Any]:
    """What ``project.datasets.get(dataset_name=...)`` sends to ``POST /datasets/query`` [W §3.2]."""
    return {
        "filter": {"$and": [{"name": name}]},
        "page": 0,
        "pageSize": DQL_PAGE_SIZE,
        "resource": "datasets",
        "context": {"projects": [project_id]},
    }


def tasks_of_pipeline(pipeline_id: str, project_id: str) -> dict[str, Any]:
    """Tasks created by a pipeline's task nodes (``metadata.system.pipelineId`` [O TaskMetadata])."""
    return {
        "filter": {"$and": [{"metadata.system.pipelineId": pipeline_id}]},
        "page": 0,
        "pageSize": 500,
        "resource": "tasks",
        "context": {"projectIds": [project_id]},
    }


def annotate_tasks(project_id: str, *, page_size: int = 500) -> dict[str, Any]:
    """Every task annotate created in a project: those carrying ``metadata.user.annotate``.

    Annotation and QA tasks alike (both get the key from ``payloads``); tasks made in the platform, by
    dtlpy or by a pipeline's nodes do not have it. Offset-paged like ``tasks_of_pipeline``; 500 is
    dtlpy's page size for tasks (reference §5).
    """
    return {
        "filter": {"$and": [{"metadata.user.annotate": {"$exists": True}}]},
        "page": 0,
        "pageSize": page_size,
        "resource": "tasks",
        "context": {"projectIds": [project_id]},
    }


def tasks_marked(field: str, value: str, project_id: str | None, *, page_size: int = 500) -> dict[str, Any]:
    """annotate's tasks whose ``metadata.user.annotate.<field>`` is ``value`` (a job key or a create id).

    How a job key is found again, and how a create whose answer was lost is looked up before it is
    sent again. Offset-paged like ``annotate_tasks``; without a project the query is not narrowed by one.
    """
    query: dict[str, Any] = {
        "filter": {"$and": [{f"metadata.user.annotate.{field}": value}]},
        "page": 0,
        "pageSize": page_size,
        "resource": "tasks",
    }
    if project_id is not None:
        query["context"] = {"projectIds": [project_id]}
    return query


def pipelines_described(descriptions: Sequence[str], project_id: str, *, page_size: int = 500) -> dict[str, Any]:
    """A project's pipelines whose ``description`` is one of ``descriptions`` (annotate's key marks).

    ``POST /pipelines/query`` with ``resource: pipeline`` and a ``projectId`` clause, as dtlpy's
    ``pipelines.list()`` sends it [K repositories/pipelines.py].
    """
    return {
        "filter": {"$and": [{"description": {"$in": list(descriptions)}}, {"projectId": project_id}]},
        "page": 0,
        "pageSize": page_size,
        "resource": "pipeline",
    }


def after_id(query: Mapping[str, Any], last_id: str) -> dict[str, Any]:
    """The next keyset page: ``page`` stays 0 and ``{"id": {"$gt": last}}`` replaces any earlier cursor.

    This is what dtlpy does when iterating items and annotations (reference §5): stable under
    inserts and without the cost of deep offsets.
    """
    clauses = [c for c in and_clauses(query) if not (isinstance(c, dict) and set(c) == {"id"}
                                                      and isinstance(c["id"], dict) and set(c["id"]) == {"$gt"})]
    out = dict(query)  # shallow: only ``filter`` changes, and a deep copy of an answers page's 1,000-id
    out["filter"] = {"$and": [*clauses, {"id": {"$gt": last_id}}]}  # ``$in`` cost more than reading the page
    out["page"] = 0
    return out
