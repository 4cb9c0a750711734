"""The comparison report: one self-contained HTML page with the verdict, four plots and the table.

Self-contained means it opens from a mail attachment on an offline laptop: no scripts, no external
CSS, fonts or images. Plots are matplotlib figures written as inline SVG with text drawn as paths
(``svg.fonttype = "path"``), so they look the same without any font installed. Each SVG's ids are
prefixed per figure, so the clip paths and glyphs of one plot never resolve to another's.

Plots: accuracy vs cost per backend (the vendor decision in one picture), accuracy by aggregation
method (is a smarter method worth it on this crowd?), per-worker accuracy (is the crowd uniformly
mediocre or a few spammers?), and completion over time (turnaround, and whether a job stalled).
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from annotate_core.comparison.placement import fit_bar_labels, legend_below, multiline, place_labels, same_spot_groups
from annotate_core.comparison.table import cells, currency_of, is_number, method_name
from annotate_core.comparison.verdict import accuracy_label, verdict_html

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from annotate_core.comparison.build import Comparison

MIN_WORKER_ANSWERS = 3  # workers with fewer answers on known items are too noisy to plot
MARKER_AREA = 90.0  # points², a job's marker on the accuracy vs cost plot
FIGURE_SIZE = (6.0, 4.0)  # inches; the page shows two plots per row
PLOT_IDS = ("plot-accuracy-cost", "plot-methods", "plot-workers", "plot-completion")

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px;color:#1f2328;
background:#ffffff;max-width:1280px}
h1{font-size:1.5em;margin:0 0 4px}h2{font-size:1.15em;margin:28px 0 8px}
.meta{color:#57606a;font-size:.9em}
.verdict{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:10px 16px}
.verdict li{margin:3px 0}
.plots{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}
figure.plot{margin:0;border:1px solid #d0d7de;border-radius:6px;padding:8px}
figure.plot svg{display:block;width:100%;height:auto}
figcaption{font-size:.85em;color:#57606a;margin-top:4px}
table{border-collapse:collapse;font-size:.85em}
th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:right}
th{background:#f6f8fa}td.name,th.name{text-align:left}
.notes{font-size:.85em;color:#57606a}
"""


def _mpl() -> Any:
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "the comparison report draws its plots with matplotlib: pip install 'annotate-core[report]'"
        ) from exc
    matplotlib.rcParams.update({"svg.fonttype": "path", "svg.hashsalt": "annotate-compare"})
    return matplotlib


def _colors(names: list[str]) -> dict[str, Any]:
    mpl = _mpl()
    cmap = mpl.colormaps["tab10"]
    return {n: cmap(i % 10) for i, n in enumerate(names)}


def make_figure(draw: Callable[[Axes], None], size: tuple[float, float] = FIGURE_SIZE) -> Figure:
    """A fresh figure (constrained layout: room is reserved for legends and labels) drawn by ``draw``."""
    _mpl()
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    draw(fig.subplots())
    return fig


def figure_svg(draw: Callable[[Axes], None], prefix: str, size: tuple[float, float] = FIGURE_SIZE) -> str:
    """Draw on a fresh figure and return its inline SVG, ids prefixed with ``prefix``."""
    fig = make_figure(draw, size)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    return svg


