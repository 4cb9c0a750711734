"""Bearer tokens: expiry checked before sending, refreshed through the token endpoint when possible.

Dataloop's credentials are JWTs — user tokens (24 h) and API keys (1 year) alike. Like dtlpy, we
read ``exp`` without verifying the signature and treat a token as expired 60 s early
(reference §1.2); unlike dtlpy, an expired token without a refresh token is a clear
``AuthenticationError`` raised *before* the request, never a 401 after it.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from pydantic import SecretStr

from annotate_core.errors import AuthenticationError, MalformedResponseError
from annotate_core.secrets import register_secret
from annotate_dataloop.wire import BACKEND

log = logging.getLogger(__name__)

#: seconds before ``exp`` at which a token counts as expired [K api_client.py:1526-1560]
EXPIRY_MARGIN = 60.0


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT, unverified; None when ``token`` is not a JWT (an opaque key)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def token_email(token: SecretStr | None) -> str | None:
    """The ``email`` claim dtlpy uses as the default task owner (reference §1.2)."""
    if token is None:
        return None
    claims = jwt_claims(token.get_secret_value()) or {}
    email = claims.get("email")
    return email.lower() if isinstance(email, str) and email else None


class TokenSource:
    """The current bearer token, renewed through ``refresh`` when it is about to expire.

    ``refresh`` is a callable ``(refresh_token) -> id_token`` (the backend posts to
    ``/token?default``); ``clock`` is injectable for tests.
    """

    def __init__(
        self,
        token: SecretStr | None,
        *,
        refresh_token: SecretStr | None = None,
        refresh: Callable[[str], str] | None = None,
        clock: Callable[[], float] = time.time,
        env_hint: str = "DATALOOP_TOKEN",
    ) -> None:
        self._token = token
        self._refresh_token = refresh_token
        self._refresh = refresh
        self._clock = clock
        self._env_hint = env_hint
        self._lock = threading.Lock()
        if token is not None:
            register_secret(token.get_secret_value())
        if refresh_token is not None:
            register_secret(refresh_token.get_secret_value())

    def __repr__(self) -> str:
        return f"TokenSource(token={'***' if self._token else None}, refresh={'yes' if self._refresh_token else 'no'})"

    @property
    def configured(self) -> bool:
        return self._token is not None or self._refresh_token is not None

    def expires_at(self) -> float | None:
        if self._token is None:
            return None
        exp = (jwt_claims(self._token.get_secret_value()) or {}).get("exp")
        return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None

    def _expired(self) -> bool:
        exp = self.expires_at()
        return exp is not None and self._clock() >= exp - EXPIRY_MARGIN

    def ensure_fresh(self) -> None:
        """Refresh or refuse before a request is built; never lets an expired token reach the wire."""
        with self._lock:
            if self._token is not None and not self._expired():
                return
            if self._token is None and self._refresh_token is None:
                raise AuthenticationError(
                    f"no Dataloop token: set the profile option token_env (e.g. token_env = \"{self._env_hint}\") "
                    "to an environment variable holding an API key or JWT",
                    backend=BACKEND,
                )
            if self._refresh_token is None or self._refresh is None:
                exp = self.expires_at()
                when = datetime.fromtimestamp(exp, tz=timezone.utc).isoformat() if exp else "?"
                raise AuthenticationError(
                    f"the Dataloop token expired at {when} (or expires within {EXPIRY_MARGIN:.0f}s); "
                    f"put a fresh API key or JWT in ${self._env_hint}, or configure refresh_token_env "
                    "so annotate can renew it",
                    backend=BACKEND,
                )
            log.info("Dataloop token expired or missing; refreshing it")
            fresh = self._refresh(self._refresh_token.get_secret_value())
            if not isinstance(fresh, str) or not fresh:
                raise MalformedResponseError("POST /token: response has no 'id_token'", backend=BACKEND)
            register_secret(fresh)
            self._token = SecretStr(fresh)
            if self._expired():
                raise AuthenticationError(
                    "the refreshed Dataloop token is already expired; log in again", backend=BACKEND
                )

    def header(self) -> str:
        """The ``authorization`` header value (called by the HTTP layer at send time)."""
        if self._token is None:  # pragma: no cover - ensure_fresh runs first
            raise AuthenticationError("no Dataloop token", backend=BACKEND)
        return "Bearer " + self._token.get_secret_value()

    def email(self) -> str | None:
        return token_email(self._token)
