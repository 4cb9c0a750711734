"""The HTML report: self-contained, and its plots really drawn when Chromium renders the page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from annotate_core.comparison.build import Comparison, build_comparison
from annotate_core.comparison.report import PLOT_IDS, render_html, write_report
from annotate_core.comparison.table import cells
from annotate_core.comparison.verdict import verdict_html as verdict
from annotate_core.comparison.verdict import verdict_text

from . import browser
from .synth import crowd_job, crowd_truth, first_answer, majority_vote

browser.need("matplotlib", "the report needs the 'report' extra: pip install -e '.[report]'")

WIDTH = 1280
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
# matplotlib's tab10: the first two jobs' colours
JOB_RGB = {"cheap": (0x1F, 0x77, 0xB4), "careful": (0xFF, 0x7F, 0x0E)}

LAYOUT_SCRIPT = """<script>
window.addEventListener('load', () => {
  const out = {doc: [document.documentElement.scrollWidth, document.documentElement.scrollHeight], plots: {}};
  for (const f of document.querySelectorAll('figure.plot')) {
    const svg = f.querySelector('svg');
    const r = svg.getBoundingClientRect();
    let drawn = 0;
    for (const el of svg.querySelectorAll('path, use, rect, circle')) {
      const b = el.getBoundingClientRect();
      if (b.width > 0 || b.height > 0) drawn++;
    }
    out.plots[f.id] = {x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height, drawn};
  }
  const pre = document.createElement('pre');
  pre.id = 'layout';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    kw = dict(n_items=120, seed=1)
    cheap = crowd_job("cheap", reward=0.05, workers=40, accuracy=0.7, spammers=0.2, minutes_per_answer=0.5, **kw)
    careful = crowd_job("careful", reward=0.2, workers=15, accuracy=0.9, minutes_per_answer=2.0, **kw)
    # a test-local majority vote keeps these tests about the report, whatever annotate_core.aggregation does
    methods = {"mv": majority_vote, "first": first_answer}
    return build_comparison([cheap, careful], truth=crowd_truth(**kw), methods=methods)


@pytest.fixture(scope="module")
def report(comparison: Comparison, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(comparison, tmp_path_factory.mktemp("report") / "report.html")


def test_report_is_self_contained(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    for forbidden in ("<script", "<link", "<img", "<iframe", "@import", " src=", "url(http", "@font-face"):
        assert forbidden not in text.lower(), forbidden
    # the only absolute URLs are XML namespace names, which browsers never fetch
    assert set(re.findall(r"https?://[^\s\"'<>)]+", text)) <= NAMESPACES
    for pid in PLOT_IDS:
        assert text.count(f'id="{pid}"') == 1
    assert text.count("<svg") == len(PLOT_IDS)
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids)), "ids repeat across the inline SVGs"
    # every in-document reference resolves to an id of the page
    refs = set(re.findall(r'href="#([^"]+)"', text)) | set(re.findall(r"url\(#([^)]+)\)", text))
    assert refs <= set(ids)


def test_report_content_names_the_winners(report: Path, comparison: Comparison) -> None:
    text = report.read_text(encoding="utf-8")
    m = comparison.metrics.set_index("job")
    assert m.loc["careful", "accuracy"] > m.loc["cheap", "accuracy"]
    assert m.loc["cheap", "cost"] < m.loc["careful", "cost"]
    assert "Most accurate: <b>careful</b>" in text
    assert "Cheapest: <b>cheap</b>" in text
    assert "Fastest: <b>cheap</b>" in text
    assert '<table id="metrics">' in text and "majority vote accuracy, all known" in text


def _pixels_near(img: np.ndarray, rgb: tuple[int, int, int], tol: int = 40) -> int:
    return int((np.abs(img.astype(int) - np.array(rgb)).max(axis=2) <= tol).sum())


def test_report_plots_render_in_chromium(report: Path, tmp_path: Path) -> None:
    from PIL import Image

    chromium = browser.find_chromium()
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", LAYOUT_SCRIPT + "</body>"),
                     encoding="utf-8")
    dom = browser.dump_dom(chromium, probe, WIDTH, 1000)
    found = re.search(r'<pre id="layout">(.*?)</pre>', dom, flags=re.S)
    assert found, "the page did not finish loading in Chromium"
    layout = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert set(layout["plots"]) == set(PLOT_IDS)
    for pid, box in layout["plots"].items():
        # laid out two per row in a 1280 px window: each plot is a real, sizeable drawing
        assert 400 <= box["w"] <= WIDTH / 2 and box["h"] >= 250, (pid, box)
        assert box["drawn"] >= 20, (pid, box)

    height = int(layout["doc"][1]) + 20
    shot = browser.screenshot(chromium, report, tmp_path / "report.png", WIDTH, height)
    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape[1] == WIDTH and img.shape[0] >= height - 1
    for pid, box in layout["plots"].items():
        x0, y0 = int(box["x"]) + 2, int(box["y"]) + 2
        crop = img[y0:y0 + int(box["h"]) - 4, x0:x0 + int(box["w"]) - 4]
        ink = (crop < 235).any(axis=2).mean()
        assert ink > 0.03, f"{pid}: only {ink:.1%} of the plot area is drawn"
        for job, rgb in JOB_RGB.items():
            if pid == "plot-workers":  # dots drawn at alpha 0.7 over white
                rgb = tuple(round(0.7 * c + 0.3 * 255) for c in rgb)
            assert _pixels_near(crop, rgb) >= 15, f"{pid}: no pixels in {job}'s colour {rgb}"
    # and nothing was drawn where no plot is: the area right of the page's content is background
    assert (img[: height // 2, WIDTH - 12:] >= 250).all()


def test_report_without_truth_cost_or_times_still_renders(tmp_path: Path) -> None:
    job = crowd_job("bare", n_items=10, n_golden=0, seed=3)
    job.spec = None
    job.answers["submitted_at"] = pd.Series(pd.NaT, index=job.answers.index, dtype="datetime64[ns, UTC]")
    c = build_comparison([job], methods={"mv": majority_vote})
    text = render_html(c)
    assert "no job has both a cost and an accuracy" in text
    assert "no golden items or truth to measure accuracy" in text
    assert "no timed answers" in text
    assert text.count("<svg") == len(PLOT_IDS)


def test_write_creates_csv_json_and_html(comparison: Comparison, tmp_path: Path) -> None:
    paths = comparison.write(tmp_path / "out")
    assert {p.name for p in paths.values()} == {"metrics.csv", "metrics.json", "report.html"}
    data = json.loads(paths["json"].read_text())
    assert [j["job"] for j in data["jobs"]] == ["cheap", "careful"]
    assert data["methods"] == ["mv", "first"] and data["truth_given"] is True
    assert data["jobs"][0]["banned_workers_share"] is None  # NaN -> null, valid JSON
    assert paths["csv"].read_text().splitlines()[0].startswith("job,backend,profile,job_id")


def _table(rows: list[dict]) -> Comparison:
    base = {"currency": "USD", "cost_source": "estimated", "turnaround_h": 1.0, "answers_per_hour": 10.0,
            "alpha": 0.5}
    return Comparison(metrics=pd.DataFrame([{**base, **r} for r in rows]), methods=("mv",))


def test_verdict_picks_a_job_that_dominates() -> None:
    c = _table([{"job": "a", "accuracy": 0.9, "cost": 5.0, "cost_per_item": 0.05},
                {"job": "b", "accuracy": 0.8, "cost": 6.0, "cost_per_item": 0.06}])
    lines = verdict(c)
    assert any("<b>a</b> is at least as accurate and as cheap" in line for line in lines)


def test_verdict_prices_the_extra_accuracy() -> None:
    # b is 0.1 more accurate for 10 USD more over 100 items: 10 extra correct items, 1 USD each
    c = _table([{"job": "a", "accuracy": 0.8, "cost": 5.0, "cost_per_item": 0.05},
                {"job": "b", "accuracy": 0.9, "cost": 15.0, "cost_per_item": 0.15}])
    (line,) = [x for x in verdict(c) if x.startswith("Trade-off")]
    assert "<b>b</b> is 0.100 more accurate than <b>a</b> for 10 USD more" in line
    assert "that is 1 USD per extra correctly labelled item" in line


def test_verdict_does_not_rank_costs_in_different_currencies() -> None:
    c = _table([{"job": "a", "accuracy": 0.8, "cost": 5.0, "cost_per_item": 0.05, "currency": "USD"},
                {"job": "b", "accuracy": 0.9, "cost": 1.0, "cost_per_item": 0.01, "currency": "EUR"}])
    lines = verdict(c)
    assert not any(x.startswith("Cheapest") or x.startswith("Trade-off") for x in lines)
    assert any("different currencies (EUR, USD)" in x for x in lines)


def test_verdict_reads_rows_by_position_when_index_labels_repeat() -> None:
    # one-row tables per job, concatenated without ignore_index: every row has the index label 0
    base = {"currency": "USD", "cost_source": "estimated", "turnaround_h": 1.0, "answers_per_hour": 10.0,
            "alpha": 0.5}
    rows = [{"job": "a", "accuracy": 0.8, "cost": 5.0, "cost_per_item": 0.05, "turnaround_h": 2.0},
            {"job": "b", "accuracy": 0.9, "cost": 15.0, "cost_per_item": 0.15, "alpha": 0.7}]
    c = Comparison(metrics=pd.concat([pd.DataFrame([{**base, **r}]) for r in rows]), methods=("mv",))
    assert list(c.metrics.index) == [0, 0]
    lines = verdict_text(c)
    assert "Most accurate: b — 0.900 accuracy (majority vote, golden items)." in lines
    assert "Cheapest: a — 5 USD (estimated)." in lines
    assert any(x.startswith("Fastest: b — 1.00 h") for x in lines), lines
    assert any(x.startswith("Most consistent crowd: b") for x in lines), lines
    assert ("Trade-off: b is 0.100 more accurate than a for 10 USD more, "
            "that is 1 USD per extra correctly labelled item.") in lines
    rows[1]["cost"] = 4.0  # b now dominates
    c = Comparison(metrics=pd.concat([pd.DataFrame([{**base, **r}]) for r in rows]), methods=("mv",))
    assert any(x.startswith("b is at least as accurate and as cheap as every other job") for x in verdict_text(c))


NASTY = 'say "hi" & <b>bye</b>\'s'  # a job label with every character HTML escapes


def test_terminal_verdict_is_plain_text_and_the_report_escapes_it() -> None:
    c = _table([{"job": NASTY, "accuracy": 0.9, "cost": 5.0, "cost_per_item": 0.05},
                {"job": "b", "accuracy": 0.8, "cost": 6.0, "cost_per_item": 0.06}])
    text = verdict_text(c)
    assert f"Most accurate: {NASTY} — 0.900 accuracy (majority vote, golden items)." in text
    assert f"Cheapest: {NASTY} — 5 USD (estimated)." in text
    assert not any(re.search(r"&(#x?[0-9a-f]+|[a-z]+);", line, flags=re.I) for line in text), text
    html = verdict(c)
    escaped = "say &quot;hi&quot; &amp; &lt;b&gt;bye&lt;/b&gt;&#x27;s"
    assert f"Most accurate: <b>{escaped}</b>" in html[0]
    assert NASTY not in "".join(html)


def test_cli_verdict_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    from annotate_core.cli.compare import echo_comparison

    c = _table([{"job": NASTY, "accuracy": 0.9, "cost": 5.0, "cost_per_item": 0.05},
                {"job": "b", "accuracy": 0.8, "cost": 6.0, "cost_per_item": 0.06}])
    echo_comparison(c)
    out = capsys.readouterr().out
    assert f"* {NASTY} is at least as accurate and as cheap as every other job" in out
    assert "&quot;" not in out and "&#x27;" not in out and "&amp;" not in out


def test_money_always_has_its_currency() -> None:
    c = _table([{"job": "a", "accuracy": 0.8, "cost": 5.0, "cost_per_item": 0.05, "currency": "EUR"},
                {"job": "b", "accuracy": 0.9, "cost": 15.0, "cost_per_item": 0.15, "currency": "EUR"}])
    lines = verdict_text(c)
    assert "Cheapest: a — 5 EUR (estimated)." in lines
    (line,) = [x for x in lines if x.startswith("Trade-off")]
    assert line == ("Trade-off: b is 0.100 more accurate than a for 10 EUR more, "
                    "that is 1 EUR per extra correctly labelled item.")
    rows = {r[0]: r[1:] for r in cells(c)}
    assert rows["cost"] == ["5 EUR", "15 EUR"] and rows["cost per item"] == ["0.05 EUR", "0.15 EUR"]
    # no currency anywhere: the number still says so instead of standing alone
    c = _table([{"job": "a", "accuracy": 0.8, "cost": 5.0, "cost_per_item": 0.05, "currency": None}])
    assert "Cheapest: a — 5 (currency unknown) (estimated)." in verdict_text(c)
    assert {r[0]: r[1:] for r in cells(c)}["cost"] == ["5 (currency unknown)"]


def test_a_cost_of_unknown_currency_is_not_ranked_against_a_known_one() -> None:
    c = _table([{"job": "a", "accuracy": 0.8, "cost": 5.0, "cost_per_item": 0.05, "currency": "USD"},
                {"job": "b", "accuracy": 0.9, "cost": 1.0, "cost_per_item": 0.01, "currency": None}])
    lines = verdict_text(c)
    assert not any(x.startswith(("Cheapest", "Trade-off")) or "as cheap as" in x for x in lines), lines
    assert "Costs are in different currencies (USD, unknown currency): compare them by hand." in lines