def _no_data(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#57606a")
    ax.set_xticks([])
    ax.set_yticks([])


def draw_accuracy_cost(c: Comparison, colors: dict[str, Any]) -> Callable[[Axes], None]:
    def draw(ax: Axes) -> None:
        df = c.metrics
        pts = [(r["job"], r["cost"], r["accuracy"], r["currency"]) for _, r in df.iterrows()
               if is_number(r["cost"]) and is_number(r["accuracy"])]
        if not pts:
            _no_data(ax, "no job has both a cost and an accuracy")
            return
        costs = [p[1] for p in pts]
        accs = [p[2] for p in pts]
        span = max(costs) - min(costs) or max(abs(max(costs)), 1.0) * 0.5
        ax.set_xlim(min(costs) - 0.25 * span, max(costs) + 0.45 * span)
        ax.set_ylim(max(0.0, min(accs) - 0.1), 1.02)
        labels, radii, markers = [], [], []
        for group in same_spot_groups([(p[1], p[2]) for p in pts], ax.get_xlim(), ax.get_ylim()):
            # points on one spot: concentric markers, the first job's the largest, so every colour shows
            for rank, i in enumerate(group):
                name, cost, acc, _ = pts[i]
                size = MARKER_AREA * (1 + 0.9 * (len(group) - 1 - rank))
                ax.scatter([cost], [acc], s=size, color=colors[name], edgecolor="black", linewidth=0.6,
                           zorder=3 + rank, label=name)
                markers.append((cost, acc, math.sqrt(size) / 2))
            first = pts[group[0]]
            labels.append(ax.annotate(multiline([str(pts[i][0]) for i in group]), (first[1], first[2]),
                                      textcoords="offset points", xytext=(7, 6), fontsize=9,
                                      arrowprops={"arrowstyle": "-", "color": "#57606a", "lw": 0.6,
                                                  "shrinkA": 1, "shrinkB": 5}))
            radii.append(max(r for *_, r in markers[-len(group):]))
        currencies = sorted({cur for p in pts if (cur := currency_of(p[3]))})
        ax.set_xlabel("cost" + (f" ({', '.join(currencies)})" if currencies else ""))
        ax.set_ylabel(accuracy_label(c))
        ax.grid(alpha=0.3)
        ax.set_title("Accuracy vs cost (up and left is better)")
        place_labels(ax, labels, radii, markers)
    return draw


def draw_methods(c: Comparison, colors: dict[str, Any]) -> Callable[[Axes], None]:
    def draw(ax: Axes) -> None:
        df = c.metrics
        basis = "truth" if c.truth_given else "golden"
        groups = [("single answer", f"answer_acc_{basis}")] + [
            (method_name(mth), f"acc_{basis}_{mth}") for mth in c.methods]
        groups = [(label, col) for label, col in groups if col in df.columns]
        values = np.array([[r[col] if is_number(r[col]) else np.nan for _, col in groups] for _, r in df.iterrows()])
        if values.size == 0 or np.isnan(values).all():
            _no_data(ax, "no golden items or truth to measure accuracy")
            return
        n = len(df)
        width = 0.8 / n
        x = np.arange(len(groups))
        value_labels = []
        for i, (_, r) in enumerate(df.iterrows()):
            heights = np.nan_to_num(values[i], nan=0.0)
            bars = ax.bar(x - 0.4 + width * (i + 0.5), heights, width, color=colors[r["job"]], label=r["job"],
                          edgecolor="black", linewidth=0.4)
            for bar, v in zip(bars, values[i], strict=True):
                if not np.isnan(v):
                    value_labels.append(ax.text(bar.get_x() + bar.get_width() / 2, v + 0.01, f"{v:.2f}",
                                                ha="center", va="bottom", fontsize=7))
        ax.set_xticks(x, [g[0] for g in groups])
        ax.set_ylim(0, 1.12)
        ax.set_ylabel(f"accuracy ({'all items with known truth' if c.truth_given else 'golden items'})")
        legend_below(ax)
        ax.grid(axis="y", alpha=0.3)
        ax.set_title("Accuracy by aggregation method")
        fit_bar_labels(ax, value_labels)
    return draw


def draw_workers(c: Comparison, colors: dict[str, Any]) -> Callable[[Axes], None]:
    def draw(ax: Axes) -> None:
        w = c.workers
        names = list(c.metrics["job"])
        data = []
        if not w.empty:
            w = w[w["answers"] >= MIN_WORKER_ANSWERS]
            data = [w.loc[w["job"] == n, "accuracy"].to_numpy(dtype=float) for n in names]
        if not any(len(d) for d in data):
            _no_data(ax, f"no worker has {MIN_WORKER_ANSWERS}+ answers on items with known truth")
            return
        rng = np.random.default_rng(0)
        positions = np.arange(1, len(names) + 1)
        ax.boxplot([d if len(d) else [np.nan] for d in data], positions=positions, widths=0.5, showfliers=False)
        for pos, name, d in zip(positions, names, data, strict=True):
            if len(d):
                ax.scatter(pos + rng.uniform(-0.18, 0.18, len(d)), d, s=14, alpha=0.7, color=colors[name],
                           edgecolor="none", zorder=3)
        ax.set_xticks(positions, [f"{n}\n({len(d)} workers)" for n, d in zip(names, data, strict=True)],
                      fontsize=8)
        ax.set_ylim(-0.03, 1.03)
        ax.set_ylabel("worker accuracy")
        ax.grid(axis="y", alpha=0.3)
        ax.set_title(f"Per-worker accuracy (workers with {MIN_WORKER_ANSWERS}+ known answers)")
    return draw


def draw_completion(c: Comparison, colors: dict[str, Any]) -> Callable[[Axes], None]:
    def draw(ax: Axes) -> None:
        curve = c.completion
        longest = float(curve["hours"].max()) if not curve.empty and curve["hours"].notna().any() else 0.0
        unit, scale = ("minutes", 60.0) if longest < 2 else ("hours", 1.0)
        drawn = False
        for name in c.metrics["job"]:
            part = curve[curve["job"] == name] if not curve.empty else curve
            if part.empty:
                continue
            ax.step(part["hours"] * scale, part["fraction"] * 100, where="post", color=colors[name], label=name,
                    lw=2)
            drawn = True
        if not drawn:
            _no_data(ax, "no timed answers")
            return
        ax.set_xlabel(f"{unit} since the first answer started")
        ax.set_ylabel("% of expected answers received")
        ax.set_ylim(0, 105)
        ax.set_xlim(left=0)
        legend_below(ax)
        ax.grid(alpha=0.3)
        ax.set_title("Completion over time")
    return draw


def metrics_table(c: Comparison) -> str:
    head, *body = cells(c)
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head[1:])
    trs = "".join(f'<tr><th class="name">{html.escape(r[0])}</th>'
                  + "".join(f"<td>{html.escape(v)}</td>" for v in r[1:]) + "</tr>" for r in body)
    return f'<table id="metrics"><tr><th class="name">metric</th>{th}</tr>{trs}</table>'


