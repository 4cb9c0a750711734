"""Dataloop's wire conventions in one place: URLs, ids, times, error bodies and response fields.

Everything here is pure: no requests are sent. Payload builders and the gate client import these
helpers so that a convention (epoch milliseconds for due dates, ``message`` in error bodies, 24-hex
ObjectIds) is written down once. Sources are tagged as in ``shared/reference/dataloop-api.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from annotate_core.errors import MalformedResponseError
from annotate_core.http import ErrorInfo

if TYPE_CHECKING:  # annotations only: requests loads when a client is built
    import requests

BACKEND = "dataloop"

#: REST base of the production gate [K service_defaults.py][O servers[0]]
DEFAULT_BASE_URL = "https://gate.dataloop.ai/api/v1"

#: the ``env`` option: the gates ``dl.setenv('prod'|'rc'|'dev')`` switches to, with dtlpy's aliases
#: [K services/service_defaults.py:DEFAULT_ENVIRONMENTS]; any other gate (on-prem) is ``base_url``
ENVIRONMENTS = {
    "prod": DEFAULT_BASE_URL,
    "rc": "https://rc-gate.dataloop.ai/api/v1",
    "dev": "https://dev-gate.dataloop.ai/api/v1",
}

#: days until a task's ``dueDate`` when the spec has no deadline: dtlpy's default, ``now + 7 days``, for
#: ``tasks.create`` and ``dl.TaskNode`` alike [K repositories/tasks.py:1024, entities/node.py]
DEFAULT_DUE_DAYS = 7

#: page size dtlpy uses for items / annotations DQL queries (its clamp) [K filters.py:138-152]
DQL_PAGE_SIZE = 1000
#: page size dtlpy uses for tasks and assignments [K repositories/tasks.py, assignments.py]
LIST_PAGE_SIZE = 500

_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def is_object_id(value: str) -> bool:
    """Datasets, items, tasks, recipes... are 24-hex Mongo ObjectIds [K filters.py:_get_middle_id]."""
    return bool(_OBJECT_ID.match(value))


def is_uuid(value: str) -> bool:
    """Projects (and orgs, accounts) are UUID v4 strings [K reports/figures.py]."""
    return bool(_UUID.match(value))


def token_url(base_url: str) -> str:
    """The login/refresh endpoint, which lives beside the API, not under ``/api/v1`` [K logins.py:56]."""
    root = base_url.rstrip("/")
    if root.endswith("/api/v1"):
        root = root[: -len("/api/v1")]
    return root + "/token?default"


def due_date_ms(when: datetime) -> float:
    """A task ``dueDate``: epoch milliseconds as a float, exactly as dtlpy sends it (``ts * 1000``) [W]."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp() * 1000


def encode_query(query: Mapping[str, Any]) -> str:
    """A task's ``query`` field: the DQL object JSON-encoded into a string [W].

    ``json.dumps`` with its default separators, which is what dtlpy sends — but without dtlpy's
    ``.replace("'", '"')``, which corrupts any value holding an apostrophe (reference §6.5).
    """
    return json.dumps(query)


