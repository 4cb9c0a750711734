"""The verdict: a few sentences naming the best job on accuracy, cost, speed and agreement.

The sentences are built once as fragments (plain text, and job names to emphasise) and written out
twice: as HTML for the report (escaped there, and only there) and as plain text for the terminal,
which must never show markup or HTML entities. Every amount of money carries its currency.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from annotate_core.comparison.table import currency_of, is_number, method_name, money

if TYPE_CHECKING:
    from annotate_core.comparison.build import Comparison


@dataclass(frozen=True)
class Strong:
    """A fragment the report shows in bold (a job's name)."""

    text: str


Fragment = str | Strong
Sentence = tuple[Fragment, ...]


def accuracy_label(c: Comparison) -> str:
    """What the headline accuracy measures, e.g. "accuracy (majority vote, golden items)"."""
    basis = "all items with known truth" if c.truth_given else "golden items"
    method = method_name(c.methods[0]) if c.methods else "?"
    return f"accuracy ({method}, {basis})"


def sentences(c: Comparison) -> list[Sentence]:
    """The verdict's sentences, best job first on each criterion; empty when nothing can be said."""
    df = c.metrics
    out: list[Sentence] = []

    def best(col: str, lowest: bool = False) -> pd.Series | None:
        vals = pd.to_numeric(df[col] if col in df.columns else pd.Series(dtype=float), errors="coerce")
        if vals.notna().sum() == 0:
            return None
        # by position: a metrics table built by concatenation may repeat index labels
        return df.iloc[int(vals.argmin() if lowest else vals.argmax())]

    if (r := best("accuracy")) is not None:
        out.append(("Most accurate: ", _job(r), f" — {r['accuracy']:.3f} {accuracy_label(c)}."))
    comparable, currencies = costs_comparable(df)
    if comparable and (r := best("cost", lowest=True)) is not None:
        out.append(("Cheapest: ", _job(r), f" — {money(r['cost'], r.get('currency'))} ({r['cost_source']})."))
    elif not comparable:
        out.append((f"Costs are in different currencies ({', '.join(currencies)}): compare them by hand.",))
    if (r := best("turnaround_h", lowest=True)) is not None:
        out.append(("Fastest: ", _job(r), f" — {r['turnaround_h']:.2f} h from first to last answer "
                    f"({r['answers_per_hour']:.0f} answers/hour)."))
    if (r := best("alpha")) is not None:
        out.append(("Most consistent crowd: ", _job(r), f" — Krippendorff's alpha {r['alpha']:.3f}."))
    if comparable and "accuracy" in df.columns and "cost" in df.columns and len(df) > 1:
        acc = pd.to_numeric(df["accuracy"], errors="coerce")
        cost = pd.to_numeric(df["cost"], errors="coerce")
        if acc.notna().all() and cost.notna().all():
            rows = range(len(df))
            dominant = [i for i in rows
                        if all(acc.iloc[i] >= acc.iloc[j] and cost.iloc[i] <= cost.iloc[j] for j in rows if j != i)]
            if dominant:
                out.append((_job(df.iloc[dominant[0]]), " is at least as accurate and as cheap as every other job: "
                            "on this evidence, it is the one to pick."))
            else:
                out.append(tradeoff(df, acc, cost))
    return out


def costs_comparable(df: pd.DataFrame) -> tuple[bool, list[str]]:
    """Whether the jobs' costs can be ranked (one currency), and the currencies seen.

    A cost whose currency nobody reported counts as a currency of its own ("unknown currency"):
    ranking it against a known one would be a guess.
    """
    if "cost" not in df.columns:
        return True, []
    seen = set()
    for _, r in df.iterrows():
        if is_number(r["cost"]):
            seen.add(currency_of(r.get("currency")) or "unknown currency")
    return len(seen) <= 1, sorted(seen)


def tradeoff(df: pd.DataFrame, acc: pd.Series, cost: pd.Series) -> Sentence:
    """What the extra accuracy of the most accurate job costs over the cheapest one, per item gained.

    ``acc`` and ``cost`` are columns of ``df``, in its row order: rows are found by position.
    """
    top, cheap = int(acc.argmax()), int(cost.argmin())
    gain, extra = acc.iloc[top] - acc.iloc[cheap], cost.iloc[top] - cost.iloc[cheap]
    top_row, cheap_row = df.iloc[top], df.iloc[cheap]
    currency = top_row.get("currency")
    items = pd.to_numeric(top_row["cost"], errors="coerce") / pd.to_numeric(top_row["cost_per_item"], errors="coerce")
    tail = f" for {money(extra, currency)} more"
    if is_number(items) and items > 0 and gain > 0:
        tail += f", that is {money(extra / (gain * items), currency)} per extra correctly labelled item"
    return ("Trade-off: ", _job(top_row), f" is {gain:.3f} more accurate than ", _job(cheap_row), tail + ".")


def _job(row: pd.Series) -> Strong:
    return Strong(str(row["job"]))


def as_html(sentence: Sentence) -> str:
    return "".join(f"<b>{html.escape(f.text)}</b>" if isinstance(f, Strong) else html.escape(f) for f in sentence)


def as_text(sentence: Sentence) -> str:
    return "".join(f.text if isinstance(f, Strong) else f for f in sentence)


def verdict_html(c: Comparison) -> list[str]:
    """The verdict as HTML fragments (job names in bold, everything escaped), one per sentence."""
    return [as_html(s) for s in sentences(c)]


def verdict_text(c: Comparison) -> list[str]:
    """The verdict as plain text for a terminal: no markup, no entities."""
    return [as_text(s) for s in sentences(c)]
