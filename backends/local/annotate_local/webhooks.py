"""Webhook delivery: events a job's webhooks subscribe to are POSTed as JSON, at least once.

Deliveries are queued in the transaction that records the event (an outbox), then sent after it
commits by the process that made the change, through the core's ``HttpClient``. A delivery is
claimed before it is sent, so two processes never send the same one; a failure (an error status or
no answer) leaves it pending for the next attempt, up to ``MAX_ATTEMPTS``, then it is marked failed.
Each request carries an ``Idempotency-Key`` so a receiver can drop a repeat.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, update

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
        claimed = store.write(lambda conn, r=r: conn.execute(
            update(t.webhook_deliveries).where(D.id == r.id, D.status == "pending").values(status="sending")).rowcount)
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
            store.write(lambda conn, r=r, a=attempts, s=status, e=str(exc)[:500]: conn.execute(
                update(t.webhook_deliveries).where(D.id == r.id).values(status=s, attempts=a, last_error=e)))
        else:
            counts["sent"] += 1
            store.write(lambda conn, r=r: conn.execute(
                update(t.webhook_deliveries).where(D.id == r.id).values(status="sent", attempts=r.attempts + 1,
                                                                        last_error=None)))
    return counts


def backlog(store: Store) -> bool:
    with store.read() as conn:
        return conn.execute(select(D.id).where(D.status == "pending").limit(1)).first() is not None