NOTES = """
<ul>
<li>Accuracy is computed on items whose label is known: golden items always, and every item of the truth file
when one is given. Aggregation runs without the golden labels, so golden accuracy measures the crowd.</li>
<li>Only submitted and accepted answers are aggregated; rejected, skipped and expired ones are not.</li>
<li>Cost is the vendor's own figure when it reports one (“reported”), else the workers' reward estimated
from the spec's pricing for the items that got answers (“estimated”, vendor fees excluded).</li>
<li>Turnaround runs from the start of the first answer (its submit time minus its duration) to the last
answer; throughput is answers handed in per hour over that span.</li>
<li>Banned workers are counted where the backend reports bans (progress details or its event stream);
“n/a” means the backend does not say.</li>
</ul>
"""


def render_html(c: Comparison, *, title: str = "Vendor comparison") -> str:
    """The whole report as one HTML string."""
    names = [str(n) for n in c.metrics["job"]]
    colors = _colors(names)
    figures = [
        ("plot-accuracy-cost", draw_accuracy_cost,
         "Each point is a job: higher is more accurate, further left is cheaper."),
        ("plot-methods", draw_methods,
         "How much each aggregation method gains over taking single answers at face value."),
        ("plot-workers", draw_workers, "Each dot is a worker; the box spans the middle half of the crowd."),
        ("plot-completion", draw_completion, "Share of the expected answers received over time."),
    ]
    parts = []
    for i, (pid, factory, caption) in enumerate(figures):
        svg = figure_svg(factory(c, colors), f"f{i}")
        parts.append(f'<figure class="plot" id="{pid}">{svg}<figcaption>{html.escape(caption)}</figcaption></figure>')
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    jobs = ", ".join(html.escape(n) for n in names)
    specs = sorted({str(s) for s in c.metrics.get("spec", pd.Series(dtype=object)).dropna()})
    if specs:
        title = f"{title}: {', '.join(specs)}"
    lines = "".join(f"<li>{line}</li>" for line in verdict_html(c)) or "<li>Not enough data for a verdict.</li>"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class=\"meta\">{len(names)} jobs: {jobs} · generated {when}</p>"
        f"<h2>Verdict</h2><ul class=\"verdict\" id=\"verdict\">{lines}</ul>"
        f"<h2>Plots</h2><div class=\"plots\">{''.join(parts)}</div>"
        f"<h2>Metrics</h2>{metrics_table(c)}"
        f"<h2>How these numbers are made</h2><div class=\"notes\">{NOTES}</div>"
        "</body></html>\n"
    )


def write_report(c: Comparison, path: str | Path, *, title: str = "Vendor comparison") -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_html(c, title=title), encoding="utf-8")
    return p
