"""Credentials never reach a cassette: recording settings that scrub by default, and a scan that proves it.

A cassette recorded against a live account holds whatever crossed the wire: the ``Authorization``
header, the ``sessionid`` a Django vendor sets on a token-authenticated reply, a refresh token in a
token exchange's body, an API key in a query string. Filtering only the ``Authorization`` header
(what most vcrpy examples show) leaks the rest. So:

* ``recording_config(**vcr_options)`` is what a plugin's ``vcr_config`` fixture returns: the
  options given, plus request and response hooks that drop credential headers (``Authorization``,
  ``Cookie``, ``Set-Cookie``, ``X-Api-Key``, anything named like a token, secret, session or CSRF
  header) and replace credential values in JSON and form bodies and in query strings (``token``,
  ``password``, ``secret``, ``api_key``, ``refresh``, ``access``, ``sessionid``, ``csrftoken``...)
  and every secret value the process knows (``annotate_core.secrets``), with ``REDACTED``. The hooks
  run on the requests a replay sends too (vcrpy filters both sides before matching), so a scrubbed
  body still matches. ``BackendConformance`` applies it on top of whatever ``vcr_config`` a plugin
  defines, so the suite's cassettes are scrubbed even if the plugin forgets.
* ``scan_cassettes(paths, ...)`` reads every cassette and reports each credential left: credential
  headers, credential fields in bodies and queries, known secret values (the backend's options,
  secret-looking environment variables) and token-shaped strings (JWTs, ``Bearer``/``Token``
  headers, cookies, cloud keys), naming the file and the place, never the value.
  ``BackendConformance.test_cassettes_hold_no_secrets`` runs it for every backend with credentials.

Known fakes a backend must replay (a JWT whose expiry it reads) are passed as ``fakes`` and left alone.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from annotate_core.secrets import known_secrets, looks_secret

REDACTED = "REDACTED"

#: header names whose values are credentials whatever they hold
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key",
                            "api-key", "apikey", "x-auth-token", "x-access-token", "x-csrftoken", "x-csrf-token",
                            "x-xsrf-token", "x-amz-security-token"})
_SECRET_HEADER = re.compile(r"token|secret|api[-_]?key|password|session|csrf|xsrf|auth", re.IGNORECASE)
#: header names that match the pattern above but carry no credential (a server's challenge names a scheme)
NOT_SECRET_HEADERS = frozenset({"www-authenticate", "proxy-authenticate"})

#: body, form and query field names that hold credentials (compared lower-case, ``-`` read as ``_``)
SECRET_FIELDS = frozenset({"token", "access", "refresh", "jwt", "password", "passwd", "secret", "api_key", "apikey",
                           "sessionid", "session_id", "csrftoken", "csrfmiddlewaretoken", "authorization",
                           "credential", "credentials", "private_key", "client_secret", "auth"})
_SECRET_FIELD = re.compile(
    r"(token|password|passwd|secret|api_?key|access_?key|secret_?key|private_?key|session_?id|csrf\w*)$")
#: field names that end like a credential but are not one (pagination cursors, token metadata)
NOT_SECRET_FIELDS = frozenset({"page_token", "next_page_token", "next_token", "continuation_token", "token_type",
                               "sync_token", "cursor_token"})

#: strings that are credentials wherever they appear, with a name for the report
TOKEN_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("JWT", re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")),
    # a scheme then a credential-like word (digits in it: "Token authentication" is prose, not a token)
    ("credential header value",
     re.compile(r"\b(?:Bearer|Token|OAuth|ApiKey|Basic)\s+(?=[A-Za-z._~+/=-]*\d)[A-Za-z0-9._~+/=-]{12,}")),
    ("session or CSRF cookie", re.compile(r"\b(?:sessionid|csrftoken|session|_session_id)=[^;\s\"',]{8,}")),
    ("Yandex OAuth token", re.compile(r"\by[0-3]_[A-Za-z0-9_-]{30,}")),
    ("AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
)

#: shortest value treated as a known secret in text (shorter ones would match ordinary words)
MIN_SECRET_LENGTH = 8


def is_secret_header(name: str) -> bool:
    lower = name.lower()
    if lower in NOT_SECRET_HEADERS:
        return False
    return lower in SECRET_HEADERS or bool(_SECRET_HEADER.search(lower))


def is_secret_field(name: str) -> bool:
    key = name.lower().replace("-", "_")
    if key in NOT_SECRET_FIELDS:
        return False
    return key in SECRET_FIELDS or bool(_SECRET_FIELD.search(key))


def environment_secrets(environ: Mapping[str, str] | None = None) -> set[str]:
    """Values of environment variables named like credentials (``ACME_TOKEN``, ``DB_PASSWORD``): what a
    re-recording run holds its real credentials in."""
    env = os.environ if environ is None else environ
    return {v for k, v in env.items() if looks_secret(k) and len(v) >= MIN_SECRET_LENGTH}


# ---- scrubbing ----------------------------------------------------------------------------------


class Scrubber:
    """The request and response hooks ``recording_config`` installs (vcrpy's ``before_record_*``)."""

    def __init__(self, *, fakes: Iterable[str] = (), secrets: Iterable[str] = ()) -> None:
        self.fakes = frozenset(fakes)
        self.extra = frozenset(secrets)

    def _values(self) -> list[str]:
        values = (set(known_secrets()) | self.extra | environment_secrets()) - self.fakes
        return sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)

    def _text(self, text: str) -> str:
        for value in self._values():
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def _value(self, value: Any) -> Any:
        if isinstance(value, str) and value and value != REDACTED and value not in self.fakes:
            return REDACTED
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return REDACTED
        return value

    def _json(self, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: (self._value(v) if is_secret_field(str(k)) and not isinstance(v, (dict, list))
                        else self._json(v)) for k, v in data.items()}
        if isinstance(data, list):
            return [self._json(v) for v in data]
        if isinstance(data, str):
            return self._text(data)
        return data

    def _pairs(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(k, self._value(v) if is_secret_field(k) else self._text(v)) for k, v in pairs]

    def body(self, body: bytes | str | None, content_type: str = "") -> bytes | str | None:
        """A request or response body with credential fields and known secrets replaced."""
        if not body or not isinstance(body, (bytes, str)):
            return body
        as_bytes = isinstance(body, bytes)
        try:
            text = body.decode("utf-8") if isinstance(body, bytes) else body
        except UnicodeDecodeError:
            return body  # binary (an uploaded image): nothing textual to scrub
        out = text
        try:
            data = json.loads(text)
        except ValueError:
            if "x-www-form-urlencoded" in content_type.lower():
                out = urlencode(self._pairs(parse_qsl(text, keep_blank_values=True)))
            else:
                out = self._text(text)
        else:
            if isinstance(data, (dict, list)):
                scrubbed = self._json(data)
                if scrubbed != data:
                    out = json.dumps(scrubbed, separators=(",", ":"), ensure_ascii=False)
            else:
                out = self._text(text)
        if out == text:
            return body
        return out.encode("utf-8") if as_bytes else out

    def uri(self, uri: str) -> str:
        parts = urlsplit(uri)
        if parts.query:
            pairs = parse_qsl(parts.query, keep_blank_values=True)
            scrubbed = self._pairs(pairs)
            if scrubbed != pairs:
                parts = parts._replace(query=urlencode(scrubbed))
        return self._text(urlunsplit(parts))

    def request(self, request: Any) -> Any:
        """vcrpy ``before_record_request``: runs on recorded and on replayed requests alike."""
        if request is None:
            return None
        for name in list(request.headers):
            if is_secret_header(name):
                del request.headers[name]
        content_type = str(request.headers.get("Content-Type", ""))
        request.uri = self.uri(request.uri)
        body = request.body  # vcrpy hands a file body back as a fresh BytesIO, an iterator as an iterator
        raw = body.getvalue() if hasattr(body, "getvalue") else body
        if isinstance(raw, (bytes, str)):
            scrubbed = self.body(raw, content_type)
            if scrubbed is not raw:
                request.body = scrubbed  # a file body stays one: vcrpy wraps the bytes again
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        """vcrpy ``before_record_response``: the response as stored."""
        if response is None:
            return None
        headers = response.get("headers") or {}
        for name in list(headers):
            if is_secret_header(name):
                del headers[name]
        content_type = " ".join(str(v) for k, vs in headers.items() if k.lower() == "content-type"
                                for v in (vs if isinstance(vs, list) else [vs]))
        body = response.get("body") or {}
        if "string" in body:
            body["string"] = self.body(body["string"], content_type)
        return response


