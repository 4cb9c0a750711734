"""The thin REST layer over Label Studio's API: errors, listings to their end, and unknown outcomes.

Every request goes through the core's ``HttpClient`` (retries of reads, typed errors, credentials added
at send time). Label Studio's conventions, as 1.23 answers them:

* errors are ``{"id": <uuid>, "status_code", "detail", "validation_errors": {field: [messages]}}``
  (DRF's own ``{"detail": ...}`` for authentication);
* a page past the end of a listing is a 404 ``Invalid page.``, so listings stop on the count they
  were told (``count`` for projects, ``total`` for tasks) and never ask for that page;
* responses to token-authenticated requests set a ``sessionid`` cookie: the session never keeps it,
  so every request stands on its token alone (and no login lingers in memory).

Creates are not idempotent and Label Studio has no idempotency key, so they are sent once on the
strict session; when the outcome is unknown (a 5xx, 408, a timeout or a lost reply) ``send_once``
looks the object up before sending again (``docs/reliability.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from annotate_core.errors import (
    AuthenticationError,
    FieldProblem,
    MalformedResponseError,
    NotFoundError,
    TransportError,
    VendorError,
)
from annotate_core.http import ErrorInfo, HttpClient
from annotate_labelstudio.auth import REFRESH_PATH, AccessTokens
from annotate_labelstudio.settings import BACKEND, Settings

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

T = TypeVar("T")
#: the project fields listings ask for: the mark (in the labeling config), state and size
PROJECT_LISTING_FIELDS = "id,title,label_config,created_at,is_published,task_number"
#: sends of one create at most (the first and two more after lookups found nothing)
MAX_SENDS = 3


def parse_error(response: requests.Response) -> ErrorInfo:
    """Label Studio's error body: ``detail``, per-field ``validation_errors`` and the error ``id``."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        if text.startswith("<"):  # Django's HTML 404/500 page
            text = ""
        return ErrorInfo(text[:300] or response.reason or f"HTTP {response.status_code}")
    if not isinstance(body, dict):
        return ErrorInfo(str(body)[:300])
    detail = body.get("detail") or body.get("message") or response.reason or f"HTTP {response.status_code}"
    problems: list[FieldProblem] = []
    errors = body.get("validation_errors")
    if isinstance(errors, dict):
        for name, messages in errors.items():
            for message in messages if isinstance(messages, list) else [messages]:
                problems.append(FieldProblem(str(name), str(message)))
    message = str(detail)
    if problems:
        message += ": " + "; ".join(f"{p.field}: {p.message}" for p in problems)
    code = body.get("code")
    error: type[VendorError] | None = None
    if response.status_code == 403 and "credentials were not provided" in message.lower():
        error = AuthenticationError  # DRF answers a missing or rejected token with 403
    request_id = body.get("id") if isinstance(body.get("id"), str) else None
    return ErrorInfo(message, code=str(code) if code else None, details=tuple(problems),
                     request_id=request_id, error=error)


def unknown_outcome(exc: BaseException) -> bool:
    """Whether a failed create may have been carried out: no reply, or a server error after sending."""
    if isinstance(exc, TransportError):
        return True
    return isinstance(exc, VendorError) and exc.status is not None and (exc.status >= 500 or exc.status == 408)


