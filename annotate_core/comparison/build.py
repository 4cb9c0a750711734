"""A comparison of several jobs: one metrics row per job, plus the detail the report plots.

Columns of ``Comparison.metrics`` (one row per job, in the order given):

- ``job`` (label), ``backend``, ``profile``, ``job_id``, ``spec``, ``state``, ``field`` compared;
- the counts of ``annotate_core.counts`` (``Counts.to_dict``), named and defined as everywhere else
  (docs/counts.md): ``items``, ``items_to_label``, ``golden_items``, ``answers`` (every status), one
  column per status, ``usable_answers`` (submitted or accepted), ``golden_answers``;
- ``truth_items`` (items with a known label: golden + truth file), ``answers_per_item`` (usable),
  ``workers`` (who gave usable answers);
- ``alpha``: Krippendorff's alpha (nominal) of the usable answers;
- ``answer_acc_golden`` / ``answer_acc_truth``: share of individual answers that are right, on golden
  items / on every item with a known label;
- ``acc_golden_<method>`` / ``acc_truth_<method>``: accuracy of each aggregation method's label, on
  golden items / on every item with a known label (``acc_truth_*`` only with a truth file);
- ``accuracy``, ``accuracy_basis``: the headline number: the first method's ``acc_truth`` when a truth
  file is given, else its ``acc_golden`` (basis "truth" / "golden");
- ``cost``, ``currency``, ``cost_source`` ("reported" by the vendor, "estimated" from the spec's pricing,
  or "unknown"), ``cost_per_item`` (per non-golden item that got answers);
- ``turnaround_h`` (first answer's start to last answer), ``answers_per_hour``;
- ``rejected_answers_share``, ``rejected_workers_share`` (workers with any rejected answer),
  ``banned_workers_share`` and ``banned_source`` (see ``collect``; NaN when the backend reports no bans).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from annotate_core.comparison import metrics as m
from annotate_core.comparison.agreement import krippendorff_alpha
from annotate_core.comparison.collect import JobData
from annotate_core.counts import count_answers, progress_items
from annotate_core.plan import estimate_cost, expected_answers

DEFAULT_METHODS = ("mv", "ds")
WAWA = "wawa"


def default_methods() -> tuple[str, ...]:
    """Every aggregation method that needs no golden labels as input, by its short name (the CLI
    default): mv, ds, ocds, wawa, glad, mace with the aggregation package as it is now."""
    try:
        from annotate_core.aggregation import AGGREGATORS, GoldMajorityVote
    except ImportError:
        return DEFAULT_METHODS
    names: dict[type, str] = {}
    for name, cls in AGGREGATORS.items():
        if cls is not GoldMajorityVote:
            names.setdefault(cls, name)
    return tuple(names.values())

# method names for ``annotate_core.aggregation``, or name -> name/callable (see metrics.aggregated_labels)
Methods = Sequence[str] | Mapping[str, "str | m.Aggregator"]


def method_table(methods: Methods) -> dict[str, str | m.Aggregator]:
    """``{column name: method}``; names must be usable in column names (``acc_golden_<name>``)."""
    table: dict[str, str | m.Aggregator] = (
        dict(methods) if isinstance(methods, Mapping) else {str(x): str(x) for x in methods}
    )
    for name in table:
        if not name or not name.replace("-", "_").isidentifier():
            raise ValueError(f"methods: {name!r} is not a usable method name (letters, digits, _ or -)")
    return table


@dataclass
class Comparison:
    """The metrics table and the per-job detail behind the report's plots."""

    metrics: pd.DataFrame
    methods: tuple[str, ...]
    workers: pd.DataFrame = field(default_factory=pd.DataFrame)  # job, worker, answers, correct, accuracy
    completion: pd.DataFrame = field(default_factory=pd.DataFrame)  # job, hours, answers, fraction
    truth_given: bool = False

    def to_records(self) -> list[dict[str, Any]]:
        """Metrics rows as JSON-ready dicts (NaN becomes null)."""
        return [{str(k): _plain(v) for k, v in row.items()} for row in self.metrics.to_dict("records")]

    def to_json(self) -> str:
        return json.dumps({"methods": list(self.methods), "truth_given": self.truth_given,
                           "jobs": self.to_records()}, indent=2)

    def write(self, out_dir: str | Path, *, report: bool = True) -> dict[str, Path]:
        """Write metrics.csv, metrics.json and (with ``report``) report.html into ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"csv": out / "metrics.csv", "json": out / "metrics.json"}
        self.metrics.to_csv(paths["csv"], index=False)
        paths["json"].write_text(self.to_json(), encoding="utf-8")
        if report:
            paths["html"] = self.write_report(out / "report.html")
        return paths

    def write_report(self, path: str | Path, *, title: str = "Vendor comparison") -> Path:
        """The self-contained HTML report (needs matplotlib: the ``report`` extra)."""
        from annotate_core.comparison.report import write_report

        return write_report(self, path, title=title)


def _plain(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
        return None if isinstance(v, float) and math.isnan(v) else v
    return v


def _output_field(data: JobData, field_name: str | None) -> str | None:
    if field_name is not None:
        return field_name
    if data.spec is not None:
        return data.spec.outputs[0].name
    fields = data.answers["field"].dropna().unique()
    return str(fields[0]) if len(fields) else None


def job_metrics(data: JobData, *, truth: pd.Series | None = None, methods: Methods = DEFAULT_METHODS,
                field_name: str | None = None) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """The metrics row of one job, its per-worker accuracy, and its completion curve."""
    out_field = _output_field(data, field_name)
    answers = m.select_field(data.answers, out_field)
    ok = m.usable(answers)
    golden = m.golden_truth(answers)
    file_truth = m.as_truth(truth) if truth is not None else pd.Series(dtype="object")
    known = m.combine_truth(golden, file_truth)
    tasks = answers["task"].astype(str)
    to_label, golden_items = progress_items(data.progress)
    counts = count_answers(answers, out_field, items_to_label=to_label, golden_items=golden_items)
    golden_tasks = set(answers.loc[answers["golden"].astype(bool), "task"].astype(str))
    real_keys = sorted(set(tasks) - golden_tasks)

    row: dict[str, Any] = {
        "job": data.name, "backend": data.backend, "profile": data.profile, "job_id": data.job_id,
        "spec": data.spec.name if data.spec else None,
        "state": data.progress.state.value if data.progress else None,
        "field": out_field,
        **counts.to_dict(),  # items, answers by status, usable and golden answers: annotate_core.counts
        "truth_items": int(tasks.drop_duplicates().isin(known.index).sum()),
        "answers_per_item": m.answers_per_item(answers),
        "workers": ok["worker"].astype(str).nunique(),
        "alpha": krippendorff_alpha(ok),
        "answer_acc_golden": m.answer_accuracy(ok, golden).value,
        "answer_acc_truth": m.answer_accuracy(ok, known).value if truth is not None else float("nan"),
    }
    table = method_table(methods)
    for method, how in table.items():
        predicted = m.aggregated_labels(ok, how)
        row[f"acc_golden_{method}"] = m.label_accuracy(predicted, golden).value
        row[f"acc_truth_{method}"] = (m.label_accuracy(predicted, known).value if truth is not None
                                      else float("nan"))
    if table:
        basis = "truth" if truth is not None else "golden"
        row["accuracy"] = row[f"acc_{basis}_{next(iter(table))}"]
        row["accuracy_basis"] = basis
    else:
        row["accuracy"], row["accuracy_basis"] = float("nan"), None

    cost, currency, source = _cost(data, real_keys)
    row.update(cost=cost, currency=currency, cost_source=source,
               cost_per_item=cost / len(real_keys) if cost is not None and real_keys else float("nan"))

    t = m.timing(answers)
    row.update(turnaround_h=t.turnaround_hours, answers_per_hour=t.answers_per_hour)

    shares = m.worker_shares(answers, data.banned)
    row.update(rejected_answers_share=shares.rejected_answers_share,
               rejected_workers_share=shares.rejected_workers_share,
               banned_workers_share=shares.banned_workers_share, banned_source=data.banned_source)
    if row["cost"] is None:
        row["cost"] = float("nan")

    workers = m.worker_accuracy(ok, known)
    workers.insert(0, "job", data.name)
    expected = data.progress.expected_answers if data.progress else None
    if expected is None and data.spec is not None and real_keys:
        expected = expected_answers(data.spec, len(real_keys), real_keys)
        expected += int(ok["task"].astype(str).isin(golden_tasks).sum())  # golden answers ride along
    curve = m.completion_curve(answers, t.start, expected)
    curve.insert(0, "job", data.name)
    return row, workers, curve


def _cost(data: JobData, real_keys: list[str]) -> tuple[float | None, str | None, str]:
    currency_hint = data.spec.pricing.currency if data.spec and data.spec.pricing else None
    if data.reported_cost is not None:
        return data.reported_cost, data.reported_currency or currency_hint, "reported"
    if data.spec is not None and real_keys:
        est = estimate_cost(data.spec, len(real_keys), real_keys)
        if est is not None:
            return est.reward, est.currency, "estimated"
    return None, None, "unknown"


def build_comparison(jobs: Sequence[JobData], *, truth: pd.Series | dict[Any, Any] | None = None,
                     methods: Methods = DEFAULT_METHODS, field_name: str | None = None) -> Comparison:
    """Metrics of every job, plus worker and completion detail, as a ``Comparison``."""
    if not jobs:
        raise ValueError("jobs: expected at least one job to compare")
    names = [j.name for j in jobs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"jobs: names must be unique, repeated: {dup}")
    truth_s = m.as_truth(truth) if truth is not None else None
    rows, workers, curves = [], [], []
    for data in jobs:
        row, w, c = job_metrics(data, truth=truth_s, methods=methods, field_name=field_name)
        rows.append(row)
        workers.append(w)
        curves.append(c)
    return Comparison(
        metrics=pd.DataFrame(rows),
        methods=tuple(method_table(methods)),
        workers=pd.concat(workers, ignore_index=True) if workers else pd.DataFrame(),
        completion=pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(),
        truth_given=truth is not None,
    )
