"""One comparable form for labels that arrive as str, int, float, bool or lists, from any source.

Answers come from vendors as JSON values, truth from a CSV as text, golden labels from a spec's
items: ``1``, ``1.0`` and ``"1"`` must compare equal, and a multi-choice answer must compare equal
whatever the order of its choices. Everything is compared through ``label_key``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd


def label_key(value: Any) -> str | None:
    """A hashable, order-insensitive text form of a label; None for a missing label."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        return text.lower() if text.lower() in ("true", "false") else text
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + "|".join(sorted(k for k in (label_key(v) for v in value) if k is not None)) + "]"
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):  # numpy scalars
        return label_key(value.item())
    return str(value)


def label_keys(values: Iterable[Any]) -> list[str | None]:
    return [label_key(v) for v in values]
