"""The common base of every spec model: immutable, strict about unknown keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SpecModel(BaseModel):
    """Frozen and closed: a typo in a spec file is an error naming the field, never ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
