"""No secret in any Label Studio cassette: tokens, cookies, sessions, CSRF tokens, passwords.

Label Studio sets a ``sessionid`` cookie on token-authenticated responses (a live login) and a
``csrftoken`` on forms; legacy tokens are 40 hex characters, personal access and access tokens JWTs.
The conftest's recording settings drop or replace all of them; this scan proves the files on disk.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import CASSETTES
from .server import live_token

FORBIDDEN = {
    "authorization header": re.compile(r"^\s*-?\s*[Aa]uthorization:", re.M),
    "cookie header": re.compile(r"^\s*-?\s*([Ss]et-)?[Cc]ookie:", re.M),
    "session id": re.compile(r"sessionid", re.I),
    "csrf token": re.compile(r"csrf", re.I),
    "password": re.compile(r'password(=|\\?"\s*:\s*\\?")', re.I),
    "legacy token": re.compile(r"(?<![0-9a-f])[0-9a-f]{40}(?![0-9a-f])"),
    "JWT": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    "token value": re.compile(r'"(token|access|refresh)"\s*:\s*"(?!scrubbed-)[^"]+"'),
}


def secrets_in(text: str, extra: tuple[str, ...] = ()) -> list[str]:
    found = [name for name, pattern in FORBIDDEN.items() if pattern.search(text)]
    return found + [f"live secret of {len(s)} chars" for s in extra if s and s in text]


def cassette_files() -> list[Path]:
    return sorted(CASSETTES.rglob("*.yaml"))


def test_there_are_cassettes_to_scan() -> None:
    names = {p.parent.name for p in cassette_files()}
    assert {"conformance", "backend", "compare"} <= names


@pytest.mark.parametrize("path", cassette_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_cassette_holds_no_secret(path: Path) -> None:
    assert secrets_in(path.read_text(), (live_token(),)) == []


@pytest.mark.parametrize(("text", "kind"), [
    ("    Authorization:\n    - Token abc", "authorization header"),
    ("      Set-Cookie:\n      - sessionid=xyz", "cookie header"),
    ("string: '{\"token\": \"" + "a" * 40 + "\"}'", "legacy token"),
    ("body: refresh=eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.sig", "JWT"),
    ("email=a%40b.test&password=hunter2", "password"),
])
def test_the_scan_finds_what_it_looks_for(text: str, kind: str) -> None:
    assert kind in secrets_in(text)
