"""The two token types of Label Studio: legacy API tokens and personal access (refresh) tokens.

A legacy token goes out as ``Authorization: Token <token>`` on every request. A personal access token
is a JWT refresh token: it is never sent to the API itself, only to ``POST /api/token/refresh/``, which
answers a short-lived access token (``{"access": ...}``, minutes) sent as ``Authorization: Bearer``.
``AccessTokens`` keeps the current one and asks for a new one shortly before it expires (its ``exp``
read without verifying the signature, as the official SDK does), so no request meets an expired token.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from annotate_core.errors import MalformedResponseError
from annotate_core.secrets import register_secret
from annotate_labelstudio.settings import BACKEND

#: an access token is renewed this many seconds before its ``exp``
EXPIRY_MARGIN = 30.0
REFRESH_PATH = "/api/token/refresh/"


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT (unverified), or None when it has none or is no JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims: Any = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (binascii.Error, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


class AccessTokens:
    """The ``Bearer`` header value for a refresh token, renewed before it expires.

    ``exchange(refresh_token) -> response body`` posts to the refresh endpoint (the backend passes a
    call through an unauthenticated ``HttpClient``); ``clock`` is injectable for tests.
    """

    def __init__(self, refresh_token: str, exchange: Callable[[str], Any], *,
                 clock: Callable[[], float] = time.time) -> None:
        self._refresh = refresh_token
        self._exchange = exchange
        self._clock = clock
        self._access: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def header(self) -> str:
        with self._lock:
            if self._access is None or self._clock() >= self._expires - EXPIRY_MARGIN:
                self._renew()
            assert self._access is not None
            return f"Bearer {self._access}"

    def _renew(self) -> None:
        body = self._exchange(self._refresh)
        access = body.get("access") if isinstance(body, dict) else None
        if not isinstance(access, str) or not access:
            raise MalformedResponseError(f"POST {REFRESH_PATH}: no 'access' token in the answer", backend=BACKEND)
        register_secret(access)
        register_secret(f"Bearer {access}")
        self._access = access
        # without an exp claim, renew every minute rather than never
        self._expires = jwt_expiry(access) or self._clock() + 60.0
