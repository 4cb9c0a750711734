"""``LabelStudioBackend``: the neutral job model on a self-hosted Label Studio, over its REST API.

A job is one project; its id is the project id. The labeling config is generated from the spec
(``labeling``) and carries annotate's mark: the job key and the spec, so ``find_job``, ``get_spec`` and
``list_jobs`` work from the server alone. Items are tasks whose data holds the inputs plus the item key
(``_annotate_key``) and, for golden items, the known answers (``_annotate_golden``); uploads list the
keys already in the project first, so a rerun adds only what is missing. Answers are annotations:
``completed_by`` is the worker, ``lead_time`` the duration, ``was_cancelled`` a skip. Overlap is the
project's ``maximum_annotations``. Creates are sent once and looked up before any resend (``api``).
``progress`` reports every task as an item and the golden ones apart, counted by the server, so the
counts (``docs/counts.md``) hold the items nobody answered yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from itertools import islice
from typing import TYPE_CHECKING, Any, ClassVar

from annotate_core.backend import Backend, JobState, PlannedOperation, PlanWarning, Progress, ProgressCallback
from annotate_core.capabilities import Capability, Unsupported
from annotate_core.errors import MalformedResponseError, NotFoundError, VendorError
from annotate_core.items import Item, UploadReport
from annotate_core.jobkeys import JobKeyConflictError, spec_differences, spec_fingerprint
from annotate_core.model.spec import JobSpec
from annotate_labelstudio.api import MAX_SENDS, LabelStudioApi, unknown_outcome
from annotate_labelstudio.fidelity import WEBHOOK_ACTIONS, check_spec, plan_warnings, project_title
from annotate_labelstudio.labeling import (
    GOLDEN_FIELD,
    KEY_FIELD,
    RESERVED_FIELDS,
    AnswerReader,
    Mark,
    encode_mark,
    labeling_config,
    read_mark,
    with_mark,
)
from annotate_labelstudio.settings import BACKEND, Settings

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

#: the Data Manager filter selecting golden tasks: ``data._annotate_golden`` present and not null
GOLDEN_FILTER: dict[str, Any] = {"conjunction": "and", "items": [
    {"filter": f"filter:tasks:data.{GOLDEN_FIELD}", "operator": "empty", "type": "Unknown", "value": False}]}


def _parse_time(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedResponseError(f"{where}: expected an ISO-8601 datetime, got {value!r}", backend=BACKEND)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedResponseError(f"{where}: expected an ISO-8601 datetime, got {value!r}",
                                     backend=BACKEND) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _user_id(value: Any, where: str) -> str:
    """``completed_by`` is a user id, or the user object in some listings."""
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise MalformedResponseError(f"{where}: 'completed_by' names no user ({value!r})", backend=BACKEND)


def _webhook_actions(events: Iterable[Any]) -> list[str]:
    return sorted({a for e in events for a in WEBHOOK_ACTIONS[e]})


class LabelStudioBackend(Backend):
    """A self-hosted Label Studio server. Options: see ``annotate_labelstudio.settings.OPTION_HELP``."""

    name: ClassVar[str] = BACKEND
    capabilities: ClassVar[frozenset[Capability]] = frozenset({
        Capability.UPLOAD_ITEMS,
        Capability.OUTPUT_LABEL, Capability.OUTPUT_LABELS, Capability.OUTPUT_FREE_TEXT, Capability.OUTPUT_NUMBER,
        Capability.MULTIPLE_OUTPUTS, Capability.INTERFACE,
        Capability.PULLING, Capability.OVERLAP, Capability.GOLDEN,
        Capability.WEBHOOKS, Capability.JOB_KEYS,
    })
    _ENTERPRISE = "is a Label Studio Enterprise feature; the open-source edition has no "
    hints: ClassVar[Mapping[Capability, str]] = {
        Capability.VENDOR_DATASET: "connect the storage to the project in Label Studio, or use source kind 'items' "
        "and upload the items",
        Capability.OUTPUT_JSON: "Label Studio has no JSON answer: use a free_text output",
        Capability.ASSIGNEES: "assigning tasks to named annotators " + _ENTERPRISE + "assignees: drop "
        "workforce.assignees (everyone in the organisation can label)",
        Capability.FIXED_WORKLOAD: "Label Studio annotators take the next task from the project's queue: use "
        "distribution kind 'pulling'",
        Capability.CROWD_FILTERS: "Label Studio has no crowd: invite the people who should label to the "
        "organisation and drop workforce.filter",
        Capability.SKILL_FILTERS: "Label Studio has no skills: drop workforce.filter",
        Capability.PULLING_MAX_WORKLOAD: "Label Studio hands out one task at a time: drop "
        "distribution.max_batch_workload",
        Capability.PARTIAL_OVERLAP: "use overlap.fraction 1 (overlap on every task)",
        Capability.GOLDEN_MIXING: "showing ground truth first " + _ENTERPRISE + "such setting: drop "
        "distribution.golden_per_batch (golden items are still flagged in the answers)",
        Capability.TRAINING: "Label Studio has no qualification stage: run a separate job first",
        Capability.RULE_GOLDEN_ACCURACY: "quality rules are Label Studio Enterprise features: drop quality.rules "
        "and check annotators with job.results() and golden items",
        Capability.RULE_FAST_SUBMITS: "quality rules are Label Studio Enterprise features: drop quality.rules",
        Capability.RULE_CAPTCHA: "Label Studio has no captchas: drop quality.captcha_frequency",
        Capability.RULE_SKIPPED_IN_ROW: "quality rules are Label Studio Enterprise features: drop quality.rules",
        Capability.RULE_SKIP_RATE: "quality rules are Label Studio Enterprise features: drop quality.rules",
        Capability.RULE_ANSWER_COUNT: "quality rules are Label Studio Enterprise features: drop quality.rules",
        Capability.RULE_SKILL: "Label Studio has no skills: drop quality.rules",
        Capability.ACTION_BAN: "Label Studio cannot ban annotators: drop quality.rules",
        Capability.ACTION_REJECT: "quality rules are Label Studio Enterprise features: drop quality.rules",
        Capability.ACTION_SET_SKILL: "Label Studio has no skills: drop quality.rules",
        Capability.REVIEW: "the review stream " + _ENTERPRISE + "reviews: drop review, or run a second job "
        "that labels the first one's answers",
        Capability.REVIEW_REQUEUE: "the review stream " + _ENTERPRISE + "reviews: drop review",
        Capability.MANUAL_REVIEW: "accepting and rejecting annotations " + _ENTERPRISE + "review API",
        Capability.REWARD: "Label Studio pays nobody: drop pricing (annotate compare can still take a cost "
        "from your own accounting)",
        Capability.DYNAMIC_PRICING: "Label Studio pays nobody: drop pricing",
        Capability.LIMIT_PER_WORKER: "per-annotator limits are Label Studio Enterprise features: drop limits",
        Capability.ASSIGNMENT_TIMEOUT: "Label Studio locks a task for the annotator who opened it for a server-wide "
        "time: drop limits.assignment_max_seconds",
        Capability.DEADLINE: "Label Studio projects have no deadline: close the job yourself (job.close())",
        Capability.ADULT_CONTENT_FLAG: "Label Studio's annotators are your own people: drop adult_content",
        Capability.PIPELINE: "Label Studio runs one project per job: chain jobs in your code, or rehearse "
        "pipelines on the 'local' backend",
        Capability.PIPELINE_AGGREGATE: "drop the aggregate stage and call job.results(method=...)",
        Capability.PAUSE: "the open-source edition cannot stop annotators: job.close() unpublishes the project",
        Capability.EVENTS: "subscribe to Label Studio's webhooks with `webhooks:` in the spec",
        Capability.SIMULATION: "Label Studio has no simulated annotators: rehearse on the 'local' backend",
        Capability.PULL_API: "annotators label in Label Studio's own UI: use the 'local' backend for in-house "
        "pull/submit through annotate",
        Capability.SKILLS: "Label Studio has no skills",
    }
    secret_options: ClassVar[frozenset[str]] = frozenset({"token"})
    remote: ClassVar[bool] = True
    rate_limited: ClassVar[bool] = False  # self-hosted: nobody throttles; the server still validates bodies
    validates_on_server: ClassVar[bool] = True

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.settings = Settings.from_options(options)
        self._api: LabelStudioApi | None = None

    @property
    def api(self) -> LabelStudioApi:
        """Built on first use, so planning and refusals never touch the network (or need a token)."""
        if self._api is None:
            self.settings.server()
            self.settings.secret()
            self._api = LabelStudioApi(self.settings)
        return self._api

    def close_backend(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None

    def store_description(self) -> str:
        return f"Label Studio at {self.settings.url}"

    # ---- planning -----------------------------------------------------------------------------

    def check_spec(self, spec: JobSpec) -> list[Unsupported]:
        return check_spec(spec)

    def warnings(self, spec: JobSpec, n_items: int | None = None) -> list[PlanWarning]:
        return plan_warnings(spec, n_items)

    def project_body(self, spec: JobSpec, key: str | None) -> dict[str, Any]:
        return {
            "title": project_title(spec),
            "description": spec.description,
            "label_config": labeling_config(spec, key),
            "expert_instruction": spec.instructions,
            "show_instruction": bool(spec.instructions),
            "show_skip_button": True,
            "maximum_annotations": spec.overlap.count,
            "is_published": False,
        }

    def plan(self, spec: JobSpec, n_items: int | None = None) -> list[PlannedOperation]:
        ops = [PlannedOperation("POST /api/projects/", "create the project (the job; its labeling config holds "
                                "the spec)", self.project_body(spec, None))]
        for hook in spec.webhooks:
            ops.append(PlannedOperation("POST /api/webhooks/", f"subscribe {hook.url}",
                                        {"project": "<project id>", "url": str(hook.url), "send_payload": True,
                                         "send_for_all_actions": False, "actions": _webhook_actions(hook.events),
                                         "is_active": True}))
        chunk = self.settings.import_chunk_size
        n = n_items if n_items is not None else 0
        ops.append(PlannedOperation("GET /api/tasks/?project=<id>", "list the item keys already in the project"))
        for start in range(0, n, chunk):
            size = min(chunk, n - start)
            ops.append(PlannedOperation("POST /api/projects/<id>/import", f"import {size} task(s)",
                                        {"tasks": size, "data": f"inputs + {KEY_FIELD}"}))
        ops.append(PlannedOperation("PATCH /api/projects/<id>/", "start: publish the project",
                                    {"is_published": True}))
        return ops

    # ---- jobs ---------------------------------------------------------------------------------

    def _project(self, job_id: str) -> dict[str, Any]:
        if not str(job_id).isdigit():  # project ids are integers: nothing else names a project
            raise NotFoundError(f"no Label Studio project {job_id!r} (project ids are integers)", status=404,
                                backend=BACKEND)
        return self.api.object("GET", f"/api/projects/{job_id}/")

    def _mark(self, project: Mapping[str, Any]) -> Mark:
        where = f"project {project.get('id')}"
        mark = read_mark(project.get("label_config"), where)
        if mark is None:
            raise NotFoundError(f"{where} was not made by annotate (its labeling config has no annotate mark)",
                                status=404, backend=BACKEND)
        return mark

    def _keyed_projects(self, key: str) -> list[dict[str, Any]]:
        found = []
        for project in self.api.iter_projects():
            mark = read_mark(project.get("label_config"), f"project {project.get('id')}")
            if mark is not None and mark.key == key:
                found.append(project)
        if len(found) > 1:
            log.warning("job key %r names %d projects; the oldest (%s) is the job's", key, len(found), found[0]["id"])
        return sorted(found, key=lambda p: int(p["id"]))

    def _project_for(self, key: str) -> dict[str, Any] | None:
        found = self._keyed_projects(key)
        return found[0] if found else None

    def find_job(self, key: str) -> str | None:
        """The project made with ``key``, once its webhooks are all subscribed (else a rerun resumes it)."""
        project = self._project_for(key)
        if project is None:
            return None
        spec = self._mark(project).spec
        if spec.webhooks and self._missing_webhooks(str(project["id"]), spec):
            return None
        return str(project["id"])

    def get_spec(self, job_id: str) -> JobSpec | None:
        return self._mark(self._project(job_id)).spec

    def create_job(self, spec: JobSpec, *, key: str | None = None) -> str:
        api = self.api
        project: dict[str, Any] | None = self._project_for(key) if key is not None else None
        if project is not None:
            assert key is not None
            stored = self._mark(project).spec
            if spec_fingerprint(stored) != spec_fingerprint(spec):
                raise JobKeyConflictError(key, str(project["id"]), BACKEND, spec_differences(stored, spec))
        else:
            body = self.project_body(spec, key)
            project = api.send_once(
                "POST /api/projects/", lambda: api.object("POST", "/api/projects/", json=body),
                (lambda: self._project_for(key)) if key is not None else None)
        job_id = str(project["id"])
        self._subscribe(job_id, spec)
        return job_id

    # ---- webhooks -----------------------------------------------------------------------------

    def _webhooks(self, job_id: str) -> list[dict[str, Any]]:
        listed = self.api.get("/api/webhooks/", params={"project": job_id})
        if not isinstance(listed, list):
            raise MalformedResponseError("GET /api/webhooks/: expected a list", backend=BACKEND)
        return [w for w in listed if isinstance(w, dict) and str(w.get("project")) == str(job_id)]

    def _missing_webhooks(self, job_id: str, spec: JobSpec) -> list[dict[str, Any]]:
        have = {(str(w.get("url")), tuple(sorted(w.get("actions") or ()))) for w in self._webhooks(job_id)}
        wanted: list[dict[str, Any]] = []
        for hook in spec.webhooks:
            actions = _webhook_actions(hook.events)
            if (str(hook.url), tuple(actions)) not in have:
                wanted.append({"project": int(job_id), "url": str(hook.url), "send_payload": True,
                               "send_for_all_actions": False, "actions": actions, "is_active": True})
        return wanted

    def _subscribe(self, job_id: str, spec: JobSpec) -> None:
        if not spec.webhooks:
            return
        api = self.api
        for body in self._missing_webhooks(job_id, spec):
            def send(body: dict[str, Any] = body) -> dict[str, Any]:
                return api.object("POST", "/api/webhooks/", json=body)

            def lookup(body: dict[str, Any] = body) -> dict[str, Any] | None:
                return None if body in self._missing_webhooks(job_id, spec) else body

            api.send_once(f"POST /api/webhooks/ ({body['url']})", send, lookup)

    # ---- lifecycle ----------------------------------------------------------------------------

    def _set_state(self, job_id: str, *, published: bool, closed: bool) -> None:
        project = self._project(job_id)
        mark = self._mark(project)
        body: dict[str, Any] = {}
        if mark.closed != closed:
            body["label_config"] = with_mark(str(project["label_config"]), encode_mark(mark.spec, mark.key, closed))
        if bool(project.get("is_published")) != published:
            body["is_published"] = published
        if body:
            self.api.patch(f"/api/projects/{job_id}/", body)

    def start(self, job_id: str) -> None:
        self._set_state(job_id, published=True, closed=False)

    def close(self, job_id: str) -> None:
        self._set_state(job_id, published=False, closed=True)

    def progress(self, job_id: str) -> Progress:
        project = self._project(job_id)
        mark = self._mark(project)
        total = int(project.get("task_number") or 0)
        finished = int(project.get("finished_task_number") or 0)
        submitted = int(project.get("total_annotations_number") or 0)
        overlap = int(project.get("maximum_annotations") or 1)
        if mark.closed:
            state = JobState.CLOSED
        elif not project.get("is_published"):
            state = JobState.DRAFT
        elif total and finished >= total:
            state = JobState.COMPLETED
        else:
            state = JobState.OPEN
        golden = self.golden_tasks(job_id) if total else 0
        details = {"skipped": int(project.get("skipped_annotations_number") or 0),
                   "items_to_label": max(total - golden, 0), "golden_items": golden,
                   "url": f"{self.settings.url}/projects/{job_id}/data"}
        return Progress(state=state, total_items=total, completed_items=finished, submitted_answers=submitted,
                        expected_answers=total * overlap, details=details)

    def golden_tasks(self, job_id: str) -> int:
        """The project's tasks whose data carries known answers (``_annotate_golden``), counted by the
        server: a Data Manager filter on that data field, one task asked for, the ``total`` read."""
        return self.api.count_tasks(job_id, GOLDEN_FILTER)

    def list_jobs(self) -> list[Mapping[str, Any]]:
        """The projects annotate made on the server (those whose labeling config holds its mark)."""
        rows: list[Mapping[str, Any]] = []
        for project in self.api.iter_projects():
            mark = read_mark(project.get("label_config"), f"project {project.get('id')}")
            if mark is None:
                continue
            state = JobState.CLOSED if mark.closed else (
                JobState.OPEN if project.get("is_published") else JobState.DRAFT)
            created = _parse_time(project.get("created_at"), f"project {project.get('id')}: created_at")
            rows.append({"id": str(project["id"]), "name": mark.spec.name, "state": state.value,
                         "created_at": created.isoformat() if created else None, "items": project.get("task_number")})
        return rows

    # ---- items --------------------------------------------------------------------------------

    def existing_keys(self, job_id: str) -> set[str]:
        keys = set()
        for task in self.api.iter_tasks(job_id):
            data = task.get("data")
            key = data.get(KEY_FIELD) if isinstance(data, dict) else None
            if isinstance(key, str):
                keys.add(key)
        return keys

    def task_body(self, item: Item) -> dict[str, Any]:
        data = {k: v for k, v in item.inputs.items() if k not in RESERVED_FIELDS}
        data[KEY_FIELD] = item.key
        if item.golden:
            data[GOLDEN_FIELD] = dict(item.golden)
        return {"data": data}

    def add_items(self, job_id: str, spec: JobSpec, items: Iterable[Item], *,
                  on_progress: ProgressCallback | None = None) -> UploadReport:
        """Import the items whose keys the project does not hold yet, chunk by chunk. An import whose
        outcome is unknown is looked up (the project's keys listed again) before its missing tasks are
        sent again: Label Studio would import the same tasks twice."""
        self._project(job_id)
        existing = self.existing_keys(job_id)
        report = UploadReport()
        it = iter(items)
        while chunk := list(islice(it, self.settings.import_chunk_size)):
            fresh: list[Item] = []
            for item in chunk:
                if item.key in existing:
                    report.existing += 1
                else:
                    fresh.append(item)
                    existing.add(item.key)  # a key twice in one call is imported once
            self._import(job_id, fresh, report)
            if on_progress is not None:
                on_progress(len(chunk))
        return report

    def _import(self, job_id: str, items: list[Item], report: UploadReport) -> None:
        for attempt in range(1, MAX_SENDS + 1):
            if not items:
                return
            try:
                self.api.object("POST", f"/api/projects/{job_id}/import", json=[self.task_body(i) for i in items])
            except VendorError as exc:
                if not unknown_outcome(exc) or attempt == MAX_SENDS:
                    raise
                log.info("import of %d task(s) into project %s: outcome unknown (%s); listing its keys before "
                         "sending again", len(items), job_id, exc)
                present = self.existing_keys(job_id)
                done = [i for i in items if i.key in present]
                report.created += len(done)
                report.keys.extend(i.key for i in done)
                items = [i for i in items if i.key not in present]
                continue
            report.created += len(items)
            report.keys.extend(i.key for i in items)
            return

    # ---- answers ------------------------------------------------------------------------------

    def iter_answers(self, job_id: str, spec: JobSpec | None) -> Iterator[Mapping[str, Any]]:
        """One record per annotation and output field, every page of the project's tasks."""
        spec, pages = self._answer_pages(job_id, spec)
        reader = AnswerReader(spec.outputs)
        out: list[dict[str, Any]] = []
        for page in pages:
            for task in page:
                add_task(lambda **record: out.append(record), task, spec, reader)
            yield from out
            out.clear()

    def iter_answer_frames(self, job_id: str, spec: JobSpec | None) -> Iterator[pd.DataFrame]:
        """The columnar path ``Job.answers`` prefers: the frame ``iter_answers`` would give, one frame
        per page of tasks with their annotations, as each arrives (the same requests, no dict per answer)."""
        from annotate_core.answers import AnswerColumns

        # input columns as the record path gets them (answers_frame: the given spec's inputs, or none)
        names = [f.name for f in spec.inputs] if spec else []
        spec, pages = self._answer_pages(job_id, spec)
        reader = AnswerReader(spec.outputs)
        # every answer of a task comes from its one task object: keys and inputs are shared already
        columns = AnswerColumns(names, share_items=False)
        for page in pages:
            for task in page:
                add_task(columns.add, task, spec, reader)
            del page
            yield columns.frame()

    def _answer_pages(self, job_id: str, spec: JobSpec | None) -> tuple[JobSpec, Iterator[list[dict[str, Any]]]]:
        """The job's spec (the stored one unless given) and its pages of tasks with their annotations:
        what both answer paths read, in one order."""
        project = self._project(job_id)
        spec = spec or self._mark(project).spec
        return spec, self.api.iter_task_pages(job_id, annotations=True)


def add_task(add: Callable[..., None], task: Mapping[str, Any], spec: JobSpec, reader: AnswerReader) -> None:
    """One task's answers as calls of ``add`` with each record's keys (one per annotation and output
    field): ``AnswerColumns.add`` for the frame path, a list's append for the record path."""
    where = f"task {task.get('id')}"
    data = task.get("data")
    if not isinstance(data, dict):
        raise MalformedResponseError(f"{where}: no 'data' object", backend=BACKEND)
    key = data.get(KEY_FIELD) or str(task.get("id"))
    golden = data.get(GOLDEN_FIELD) if isinstance(data.get(GOLDEN_FIELD), dict) else None
    inputs = {k: v for k, v in data.items() if k not in RESERVED_FIELDS}
    annotations = task.get("annotations") or []
    if not isinstance(annotations, list):
        raise MalformedResponseError(f"{where}: 'annotations' is not a list", backend=BACKEND)
    for ann in annotations:
        if not isinstance(ann, dict):
            raise MalformedResponseError(f"{where}: an annotation is not an object", backend=BACKEND)
        aw = f"{where}, annotation {ann.get('id')}"
        skipped = bool(ann.get("was_cancelled"))
        values = {} if skipped else reader.values(ann.get("result"))
        lead = ann.get("lead_time")
        submitted = _parse_time(ann.get("created_at"), f"{aw}: created_at")
        worker = _user_id(ann.get("completed_by"), aw)
        duration = float(lead) if isinstance(lead, int | float) and not isinstance(lead, bool) else None
        for field in spec.outputs:
            add(task=key, item_key=key, worker=worker, label=values.get(field.name), field=field.name,
                assignment=str(ann.get("id")), status="skipped" if skipped else "submitted",
                submitted_at=submitted, duration_s=duration, golden=golden is not None,
                golden_label=golden.get(field.name) if golden is not None else None,
                reviewer=None, review_comment=None, inputs=inputs)
