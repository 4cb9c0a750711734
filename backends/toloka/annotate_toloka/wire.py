"""Toloka's JSON conventions in one place: ids, datetimes, bodies, error bodies and quota 429s.

Toloka sends and expects naive ISO-8601 datetimes that mean UTC, with a fraction of 0-6 digits;
ids are strings; errors are ``{"code", "message", "payload", "request_id"}``. Everything that
turns Python values into wire values (and back) lives here so the payload builders stay plain.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from annotate_core.errors import FieldProblem, MalformedResponseError
from annotate_core.http import ErrorInfo

if TYPE_CHECKING:  # annotations only: requests loads when a client is built
    import requests

BACKEND = "toloka"

PRODUCTION_URL = "https://toloka.dev/api"
AUTH_SCHEMES = ("ApiKey", "OAuth")
ACT_UNDER_HEADER = "X-Act-Under-Account-ID"

#: hidden input field that carries the neutral item key on every task (see ``project.input_spec``)
KEY_FIELD = "_key"

# seconds a per-interval quota 429 asks us to wait (toloka-kit reads ``payload.interval``)
QUOTA_INTERVALS = {"MIN": 60.0, "MINUTE": 60.0, "HOUR": 3600.0, "DAY": 86400.0}

_FRACTION = re.compile(
    r"^(?P<head>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(?P<frac>\d+))?(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)


def dumps(payload: Any) -> bytes:
    """A request body exactly as sent: compact UTF-8 JSON."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def to_wire_datetime(value: datetime) -> str:
    """Naive UTC ISO-8601, the only datetime form Toloka accepts (aware values are converted)."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat()


def parse_datetime(value: Any, field: str) -> datetime | None:
    """A Toloka datetime (0-6 fraction digits, no zone = UTC) as an aware UTC datetime.

    Python 3.10's ``fromisoformat`` rejects 2- or 5-digit fractions, which Toloka does send, so the
    fraction is normalised first. Anything else is a malformed response naming the field.
    """
    if value is None:
        return None
    m = _FRACTION.match(value) if isinstance(value, str) else None
    if m is None:
        raise MalformedResponseError(f"{field}: expected an ISO-8601 datetime, got {value!r}", backend=BACKEND)
    text = m["head"]
    if m["frac"]:
        text += "." + (m["frac"] + "000000")[:6]
    parsed = datetime.fromisoformat(text)
    if m["tz"] and m["tz"] != "Z":
        parsed = datetime.fromisoformat(text + m["tz"]).astimezone(timezone.utc).replace(tzinfo=None)
    return parsed.replace(tzinfo=timezone.utc)


def parse_error(response: requests.Response) -> ErrorInfo:
    """Toloka's error body, tolerating the bodies toloka-kit chokes on (empty, HTML, no ``code``)."""
    try:
        body = response.json()
    except ValueError:
        text = (response.text or "").strip()
        return ErrorInfo(text[:300] or response.reason or f"HTTP {response.status_code}")
    if not isinstance(body, dict):
        return ErrorInfo(str(body)[:300])
    code = body.get("code")
    message = str(body.get("message") or response.reason or f"HTTP {response.status_code}")
    details: list[FieldProblem] = []
    payload = body.get("payload")
    if code == "VALIDATION_ERROR" and isinstance(payload, dict):
        for path, problem in payload.items():
            if isinstance(problem, dict):
                details.append(FieldProblem(str(path), str(problem.get("message", problem)), problem.get("code")))
            else:
                details.append(FieldProblem(str(path), str(problem)))
    return ErrorInfo(message, str(code) if code is not None else None, tuple(details), body.get("request_id"))


def quota_wait(response: requests.Response) -> float | None:
    """Seconds a quota 429 asks for, from ``payload.interval`` (MIN / HOUR / DAY); None if absent."""
    try:
        body = response.json()
    except ValueError:
        return None
    payload = body.get("payload") if isinstance(body, dict) else None
    interval = payload.get("interval") if isinstance(payload, dict) else None
    return QUOTA_INTERVALS.get(str(interval).upper()) if interval else None


def expect_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedResponseError(f"{what}: expected a JSON object, got {type(value).__name__}", backend=BACKEND)
    return value


def require(obj: dict[str, Any], key: str, what: str) -> Any:
    """``obj[key]``, or a ``MalformedResponseError`` naming ``what.key``."""
    if key not in obj or obj[key] is None:
        raise MalformedResponseError(f"{what}: response has no {key!r}", backend=BACKEND)
    return obj[key]
