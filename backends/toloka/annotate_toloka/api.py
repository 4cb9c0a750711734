"""Thin typed calls to the Toloka REST API over the core's ``HttpClient``.

Only transport concerns live here: paths, query parameters, which POSTs are safe to repeat,
operation polling, and keyset pagination that always reaches the end. What to send is decided in
``compile``/``tasks``.

No create is repeated blindly. A create whose outcome is unknown (a 5xx, a timeout, a reply lost
after the request went out) may have happened on Toloka, so it is sent again only after a lookup
finds nothing: the object's job key (``create(..., find=...)``) or the upload's ``operation_id``
(``create_tasks_async``). A create without such a lookup is sent once and its error raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from annotate_core.errors import (
    ConflictError,
    FieldProblem,
    MalformedResponseError,
    NotFoundError,
    OperationFailedError,
    TransportError,
    VendorError,
    VendorValidationError,
)
from annotate_core.http import HttpClient
from annotate_toloka.wire import BACKEND, dumps, expect_dict, require

log = logging.getLogger(__name__)

Json = dict[str, Any]
DONE = ("SUCCESS", "FAIL")
JSON_HEADERS = {"Content-Type": "application/json"}
TASK_PAGE = 10_000
#: ``GET /v1/pools``, ``/v1/projects`` and ``/v1/trainings`` return at most 300 objects a page (Toloka's
#: list documentation; toloka-kit ``find_pools`` docstring)
POOL_PAGE_MAX = 300
#: the status a pool action leaves a pool in
ACTION_STATUS = {"open": "OPEN", "close": "CLOSED", "archive": "ARCHIVED"}


def unknown_outcome(exc: VendorError) -> bool:
    """Whether a request that failed this way may still have been carried out by Toloka.

    No HTTP answer (timeout, connection dropped after sending), a 5xx or 408 (the server may have
    acted before failing), or a 2xx body we could not read. Anything else (4xx, a quota 429 we
    gave up on) is Toloka refusing the request, which then did nothing.
    """
    if isinstance(exc, TransportError | MalformedResponseError):
        return True
    return type(exc) is VendorError and exc.status is not None and (exc.status >= 500 or exc.status == 408)


class TolokaApi:
    """One requester account. ``sleep`` and ``poll_interval`` drive operation polling (zero in tests)."""

    def __init__(self, http: HttpClient, *, sleep: Callable[[float], None], poll_interval: float,
                 operation_timeout: float, page_size: int, retries: int = 5, backoff_factor: float = 0.5) -> None:
        self.http = http
        self.sleep = sleep
        self.poll_interval = poll_interval
        self.operation_timeout = operation_timeout
        self.page_size = page_size
        #: how many times a create with a lookup is sent again after an unknown outcome, and the backoff
        self.retries = retries
        self.backoff_factor = backoff_factor

    # ---- generic ------------------------------------------------------------------------------

    def _send(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        if body is not None:
            kw["data"] = body if isinstance(body, bytes) else dumps(body)
            kw["headers"] = JSON_HEADERS
        return self.http.json(method, path, **kw)

    def iter_pages(self, path: str, params: Mapping[str, Any], *, limit: int | None = None) -> Iterator[Json]:
        """Every object of a list endpoint: ``sort=id``, explicit ``limit``, next page ``id_gt=<last id>``.

        Stops only on ``has_more: false``; a page that claims more but is empty, or lacks
        ``has_more``, is a malformed response rather than a silent early end.
        """
        for page in self.iter_page_lists(path, params, limit=limit):
            yield from page

    def iter_page_lists(self, path: str, params: Mapping[str, Any], *, limit: int | None = None
                        ) -> Iterator[list[Json]]:
        """``iter_pages`` a page at a time, as each arrives (the answers' frame path builds a frame per page)."""
        query = {**params, "sort": "id", "limit": limit or self.page_size}
        while True:
            page = expect_dict(self._send("GET", path, params=query), f"GET {path}")
            items = require(page, "items", f"GET {path}")
            if not isinstance(items, list):
                raise MalformedResponseError(f"GET {path}: 'items' is not a list", backend=BACKEND)
            if "has_more" not in page:
                raise MalformedResponseError(f"GET {path}: response has no 'has_more'", backend=BACKEND)
            yield [expect_dict(obj, f"GET {path} item") for obj in items]
            if not page["has_more"]:
                return
            if not items:
                raise MalformedResponseError(f"GET {path}: has_more is true on an empty page", backend=BACKEND)
            query = {**query, "id_gt": require(items[-1], "id", f"GET {path} item")}

    def backoff(self, attempt: int) -> None:
        """Wait before sending a request again whose earlier outcome was unknown."""
        wait = self.backoff_factor * 2 ** attempt
        if wait > 0:
            self.sleep(min(wait, 60.0))

    def create(self, path: str, body: Json, what: str, *, find: Callable[[], Json | None] | None = None) -> Json:
        """POST a create; with ``find`` (a lookup of the job key ``body`` carries), resumable.

        Without ``find`` the request is sent once: nothing could tell a lost reply from a create
        that never happened, so an error is raised for the caller (whose rerun, with a key, looks
        up). With ``find``, an unknown outcome is looked up first: found, that object is the
        answer; not found, the create is sent again (at most ``retries`` times).
        """
        for attempt in range(self.retries + 1):
            try:
                return expect_dict(self._send("POST", path, body), what)
            except VendorError as exc:
                if find is None or not unknown_outcome(exc) or attempt == self.retries:
                    raise
                log.warning("POST %s: outcome unknown (%s); looking the %s up before sending it again",
                            path, exc, what)
                found = find()
                if found is not None:
                    log.info("POST %s: the %s was created after all (%s)", path, what, found.get("id"))
                    return found
                self.backoff(attempt)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    # ---- operations ---------------------------------------------------------------------------

    def get_operation(self, op_id: str) -> Json:
        return expect_dict(self._send("GET", f"/v1/operations/{op_id}"), "operation")

    def find_operation(self, op_id: str) -> Json | None:
        """The operation, or None when Toloka has none under that id (404)."""
        try:
            return self.get_operation(op_id)
        except NotFoundError:
            return None

    def wait_operation(self, op: Json) -> Json:
        """Poll until SUCCESS or FAIL; ``TimeoutError`` after ``operation_timeout`` (the op keeps running)."""
        op_id = require(op, "id", "operation")
        waited = 0.0
        while op.get("status") not in DONE:
            if waited >= self.operation_timeout:
                raise TimeoutError(f"Toloka operation {op_id} ({op.get('type')}) not finished after "
                                   f"{self.operation_timeout:.0f}s; it keeps running on Toloka")
            self.sleep(self.poll_interval)
            waited += self.poll_interval
            op = self.get_operation(op_id)
            if "status" not in op:
                raise MalformedResponseError(f"operation {op_id}: response has no 'status'", backend=BACKEND)
        return op

    def operation_log(self, op_id: str) -> list[Any]:
        body = self._send("GET", f"/v1/operations/{op_id}/log")
        if not isinstance(body, list):
            raise MalformedResponseError(f"operation {op_id} log: expected a JSON array", backend=BACKEND)
        return body

    def _run(self, method: str, path: str, what: str, **kw: Any) -> Json | None:
        """Start an async action (open/close/archive); wait; None when Toloka says 204 (already done)."""
        resp = self.http.request(method, path, **kw)
        if resp.status_code == 204 or not resp.content:
            log.info("%s: nothing to do (already in that state)", what)
            return None
        op = self.wait_operation(expect_dict(resp.json(), what))
        if op["status"] == "FAIL":
            raise OperationFailedError(f"{what}: operation {op.get('id')} failed: {op.get('details')}",
                                       backend=BACKEND, payload=op)
        return op

    # ---- projects, pools, trainings -----------------------------------------------------------

    def requester(self) -> Json:
        """The account behind the token: the cheapest "is this token valid" call."""
        return expect_dict(self._send("GET", "/v1/requester"), "requester")

    def create_project(self, body: Json, *, find: Callable[[], Json | None] | None = None) -> Json:
        return self.create("/v1/projects", body, "project", find=find)

    def get_project(self, project_id: str) -> Json:
        return expect_dict(self._send("GET", f"/v1/projects/{project_id}"), "project")

    def iter_projects(self) -> Iterator[Json]:
        """Every project of the account, archived ones included (no server-side filter but status)."""
        return self.iter_pages("/v1/projects", {}, limit=min(self.page_size, POOL_PAGE_MAX))

    def create_training(self, body: Json, *, find: Callable[[], Json | None] | None = None) -> Json:
        return self.create("/v1/trainings", body, "training", find=find)

    def get_training(self, training_id: str) -> Json:
        return expect_dict(self._send("GET", f"/v1/trainings/{training_id}"), "training")

    def iter_trainings(self, project_id: str) -> Iterator[Json]:
        """Every training pool of a project, in every status (``project_id`` is a documented filter)."""
        return self.iter_pages("/v1/trainings", {"project_id": project_id}, limit=min(self.page_size, POOL_PAGE_MAX))

    def create_pool(self, body: Json, *, find: Callable[[], Json | None] | None = None) -> Json:
        return self.create("/v1/pools", body, "pool", find=find)

    def get_pool(self, pool_id: str) -> Json:
        return expect_dict(self._send("GET", f"/v1/pools/{pool_id}"), "pool")

    def iter_pools(self, status: str) -> Iterator[Json]:
        """Every pool of the account in one ``status`` (the API filters on a single status per request)."""
        return self.iter_pages("/v1/pools", {"status": status}, limit=min(self.page_size, POOL_PAGE_MAX))

    def iter_project_pools(self, project_id: str) -> Iterator[Json]:
        """Every pool of a project, in every status (``project_id`` is a documented filter)."""
        return self.iter_pages("/v1/pools", {"project_id": project_id}, limit=min(self.page_size, POOL_PAGE_MAX))

    def pool_action(self, pool_id: str, action: str, *, training: bool = False) -> Json | None:
        """Open, close or archive a pool (or training pool) and wait for it.

        These POSTs carry no idempotency key, so after an unknown outcome the pool's status is read
        first: already in the target status, the action is done; otherwise it is sent again (Toloka
        answers 204 when there is nothing left to do).
        """
        kind = "trainings" if training else "pools"
        target = ACTION_STATUS.get(action)
        for attempt in range(self.retries + 1):
            try:
                return self._run("POST", f"/v1/{kind}/{pool_id}/{action}", f"{action} {kind[:-1]} {pool_id}")
            except VendorError as exc:
                if target is None or not unknown_outcome(exc) or attempt == self.retries:
                    raise
                current = self.get_training(pool_id) if training else self.get_pool(pool_id)
                if current.get("status") == target:
                    log.info("%s %s %s: outcome unknown (%s), but it is %s now: done", action, kind[:-1], pool_id,
                             exc, target)
                    return None
                log.warning("%s %s %s: outcome unknown (%s) and it is %s: sending it again", action, kind[:-1],
                            pool_id, exc, current.get("status"))
                self.backoff(attempt)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def archive_project(self, project_id: str) -> Json | None:
        return self._run("POST", f"/v1/projects/{project_id}/archive", f"archive project {project_id}")

    # ---- tasks --------------------------------------------------------------------------------

    def create_tasks_async(self, body: bytes, op_id: str, *, suites: bool = False) -> tuple[Json, bool]:
        """``POST /v1/tasks`` (or task-suites) as an async operation under ``op_id``: (operation, ours).

        ``ours`` is False only when Toloka already held the operation before this call sent anything
        (``409 OPERATION_ALREADY_EXISTS`` to the first POST: an earlier run sent the chunk). An unknown
        outcome is looked up by ``op_id`` before the POST is sent again, and an operation found then,
        or a 409 to a repeated POST, is this call's own: its tasks count as created, not as existing.
        The retries are ours, not urllib3's, so that a 409 can be told apart.
        """
        params = {"async_mode": "true", "allow_defaults": "true", "skip_invalid_items": "true", "operation_id": op_id}
        path = "/v1/task-suites" if suites else "/v1/tasks"
        sent = False  # whether a POST of this call may have reached Toloka
        for attempt in range(self.retries + 1):
            try:
                return expect_dict(self._send("POST", path, body, params=params), "operation"), True
            except ConflictError as exc:
                if exc.code != "OPERATION_ALREADY_EXISTS":
                    raise
                log.info("operation %s exists (%s sent this chunk): reading it", op_id,
                         "an earlier attempt of this upload" if sent else "an earlier run")
                return self.get_operation(op_id), sent
            except VendorError as exc:
                if not unknown_outcome(exc) or attempt == self.retries:
                    raise
                sent = True
                log.warning("POST %s: outcome unknown (%s); looking operation %s up before sending it again",
                            path, exc, op_id)
                found = self.find_operation(op_id)
                if found is not None:
                    return found, True
                self.backoff(attempt)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def iter_tasks(self, pool_id: str, *, suites: bool = False) -> Iterator[Json]:
        """Every task (or suite) of a pool, in pages of 10,000: listing keys before an upload stays cheap."""
        return self.iter_pages("/v1/task-suites" if suites else "/v1/tasks", {"pool_id": pool_id},
                               limit=TASK_PAGE)

    # ---- assignments --------------------------------------------------------------------------

    def iter_assignments(self, pool_id: str, status: str | None = None) -> Iterator[Json]:
        """Every assignment of the pool, in every status unless ``status`` names one."""
        return self.iter_pages("/v1/assignments", {"pool_id": pool_id, **({"status": status} if status else {})})

    def iter_assignment_pages(self, pool_id: str) -> Iterator[list[Json]]:
        """Every assignment of the pool in every status, a page at a time."""
        return self.iter_page_lists("/v1/assignments", {"pool_id": pool_id})

    def get_assignment(self, assignment_id: str) -> Json:
        return expect_dict(self._send("GET", f"/v1/assignments/{assignment_id}"), "assignment")

    def patch_assignment(self, assignment_id: str, body: Json) -> Json:
        return expect_dict(self._send("PATCH", f"/v1/assignments/{assignment_id}", body) or {}, "assignment")

    def iter_restrictions(self, scope: str, **where: str) -> Iterator[Json]:
        """Bans (user restrictions) of one scope, e.g. ``scope="POOL", pool_id=...``; at most 500 a page."""
        return self.iter_pages("/v1/user-restrictions", {"scope": scope, **where}, limit=min(self.page_size, 500))

    # ---- analytics ----------------------------------------------------------------------------

    def analytics(self, requests: list[Json]) -> list[Json]:
        op = self.wait_operation(expect_dict(self._send("POST", "/staging/analytics-2", requests), "analytics"))
        if op["status"] == "FAIL":
            raise OperationFailedError(f"analytics operation {op.get('id')} failed: {op.get('details')}",
                                       backend=BACKEND, payload=op)
        details = expect_dict(require(op, "details", "analytics operation"), "analytics details")
        values = require(details, "value", "analytics details")
        if not isinstance(values, list):
            raise MalformedResponseError("analytics details: 'value' is not a list", backend=BACKEND)
        return values

    # ---- skills, user skills, webhooks --------------------------------------------------------

    def iter_skills(self, name: str | None = None) -> Iterator[Json]:
        return self.iter_pages("/v1/skills", {"name": name} if name else {}, limit=min(self.page_size, 100))

    def get_skill(self, skill_id: str) -> Json:
        return expect_dict(self._send("GET", f"/v1/skills/{skill_id}"), "skill")

    def create_skill(self, body: Json, *, find: Callable[[], Json | None] | None = None) -> Json:
        return self.create("/v1/skills", body, "skill", find=find)

    def update_skill(self, skill_id: str, body: Json) -> Json:
        return expect_dict(self._send("PUT", f"/v1/skills/{skill_id}", body), "skill")

    def set_user_skill(self, body: Json) -> Json:
        return expect_dict(self._send("PUT", "/v1/user-skills", body), "user skill")

    def delete_user_skill(self, user_skill_id: str) -> None:
        self._send("DELETE", f"/v1/user-skills/{user_skill_id}")

    def iter_webhooks(self, pool_id: str) -> Iterator[Json]:
        """The webhook subscriptions of a pool (``pool_id`` is a documented filter; 300 a page at most)."""
        return self.iter_pages("/v1/webhook-subscriptions", {"pool_id": pool_id},
                               limit=min(self.page_size, POOL_PAGE_MAX))

    def upsert_webhooks(self, body: list[Json]) -> list[Json]:
        res = expect_dict(self._send("PUT", "/v1/webhook-subscriptions", body), "webhook subscriptions")
        errors = res.get("validation_errors") or {}
        if errors:
            details = [FieldProblem(f"webhooks.{i}.{path}", str((p or {}).get("message", p)), (p or {}).get("code"))
                       for i, fields in errors.items() for path, p in (fields or {}).items()]
            raise VendorValidationError("PUT /v1/webhook-subscriptions: rejected", details=details,
                                        backend=BACKEND, payload=res)
        items = res.get("items") or {}
        return [items[k] for k in sorted(items, key=int)]
