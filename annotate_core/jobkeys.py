"""Job keys: a client-chosen name that makes ``create_job`` create-or-attach.

A rerun of an interrupted script or ``annotate run`` must find the job its first run made instead of
making a second one. The key is stored by the backend on its own objects (a column of the local
store, vendor metadata), so the lookup needs nothing on the client's disk. A key that names a job
made from another spec is a conflict, never a silent attach: the fingerprint below decides.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from annotate_core.errors import AnnotateError
from annotate_core.stored_spec import spec_document

if TYPE_CHECKING:
    from annotate_core.model.spec import JobSpec

#: what a key may hold: it goes into vendor metadata, URLs and file names unescaped
KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,119}$")


class JobKeyError(AnnotateError, ValueError):
    """A job key is malformed."""


class JobKeyConflictError(AnnotateError):
    """The key already names a job made from a different spec."""

    def __init__(self, key: str, job_id: str, backend: str, differences: Iterable[str]) -> None:
        self.key = key
        self.job_id = job_id
        self.differences = list(differences)
        shown = ", ".join(self.differences[:8]) or "the spec"
        more = f" and {len(self.differences) - 8} more" if len(self.differences) > 8 else ""
        super().__init__(
            f"job key {key!r} already names job {job_id} on {backend}, made from a different spec "
            f"(differs in {shown}{more}); use another key, or attach with client.job({job_id!r})")


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise JobKeyError(
            f"job key: expected 1-120 characters of letters, digits, '.', '_', ':' or '-' starting with a "
            f"letter or digit, got {key!r}")
    return key


def spec_fingerprint(spec: JobSpec) -> str:
    """A stable digest of what a spec asks for: equal specs give equal fingerprints in any process."""
    canonical = json.dumps(spec_document(spec), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def spec_differences(a: JobSpec, b: JobSpec) -> list[str]:
    """Top-level spec fields whose values differ (for conflict messages)."""
    da, db = spec_document(a), spec_document(b)
    return sorted(k for k in set(da) | set(db) if da.get(k) != db.get(k))


def derive_key(prefix: str, *parts: bytes | str) -> str:
    """A key from content: the same parts give the same key (``annotate run``'s default)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return f"{prefix}-{h.hexdigest()[:20]}"
