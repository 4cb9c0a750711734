"""Known labels from a file: a CSV with an item key column and a label column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from annotate_core.comparison.labels import label_key

KEY_COLUMNS = ("key", "item_key", "task", "id")
LABEL_COLUMNS = ("label", "truth", "true_label", "golden", "answer", "result")


def load_truth(path: str | Path, *, key: str | None = None, label: str | None = None) -> pd.Series:
    """task (item key) -> known label, read from a CSV.

    The key column is ``key`` (or ``item_key``, ``task``, ``id``); the label column ``label`` (or
    ``truth``, ``true_label``, ``golden``, ``answer``, ``result``), or the only other column. Pass
    ``key=`` / ``label=`` to name them. Every value is read as text, so keys like ``007`` keep their
    zeros and labels compare with answers through ``label_key``.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"truth file {p} does not exist")
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    cols = list(df.columns)
    key = key or next((c for c in KEY_COLUMNS if c in cols), None)
    if key is None or key not in cols:
        raise ValueError(f"{p}: no key column; expected one of {list(KEY_COLUMNS)} (columns: {cols})")
    if label is None:
        label = next((c for c in LABEL_COLUMNS if c in cols and c != key), None)
        others = [c for c in cols if c != key]
        if label is None and len(others) == 1:
            label = others[0]
    if label is None or label not in cols:
        raise ValueError(f"{p}: no label column; expected one of {list(LABEL_COLUMNS)} (columns: {cols})")
    keys = df[key].str.strip()
    if (keys == "").any():
        row = int((keys == "").to_numpy().argmax()) + 2
        raise ValueError(f"{p}: line {row}: column {key!r} is empty; every row needs an item key")
    dup = keys[keys.duplicated()]
    if not dup.empty:
        raise ValueError(f"{p}: column {key!r}: repeated key(s) {sorted(set(dup))[:5]}")
    labels = [label_key(v) if v != "" else None for v in df[label]]
    out = pd.Series(labels, index=keys.to_numpy(), dtype="object", name="label")
    return out[out.notna()]
