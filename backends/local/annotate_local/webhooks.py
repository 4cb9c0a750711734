"""Webhook delivery: events a job's webhooks subscribe to are POSTed as JSON, at least once.

Deliveries are queued in the transaction that records the event (an outbox), then sent after it
commits by the process that made the change, through the core's ``HttpClient``. A delivery is
claimed before it is sent, so two processes never send the same one; a failure (an error status or
no answer) leaves it pending for the next attempt, up to ``MAX_ATTEMPTS``, then it is marked failed.
Each request carries an ``Idempotency-Key`` so a receiver can drop a repeat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, select, update

from annotate_core.errors import AnnotateError
from annotate_core.http import HttpClient
from annotate_local import schema as t
from annotate_local.store import Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
D = t.webhook_deliveries.c
E = t.events.c


def payload(event: Any) -> dict[str, Any]:
    return {
        "event": event.type, "job_id": event.job_id, "seq": event.seq, "worker": event.worker,
        "assignment": event.assignment, "data": event.data or {},
        "at": datetime.fromtimestamp(event.at, tz=timezone.utc).isoformat(),
    }


def _update_delivery(delivery_id: int, *, only_pending: bool = False, **values: Any) -> Callable[[Connection], int]:
    """The write that moves one delivery on; ``only_pending`` makes it a claim another process can't win too."""
    def run(conn: Connection) -> int:
        q = update(t.webhook_deliveries).where(D.id == delivery_id)
        if only_pending:
            q = q.where(D.status == "pending")
        return conn.execute(q.values(**values)).rowcount

    return run


def deliver(store: Store, http: HttpClient, *, job_id: str | None = None, limit: int = 200) -> dict[str, int]:
    """Send pending deliveries (oldest first); returns how many were sent, retried later, given up."""
    q = (select(D.id, D.url, D.attempts, E.seq, E.job_id, E.type, E.worker, E.assignment, E.data, E.at)
         .join(t.events, E.seq == D.event_seq).where(D.status == "pending").order_by(D.id).limit(limit))
    if job_id is not None:
        q = q.where(D.job_id == job_id)
    with store.read() as conn:
        rows = conn.execute(q).all()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for r in rows:
        claimed = store.write(_update_delivery(r.id, only_pending=True, status="sending"))
        if not claimed:
            continue  # another process took it
        try:
            http.request("POST", r.url, json=payload(r), idempotent=True,
                         headers={"Idempotency-Key": f"annotate-{r.job_id}-{r.seq}-{r.id}"})
        except AnnotateError as exc:
            attempts = r.attempts + 1
            status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
            counts["failed" if status == "failed" else "retry"] += 1
            log.warning("webhook %s for event %s (%s): attempt %d failed: %s", r.url, r.seq, r.type, attempts, exc)
            store.write(_update_delivery(r.id, status=status, attempts=attempts, last_error=str(exc)[:500]))
        else:
            counts["sent"] += 1
            store.write(_update_delivery(r.id, status="sent", attempts=r.attempts + 1, last_error=None))
    return counts


def backlog(store: Store) -> bool:
    with store.read() as conn:
        return conn.execute(select(D.id).where(D.status == "pending").limit(1)).first() is not None
