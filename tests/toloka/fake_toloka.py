"""A stateful fake of the Toloka REST API, for the fault harness (``annotate_core.testing.faults``).

``FakeToloka.handle(method, target, headers, body)`` answers like Toloka does, in the wire shapes of
``shared/reference/toloka-api.md`` and Toloka's API documentation (the same shapes the cassettes
use), for everything one job needs: projects, training pools, pools (create, get, list, open, close,
archive), tasks uploaded as async operations, operations and their logs, assignments (list, get,
accept/reject), pool analytics, skills, webhook subscriptions and user restrictions.

It is no kinder than the real API, or the harness would prove nothing:

* no deduplication Toloka does not promise: two ``POST /v1/pools`` with the same body make two
  pools, two ``POST /v1/projects`` two projects. The one promise is ``operation_id`` on async
  uploads: a reused id creates nothing and is answered ``409 OPERATION_ALREADY_EXISTS`` (Toloka's
  docs: the id is there "to avoid creating the operation multiple times"; the 409 and its code are
  what toloka-kit handles, ``error_codes.py`` and ``_async_create_objects_idempotent``);
* real keyset paging: ``limit`` defaults to Toloka's documented page sizes and is capped at its
  maxima, ``has_more`` is true while objects remain, and only ``sort=id`` + ``id_gt`` pages in a
  stable order (without ``sort`` the order is not the id order);
* operations are asynchronous: one started by a request finishes when the *next* request arrives
  (whatever it is), so a client that reads the POST's reply sees it ``RUNNING``/``PENDING``;
* no filters Toloka does not document (``metadata`` cannot be filtered on); ``project_id`` and
  ``status`` filter pools and training pools, ``status`` projects, ``pool_id`` tasks and
  assignments;
* tasks are validated against the project's ``input_spec`` (required fields, unknown fields) and
  need an overlap (their own, or the pool's default with ``allow_defaults=true``); opening a pool
  without tasks is ``409 EMPTY_POOL``; an open pool is ``204`` to open again, a closed one to close.

The crowd is simulated by ``answer_pool`` (vendor side, no HTTP): every open pool's tasks get
submitted assignments up to their overlap.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from annotate_toloka import TolokaBackend
from pydantic import SecretStr

from annotate_core.testing.faults import FaultyServer, FaultyVendor

Json = dict[str, Any]
Reply = tuple[int, dict[str, str], bytes]

OWNER = {"id": "6c6c50dce62ca4aef87dfcbc6e9de162", "myself": True, "company_id": "1"}
JSON_HEADERS = {"Content-Type": "application/json"}
#: (default, maximum) page sizes per list endpoint (toloka-kit docstrings, Toloka's list pages)
PAGE_SIZES = {"projects": (20, 300), "pools": (20, 300), "trainings": (20, 300), "tasks": (50, 100_000),
              "assignments": (50, 100_000), "skills": (20, 100), "user-restrictions": (20, 500)}
T0 = datetime(2026, 1, 15, 12, 0, 0)


class ApiError(Exception):
    """An error reply: status, Toloka's code, message and optional payload."""

    def __init__(self, status: int, code: str, message: str, payload: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.payload = status, code, message, payload


def _stamp(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds")


class FakeToloka:
    """One requester account. Thread-safe: the harness server answers on several threads."""

    def __init__(self, token: str = "fake-toloka-api-key-for-the-fault-harness") -> None:
        self.token = token
        self._lock = threading.RLock()
        self._n = 0
        self._clock = T0
        self.projects: dict[str, Json] = {}
        self.trainings: dict[str, Json] = {}
        self.pools: dict[str, Json] = {}
        self.tasks: dict[str, Json] = {}
        self.operations: dict[str, Json] = {}
        self.logs: dict[str, list[Json]] = {}
        self.assignments: dict[str, Json] = {}
        self.skills: dict[str, Json] = {}
        self.webhooks: dict[str, Json] = {}
        #: what each POST created through the API, by kind (objects seeded directly are not counted)
        self.created: Counter[str] = Counter()
        self._pending: list[Callable[[], None]] = []

    # ---- plumbing ---------------------------------------------------------------------------------

    def _next(self, width: int, base: int = 0) -> str:
        self._n += 1
        return str(base + self._n).zfill(width)

    def _now(self) -> str:
        self._clock += timedelta(seconds=1)
        return _stamp(self._clock)

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        with self._lock:
            self._finish_operations()  # whatever ran in the background is done by the next request
            auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
            if auth not in (f"ApiKey {self.token}", f"OAuth {self.token}"):
                return self._reply(401, {"code": "AUTHENTICATION_ERROR", "message": "Invalid token"})
            parts = urlsplit(target)
            path = parts.path[4:] if parts.path.startswith("/api/") else parts.path
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            try:
                data = json.loads(body) if body else None
            except ValueError:
                return self._reply(400, {"code": "VALIDATION_ERROR", "message": "Request body is not JSON"})
            try:
                status, answer = self._route(method, path.rstrip("/"), query, data)
            except ApiError as err:
                error: Json = {"request_id": str(uuid.uuid4()), "code": err.code, "message": err.message}
                if err.payload is not None:
                    error["payload"] = err.payload
                return self._reply(err.status, error)
            return self._reply(status, answer)

    @staticmethod
    def _reply(status: int, answer: Any) -> Reply:
        if status == 204 or answer is None:
            return status, {}, b""
        return status, dict(JSON_HEADERS), json.dumps(answer).encode()

    def _route(self, method: str, path: str, q: dict[str, str], data: Any) -> tuple[int, Any]:
        seg = path.strip("/").split("/")
        if seg[:1] == ["staging"] and seg[1:] == ["analytics-2"] and method == "POST":
            return self._analytics(data)
        if seg[:1] != ["v1"] or len(seg) < 2:
            raise ApiError(404, "DOES_NOT_EXIST", f"no such endpoint {path}")
        kind, rest = seg[1], seg[2:]
        table: dict[tuple[str, str, int], Callable[..., tuple[int, Any]]] = {
            ("POST", "projects", 0): self._create_project, ("GET", "projects", 0): self._list_projects,
            ("GET", "projects", 1): self._get_project, ("POST", "projects", 2): self._project_action,
            ("POST", "trainings", 0): self._create_training, ("GET", "trainings", 0): self._list_trainings,
            ("GET", "trainings", 1): self._get_training, ("POST", "trainings", 2): self._training_action,
            ("POST", "pools", 0): self._create_pool, ("GET", "pools", 0): self._list_pools,
            ("GET", "pools", 1): self._get_pool, ("POST", "pools", 2): self._pool_action,
            ("POST", "tasks", 0): self._create_tasks, ("GET", "tasks", 0): self._list_tasks,
            ("GET", "tasks", 1): self._get_task,
            ("GET", "operations", 1): self._get_operation, ("GET", "operations", 2): self._operation_log,
            ("GET", "assignments", 0): self._list_assignments, ("GET", "assignments", 1): self._get_assignment,
            ("PATCH", "assignments", 1): self._patch_assignment,
            ("GET", "skills", 0): self._list_skills, ("POST", "skills", 0): self._create_skill,
            ("GET", "skills", 1): self._get_skill,
            ("PUT", "webhook-subscriptions", 0): self._upsert_webhooks,
            ("GET", "user-restrictions", 0): self._list_restrictions,
        }
        handler = table.get((method, kind, len(rest)))
        if handler is None or (kind == "operations" and len(rest) == 2 and rest[1] != "log"):
            raise ApiError(404, "DOES_NOT_EXIST", f"no such endpoint {method} {path}")
        return handler(q, data, *rest)

    # ---- listing ----------------------------------------------------------------------------------

    @staticmethod
    def _page(kind: str, objects: Iterable[Json], q: dict[str, str]) -> tuple[int, Json]:
        """One page of a keyset listing: ``sort=id`` orders by id, ``id_gt`` starts after an id."""
        default, most = PAGE_SIZES[kind]
        try:
            limit = min(int(q.get("limit", default)), most)
        except ValueError:
            raise ApiError(400, "VALIDATION_ERROR", "limit must be an integer", {"limit": {
                "code": "INVALID_VALUE", "message": "must be an integer"}}) from None
        if limit < 1:
            raise ApiError(400, "VALIDATION_ERROR", "limit must be positive")
        ordered = sorted(objects, key=lambda o: o["id"])
        if q.get("sort") not in (None, "id"):
            raise ApiError(400, "VALIDATION_ERROR", f"the fake sorts by id only, not {q['sort']!r}")
        if q.get("sort") is None:  # Toloka promises no order then: not the id order here
            ordered = ordered[1::2] + ordered[0::2]
        if "id_gt" in q:
            ordered = [o for o in ordered if o["id"] > q["id_gt"]]
        return 200, {"items": ordered[:limit], "has_more": len(ordered) > limit}

    @staticmethod
    def _where(objects: Iterable[Json], q: dict[str, str], *fields: str) -> list[Json]:
        return [o for o in objects if all(f not in q or str(o.get(f)) == q[f] for f in fields)]

    # ---- projects ---------------------------------------------------------------------------------

    def _create_project(self, q: dict[str, str], data: Any) -> tuple[int, Any]:
        body = self._object_body(data)
        problems = {f: {"code": "VALUE_REQUIRED", "message": "Value must be present and not equal to null"}
                    for f in ("public_name", "public_description", "task_spec") if not body.get(f)}
        spec = body.get("task_spec") or {}
        if body.get("task_spec") and not isinstance(spec.get("input_spec"), dict):
            problems["task_spec.input_spec"] = {"code": "VALUE_REQUIRED", "message": "input_spec is required"}
        self._metadata_ok(body, problems)
        if problems:
            raise ApiError(400, "VALIDATION_ERROR", "Validation failed", problems)
        project = {**body, "id": self._next(6, 120_000), "status": "ACTIVE", "created": self._now(), "owner": OWNER}
        self.projects[project["id"]] = project
        self.created["project"] += 1
        return 201, project

    def _list_projects(self, q: dict[str, str], data: Any) -> tuple[int, Any]:
        return self._page("projects", self._where(self.projects.values(), q, "status"), q)

    def _get_project(self, q: dict[str, str], data: Any, pid: str) -> tuple[int, Any]:
        return 200, self._find(self.projects, pid)

    def _project_action(self, q: dict[str, str], data: Any, pid: str, action: str) -> tuple[int, Any]:
        project = self._find(self.projects, pid)
        if action != "archive":
            raise ApiError(404, "DOES_NOT_EXIST", f"no such action {action}")
        if project["status"] == "ARCHIVED":
            return 204, None
        if any(p["project_id"] == pid and p["status"] != "ARCHIVED" for p in self.pools.values()):
            raise ApiError(409, "INAPPROPRIATE_STATUS", "The project has pools that are not archived")
        return self._operation("PROJECT.ARCHIVE", {"project_id": pid},
                               lambda: project.update(status="ARCHIVED"))

    # ---- trainings and pools ----------------------------------------------------------------------

    def _create_training(self, q: dict[str, str], data: Any) -> tuple[int, Any]:
        body = self._object_body(data)
        problems = self._pool_problems(body, ("project_id", "private_name", "may_contain_adult_content",
                                              "training_tasks_in_task_suite_count"))
        if problems:
            raise ApiError(400, "VALIDATION_ERROR", "Validation failed", problems)
        training = {**body, "id": self._next(8, 36_500_000), "status": "CLOSED", "created": self._now(),
                    "owner": OWNER}
        self.trainings[training["id"]] = training
        self.created["training"] += 1
        return 201, training

    def _list_trainings(self, q: dict[str, str], data: Any) -> tuple[int, Any]:
        return self._page("trainings", self._where(self.trainings.values(), q, "project_id", "status"), q)

    def _get_training(self, q: dict[str, str], data: Any, tid: str) -> tuple[int, Any]:
        return 200, self._find(self.trainings, tid)

    def _training_action(self, q: dict[str, str], data: Any, tid: str, action: str) -> tuple[int, Any]:
        return self._action(self._find(self.trainings, tid), action, "TRAINING", {"training_id": tid})

    def _create_pool(self, q: dict[str, str], data: Any) -> tuple[int, Any]:
        body = self._object_body(data)
        problems = self._pool_problems(body, ("project_id", "private_name", "may_contain_adult_content",
                                              "reward_per_assignment", "assignment_max_duration_seconds",
                                              "will_expire"))
        if problems:
            raise ApiError(400, "VALIDATION_ERROR", "Validation failed", problems)
        pool = {**body, "id": self._next(8, 36_500_000), "type": "REGULAR", "status": "CLOSED",
                "created": self._now(), "owner": OWNER}
        self.pools[pool["id"]] = pool
        self.created["pool"] += 1
        return 201, pool

    def _list_pools(self, q: dict[str, str], data: Any) -> tuple[int, Any]:
        return self._page("pools", self._where(self.pools.values(), q, "project_id", "status"), q)

    def _get_pool(self, q: dict[str, str], data: Any, pid: str) -> tuple[int, Any]:
        return 200, self._find(self.pools, pid)

    def _pool_action(self, q: dict[str, str], data: Any, pid: str, action: str) -> tuple[int, Any]:
        return self._action(self._find(self.pools, pid), action, "POOL", {"pool_id": pid})

    def _action(self, pool: Json, action: str, kind: str, params: Json) -> tuple[int, Any]:
        """Open / close / archive: 204 when already there, 409 when not allowed, else an operation."""
        status = pool["status"]
        if action == "open":
            if status == "OPEN":
                return 204, None
            if status in ("ARCHIVED", "LOCKED"):
                raise ApiError(409, "INAPPROPRIATE_STATUS",
                               "This or related resource is in inappropriate status, operation is not allowed",
                               {"appropriate_statuses": ["CLOSED"]})
            if not any(t["pool_id"] == pool["id"] for t in self.tasks.values()):
                raise ApiError(409, "EMPTY_POOL", "Pool contains no tasks. Operation is not allowed")

            def opened() -> None:
                pool.update(status="OPEN", last_started=self._now())
            return self._operation(f"{kind}.OPEN", params, opened)
        if action == "close":
            if status in ("CLOSED", "ARCHIVED"):
                return 204, None

            def closed() -> None:
                pool.update(status="CLOSED", last_stopped=self._now(), last_close_reason="MANUAL")
            return self._operation(f"{kind}.CLOSE", params, closed)
        if action == "archive":
            if status == "ARCHIVED":
                return 204, None
            if status != "CLOSED":
                raise ApiError(409, "INAPPROPRIATE_STATUS", "Only a closed pool can be archived",
                               {"appropriate_statuses": ["CLOSED"]})
            return self._operation(f"{kind}.ARCHIVE", params, lambda: pool.update(status="ARCHIVED"))
        raise ApiError(404, "DOES_NOT_EXIST", f"no such action {action}")

    def _pool_problems(self, body: Json, required: tuple[str, ...]) -> Json:
        problems: Json = {f: {"code": "VALUE_REQUIRED", "message": "Value must be present and not equal to null"}
                          for f in required if body.get(f) is None}
        project = self.projects.get(str(body.get("project_id")))
        if body.get("project_id") is not None and (project is None or project["status"] != "ACTIVE"):
            problems["project_id"] = {"code": "INVALID_VALUE", "message": "Project does not exist or is archived"}
        self._metadata_ok(body, problems)
        return problems

    @staticmethod
    def _metadata_ok(body: Json, problems: Json) -> None:
        metadata = body.get("metadata")
        if metadata is None:
            return
        if not isinstance(metadata, dict) or not all(
                isinstance(v, list) and all(isinstance(s, str) for s in v) for v in metadata.values()):
            problems["metadata"] = {"code": "INVALID_VALUE", "message": "metadata maps strings to lists of strings"}

    @staticmethod
    def _object_body(data: Any) -> Json:
        if not isinstance(data, dict):
            raise ApiError(400, "VALIDATION_ERROR", "Expected a JSON object")
        readonly = ("id", "status", "created", "owner", "type", "last_started", "last_stopped", "last_close_reason")
        return {k: v for k, v in data.items() if k not in readonly}

    @staticmethod
    def _find(table: dict[str, Json], object_id: str) -> Json:
        if object_id not in table:
            raise ApiError(404, "DOES_NOT_EXIST", "Object does not exist")
        return table[object_id]

    # ---- operations -------------------------------------------------------------------------------

    def _operation(self, op_type: str, params: Json, effect: Callable[[], Json | None],
                   op_id: str | None = None, details: Json | None = None) -> tuple[int, Any]:
        """Start an operation that finishes (applying ``effect``) when the next request comes."""
        op = {"id": op_id or str(uuid.uuid4()), "type": op_type, "status": "PENDING", "submitted": self._now(),
              "parameters": params}
        if details is not None:
            op["details"] = details
        self.operations[op["id"]] = op
        self.logs[op["id"]] = []

        def finish() -> None:
            result = effect()
            op.update(status="FAIL" if result is not None and result.pop("_failed", False) else "SUCCESS",
                      started=op["submitted"], finished=self._now(), progress=100)
            if result:
                op["details"] = result
        self._pending.append(finish)
        return 202, dict(op)

    def _finish_operations(self) -> None:
        pending, self._pending = self._pending, []
        for finish in pending:
            finish()

    def _get_operation(self, q: dict[str, str], data: Any, op_id: str) -> tuple[int, Any]:
        return 200, self._find(self.operations, op_id)

    def _operation_log(self, q: dict[str, str], data: Any, op_id: str, _log: str) -> tuple[int, Any]:
        self._find(self.operations, op_id)
        return 200, self.logs[op_id]

    # ---- tasks ------------------------------------------------------------------------------------

    def _create_tasks(self, q: dict[str, str], data: Any) -> tuple[int, Any]:
        if q.get("async_mode") != "true":
            raise ApiError(400, "VALIDATION_ERROR", "the fake serves async_mode=true uploads only")
        op_id = q.get("operation_id") or str(uuid.uuid4())
        try:
            uuid.UUID(op_id)
        except ValueError:
            raise ApiError(400, "VALIDATION_ERROR", "operation_id must be an RFC 4122 UUID", {
                "operation_id": {"code": "INVALID_VALUE", "message": "not a UUID"}}) from None
        if op_id in self.operations:
            raise ApiError(409, "OPERATION_ALREADY_EXISTS", "Operation with this id already exists")
        if not isinstance(data, list):
            raise ApiError(400, "VALIDATION_ERROR", "Expected a JSON array of tasks")
        tasks = list(data)
        skip_invalid = q.get("skip_invalid_items") == "true"
        allow_defaults = q.get("allow_defaults") == "true"
        params = {"skip_invalid_items": skip_invalid, "allow_defaults": allow_defaults,
                  "open_pool": q.get("open_pool") == "true"}

        def run() -> Json:
            checked = [(t, self._task_problems(t, allow_defaults)) for t in tasks]
            log = self.logs[op_id]
            invalid = [t for t, p in checked if p]
            if invalid and not skip_invalid:
                log.extend({"type": "TASK_VALIDATE", "success": False, "input": t, "output": p}
                           for t, p in checked if p)
                return {"_failed": True, "total_count": len(tasks), "valid_count": len(tasks) - len(invalid),
                        "not_valid_count": len(invalid), "success_count": 0, "failed_count": len(tasks)}
            for task, problems in checked:
                if problems:
                    log.append({"type": "TASK_VALIDATE", "success": False, "input": task, "output": problems})
                    continue
                stored = self._store_task(task, allow_defaults)
                log.append({"type": "TASK_CREATE", "success": True, "input": task,
                            "output": {"task_id": stored["id"]}})
            return {"total_count": len(tasks), "valid_count": len(tasks) - len(invalid),
                    "not_valid_count": len(invalid), "success_count": len(tasks) - len(invalid),
                    "failed_count": len(invalid)}
        return self._operation("TASK.BATCH_CREATE", params, run, op_id, {"items_count": len(tasks)})

    def _task_problems(self, task: Any, allow_defaults: bool) -> Json:
        if not isinstance(task, dict):
            return {"code": "VALIDATION_ERROR", "message": "a task is a JSON object"}
        pool_id = str(task.get("pool_id"))
        pool = self.pools.get(pool_id) or self.trainings.get(pool_id)
        if pool is None:
            return {"pool_id": {"code": "DOES_NOT_EXIST", "message": "Pool does not exist"}}
        if pool["status"] == "ARCHIVED":
            return {"pool_id": {"code": "INAPPROPRIATE_STATUS", "message": "Pool is archived"}}
        spec = (self.projects[str(pool["project_id"])].get("task_spec") or {}).get("input_spec") or {}
        values = task.get("input_values")
        if not isinstance(values, dict):
            return {"input_values": {"code": "VALUE_REQUIRED", "message": "Value must be present"}}
        problems: Json = {}
        for name in values:
            if name not in spec:
                problems[f"input_values.{name}"] = {"code": "VALUE_NOT_ALLOWED", "message": "Unknown field name"}
        for name, field in spec.items():
            if field.get("required") and values.get(name) is None:
                problems[f"input_values.{name}"] = {"code": "VALUE_REQUIRED",
                                                    "message": "Value must be present and not equal to null"}
        if not task.get("infinite_overlap") and task.get("overlap") is None and not (
                allow_defaults and (pool.get("defaults") or {}).get("default_overlap_for_new_tasks")):
            if pool_id in self.pools:  # a training task answers as often as Tolokers take it
                problems["overlap"] = {"code": "VALUE_REQUIRED", "message": "overlap is required"}
        return problems

    def _store_task(self, task: Json, allow_defaults: bool) -> Json:
        pool_id = str(task["pool_id"])
        pool = self.pools.get(pool_id) or self.trainings[pool_id]
        stored = {k: v for k, v in task.items() if k not in ("id", "created", "remaining_overlap")}
        stored["id"] = f"00022c1a86--6644{int(self._next(1)):020x}"
        if not task.get("infinite_overlap"):
            overlap = task.get("overlap")
            if overlap is None:
                overlap = (pool.get("defaults") or {}).get("default_overlap_for_new_tasks") or 1
            stored.update(overlap=overlap, infinite_overlap=False, remaining_overlap=overlap)
        stored["created"] = self._now()
        self.tasks[stored["id"]] = stored
        return stored

    def _list_tasks(self, q: dict[str, str], data: Any) -> tuple[int, Any]:
        return self._page("tasks", self._where(self.tasks.values(), q, "pool_id"), q)

    def _get_task(self, q: dict[str, str], data: Any, tid: str) -> tuple[int, Any]:
        return 200, self._find(self.tasks, tid)

    # ---- assignments ------------------------------------------------------------------------------

    def _list_assignments(self, q: dict[str, str], data: Any) -> tuple[int, Any]:
        if not any(k in q for k in ("pool_id", "task_id", "task_suite_id")):
            raise ApiError(400, "VALIDATION_ERROR", "one of pool_id, task_id or task_suite_id is required")
        found = self._where(self.assignments.values(), q, "pool_id", "task_suite_id", "user_id")
        if "status" in q:
            wanted = set(q["status"].split(","))
            found = [a for a in found if a["status"] in wanted]
        if "task_id" in q:
            found = [a for a in found if any(t["id"] == q["task_id"] for t in a["tasks"])]
        return self._page("assignments", found, q)

    def _get_assignment(self, q: dict[str, str], data: Any, aid: str) -> tuple[int, Any]:
        return 200, self._find(self.assignments, aid)

    def _patch_assignment(self, q: dict[str, str], data: Any, aid: str) -> tuple[int, Any]:
        assignment = self._find(self.assignments, aid)
        if not isinstance(data, dict) or data.get("status") not in ("ACCEPTED", "REJECTED"):
            raise ApiError(400, "VALIDATION_ERROR", "status must be ACCEPTED or REJECTED", {
                "status": {"code": "INVALID_VALUE", "message": "must be ACCEPTED or REJECTED"}})
        allowed = {("SUBMITTED", "ACCEPTED"), ("SUBMITTED", "REJECTED"), ("REJECTED", "ACCEPTED")}
        if (assignment["status"], data["status"]) not in allowed:
            raise ApiError(409, "INAPPROPRIATE_STATUS",
                           "This or related resource is in inappropriate status, operation is not allowed")
        assignment["status"] = data["status"]
        assignment[data["status"].lower()] = self._now()
        if data.get("public_comment"):
            assignment["public_comment"] = data["public_comment"]
        return 200, {"status": data["status"], "public_comment": data.get("public_comment"), "bonus_ids": []}

    def answer_pool(self, pool_id: str, answer: Callable[[Json], Json]) -> int:
        """The crowd at work (vendor side): every task of an open pool gets submitted assignments
        up to its overlap, one task per suite, each from a different Toloker. Returns how many."""
        with self._lock:
            self._finish_operations()
            pool = self.pools[pool_id]
            if pool["status"] != "OPEN":
                raise AssertionError(f"pool {pool_id} is {pool['status']}: Tolokers only work in open pools")
            made = 0
            for task in sorted(self.tasks.values(), key=lambda t: t["id"]):
                if task["pool_id"] != pool_id or task.get("infinite_overlap"):
                    continue
                while task["remaining_overlap"] > 0:
                    n = int(self._next(1))
                    aid = f"00022c1a86--6650{n:020x}"
                    created = self._now()
                    status = "ACCEPTED" if pool.get("auto_accept_solutions") else "SUBMITTED"
                    self.assignments[aid] = {
                        "id": aid, "task_suite_id": f"00022c1a86--664f{n:020x}", "pool_id": pool_id,
                        "user_id": f"{uuid.uuid5(uuid.NAMESPACE_OID, str(task['remaining_overlap'])).hex}",
                        "status": status, "reward": pool.get("reward_per_assignment"), "mixed": True,
                        "automerged": False, "tasks": [dict(task)],
                        "solutions": [{"output_values": answer(task)}], "created": created,
                        "submitted": self._now(), "owner": OWNER}
                    task["remaining_overlap"] -= 1
                    made += 1
            return made

    # ---- analytics, skills, webhooks, bans ------------------------------------------------------------

    def _analytics(self, data: Any) -> tuple[int, Any]:
        if not isinstance(data, list) or not 1 <= len(data) <= 10:
            raise ApiError(400, "VALIDATION_ERROR", "1-10 analytics requests expected")
        for r in data:
            if not isinstance(r, dict) or r.get("subject") != "POOL" or str(r.get("subject_id")) not in self.pools:
                raise ApiError(400, "VALIDATION_ERROR", "subject POOL with an existing subject_id expected")

        def value(r: Json) -> Any:
            pid = str(r["subject_id"])
            tasks = [t for t in self.tasks.values() if t["pool_id"] == pid and not t.get("infinite_overlap")]
            done = [a for a in self.assignments.values()
                    if a["pool_id"] == pid and a["status"] in ("SUBMITTED", "ACCEPTED", "REJECTED")]
            needed = sum(t["overlap"] for t in tasks)
            answered = needed - sum(t["remaining_overlap"] for t in tasks)
            return {"completion_percentage": round(100 * answered / needed) if needed else 0,
                    "real_tasks_count": len(tasks), "submitted_assignments_count": len(done),
                    "spent_budget": round(sum(a.get("reward") or 0 for a in done), 4)}.get(r.get("name"))

        requests = list(data)

        def run() -> Json:
            return {"value": [{"request": r, "result": {"value": value(r)}, "finished": self._now()}
                              for r in requests]}
        return self._operation("ANALYTICS", {"value": requests}, run)

    def _list_skills(self, q: dict[str, str], data: Any) -> tuple[int, Any]:
        return self._page("skills", self._where(self.skills.values(), q, "name"), q)

    def _get_skill(self, q: dict[str, str], data: Any, sid: str) -> tuple[int, Any]:
        return 200, self._find(self.skills, sid)

    def _create_skill(self, q: dict[str, str], data: Any) -> tuple[int, Any]:
        body = self._object_body(data)
        if not body.get("name"):
            raise ApiError(400, "VALIDATION_ERROR", "Validation failed", {"name": {
                "code": "VALUE_REQUIRED", "message": "Value must be present and not equal to null"}})
        skill = {"hidden": True, **body, "id": self._next(5, 41_000), "deprecated": False, "global": False,
                 "owner": OWNER, "created": self._now()}
        self.skills[skill["id"]] = skill
        self.created["skill"] += 1
        return 201, skill

    def _upsert_webhooks(self, q: dict[str, str], data: Any) -> tuple[int, Any]:
        if not isinstance(data, list):
            raise ApiError(400, "VALIDATION_ERROR", "Expected a JSON array of subscriptions")
        items: Json = {}
        errors: Json = {}
        for i, sub in enumerate(data):
            if not isinstance(sub, dict) or str(sub.get("pool_id")) not in self.pools:
                errors[str(i)] = {"pool_id": {"code": "DOES_NOT_EXIST", "message": "Pool does not exist"}}
                continue
            same = next((w for w in self.webhooks.values() if (w["webhook_url"], w["event_type"], w["pool_id"])
                         == (sub.get("webhook_url"), sub.get("event_type"), sub.get("pool_id"))), None)
            hook = same or {**sub, "id": str(uuid.uuid4()), "created": self._now()}
            hook.update(sub)
            self.webhooks[hook["id"]] = hook
            items[str(i)] = hook
        return 201, {"items": items, "validation_errors": errors}

    def _list_restrictions(self, q: dict[str, str], data: Any) -> tuple[int, Any]:
        return self._page("user-restrictions", [], q)


# ---- the fault harness's view of one account ---------------------------------------------------------


class TolokaFaultyVendor(FaultyVendor):
    """The harness's Toloka account: ``FakeToloka`` behind a ``FaultyServer``, with objects made
    elsewhere already in it (projects and pools without annotate's key, one with another key), so
    a lookup that stops after the first page, or matches loosely, finds the wrong job."""

    one_job = {"project": 1, "pool": 1}
    #: a clean job takes 19 requests here (project lookups over three pages, twice; project, pool,
    #: spec read back, task listing, upload, its poll and log, open and its poll, three assignment pages)
    expected_requests = 19
    page_size = 2

    def __init__(self, server: FaultyServer, fake: FakeToloka, *, read_timeout: float) -> None:
        super().__init__(server)
        self.fake = fake
        self.read_timeout = read_timeout
        self._seed_other_work()

    def _seed_other_work(self) -> None:
        fake = self.fake
        for n, metadata in enumerate([{}, {"team": ["vision"]}, {"annotate_job_key": ["someone-elses-key"]},
                                      {}, {"annotate_job_key": ["faults"]}]):
            pid = fake._next(6, 120_000)
            fake.projects[pid] = {"id": pid, "public_name": f"made elsewhere {n}", "status": "ACTIVE",
                                  "created": fake._now(), "owner": OWNER, "metadata": metadata,
                                  "task_spec": {"input_spec": {"image": {"type": "url", "required": True}},
                                                "output_spec": {"result": {"type": "string"}}}}
            pool_id = fake._next(8, 36_500_000)
            fake.pools[pool_id] = {"id": pool_id, "project_id": pid, "private_name": f"made elsewhere {n}",
                                   "status": "CLOSED", "type": "REGULAR", "created": fake._now(), "owner": OWNER,
                                   "metadata": metadata}

    def backend(self) -> TolokaBackend:
        return TolokaBackend(token=SecretStr(self.fake.token), base_url=self.server.url,
                             timeout=[1.0, self.read_timeout], sleep=lambda seconds: None, poll_interval=0.0,
                             page_size=self.page_size, clock=lambda: T0.replace(tzinfo=timezone.utc))

    def objects(self) -> Mapping[str, int]:
        return {kind: self.fake.created[kind] for kind in self.one_job}

    def item_copies(self) -> Counter[str]:
        return Counter(t["input_values"].get("_key") for t in self.fake.tasks.values()
                       if t["pool_id"] in self.fake.pools)

    def answer(self, job_id: str, items: list[Any]) -> None:
        self.fake.answer_pool(job_id, lambda task: {"result": "cat" if int(task["id"][-1], 16) % 2 else "dog"})

    def answer_count(self, job_id: str) -> int:
        pool = self.fake.pools[job_id]
        fields = (self.fake.projects[pool["project_id"]]["task_spec"].get("output_spec") or {})
        return sum(len(a["tasks"]) for a in self.fake.assignments.values() if a["pool_id"] == job_id) * len(fields)
