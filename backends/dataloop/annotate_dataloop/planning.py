"""``plan()``: the Dataloop calls a spec would make, with their exact bodies, without any network.

Names cannot be resolved to ids offline, so ids appear as ``<placeholders>`` that say where the real
value comes from; every other byte of each body is what ``create_job`` sends.
"""

from __future__ import annotations

from typing import Any

from annotate_core.backend import PlannedOperation
from annotate_core.items import Item
from annotate_core.model.source import DatasetSource, ItemsSource
from annotate_core.model.spec import JobSpec
from annotate_dataloop import dql, payloads
from annotate_dataloop import pipeline as pl
from annotate_dataloop.options import dataloop_options
from annotate_dataloop.rules import check_spec, consensus_settings, is_pulling, pulling_settings
from annotate_dataloop.uploads import form_preview, item_file, link_input
from annotate_dataloop.wire import DEFAULT_DUE_DAYS, is_object_id, is_uuid

UPLOAD_BATCH = 100


def source_query(source: DatasetSource) -> dict[str, Any]:
    """The task query of a dataset source: filter, explicit ids, or the whole dataset."""
    if source.item_ids is not None:
        return dql.items_by_id(source.item_ids)
    if source.filter is not None:
        return dql.from_user_filter(source.filter)
    return dql.whole_dataset()


def describe_assignees(spec: JobSpec) -> str:
    people = spec.workforce.assignees
    if not people:
        return "no named assignees"
    if is_pulling(spec):
        return "allowed assignees " + ", ".join(a.id for a in people)
    loads = payloads.workload(people)
    return "workload " + ", ".join(f"{w['assigneeId']} {w['load']}%" for w in loads)


def describe_task(spec: JobSpec, where: str) -> str:
    parts = [f"annotation task {payloads.task_name(spec)!r} over {where}", describe_assignees(spec)]
    p = pulling_settings(spec)
    if p is not None:
        parts.append(f"pulling batches of {p.batch_size}, at most {p.max_batch_workload} open per assignee")
    c = consensus_settings(spec)
    if c is not None:
        parts.append(f"consensus on {c.percentage}% of the items, {c.assignees} annotators each")
    statuses = dataloop_options(spec).statuses
    if statuses:
        parts.append("item statuses " + ", ".join(
            s.action if (s.display_name or s.action) == s.action else f"{s.action} ({s.display_name!r})"
            for s in statuses))
    due = spec.deadline_at()
    parts.append(f"due {due.isoformat()}" if due is not None else
                 f"due {DEFAULT_DUE_DAYS} days after creation (no deadline: dtlpy's default)")
    return "; ".join(parts) + "; returns when the server's CreateTask command succeeds"


