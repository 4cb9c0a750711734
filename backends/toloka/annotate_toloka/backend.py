"""``TolokaBackend``: the neutral job model on Toloka projects and pools, over the REST API.

A job is one pool; its id is the pool id, from which the project (``pool.project_id``), the
training pool (``quality_control.training_requirement``) and the spec (``pool.metadata``) are all
found again. Everything a spec needs is compiled into request bodies first (``compile``), so a
spec Toloka cannot run is refused before the first request, and ``plan`` shows exactly the bodies
``create_job`` would send.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

from annotate_core.backend import Backend, JobState, PlannedOperation, Progress, ProgressCallback
from annotate_core.capabilities import Capability
from annotate_core.errors import (
    ConflictError,
    ItemsRejectedError,
    MalformedResponseError,
    OperationFailedError,
    SpecError,
)
from annotate_core.http import HttpClient
from annotate_core.items import Item, ItemError, UploadReport, validate_item
from annotate_core.model.spec import JobSpec
from annotate_toloka.api import TolokaApi
from annotate_toloka.compile import Compiled, compile_spec
from annotate_toloka.context import POOL_ID, PROJECT_ID, TRAINING_ID, Context, bind, skill_placeholder
from annotate_toloka.pool import SPEC_METADATA_KEY
from annotate_toloka.results import records
from annotate_toloka.settings import Settings
from annotate_toloka.tasks import ChunkResult, TaskBuilder, chunked, operation_id, read_log
from annotate_toloka.wire import ACT_UNDER_HEADER, BACKEND, KEY_FIELD, dumps, parse_error, quota_wait

log = logging.getLogger(__name__)

MAX_UPLOAD_ATTEMPTS = 20
UPLOAD_QUERY = "async_mode=true&allow_defaults=true&skip_invalid_items=true"
ANALYTICS = ("completion_percentage", "real_tasks_count", "submitted_assignments_count")
PLATFORM_URL = "https://platform.toloka.ai/requester/project/{project}/pool/{pool}"


def job_state(pool: Mapping[str, Any]) -> JobState:
    """A pool's status as a neutral state (a pool never opened is a draft)."""
    status = pool.get("status")
    if status == "OPEN":
        return JobState.OPEN
    if status == "ARCHIVED":
        return JobState.ARCHIVED
    if status in ("CLOSED", "LOCKED"):
        reason = pool.get("last_close_reason")
        if not pool.get("last_started"):
            return JobState.DRAFT
        if reason == "COMPLETED":
            return JobState.COMPLETED
        if reason == "FOR_UPDATE":  # closed for an edit; Toloka reopens it by itself
            return JobState.PAUSED
        return JobState.CLOSED
    raise MalformedResponseError(f"pool {pool.get('id')}: unknown status {status!r}", backend=BACKEND)


def training_id_of(pool: Mapping[str, Any]) -> str | None:
    qc = pool.get("quality_control") or {}
    req = qc.get("training_requirement") or {} if isinstance(qc, dict) else {}
    tid = req.get("training_pool_id") if isinstance(req, dict) else None
    return str(tid) if tid else None


def _analytics_value(entry: Mapping[str, Any]) -> float | None:
    """``result`` is ``{"value": 74}`` in the docs and a bare number in toloka-kit's tests: take both."""
    result = entry.get("result")
    if isinstance(result, dict):
        result = result.get("value")
    return float(result) if isinstance(result, int | float) and not isinstance(result, bool) else None


