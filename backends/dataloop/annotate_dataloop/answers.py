"""Dataloop annotations and item statuses as neutral answer records.

An *answer* is one classification annotation (label, annotator = ``creator``, time = ``createdAt``)
on an item of the task. Its status comes from the item's status in the tasks, stored in the item's
``metadata.system.refs`` (reference §3.3.2, §3.12):

* QA task: ``approved`` -> accepted, ``discard`` -> rejected (the reviewer is who set it);
* else the annotation's own QA mark (``metadata.system.status``): ``approved`` / ``issue``;
* else the annotation task: ``completed`` (or ``consensus_done``) -> submitted, ``discard`` ->
  skipped (the annotator discarded the item), no status yet -> active. Any other status is a custom
  one (``options.dataloop.statuses``, the task's ``availableActions``): the annotator finished the
  item with it, so the answer is submitted and ``review_comment`` names the status (``status 'x'``).
  Items store the action name, never the display name, so that is what is reported.

For consensus tasks the answers are read from the annotators' copies, as ``task.get_items()`` lists
them (reference §3.7): hidden items with ``spec.parentDatasetItemId``, one annotator each, with their
own status in the task. Each copy's answer is reported under its original item (key, inputs, and
the QA task's verdict, which is set on the original). The platform merges the copies' annotations
onto the original only once every copy has a status, so reading the originals would show nothing
until then; the originals (held by the consensus assignment) are not read, so no vote counts twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from annotate_core.answers import AnswerStatus
from annotate_core.model.fields import FieldType
from annotate_core.model.spec import JobSpec
from annotate_dataloop.payloads import META_KEY
from annotate_dataloop.wire import get, parse_time, parse_times

if TYPE_CHECKING:  # pandas loads when a frame is built
    import pandas as pd

    from annotate_core.answers import AnswerColumns

# ---- what the mapping reads of the gate's pages ------------------------------------------------
# Every key of items and annotations that _answer_pages, add_item and _fast_page read, as the shapes
# HttpClient.json decodes them to (with msgspec: nothing else of an item or annotation is built;
# json_bodies.response_json). A key read and not named here would be missing: name it here too.


class _RefMeta(TypedDict, total=False):
    status: Any
    creator: Any


class _Ref(TypedDict, total=False):
    id: Any
    metadata: _RefMeta | None


class _ItemSystem(TypedDict, total=False):
    refs: list[_Ref] | None


class _Stored(TypedDict, total=False):  # metadata.user.annotate (META_KEY)
    key: Any
    inputs: Any


class _User(TypedDict, total=False):
    annotate: _Stored | None


class _ItemMeta(TypedDict, total=False):
    system: _ItemSystem | None
    user: _User | None


class _ItemSpec(TypedDict, total=False):
    parentDatasetItemId: Any


class _Item(TypedDict, total=False):
    id: Any
    spec: _ItemSpec | None
    metadata: _ItemMeta | None
    stream: Any
    filename: Any
    name: Any


class _NoteSystem(TypedDict, total=False):
    taskId: Any
    status: Any
    assignmentId: Any


class _NoteMeta(TypedDict, total=False):
    system: _NoteSystem | None


class _Note(TypedDict, total=False):
    id: Any
    itemId: Any
    label: Any
    creator: Any
    createdAt: Any
    metadata: _NoteMeta | None


class ItemsPage(TypedDict, total=False):
    """A DQL page of items, as far as reading answers goes."""

    items: list[_Item]
    hasNextPage: Any


class AnnotationsPage(TypedDict, total=False):
    """A DQL page of class annotations, as far as reading answers goes."""

    items: list[_Note]
    hasNextPage: Any


SUBMITTED_STATUSES = frozenset({"completed", "consensus_done", "complete"})
QA_ACCEPT = frozenset({"approved", "approve"})
DISCARD = frozenset({"discard", "discarded"})


@dataclass(frozen=True)
class TaskContext:
    """What the mapping needs to know about the job's tasks."""

    task_ids: frozenset[str]  # annotation task(s): the job's task, or the annotate nodes' tasks
    qa_ids: frozenset[str]  # QA task(s) reviewing them
    field: str  # the output field answered
    field_type: FieldType
    input_names: tuple[str, ...]
    link_input: str | None  # input shown by a dataset item (its stream URL)


def context(spec: JobSpec | None, task_ids: Iterable[str], qa_ids: Iterable[str]) -> TaskContext:
    if spec is None:
        return TaskContext(frozenset(task_ids), frozenset(qa_ids), "label", FieldType.LABEL, (), None)
    out = spec.outputs[0]
    first = spec.inputs[0]
    link = first.name if first.type in (FieldType.IMAGE, FieldType.URL) else None
    return TaskContext(frozenset(task_ids), frozenset(qa_ids), out.name, out.type,
                       tuple(f.name for f in spec.inputs), link)