class Planner:
    """Builds the operation list; ``options`` are the backend's profile options."""

    def __init__(self, options: dict[str, Any], owner_hint: str | None) -> None:
        self.options = options
        self.owner_hint = owner_hint

    def plan(self, spec: JobSpec, n_items: int | None) -> list[PlannedOperation]:
        check_spec(spec)
        ops: list[PlannedOperation] = []
        opts = dataloop_options(spec)
        src = spec.source
        project: str | None
        dataset: str | None
        if isinstance(src, DatasetSource):
            project, dataset = src.project or self.options.get("project"), src.dataset
        else:
            project, dataset = self.options.get("project"), self.options.get("dataset")
        project_id = self._project(ops, project, dataset)
        dataset_id = self._dataset(ops, dataset, project_id, isinstance(src, ItemsSource))
        recipe_id = self._recipe(ops, spec, project_id, dataset, opts.recipe_id)
        owner = opts.task_owner or self.options.get("task_owner") or self.owner_hint or "<e-mail of the token's user>"
        ids = payloads.Ids(project_id, dataset_id, recipe_id, owner)
        create_id = "<new random id>"
        due = payloads.due_date(spec)
        if spec.pipeline is not None:
            self._pipeline(ops, spec, ids, src, due)
        else:
            if isinstance(src, DatasetSource):
                query = source_query(src)
                where = f"the items of dataset {dataset!r} " + (
                    f"listed in source.item_ids ({len(src.item_ids)})" if src.item_ids is not None
                    else "matching source.filter" if src.filter is not None else "(whole dataset)")
                body = payloads.annotation_task_body(spec, query=query, ids=ids, create_id=create_id, due=due)
            else:
                query = dql.folder(payloads.folder_for(spec))
                where = f"items uploaded later into {payloads.folder_for(spec)} (created empty)"
                body = payloads.annotation_task_body(spec, query=query, ids=ids, create_id=create_id, due=due,
                                                     empty=True)
            ops.append(PlannedOperation("POST /annotationtasks", describe_task(spec, where), body))
            ops.append(PlannedOperation("GET /commands/<command id>",
                                        "poll the command (backoff up to 30 s) until success; then "
                                        "GET /annotationtasks/<spec.createdTaskId>"))
            if spec.review is not None:
                limit = None if spec.review.fraction >= 1 else (
                    f"<ceil({spec.review.fraction} x the task's totalItems)>")
                qa = payloads.qa_task_body(spec, parent_query=query, parent_id="<created task id>",
                                           parent_name=payloads.task_name(spec), ids=ids, create_id=create_id,
                                           due=due, limit=limit)
                who = ", ".join(spec.review.reviewers) or "no named reviewers"
                ops.append(PlannedOperation(
                    "POST /annotationtasks",
                    f"QA task {qa['name']!r} linked to the annotation task (spec.parentTaskId) over its items "
                    f"that have a status; reviewers {who}; approve -> accepted, discard -> rejected", qa))
                ops.append(PlannedOperation("GET /commands/<command id>", "poll until the QA task exists"))
        if isinstance(src, ItemsSource):
            self._uploads(ops, spec, dataset_id, n_items)
        return ops

    # ---- pieces ---------------------------------------------------------------------------------

    def _project(self, ops: list[PlannedOperation], project: str | None, dataset: str | None) -> str:
        if project is None:
            if dataset and is_object_id(dataset):
                return f"<project of dataset {dataset}>"
            return "<project id: set source.project or the profile option 'project'>"
        if is_uuid(project):
            return project
        ops.append(PlannedOperation(f"GET /projects/{project}/name", f"find project {project!r} by name"))
        return f"<id of project {project!r}>"

    def _dataset(self, ops: list[PlannedOperation], dataset: str | None, project_id: str, upload: bool) -> str:
        if dataset is None:
            return "<dataset id: set the profile option 'dataset' (where uploaded items go)>" if upload else "?"
        if is_object_id(dataset):
            ops.append(PlannedOperation(f"GET /datasets/{dataset}", "read the dataset (its recipe)"))
            return dataset
        ops.append(PlannedOperation("POST /datasets/query", f"find dataset {dataset!r} in the project",
                                    dql.dataset_by_name(dataset, project_id)))
        return f"<id of dataset {dataset!r}>"

    def _recipe(self, ops: list[PlannedOperation], spec: JobSpec, project_id: str, dataset: str | None,
                recipe_id: str | None) -> str:
        tags = ", ".join(t for t, _ in payloads.label_tags(spec))
        rid = recipe_id or "<dataset.metadata.system.recipes[0]>"
        ops.append(PlannedOperation(f"GET /recipes/{rid}", "read the recipe; then GET /ontologies/<ontologyIds[0]>"
                                    f" to check it has the label(s) {tags}"))
        if recipe_id is not None:
            return recipe_id
        title = payloads.recipe_title(spec)
        ops.append(PlannedOperation(
            f"GET /recipes?projects={project_id}", f"only if a label is missing: look for the job's own recipe, "
            f"titled {title!r}, with the labels (every page; each candidate's ontology is read)"))
        ops.append(PlannedOperation(
            "POST /ontologies", f"... if there is none: an ontology with {tags}",
            payloads.ontology_body(spec, project_id)))
        ops.append(PlannedOperation(
            "POST /recipes", "... and a recipe using it (the task's recipeId)",
            payloads.recipe_body(spec, project_id, "<created ontology id>")))
        ops.append(PlannedOperation(
            "PATCH /datasets/<dataset id>?system=true",
            "... and the job's recipe becomes the dataset's (the whole dataset with metadata.system.recipes "
            "replaced, as dtlpy's dataset.recipes.create)",
            {"metadata": {"system": {"recipes": ["<the job's recipe id>"]}}}))
        return f"<recipe of dataset {dataset!r} with {tags}, or the job's own>"

    def _pipeline(self, ops: list[PlannedOperation], spec: JobSpec, ids: payloads.Ids, src: Any,
                  due: float | None) -> None:
        name = pl.pipeline_name(spec)
        ops.append(PlannedOperation("POST /pipelines", f"create pipeline {name!r}", pl.create_body(name, ids.project)))
        placeholder = {"id": "<pipeline id>", "name": name, "projectId": ids.project, "status": "Created"}
        uploaded = not isinstance(src, DatasetSource)
        query = source_query(src) if isinstance(src, DatasetSource) else dql.folder(payloads.folder_for(spec))
        body = pl.update_body(placeholder, spec, project_id=ids.project, dataset_id=ids.dataset,
                              recipe_id=ids.recipe, recipe_title="<recipe title>", owner=ids.owner, due=due,
                              source=pl.source_variable(query, uploaded=uploaded),
                              description=pl.key_mark("<job key or create id>", pl.READY))
        chain = " -> ".join(f"{n['name']} ({n['metadata']['taskType']})" for n in body["nodes"])
        ops.append(PlannedOperation("PATCH /pipelines/<pipeline id>",
                                    f"add the task nodes {chain}, connected in order (the whole pipeline), and "
                                    f"keep the items query job.start() runs (variable {pl.SOURCE_VARIABLE!r})",
                                    body))
        ops.append(PlannedOperation("POST /pipelines/<pipeline id>/install",
                                    "at job.start(), not before: install the pipeline unless it runs", {}))
        if isinstance(src, DatasetSource):
            ops.append(PlannedOperation("POST /pipelines/<pipeline id>/execute",
                                        "at job.start(), unless the nodes' tasks hold items already: run the "
                                        "source items through the pipeline (a command, polled)",
                                        pl.execute_body(query)))

    def _uploads(self, ops: list[PlannedOperation], spec: JobSpec, dataset_id: str, n_items: int | None) -> None:
        folder = payloads.folder_for(spec)
        count = f"{n_items} item(s)" if n_items is not None else "each item"
        batches = "" if n_items is None else f" ({-(-n_items // UPLOAD_BATCH)} batch(es) of {UPLOAD_BATCH})"
        ops.append(PlannedOperation(f"POST /datasets/{dataset_id}/query",
                                    f"per batch{batches}: find items already uploaded, by key",
                                    dql.items_with_keys(folder, ["<key>", "..."])))
        sample = Item(key="<key>", inputs={f.name: f"<{f.name}>" for f in spec.inputs})
        kind = "link items" if link_input(spec) else "JSON items"
        ops.append(PlannedOperation(
            f"POST /datasets/{dataset_id}/items?mode=skip",
            f"upload {count} missing as {kind} into {folder} (multipart form, one request per item)",
            form_preview(item_file(spec, sample, folder))))
        if spec.pipeline is not None:
            ops.append(PlannedOperation("POST /pipelines/<pipeline id>/execute",
                                        "once the pipeline runs (job.start() runs the items uploaded before it), "
                                        "per batch: run the new items through the pipeline (command, polled)",
                                        pl.execute_body(dql.items_by_id(["<item id>", "..."]))))
        else:
            people = [] if is_pulling(spec) else list(spec.workforce.assignees)
            ops.append(PlannedOperation("POST /annotationtasks/<task id>/addToTask",
                                        "per batch: add the items not yet in the task (command, polled)",
                                        payloads.add_to_task_body(dql.items_by_id(["<item id>", "..."]), people)))
