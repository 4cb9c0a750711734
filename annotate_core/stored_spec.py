"""A spec stored on a vendor object, and read back: one lossless pair for every backend.

Backends keep the spec a job was made from on the job itself (the local store's row, Toloka pool
metadata, Dataloop task metadata) so ``get_spec`` can rebuild a handle from the id alone and job keys
can compare fingerprints on attach. Storing it needs aliases (``from`` in pricing intervals) and
JSON types, and must not drop anything the model would read back differently: ``exclude_none``
loses an explicit ``duration: null`` on a permanent ban (read back as the default 1), which changes
the fingerprint and turns a rerun's attach into a key conflict. ``spec_to_json`` / ``spec_from_json``
are the pair plugins use; ``spec_document`` is the same document as a dict (what fingerprints hash),
for a vendor whose metadata field holds JSON objects rather than text. All three are public API,
importable from ``annotate_core``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from annotate_core.errors import MalformedResponseError
from annotate_core.model.spec import JobSpec

__all__ = ["spec_document", "spec_from_json", "spec_to_json"]


def spec_document(spec: JobSpec) -> dict[str, Any]:
    """The spec as the JSON document backends store (aliases, JSON types): what fingerprints compare."""
    return spec.model_dump(mode="json", by_alias=True)


def spec_to_json(spec: JobSpec) -> str:
    """The spec as compact JSON text, for a vendor metadata field; ``spec_from_json`` reads it back equal."""
    return json.dumps(spec_document(spec), separators=(",", ":"), ensure_ascii=False)


def spec_from_json(data: str | bytes | Mapping[str, Any], *, where: str = "stored spec",
                   backend: str | None = None) -> JobSpec:
    """The spec ``spec_to_json`` (or ``spec_document``) stored, from text or an already-decoded dict.

    A document that is not a valid spec (edited by hand on the vendor, or written by an annotate
    that knows fields this one does not) raises ``MalformedResponseError`` naming ``where`` and the
    first problem's field, so ``get_spec`` can report it as a vendor answer it cannot interpret.
    """
    try:
        if isinstance(data, Mapping):
            return JobSpec.model_validate(data)
        return JobSpec.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise MalformedResponseError(
            f"{where} is not a valid spec: {exc.error_count()} problem(s), first at {field}: {first['msg']}",
            backend=backend) from None
