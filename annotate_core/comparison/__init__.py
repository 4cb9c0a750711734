"""Vendor comparison: the same job on several backends, side by side.

``compare([job_a, job_b])`` returns one row of metrics per job (accuracy on golden items and on
known truth per aggregation method, Krippendorff's alpha, cost, turnaround, throughput, answers per
item, rejected and banned workers); ``comparison([...])`` also keeps the per-worker and completion
detail that ``write_report`` plots into a self-contained HTML page. See ``build`` for the
meaning of every column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from annotate_core.comparison.agreement import alpha_from_counts, krippendorff_alpha
from annotate_core.comparison.build import DEFAULT_METHODS, Comparison, Methods, build_comparison
from annotate_core.comparison.collect import JobData, collect
from annotate_core.comparison.truth import load_truth

if TYPE_CHECKING:
    from annotate_core.job import Job

__all__ = [
    "DEFAULT_METHODS",
    "Comparison",
    "JobData",
    "alpha_from_counts",
    "collect",
    "compare",
    "comparison",
    "krippendorff_alpha",
    "load_truth",
    "write_report",
]

TruthLike = pd.Series | Mapping[Any, Any] | str | Path | None


def _truth(truth: TruthLike) -> pd.Series | None:
    if truth is None:
        return None
    if isinstance(truth, (str, Path)):
        return load_truth(truth)
    return truth if isinstance(truth, pd.Series) else pd.Series(dict(truth), dtype="object")


def comparison(
    jobs: Sequence[Job | JobData],
    truth: TruthLike = None,
    methods: Methods = DEFAULT_METHODS,
    *,
    names: Sequence[str] | None = None,
    field: str | None = None,
) -> Comparison:
    """Fetch each job once and compute the comparison (metrics plus plot detail).

    ``truth`` is a task -> label mapping or a CSV path (see ``load_truth``); golden items are always
    used. ``methods`` are aggregation method names ("mv", "ds", "wawa", ...) or a mapping of a column
    name to a method name or a callable (a crowd-kit ``fit_predict``, say). ``names`` label the jobs
    (default ``backend:job_id``). ``field`` picks the output field to compare (default: the spec's
    first output).
    """
    if names is not None and len(names) != len(jobs):
        raise ValueError(f"names: expected {len(jobs)} names, one per job, got {len(names)}")
    data = []
    for i, job in enumerate(jobs):
        name = names[i] if names is not None else None
        if isinstance(job, JobData):
            if name:
                job.name = name
            data.append(job)
        else:
            data.append(collect(job, name=name))
    return build_comparison(data, truth=_truth(truth), methods=methods, field_name=field)


def compare(
    jobs: Sequence[Job | JobData],
    truth: TruthLike = None,
    methods: Methods = DEFAULT_METHODS,
    *,
    names: Sequence[str] | None = None,
    field: str | None = None,
) -> pd.DataFrame:
    """One row of metrics per job; see ``annotate_core.comparison.build`` for the columns."""
    return comparison(jobs, truth, methods, names=names, field=field).metrics


def write_report(result: Comparison, path: str | Path) -> Path:
    """Write the self-contained HTML report (plots as inline SVG); needs matplotlib."""
    from annotate_core.comparison.report import write_report as _write

    return _write(result, path)
