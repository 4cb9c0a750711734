"""Keeping credentials out of logs, reprs, errors and cassettes.

Secrets enter the library in exactly one place: a profile option named ``<name>_env`` is read from
the environment and handed to the backend as a pydantic ``SecretStr``. Every value read that way is
also registered here, so the logging filter can scrub it from any message that a third-party library
(urllib3, requests) might log, as a second line of defence behind SecretStr.
"""

from __future__ import annotations

import logging
import re
import threading

REDACTED = "***"

_lock = threading.Lock()
_known: set[str] = set()
_pattern: re.Pattern[str] | None = None

# Header and query names whose values are credentials whatever their content.
SENSITIVE_NAMES = frozenset(
    {"authorization", "x-api-key", "api_key", "apikey", "token", "access_token", "refresh_token",
     "password", "secret", "client_secret", "cookie", "set-cookie", "x-auth-token"}
)

# Option names that must never hold a literal secret in a config file.
SECRET_OPTION_HINTS = ("token", "api_key", "apikey", "password", "secret", "credential")


def register_secret(value: str | None) -> None:
    """Remember a secret value so the logging filter can scrub it wherever it appears."""
    global _pattern
    if not value or len(value) < 4:
        return
    with _lock:
        if value in _known:
            return
        _known.add(value)
        _pattern = re.compile("|".join(re.escape(v) for v in sorted(_known, key=len, reverse=True)))


def known_secrets() -> frozenset[str]:
    """Every secret value registered so far (credential options, refreshed tokens): what the cassette
    scrubber replaces wherever it appears."""
    with _lock:
        return frozenset(_known)


def redact(text: str) -> str:
    """Replace every registered secret in ``text`` with ``***``."""
    pattern = _pattern
    return pattern.sub(REDACTED, text) if pattern is not None else text


_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/:@\s]+:)[^@\s]+@", re.IGNORECASE)


def mask_url_passwords(text: str) -> str:
    """``text`` with the password of every URL in it (``postgresql://user:pw@host/db``) masked."""
    return _URL_PASSWORD.sub(r"\g<head>***@", text)


def scrub(text: str) -> str:
    """``text`` safe to show a user: URL passwords masked and every registered secret replaced."""
    return redact(mask_url_passwords(text))


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """A copy of ``headers`` safe to log."""
    return {k: (REDACTED if k.lower() in SENSITIVE_NAMES else redact(str(v))) for k, v in headers.items()}


def looks_secret(option_name: str) -> bool:
    """Whether a config option name suggests it carries a credential."""
    name = option_name.lower()
    return any(hint in name for hint in SECRET_OPTION_HINTS)


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs registered secrets from every record it sees."""

    #: switched off by the conformance suite, which checks what a backend logs, not what this catches
    active = True

    def filter(self, record: logging.LogRecord) -> bool:
        if _pattern is None or not RedactingFilter.active:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_installed = False


def install_log_redaction() -> None:
    """Attach the redacting filter to the handlers of the root logger and our loggers.

    Filters on loggers do not apply to records propagated from child loggers, so the filter goes on
    handlers; it is also added to the ``annotate`` and ``urllib3`` loggers for records logged
    before a handler exists.
    """
    global _installed
    flt = RedactingFilter()
    for name in ("annotate_core", "annotate", "urllib3", "requests"):
        lg = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in lg.filters):
            lg.addFilter(flt)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(flt)
    _installed = True
