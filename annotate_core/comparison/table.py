"""The metrics as a table for people: which rows, in what words, and how each number is written.

Shared by the terminal output of ``annotate compare`` and the HTML report, so both read the same.
Jobs are columns and metrics are rows: a comparison has few jobs and many metrics.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from annotate_core.counts import LABELS

if TYPE_CHECKING:
    from annotate_core.comparison.build import Comparison

METHOD_NAMES = {"mv": "majority vote", "ds": "Dawid-Skene", "ocds": "one-coin Dawid-Skene", "wawa": "WAWA",
                "glad": "GLAD", "mace": "MACE", "zbs": "ZBS",
                "mmsr": "M-MSR", "gold": "golden-weighted"}

HEAD_ROWS: list[tuple[str, str]] = [
    ("backend", "backend"), ("profile", "profile"), ("job_id", "job id"), ("state", "state"),
    *((key, LABELS[key]) for key in ("items", "items_to_label", "golden_items")),
    ("truth_items", "items with known truth"),
    *((key, LABELS[key]) for key in ("answers", "usable_answers", "golden_answers")),
    ("answers_per_item", "usable answers per item"), ("workers", "workers"),
    ("alpha", "Krippendorff's alpha"), ("answer_acc_golden", "single-answer accuracy, golden"),
    ("answer_acc_truth", "single-answer accuracy, all known"),
]
TAIL_ROWS: list[tuple[str, str]] = [
    ("cost", "cost"), ("cost_source", "cost source"),
    ("cost_per_item", "cost per item"), ("turnaround_h", "turnaround (h)"),
    ("answers_per_hour", "answers per hour"), ("rejected_answers_share", "answers rejected"),
    ("rejected_workers_share", "workers with a rejection"), ("banned_workers_share", "workers banned"),
    ("banned_source", "bans reported by"),
]


MONEY_COLUMNS = ("cost", "cost_per_item")  # written with the job's currency


def method_name(method: str) -> str:
    return METHOD_NAMES.get(method, method)


def display_rows(c: Comparison) -> list[tuple[str, str]]:
    """(column, label) of every metric shown, in order; columns absent from the metrics are left out."""
    rows = list(HEAD_ROWS)
    for mth in c.methods:
        name = method_name(mth)
        rows += [(f"acc_golden_{mth}", f"{name} accuracy, golden"),
                 (f"acc_truth_{mth}", f"{name} accuracy, all known")]
    rows += TAIL_ROWS
    return [(col, label) for col, label in rows if col in c.metrics.columns]


def is_number(v: Any) -> bool:
    """A finite real number (not a bool, None or NaN)."""
    return (isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
            and math.isfinite(v))


def currency_of(v: Any) -> str | None:
    """The currency code of a metrics cell, or None when unknown (None, NaN or blank)."""
    if v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)):
        return None
    return str(v).strip() or None


def money(amount: Any, currency: Any) -> str:
    """An amount with its currency, to 4 significant digits: "0.285 USD"; never a bare number."""
    return f"{amount:.4g} {currency_of(currency) or '(currency unknown)'}"


def fmt(v: Any, col: str) -> str:
    """A cell: shares as percentages, accuracies to 3 places, costs to 4 significant digits."""
    if v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)):
        return "n/a"
    if isinstance(v, (float, np.floating)):
        if col.endswith("_share"):
            return f"{v:.1%}"
        if col.startswith(("acc", "answer_acc")) or col == "alpha":
            return f"{v:.3f}"
        if col.startswith("cost"):
            return f"{v:.4g}"
        return f"{v:.2f}"
    return str(v)


def cells(c: Comparison) -> list[list[str]]:
    """Header row then one row per metric, every cell formatted."""
    df = c.metrics
    currencies = df["currency"] if "currency" in df.columns else [None] * len(df)
    out = [["metric", *(str(j) for j in df["job"])]]
    for col, label in display_rows(c):
        if col in MONEY_COLUMNS:
            out.append([label, *(money(v, cur) if is_number(v) else fmt(v, col)
                                 for v, cur in zip(df[col], currencies, strict=True))])
        else:
            out.append([label, *(fmt(v, col) for v in df[col])])
    return out


def text_table(c: Comparison) -> str:
    """The table for a terminal: aligned columns, metric names left, values right."""
    rows = cells(c)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join([r[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(r[1:], widths[1:], strict=True)]))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
