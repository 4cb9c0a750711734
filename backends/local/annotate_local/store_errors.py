"""Messages about the local store that say which store, what went wrong and what to do.

Opening a store fails in the driver's words (psycopg: three lines naming a host and port; SQLite:
"unable to open database file"); these helpers turn that into one line with the URL's password
masked and the usual fix, and say where a read looked when there was no store to read.
"""

from __future__ import annotations

import difflib
import re
from contextlib import suppress
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from annotate_core.errors import StoreError, StoreNotFoundError
from annotate_core.secrets import scrub

#: file suffixes of SQLite stores, for "did you mean" when a read names a file that does not exist
STORE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def describe(url: str) -> str:
    """The store as messages name it: a SQLite file's path, or the URL with its password masked."""
    if url.startswith("sqlite"):
        return url.removeprefix("sqlite:///") or "in memory"
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return scrub(url)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite store URL (None for an in-memory store or another database)."""
    if not url.startswith("sqlite") or url in ("sqlite://", "sqlite:///:memory:"):
        return None
    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


# What to do about a store that cannot be opened, by the words of the driver's message (first match wins).
_FIXES: list[tuple[str, str]] = [
    (r"password authentication failed|no password supplied|authentication failed",
     "check the user and password (keep the password in the environment: password_env or url_env)"),
    (r"role .* does not exist", "check the user name in the URL"),
    (r"database .* does not exist", "create the database (createdb NAME) or fix its name in the URL"),
    (r"connection refused|could not connect|timeout|timed out|failed to resolve host|name or service not known"
     r"|no route to host|network is unreachable",
     "check that the database server is running and reachable at {server}"),
    (r"unable to open database file", "check that the folder {folder} exists and that you may write to it"),
    (r"readonly database|read-only", "make {file} and its folder writable"),
    (r"not a database", "point it at an annotate store (a SQLite file annotate made)"),
    (r"permission denied", "grant the database user the rights it needs on the schema, or use the store's owner"),
]


def _cause(exc: BaseException) -> str:
    """The driver's own words, without its boilerplate: 'Connection refused', not three lines."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    text = re.sub(r"^connection failed: (connection to server at [^,]+, port \d+ failed: )?", "", text)
    text = re.sub(r"^FATAL:\s+", "", text)
    return scrub(text)


def unavailable(exc: BaseException, url: str) -> StoreError:
    """A store that could not be opened, as one line: which store, why, and what to do."""
    cause = _cause(exc)
    low = cause.lower()
    file = sqlite_file(url)
    server = "?"
    if file is None and not url.startswith("sqlite"):
        with suppress(ArgumentError):
            u = make_url(url)
            server = f"{u.host or 'localhost'}:{u.port or 5432}"
    fix = "check the store's path or URL"
    for pattern, advice in _FIXES:
        if re.search(pattern, low):
            fix = advice.format(server=server, folder=file.parent if file else "?", file=file or "?")
            break
    return StoreError(f"cannot open the annotate store {describe(url)}: {cause}; {fix}")


def not_found(url: str, *, file_exists: bool) -> StoreNotFoundError:
    """No store where a read looked: say where, suggest a near name, say how one is made."""
    hint = ""
    file = sqlite_file(url)
    if file is not None and not file_exists:
        near = _near_store(file)
        hint = f" (did you mean {near}?)" if near else ""
    if file is None:
        what = " (the database holds no annotate tables)"
    elif file_exists:
        what = " (the file holds no annotate tables)"
    else:
        what = ""
    return StoreNotFoundError(
        f"no annotate store at {describe(url)}{what}{hint}; create one by running a job (`annotate run`, "
        "`annotate demo`, or client.create_job in Python): reads never create a store", backend="local")


def _near_store(file: Path) -> str | None:
    """A store file beside ``file`` with a similar name (or annotate.db), for a mistyped path."""
    try:
        names = [p.name for p in file.parent.iterdir() if p.suffix in STORE_SUFFIXES and p.is_file()]
    except OSError:
        return None
    from annotate_local.store import DEFAULT_PATH  # store.py imports this module

    near = difflib.get_close_matches(file.name, names, n=1, cutoff=0.5)
    if near:
        return str(file.parent / near[0])
    return str(file.parent / DEFAULT_PATH) if DEFAULT_PATH in names else None