def parent_id(item: Mapping[str, Any]) -> str | None:
    """The original item of a consensus copy (``spec.parentDatasetItemId``), else None (read for every
    item of a job, so without ``get``'s path walk: a ``spec`` that is no object has no parent)."""
    spec = item.get("spec")
    parent = spec.get("parentDatasetItemId") if type(spec) is dict else None
    return parent if isinstance(parent, str) else None


def item_key(item: Mapping[str, Any]) -> str:
    """The neutral key kept on uploaded items, else the Dataloop item id (so results join by it)."""
    key = get(item, f"metadata.user.{META_KEY}.key")
    return key if isinstance(key, str) and key else item["id"]


def item_inputs(item: Mapping[str, Any], ctx: TaskContext) -> dict[str, Any]:
    stored = get(item, f"metadata.user.{META_KEY}.inputs")
    if isinstance(stored, dict):
        return dict(stored)
    if not ctx.input_names:
        return {}
    first = ctx.input_names[0]
    value = item.get("stream") if ctx.link_input == first else item.get("filename")
    return {first: value if value is not None else item.get("name")}


def _refs(item: Mapping[str, Any], ids: frozenset[str]) -> list[Mapping[str, Any]]:
    refs = get(item, "metadata.system.refs", []) or []
    return [r for r in refs if isinstance(r, dict) and r.get("id") in ids]


def _status_of(refs: list[Mapping[str, Any]]) -> tuple[str | None, str | None]:
    """(status, who set it) of the first ref carrying a status."""
    for r in refs:
        status = get(r, "metadata.status")
        if isinstance(status, str) and status:
            return status, get(r, "metadata.creator")
    return None, None


def _answer_status(item: Mapping[str, Any], annotation: Mapping[str, Any] | None, ctx: TaskContext,
                   original: Mapping[str, Any] | None = None) -> tuple[AnswerStatus, str | None, str | None]:
    """(status, reviewer, review comment) of one annotation on one item (a copy's QA verdict is on its
    ``original``)."""
    return _verdict(_status_of(_refs(original if original is not None else item, ctx.qa_ids)),
                    _status_of(_refs(item, ctx.task_ids))[0], annotation)


def _verdict(qa: tuple[str | None, str | None], status: str | None, annotation: Mapping[str, Any] | None
             ) -> tuple[AnswerStatus, str | None, str | None]:
    """``_answer_status`` from the item's QA (status, who) and task status, read once per item."""
    qa_status, reviewer = qa
    if qa_status in QA_ACCEPT:
        return AnswerStatus.ACCEPTED, reviewer, None
    if qa_status in DISCARD:
        return AnswerStatus.REJECTED, reviewer, "discarded in QA"
    mark = get(annotation, "metadata.system.status") if annotation is not None else None
    if mark == "approved":
        return AnswerStatus.ACCEPTED, None, None
    if mark == "issue":
        return AnswerStatus.REJECTED, None, "issue raised in QA"
    if status in DISCARD:
        return AnswerStatus.SKIPPED, None, None
    if status in SUBMITTED_STATUSES or status in QA_ACCEPT:
        return AnswerStatus.SUBMITTED, None, None
    if status is not None:  # a custom status (availableActions): the worker finished the item
        return AnswerStatus.SUBMITTED, None, f"status {status!r}"
    return AnswerStatus.ACTIVE, None, None


def _label_value(label: Any, ctx: TaskContext) -> Any:
    if ctx.field_type is FieldType.BOOL and isinstance(label, str) and label.lower() in ("true", "false"):
        return label.lower() == "true"
    return label


def _belongs(annotation: Mapping[str, Any], ctx: TaskContext) -> bool:
    """Annotations made in another task (or another job's task) are not this job's answers."""
    task_id = get(annotation, "metadata.system.taskId")
    return task_id is None or task_id in ctx.task_ids


