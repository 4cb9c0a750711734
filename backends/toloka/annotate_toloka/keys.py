"""Job keys on Toloka objects: the metadata that carries them, and the lookups that find them.

Toloka has no external-id field and documents no server-side filter on ``metadata``, but projects,
training pools and pools all carry ``metadata`` (a map of string -> list of strings) and can be
listed: projects by account, training pools and pools by ``project_id`` (documented filters). So a
job key goes into the metadata of every object ``create_job`` makes for it, together with the
spec's fingerprint, and a lookup lists those objects to the last page and matches the key here.

A job is found from its project: ``find_project`` lists the account's projects (archived ones too:
a key names its job for good), ``find_in_project`` lists one project's pools or training pools.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from annotate_core.errors import AnnotateError
from annotate_core.jobkeys import JobKeyConflictError, spec_fingerprint
from annotate_core.model.spec import JobSpec

#: metadata names annotate writes next to ``pool.SPEC_METADATA_KEY``
KEY_METADATA = "annotate_job_key"
FINGERPRINT_METADATA = "annotate_spec_sha256"

Json = dict[str, Any]


def key_metadata(key: str, spec: JobSpec) -> dict[str, list[str]]:
    """What a keyed object's ``metadata`` holds besides what the body already had."""
    return {KEY_METADATA: [key], FINGERPRINT_METADATA: [spec_fingerprint(spec)]}


def tagged(body: Json, metadata: Mapping[str, list[str]] | None) -> Json:
    """``body`` with ``metadata`` merged into its own (the pool's stored spec stays)."""
    if not metadata:
        return body
    return {**body, "metadata": {**(body.get("metadata") or {}), **metadata}}


def carries_key(obj: Mapping[str, Any], key: str) -> bool:
    metadata = obj.get("metadata")
    return isinstance(metadata, dict) and metadata.get(KEY_METADATA) == [key]


def first_with_key(objects: Iterable[Json], key: str) -> Json | None:
    """The object with the lowest id among those carrying ``key`` (reading ``objects`` to the end:
    two concurrent first runs may both have created one, and every run must pick the same)."""
    found = [o for o in objects if carries_key(o, key)]
    return min(found, key=lambda o: (len(str(o.get("id"))), str(o.get("id")))) if found else None


class PartialJobKeyConflictError(JobKeyConflictError):
    """The key names a job whose creation stopped half-way (no pool yet), made from another spec."""

    def __init__(self, key: str, what: str, object_id: str) -> None:
        self.key = key
        self.job_id = object_id
        self.differences = []
        AnnotateError.__init__(
            self, f"job key {key!r} already names Toloka {what} {object_id}, made from a different spec by a run "
            "that stopped before creating the pool; use another key, or rerun with the spec it was made from")


def check_fingerprint(obj: Mapping[str, Any], key: str, spec: JobSpec, what: str) -> None:
    """Refuse to resume from an object the key's first run made from another spec."""
    stored = (obj.get("metadata") or {}).get(FINGERPRINT_METADATA)
    if stored and stored != [spec_fingerprint(spec)]:
        raise PartialJobKeyConflictError(key, what, str(obj.get("id")))
