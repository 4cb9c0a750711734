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

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool

from annotate_core.errors import ConfigError
from annotate_local.schema import ensure_schema

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_PATH = "annotate.db"
#: PostgreSQL error codes worth retrying: serialization failure, deadlock
_RETRY_PGCODES = {"40001", "40P01"}


def store_url(url: str | None = None, path: str | os.PathLike[str] | None = None) -> str:
    """The SQLAlchemy URL of the store: ``url`` as given, else a SQLite file (``annotate.db`` here)."""
    if url and path:
        raise ConfigError("local backend: give `url` or `path`, not both")
    if url:
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            # psycopg 3 is the driver we ship (extra `postgres`); psycopg2 may not be installed
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    p = Path(path or DEFAULT_PATH).expanduser()
    return f"sqlite:///{p.resolve()}"


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
        try:
            engine = create_engine(url, echo=echo, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"local backend: the driver for {url.split(':', 1)[0]} is not installed ({exc.name}); "
                "pip install 'annotate-local[postgres]'"
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
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True  # a concurrent writer took the same unique key first; the retry sees it
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in _RETRY_PGCODES:
        return True
    return isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower()


class Store:
    """An engine plus transaction helpers. One per backend instance; safe to share across threads."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.dialect = self.engine.dialect.name
        for attempt in range(5):
            try:
                ensure_schema(self.engine)
                break
            except (OperationalError, IntegrityError, DBAPIError) as exc:
                if attempt == 4:
                    raise
                log.debug("schema creation raced with another process (%s); retrying", exc)
                time.sleep(0.05 * (attempt + 1))

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (deferred on SQLite: it takes no write lock)."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="DEFERRED")
            with conn.begin():
                yield conn

    def write(self, fn: Callable[[Connection], T], *, attempts: int = 8) -> T:
        """Run ``fn(conn)`` in one write transaction, retrying on deadlocks and unique-key races.

        ``fn`` must be safe to run again from the start: everything it did was rolled back.
        """
        for attempt in range(attempts):
            try:
                with self.engine.begin() as conn:
                    return fn(conn)
            except DBAPIError as exc:
                if attempt == attempts - 1 or not _retryable(exc):
                    raise
                log.debug("retrying a write transaction after %s", type(exc.orig).__name__)
                time.sleep(random.uniform(0, 0.01 * (attempt + 1)))
        raise AssertionError("unreachable")  # pragma: no cover

    def dispose(self) -> None:
        self.engine.dispose()
