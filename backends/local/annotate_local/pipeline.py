"""The aggregate stage of a pipeline: when annotation and review are done, results are stored.

Stages run in order: annotation (until every item has its answers), review (a review stage only
hands out work once annotation is finished), then aggregation, in the transaction that completes the
job, so a completed job always has its results.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, select

from annotate_local import schema as t
from annotate_local.context import JobCtx

log = logging.getLogger(__name__)

I = t.items.c  # noqa: E741
W = t.answers.c


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def aggregate_stage(conn: Connection, ctx: JobCtx, method: str) -> int:
    """Aggregate every output field of the job with ``method``; returns the rows stored."""
    from annotate_core.aggregation import aggregate

    rows = conn.execute(
        select(I.key, I.golden, W.worker, W.value).join(t.items, I.id == W.item_id)
        .where(W.job_id == ctx.id, W.kind != "training", W.status.in_(("submitted", "accepted")))
    ).all()
    conn.execute(delete(t.results).where(t.results.c.job_id == ctx.id))
    stored = 0
    for f in ctx.spec.outputs:
        data = [(r.key, r.worker, _hashable((r.value or {}).get(f.name))) for r in rows]
        df = pd.DataFrame([d for d in data if d[2] is not None], columns=["task", "worker", "label"])
        if df.empty:
            continue
        golden = {r.key: _hashable(r.golden[f.name]) for r in rows if r.golden and f.name in r.golden}
        table = aggregate(df, method=method, true_labels=pd.Series(golden, dtype=object) if golden else None)
        conn.execute(t.results.insert(), [
            {"job_id": ctx.id, "field": f.name, "item_key": str(r["task"]),
             "label": list(r["label"]) if isinstance(r["label"], tuple) else r["label"],
             "confidence": float(r["confidence"]), "n_answers": int(r["n_answers"]), "method": method}
            for r in table.to_dict("records")])
        stored += len(table)
    log.info("job %s: aggregate stage (%s) stored %d result(s)", ctx.id, method, stored)
    return stored