def parse_time(value: Any, field: str) -> datetime | None:
    """An ISO-8601 ``createdAt``-style value (``2021-08-12T13:12:37.565Z``) as aware UTC.

    Numbers are accepted as epoch milliseconds, since the OpenAPI spec types some timestamps as
    numbers [O APIProject.createdAt].
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise MalformedResponseError(f"{field}: expected a timestamp, got {value!r}", backend=BACKEND)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise MalformedResponseError(
                f"{field}: expected an ISO-8601 timestamp, got {value!r}", backend=BACKEND
            ) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    raise MalformedResponseError(f"{field}: expected a timestamp, got {type(value).__name__}", backend=BACKEND)


#: where a canonical timestamp (``2021-08-12T13:12:37.565Z``, what the gate writes) has its separators
_SEPARATORS = {4: "-", 7: "-", 10: "T", 13: ":", 16: ":", 19: ".", 23: "Z"}
_DIGITS = [i for i in range(23) if i not in _SEPARATORS]


def parse_times(values: Sequence[Any], field: str) -> Any:
    """``parse_time`` of a page's values at once: a ``datetime64[ns]`` array (UTC; NaT for None).

    The gate writes every ``createdAt`` the same way, to the millisecond with ``Z``; when every
    value on the page is None or that exact shape, with a year from 1900 to 2199 (pandas' nanoseconds
    reach 1677-2262), numpy parses them in one call, to the same instants ``parse_time`` gives. Any
    other page (numbers, offsets, other precisions, or a value numpy refuses) goes value by value
    through ``parse_time``, which returns datetimes or raises its error.
    """
    import numpy as np

    present = [v for v in values if v is not None]
    if present and all(type(v) is str for v in present):
        text = np.array(present)
        if text.dtype == np.dtype("U24"):
            codes = text.view(np.uint32).reshape(len(present), 24)
            digits = codes[:, _DIGITS]
            century = codes[:, 0] * 128 + codes[:, 1]
            if ((digits >= 48) & (digits <= 57)).all() and all(
                    (codes[:, i] == ord(sep)).all() for i, sep in _SEPARATORS.items()) and np.isin(
                    century, [ord("1") * 128 + ord("9"), ord("2") * 128 + ord("0"), ord("2") * 128 + ord("1")]).all():
                try:
                    parsed = text.astype("U23").astype("datetime64[ms]").astype("datetime64[ns]")
                except ValueError:  # a field out of range (month 13, Feb 30): parse_time words the error
                    pass
                else:
                    if len(present) == len(values):
                        return parsed
                    out = np.full(len(values), np.datetime64("NaT", "ns"))
                    out[np.fromiter((v is not None for v in values), dtype=bool, count=len(values))] = parsed
                    return out
    return [parse_time(v, field) for v in values]


def parse_error(response: requests.Response) -> ErrorInfo:
    """The gate's error body: ``{"message": ...}`` at least; dtlpy reads nothing else [K exceptions.py:35-43].

    Other keys are not documented, so everything beyond ``message`` is best effort; the
    ``x-request-id`` header is kept so support can find the call [K api_client.py:print_bad_response].
    """
    request_id = response.headers.get("x-request-id")
    try:
        body = response.json()
    except ValueError:
        text = (response.text or "").strip()
        return ErrorInfo(text[:300] or response.reason or f"HTTP {response.status_code}", request_id=request_id)
    if isinstance(body, dict):
        message = body.get("message") or body.get("error") or response.reason or f"HTTP {response.status_code}"
        code = body.get("code") or body.get("errorCode")
        return ErrorInfo(str(message), str(code) if code is not None else None, request_id=request_id)
    return ErrorInfo(str(body)[:300], request_id=request_id)


# ---- reading response bodies --------------------------------------------------------------------


def need(obj: Any, path: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``obj[a][b]...`` for ``path`` "a.b", checked against ``kind``; else a MalformedResponseError.

    ``where`` names the call (``GET /annotationtasks/{id}``) so the message says which answer of
    the gate was wrong and which field, instead of a KeyError three frames later.
    """
    value = obj
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise MalformedResponseError(f"{where}: response has no {path!r}", backend=BACKEND)
        value = value[part]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise MalformedResponseError(
            f"{where}: {path!r} should be {expected}, got {type(value).__name__}", backend=BACKEND
        )
    return value


@lru_cache(maxsize=256)
def _steps(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def get(obj: Any, path: str, default: Any = None) -> Any:
    """``obj[a][b]...`` or ``default`` when any step is missing (for optional fields). Reading answers
    calls it several times per annotation, so the path is split once, not on every call."""
    value = obj
    try:
        for part in _steps(path):
            value = value[part]  # a missing key, or a step that is not an object (None, str, list): default
    except (KeyError, TypeError, IndexError):
        return default
    return value


def expect_object(body: Any, where: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedResponseError(
            f"{where}: expected a JSON object, got {type(body).__name__}", backend=BACKEND
        )
    return body
