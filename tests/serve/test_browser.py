"""The web UI in a real browser: headless Chromium (Debian's) driven by Playwright against the app served
by uvicorn on a loopback port. Several annotators label the main job at once with the keyboard, a
reviewer rejects an answer that goes back to the queue, results downloaded equal ``job.results()``,
and every example spec's interface is drawn with each of its components visible."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from annotate_local import LocalBackend
from annotate_local.serve.app import create_app
from annotate_local.serve.queries import captcha_of
from annotate_local.serve.render import item_view, sample_items

from annotate_core.items import Item
from annotate_core.job import Job
from annotate_core.specfile import load_spec

from . import browser
from .conftest import make_items, make_spec, open_job

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))


@pytest.fixture(scope="module")
def chromium() -> Any:
    """One headless Chromium for the module (one Playwright per thread: sync API); each test opens its own
    server and browser contexts (a context is a fresh profile: one person)."""
    with browser.chromium() as b:
        yield b


@pytest.fixture
def real_backend(tmp_path: Path) -> Any:
    """A store on the real clock: what `annotate serve` runs on."""
    b = LocalBackend(path=str(tmp_path / "annotate.db"))
    b.open_store()
    yield b
    b.close_backend()


def main_job(backend: LocalBackend, n_real: int = 14) -> tuple[Job, dict[str, str]]:
    """The README's main job (examples/cats_vs_dogs.yaml) on its first items, golden ones included, without
    its fast-submit and captcha ban rules (a test's browser answers faster than any person)."""
    spec = load_spec(REPO / "examples" / "cats_vs_dogs.yaml")
    spec = spec.model_copy(update={"quality": spec.quality.model_copy(update={"rules": ()})})
    rows = pd.read_csv(REPO / "examples" / "cats_vs_dogs_items.csv", dtype=str, keep_default_na=False)
    real = rows[rows["golden:result"] == ""].head(n_real)
    golden = rows[rows["golden:result"] != ""].head(2)
    items = [Item(key=r["key"], inputs={"image": r["image"]},
                  golden={"result": r["golden:result"]} if r["golden:result"] else None)
             for _, r in pd.concat([real, golden]).iterrows()]
    answers = {r["key"]: r["truth:result"] or r["golden:result"] for _, r in pd.concat([real, golden]).iterrows()}
    job = Job(backend, backend.create_job(spec), spec)
    job.add_items(items, progress=False)
    job.start()
    return job, answers


def link_for(requester: Any, name: str) -> str:
    """The requester registers ``name`` (English speaker: the job's crowd filter) and copies their link."""
    page = requester.new_page()
    page.goto("/requester/people")
    page.fill("input[name=name]", name)
    page.fill("input[name=languages]", "EN")
    page.click("#add-person")
    link = page.inner_text("#person-link").strip()
    page.close()
    return link


def take_batch(page: Any, job_id: str) -> bool:
    """Open the job and, with the keyboard, take a batch (Enter on the focused button). False: no work."""
    page.goto(f"/jobs/{job_id}")
    if page.locator("form#batch").count():
        return True
    with page.expect_navigation():
        page.keyboard.press("Enter")
    return page.locator("form#batch").count() > 0


def answer_with_keys(page: Any, backend: LocalBackend, job_id: str, worker: str, truth: dict[str, str]) -> int:
    """Answer the batch shown with number keys (1 Cat, 2 Dog), type the captcha if any, Enter submits."""
    form = page.locator("form#batch")
    assignment = form.get_attribute("data-assignment")
    items = page.locator(".item[data-index]")
    n = items.count()
    for i in range(n):
        key = items.nth(i).get_attribute("data-key")
        page.keyboard.press("1" if truth[key] == "cat" else "2")
        assert items.nth(i).locator(f'input[value="{truth[key]}"]').is_checked()
    if page.locator("#captcha").count():
        text = captcha_of(backend, job_id, worker, assignment)  # what the person reads off the image
        assert text and page.locator("img[alt=captcha]").evaluate("img => img.naturalWidth") > 0
        page.fill("#captcha", text)
        page.locator("#captcha").blur()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "submitted" in page.inner_text("main"), page.inner_text("main")
    return n


def test_annotators_label_the_main_job_concurrently_to_completion(real_backend: LocalBackend, tmp_path: Path,
                                                                  chromium: Any) -> None:
    job, truth = main_job(real_backend)
    names = ["ann@example.com", "bob@example.com", "ida@example.com"]  # ida's first batch is in the 10% QA sample
    app = create_app(real_backend)
    with browser.live_server(app) as url:
        requester = browser.new_context(chromium, url)
        pages = {}
        for name in names:
            context = browser.new_context(chromium, url)
            page = context.new_page()
            page.goto(link_for(requester, name).removeprefix(url))
            assert page.inner_text("#me") == name
            pages[name] = page
        # everyone holds a batch at the same time, then they answer in turns until nobody gets work
        holding = {name: take_batch(page, job.id) for name, page in pages.items()}
        assert all(holding.values())
        held = {pages[n].locator("form#batch").get_attribute("data-assignment") for n in names}
        assert len(held) == len(names)
        answered = 0
        while any(holding.values()):
            for name, page in pages.items():
                if holding[name]:
                    answered += answer_with_keys(page, real_backend, job.id, name, truth)
                    holding[name] = page.locator("form#batch").count() > 0
        assert answered == 3 * 16  # overlap 3 on 14 items + each golden item once per batch, for everyone
        # the 10% QA sample (stable: ida's first batch): a reviewer accepts it, and the job completes
        sampled = job.review_sample()
        assert len(sampled) == 1 and job.state().value == "open"
        reviewer = browser.new_context(chromium, url).new_page()
        reviewer.goto(link_for(requester, "qa@example.com").removeprefix(url))
        accepted = []
        for _ in range(5):
            reviewer.goto(f"/jobs/{job.id}/review")
            with reviewer.expect_navigation():  # count() does not wait: let the pull's page load first
                reviewer.click("#pull-review")
            if not reviewer.locator("#accept").count():
                break
            assert reviewer.locator(".item img").count() == 11  # the batch's images, with the answers
            accepted.append(reviewer.inner_text(".reviewed-worker"))
            with reviewer.expect_navigation():
                reviewer.click("#accept")
        assert accepted == ["ida@example.com"] and job.review_sample() == []
        assert job.state().value == "completed"
        # the requester sees everyone's work and downloads the results
        page = requester.new_page()
        page.goto(f"/requester/jobs/{job.id}")
        table = page.inner_text("#workers")
        assert all(name in table for name in names)
        page.screenshot(path=str(tmp_path / "requester.png"), full_page=True)
        with page.expect_download() as download:
            page.click("#download")
        got = pd.read_csv(download.value.path())
    want = pd.read_csv(io.StringIO(job.results().to_csv(index=False)))
    pd.testing.assert_frame_equal(got, want)
    assert len(got) == 16  # every item, golden ones included, labeled as the annotators answered: the truth
    assert dict(zip(got["task"], got["label"], strict=True)) == truth
    answers = job.answers()
    assert set(answers["worker"]) == set(names)
    assert answers.groupby("task")["worker"].nunique().max() == 3  # nobody answered an item twice


def test_a_reviewer_rejects_an_answer_and_it_goes_back_to_the_queue(real_backend: LocalBackend, chromium: Any) -> None:
    spec = make_spec(overlap={"count": 1}, review={"fraction": 1.0, "on_reject": "requeue"})
    job = open_job(real_backend, spec, make_items(2))
    app = create_app(real_backend)
    with browser.live_server(app) as url:
        people = {}
        for name in ("ann", "rev", "bob"):
            page = browser.new_context(chromium, url).new_page()
            page.goto("/")
            page.fill("#name", name)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            people[name] = page
        ann, rev, bob = people["ann"], people["rev"], people["bob"]
        assert take_batch(ann, job.id)
        answer_with_keys(ann, real_backend, job.id, "ann", {"it-000": "dog", "it-001": "dog"})
        rev.goto(f"/jobs/{job.id}/review")
        rev.click("#pull-review")
        assert rev.inner_text(".reviewed-worker") == "ann"
        assert rev.locator("dl.answer dd").all_inner_texts() == ["dog", "dog"]
        rev.fill("#comment", "the first one is a cat")
        with rev.expect_navigation():
            rev.click("#reject")
        assert "rejected" in rev.inner_text("main")
        assert take_batch(bob, job.id)  # the rejected items are back in the queue
        keys = bob.locator(".item[data-index]").evaluate_all("els => els.map(e => e.dataset.key)")
        assert sorted(keys) == ["it-000", "it-001"]
    answers = job.answers()
    rejected = answers[answers["status"] == "rejected"]
    assert set(rejected["worker"]) == {"ann"} and set(rejected["review_comment"]) == {"the first one is a cat"}
    assert set(answers[answers["worker"] == "bob"]["status"]) == {"active"}


def test_hostile_item_data_runs_nothing_in_the_browser(real_backend: LocalBackend, chromium: Any) -> None:
    spec = make_spec()
    job = Job(real_backend, real_backend.create_job(spec), spec)
    real_backend.add_items(job.id, spec, [
        Item(key="k1", inputs={"image": "javascript:alert(1)", "caption": "<img src=x onerror=alert(2)>"}),
        Item(key="k2", inputs={"image": 'https://img.example/a.jpg" onerror="alert(3)',
                               "caption": "<script>alert(4)</script>"}),
    ])
    job.start()
    app = create_app(real_backend)
    with browser.live_server(app) as url:
        page = browser.new_context(chromium, url).new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto("/")
        page.fill("#name", "ann")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert take_batch(page, job.id)
        captions = page.locator(".c-text p").all_inner_texts()
        assert captions == ["<img src=x onerror=alert(2)>", "<script>alert(4)</script>"]  # shown as text
        assert page.locator("script").count() == 1  # ours (serve.js), none from the items
        assert page.locator(".item img").count() == 0  # neither URL is a safe image
        page.wait_for_timeout(300)
    assert dialogs == []


@pytest.fixture(scope="module")
def preview_browser(tmp_path_factory: pytest.TempPathFactory, chromium: Any) -> Any:
    """One server previewing every example spec (``annotate serve --spec ...``) and one browser, for all of them."""
    backend = LocalBackend(path=str(tmp_path_factory.mktemp("preview") / "annotate.db"))
    backend.open_store()
    app = create_app(backend, spec_files=EXAMPLES)
    with browser.live_server(app) as url:
        yield browser.new_context(chromium, url, width=1200, height=1000)
    backend.close_backend()


@pytest.mark.parametrize("index", range(len(EXAMPLES)), ids=[p.stem for p in EXAMPLES])
def test_each_example_specs_interface_is_drawn(preview_browser: Any, index: int, tmp_path: Path) -> None:
    spec_path = EXAMPLES[index]
    spec = load_spec(spec_path)
    interface = spec.effective_interface()
    expected = item_view(spec, 0, sample_items(spec)[0]).widgets
    page = preview_browser.new_page()
    try:
        page.goto(f"/requester/preview?file={index}")
        first = page.locator('#preview-body .item[data-index="0"]')
        components = first.locator(":scope > .c")
        assert components.count() == len(interface.components) == len(expected)
        page.screenshot(path=str(tmp_path / f"{spec_path.stem}.png"), full_page=True)
        for i, (component, widget) in enumerate(zip(interface.components, expected, strict=True)):
            element = components.nth(i)
            assert f"c-{widget.kind}" in (element.get_attribute("class") or "")
            element.scroll_into_view_if_needed()
            box = element.bounding_box()
            assert box and box["width"] > 40 and box["height"] > 15, (component.kind, box)
            shot = tmp_path / f"{spec_path.stem}-{i}-{component.kind}.png"
            element.screenshot(path=str(shot))
            assert drawn_colors(shot) >= 2, f"{spec_path.name}: component {i} ({component.kind}) is blank"
            if component.kind == "image":
                assert element.locator("img").evaluate("img => img.complete && img.naturalWidth") > 0
            if widget.kind in ("radio", "checkbox"):
                assert element.locator("input").count() == len(widget.choices)
                assert element.locator("label.choice").first.is_visible()
            if widget.kind == "dropdown":
                assert element.locator("option").count() == len(widget.choices) + 1
            if widget.kind in ("text_input", "number"):
                assert element.locator("input").is_editable()
        if interface.task_width:  # the spec's width reaches the page (set by serve.js: no inline styles)
            width = page.locator("#preview-body").evaluate("el => el.getBoundingClientRect().width")
            assert width <= interface.task_width + 1
        radio = first.locator("fieldset[data-hotkeys] input")
        if radio.count() and radio.first.get_attribute("type") == "radio":
            page.keyboard.press("2")  # the keyboard works in the preview too
            assert radio.nth(1).is_checked()
    finally:
        page.close()


def drawn_colors(path: Path) -> int:
    """How many distinct colours a screenshot holds (1: nothing drawn)."""
    from PIL import Image

    with Image.open(path) as image:
        colors = image.convert("RGB").getcolors(maxcolors=1 << 16)
    return len(colors) if colors is not None else 1 << 16


def test_the_preview_follows_a_spec_as_it_is_typed_and_as_its_file_changes(real_backend: LocalBackend,
                                                                          tmp_path: Path, chromium: Any) -> None:
    spec_file = tmp_path / "draft.yaml"
    spec_file.write_text("name: First draft\ninputs: [{name: text, type: text}]\n"
                         "outputs: [{name: tag, type: label, options: [red, blue]}]\n")
    app = create_app(real_backend, spec_files=[spec_file])
    with browser.live_server(app) as url:
        page = browser.new_context(chromium, url).new_page()
        page.goto("/requester/preview?file=0")
        assert page.inner_text("#preview-body h1") == "First draft"
        spec_file.write_text(spec_file.read_text().replace("First draft", "Second draft").replace("blue", "green"))
        from playwright.sync_api import expect  # (no wait_for_function: the page's CSP forbids eval)

        expect(page.locator("#preview-body h1")).to_have_text("Second draft", timeout=10_000)  # re-read every 2 s
        options = page.locator('#preview-body .item[data-index="0"] .c-radio label.choice span')
        assert options.all_inner_texts() == ["red", "green"]
        page.goto("/requester/preview")
        page.fill("#spec", "name: Typed\ninputs: [{name: photo, type: image}]\n"
                           "outputs: [{name: ok, type: free_text}]\n")
        page.wait_for_selector("#preview-body .c-image img")
        assert page.inner_text("#preview-body h1") == "Typed"
        page.fill("#spec", "name: Typed\ninputs: []\n")
        page.wait_for_selector("#preview-body .spec-error")
        assert "inputs" in page.inner_text("#preview-body .spec-error")
