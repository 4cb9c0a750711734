"""Work sessions: many pulls, submits, skips and reviews of one job in shared write transactions.

A transaction per operation is what a person clicking "submit" needs, and what a simulated crowd
cannot afford: opening it, locking the store, reading the job's row and committing cost more than
the operation itself. Inside ``LocalBackend.work_session(job_id)`` the backend's operations on that
job (from the thread that opened it) run on one connection, each inside its own SAVEPOINT, and the
transaction commits every ``max_ops`` operations or ``max_seconds`` of wall time, whichever comes
first, so other processes still get the store in between. (On PostgreSQL an operation's savepoint
is released in the same round trip as the next operation's SAVEPOINT, or by the commit.)

Each operation keeps its meaning: one that raises is rolled back to its savepoint alone (the
operations before it stay), and a retryable database error (a unique-key race, a deadlock on
PostgreSQL) reruns that operation from its savepoint. Events reach subscribers and webhooks only
after the transaction that holds them commits, as they do outside a session. An exception that
leaves the block rolls back the operations not yet committed, as a crash would: what a rerun
resumes from is always a committed state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from annotate_local import raw
from annotate_local.events import EventLog
from annotate_local.store import retryable

if TYPE_CHECKING:
    from annotate_local.context import JobCtx, SpecCache
    from annotate_local.store import Store

log = logging.getLogger(__name__)

T = TypeVar("T")

#: operations per commit, and wall seconds per commit, by default
MAX_OPS = 1000
MAX_SECONDS = 0.5
_ATTEMPTS = 5


class WorkSession:
    """One job's operations on one connection, committed in chunks (see the module's docstring)."""

    def __init__(self, store: Store, specs: SpecCache, job_id: str, *, max_ops: int = MAX_OPS,
                 max_seconds: float = MAX_SECONDS, on_commit: Callable[[EventLog], None] | None = None) -> None:
        if max_ops < 1 or max_seconds <= 0:
            raise ValueError(f"max_ops, max_seconds: expected positive numbers, got {max_ops}, {max_seconds}")
        self.store = store
        self.specs = specs
        self.job_id = job_id
        self.max_ops = max_ops
        self.max_seconds = max_seconds
        self.on_commit = on_commit
        self.thread = threading.get_ident()
        self.events = EventLog()
        self.commits = 0
        self._conn: Connection | None = None
        self._ctx: JobCtx | None = None
        self._ops = 0
        self._since = 0.0
        #: the last operation's savepoint is still open (PostgreSQL: released with the next one's start)
        self._held = False

    # ---- the transaction ----------------------------------------------------------------------

    def _begin(self) -> Connection:
        if self._conn is None:
            self._conn = self.store.connect()
            self._conn.begin()
            self._ops = 0
            self._since = time.perf_counter()
            self._ctx = None
        return self._conn

    def ctx(self) -> JobCtx:
        """The job as this transaction sees it (its state moves with the operations run in it)."""
        conn = self._begin()
        if self._ctx is None:
            self._ctx = self.specs.load(conn, self.job_id)
            self.events.webhooks = self._ctx.spec.webhooks
        return self._ctx

    def commit(self) -> None:
        """Commit what was done so far, then hand its events to ``on_commit``."""
        conn, self._conn, self._ctx = self._conn, None, None
        self._held = False  # COMMIT ends the open savepoint with the transaction
        if conn is None:
            return
        try:
            conn.commit()
        finally:
            conn.close()
        self.commits += 1
        if self.on_commit is not None:
            self.on_commit(self.events)
        self.events.pending.clear()
        self.events.deliveries = 0

    def rollback(self) -> None:
        """Drop what was not committed yet (and its events)."""
        conn, self._conn, self._ctx = self._conn, None, None
        self._held = False
        self.events.pending.clear()
        self.events.deliveries = 0
        if conn is not None:
            try:
                conn.rollback()
            finally:
                conn.close()

    def _maybe_commit(self) -> None:
        self._ops += 1
        if self._ops >= self.max_ops or time.perf_counter() - self._since >= self.max_seconds:
            self.commit()

    # ---- operations ---------------------------------------------------------------------------

    def _savepoint(self, *statements: str) -> None:
        # straight to the driver: SQLAlchemy's nested-transaction bookkeeping cost more than the
        # operation's own statements (nothing else nests in the session's transaction)
        assert self._conn is not None
        raw.plain(self._conn, *statements)

    def write(self, fn: Callable[[Connection, JobCtx, EventLog], T]) -> T:
        """Run one operation in a savepoint: all of it or, if it raises, none of it."""
        for attempt in range(_ATTEMPTS):
            ctx = self.ctx()
            conn = self._begin()
            mark, deliveries = len(self.events.pending), self.events.deliveries
            if self._held:  # the previous operation's savepoint, released in the same round trip
                self._savepoint("RELEASE SAVEPOINT annotate_op", "SAVEPOINT annotate_op")
            else:
                self._savepoint("SAVEPOINT annotate_op")
            self._held = False
            try:
                out = fn(conn, ctx, self.events)
            except BaseException as exc:
                self._savepoint("ROLLBACK TO SAVEPOINT annotate_op", "RELEASE SAVEPOINT annotate_op")
                del self.events.pending[mark:]
                self.events.deliveries = deliveries
                self._ctx = None  # the operation may have changed the job's state in memory: read it again
                if isinstance(exc, DBAPIError) and retryable(exc) and attempt < _ATTEMPTS - 1:
                    log.debug("retrying an operation of a work session after %s", type(exc.orig).__name__)
                    continue
                raise
            if raw.joins_statements(conn):
                self._held = True  # released with the next operation's SAVEPOINT, or by the commit
            else:
                self._savepoint("RELEASE SAVEPOINT annotate_op")
            self._maybe_commit()
            return out
        raise AssertionError("unreachable")  # pragma: no cover

    def read(self, fn: Callable[[Connection], T]) -> T:
        """A read on the session's connection: it sees the operations not committed yet."""
        return fn(self._begin())

    def owns(self, job_id: str) -> bool:
        return job_id == self.job_id and threading.get_ident() == self.thread

    def __repr__(self) -> str:
        return f"WorkSession(job={self.job_id!r}, commits={self.commits})"

