"""Profile options of the Toloka backend, validated once with errors naming the option.

An ``annotate.toml`` profile::

    [profiles.toloka]
    driver = "toloka"
    token_env = "TOLOKA_TOKEN"      # the secret comes from the environment, never the file
    # auth_scheme = "ApiKey"         # or "OAuth"; by default told apart by the token's shape, as toloka-kit does
    # base_url = "https://toloka.dev/api"   # the API root; "https://toloka.dev" (toloka-kit's url) gets "/api"
    # act_under_account_id = "..."   # X-Act-Under-Account-ID: act on a shared account
    # upload_chunk_size = 10000      # tasks per async upload request (max 10000)
    # poll_interval = 1.0            # seconds between operation polls
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from annotate_core.errors import ConfigError
from annotate_core.http import request_timeout
from annotate_core.secrets import register_secret
from annotate_toloka.tasks import MAX_CHUNK
from annotate_toloka.wire import AUTH_SCHEMES, PRODUCTION_URL

#: ``auth_scheme`` default: the scheme is told from the token's shape (``guess_auth_scheme``)
AUTO_SCHEME = "auto"

OPTION_HELP = {
    "token": "API key or OAuth token (give token_env = 'VAR' in the profile)",
    "auth_scheme": f"one of {list(AUTH_SCHEMES)}, or 'auto' (default): ApiKey for a token shaped like Toloka's "
    "API keys (two dots, the first after 22-24 characters), OAuth otherwise, as toloka-kit decides",
    "base_url": f"API root ending in /api (default {PRODUCTION_URL}); a bare host such as https://toloka.dev, "
    "toloka-kit's url, gets /api appended",
    "act_under_account_id": "requester id to act for (X-Act-Under-Account-ID header)",
    "upload_chunk_size": f"tasks per upload request, 1-{MAX_CHUNK} (default {MAX_CHUNK})",
    "poll_interval": "seconds between operation polls (default 1)",
    "operation_timeout": "seconds to wait for one operation (default 3600)",
    "page_size": "objects per list request (default 1000)",
    "timeout": "HTTP timeout in seconds, or [connect, read] (default [10, 60])",
    "retries": "retries of idempotent requests on 5xx and network errors (default 5)",
    "backoff_factor": "exponential backoff factor for those retries (default 0.5)",
    "min_rate_limit_wait": "seconds to wait on a 429 that names no wait (default 2: Toloka's global limit); "
    "a per-minute quota (payload.interval MIN) waits 60",
    "max_retry_after": "longest 429 wait to sleep out; longer quotas raise RateLimitError (default 300)",
    "store_spec": "store the job spec in the pool metadata so get_spec works (default true)",
    "sleep": "callable used to wait (tests inject a no-op)",
    "clock": "callable returning the current UTC datetime (tests pin it)",
}


def guess_auth_scheme(token: str) -> str:
    """``ApiKey`` or ``OAuth`` from the token's shape, exactly as toloka-kit 1.2.3 decides
    (``TolokaClient.__is_apikey``): Toloka's API keys have two dots, the first after 22-24 characters;
    anything else is sent as a classic OAuth token. Profiles that know better set ``auth_scheme``."""
    if token.count(".") != 2:
        return "OAuth"
    return "ApiKey" if 21 < token.find(".") < 25 else "OAuth"


def _base_url(value: object) -> str:
    """The API root, ending in ``/api``: every path the backend sends starts with ``/v1`` or
    ``/staging`` under it, so any other root makes every call a 404. A bare host (toloka-kit's
    ``url``, to which toloka-kit adds ``/api`` itself) gets ``/api`` appended; anything else is refused."""
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise ConfigError(f"toloka: option 'base_url' must be an http(s) URL, got {value!r}")
    url = value.rstrip("/")
    if url.endswith("/api"):
        return url
    if urlsplit(url).path == "":
        return url + "/api"
    raise ConfigError(f"toloka: option 'base_url' must be the API root ending in /api (e.g. {PRODUCTION_URL}), "
                      f"got {value!r}: the backend adds /v1/... itself, so any other path makes every call a 404")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)




@dataclass
class Settings:
    token: SecretStr | None = None
    auth_scheme: str = AUTO_SCHEME
    base_url: str = PRODUCTION_URL
    act_under_account_id: str | None = None
    upload_chunk_size: int = MAX_CHUNK
    poll_interval: float = 1.0
    operation_timeout: float = 3600.0
    page_size: int = 1000
    timeout: float | tuple[float, float] = (10.0, 60.0)
    retries: int = 5
    backoff_factor: float = 0.5
    min_rate_limit_wait: float = 2.0
    max_retry_after: float = 300.0
    store_spec: bool = True
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], datetime] = field(default=_utcnow, repr=False)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Settings:
        unknown = sorted(set(options) - set(OPTION_HELP))
        if unknown:
            known = "; ".join(f"{k}: {v}" for k, v in OPTION_HELP.items())
            raise ConfigError(f"toloka: unknown option(s) {unknown}. Known options: {known}")
        s = cls(**{k: v for k, v in options.items() if v is not None})
        s._validate()
        return s

    def _validate(self) -> None:
        if isinstance(self.token, str):  # accepted for scripts; kept secret from here on
            register_secret(self.token)
            self.token = SecretStr(self.token)
        if self.token is not None and not isinstance(self.token, SecretStr):
            raise ConfigError("toloka: option 'token' must be a string (give token_env in the profile)")
        if self.auth_scheme not in (*AUTH_SCHEMES, AUTO_SCHEME):
            raise ConfigError(f"toloka: option 'auth_scheme' must be one of {[*AUTH_SCHEMES, AUTO_SCHEME]}, "
                              f"got {self.auth_scheme!r}")
        self.base_url = _base_url(self.base_url)
        if not isinstance(self.upload_chunk_size, int) or not 1 <= self.upload_chunk_size <= MAX_CHUNK:
            raise ConfigError(f"toloka: option 'upload_chunk_size' must be an integer 1-{MAX_CHUNK}, "
                              f"got {self.upload_chunk_size!r}")
        if not isinstance(self.page_size, int) or not 1 <= self.page_size <= 100_000:
            raise ConfigError(f"toloka: option 'page_size' must be an integer 1-100000, got {self.page_size!r}")
        for name in ("poll_interval", "operation_timeout", "min_rate_limit_wait", "max_retry_after",
                     "backoff_factor"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigError(f"toloka: option {name!r} must be a number >= 0, got {value!r}")
        self.timeout = request_timeout("toloka", self.timeout)
        if not callable(self.sleep) or not callable(self.clock):
            raise ConfigError("toloka: options 'sleep' and 'clock' must be callables")

    def credential(self) -> SecretStr:
        if self.token is None:
            raise ConfigError(
                "toloka: no API token. Set token_env = 'TOLOKA_TOKEN' in the profile (or pass "
                "token_env='TOLOKA_TOKEN' to connect) and export the key in that variable"
            )
        token = self.token.get_secret_value()
        scheme = guess_auth_scheme(token) if self.auth_scheme == AUTO_SCHEME else self.auth_scheme
        value = f"{scheme} {token}"
        register_secret(value)
        return SecretStr(value)

    def now(self) -> datetime:
        now = self.clock()
        return now if now.tzinfo else now.replace(tzinfo=timezone.utc)
