"""Opening the store and running transactions that are safe with many processes at once.

SQLite: WAL journal, a busy timeout, and ``BEGIN IMMEDIATE`` for writes, so two processes never
both read "3 answers needed" and both hand out the third; reads use a plain deferred ``BEGIN``.
PostgreSQL: READ COMMITTED with ``SELECT ... FOR UPDATE SKIP LOCKED`` on the rows a pull takes (in
the work modules); deadlocks and unique-key races are retried here.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import SecretStr
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool

from annotate_core.errors import ConfigError
from annotate_local.schema import ensure_schema
from annotate_local.store_errors import describe, not_found, sqlite_file, unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_PATH = "annotate.db"
#: PostgreSQL error codes worth retrying: serialization failure, deadlock
_RETRY_PGCODES = {"40001", "40P01"}
#: SQLite page cache per connection, in KiB (negative: a size, not pages)
SQLITE_CACHE_KIB = -32768


def store_url(url: str | SecretStr | None = None, path: str | os.PathLike[str] | None = None,
              password: str | SecretStr | None = None) -> str:
    """The SQLAlchemy URL of the store: ``url`` as given, else a SQLite file (``annotate.db`` here).

    ``url`` may arrive as a ``SecretStr`` (``url_env``: the whole URL from the environment), and
    ``password`` (``password_env``) fills in the password of a URL written without one, so a profile
    can keep the server, user and database in the file and only the password in the environment.
    """
    url = url.get_secret_value() if isinstance(url, SecretStr) else url
    password = password.get_secret_value() if isinstance(password, SecretStr) else password
    if url and path:
        raise ConfigError("local backend: give `url` or `path`, not both")
    if not url:
        if password:
            raise ConfigError("local backend: `password` goes with a database server `url` "
                              "(e.g. url = \"postgresql+psycopg://annotate@db.example/annotate\"), not a SQLite path")
        p = Path(path or DEFAULT_PATH).expanduser()
        return f"sqlite:///{p.resolve()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # psycopg 3 is the driver we ship (extra `postgres`); psycopg2 may not be installed
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if password:
        parsed = _parse_url(url)
        if parsed.drivername.startswith("sqlite"):
            raise ConfigError("local backend: `password` goes with a database server `url`, not SQLite")
        if parsed.password:
            raise ConfigError("local backend: the `url` already holds a password; give it once "
                              "(in the url from url_env, or alone from password_env)")
        url = parsed.set(password=password).render_as_string(hide_password=False)
    return url


def _parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise ConfigError(f"local backend: {describe(url)!r} is not a database URL; expected a SQLite path or "
                          "a URL such as postgresql+psycopg://user@host/db") from None


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine configured for safe concurrent use of this store."""
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": 60, "check_same_thread": False},
            poolclass=StaticPool if memory else None,
        )
        _configure_sqlite(engine, wal=not memory)
    else:
        _parse_url(url)
        try:
            engine = create_engine(url, echo=echo, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"local backend: the driver for {url.split(':', 1)[0]} is not installed ({exc.name}); "
                "pip install 'annotate-local[postgres]'"
            ) from None
        except NoSuchModuleError:
            raise ConfigError(f"local backend: {describe(url)}: unknown kind of database "
                              f"{url.split(':', 1)[0]!r}; expected a SQLite path or a postgresql+psycopg:// URL"
                              ) from None
    return engine


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (pysqlite's own is DEFERRED)
        cur = dbapi_conn.cursor()
        if wal:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute(f"PRAGMA cache_size={SQLITE_CACHE_KIB}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def retryable(exc: DBAPIError) -> bool:
    """Is ``exc`` a race that the same work, run again from its start, gets past?"""
    if isinstance(exc, IntegrityError):
        return True  # a concurrent writer took the same unique key first; the retry sees it
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in _RETRY_PGCODES:
        return True
    return isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower()


class Store:
    """An engine plus transaction helpers. One per backend instance; safe to share across threads."""

    def __init__(self, url: str, *, echo: bool = False, create: bool = True) -> None:
        """Open the store at ``url``; ``create=False`` (every read) refuses to make a missing one:
        no SQLite file is created and no schema is written, ``StoreNotFoundError`` says so."""
        self.url = url
        file = sqlite_file(url)
        if not create and file is not None and not file.is_file():
            raise not_found(url, file_exists=False)
        create = create or (url.startswith("sqlite") and file is None)  # an in-memory store starts empty
        self.engine = make_engine(url, echo=echo)
        self.dialect = self.engine.dialect.name
        try:
            with self.connect():  # fails here, as one clear line, when the store cannot be reached
                pass
            if self._schema_version(create) is None:
                raise not_found(url, file_exists=True)
        except BaseException:
            self.engine.dispose()
            raise

    def _schema_version(self, create: bool) -> int | None:
        for attempt in range(5):
            try:
                return ensure_schema(self.engine, create=create)
            except (OperationalError, IntegrityError, DBAPIError) as exc:
                if attempt == 4:
                    raise unavailable(exc, self.url) from exc
                log.debug("schema creation raced with another process (%s); retrying", exc)
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    def connect(self) -> Connection:
        """A connection from the pool; a store that cannot be reached is a ``StoreError`` naming it."""
        try:
            return self.engine.connect()
        except DBAPIError as exc:
            raise unavailable(exc, self.url) from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (deferred on SQLite: it takes no write lock)."""
        with self.connect() as conn:
            conn = conn.execution_options(sqlite_begin="DEFERRED")
            with conn.begin():
                yield conn

    def write(self, fn: Callable[[Connection], T], *, attempts: int = 8) -> T:
        """Run ``fn(conn)`` in one write transaction, retrying on deadlocks and unique-key races.

        ``fn`` must be safe to run again from the start: everything it did was rolled back.
        """
        for attempt in range(attempts):
            try:
                with self.connect() as conn, conn.begin():
                    return fn(conn)
            except DBAPIError as exc:
                if attempt == attempts - 1 or not retryable(exc):
                    raise
                log.debug("retrying a write transaction after %s", type(exc.orig).__name__)
                time.sleep(random.uniform(0, 0.01 * (attempt + 1)))
        raise AssertionError("unreachable")  # pragma: no cover

    def dispose(self) -> None:
        self.engine.dispose()