def _hooks(value: Any) -> tuple[Callable[[Any], Any], ...]:
    if value is None:
        return ()
    if callable(value):
        return (value,)
    return tuple(value)


def recording_config(base: Mapping[str, Any] | None = None, *, fakes: Iterable[str] = (),
                     secrets: Iterable[str] = (), **options: Any) -> dict[str, Any]:
    """vcrpy options (what a ``vcr_config`` fixture returns) that scrub credentials by default.

    ``base`` and ``options`` are your own vcrpy options (``match_on``, ``filter_headers``, your own
    ``before_record_request`` / ``before_record_response``, which run first); ``fakes`` are the fake
    credentials a replay needs to see (left as they are); ``secrets`` are more values to replace.
    Compressed responses are decoded so that their bodies can be scrubbed (and read in review).
    """
    config = {**(base or {}), **options}
    scrubber = Scrubber(fakes=fakes, secrets=secrets)
    config["before_record_request"] = (*_hooks(config.get("before_record_request")), scrubber.request)
    config["before_record_response"] = (*_hooks(config.get("before_record_response")), scrubber.response)
    config.setdefault("decode_compressed_response", True)
    return config


# ---- scanning -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A credential left in a cassette: where, and what kind (never the value)."""

    path: Path
    where: str
    what: str

    def describe(self) -> str:
        return f"{self.path.name}: {self.where}: {self.what}"