class LabelStudioApi:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        common: dict[str, Any] = {
            "backend": BACKEND, "timeout": settings.timeout, "retries": settings.retries,
            "backoff_factor": settings.backoff_factor, "parse_error": parse_error, "sleep": settings.sleep,
        }
        credential: Any = None
        self._token_client: HttpClient | None = None
        if settings.token is not None:
            if settings.is_refresh_token():
                self._token_client = HttpClient(settings.url, **common)
                token_client = self._token_client

                def exchange(refresh: str) -> Any:
                    # a POST that mints nothing lasting: safe to repeat on 5xx
                    return token_client.post(REFRESH_PATH, json={"refresh": refresh}, idempotent=True)

                credential = AccessTokens(settings.secret(), exchange).header
            else:
                from pydantic import SecretStr

                credential = SecretStr(f"Token {settings.secret()}")
        # cookies=False (the client's default, said here because it matters): see the module docstring
        self.http = HttpClient(settings.url, credential=credential, cookies=False, **common)

    def close(self) -> None:
        self.http.close()
        if self._token_client is not None:
            self._token_client.close()

    # ---- plain calls ---------------------------------------------------------------------------

    def get(self, path: str, **kw: Any) -> Any:
        return self.http.get(path, **kw)

    def object(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        body = self.http.json(method, path, **kw)
        if not isinstance(body, dict):
            raise MalformedResponseError(f"{method} {path}: expected a JSON object, got {type(body).__name__}",
                                         backend=BACKEND)
        return body

    def patch(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        # a PATCH of fixed values sets the same state however often it runs: repeatable
        return self.object("PATCH", path, json=dict(body), idempotent=True)

    # ---- listings ------------------------------------------------------------------------------

    def iter_pages(self, path: str, params: Mapping[str, Any], items_key: str, count_key: str,
                   page_size: int | None = None) -> Iterator[dict[str, Any]]:
        """Every object of a paged listing, stopping at the count the server gave (the next page
        would be a 404 ``Invalid page.``)."""
        for page in self.iter_page_lists(path, params, items_key, count_key, page_size):
            yield from page

    def iter_page_lists(self, path: str, params: Mapping[str, Any], items_key: str, count_key: str,
                        page_size: int | None = None) -> Iterator[list[dict[str, Any]]]:
        """The pages of a paged listing, each as the list of its objects."""
        size = page_size or self.settings.page_size
        page = 1
        seen = 0
        while True:
            body = self.object("GET", path, params={**params, "page": page, "page_size": size})
            objects = body.get(items_key)
            total = body.get(count_key)
            if not isinstance(objects, list) or not isinstance(total, int):
                raise MalformedResponseError(f"GET {path}: expected {items_key!r} (list) and {count_key!r} (int)",
                                             backend=BACKEND)
            for obj in objects:
                if not isinstance(obj, dict):
                    raise MalformedResponseError(f"GET {path}: a listed object is not a JSON object",
                                                 backend=BACKEND)
            if objects:
                yield objects
            seen += len(objects)
            if not objects or seen >= total or len(objects) < size:
                return
            page += 1

    def iter_projects(self) -> Iterator[dict[str, Any]]:
        # oldest first, and only the fields annotate reads (``include`` names the fields answered; without
        # it every count is computed and the whole project sent)
        yield from self.iter_pages("/api/projects/", {"ordering": "id", "include": PROJECT_LISTING_FIELDS},
                                   "results", "count")

    def iter_tasks(self, project_id: str, *, annotations: bool = False,
                   page_size: int | None = None) -> Iterator[dict[str, Any]]:
        for page in self.iter_task_pages(project_id, annotations=annotations, page_size=page_size):
            yield from page

    def iter_task_pages(self, project_id: str, *, annotations: bool = False,
                        page_size: int | None = None) -> Iterator[list[dict[str, Any]]]:
        """The project's tasks a page at a time (``annotations``: with their annotations)."""
        params: dict[str, Any] = {"project": project_id}
        if annotations:
            params["fields"] = "all"
        yield from self.iter_page_lists("/api/tasks/", params, "tasks", "total", page_size)

    def count_tasks(self, project_id: str, filters: Mapping[str, Any]) -> int:
        """How many of the project's tasks a Data Manager filter selects: one task asked for, its
        ``total`` read (the server counts in the database; nothing is listed)."""
        import json

        query = json.dumps({"filters": dict(filters)}, separators=(",", ":"))
        body = self.object("GET", "/api/tasks/", params={"project": project_id, "page": 1, "page_size": 1,
                                                          "query": query})
        total = body.get("total")
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            raise MalformedResponseError("GET /api/tasks/ (filtered): expected 'total' (a count)", backend=BACKEND)
        return total

    # ---- creates: sent once, looked up before any resend ---------------------------------------

    def send_once(self, what: str, send: Callable[[], T], lookup: Callable[[], T | None] | None) -> T:
        """``send()`` a create; when its outcome is unknown, ``lookup()`` what it would have made and
        send again only when nothing turned up. Without a lookup an unknown outcome is raised: nothing
        could tell a lost reply from a create that never happened."""
        for attempt in range(1, MAX_SENDS + 1):
            try:
                return send()
            except (TransportError, VendorError) as exc:
                if not unknown_outcome(exc) or lookup is None or attempt == MAX_SENDS:
                    raise
                log.info("%s: outcome unknown (%s); looking it up before sending again", what, exc)
                try:
                    found = lookup()
                except NotFoundError:
                    found = None
                if found is not None:
                    log.info("%s: it was made; using it", what)
                    return found
        raise AssertionError("unreachable")  # pragma: no cover
