"""The one HTTP layer every vendor backend uses: retries, rate limits, typed errors, no leaked secrets.

Policy, in one place:

* Connection errors, 408 and 5xx are retried with exponential backoff by urllib3's ``Retry`` —
  for idempotent methods always, for POST/PATCH only when the caller marks the request idempotent
  (it carries an idempotency key such as Toloka's ``operation_id``). Blindly repeating a create
  is how vendor SDKs end up with duplicate pools.
* 429 is a refusal, so any method may be repeated: we wait ``Retry-After`` (or at least
  ``min_rate_limit_wait`` when the header is missing) up to ``max_rate_limit_retries`` times. A wait
  longer than ``max_retry_after`` (a daily quota) raises ``RateLimitError`` instead of sleeping.
* Other errors become typed exceptions carrying the vendor's code and message; the backend supplies
  ``parse_error`` to read its own error body.
* The credential is added by a ``requests`` auth hook at send time, never stored in session
  headers, logged, or included in error messages.
* No cookie jar by default (``cookies=False``): every request carries its own credential, so a
  cookie could only add a second, unmanaged one. Django vendors (Label Studio) answer a
  token-authenticated request with a ``sessionid`` cookie; sent back, it makes the server treat the
  client as a browser session (CSRF checks on writes, a login that outlives a revoked token) and it
  would end up in cassettes. ``cookies=True`` is for a vendor that really needs them (load-balancer
  stickiness, a cookie-based login).
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import SecretStr

from annotate_core.errors import (
    AuthenticationError,
    ConfigError,
    ConflictError,
    FieldProblem,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    TransportError,
    VendorError,
    VendorValidationError,
)
from annotate_core.json_bodies import response_json
from annotate_core.secrets import SENSITIVE_NAMES, redact, register_secret

if TYPE_CHECKING:  # requests loads when the first client is built (http_session.py), not with this module
    import requests

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
RETRY_STATUSES = (408, 500, 502, 503, 504)


@dataclass(frozen=True)
class ErrorInfo:
    """What a backend's ``parse_error`` extracts from a vendor error body."""

    message: str
    code: str | None = None
    details: tuple[FieldProblem, ...] = ()
    request_id: str | None = None
    #: the error type to raise when the HTTP status alone would choose wrong (a vendor that answers
    #: an expired token with 403, or a quota with 400 and a code); None: chosen by status
    error: type[VendorError] | None = None


def default_parse_error(response: requests.Response) -> ErrorInfo:
    """Best effort for unknown vendors: ``{"code":..., "message":...}`` or the raw text."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return ErrorInfo(text[:300] or response.reason or f"HTTP {response.status_code}")
    if isinstance(body, dict):
        msg = body.get("message") or body.get("error") or body.get("detail") or response.reason
        code = body.get("code") or body.get("errorCode")
        return ErrorInfo(str(msg), str(code) if code is not None else None)
    return ErrorInfo(str(body)[:300])


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _is_seconds(value: object) -> TypeGuard[float]:
    return not isinstance(value, bool) and isinstance(value, int | float) and value > 0


def request_timeout(backend: str, value: object) -> float | tuple[float, float]:
    """A backend's ``timeout`` option as requests takes it: seconds, or ``[connect, read]`` seconds
    (TOML has no tuples, so the pair arrives as a list). Every vendor backend reads it the same way."""
    if _is_seconds(value):
        return value
    if isinstance(value, list | tuple) and len(value) == 2 and all(_is_seconds(v) for v in value):
        return (value[0], value[1])
    raise ConfigError(f"{backend}: option 'timeout' must be seconds > 0 or [connect, read] seconds, got {value!r}")


def safe_url(url: str) -> str:
    """The URL with credential-like query parameters masked, for logs and errors."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, "***" if k.lower() in SENSITIVE_NAMES else v) for k, v in pairs]
    return urlunsplit(parts._replace(query=urlencode(query)))


