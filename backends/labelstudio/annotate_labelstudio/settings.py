"""Profile options of the Label Studio backend, validated once with errors naming the option.

An ``annotate.toml`` profile::

    [profiles.studio]
    driver = "labelstudio"
    url = "http://127.0.0.1:8080"     # the server's root URL (what you open in a browser)
    token_env = "LABEL_STUDIO_TOKEN"  # a legacy API token or a personal access (refresh) token
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from annotate_core.errors import ConfigError
from annotate_core.http import request_timeout
from annotate_core.secrets import register_secret

BACKEND = "labelstudio"

OPTION_HELP = {
    "url": "the server's root URL, e.g. http://127.0.0.1:8080 (needed by everything but planning)",
    "token": "a legacy API token (sent as 'Token ...') or a personal access token, a JWT refresh token "
    "exchanged for short-lived 'Bearer' access tokens (give token_env = 'VAR' in the profile)",
    "token_type": "'legacy', 'refresh' or 'auto' (default: told from the token's shape, a JWT is a refresh token)",
    "page_size": "objects per list request (default 100)",
    "import_chunk_size": "tasks per import request (default 500)",
    "timeout": "HTTP timeout in seconds, or [connect, read] (default [10, 60])",
    "retries": "retries of reads on 5xx and network errors; creates are looked up before any resend (default 5)",
    "backoff_factor": "exponential backoff factor for those retries (default 0.5)",
    "sleep": "callable used to wait (tests inject a no-op)",
}

TOKEN_TYPES = ("legacy", "refresh", "auto")




def looks_like_jwt(token: str) -> bool:
    """Label Studio's personal access tokens are JWTs (``eyJ...``, three dot-separated parts); legacy
    tokens are 40 hex characters."""
    return token.startswith("eyJ") and token.count(".") == 2


@dataclass
class Settings:
    url: str = ""
    token: SecretStr | None = None
    token_type: str = "auto"
    page_size: int = 100
    import_chunk_size: int = 500
    timeout: float | tuple[float, float] = (10.0, 60.0)
    retries: int = 5
    backoff_factor: float = 0.5
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Settings:
        unknown = sorted(set(options) - set(OPTION_HELP))
        if unknown:
            known = "; ".join(f"{k}: {v}" for k, v in OPTION_HELP.items())
            raise ConfigError(f"{BACKEND}: unknown option(s) {unknown}. Known options: {known}")
        s = cls(**{k: v for k, v in options.items() if v is not None})
        s._validate()
        return s

    def _validate(self) -> None:
        # no URL is fine for planning (`annotate plan --backend labelstudio`); the first request needs one
        if not isinstance(self.url, str) or (self.url and not self.url.startswith(("http://", "https://"))):
            raise ConfigError(f"{BACKEND}: option 'url' must be the server's http(s) root URL, e.g. "
                              f"http://127.0.0.1:8080, got {self.url!r}")
        self.url = self.url.rstrip("/")
        if self.url.endswith("/api"):
            self.url = self.url[: -len("/api")]
        if isinstance(self.token, str):  # accepted for scripts; kept secret from here on
            register_secret(self.token)
            self.token = SecretStr(self.token)
        if self.token is not None and not isinstance(self.token, SecretStr):
            raise ConfigError(f"{BACKEND}: option 'token' must be a string (give token_env in the profile)")
        if self.token_type not in TOKEN_TYPES:
            raise ConfigError(f"{BACKEND}: option 'token_type' must be one of {list(TOKEN_TYPES)}, "
                              f"got {self.token_type!r}")
        for name, top in (("page_size", 1000), ("import_chunk_size", 10_000)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
                raise ConfigError(f"{BACKEND}: option {name!r} must be an integer 1-{top}, got {value!r}")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ConfigError(f"{BACKEND}: option 'retries' must be an integer >= 0, got {self.retries!r}")
        if isinstance(self.backoff_factor, bool) or not isinstance(self.backoff_factor, int | float) \
                or self.backoff_factor < 0:
            raise ConfigError(f"{BACKEND}: option 'backoff_factor' must be a number >= 0, got {self.backoff_factor!r}")
        self.timeout = request_timeout(BACKEND, self.timeout)
        if not callable(self.sleep):
            raise ConfigError(f"{BACKEND}: option 'sleep' must be a callable")

    def server(self) -> str:
        if not self.url:
            raise ConfigError(f"{BACKEND}: no server URL. Set url = 'http://host:8080' (the address you open "
                              "Label Studio at) in the profile")
        return self.url

    def secret(self) -> str:
        if self.token is None:
            raise ConfigError(
                f"{BACKEND}: no API token. Set token_env = 'LABEL_STUDIO_TOKEN' in the profile (or pass "
                "token_env='LABEL_STUDIO_TOKEN' to connect) and export the token (Account & Settings > "
                "Personal Access Token, or a legacy token) in that variable")
        return self.token.get_secret_value()

    def is_refresh_token(self) -> bool:
        if self.token_type != "auto":
            return self.token_type == "refresh"
        return looks_like_jwt(self.secret())
