"""``TolokaBackend``: the neutral job model on Toloka projects and pools, over the REST API.

A job is one pool; its id is the pool id, from which the project (``pool.project_id``), the
training pool (``quality_control.training_requirement``) and the spec (``pool.metadata``) are all
found again. A job key is stored in the metadata of the project, training pool and pool (``keys``),
so a rerun finds what its first run made and creates only what is missing. Everything a spec needs
is compiled into request bodies first (``compile``), so a spec Toloka cannot run is refused before
the first request, and ``plan`` shows exactly the bodies ``create_job`` would send.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from annotate_core.backend import Backend, JobState, PlannedOperation, PlanWarning, Progress, ProgressCallback
from annotate_core.capabilities import Capability
from annotate_core.errors import (
    ConflictError,
    ItemsRejectedError,
    JobStateError,
    MalformedResponseError,
    SpecError,
    VendorError,
)
from annotate_core.http import HttpClient
from annotate_core.items import Item, UploadReport, validate_item
from annotate_core.model.spec import JobSpec
from annotate_toloka.api import TolokaApi, unknown_outcome
from annotate_toloka.compile import Compiled, compile_spec
from annotate_toloka.context import POOL_ID, PROJECT_ID, TRAINING_ID, Context, bind, skill_placeholder
from annotate_toloka.keys import check_fingerprint, first_with_key, key_metadata, tagged
from annotate_toloka.plan_warnings import plan_warnings
from annotate_toloka.pool import SPEC_METADATA_KEY, webhook_bodies
from annotate_toloka.results import add_assignment, records
from annotate_toloka.settings import Settings
from annotate_toloka.skills import SkillsMixin, object_id
from annotate_toloka.tasks import TaskBuilder
from annotate_toloka.upload import chunk_size_for, existing_keys, upload
from annotate_toloka.wire import ACT_UNDER_HEADER, BACKEND, parse_datetime, parse_error, quota_wait, require

if TYPE_CHECKING:  # pandas loads when answers are read
    import pandas as pd

log = logging.getLogger(__name__)

UPLOAD_QUERY = "async_mode=true&allow_defaults=true&skip_invalid_items=true"
#: one analytics call per progress(): completion, size, work done and the money spent (USD, fees included)
ANALYTICS = ("completion_percentage", "real_tasks_count", "submitted_assignments_count", "spent_budget")
PLATFORM_URL = "https://platform.toloka.ai/requester/project/{project}/pool/{pool}"
#: pool statuses ``list_jobs`` reads. ARCHIVED is left out: archiving is how a Toloka job is put away
#: (``archive``, or the platform's own archiving of long-closed pools), so users expect ``annotate jobs``
#: to show the live ones, as the platform's pool list does. ``status`` takes one value per request, so
#: these are one listing each rather than one unfiltered listing filtered here: an old account's pools
#: are mostly archived, and every listed pool carries its whole metadata (our stored spec), which would
#: all be downloaded only to be dropped.
LISTED_POOL_STATUSES = ("OPEN", "CLOSED", "LOCKED")


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


def in_review_sample(pool_id: str, assignment_id: str, fraction: float) -> bool:
    """Whether an assignment falls in a pool's review sample: a hash, the same in every process."""
    digest = hashlib.sha256(f"{pool_id}\x1f{assignment_id}\x1freview".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


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


class TolokaBackend(SkillsMixin, Backend):
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
        Capability.WEBHOOKS, Capability.SKILLS, Capability.JOB_KEYS,
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
    remote: ClassVar[bool] = True
    rate_limited: ClassVar[bool] = True  # Toloka throttles (429, daily quotas) and validates bodies
    validates_on_server: ClassVar[bool] = True

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
                                  operation_timeout=s.operation_timeout, page_size=s.page_size,
                                  retries=s.retries, backoff_factor=s.backoff_factor)
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
        if c.training is not None and spec.training is not None:  # both or neither (pool.training_body)
            ops.append(PlannedOperation("POST /v1/trainings", "training pool; Tolokers must pass it with "
                                        f"{spec.training.passing_score:g}% to work in the pool", c.training))
            ops.append(PlannedOperation(
                f"POST /v1/tasks?{UPLOAD_QUERY}&operation_id=<uuid5({TRAINING_ID}, item keys)>",
                f"{len(c.training_tasks)} training task(s) with known answers and hints, then poll the operation "
                "and read its log", c.training_tasks))
        notes = "".join(f"; note: {n}" for n in c.notes)
        golden = getattr(spec.distribution, "golden_per_batch", 0)
        suite = f"{spec.batch_size} item(s)" + (f" + {golden} golden" if golden else "") + " per task suite"
        reward = f" at {spec.pricing.reward_per_batch:g} USD" if spec.pricing else ""
        ops.append(PlannedOperation("POST /v1/pools", f"pool: {suite}{reward}, overlap {spec.overlap.count}"
                                    f"{notes}", c.pool))
        if c.webhooks:
            ops.append(PlannedOperation("PUT /v1/webhook-subscriptions",
                                        f"{len(c.webhooks)} webhook subscription(s) on the pool", c.webhooks))
        if n_items:
            ops.extend(self._plan_upload(spec, c, n_items))
        if c.training is not None:
            ops.append(PlannedOperation(f"POST /v1/trainings/{TRAINING_ID}/open", "open the training pool"))
        ops.append(PlannedOperation(f"POST /v1/pools/{POOL_ID}/open", "open the pool to Tolokers (job.start)"))
        return ops

    def warnings(self, spec: JobSpec, n_items: int | None = None) -> list[PlanWarning]:
        """Where the pool changes what the spec says (``plan_warnings`` holds the decisions)."""
        return plan_warnings(spec, self._compile(spec))

    def _plan_upload(self, spec: JobSpec, c: Compiled, n_items: int) -> list[PlannedOperation]:
        size = chunk_size_for(self.settings.upload_chunk_size, spec.batch_size, c.task_suites)
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

    def create_job(self, spec: JobSpec, *, key: str | None = None) -> str:
        """Skills, project, training (with its tasks), pool and webhooks; returns the pool id.

        With ``key``, every object carries the key in its metadata, each one is looked up before it
        is created (a rerun resumes after the last object its first run made: no orphans, nothing
        twice), and a create whose outcome is unknown is looked up before it is sent again.
        """
        c = self._compile(spec)  # refuses before any request
        api = self.api
        tag = key_metadata(key, spec) if key is not None else None
        ids: dict[str, str] = {}
        for name in c.skills:
            ids[skill_placeholder(name)] = self.resolve_skill(name)
        project = self._find_project(key, spec) if key is not None else None
        resumed = project is not None
        if project is None:
            project = api.create_project(tagged(bind(c.project, ids), tag),
                                         find=(lambda: self._find_project(key, spec)) if key is not None else None)
            log.info("created Toloka project %s", project.get("id"))
        else:
            log.info("job key %s: resuming from Toloka project %s", key, project.get("id"))
        ids[PROJECT_ID] = pid = str(object_id(project, "project"))
        if c.training is not None and spec.training is not None:  # both or neither (pool.training_body)
            find_training = (lambda: self._find_in_project("training", pid, key, spec)) if key is not None else None
            training = find_training() if resumed and find_training is not None else None
            existed = training is not None
            if training is None:
                training = api.create_training(tagged(bind(c.training, ids), tag), find=find_training)
                log.info("created Toloka training pool %s", training.get("id"))
            ids[TRAINING_ID] = str(object_id(training, "training"))
            builder = TaskBuilder(ids[TRAINING_ID], spec.overlap, training=True)
            report = self._upload(ids[TRAINING_ID], spec.training.items, builder, suites=False, batch_size=1,
                                  check_existing=existed)
            if report.errors:
                raise ItemsRejectedError(report)
        find_pool = (lambda: self._find_in_project("pool", pid, key, spec)) if key is not None else None
        pool = find_pool() if resumed and find_pool is not None else None
        if pool is None:
            pool = api.create_pool(tagged(bind(c.pool, ids), tag), find=find_pool)
        else:
            log.info("job key %s: Toloka pool %s exists already", key, pool.get("id"))
        ids[POOL_ID] = str(object_id(pool, "pool"))
        if c.webhooks:  # an upsert: sending it again on a resumed create changes nothing
            api.upsert_webhooks(bind(c.webhooks, ids))
        log.info("Toloka pool %s is ready: %s", ids[POOL_ID],
                 PLATFORM_URL.format(project=ids[PROJECT_ID], pool=ids[POOL_ID]))
        return ids[POOL_ID]

    def find_job(self, key: str) -> str | None:
        """The pool created with ``key``: its project found among the account's projects, then the
        pool among the project's pools (both listed to the last page, the key matched here)."""
        project = first_with_key(self.api.iter_projects(), key)
        if project is None:
            return None
        pool = first_with_key(self.api.iter_project_pools(str(object_id(project, "project"))), key)
        if pool is None:
            return None
        if not self._webhooks_subscribed(pool):
            # a run stopped between the pool and its webhook subscriptions: not found yet, so the
            # client's create_job resumes, finds the pool and subscribes
            log.info("job key %s: pool %s has not all its webhooks yet", key, pool.get("id"))
            return None
        return str(object_id(pool, "pool"))

    def _webhooks_subscribed(self, pool: Mapping[str, Any]) -> bool:
        """Whether every subscription the pool's stored spec asks for exists (True without a stored spec)."""
        stored = (pool.get("metadata") or {}).get(SPEC_METADATA_KEY)
        if not stored:
            return True
        try:
            spec = JobSpec.model_validate_json(stored[0])
        except ValueError:
            return True  # get_spec reports an unreadable spec when the client attaches
        if not spec.webhooks:
            return True
        pool_id = str(pool.get("id"))
        wanted = {(h["webhook_url"], h["event_type"]) for h in webhook_bodies(Context(spec, self.settings.now()))}
        have = {(h.get("webhook_url"), h.get("event_type")) for h in self.api.iter_webhooks(pool_id)}
        return wanted <= have

    def _find_project(self, key: str, spec: JobSpec) -> dict[str, Any] | None:
        project = first_with_key(self.api.iter_projects(), key)
        if project is not None:
            check_fingerprint(project, key, spec, "project")
        return project

    def _find_in_project(self, kind: str, project_id: str, key: str, spec: JobSpec) -> dict[str, Any] | None:
        """The training pool or pool of ``project_id`` that carries ``key``."""
        listed = self.api.iter_trainings(project_id) if kind == "training" else self.api.iter_project_pools(project_id)
        found = first_with_key(listed, key)
        if found is not None:
            check_fingerprint(found, key, spec, "training pool" if kind == "training" else "pool")
        return found

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
        """Open the training pool (if any), then the pool; 204 'already open' is fine.

        A closed pool that mixes golden tasks into its suites is opened only when it holds at least
        as many golden tasks as one suite mixes in (``golden_enough``): Toloka would open it and
        hand out nothing.
        """
        pool = self.api.get_pool(job_id)
        if pool.get("status") != "OPEN":
            self.golden_enough(job_id, pool)
        training = training_id_of(pool)
        if training:
            self.api.pool_action(training, "open", training=True)
        self.api.pool_action(job_id, "open")

    def golden_enough(self, job_id: str, pool: Mapping[str, Any]) -> None:
        """Refuse to open a pool whose smart mixing asks for golden tasks it does not have.

        ``distribution.golden_per_batch`` becomes ``mixer_config.golden_tasks_count``; Toloka builds
        every task suite with that many control tasks, so with fewer uploaded it never hands out
        work (its docs: suites must hold their control count). Only the items reveal this, so it is
        checked here, before the pool opens: the pool's tasks are listed until enough golden ones
        (tasks with ``known_solutions``) are seen.
        """
        mixer = pool.get("mixer_config")
        wanted = mixer.get("golden_tasks_count") if isinstance(mixer, dict) else None
        if not isinstance(wanted, int) or wanted <= 0:
            return
        found = 0
        for task in self.api.iter_tasks(job_id):
            if task.get("known_solutions"):
                found += 1
                if found >= wanted:
                    return
        raise JobStateError(
            f"pool {job_id} was not opened: it mixes {wanted} golden item(s) into every task suite "
            f"(distribution.golden_per_batch: {wanted}) but {found} golden item(s) are uploaded, so Toloka "
            f"would hand out no work. Add at least {wanted - found} more item(s) with golden answers "
            "(job.add_items), then start again"
        )

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
        details: dict[str, Any] = {"pool_status": pool.get("status"),
                                   "last_close_reason": pool.get("last_close_reason"),
                                   "submitted_assignments": values.get("submitted_assignments_count")}
        if values.get("spent_budget") is not None:  # what comparisons report as the vendor's own cost
            details["cost"] = {"amount": values["spent_budget"], "currency": "USD"}
        if state.finished:  # read once the crowd is done, not on every poll of a running pool
            details["banned_workers"] = self._banned_workers(pool)
        return Progress(state=state, total_items=total, completed_items=round(total * percent / 100), percent=percent,
                        details=details)

    def _banned_workers(self, pool: Mapping[str, Any]) -> list[str]:
        """Tolokers the pool's rules banned: restrictions scoped to this pool or to its project."""
        found = list(self.api.iter_restrictions("POOL", pool_id=str(pool["id"])))
        if pool.get("project_id"):
            found += self.api.iter_restrictions("PROJECT", project_id=str(pool["project_id"]))
        return sorted({str(r["user_id"]) for r in found if r.get("user_id")})

    # ---- listing ------------------------------------------------------------------------------

    def list_jobs(self) -> list[Mapping[str, Any]]:
        """The pools annotate created on the account and has not archived, oldest first.

        A pool is annotate's when its metadata holds the stored spec (``SPEC_METADATA_KEY``): pools
        made elsewhere, and pools created with ``store_spec = false``, are not listed. Training pools
        live under ``/v1/trainings`` and are no jobs. ``items`` is None: counting them would cost an
        analytics request per pool (``progress`` has the count).
        """
        pools: dict[str, Mapping[str, Any]] = {}
        for status in LISTED_POOL_STATUSES:
            for pool in self.api.iter_pools(status):
                metadata = pool.get("metadata")
                if isinstance(metadata, dict) and metadata.get(SPEC_METADATA_KEY):
                    # keyed by id: a pool whose status changes between two listings is seen twice
                    pools[str(require(pool, "id", "GET /v1/pools item"))] = pool
        rows = []
        for pool_id, listed in pools.items():
            created = parse_datetime(listed.get("created"), f"pool {pool_id}: created")
            rows.append({"id": pool_id, "name": listed.get("private_name"), "state": job_state(listed).value,
                         "created_at": created.isoformat() if created else None, "items": None})
        return sorted(rows, key=lambda r: (r["created_at"] or "", len(r["id"]), r["id"]))

    # ---- items --------------------------------------------------------------------------------

    def add_items(self, job_id: str, spec: JobSpec, items: Iterable[Item], *,
                  on_progress: ProgressCallback | None = None) -> UploadReport:
        suites = Context(spec, self.settings.now()).task_suites
        builder = TaskBuilder(job_id, spec.overlap)
        return self._upload(job_id, items, builder, suites=suites, batch_size=spec.batch_size,
                            check_existing=True, on_progress=on_progress)

    def existing_keys(self, pool_id: str, *, suites: bool = False) -> set[str]:
        """Item keys already uploaded to a pool (read from the hidden ``_key`` input)."""
        return existing_keys(self.api, pool_id, suites=suites)

    def _upload(self, pool_id: str, items: Iterable[Item], builder: TaskBuilder, *, suites: bool, batch_size: int,
                check_existing: bool, on_progress: ProgressCallback | None = None) -> UploadReport:
        return upload(self.api, pool_id, items, builder, chunk_size=self.settings.upload_chunk_size, suites=suites,
                      batch_size=batch_size, check_existing=check_existing, on_progress=on_progress)

    # ---- answers and review -------------------------------------------------------------------

    def _output_fields(self, job_id: str, spec: JobSpec | None) -> list[str]:
        if spec is not None:
            return [f.name for f in spec.outputs]
        pool = self.api.get_pool(job_id)
        project = self.api.get_project(str(pool.get("project_id")))
        return list(((project.get("task_spec") or {}).get("output_spec") or {}).keys())

    def iter_answers(self, job_id: str, spec: JobSpec | None) -> Iterator[Mapping[str, Any]]:
        """Every assignment of the pool in every status, as neutral answer records."""
        yield from records(self.api.iter_assignments(job_id), self._output_fields(job_id, spec))

    def iter_answer_frames(self, job_id: str, spec: JobSpec | None) -> Iterator[pd.DataFrame]:
        """The columnar path ``Job.answers`` prefers: the frame ``iter_answers`` would give, one frame
        per page of assignments as it arrives (the same requests, no dict per answer)."""
        from annotate_core.answers import AnswerColumns

        fields = self._output_fields(job_id, spec)
        columns = AnswerColumns([f.name for f in spec.inputs] if spec else [])
        for page in self.api.iter_assignment_pages(job_id):
            for a in page:
                add_assignment(columns, a, fields)
            del page
            yield columns.frame()

    def accept_unsampled(self, job_id: str, fraction: float | None = None) -> list[str]:
        """Honour ``review.fraction`` from the requester's side: accept every submitted assignment
        outside the review sample now, and return the ids of those in it, to review with ``job.review``.

        Toloka has no server-side review sample (see ``plan_warnings``): with manual acceptance
        every assignment waits, and Tolokers wait for pay, until ``auto_accept_period_day``. The
        sample is a hash of the pool and assignment ids (``in_review_sample``), so every call, in any
        process, draws the same one. ``fraction`` defaults to the stored spec's ``review.fraction``.
        """
        if fraction is None:
            spec = self.get_spec(job_id)
            if spec is None or spec.review is None:
                raise JobStateError(f"pool {job_id}: no review fraction (the pool's stored spec has no review): "
                                    "pass fraction=")
            fraction = spec.review.fraction
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction: expected a share in (0, 1], got {fraction!r}")
        submitted = [str(require(a, "id", "assignment")) for a in self.api.iter_assignments(job_id, "SUBMITTED")]
        sample = [a for a in submitted if in_review_sample(job_id, a, fraction)]
        for assignment in submitted:
            if assignment not in sample:
                self.review(job_id, assignment, accept=True)
        log.info("pool %s: accepted %d submitted assignment(s) outside the %.0f%% review sample; %d to review",
                 job_id, len(submitted) - len(sample), fraction * 100, len(sample))
        return sample

    def review_sample(self, job_id: str) -> list[str]:
        """``Job.review_sample``: ``accept_unsampled`` with the stored spec's review fraction."""
        return self.accept_unsampled(job_id)

    def review(self, job_id: str, assignment: str, *, accept: bool, comment: str | None = None) -> None:
        """Accept or reject one assignment (``PATCH /v1/assignments/{id}``); the comment reaches the Toloker."""
        body: dict[str, Any] = {}
        if comment:
            body["public_comment"] = comment
        target = body["status"] = "ACCEPTED" if accept else "REJECTED"
        api = self.api
        for attempt in range(api.retries + 1):
            try:
                api.patch_assignment(assignment, body)
                return
            except VendorError as exc:
                # a PATCH is not repeated blindly: after an unknown outcome, or a refusal (409) that a
                # review already done would also get, the assignment's status says whether it is done
                unknown = unknown_outcome(exc)
                if not (unknown or isinstance(exc, ConflictError)) or attempt == api.retries:
                    raise
                if api.get_assignment(assignment).get("status") == target:
                    log.info("assignment %s is %s already", assignment, target)
                    return
                if not unknown:
                    raise
                api.backoff(attempt)


__all__ = ["TolokaBackend", "in_review_sample", "job_state", "training_id_of"]
