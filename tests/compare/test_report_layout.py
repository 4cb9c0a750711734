"""The report's plots hide nothing: legends sit clear of every bar and line, equal points get one
readable label, and no two labels are drawn over each other, whatever the number of jobs.

Checked on the matplotlib figure objects after a layout pass, in display pixels.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from annotate_core.comparison.build import Comparison, build_comparison
from annotate_core.comparison.placement import same_spot_groups, text_box
from annotate_core.comparison.report import (
    _colors,
    draw_accuracy_cost,
    draw_completion,
    draw_methods,
    figure_svg,
    make_figure,
)

from . import browser
from .synth import crowd_job, majority_vote

browser.need("matplotlib", "the report needs the 'report' extra: pip install -e '.[report]'")

METHODS = ("mv", "ds", "wawa")


def _comparison(rows: list[dict], methods: tuple[str, ...] = METHODS) -> Comparison:
    base = {"currency": "USD", "cost_source": "estimated"}
    return Comparison(metrics=pd.DataFrame([{**base, **r} for r in rows]), methods=methods, truth_given=True)


def _high_accuracy_jobs(n: int, methods: tuple[str, ...] = METHODS, seed: int = 0) -> list[dict]:
    """Accuracies of 0.9 to 1: every bar reaches the top of the plot, where no legend may sit either."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        row = {"job": f"job-{i}", "cost": float(rng.uniform(1, 3)), "accuracy": float(rng.uniform(0.9, 1.0)),
               "answer_acc_truth": float(rng.uniform(0.9, 1.0))}
        row.update({f"acc_truth_{m}": float(rng.uniform(0.9, 1.0)) for m in methods})
        rows.append(row)
    return rows


def _figure(draw_factory, c: Comparison):
    fig = make_figure(draw_factory(c, _colors([str(j) for j in c.metrics["job"]])))
    fig.draw_without_rendering()  # the layout the SVG gets
    return fig, fig.axes[0]


def _legends(fig, ax) -> list:
    return [lg for lg in (*fig.legends, ax.get_legend()) if lg is not None]


def _inside(inner, outer, slack: float = 0.5) -> bool:
    return (inner.x0 >= outer.x0 - slack and inner.y0 >= outer.y0 - slack
            and inner.x1 <= outer.x1 + slack and inner.y1 <= outer.y1 + slack)


@pytest.mark.parametrize("n_jobs", [1, 2, 3, 5, 8, 12])
@pytest.mark.parametrize("methods", [("mv",), METHODS])
def test_method_legend_hides_no_bar(n_jobs: int, methods: tuple[str, ...]) -> None:
    c = _comparison(_high_accuracy_jobs(n_jobs, methods, seed=n_jobs), methods)
    fig, ax = _figure(draw_methods, c)
    bars = [p for p in ax.patches if p.get_height() > 0]
    assert len(bars) == n_jobs * (1 + len(methods))
    (legend,) = _legends(fig, ax)
    assert [t.get_text() for t in legend.get_texts()] == [f"job-{i}" for i in range(n_jobs)]
    box = legend.get_window_extent()
    assert _inside(box, fig.bbox), "the legend runs off the figure"
    for bar in bars:
        assert not box.overlaps(bar.get_window_extent()), f"the legend covers a bar of height {bar.get_height()}"
    # the value labels over the bars: all readable (none on another, none on the legend, inside the plot)
    values = [t for t in ax.texts if t.get_text()]
    boxes = [t.get_window_extent() for t in values]
    for i, a in enumerate(boxes):
        assert not a.overlaps(box)
        assert _inside(a, ax.get_window_extent()), values[i].get_text()
        assert not any(a.overlaps(b) for b in boxes[i + 1:]), "two value labels overlap"


def test_value_labels_turn_when_bars_are_narrow() -> None:
    few = _figure(draw_methods, _comparison(_high_accuracy_jobs(2)))[1]
    many = _figure(draw_methods, _comparison(_high_accuracy_jobs(8)))[1]
    assert {t.get_rotation() for t in few.texts} == {0.0}
    assert {t.get_rotation() for t in many.texts} == {90.0} and len(many.texts) == 8 * 4
    # bars narrower than a line of text: no value labels at all (the table has the numbers), bars intact
    crowded_fig, crowded = _figure(draw_methods, _comparison(_high_accuracy_jobs(40)))
    assert len(crowded.texts) == 0 and len(crowded.patches) == 40 * 4
    (legend,) = _legends(crowded_fig, crowded)
    assert not any(legend.get_window_extent().overlaps(p.get_window_extent()) for p in crowded.patches)


