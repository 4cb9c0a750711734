"""``DataloopBackend``: the neutral job model on Dataloop tasks, QA tasks and pipelines, over REST.

Mapping in one paragraph: a job is an annotation task (``task:<id>``) over items of a dataset — a
DQL filter, listed ids, the whole dataset, or neutral items uploaded as link/JSON items — with a
recipe offering the output's labels; ``workforce`` becomes the workload (or the allowed assignees of
a pulling task), ``overlap`` becomes consensus, ``review`` a linked QA task (``task:<id>,qa:<id>``),
``pipeline`` task nodes in a pipeline (``pipeline:<id>``), which ``start()`` installs and runs.
Answers are the items' classification annotations with their status in the tasks (for consensus, the
annotators' copies). See ``planning.py`` for what each call sends and ``fidelity.py`` for where the
mapping changes what the spec says (dtlpy's defaults, followed where the spec is silent).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from itertools import islice
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import SecretStr, ValidationError

from annotate_core.backend import Backend, JobState, PlannedOperation, PlanWarning, Progress, ProgressCallback
from annotate_core.capabilities import Capability
from annotate_core.errors import ConfigError, JobStateError, MalformedResponseError, SpecError, VendorError
from annotate_core.items import Item, ItemError, UploadReport
from annotate_core.jobkeys import JobKeyConflictError, spec_differences, spec_fingerprint
from annotate_core.model.source import DatasetSource
from annotate_core.model.spec import JobSpec
from annotate_dataloop import answers as amap
from annotate_dataloop import dql, payloads
from annotate_dataloop import pipeline as pl
from annotate_dataloop.auth import token_email
from annotate_dataloop.creates import create_once
from annotate_dataloop.fidelity import plan_warnings
from annotate_dataloop.gate import Gate
from annotate_dataloop.jobref import JobRef
from annotate_dataloop.listing import combined_state, creation_order, is_qa, job_rows, parent_task
from annotate_dataloop.options import dataloop_options
from annotate_dataloop.planning import Planner, source_query
from annotate_dataloop.rules import check_spec, is_pulling
from annotate_dataloop.uploads import item_file, multipart
from annotate_dataloop.wire import BACKEND, DEFAULT_BASE_URL, ENVIRONMENTS, get, is_object_id, need

if TYPE_CHECKING:  # pandas loads when answers are read
    import pandas as pd

log = logging.getLogger(__name__)

T = TypeVar("T")

_PIPELINE_STATES = {
    "Created": JobState.DRAFT, "Initializing": JobState.DRAFT, "Installed": JobState.OPEN,
    "Activated": JobState.OPEN, "Reconfiguring": JobState.OPEN, "Updating": JobState.OPEN,
    "ActiveTest": JobState.OPEN, "Deactivated": JobState.PAUSED, "Uninstalled": JobState.CLOSED,
    "Terminating": JobState.CLOSED, "Terminated": JobState.CLOSED, "Failure": JobState.CLOSED,
}

#: pipeline statuses in which it runs: no install needed
_RUNNING_PIPELINE = frozenset({"Installed", "Activated"})

_OPTIONS = frozenset({
    "token", "refresh_token", "base_url", "env", "project", "dataset", "task_owner", "poll_interval",
    "max_poll_interval", "command_timeout", "retries", "backoff_factor", "upload_batch", "sleep", "clock",
    "new_id", "timeout",
})


class DataloopBackend(Backend):
    """Dataloop over its REST gate. Profile options:

    ``token_env`` (API key or JWT, required for calls), ``refresh_token_env`` (renews expired JWTs),
    ``project`` / ``dataset`` (where uploaded items go, and the default project of dataset sources),
    ``task_owner``, ``env`` (``prod``, ``rc`` or ``dev``: the gates of dtlpy's ``dl.setenv``; default
    ``prod``) or ``base_url`` (any other gate, e.g. on-prem: ``https://<host>/api/v1``),
    ``poll_interval`` / ``max_poll_interval`` / ``command_timeout`` (command polling), ``retries`` /
    ``backoff_factor`` (HTTP), ``upload_batch``.
    """

    name: ClassVar[str] = "dataloop"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({
        Capability.UPLOAD_ITEMS,
        Capability.VENDOR_DATASET,
        Capability.OUTPUT_LABEL,
        Capability.OUTPUT_LABELS,
        Capability.ASSIGNEES,
        Capability.FIXED_WORKLOAD,
        Capability.PULLING,
        Capability.PULLING_MAX_WORKLOAD,
        Capability.OVERLAP,
        Capability.PARTIAL_OVERLAP,
        Capability.REVIEW,
        Capability.DEADLINE,
        Capability.PIPELINE,
        Capability.JOB_KEYS,
    })
    hints: ClassVar[Mapping[Capability, str]] = {
        Capability.CROWD_FILTERS: "Dataloop has no crowd: name the annotators in workforce.assignees (e-mails)",
        Capability.SKILL_FILTERS: "Dataloop has no worker skills: name the annotators in workforce.assignees",
        Capability.REWARD: "Dataloop does not pay annotators per batch: remove pricing (cost is your contract)",
        Capability.DYNAMIC_PRICING: "Dataloop has no per-worker pricing: remove pricing",
        Capability.GOLDEN: "golden items need a Dataloop honeypot task, which annotate does not map: "
                           "remove the golden answers or use the 'local' or 'toloka' backend",
        Capability.GOLDEN_MIXING: "Dataloop cannot mix golden items into each batch: set "
                                  "distribution.golden_per_batch to 0",
        Capability.TRAINING: "Dataloop qualification tasks are not mapped: remove training, or train annotators "
                             "in Dataloop first",
        Capability.RULE_GOLDEN_ACCURACY: "Dataloop has no automatic quality rules: remove quality.rules and "
                                         "review the work with `review` (a QA task)",
        Capability.RULE_FAST_SUBMITS: "Dataloop has no automatic quality rules: remove quality.rules",
        Capability.RULE_CAPTCHA: "Dataloop shows no captchas: remove quality.captcha_frequency",
        Capability.RULE_SKIPPED_IN_ROW: "Dataloop has no automatic quality rules: remove quality.rules",
        Capability.RULE_SKIP_RATE: "Dataloop has no automatic quality rules: remove quality.rules",
        Capability.RULE_ANSWER_COUNT: "Dataloop has no automatic quality rules: cap work with pulling's "
                                      "max_batch_workload instead",
        Capability.RULE_SKILL: "Dataloop has no worker skills: remove quality.rules",
        Capability.ACTION_BAN: "Dataloop cannot ban annotators by rule: remove quality.rules",
        Capability.ACTION_REJECT: "Dataloop cannot reject by rule: remove quality.rules and use a QA task",
        Capability.ACTION_SET_SKILL: "Dataloop has no worker skills: remove quality.rules",
        Capability.REVIEW_REQUEUE: "a Dataloop QA reviewer discards rejected items: set review.on_reject to "
                                   "'discard'",
        Capability.MANUAL_REVIEW: "review in the Dataloop QA task (approve / discard); answers show the result",
        Capability.LIMIT_PER_WORKER: "use a pulling distribution: max_batch_workload caps the items an "
                                     "annotator holds",
        Capability.ASSIGNMENT_TIMEOUT: "Dataloop assignments have no time limit: remove limits.assignment_max_seconds",
        Capability.ADULT_CONTENT_FLAG: "Dataloop has no adult-content flag: remove adult_content",
        Capability.WEBHOOKS: "remove webhooks and poll job.progress() (Dataloop webhooks are not mapped)",
        Capability.INTERFACE: "Dataloop's studio draws the item and the recipe's labels itself: remove `interface`",
        Capability.OUTPUT_FREE_TEXT: "Dataloop tasks here collect labels: use a label/labels output",
        Capability.OUTPUT_NUMBER: "Dataloop tasks here collect labels: use a label/labels output",
        Capability.OUTPUT_JSON: "Dataloop tasks here collect labels: use a label/labels output",
        Capability.MULTIPLE_OUTPUTS: "use one label output per Dataloop job (one recipe, one label set)",
        Capability.PIPELINE_AGGREGATE: "drop the aggregate stage and call job.results(method=...) on the answers",
        Capability.PAUSE: "Dataloop tasks cannot be paused; close the job or redistribute in Dataloop",
        Capability.SIMULATION: "use the 'local' backend to rehearse with a simulated workforce",
        Capability.PULL_API: "annotators work in the Dataloop studio; use the 'local' backend for pull/submit",
        Capability.EVENTS: "poll job.progress() instead",
        Capability.SKILLS: "Dataloop has no worker skills",
    }
    secret_options: ClassVar[frozenset[str]] = frozenset({"token", "refresh_token"})
    remote: ClassVar[bool] = True
    rate_limited: ClassVar[bool] = True  # the gate throttles (429) and validates bodies
    validates_on_server: ClassVar[bool] = True

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - _OPTIONS)
        if unknown:
            raise ConfigError(f"unknown option(s) for backend 'dataloop': {unknown}; known: {sorted(_OPTIONS)}")
        for key in ("token", "refresh_token"):
            value = options.get(key)
            if value is not None and not isinstance(value, SecretStr):
                raise ConfigError(f"option {key!r} of backend 'dataloop' must come from {key}_env (an environment "
                                  "variable), not a literal value")
        super().__init__(**options)
        self._gate: Gate | None = None
        self.upload_batch = int(options.get("upload_batch", 100))
        if self.upload_batch < 1:
            raise ConfigError("option 'upload_batch' of backend 'dataloop': expected a positive integer")
        self._new_id: Callable[[], str] = options.get("new_id") or (lambda: uuid.uuid4().hex)
        self.base_url = _base_url(options.get("env"), options.get("base_url"))

    @property
    def gate(self) -> Gate:
        if self._gate is None:
            o = self.options
            self._gate = Gate(
                base_url=self.base_url,
                token=o.get("token"),
                refresh_token=o.get("refresh_token"),
                poll_interval=float(o.get("poll_interval", 1.0)),
                max_poll_interval=float(o.get("max_poll_interval", 30.0)),
                command_timeout=float(o.get("command_timeout", 3600.0)),
                retries=int(o.get("retries", 5)),
                backoff_factor=float(o.get("backoff_factor", 0.5)),
                sleep=o.get("sleep", time.sleep),
                clock=o.get("clock", time.time),
                timeout=_timeout(o.get("timeout", (10.0, 120.0))),
            )
        return self._gate

    def close_backend(self) -> None:
        if self._gate is not None:
            self._gate.close()
            self._gate = None

    # ---- planning -------------------------------------------------------------------------------

    def plan(self, spec: JobSpec, n_items: int | None = None) -> list[PlannedOperation]:
        return Planner(self.options, token_email(self.options.get("token"))).plan(spec, n_items)

    def warnings(self, spec: JobSpec, n_items: int | None = None) -> list[PlanWarning]:
        """Where Dataloop runs ``spec`` with another meaning: ``fidelity.plan_warnings``."""
        return plan_warnings(spec)

    def _now(self) -> datetime:
        """The backend's clock (option ``clock``) as an aware datetime: when a job is created."""
        clock: Callable[[], float] = self.options.get("clock", time.time)
        return datetime.fromtimestamp(clock(), tz=timezone.utc)

    # ---- creating -------------------------------------------------------------------------------

    def find_job(self, key: str) -> str | None:
        """The job ``key`` names, once all of it exists; None when there is none or it is incomplete.

        Tasks are found by ``metadata.user.annotate.key`` (``POST /annotationtasks/query``, every page)
        in the profile's project, pipelines by the key mark in their description. A job whose create
        stopped half-way (a task without the QA task its spec asks for, a pipeline not yet marked
        ready) is not returned: ``create_job(spec, key=key)`` then finds its parts and makes the rest.
        """
        project_id = self._profile_project()
        annotate, review = _split(self._marked_tasks("key", key, project_id))
        if annotate:
            task = annotate[0]
            qa = _review_of(review, task["id"])
            wants_review = (get(task, f"metadata.user.{payloads.META_KEY}.spec") or {}).get("review") is not None
            if wants_review and qa is None:
                log.info("job key %s: task %s has no QA task yet: the create resumes", key, task["id"])
                return None
            return str(JobRef(task=task["id"], qa=qa["id"] if qa else None))
        if project_id is not None:
            pipeline = self._marked_pipeline(key, project_id)
            if pipeline is not None and pipeline.get("description") == pl.key_mark(key, pl.READY):
                return str(JobRef(pipeline=pipeline["id"]))
        return None

    def create_job(self, spec: JobSpec, *, key: str | None = None) -> str:
        """Create the job's objects, each once: with ``key``, what an earlier run made is reused.

        Every create is sent once; a failure that leaves its outcome unknown is followed by a lookup
        (by key, or by this call's create id) before it is sent again (``creates.py``). A key whose task
        was made from another spec is a ``JobKeyConflictError`` before anything is created.
        """
        check_spec(spec)
        where = self._resolve(spec, key)
        create_id = self._new_id()
        if spec.pipeline is not None:
            return str(self._create_pipeline(spec, where, key, create_id))
        src = spec.source
        empty = not isinstance(src, DatasetSource)
        query = source_query(src) if isinstance(src, DatasetSource) else dql.folder(payloads.folder_for(spec))
        project_id = where.ids.project
        annotate, review = _split(self._marked_tasks("key", key, project_id)) if key else ([], [])
        if annotate:
            task = annotate[0]
            self._check_same_spec(key, task, spec)
            log.info("job key %s: task %s exists, resuming", key, task["id"])
        else:
            body = payloads.annotation_task_body(spec, query=query, ids=where.ids, create_id=create_id,
                                                 due=payloads.due_date(spec, self._now()), empty=empty, key=key)
            field, value = ("key", key) if key else ("createId", create_id)
            task = self._create_task(body, lambda: _first(_split(self._marked_tasks(field, value, project_id))[0]))
            log.info("Dataloop task %s (%r) created with %s item(s)", task["id"], task.get("name"),
                     task.get("totalItems"))
        ref = JobRef(task=task["id"])
        if spec.review is not None:
            qa = _review_of(review, task["id"])
            if qa is None:
                qa_id = self._new_id()
                limit = payloads.qa_limit(spec, int(task.get("totalItems") or 0))
                qa_body = payloads.qa_task_body(spec, parent_query=query, parent_id=task["id"],
                                                parent_name=str(task.get("name") or payloads.task_name(spec)),
                                                ids=where.ids, create_id=qa_id, limit=limit, key=key,
                                                due=payloads.due_date(spec, self._now()))
                field, value = ("key", key) if key else ("createId", qa_id)
                parent = task["id"]
                qa = self._create_task(
                    qa_body, lambda: _review_of(_split(self._marked_tasks(field, value, project_id))[1], parent))
                log.info("Dataloop QA task %s created for task %s", qa["id"], task["id"])
            ref = JobRef(task=task["id"], qa=qa["id"])
        return str(ref)

    def _check_same_spec(self, key: str | None, task: Mapping[str, Any], spec: JobSpec) -> None:
        """Refuse to resume a job the key names when it was made from another spec."""
        data = get(task, f"metadata.user.{payloads.META_KEY}.spec")
        if key is None or not isinstance(data, dict):
            return
        try:
            stored = JobSpec.model_validate(data)
        except ValidationError:
            return
        if spec_fingerprint(stored) != spec_fingerprint(spec):
            raise JobKeyConflictError(key, str(JobRef(task=task["id"])), self.name, spec_differences(stored, spec))

    def _once(self, what: str, send: Callable[[], T], find: Callable[[], T | None]) -> T:
        gate = self.gate
        return create_once(what, send, find, sleep=gate.sleep, interval=gate.poll_interval,
                           max_interval=gate.max_poll_interval)

    def _create_task(self, body: dict[str, Any], find: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
        """POST the task, poll its command, GET the task — once: ``find`` (by key or create id) is asked
        before a create whose outcome is unknown is sent again."""
        what = f"create task {body['name']!r}"

        def send() -> dict[str, Any]:
            # not idempotent: the HTTP layer never repeats it; an unknown outcome is looked up first
            resp = self.gate.object("POST", "/annotationtasks", json=body)
            command = self.gate.wait_command(resp, what)
            task_id = need(command, "spec.createdTaskId", str, f"GET /commands/{command.get('id')}")
            return self.gate.object("GET", f"/annotationtasks/{task_id}")

        return self._once(what, send, find)

    def _marked_tasks(self, field: str, value: str | None, project_id: str | None) -> list[dict[str, Any]]:
        """annotate's tasks whose ``metadata.user.annotate.<field>`` is ``value``, oldest first (every page)."""
        if value is None:
            return []
        pages = self.gate.iter_pages("POST", "/annotationtasks/query", dql.tasks_marked(field, value, project_id))
        found = [t for t in pages if isinstance(t, dict) and isinstance(t.get("id"), str)
                 and get(t, f"metadata.user.{payloads.META_KEY}.{field}") == value]
        return sorted(found, key=creation_order)

    def _profile_project(self) -> str | None:
        """The profile's project id when it names one (or a dataset id), else None."""
        if not self.options.get("project") and not is_object_id(str(self.options.get("dataset") or "")):
            return None
        return self._project_id()

    def _resolve(self, spec: JobSpec, key: str | None = None) -> _Where:
        src = spec.source
        opts = dataloop_options(spec)
        project_ref: str | None
        dataset_ref: str | None
        if isinstance(src, DatasetSource):
            project_ref, dataset_ref = src.project or self.options.get("project"), src.dataset
        else:
            project_ref, dataset_ref = self.options.get("project"), self.options.get("dataset")
            if not dataset_ref:
                raise ConfigError("backend 'dataloop': uploaded items need a dataset: set the profile option "
                                  "'dataset' (and 'project' when it is a name)")
        project_id = None
        if project_ref:
            project_id = need(self.gate.project(str(project_ref)), "id", str, "GET /projects")
        dataset = self.gate.dataset(project_id, str(dataset_ref))
        dataset_id = need(dataset, "id", str, "dataset")
        if project_id is None:
            projects = get(dataset, "projects") or []
            if not projects or not isinstance(projects[0], str):
                raise MalformedResponseError(f"GET /datasets/{dataset_id}: response has no 'projects'",
                                             backend=BACKEND)
            project_id = projects[0]
        recipe_id, recipe_title = self._recipe(spec, project_id, dataset, opts.recipe_id, key)
        owner = opts.task_owner or self.options.get("task_owner") or self.gate.tokens.email()
        if not owner:
            me = self.gate.me()
            owner = str(me.get("email") or me.get("username") or me.get("id") or "")
            if not owner:
                raise MalformedResponseError("GET /users/me: response has no 'email'", backend=BACKEND)
        return _Where(payloads.Ids(project_id, dataset_id, recipe_id, owner.lower()), recipe_title)

    def _recipe(self, spec: JobSpec, project_id: str, dataset: Mapping[str, Any], chosen: str | None,
                key: str | None = None) -> tuple[str, str]:
        """The dataset's recipe (or ``options.dataloop.recipe_id``) when it has the labels, else the job's own.

        The job's own recipe is titled ``recipe_title(spec, key)``: one of the project's recipes with that
        title and every label is reused (``GET /recipes?projects=``, every page), else an ontology and a
        recipe are created — as ``dataset.recipes.create`` does — and either way the recipe becomes the
        dataset's (``PATCH /datasets/{id}?system=true``, dtlpy's ``switch_recipe``), so the dataset offers
        the job's labels and the next run finds them on the dataset instead of making another recipe.
        """
        recipes = get(dataset, "metadata.system.recipes") or []
        recipe_id = chosen or (recipes[0] if recipes and isinstance(recipes[0], str) else None)
        wanted = {t for t, _ in payloads.label_tags(spec)}
        if recipe_id is not None:
            recipe, labels = self.gate.labels_of_recipe(recipe_id)
            if wanted <= labels:
                return recipe_id, str(recipe.get("title") or "")
            if chosen:
                raise SpecError(f"options.dataloop.recipe_id: recipe {chosen} lacks label(s) {sorted(wanted - labels)}")
            log.info("recipe %s lacks label(s) %s: using the job's own recipe", recipe_id, sorted(wanted - labels))
        title = payloads.recipe_title(spec, key)

        def find() -> dict[str, Any] | None:
            for r in self.gate.iter_list("/recipes", {"projects": project_id}):
                if isinstance(r, dict) and r.get("title") == title and isinstance(r.get("id"), str) \
                        and wanted <= self.gate.labels_of_recipe(r["id"])[1]:
                    return r
            return None

        made = find()
        if made is not None:
            log.info("recipe %s (%r) has the labels: reusing it", made["id"], title)
        else:
            ontology = self.gate.object("POST", "/ontologies", json=payloads.ontology_body(spec, project_id))
            ontology_id = need(ontology, "id", str, "POST /ontologies")
            body = payloads.recipe_body(spec, project_id, ontology_id, key)
            made = self._once(f"create recipe {title!r}", lambda: self.gate.object("POST", "/recipes", json=body),
                              find)
        made_id = need(made, "id", str, "POST /recipes")
        dataset_id = need(dataset, "id", str, "dataset")
        # the whole entity with one field changed: repeating it changes nothing
        self.gate.object("PATCH", f"/datasets/{dataset_id}", params={"system": "true"},
                         json=payloads.switch_recipe_body(dataset, made_id), idempotent=True)
        log.info("dataset %s now uses recipe %s (%r)", dataset_id, made_id, title)
        return made_id, str(made.get("title") or "")

    def _create_pipeline(self, spec: JobSpec, where: _Where, key: str | None, create_id: str) -> JobRef:
        """The pipeline and its task nodes, each step once; nothing runs until ``start()``.

        The pipeline's description marks it with the key (or this call's create id): a lost create
        reply is looked up by it, and a rerun with the key resumes the pipeline it names. The ``PATCH``
        that adds the nodes also marks it ``ready`` (what ``find_job`` waits for) and keeps the items
        query ``start()`` runs (``pipeline.source_variable``). Installing and executing are
        ``start()``'s: creating a job must not start work.
        """
        ids = where.ids
        token = key or f"call {create_id}"
        pipeline = self._marked_pipeline(token, ids.project) if key else None
        resumed = pipeline is not None
        if pipeline is None:
            body = pl.create_body(pl.pipeline_name(spec), ids.project, pl.key_mark(token))
            pipeline = self._once(f"create pipeline {body['name']!r}",
                                  lambda: self.gate.object("POST", "/pipelines", json=body),
                                  lambda: self._marked_pipeline(token, ids.project))
        pipeline_id = need(pipeline, "id", str, "POST /pipelines")
        ref = JobRef(pipeline=pipeline_id)
        if pipeline.get("description") == pl.key_mark(token, pl.READY):
            return ref
        if resumed:
            log.info("job key %s: pipeline %s exists (%s), resuming", key, pipeline_id, pipeline.get("status"))
        src = spec.source
        uploaded = not isinstance(src, DatasetSource)
        query = source_query(src) if isinstance(src, DatasetSource) else dql.folder(payloads.folder_for(spec))
        body = pl.update_body(pipeline, spec, project_id=ids.project, dataset_id=ids.dataset, recipe_id=ids.recipe,
                              recipe_title=where.recipe_title, owner=ids.owner,
                              due=payloads.due_date(spec, self._now()),
                              source=pl.source_variable(query, uploaded=uploaded),
                              description=pl.key_mark(token, pl.READY))
        # the whole entity with client-chosen, deterministic node ids: repeating it changes nothing
        self.gate.object("PATCH", f"/pipelines/{pipeline_id}", json=body, idempotent=True)
        log.info("Dataloop pipeline %s built with %d task node(s); job.start() installs and runs it",
                 pipeline_id, len(body["nodes"]))
        return ref

    def _start_pipeline(self, pipeline_id: str) -> None:
        """Install the pipeline unless it runs, then run the job's items through it — once.

        Executes only what no task of the pipeline's nodes holds yet: a dataset source's query when the
        nodes' tasks hold nothing (a rerun after a run that executed it sends nothing); for uploaded items,
        the items of the job's folder that are in no node task (by id).
        """
        pipeline = self.gate.object("GET", f"/pipelines/{pipeline_id}")
        project_id = need(pipeline, "projectId", str, f"GET /pipelines/{pipeline_id}")
        stored = pl.stored_source(pipeline)  # read before install: its answer's fields are not documented
        self._install(pipeline_id, pipeline)
        if stored is None:
            log.info("pipeline %s keeps no annotate source: nothing to execute", pipeline_id)
            return
        query, uploaded = stored
        tasks = self._pipeline_tasks(pipeline_id, project_id)
        if not uploaded:
            if any(int(t.get("totalItems") or 0) for t in tasks):
                log.info("pipeline %s already holds items: not executed again", pipeline_id)
                return
            self._execute(pipeline_id, query, project_id=project_id)
            return
        dataset_id = self._pipeline_dataset(pipeline)
        task_ids = {t["id"] for t in tasks}
        waiting = [e["id"] for e in self.gate.iter_dql(dataset_id, {**query, "sort": dict(dql.SORT_BY_ID)})
                   if not any(_in_task(e, t) for t in task_ids)]
        for chunk in range(0, len(waiting), self.upload_batch):
            ids = waiting[chunk:chunk + self.upload_batch]
            self._execute(pipeline_id, dql.items_by_id(ids), project_id=project_id, item_ids=ids)

    def _pipeline_dataset(self, pipeline: Mapping[str, Any]) -> str:
        nodes = need(pipeline, "nodes", list, f"GET /pipelines/{pipeline.get('id')}")
        dataset_id = next((get(n, "metadata.datasetId") for n in nodes if get(n, "metadata.datasetId")), None)
        if not isinstance(dataset_id, str):
            raise MalformedResponseError(f"GET /pipelines/{pipeline.get('id')}: no node has 'metadata.datasetId'",
                                         backend=BACKEND)
        return dataset_id

    def _marked_pipeline(self, token: str, project_id: str) -> dict[str, Any] | None:
        """The oldest pipeline of the project whose description carries ``token``'s mark (any stage)."""
        marks = [pl.key_mark(token, stage) for stage in (pl.BUILDING, pl.READY)]
        found = [p for p in self.gate.iter_pages("POST", "/pipelines/query", dql.pipelines_described(marks, project_id))
                 if isinstance(p, dict) and p.get("description") in marks and isinstance(p.get("id"), str)]
        found.sort(key=creation_order)
        if len(found) > 1:
            log.warning("%d pipelines carry %r; using the oldest, %s", len(found), marks[0], found[0]["id"])
        return found[0] if found else None

    def _pipeline_tasks(self, pipeline_id: str, project_id: str) -> list[dict[str, Any]]:
        return [t for t in self.gate.iter_pages("POST", "/annotationtasks/query",
                                                dql.tasks_of_pipeline(pipeline_id, project_id))
                if isinstance(t, dict) and isinstance(t.get("id"), str)]

    def _install(self, pipeline_id: str, pipeline: Mapping[str, Any]) -> dict[str, Any]:
        """Install the pipeline unless its state says it runs; an unknown outcome is read back first."""
        if pipeline.get("status") in _RUNNING_PIPELINE:
            return dict(pipeline)

        def installed() -> dict[str, Any] | None:
            current = self.gate.object("GET", f"/pipelines/{pipeline_id}")
            return current if current.get("status") in _RUNNING_PIPELINE else None

        return self._once(f"install pipeline {pipeline_id}",
                          lambda: self.gate.object("POST", f"/pipelines/{pipeline_id}/install", json={}), installed)

    def _execute(self, pipeline_id: str, query: Mapping[str, Any], *, project_id: str,
                 item_ids: Sequence[str] = ()) -> None:
        """Run the pipeline over a query, once: after an unknown outcome, the pipeline's tasks are read
        (the listed items in them, or any item at all) before it is run again."""
        def send() -> bool:
            cmd = self.gate.object("POST", f"/pipelines/{pipeline_id}/execute", json=pl.execute_body(query))
            self.gate.wait_command(cmd, f"execute pipeline {pipeline_id}")
            return True

        def done() -> bool | None:
            tasks = self._pipeline_tasks(pipeline_id, project_id)
            if not item_ids:
                return True if any(int(t.get("totalItems") or 0) for t in tasks) else None
            dataset_id = next((t.get("datasetId") for t in tasks), None)
            if not isinstance(dataset_id, str):
                return None
            missing = self._not_in_tasks(dataset_id, item_ids, {t["id"] for t in tasks})
            return True if not missing else None

        self._once(f"execute pipeline {pipeline_id}", send, done)

    def _not_in_tasks(self, dataset_id: str, item_ids: Sequence[str], task_ids: set[str]) -> list[str]:
        """The items of ``item_ids`` no task of ``task_ids`` holds (read back from the items' refs)."""
        inside = {e["id"] for e in self.gate.iter_dql(dataset_id, {**dql.items_by_id(list(item_ids)),
                                                                   "sort": dict(dql.SORT_BY_ID)})
                  if any(_in_task(e, t) for t in task_ids)}
        return [i for i in item_ids if i not in inside]

    def get_spec(self, job_id: str) -> JobSpec | None:
        ref = JobRef.parse(job_id)
        if ref.task is None:
            if ref.pipeline is None:
                return None
            pipeline = self.gate.object("GET", f"/pipelines/{ref.pipeline}")
            data, where = pl.stored_spec_document(pipeline), f"pipeline {ref.pipeline}: variable {pl.SPEC_VARIABLE}"
        else:
            task = self.gate.object("GET", f"/annotationtasks/{ref.task}")
            data = get(task, f"metadata.user.{payloads.META_KEY}.spec")
            where = f"task {ref.task}: metadata.user.annotate.spec"
        if data is None:
            return None
        try:
            return JobSpec.model_validate(data)
        except ValidationError as exc:
            raise MalformedResponseError(f"{where} is not a valid spec: {exc.error_count()} problem(s)",
                                         backend=BACKEND) from None

    # ---- items ----------------------------------------------------------------------------------

    def add_items(self, job_id: str, spec: JobSpec, items: Iterable[Item], *,
                  on_progress: ProgressCallback | None = None) -> UploadReport:
        """Upload items into the job's folder and add those not yet in the task, batch by batch.

        Resumable and idempotent by key: each batch first looks up the keys already uploaded
        (``metadata.user.annotate.key``), uploads only the missing ones (``mode=skip`` guards a
        repeat), then adds to the task only the items whose refs do not name it yet.
        """
        ref = JobRef.parse(job_id)
        report = UploadReport()
        context = self._item_context(ref, spec)
        it = iter(items)
        while batch := list(islice(it, self.upload_batch)):
            report.merge(self._add_batch(ref, spec, context, batch))
            if on_progress is not None:
                on_progress(len(batch))
        return report

    def _item_context(self, ref: JobRef, spec: JobSpec) -> dict[str, Any]:
        if ref.task is not None:
            task = self.gate.object("GET", f"/annotationtasks/{ref.task}")
            return {"dataset": need(task, "datasetId", str, f"GET /annotationtasks/{ref.task}"), "task": task}
        pipeline = self.gate.object("GET", f"/pipelines/{ref.pipeline}")
        return {"dataset": self._pipeline_dataset(pipeline), "pipeline": pipeline}

    def _add_batch(self, ref: JobRef, spec: JobSpec, context: dict[str, Any], batch: list[Item]) -> UploadReport:
        report = UploadReport()
        dataset_id = context["dataset"]
        folder = payloads.folder_for(spec)
        found: dict[str, dict[str, Any]] = {}
        for entity in self.gate.iter_dql(dataset_id, dql.items_with_keys(folder, [i.key for i in batch])):
            found[amap.item_key(entity)] = entity
        uploaded_now: set[str] = set()
        for item in batch:
            if item.key in found:
                continue
            upload = item_file(spec, item, folder)
            body, content_type = multipart(upload)
            try:
                # mode=skip: a repeat of this POST returns the existing item, so it may be retried
                entity = self.gate.object("POST", f"/datasets/{dataset_id}/items", params={"mode": "skip"},
                                          data=body, headers={"Content-Type": content_type}, idempotent=True)
            except VendorError as exc:
                if exc.status is not None and 400 <= exc.status < 500 and exc.status not in (401, 403, 429):
                    report.errors.append(ItemError(item.key, None, f"Dataloop refused the item: {exc}"))
                    continue
                raise
            need(entity, "id", str, f"POST /datasets/{dataset_id}/items")
            found[item.key] = entity
            uploaded_now.add(item.key)
        keys = [i.key for i in batch if i.key in found]
        if ref.task is not None:
            in_task = {k for k in keys if _in_task(found[k], ref.task)}
            to_add = [k for k in keys if k not in in_task]
            if to_add:
                people = [] if is_pulling(spec) else list(spec.workforce.assignees)
                self._add_to_task(ref.task, dataset_id, [found[k]["id"] for k in to_add], people)
        elif context["pipeline"].get("status") not in _RUNNING_PIPELINE:
            # not started: the items wait in the job's folder; start() runs them through the pipeline
            to_add, in_task = [k for k in keys if k in uploaded_now], {k for k in keys if k not in uploaded_now}
            log.info("pipeline %s is not running: %d item(s) wait for job.start()", ref.pipeline, len(keys))
        else:
            # an item is in the pipeline once a task of its nodes holds it; an item uploaded by an earlier
            # run whose execution is still on its way may be run again (the node's task holds it once)
            pipeline = context["pipeline"]
            project_id = need(pipeline, "projectId", str, f"GET /pipelines/{ref.pipeline}")
            task_ids = {t["id"] for t in self._pipeline_tasks(str(ref.pipeline), project_id)}
            in_task = {k for k in keys if k not in uploaded_now and any(_in_task(found[k], t) for t in task_ids)}
            to_add = [k for k in keys if k not in in_task]
            if to_add:
                ids = [found[k]["id"] for k in to_add]
                self._execute(str(ref.pipeline), dql.items_by_id(ids), project_id=project_id, item_ids=ids)
        report.created += len(to_add)
        report.existing += len(in_task)
        report.keys.extend(keys)
        return report

    def _add_to_task(self, task_id: str, dataset_id: str, item_ids: list[str], people: list[Any]) -> None:
        """``addToTask`` for these items, once: it is not idempotent (a repeat would assign the items
        again), so after an unknown outcome the items' refs are read and only the missing ones re-sent."""
        remaining = list(item_ids)

        def send() -> bool:
            cmd = self.gate.object("POST", f"/annotationtasks/{task_id}/addToTask",
                                   json=payloads.add_to_task_body(dql.items_by_id(remaining), people))
            self.gate.wait_command(cmd, f"add {len(remaining)} item(s) to task {task_id}")
            return True

        def done() -> bool | None:
            missing = self._not_in_tasks(dataset_id, remaining, {task_id})
            if not missing:
                return True
            remaining[:] = missing
            return None

        self._once(f"add {len(item_ids)} item(s) to task {task_id}", send, done)

    def add_source(self, job_id: str, spec: JobSpec, source: Any, *, assignees: tuple[str, ...] = ()
                   ) -> UploadReport:
        """Add dataset items (filter or ids) to a running task with ``addToTask`` [W §3.9]."""
        if not isinstance(source, DatasetSource):
            raise SpecError(f"source: expected a dataset source (filter or item_ids), got {type(source).__name__}")
        ref = JobRef.parse(job_id)
        query = source_query(source)
        if ref.pipeline is not None:
            pipeline = self.gate.object("GET", f"/pipelines/{ref.pipeline}")
            if pipeline.get("status") not in _RUNNING_PIPELINE:
                raise JobStateError(f"pipeline {ref.pipeline} is not running ({pipeline.get('status')}): call "
                                    "job.start() first; dataset items are run through a running pipeline")
            project_id = need(pipeline, "projectId", str, f"GET /pipelines/{ref.pipeline}")
            self._execute(ref.pipeline, query, project_id=project_id, item_ids=list(source.item_ids or ()))
            return UploadReport(keys=list(source.item_ids or ()))
        task = self.gate.object("GET", f"/annotationtasks/{ref.task}")
        if is_object_id(source.dataset) and source.dataset != task.get("datasetId"):
            raise SpecError(f"source.dataset: task {ref.task} works on dataset {task.get('datasetId')}, "
                            f"not {source.dataset}")
        people: list[Any] = list(assignees) or ([] if is_pulling(spec) else list(spec.workforce.assignees))
        before = int(task.get("totalItems") or 0)
        if source.item_ids is not None:  # listed items: an unknown outcome is checked item by item
            dataset_id = need(task, "datasetId", str, f"GET /annotationtasks/{ref.task}")
            self._add_to_task(str(ref.task), dataset_id, list(source.item_ids), people)
        else:  # a filter: sent once (not repeated blindly); a failure is raised for the caller to check
            cmd = self.gate.object("POST", f"/annotationtasks/{ref.task}/addToTask",
                                   json=payloads.add_to_task_body(query, people))
            self.gate.wait_command(cmd, f"add items to task {ref.task}")
        after = int(self.gate.object("GET", f"/annotationtasks/{ref.task}").get("totalItems") or 0)
        created = max(0, after - before)
        requested = len(source.item_ids) if source.item_ids is not None else created
        log.info("task %s: %d item(s) added (%d -> %d)", ref.task, created, before, after)
        return UploadReport(created=created, existing=max(0, requested - created),
                            keys=list(source.item_ids or ()))

    # ---- lifecycle ------------------------------------------------------------------------------

    def _tasks(self, ref: JobRef) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any] | None]:
        """(annotation tasks, QA tasks, pipeline) of a job."""
        if ref.task is not None:
            task = self.gate.object("GET", f"/annotationtasks/{ref.task}")
            qa = [self.gate.object("GET", f"/annotationtasks/{ref.qa}")] if ref.qa else []
            return [task], qa, None
        pipeline = self.gate.object("GET", f"/pipelines/{ref.pipeline}")
        project_id = need(pipeline, "projectId", str, f"GET /pipelines/{ref.pipeline}")
        tasks = list(self.gate.iter_pages("POST", "/annotationtasks/query",
                                          dql.tasks_of_pipeline(str(ref.pipeline), project_id)))
        annotate = [t for t in tasks if get(t, "spec.type") != "qa"]
        review = [t for t in tasks if get(t, "spec.type") == "qa"]
        return annotate, review, pipeline

    def start(self, job_id: str) -> None:
        """A pipeline is installed and its items executed (``_start_pipeline``); a task, open from
        creation (Dataloop tasks have no draft state), is reopened if it was closed."""
        ref = JobRef.parse(job_id)
        if ref.pipeline is not None:
            self._start_pipeline(ref.pipeline)
            return
        task = self.gate.object("GET", f"/annotationtasks/{ref.task}")
        status = task.get("status")
        if status not in ("open", "in progress"):
            self.gate.object("PATCH", f"/annotationtasks/{ref.task}", json=payloads.task_update_body(task, "open"),
                             idempotent=True)

    def close(self, job_id: str) -> None:
        """Mark the job's tasks completed (``PATCH`` the task, as ``task.update()``); uninstall a pipeline."""
        ref = JobRef.parse(job_id)
        if ref.pipeline is not None:
            self.gate.object("POST", f"/pipelines/{ref.pipeline}/uninstall", json={}, idempotent=True)
        annotate, review, _ = self._tasks(ref)
        for task in [*annotate, *review]:
            if task.get("status") not in ("completed", "completed with issues", "dismissed"):
                self.gate.object("PATCH", f"/annotationtasks/{task['id']}",
                                 json=payloads.task_update_body(task, "completed"), idempotent=True)

    def progress(self, job_id: str) -> Progress:
        ref = JobRef.parse(job_id)
        annotate, review, pipeline = self._tasks(ref)
        if not annotate:
            state = _PIPELINE_STATES.get(str((pipeline or {}).get("status")), JobState.DRAFT)
            return Progress(state=state, details={"pipeline": (pipeline or {}).get("status"), "tasks": []})
        total = completed = 0
        assignments: list[dict[str, Any]] = []
        for task in annotate:
            where = f"GET /annotationtasks/{task.get('id')}"
            total += int(need(task, "totalItems", (int, float), where))
            completed += int(get(task, "itemStatus.completed", 0) or 0)
            for a in self.gate.iter_list("/assignments", {"projects": task.get("projectId"), "taskId": task["id"]}):
                assignments.append({
                    "annotator": a.get("annotator"), "status": a.get("status"), "total_items": a.get("totalItems"),
                    "completed": get(a, "itemStatus.completed"), "progress": a.get("progress"),
                })
        state = combined_state([*annotate, *review])
        percent = None
        progresses = [p for t in annotate if isinstance(p := t.get("progress"), int | float)]
        if len(progresses) == len(annotate):  # a task without a progress makes the total unknown
            percent = float(sum(progresses)) / len(progresses)
        submitted = sum(int(a["completed"] or 0) for a in assignments)
        details: dict[str, Any] = {
            "tasks": [_task_summary(t) for t in annotate],
            "qa_tasks": [_task_summary(t) for t in review],
            "assignments": assignments,
        }
        if pipeline is not None:
            details["pipeline"] = pipeline.get("status")
        return Progress(state=state, total_items=total, completed_items=completed, submitted_answers=submitted,
                        percent=percent, details=details)

    # ---- listing --------------------------------------------------------------------------------

    def list_jobs(self) -> list[Mapping[str, Any]]:
        """The jobs annotate created in the profile's project, oldest first, from one paged task query.

        Every task carrying ``metadata.user.annotate`` is read (``POST /annotationtasks/query``, every
        page); ``listing.job_rows`` pairs each QA task with the task it reviews (``task:<id>,qa:<id>``)
        and lists the other annotation tasks as ``task:<id>``, with state, ``createdAt`` and the
        task's ``totalItems`` — no request per task. Pipeline jobs are *not* listed: their tasks are
        made by the platform's task nodes without annotate's metadata, and the pipeline itself
        carries none either (node tasks are left out should one ever carry it).
        The project is the profile's ``project`` option, else the project of its ``dataset`` id.
        """
        project_id = self._project_id()
        tasks = [t for t in self.gate.iter_pages("POST", "/annotationtasks/query", dql.annotate_tasks(project_id))
                 if isinstance(t, dict)]
        log.debug("%d annotate task(s) in project %s", len(tasks), project_id)
        return job_rows(tasks)

    def _project_id(self) -> str:
        """The profile's project id: ``project`` (name or id), else the first project of ``dataset`` (an id)."""
        project_ref, dataset_ref = self.options.get("project"), self.options.get("dataset")
        if project_ref:
            return need(self.gate.project(str(project_ref)), "id", str, "GET /projects")
        if dataset_ref and is_object_id(str(dataset_ref)):
            dataset = self.gate.dataset(None, str(dataset_ref))
            projects = get(dataset, "projects") or []
            if projects and isinstance(projects[0], str):
                return projects[0]
            raise MalformedResponseError(f"GET /datasets/{dataset_ref}: response has no 'projects'", backend=BACKEND)
        raise ConfigError("backend 'dataloop': listing jobs needs a project: set the profile option 'project' "
                          "(a name or id), or 'dataset' as a dataset id")

    # ---- answers --------------------------------------------------------------------------------

    def iter_answers(self, job_id: str, spec: JobSpec | None) -> Iterator[Mapping[str, Any]]:
        for ctx, page, notes, originals in self._answer_pages(job_id, spec):
            for item in page:
                yield from amap.item_records(item, notes.get(item["id"], []), ctx,
                                             original=originals.get(str(amap.parent_id(item))))

    def iter_answer_frames(self, job_id: str, spec: JobSpec | None) -> Iterator[pd.DataFrame]:
        """The columnar path ``Job.answers`` prefers: the frame ``iter_answers`` would give, one frame
        per page of items with their annotations, as each arrives (the same requests, no dict per answer)."""
        from annotate_core.answers import AnswerColumns

        # an item's answers all come from its one item object (keys, inputs already shared); an
        # assignment id comes back in every annotation made in it: 3M copies at 3M answers
        shared: dict[Any, Any] = {}
        columns = AnswerColumns([f.name for f in spec.inputs] if spec else [], shared, share_items=False,
                                share_assignments=True)
        for ctx, page, notes, originals in self._answer_pages(job_id, spec):
            yield amap.page_frame(columns, shared, page, notes, originals, ctx)

    def _answer_pages(self, job_id: str, spec: JobSpec | None) -> Iterator[tuple[
            amap.TaskContext, list[dict[str, Any]], dict[str, list[dict[str, Any]]], dict[str, dict[str, Any]]]]:
        """(context, a page of the tasks' items, their annotations by item id, the originals of the
        consensus copies among them), page after page: what both answer paths read, in one order."""
        ref = JobRef.parse(job_id)
        annotate, review, _ = self._tasks(ref)
        if not annotate:
            return
        if spec is None and ref.task is not None:
            spec = self.get_spec(job_id)
        ctx = amap.context(spec, [t["id"] for t in annotate], [t["id"] for t in review])
        by_dataset: dict[str, list[str]] = {}
        for t in annotate:
            by_dataset.setdefault(need(t, "datasetId", str, f"task {t['id']}"), []).append(t["id"])
        holders = [h for t in annotate if isinstance(h := get(t, "metadata.system.consensusAssignmentId"), str)]
        for dataset_id, task_ids in by_dataset.items():
            query = dql.task_items(task_ids, exclude=holders)
            # only the keys the mapping reads are decoded (with msgspec): most of a page is not read
            items = self.gate.iter_dql(dataset_id, query, amap.ItemsPage)
            while page := list(islice(items, query["pageSize"])):
                notes: dict[str, list[dict[str, Any]]] = {}
                group = notes.setdefault
                for a in self.gate.iter_dql(dataset_id, dql.class_annotations([i["id"] for i in page]),
                                            amap.AnnotationsPage):
                    on = a.get("itemId")
                    group(on if type(on) is str else str(on), []).append(a)
                yield ctx, page, notes, self._originals(dataset_id, page)

    def _originals(self, dataset_id: str, page: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
        """The original items of the consensus copies on a page (their key, inputs and QA statuses)."""
        parents = sorted({p for i in page if (p := amap.parent_id(i)) is not None})
        if not parents:
            return {}
        query = {**dql.items_by_id(parents), "sort": dict(dql.SORT_BY_ID)}
        return {e["id"]: e for e in self.gate.iter_dql(dataset_id, query, amap.ItemsPage)
                if isinstance(e.get("id"), str)}


class _Where:
    """Resolved ids of a job and the title of its recipe (pipeline nodes show it)."""

    def __init__(self, ids: payloads.Ids, recipe_title: str) -> None:
        self.ids = ids
        self.recipe_title = recipe_title


def _base_url(env: Any, base_url: Any) -> str:
    """The gate's REST base from ``env`` (dtlpy's ``dl.setenv`` names) or ``base_url`` (any other gate)."""
    if env is not None and (not isinstance(env, str) or env not in ENVIRONMENTS):
        raise ConfigError(f"option 'env' of backend 'dataloop': expected one of {', '.join(map(repr, ENVIRONMENTS))} "
                          f"(the environments of dtlpy's dl.setenv), got {env!r}; for another gate (on-prem) set "
                          "'base_url' to its REST base, https://<host>/api/v1")
    if base_url is not None:
        if not isinstance(base_url, str) or not base_url.startswith(("https://", "http://")):
            raise ConfigError(f"option 'base_url' of backend 'dataloop': expected the gate's REST base URL, "
                              f"https://<host>/api/v1, got {base_url!r}")
        if env is not None and ENVIRONMENTS[env] != base_url.rstrip("/"):
            raise ConfigError(f"backend 'dataloop': options 'env' ({env!r}, {ENVIRONMENTS[env]}) and 'base_url' "
                              f"({base_url}) name different gates; set only one")
        return base_url
    return ENVIRONMENTS[env] if env is not None else DEFAULT_BASE_URL


def _timeout(value: Any) -> float | tuple[float, float]:
    """``timeout`` as requests wants it: seconds, or (connect, read) — a TOML list becomes a tuple."""
    if isinstance(value, list | tuple) and len(value) == 2:
        return (float(value[0]), float(value[1]))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ConfigError(f"option 'timeout' of backend 'dataloop': expected seconds or [connect, read], got {value!r}")


def _in_task(item: Mapping[str, Any], task_id: str) -> bool:
    refs = get(item, "metadata.system.refs") or []
    return any(isinstance(r, dict) and r.get("id") == task_id for r in refs)


def _split(tasks: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(annotation tasks, QA tasks), each oldest first; several annotation tasks under one key (made by
    an older version of annotate, or two runs racing) are logged, and the oldest is the job's."""
    ordered = sorted(tasks, key=creation_order)
    annotate = [t for t in ordered if not is_qa(t)]
    if len(annotate) > 1:
        log.warning("%d annotation tasks carry the same key; the oldest, %s, is the job's",
                    len(annotate), annotate[0]["id"])
    return annotate, [t for t in ordered if is_qa(t)]


def _review_of(qa_tasks: Iterable[dict[str, Any]], task_id: str) -> dict[str, Any] | None:
    """The oldest QA task reviewing ``task_id``."""
    return next((q for q in qa_tasks if parent_task(q) == task_id), None)


def _first(tasks: list[dict[str, Any]]) -> dict[str, Any] | None:
    return tasks[0] if tasks else None


def _task_summary(task: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": task.get("id"), "name": task.get("name"), "status": task.get("status"),
            "total_items": task.get("totalItems"), "completed": get(task, "itemStatus.completed"),
            "progress": task.get("progress"), "for_review": task.get("forReview"), "issues": task.get("issues")}