def item_records(item: Mapping[str, Any], annotations: Sequence[Mapping[str, Any]],
                 ctx: TaskContext, original: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """The answer records of one item (one per annotator, or per annotation for single labels); a
    consensus copy's records carry its ``original``'s key and inputs."""
    out: list[dict[str, Any]] = []
    add_item(lambda **record: out.append(record), item, annotations, ctx, original)
    yield from out


def add_item(add: Callable[..., None], item: Mapping[str, Any], annotations: Sequence[Mapping[str, Any]],
             ctx: TaskContext, original: Mapping[str, Any] | None = None) -> None:
    """``item_records`` as calls of ``add`` with each record's keys: ``AnswerColumns.add`` for the
    frame path (no dict per answer), a list's append for the record path."""
    shown = original if original is not None else item
    key = item_key(shown)
    inputs = item_inputs(shown, ctx)
    mine = [a for a in annotations if _belongs(a, ctx)]
    field = ctx.field
    qa = _status_of(_refs(shown, ctx.qa_ids))  # the item's statuses, once for all its annotations
    status, setter = _status_of(_refs(item, ctx.task_ids))
    if not mine:
        if status is None:
            return
        answer_status, reviewer, comment = _verdict(qa, status, None)
        add(task=key, item_key=key, field=field, duration_s=None, golden=False, golden_label=None, inputs=inputs,
            worker=setter or "unknown", label=None, assignment=None, status=answer_status.value, submitted_at=None,
            reviewer=reviewer, review_comment=comment)
        return
    if ctx.field_type is FieldType.LABELS:
        groups: dict[tuple[str, str | None], list[Mapping[str, Any]]] = {}
        for a in mine:
            groups.setdefault((str(a.get("creator")), get(a, "metadata.system.assignmentId")), []).append(a)
        for (worker, assignment), group in groups.items():
            answer_status, reviewer, comment = _verdict(qa, status, group[0])
            times = [t for t in (parse_time(a.get("createdAt"), "annotation.createdAt") for a in group) if t]
            add(task=key, item_key=key, field=field, duration_s=None, golden=False, golden_label=None,
                inputs=inputs, worker=worker, label=sorted({str(a.get("label")) for a in group}),
                assignment=assignment, status=answer_status.value, submitted_at=max(times) if times else None,
                reviewer=reviewer, review_comment=comment)
        return
    for a in mine:
        answer_status, reviewer, comment = _verdict(qa, status, a)
        add(task=key, item_key=key, field=field, duration_s=None, golden=False, golden_label=None, inputs=inputs,
            worker=a.get("creator") or "unknown", label=_label_value(a.get("label"), ctx),
            assignment=get(a, "metadata.system.assignmentId"), status=answer_status.value,
            submitted_at=parse_time(a.get("createdAt"), "annotation.createdAt"),
            reviewer=reviewer, review_comment=comment)


def page_frame(columns: AnswerColumns, shared: dict[Any, Any], page: Sequence[Mapping[str, Any]],
               notes: Mapping[str, Sequence[Mapping[str, Any]]], originals: Mapping[str, Mapping[str, Any]],
               ctx: TaskContext) -> pd.DataFrame:
    """One page's frame: what ``add_item`` of each item into ``columns`` and ``columns.frame()`` give.

    ``columns`` is the job's ``AnswerColumns`` and ``shared`` the dict of strings it shares. Reading
    3M answers calls the mapping 3M times, so a page in the shape the gate sends goes through
    ``_fast_page``: the same rules, with each item's statuses and each annotation's system
    metadata read once, a column per list and the page's timestamps parsed at once. Anything else
    (multi-label answers, a field of an unexpected type, a value ``_fast_page`` cannot take) is
    mapped by ``add_item``, the reference, which gives the same frame or raises its error.
    """
    if ctx.field_type is not FieldType.LABELS:
        try:
            return _fast_page(shared, page, notes, originals, ctx, columns.input_names)
        except Exception:  # the reference mapping below decides: the same frame, or its error
            pass
    for item in page:
        add_item(columns.add, item, notes.get(item["id"], []), ctx, original=originals.get(str(parent_id(item))))
    return columns.frame()


_ACCEPTED, _REJECTED = AnswerStatus.ACCEPTED.value, AnswerStatus.REJECTED.value
_SUBMITTED, _SKIPPED, _ACTIVE = AnswerStatus.SUBMITTED.value, AnswerStatus.SKIPPED.value, AnswerStatus.ACTIVE.value


def _refs_in(obj: Mapping[str, Any], ids: frozenset[str]) -> list[Mapping[str, Any]]:
    """``_refs``, reading ``metadata.system.refs`` without ``get``'s path walk."""
    meta = obj.get("metadata")
    system = meta.get("system") if type(meta) is dict else None
    refs = (system.get("refs") if type(system) is dict else None) or []
    return [r for r in refs if isinstance(r, dict) and r.get("id") in ids]


def _first_status(refs: list[Mapping[str, Any]]) -> tuple[Any, Any]:
    """``_status_of``: (status, who set it) of the first ref carrying a status."""
    for r in refs:
        meta = r.get("metadata")
        if type(meta) is dict:
            status = meta.get("status")
            if isinstance(status, str) and status:
                return status, meta.get("creator")
    return None, None


def _fast_page(shared: dict[Any, Any], page: Sequence[Mapping[str, Any]],
               notes: Mapping[str, Sequence[Mapping[str, Any]]], originals: Mapping[str, Mapping[str, Any]],
               ctx: TaskContext, names: Sequence[str]) -> pd.DataFrame:
    """``page_frame`` for single-value fields, step for step the rules of ``add_item`` and ``_verdict``:
    per item its key, inputs and verdicts once, per annotation only what differs (worker, label,
    assignment, time, and the verdict its mark picks), each a list append."""
    import numpy as np

    from annotate_core.answers import columns_frame

    share = shared.setdefault
    task_ids, qa_ids, link_input = ctx.task_ids, ctx.qa_ids, ctx.link_input
    as_bool = ctx.field_type is FieldType.BOOL
    keys: list[Any] = []
    workers: list[Any] = []
    labels: list[Any] = []
    assignments: list[Any] = []
    verdicts: list[tuple[str, Any, Any]] = []
    times: list[Any] = []
    inputs: list[list[Any]] = [[] for _ in names]
    approved = (_ACCEPTED, None, None)
    issue = (_REJECTED, None, "issue raised in QA")
    no_notes: Sequence[Mapping[str, Any]] = ()
    for item in page:
        original = originals.get(str(parent_id(item))) if originals else None
        shown = original if original is not None else item
        meta = shown.get("metadata")
        user = meta.get("user") if type(meta) is dict else None
        mine_meta = user.get(META_KEY) if type(user) is dict else None
        key, stored = (mine_meta.get("key"), mine_meta.get("inputs")) if type(mine_meta) is dict else (None, None)
        if not (isinstance(key, str) and key):
            key = shown["id"]
        qa_status, reviewer = _first_status(_refs_in(shown, qa_ids))
        status, setter = _first_status(_refs_in(item, task_ids))
        # the item's QA verdict holds for all its answers; else each annotation's mark; else the task status
        fixed: tuple[str, Any, Any] | None = None
        if qa_status in QA_ACCEPT:
            fixed = (_ACCEPTED, None if reviewer is None else share(reviewer, reviewer), None)
        elif qa_status in DISCARD:
            fixed = (_REJECTED, None if reviewer is None else share(reviewer, reviewer), "discarded in QA")
        if status in DISCARD:
            default: tuple[str, Any, Any] = (_SKIPPED, None, None)
        elif status in SUBMITTED_STATUSES or status in QA_ACCEPT:
            default = (_SUBMITTED, None, None)
        elif status is not None:
            comment = f"status {status!r}"
            default = (_SUBMITTED, None, share(comment, comment))
        else:
            default = (_ACTIVE, None, None)
        rows = 0
        for a in notes.get(item["id"], no_notes):
            a_meta = a.get("metadata")
            system = a_meta.get("system") if type(a_meta) is dict else None
            if type(system) is dict:
                task_id = system.get("taskId")
                if task_id is not None and task_id not in task_ids:
                    continue  # made in another task: not this job's answer
                assignment = system.get("assignmentId")
                if fixed is None:
                    mark = system.get("status")
                    verdicts.append(approved if mark == "approved" else issue if mark == "issue" else default)
                else:
                    verdicts.append(fixed)
            else:
                assignment = None
                verdicts.append(fixed or default)
            label = a.get("label")
            if type(label) is str:
                if as_bool and label.lower() in ("true", "false"):
                    label = label.lower() == "true"
                else:
                    label = share(label, label)
            labels.append(label)
            workers.append(share(worker := a.get("creator") or "unknown", worker))
            assignments.append(share(assignment, assignment))
            times.append(a.get("createdAt"))
            rows += 1
        if not rows:
            if status is None:
                continue
            # a status in the task and no annotation of its own: one answer without a label
            workers.append(share(worker := setter or "unknown", worker))
            labels.append(None)
            assignments.append(None)
            verdicts.append(fixed or default)
            times.append(None)
            rows = 1
        keys.extend([key] * rows)
        if not names:
            continue
        if isinstance(stored, dict):
            values = [stored.get(name) for name in names]
        else:
            first = names[0]
            value = shown.get("stream") if link_input == first else shown.get("filename")
            given = {first: value if value is not None else shown.get("name")}
            values = [given.get(name) for name in names]
        for column, value in zip(inputs, values, strict=True):
            column.extend([value] * rows)
    n = len(keys)
    statuses, reviewers, comments = zip(*verdicts, strict=True) if verdicts else ((), (), ())
    field = share(ctx.field, ctx.field)
    columns = {"task": keys, "worker": workers, "label": labels, "field": np.full(n, field, dtype=object),
               "item_key": keys, "assignment": assignments, "status": statuses,
               "submitted_at": parse_times(times, "annotation.createdAt"), "duration_s": np.full(n, np.nan),
               "golden": np.zeros(n, dtype=bool), "golden_label": np.full(n, None, dtype=object),
               "reviewer": reviewers, "review_comment": comments}
    return columns_frame(columns, dict(zip(names, inputs, strict=True)), n)
