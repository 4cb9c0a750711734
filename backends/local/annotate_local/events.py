"""Job events: written in the same transaction as the change they report, then handed to callbacks.

Because an event row commits with its change, ``iter_events`` never shows an event for work that was
rolled back, and a full read never misses one. Callbacks run in the process that made the change,
after commit. Resuming with ``since=seq`` relies on events committing in ``seq`` order: on SQLite
writers take turns, so they do; on PostgreSQL a sequence number is taken at insert, so an event of a
transaction still in flight can commit after a higher one was read and be skipped by a reader that
resumes after that one (fixing it needs the inserting transaction's id on each event; not done yet).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlalchemy import Connection, select

from annotate_core.model.commercial import Event
from annotate_local import raw
from annotate_local import schema as t

log = logging.getLogger(__name__)

_INSERT = t.events.insert()
_QUEUE = t.webhook_deliveries.insert()

EventCallback = Callable[[Mapping[str, Any]], None]


class EventLog:
    """Collects the events of one transaction; ``flush`` delivers them once it has committed."""

    def __init__(self) -> None:
        self.pending: list[dict[str, Any]] = []
        #: the job's webhooks (``Webhook`` specs); events they subscribe to are queued for delivery
        self.webhooks: tuple[Any, ...] = ()
        self.deliveries = 0

    def add(self, conn: Connection, job_id: str, kind: Event, now: float, *, worker: str | None = None,
            assignment: str | None = None, **data: Any) -> None:
        row = {"job_id": job_id, "type": kind.value, "worker": worker, "assignment": assignment,
               "data": data or None, "at": now}
        seq = raw.insert_id(conn, _INSERT, row)
        self.pending.append({"seq": seq, **row})
        for hook in self.webhooks:
            if kind in hook.events:  # queued in the same transaction: no event is lost, none is invented
                conn.execute(_QUEUE, {"job_id": job_id, "event_seq": seq, "url": str(hook.url), "status": "pending",
                                      "attempts": 0})
                self.deliveries += 1


class Subscribers:
    def __init__(self) -> None:
        self._callbacks: list[tuple[str | None, frozenset[str] | None, EventCallback]] = []

    def add(self, callback: EventCallback, job_id: str | None = None,
            types: frozenset[str] | None = None) -> Callable[[], None]:
        entry = (job_id, types, callback)
        self._callbacks.append(entry)
        return lambda: self._callbacks.remove(entry) if entry in self._callbacks else None

    def deliver(self, log_: EventLog) -> None:
        events, log_.pending = log_.pending, []
        for ev in events:
            for job_id, types, cb in list(self._callbacks):
                if (job_id is None or job_id == ev["job_id"]) and (types is None or ev["type"] in types):
                    try:
                        cb(dict(ev))
                    except Exception:  # a subscriber's bug must not undo committed work
                        log.exception("event callback %r failed on %s", cb, ev["type"])


def iter_events(conn_factory: Callable[[], Any], job_id: str, since: int, page: int = 1000) -> Iterator[dict]:
    """Events after sequence number ``since``, oldest first, read page by page."""
    last = since
    while True:
        with conn_factory() as conn:
            rows = conn.execute(
                select(t.events).where(t.events.c.job_id == job_id, t.events.c.seq > last)
                .order_by(t.events.c.seq).limit(page)
            ).mappings().all()
        for r in rows:
            out = dict(r)
            out["data"] = out["data"] or {}
            yield out
        if len(rows) < page:
            return
        last = rows[-1]["seq"]
