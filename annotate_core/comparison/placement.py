"""Where the report's legends and point labels go, so that no bar, point or label hides another.

A legend inside the axes covers whatever data happens to sit in its corner (a bar of the last
method, once accuracies are high), so legends go outside the plot area, below it, where the
constrained layout reserves their room whatever the number of jobs. Point labels are merged when
points (nearly) coincide, "A, B" beside one spot, and otherwise moved apart after a layout pass, so
that two jobs with equal results never print their names on top of each other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Annotation, Text
    from matplotlib.transforms import Bbox

LEGEND_MARGIN_PX = 4.0
LABEL_LINE_CHARS = 24  # a point label longer than this wraps (after a ", ")
SAME_SPOT = 0.02  # points closer than this share of both axes look like one point: one label
LABEL_GAP_PX = 2.0


def _root_figure(ax: Axes) -> Figure:
    """The figure that draws ``ax``: only a whole figure lays out, not a subfigure it may sit in."""
    from matplotlib.figure import Figure

    fig = ax.figure
    return fig if isinstance(fig, Figure) else fig.figure


def legend_below(ax: Axes, *, fontsize: float = 8) -> None:
    """The axes' legend below the plot, outside it, in as many columns as fit across the figure."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    fig = ax.figure
    room = fig.bbox.width - 2 * LEGEND_MARGIN_PX
    for rows in range(1, len(labels) + 1):  # the fewest rows that fit, filled evenly
        ncols = math.ceil(len(labels) / rows)
        legend = fig.legend(handles, labels, loc="outside lower center", ncols=ncols, fontsize=fontsize,
                            frameon=False)
        if ncols == 1 or legend.get_window_extent().width <= room:
            return
        legend.remove()


def multiline(names: Sequence[str], width: int = LABEL_LINE_CHARS) -> str:
    """Names joined by ", " on lines of about ``width`` characters (a label for points on one spot)."""
    lines: list[str] = []
    for name in names:
        if lines and len(lines[-1]) + 2 + len(name) <= width:
            lines[-1] += ", " + name
        else:
            if lines:
                lines[-1] += ","
            lines.append(name)
    return "\n".join(lines)


def same_spot_groups(points: Sequence[tuple[float, float]], xlim: tuple[float, float],
                     ylim: tuple[float, float], tol: float = SAME_SPOT) -> list[list[int]]:
    """Indices of points that sit on (nearly) the same spot of the axes, in first-seen order.

    Distances are measured in shares of each axis, so "near" means near on the drawing whatever the
    units. A point joins the first group with a member within ``tol`` on both axes.
    """
    (x0, x1), (y0, y1) = xlim, ylim
    w, h = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    groups: list[list[int]] = []
    for i, (x, y) in enumerate(points):
        for g in groups:
            if any(abs(x - points[j][0]) / w <= tol and abs(y - points[j][1]) / h <= tol for j in g):
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


def text_box(ann: Annotation) -> Bbox:
    """The window extent of an annotation's text alone (without its leader line)."""
    from matplotlib.text import Text

    return Text.get_window_extent(ann)


Marker = tuple[float, float, float]  # x, y in data units and radius in points


def place_labels(ax: Axes, labels: Sequence[Annotation], radii: Sequence[float], markers: Sequence[Marker]) -> None:
    """Put each point label where it overlaps no other label and no marker, deterministically.

    Labels are placed top to bottom (then left to right by their point), each at the first free
    spot of: right and above its point, right and below, left and above, left and below (inside
    the plot). When none is free, it takes the spot inside the plot that covers the fewest labels
    and markers, then moves down past the labels it would cover, with a thin leader line to its
    point. Labels are left out of the layout, so the pixel positions worked out here after one
    layout pass are the ones drawn.
    """
    if not labels:
        return
    from matplotlib.transforms import Bbox

    fig = _root_figure(ax)
    for ann in labels:
        ann.set_in_layout(False)
        if ann.arrow_patch is not None:
            ann.arrow_patch.set_visible(False)
    fig.draw_without_rendering()  # lay out once: positions in pixels are final from here
    area = ax.get_window_extent()
    px = fig.dpi / 72.0
    discs = []
    for x, y, r in markers:
        cx, cy = ax.transData.transform((x, y))
        discs.append(Bbox.from_extents(cx - r * px, cy - r * px, cx + r * px, cy + r * px))
    placed: list[Bbox] = []

    def inside(box: Bbox) -> bool:
        return area.x0 <= box.x0 and box.x1 <= area.x1 and area.y0 <= box.y0 and box.y1 <= area.y1

    def badness(ann: Annotation, spot: tuple[int, int], r: float) -> tuple[bool, int]:
        _put(ann, *spot, r)
        box = text_box(ann)
        return not inside(box), sum(box.overlaps(b) for b in (*placed, *discs))

    for ann, r in sorted(zip(labels, radii, strict=True), key=lambda p: (-p[0].xy[1], p[0].xy[0])):
        spot = min(SPOTS, key=lambda sp: badness(ann, sp, r))  # the first spot of the fewest troubles
        _put(ann, *spot, r)
        box = text_box(ann)
        for _ in range(len(placed)):
            hit = next((b for b in placed if b.overlaps(box)), None)
            if hit is None:
                break
            dx, dy = ann.xyann
            ann.xyann = (dx, dy - (box.y1 - hit.y0 + LABEL_GAP_PX) / px)
            box = text_box(ann)
            if ann.arrow_patch is not None:
                ann.arrow_patch.set_visible(True)
        placed.append(text_box(ann))


SPOTS = ((1, 1), (1, -1), (-1, 1), (-1, -1))  # (right/left, above/below) of the point, in order of preference


def _put(ann: Annotation, side: int, updown: int, radius: float) -> None:
    """The label beside its marker: clear of it horizontally, its near edge level with the centre."""
    ann.xyann = (side * (radius + 2.0), updown * 2.0)
    ann.set_horizontalalignment("left" if side > 0 else "right")
    ann.set_verticalalignment("bottom" if updown > 0 else "top")


def fit_bar_labels(ax: Axes, texts: Sequence[Text]) -> None:
    """Value labels over bars: upright when they fit side by side, else turned 90°, else left out.

    Left out only when even turned labels would overlap (bars narrower than a line of text); the
    metrics table below the plots has every number.
    """
    if not texts:
        return
    _root_figure(ax).draw_without_rendering()
    if not _any_overlap(texts):
        return
    for t in texts:
        t.set_rotation(90)
    if _any_overlap(texts):
        for t in texts:
            t.remove()
        return
    top = max(t.get_window_extent().y1 for t in texts)
    area = ax.get_window_extent()
    if top > area.y1:  # room above the highest bar for its turned label
        y0, y1 = ax.get_ylim()
        ax.set_ylim(y0, y1 + (top - area.y1 + LABEL_GAP_PX) * (y1 - y0) / area.height)


def _any_overlap(texts: Sequence[Text]) -> bool:
    boxes = [t.get_window_extent() for t in texts]
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