CASSETTE_SUFFIXES = (".yaml", ".yml", ".json")


def cassette_files(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """Every cassette under ``paths`` (files, or directories searched recursively)."""
    roots = [paths] if isinstance(paths, (str, Path)) else list(paths)
    files: list[Path] = []
    for root in map(Path, roots):
        if root.is_dir():
            files += sorted(p for p in root.rglob("*") if p.suffix in CASSETTE_SUFFIXES and p.is_file())
        elif root.is_file():
            files.append(root)
    return files


def _interactions(text: str) -> list[dict[str, Any]]:
    import yaml  # a test dependency of vcrpy; JSON cassettes are YAML too

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: cassettes run to megabytes
    try:
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError:
        return []
    items = data.get("interactions") if isinstance(data, dict) else None
    return [i for i in items or [] if isinstance(i, dict)]


def _body_text(body: Any) -> str:
    if isinstance(body, dict):
        body = body.get("string")
    if isinstance(body, bytes):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return ""
    return body if isinstance(body, str) else ""


def _secret_fields(data: Any, where: str, fakes: frozenset[str]) -> Iterable[str]:
    if isinstance(data, dict):
        for k, v in data.items():
            if is_secret_field(str(k)) and isinstance(v, (str, int, float)) and not isinstance(v, bool):
                if v not in ("", REDACTED) and v not in fakes:
                    yield f"{where} field {k!r}"
            else:
                yield from _secret_fields(v, where, fakes)
    elif isinstance(data, list):
        for v in data:
            yield from _secret_fields(v, where, fakes)


def _field_findings(body: str, where: str, fakes: frozenset[str]) -> Iterable[str]:
    try:
        data = json.loads(body)
    except ValueError:
        if ("=" in body and "&" in body) or body.count("=") == 1:
            pairs = parse_qsl(body.strip(), keep_blank_values=True)
            yield from (f"{where} form field {k!r}" for k, v in pairs
                        if is_secret_field(k) and v not in ("", REDACTED) and v not in fakes)
        return
    yield from _secret_fields(data, where, fakes)


def scan_cassettes(paths: str | Path | Iterable[str | Path], *, secrets: Iterable[str] = (),
                   fakes: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> list[Finding]:
    """Every credential found in the cassettes under ``paths``; empty when they are clean.

    Looks for credential headers in requests and responses, credential fields in JSON and form
    bodies and in query strings, the values in ``secrets`` and in secret-looking environment
    variables, and token-shaped strings (``TOKEN_SHAPES``). ``fakes`` are allowed values.
    """
    allowed = frozenset(fakes) | {REDACTED}
    values = {v for v in (set(secrets) | environment_secrets(environ)) if len(v) >= MIN_SECRET_LENGTH} - allowed
    findings: list[Finding] = []
    for path in cassette_files(paths):
        text = path.read_text(encoding="utf-8", errors="replace")

        def found(where: str, what: str, path: Path = path) -> None:
            findings.append(Finding(path, where, what))

        for value in values:
            if value in text:
                found("anywhere", f"a known secret value ({len(value)} chars)")
        for kind, pattern in TOKEN_SHAPES:
            for match in pattern.finditer(text):
                if match.group(0) not in allowed and not any(match.group(0) in f or f in match.group(0)
                                                             for f in allowed if len(f) >= MIN_SECRET_LENGTH):
                    line = text.count("\n", 0, match.start()) + 1
                    found(f"line {line}", f"a {kind}")
        for n, interaction in enumerate(_interactions(text)):
            for side in ("request", "response"):
                part = interaction.get(side) or {}
                where = f"interaction {n} {side}"
                for name, value in (part.get("headers") or {}).items():
                    values_ = value if isinstance(value, list) else [value]
                    if is_secret_header(str(name)) and any(v not in ("", REDACTED, None) for v in values_):
                        found(where, f"header {name!r}")
                for what in _field_findings(_body_text(part.get("body")), f"{where} body", allowed):
                    found(where, what.removeprefix(f"{where} "))
            uri = str((interaction.get("request") or {}).get("uri") or "")
            for k, v in parse_qsl(urlsplit(uri).query, keep_blank_values=True):
                if is_secret_field(k) and v not in ("", REDACTED) and v not in allowed:
                    found(f"interaction {n} request", f"query parameter {k!r}")
    return findings