class HttpClient:
    """A configured ``requests`` session for one vendor API.

    ``credential`` is the full header value (e.g. ``SecretStr("OAuth y0_...")``) or a callable that
    returns it fresh for every request (for refreshable tokens). ``cookies``: False (the default)
    refuses every cookie the server sets and sends none, on redirects too; True keeps a normal
    ``requests`` cookie jar (see the module docstring for why it is off).
    """

    def __init__(
        self,
        base_url: str,
        *,
        backend: str,
        credential: SecretStr | Callable[[], str] | None = None,
        auth_header: str = "Authorization",
        timeout: float | tuple[float, float] = (10.0, 60.0),
        retries: int = 5,
        backoff_factor: float = 0.5,
        max_rate_limit_retries: int = 5,
        min_rate_limit_wait: float = 1.0,
        max_retry_after: float = 300.0,
        rate_limit_wait: Callable[[requests.Response], float | None] | None = None,
        parse_error: Callable[[requests.Response], ErrorInfo] = default_parse_error,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str | None = None,
        cookies: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.backend = backend
        self.timeout = timeout
        self.max_rate_limit_retries = max_rate_limit_retries
        self.min_rate_limit_wait = min_rate_limit_wait
        self.max_retry_after = max_retry_after
        # Vendor hook: seconds to wait for a 429 without Retry-After, read from the body (e.g. a quota
        # interval); a value above max_retry_after raises RateLimitError instead of sleeping.
        self.rate_limit_wait = rate_limit_wait
        self.parse_error = parse_error
        self.sleep = sleep
        self.cookies = cookies
        from annotate_core.http_session import HeaderAuth, make_session

        auth: requests.auth.AuthBase | None = None
        if isinstance(credential, SecretStr):
            register_secret(credential.get_secret_value())
            secret = credential
            auth = HeaderAuth(auth_header, secret.get_secret_value)
        elif callable(credential):
            auth = HeaderAuth(auth_header, credential)
        from annotate_core import __version__

        base_headers = {"User-Agent": user_agent or f"annotate/{__version__}", "Accept": "application/json"}
        base_headers.update(headers or {})
        # Two sessions that differ only in which methods urllib3 may repeat on 5xx / connection errors.
        sleeper = self._sleep_for_retry
        self._strict = make_session(retries, backoff_factor, IDEMPOTENT_METHODS, auth, base_headers, sleeper,
                                    cookies=cookies)
        self._keyed = make_session(
            retries, backoff_factor, IDEMPOTENT_METHODS | {"POST", "PATCH"}, auth, base_headers, sleeper,
            cookies=cookies,
        )
        self._keyed.cookies = self._strict.cookies  # one jar: a cookie a GET received goes with the next POST

    def _sleep_for_retry(self, seconds: float) -> None:
        """urllib3's waits (5xx backoff, 503 Retry-After) go through ``self.sleep`` like 429 waits."""
        log.debug("retrying after %.2fs", seconds)
        self.sleep(seconds)

    def __repr__(self) -> str:
        return f"HttpClient(base_url={self.base_url!r}, backend={self.backend!r})"

    def stored_cookies(self) -> dict[str, str]:
        """The cookies the client would send back (always empty with ``cookies=False``), for tests."""
        return self._strict.cookies.get_dict()

    def close(self) -> None:
        self._strict.close()
        self._keyed.close()

    # ---- requests -----------------------------------------------------------------------------

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        expect: tuple[int, ...] = (),
    ) -> requests.Response:
        """Send a request under the retry policy; return the response or raise a typed error.

        ``idempotent`` defaults to the method's own semantics; pass True for a POST that carries
        an idempotency key. Statuses in ``expect`` are returned instead of raised.
        """
        import requests

        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        session = self._keyed if idempotent else self._strict
        url = self.url(path)
        shown = safe_url(url + ("?" + urlencode(params, doseq=True) if params else ""))
        for attempt in range(self.max_rate_limit_retries + 1):
            started = time.monotonic()
            try:
                resp = session.request(
                    method, url, params=params, json=json, data=data, headers=headers, timeout=self.timeout,
                    stream=True,
                )
                read_body(resp)
            except requests.exceptions.RetryError as exc:
                raise TransportError(f"{method} {shown}: gave up after retries ({_reason(exc)})",
                                     backend=self.backend) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                raise TransportError(f"{method} {shown}: {_reason(exc)}", backend=self.backend) from None
            log.debug("%s %s -> %s (%.2fs)", method, shown, resp.status_code, time.monotonic() - started)
            if resp.status_code != 429 or 429 in expect:
                break
            wait = parse_retry_after(resp.headers.get("Retry-After"))
            if wait is None and self.rate_limit_wait is not None:
                wait = self.rate_limit_wait(resp)
            if wait is not None and wait > self.max_retry_after:
                raise self._error(resp, method, shown, retry_after=wait)
            if attempt == self.max_rate_limit_retries:
                raise self._error(resp, method, shown, retry_after=wait)
            wait = self.min_rate_limit_wait if wait is None else wait
            log.info("%s %s: rate limited, waiting %.1fs (attempt %d)", method, shown, wait, attempt + 1)
            self.sleep(wait)
        if resp.status_code >= 400 and resp.status_code not in expect:
            raise self._error(resp, method, shown)
        return resp

    def json(self, method: str, path: str, *, shape: Any = None, **kw: Any) -> Any:
        """``request`` and decode a JSON body; a non-JSON 2xx body is a ``MalformedResponseError``.
        ``shape``: the keys the caller reads of a big body (``json_bodies.response_json``)."""
        resp = self.request(method, path, **kw)
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return response_json(resp, shape)
        except ValueError:
            raise MalformedResponseError(
                f"{method} {safe_url(resp.url or path)}: expected a JSON body, got "
                f"{resp.headers.get('Content-Type', 'no content type')}: {redact(resp.text[:120])!r}",
                status=resp.status_code, backend=self.backend,
            ) from None

    def get(self, path: str, **kw: Any) -> Any:
        return self.json("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.json("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Any:
        return self.json("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Any:
        return self.json("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.json("DELETE", path, **kw)

    # ---- errors -------------------------------------------------------------------------------

    def _error(self, resp: requests.Response, method: str, shown: str, retry_after: float | None = None) -> VendorError:
        info = self.parse_error(resp)
        message = redact(f"{method} {shown}: {info.message}")
        kw: dict[str, Any] = {
            "status": resp.status_code,
            "code": info.code,
            "backend": self.backend,
            "request_id": info.request_id,
        }
        try:
            kw["payload"] = resp.json()
        except ValueError:
            kw["payload"] = None
        status = resp.status_code
        if info.error is not None:
            if issubclass(info.error, RateLimitError):
                return info.error(message, retry_after=retry_after, **kw)
            if issubclass(info.error, VendorValidationError):
                return info.error(message, details=info.details, **kw)
            return info.error(message, **kw)
        if status == 429:
            return RateLimitError(message, retry_after=retry_after, **kw)
        if status == 401:
            return AuthenticationError(message, **kw)
        if status == 403:
            return PermissionDeniedError(message, **kw)
        if status == 404:
            return NotFoundError(message, **kw)
        if status == 409:
            return ConflictError(message, **kw)
        if status in (400, 422):
            return VendorValidationError(message, details=info.details, **kw)
        return VendorError(message, **kw)


#: how much of a body is read at a time (requests' own reads take 10 kB)
BODY_CHUNK = 1 << 20


def read_body(resp: requests.Response) -> None:
    """Read a response's whole body now, as requests does for a request that does not stream, but
    in chunks of a MiB: requests reads 10 kB at a time, and on pages of a MB (Dataloop's 1,000 items
    or annotations) the hundred reads a page took cost about as much CPU as decoding its JSON."""
    resp._content = b"".join(resp.iter_content(BODY_CHUNK)) or b""


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "args", [None])[0]
    inner = getattr(reason, "reason", None)
    return redact(str(inner or reason or exc))


def dumps(payload: Any) -> str:
    """Compact JSON exactly as we send it (used by plans to show request bodies)."""
    return jsonlib.dumps(payload, separators=(",", ":"), ensure_ascii=False)
