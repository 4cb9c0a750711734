"""The ``requests`` side of ``http.py``: a session whose urllib3 ``Retry`` honours the client's policy,
and the auth hook that adds the credential at send time.

Kept apart so that importing ``annotate_core.http`` (and every backend module that only needs its
``ErrorInfo`` or ``dumps``) does not load requests and urllib3: they load when a client is built.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from annotate_core.http import RETRY_STATUSES


class _Retry(Retry):
    """urllib3's Retry, minus 429 handling (ours, above it) and with Retry-After waits capped.

    Left alone, urllib3 would sleep out any Retry-After on a 429 — a daily quota's included —
    inside the connection pool where nothing can interrupt it.
    """

    RETRY_AFTER_STATUS_CODES = frozenset({503})
    MAX_RETRY_AFTER = 60.0

    def __init__(self, *args: Any, sleeper: Callable[[float], None] = time.sleep, **kw: Any) -> None:
        super().__init__(*args, **kw)
        # The client's injectable sleep, for 503 Retry-After and backoff waits too: a test that replays
        # a 503 must not really sleep, and a caller's own sleep sees every wait.
        self.sleeper = sleeper

    def new(self, **kw: Any) -> _Retry:
        fresh = super().new(**kw)
        fresh.sleeper = self.sleeper
        return fresh

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        value = super().get_retry_after(response)
        return None if value is None else min(value, self.MAX_RETRY_AFTER)

    def sleep_for_retry(self, response: BaseHTTPResponse) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after:
            self.sleeper(retry_after)
            return True
        return False

    def _sleep_backoff(self) -> None:
        backoff = self.get_backoff_time()
        if backoff > 0:
            self.sleeper(backoff)


class HeaderAuth(requests.auth.AuthBase):
    """Adds the credential header at send time; its repr never shows the value."""

    def __init__(self, header: str, value: Callable[[], str]):
        self.header = header
        self._value = value

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers[self.header] = self._value()
        return r

    def __repr__(self) -> str:
        return f"HeaderAuth({self.header!r}, '***')"


class _CookielessSession(requests.Session):
    """A session that keeps no cookie and sends none.

    The jar's policy refuses every cookie a response sets, and each hop (redirects included: requests
    builds their jar afresh from the response) goes out without a ``Cookie`` header.
    """

    def __init__(self) -> None:
        super().__init__()
        self.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        request.headers.pop("Cookie", None)
        return super().send(request, **kwargs)


def make_session(
    retries: int,
    backoff: float,
    methods: frozenset[str],
    auth: requests.auth.AuthBase | None,
    headers: Mapping[str, str],
    sleeper: Callable[[float], None],
    *,
    cookies: bool = False,
) -> requests.Session:
    """A session that lets urllib3 repeat ``methods`` on connection errors and ``RETRY_STATUSES``;
    with ``cookies=False`` it neither keeps nor sends cookies."""
    retry = _Retry(
        sleeper=sleeper,
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        allowed_methods=methods,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff,
        backoff_max=60,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )
    s = requests.Session() if cookies else _CookielessSession()
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=8)
    s.mount("https://", adapter)
    s.mount("http://", adapter)
    s.auth = auth
    s.headers.update(headers)
    return s