def test_completion_legend_is_outside_the_plot() -> None:
    jobs = [crowd_job(f"job-{i}", n_items=20, seed=i) for i in range(5)]
    c = build_comparison(jobs, methods={"mv": majority_vote})
    fig, ax = _figure(draw_completion, c)
    (legend,) = _legends(fig, ax)
    assert len(ax.lines) == 5
    assert not legend.get_window_extent().overlaps(ax.get_window_extent())
    assert _inside(legend.get_window_extent(), fig.bbox)


def _labels(ax) -> dict[str, object]:
    return {t.get_text(): t for t in ax.texts}


def test_equal_results_get_one_combined_label() -> None:
    c = _comparison([{"job": "alpha", "cost": 2.0, "accuracy": 0.9},
                     {"job": "beta", "cost": 2.0, "accuracy": 0.9},
                     {"job": "gamma", "cost": 4.0, "accuracy": 0.8}])
    _, ax = _figure(draw_accuracy_cost, c)
    labels = _labels(ax)
    assert set(labels) == {"alpha, beta", "gamma"}
    assert labels["alpha, beta"].xy == (2.0, 0.9)
    # both markers are drawn, the first larger, so both colours show on the shared spot
    sizes = {tuple(np.round(col.get_offsets()[0], 6)): [] for col in ax.collections}
    for col in ax.collections:
        sizes[tuple(np.round(col.get_offsets()[0], 6))].append(float(col.get_sizes()[0]))
    assert len(sizes[(2.0, 0.9)]) == 2 and sizes[(2.0, 0.9)][0] > sizes[(2.0, 0.9)][1]


def test_same_spot_is_measured_on_the_drawing() -> None:
    pts = [(1.0, 0.9), (1.0 + 1e-9, 0.9), (1.5, 0.9), (1.0, 0.95)]
    assert same_spot_groups(pts, (0.0, 2.0), (0.5, 1.0)) == [[0, 1], [2], [3]]
    # the same points zoomed out a hundredfold all look like one
    assert same_spot_groups(pts, (0.0, 200.0), (0.0, 50.0)) == [[0, 1, 2, 3]]


@pytest.mark.parametrize("seed", range(6))
def test_point_labels_never_overprint(seed: int) -> None:
    """A tight cluster of distinct points (plus one far away) with long names: every label readable."""
    rng = np.random.default_rng(seed)
    rows = [{"job": f"toloka-production:{1000 + i}", "cost": 1.0 + float(rng.uniform(0, 0.15)),
             "accuracy": 0.9 + float(rng.uniform(0, 0.02))} for i in range(6)]
    rows.append({"job": "far", "cost": 3.0, "accuracy": 0.7})
    fig, ax = _figure(draw_accuracy_cost, _comparison(rows))
    texts = list(ax.texts)
    names = [name for t in texts for name in re.split(r",\s+", t.get_text())]
    assert sorted(names) == sorted(r["job"] for r in rows)  # every job named once
    boxes = [text_box(t) for t in texts]
    for i, a in enumerate(boxes):
        assert _inside(a, fig.bbox), f"{texts[i].get_text()!r} runs off the figure"
        for j in range(i + 1, len(boxes)):
            assert not a.overlaps(boxes[j]), (texts[i].get_text(), texts[j].get_text())


def test_label_placement_is_deterministic() -> None:
    rows = [{"job": f"j{i}", "cost": 1.0 + 0.01 * i, "accuracy": 0.9} for i in range(5)]
    c = _comparison(rows)
    colors = _colors([r["job"] for r in rows])
    assert figure_svg(draw_accuracy_cost(c, colors), "a") == figure_svg(draw_accuracy_cost(c, colors), "a")


def test_plots_draw_into_axes_of_a_subfigure() -> None:
    """The draw functions take any Axes: one in a subfigure is laid out through its whole figure."""
    from matplotlib.figure import Figure

    rows = _high_accuracy_jobs(8)
    rows[1].update(cost=rows[0]["cost"], accuracy=rows[0]["accuracy"])  # two jobs on one spot: merged label
    c = _comparison(rows)
    colors = _colors([str(j) for j in c.metrics["job"]])
    fig = Figure(figsize=(12, 4), layout="constrained")
    left, right = fig.subfigures(1, 2)
    bars, points = left.subplots(), right.subplots()
    draw_methods(c, colors)(bars)
    draw_accuracy_cost(c, colors)(points)
    fig.draw_without_rendering()
    assert {t.get_rotation() for t in bars.texts} == {90.0} and len(bars.texts) == 8 * 4
    texts = list(points.texts)
    assert f"{rows[0]['job']}, {rows[1]['job']}" in {t.get_text() for t in texts}
    boxes = [text_box(t) for t in texts]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
