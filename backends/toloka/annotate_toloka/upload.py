"""The upload loop: items streamed in chunks, each sent once under its operation id, every item
accounted for (created, already present, or an error naming the field).

See ``tasks`` for how the operation ids make reruns safe. The loop holds one chunk of items and
one serialized body at a time, plus the set of keys already in the pool.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from annotate_core.backend import ProgressCallback
from annotate_core.errors import OperationFailedError
from annotate_core.items import Item, UploadReport
from annotate_toloka.api import TolokaApi
from annotate_toloka.tasks import ChunkResult, TaskBuilder, chunked, operation_id, read_log
from annotate_toloka.wire import BACKEND, KEY_FIELD, dumps

log = logging.getLogger(__name__)

#: how many earlier failed runs of one chunk a rerun steps past before giving up
MAX_UPLOAD_ATTEMPTS = 20


def chunk_size_for(size: int, batch_size: int, suites: bool) -> int:
    """Items per request; with task suites, a whole number of suites."""
    return max(batch_size, size - size % batch_size) if suites else size


def existing_keys(api: TolokaApi, pool_id: str, *, suites: bool = False) -> set[str]:
    """Item keys already uploaded to a pool (read from the hidden ``_key`` input)."""
    keys: set[str] = set()
    for obj in api.iter_tasks(pool_id, suites=suites):
        for task in obj.get("tasks", []) if suites else [obj]:
            key = (task.get("input_values") or {}).get(KEY_FIELD)
            if key:
                keys.add(key)
    return keys


def upload(api: TolokaApi, pool_id: str, items: Iterable[Item], builder: TaskBuilder, *, chunk_size: int,
           suites: bool, batch_size: int, check_existing: bool,
           on_progress: ProgressCallback | None = None) -> UploadReport:
    """Upload ``items`` into a pool, idempotently by key; the report lists every per-item error."""
    report = UploadReport()
    existing = existing_keys(api, pool_id, suites=suites) if check_existing else set()
    offset = 0
    for n, chunk in enumerate(chunked(items, chunk_size_for(chunk_size, batch_size, suites))):
        index_of = {it.key: offset + i for i, it in enumerate(chunk)}
        offset += len(chunk)
        keys = [it.key for it in chunk]
        new = [it for it in chunk if it.key not in existing]
        report.existing += len(chunk) - len(new)
        report.keys.extend(k for k in keys if k in existing)
        if new:
            if suites:
                payload = [builder.suite(new[i:i + batch_size]) for i in range(0, len(new), batch_size)]
            else:
                payload = [builder.task(it) for it in new]
            result, earlier = send_chunk(api, pool_id, keys, dumps(payload), new, index_of, suites)
            if earlier:
                report.existing += len(result.created)
            else:
                report.created += len(result.created)
            report.keys.extend(result.created)
            report.errors.extend(result.errors)
            existing.update(result.created)
        log.info("pool %s: chunk %d: %d item(s), %d new, %d error(s) so far", pool_id, n + 1, len(chunk),
                 len(new), len(report.errors))
        if on_progress is not None:
            on_progress(len(chunk))
    return report


def send_chunk(api: TolokaApi, pool_id: str, keys: list[str], body: bytes, sent: list[Item],
               index_of: dict[str, int], suites: bool) -> tuple[ChunkResult, bool]:
    """Upload one chunk under its operation id; (result, whether an earlier run had sent it).

    The log is read under the id of the operation Toloka returned, which is ours only if Toloka kept
    the ``operation_id`` we sent (documented, but not a reason to rely on it).
    """
    for attempt in range(MAX_UPLOAD_ATTEMPTS):
        op_id = operation_id(pool_id, keys, attempt)
        op, ours = api.create_tasks_async(body, op_id, suites=suites)
        earlier = not ours
        op = api.wait_operation(op)
        failed = op.get("status") == "FAIL"
        if failed and earlier:
            log.warning("earlier upload %s of this chunk failed; sending it again as a new operation", op_id)
            continue
        server_id = str(op.get("id") or op_id)
        if server_id != op_id:
            log.info("Toloka ran upload %s as operation %s", op_id, server_id)
        entries = api.operation_log(server_id)
        return read_log(entries, sent, index_of, server_id, failed=failed, details=op.get("details")), earlier
    raise OperationFailedError(f"pool {pool_id}: a chunk failed {MAX_UPLOAD_ATTEMPTS} times", backend=BACKEND)