class TolokaBackend(Backend):
    """Toloka crowdsourcing pools. Options: see ``annotate_toloka.settings.OPTION_HELP``."""

    name: ClassVar[str] = BACKEND
    capabilities: ClassVar[frozenset[Capability]] = frozenset({
        Capability.UPLOAD_ITEMS,
        Capability.OUTPUT_LABEL, Capability.OUTPUT_LABELS, Capability.OUTPUT_FREE_TEXT, Capability.OUTPUT_NUMBER,
        Capability.MULTIPLE_OUTPUTS, Capability.INTERFACE,
        Capability.CROWD_FILTERS, Capability.SKILL_FILTERS,
        Capability.PULLING, Capability.OVERLAP, Capability.PARTIAL_OVERLAP,
        Capability.GOLDEN, Capability.GOLDEN_MIXING, Capability.TRAINING,
        Capability.RULE_GOLDEN_ACCURACY, Capability.RULE_FAST_SUBMITS, Capability.RULE_CAPTCHA,
        Capability.RULE_SKIPPED_IN_ROW, Capability.RULE_ANSWER_COUNT, Capability.RULE_SKILL,
        Capability.ACTION_BAN, Capability.ACTION_REJECT, Capability.ACTION_SET_SKILL,
        Capability.REVIEW, Capability.REVIEW_REQUEUE, Capability.MANUAL_REVIEW,
        Capability.REWARD, Capability.DYNAMIC_PRICING, Capability.LIMIT_PER_WORKER,
        Capability.ASSIGNMENT_TIMEOUT, Capability.DEADLINE, Capability.ADULT_CONTENT_FLAG,
        Capability.WEBHOOKS, Capability.SKILLS,
    })
    hints: ClassVar[Mapping[Capability, str]] = {
        Capability.FIXED_WORKLOAD: "Toloka hands task suites to whichever eligible Toloker asks next: use "
        "distribution kind 'pulling' and choose who works with workforce.filter",
        Capability.ASSIGNEES: "Toloka selects Tolokers by filters, not by name: grant your people a skill "
        "(backend.set_user_skill) and filter on it in workforce.filter",
        Capability.PULLING_MAX_WORKLOAD: "Toloka has no cap on suites held at once: remove "
        "distribution.max_batch_workload (limits.max_batches_per_worker caps the total per Toloker)",
        Capability.PAUSE: "job.close() stops a Toloka pool and job.start() reopens it",
        Capability.RULE_SKIP_RATE: "Toloka counts skips in a row: use metric 'skipped_in_row'",
        Capability.OUTPUT_JSON: "Template Builder has no JSON answer field: use a free_text output",
        Capability.VENDOR_DATASET: "Toloka stores no datasets: use source kind 'items' and upload the items",
        Capability.EVENTS: "subscribe to Toloka events with `webhooks:` in the spec",
        Capability.PIPELINE: "the Toloka backend runs one pool per job: chain jobs in your code, or rehearse "
        "pipelines on the 'local' backend",
        Capability.PIPELINE_AGGREGATE: "drop the aggregate stage and call job.results(method=...)",
        Capability.SIMULATION: "Toloka has no simulated crowd (and no sandbox since 2024): rehearse on the "
        "'local' backend",
        Capability.PULL_API: "Tolokers work in Toloka's own UI: use the 'local' backend for in-house pull/submit",
    }
    secret_options: ClassVar[frozenset[str]] = frozenset({"token"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.settings = Settings.from_options(options)
        self._api: TolokaApi | None = None

    # ---- plumbing -----------------------------------------------------------------------------

    @property
    def api(self) -> TolokaApi:
        """The REST client, created on first use (planning needs no token)."""
        if self._api is None:
            s = self.settings
            headers = {ACT_UNDER_HEADER: s.act_under_account_id} if s.act_under_account_id else None
            http = HttpClient(
                s.base_url, backend=BACKEND, credential=s.credential(), timeout=s.timeout, retries=s.retries,
                backoff_factor=s.backoff_factor, min_rate_limit_wait=s.min_rate_limit_wait,
                max_retry_after=s.max_retry_after, rate_limit_wait=quota_wait, parse_error=parse_error,
                headers=headers, sleep=s.sleep,
            )
            self._api = TolokaApi(http, sleep=s.sleep, poll_interval=s.poll_interval,
                                  operation_timeout=s.operation_timeout, page_size=s.page_size)
        return self._api

    def requester(self) -> dict[str, Any]:
        """Who the token belongs to (id, balance, public name); checks the credentials."""
        return self.api.requester()

    def close_backend(self) -> None:
        if self._api is not None:
            self._api.http.close()
            self._api = None

    def _compile(self, spec: JobSpec) -> Compiled:
        compiled = compile_spec(spec, self.settings.now(), store_spec=self.settings.store_spec)
        if spec.training is not None:
            problems = [e for i, it in enumerate(spec.training.items) for e in validate_item(spec, it, i)]
            if problems:
                raise SpecError("training.items: " + "; ".join(e.describe() for e in problems[:10]))
        return compiled

    # ---- planning -----------------------------------------------------------------------------

    def plan(self, spec: JobSpec, n_items: int | None = None) -> list[PlannedOperation]:
        """Every request ``create_job``, ``add_items`` and ``start`` would send, with its body. No I/O."""
        c = self._compile(spec)
        ops = [PlannedOperation(
            "POST /v1/skills", f"skill {name!r}, unless GET /v1/skills?name=... finds one; its id replaces "
            f"{skill_placeholder(name)}", {"name": name, "hidden": True}) for name in c.skills]
        outputs = ", ".join(f"{f.name} ({f.type.value})" for f in spec.outputs)
        ops.append(PlannedOperation("POST /v1/projects", f"project {spec.name!r}: outputs {outputs}; Template "
                                    "Builder view; item keys in the hidden input '_key'", c.project))
        if c.training is not None:
            ops.append(PlannedOperation("POST /v1/trainings", "training pool; Tolokers must pass it with "
                                        f"{spec.training.passing_score:g}% to work in the pool", c.training))
            ops.append(PlannedOperation(
                f"POST /v1/tasks?{UPLOAD_QUERY}&operation_id=<uuid5({TRAINING_ID}, item keys)>",
                f"{len(c.training_tasks)} training task(s) with known answers and hints, then poll the operation "
                "and read its log", c.training_tasks))
        notes = "".join(f"; note: {n}" for n in c.notes)
        ops.append(PlannedOperation("POST /v1/pools", f"pool: {spec.batch_size} item(s) per task suite, overlap "
                                    f"{spec.overlap.count}{notes}", c.pool))
        if c.webhooks:
            ops.append(PlannedOperation("PUT /v1/webhook-subscriptions",
                                        f"{len(c.webhooks)} webhook subscription(s) on the pool", c.webhooks))
        if n_items:
            ops.extend(self._plan_upload(spec, c, n_items))
        if c.training is not None:
            ops.append(PlannedOperation(f"POST /v1/trainings/{TRAINING_ID}/open", "open the training pool"))
        ops.append(PlannedOperation(f"POST /v1/pools/{POOL_ID}/open", "open the pool to Tolokers (job.start)"))
        return ops

    def _plan_upload(self, spec: JobSpec, c: Compiled, n_items: int) -> list[PlannedOperation]:
        size = self._chunk_size(spec, c.task_suites)
        sample = Item(key="<item key>", inputs={f.name: f"<{f.name}>" for f in spec.inputs})
        builder = TaskBuilder(POOL_ID, spec.overlap)
        path = "/v1/task-suites" if c.task_suites else "/v1/tasks"
        example = builder.suite([sample] * min(spec.batch_size, 2)) if c.task_suites else builder.task(sample)
        ops = []
        n_chunks = -(-n_items // size)
        for i in range(n_chunks):
            first, last = i * size + 1, min(n_items, (i + 1) * size)
            what = "task suites" if c.task_suites else "tasks"
            ops.append(PlannedOperation(
                f"POST {path}?{UPLOAD_QUERY}&operation_id=<uuid5({POOL_ID}, keys of items {first}-{last})>",
                f"upload chunk {i + 1}/{n_chunks}: items {first}-{last} as {what} (keys already in the pool "
                "are skipped; the operation is polled to the end and its log read)",
                {"count": last - first + 1, "each": example}))
        return ops

    # ---- lifecycle ----------------------------------------------------------------------------

    def create_job(self, spec: JobSpec) -> str:
        """Skills, project, training (with its tasks), pool and webhooks; returns the pool id."""
        c = self._compile(spec)  # refuses before any request
        api = self.api
        ids: dict[str, str] = {}
        for name in c.skills:
            ids[skill_placeholder(name)] = self.resolve_skill(name)
        project = api.create_project(bind(c.project, ids))
        ids[PROJECT_ID] = str(_id(project, "project"))
        log.info("created Toloka project %s", ids[PROJECT_ID])
        if c.training is not None:
            training = api.create_training(bind(c.training, ids))
            ids[TRAINING_ID] = str(_id(training, "training"))
            log.info("created Toloka training pool %s", ids[TRAINING_ID])
            builder = TaskBuilder(ids[TRAINING_ID], spec.overlap, training=True)
            report = self._upload(ids[TRAINING_ID], spec.training.items, builder, suites=False, batch_size=1,
                                  check_existing=False)
            if report.errors:
                raise ItemsRejectedError(report)
        pool = api.create_pool(bind(c.pool, ids))
        ids[POOL_ID] = str(_id(pool, "pool"))
        if c.webhooks:
            api.upsert_webhooks(bind(c.webhooks, ids))
        log.info("created Toloka pool %s: %s", ids[POOL_ID],
                 PLATFORM_URL.format(project=ids[PROJECT_ID], pool=ids[POOL_ID]))
        return ids[POOL_ID]

    def get_spec(self, job_id: str) -> JobSpec | None:
        """The spec stored in the pool's metadata (None for pools made elsewhere)."""
        stored = (self.api.get_pool(job_id).get("metadata") or {}).get(SPEC_METADATA_KEY)
        if not stored:
            return None
        try:
            return JobSpec.model_validate_json(stored[0])
        except ValueError as exc:
            raise MalformedResponseError(f"pool {job_id}: metadata.{SPEC_METADATA_KEY} is not a valid spec: {exc}",
                                         backend=BACKEND) from None

    def start(self, job_id: str) -> None:
        """Open the training pool (if any), then the pool; 204 'already open' is fine."""
        training = training_id_of(self.api.get_pool(job_id))
        if training:
            self.api.pool_action(training, "open", training=True)
        self.api.pool_action(job_id, "open")

    def close(self, job_id: str) -> None:
        self.api.pool_action(job_id, "close")

    def archive(self, job_id: str, *, project: bool = True) -> None:
        """Close and archive the pool and its training pool, then (by default) the project."""
        pool = self.api.get_pool(job_id)
        if pool.get("status") == "OPEN":
            self.api.pool_action(job_id, "close")
        self.api.pool_action(job_id, "archive")
        training = training_id_of(pool)
        if training:
            self.api.pool_action(training, "close", training=True)
            self.api.pool_action(training, "archive", training=True)
        if project and pool.get("project_id"):
            self.api.archive_project(str(pool["project_id"]))

    def progress(self, job_id: str) -> Progress:
        """Pool status plus the pool-completion analytics the recipe polls."""
        pool = self.api.get_pool(job_id)
        state = job_state(pool)
        values: dict[str, float | None] = {}
        for entry in self.api.analytics([{"subject": "POOL", "subject_id": job_id, "name": n} for n in ANALYTICS]):
            name = ((entry.get("request") or {}).get("name")) if isinstance(entry, dict) else None
            if name:
                values[name] = _analytics_value(entry)
        percent = values.get("completion_percentage")
        if percent is None and state is JobState.DRAFT:
            percent = 0.0  # a pool never opened may have no completion yet
        if percent is None:
            raise MalformedResponseError(f"pool {job_id}: analytics returned no completion_percentage",
                                         backend=BACKEND)
        total = int(values.get("real_tasks_count") or 0)
        return Progress(
            state=state, total_items=total, completed_items=round(total * percent / 100), percent=percent,
            details={"pool_status": pool.get("status"), "last_close_reason": pool.get("last_close_reason"),
                     "submitted_assignments": values.get("submitted_assignments_count")},
        )

    # ---- items --------------------------------------------------------------------------------

    def add_items(self, job_id: str, spec: JobSpec, items: Iterable[Item], *,
                  on_progress: ProgressCallback | None = None) -> UploadReport:
        suites = Context(spec, self.settings.now()).task_suites
        builder = TaskBuilder(job_id, spec.overlap)
        return self._upload(job_id, items, builder, suites=suites, batch_size=spec.batch_size,
                            check_existing=True, on_progress=on_progress)

    def _chunk_size(self, spec: JobSpec, suites: bool) -> int:
        size = self.settings.upload_chunk_size
        return max(spec.batch_size, size - size % spec.batch_size) if suites else size

    def existing_keys(self, pool_id: str, *, suites: bool = False) -> set[str]:
        """Item keys already uploaded to a pool (read from the hidden ``_key`` input)."""
        keys: set[str] = set()
        for obj in self.api.iter_tasks(pool_id, suites=suites):
            for task in obj.get("tasks", []) if suites else [obj]:
                key = (task.get("input_values") or {}).get(KEY_FIELD)
                if key:
                    keys.add(key)
        return keys

    def _upload(self, pool_id: str, items: Iterable[Item], builder: TaskBuilder, *, suites: bool, batch_size: int,
                check_existing: bool, on_progress: ProgressCallback | None = None) -> UploadReport:
        report = UploadReport()
        existing = self.existing_keys(pool_id, suites=suites) if check_existing else set()
        size = self.settings.upload_chunk_size
        if suites:
            size = max(batch_size, size - size % batch_size)
        offset = 0
        for n, chunk in enumerate(chunked(items, size)):
            index_of = {it.key: offset + i for i, it in enumerate(chunk)}
            offset += len(chunk)
            keys = [it.key for it in chunk]
            new = [it for it in chunk if it.key not in existing]
            report.existing += len(chunk) - len(new)
            report.keys.extend(k for k in keys if k in existing)
            if new:
                if suites:
                    payload = [builder.suite(new[i:i + batch_size]) for i in range(0, len(new), batch_size)]
                else:
                    payload = [builder.task(it) for it in new]
                result, earlier = self._send_chunk(pool_id, keys, dumps(payload), new, index_of, suites)
                if earlier:
                    report.existing += len(result.created)
                else:
                    report.created += len(result.created)
                report.keys.extend(result.created)
                report.errors.extend(result.errors)
                existing.update(result.created)
            log.info("pool %s: chunk %d: %d item(s), %d new, %d error(s) so far", pool_id, n + 1, len(chunk),
                     len(new), len(report.errors))
            if on_progress is not None:
                on_progress(len(chunk))
        return report

    def _send_chunk(self, pool_id: str, keys: list[str], body: bytes, sent: list[Item], index_of: dict[str, int],
                    suites: bool) -> tuple[ChunkResult, bool]:
        """Upload one chunk under its operation id; (result, whether an earlier run had sent it)."""
        for attempt in range(MAX_UPLOAD_ATTEMPTS):
            op_id = operation_id(pool_id, keys, attempt)
            earlier = False
            try:
                op = self.api.create_tasks_async(body, op_id, suites=suites)
            except ConflictError as exc:
                if exc.code != "OPERATION_ALREADY_EXISTS":
                    raise
                log.info("operation %s exists (an earlier run sent this chunk): reading it", op_id)
                op, earlier = self.api.get_operation(op_id), True
            op = self.api.wait_operation(op)
            failed = op.get("status") == "FAIL"
            if failed and earlier:
                log.warning("earlier upload %s of this chunk failed; sending it again as a new operation", op_id)
                continue
            entries = self.api.operation_log(op_id)
            return read_log(entries, sent, index_of, op_id, failed=failed, details=op.get("details")), earlier
        raise OperationFailedError(f"pool {pool_id}: a chunk failed {MAX_UPLOAD_ATTEMPTS} times", backend=BACKEND)

    # ---- answers and review -------------------------------------------------------------------

    def iter_answers(self, job_id: str, spec: JobSpec | None) -> Iterator[Mapping[str, Any]]:
        """Every assignment of the pool in every status, as neutral answer records."""
        if spec is not None:
            fields = [f.name for f in spec.outputs]
        else:
            pool = self.api.get_pool(job_id)
            project = self.api.get_project(str(pool.get("project_id")))
            fields = list(((project.get("task_spec") or {}).get("output_spec") or {}).keys())
        yield from records(self.api.iter_assignments(job_id), fields)

    def review(self, job_id: str, assignment: str, *, accept: bool, comment: str | None = None) -> None:
        """Accept or reject one assignment (``PATCH /v1/assignments/{id}``); the comment reaches the Toloker."""
        body: dict[str, Any] = {}
        if comment:
            body["public_comment"] = comment
        body["status"] = "ACCEPTED" if accept else "REJECTED"
        self.api.patch_assignment(assignment, body)

    # ---- skills -------------------------------------------------------------------------------

    def list_skills(self, name: str | None = None) -> list[dict[str, Any]]:
        """Skills of the requester (all pages), optionally only those with this exact name."""
        return [s for s in self.api.iter_skills(name) if name is None or s.get("name") == name]

    def create_skill(self, name: str, *, description: str | None = None, hidden: bool = True,
                     private_comment: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "hidden": hidden}
        if description:
            body["public_requester_description"] = {"EN": description}
        if private_comment:
            body["private_comment"] = private_comment
        return self.api.create_skill(body)

    def resolve_skill(self, name: str) -> str:
        """The id of the skill called ``name``: an existing one, else a new hidden skill."""
        found = [s for s in self.list_skills(name) if not s.get("deprecated")]
        if found:
            return str(_id(found[0], "skill"))
        skill = self.create_skill(name)
        log.info("created Toloka skill %r (%s)", name, skill.get("id"))
        return str(_id(skill, "skill"))

    def update_skill(self, skill_id: str, **changes: Any) -> dict[str, Any]:
        """Change a skill (``PUT`` of its editable fields only, unlike toloka-kit's full echo)."""
        editable = ("name", "private_comment", "hidden", "skill_ttl_hours", "training", "public_name",
                    "public_requester_description")
        unknown = sorted(set(changes) - set(editable))
        if unknown:
            raise ValueError(f"update_skill: cannot change {unknown}; editable fields are {list(editable)}")
        current = self.api.get_skill(skill_id)
        body = {k: current[k] for k in editable if current.get(k) is not None}
        body.update(changes)
        return self.api.update_skill(skill_id, body)

    def set_user_skill(self, skill_id: str, user_id: str, value: float, *, reason: str | None = None
                       ) -> dict[str, Any]:
        """Set a Toloker's skill value (0-100)."""
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
            raise ValueError(f"value: expected a number from 0 to 100, got {value!r}")
        body: dict[str, Any] = {"skill_id": str(skill_id), "user_id": user_id, "value": value}
        if reason:
            body["reason"] = reason
        return self.api.set_user_skill(body)

    def delete_user_skill(self, user_skill_id: str) -> None:
        self.api.delete_user_skill(user_skill_id)


def _id(obj: Mapping[str, Any], what: str) -> Any:
    if not obj.get("id"):
        raise MalformedResponseError(f"{what}: created object has no 'id'", backend=BACKEND)
    return obj["id"]


__all__ = ["ItemError", "TolokaBackend", "job_state"]
