"""The web UI over HTTP (Starlette's test client): the work, review and requester flows, and what
each page refuses. The same flows in a real browser are in test_browser.py."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
from annotate_local import LocalBackend
from annotate_local.serve.app import create_app
from annotate_local.serve.queries import captcha_of
from starlette.testclient import TestClient

from annotate_core.items import Item
from annotate_core.job import Job

from .conftest import ManualClock, csrf_of, make_client, make_items, make_spec, open_job, post, sign_in

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = re.compile(r'data-assignment="([0-9a-f]+)"')


def held_assignment(html: str) -> str | None:
    found = ASSIGNMENT.search(html)
    return found.group(1) if found else None


def answer_batch(client, job_id: str, labels: list[str]) -> str:
    """Answer the batch the page shows with ``labels`` (one per item); returns the page after submit."""
    page = client.get(f"/jobs/{job_id}").text
    aid = held_assignment(page)
    assert aid, page[:3000]
    data = {"csrf": csrf_of(page), **{f"a{i}.result": label for i, label in enumerate(labels)}}
    return client.post(f"/jobs/{job_id}/submit/{aid}", data=data).text


def test_an_annotator_takes_a_batch_sees_the_interface_and_submits(backend: LocalBackend) -> None:
    job = open_job(backend, make_spec(), make_items(4))
    client = make_client(create_app(backend))
    sign_in(client, "ann")
    page = client.get(f"/jobs/{job.id}").text
    assert 'id="pull"' in page and held_assignment(page) is None  # nothing is handed out by looking
    page = post(client, f"/jobs/{job.id}", f"/jobs/{job.id}/pull").text
    aid = held_assignment(page)
    assert aid is not None
    # the spec's interface: the image, the caption, the two options with their number keys
    assert page.count('<img src="https://images.example.org/it/') == 2
    assert page.count('type="radio" name="a0.result"') == 2 and "<kbd>1</kbd> <span>Cat</span>" in page
    # the requester's instructions keep their markup, but never a script
    assert "<b>cat</b>" in page and "alert('spec')" not in page and "<script>alert" not in page
    # reloading shows the same batch instead of taking another
    assert held_assignment(client.get(f"/jobs/{job.id}").text) == aid
    after = answer_batch(client, job.id, ["cat", "dog"])
    assert "submitted 2 answer(s)" in after
    nxt = held_assignment(after)
    assert nxt is not None and nxt != aid  # submit took the next batch at once
    answers = job.answers()
    mine = answers[answers["assignment"] == aid]
    assert list(mine["label"]) == ["cat", "dog"] and set(mine["worker"]) == {"ann"}


def test_a_wrong_or_missing_answer_is_refused_in_the_backends_words(backend: LocalBackend) -> None:
    job = open_job(backend, make_spec(), make_items(2))
    client = make_client(create_app(backend))
    sign_in(client, "ann")
    post(client, f"/jobs/{job.id}", f"/jobs/{job.id}/pull")
    page = answer_batch(client, job.id, ["cat", "horse"])
    assert "expected one of" in page and "horse" in page
    assert held_assignment(page) is not None  # still held, nothing stored
    assert (job.answers()["status"] == "active").all()


def test_one_annotator_never_sees_nor_submits_anothers_assignment(backend: LocalBackend) -> None:
    job = open_job(backend, make_spec(quality={"captcha_frequency": "high"}), make_items(4))
    app = create_app(backend)
    ann, bob = make_client(app), make_client(app)
    sign_in(ann, "ann")
    sign_in(bob, "bob")
    aid = held_assignment(post(ann, f"/jobs/{job.id}", f"/jobs/{job.id}/pull").text)
    assert aid is not None
    assert ann.get(f"/jobs/{job.id}/captcha/{aid}").headers["content-type"].startswith("image/svg+xml")
    bob_page = bob.get(f"/jobs/{job.id}").text
    assert aid not in bob_page and held_assignment(bob_page) is None
    token = csrf_of(bob_page)
    refused = bob.post(f"/jobs/{job.id}/submit/{aid}", data={"csrf": token, "a0.result": "dog", "a1.result": "dog"})
    assert "not yours" in refused.text
    refused = bob.post(f"/jobs/{job.id}/skip/{aid}", data={"csrf": token})
    assert "belongs to another worker" in refused.text
    assert bob.get(f"/jobs/{job.id}/captcha/{aid}").status_code == 404
    rows = job.answers()
    assert set(rows["status"]) == {"active"} and set(rows["worker"]) == {"ann"}  # ann's batch is untouched
    # and ann's own submit (with the captcha) still goes through
    text = captcha_of(backend, job.id, "ann", aid)
    assert text and text not in ann.get(f"/jobs/{job.id}").text  # drawn as an image, not written in the page
    page = ann.get(f"/jobs/{job.id}").text
    done = ann.post(f"/jobs/{job.id}/submit/{aid}", data={"csrf": csrf_of(page), "a0.result": "cat",
                                                          "a1.result": "cat", "captcha": text.lower()}).text
    assert "submitted 2 answer(s)" in done and "captcha was wrong" not in done


def test_every_form_needs_the_sessions_csrf_token(backend: LocalBackend) -> None:
    job = open_job(backend, make_spec(), make_items(2))
    client = make_client(create_app(backend))
    sign_in(client, "ann")
    assert client.post(f"/jobs/{job.id}/pull", data={}).status_code == 403
    assert client.post(f"/jobs/{job.id}/pull", data={"csrf": "x" * 43}).status_code == 403
    token = csrf_of(client.get(f"/jobs/{job.id}").text)
    other = make_client(create_app(backend))  # another session's token is no good either
    sign_in(other, "bob")
    assert other.post(f"/jobs/{job.id}/pull", data={"csrf": token}).status_code == 403
    cross = client.post(f"/jobs/{job.id}/pull", data={"csrf": token}, headers={"origin": "http://evil.example"})
    assert cross.status_code == 403
    assert job.answers().empty  # nothing was handed out by any of them
    assert client.post("/signin", data={"name": "mallory"}).status_code == 403


def test_hostile_item_data_is_shown_as_text_never_run(backend: LocalBackend) -> None:
    spec = make_spec()
    job = Job(backend, backend.create_job(spec), spec)
    hostile = [
        Item(key="<script>alert(1)</script>", inputs={"image": "javascript:alert(1)",
                                                       "caption": "<img src=x onerror=alert(2)>"}),
        Item(key="k2", inputs={"image": 'https://img.example/a.jpg" onerror="alert(3)',
                               "caption": "</p><script>alert(4)</script>"}),
    ]
    backend.add_items(job.id, spec, hostile)  # straight to the store: no upload check in the way
    job.start()
    client = make_client(create_app(backend))
    sign_in(client, "ann")
    r = post(client, f"/jobs/{job.id}", f"/jobs/{job.id}/pull")
    page = r.text
    assert "alert(" in page  # the values are on the page ...
    assert "<script>alert" not in page and "<img src=x" not in page and 'onerror="alert' not in page
    assert 'src="javascript:' not in page and "href=\"javascript:" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # ... escaped, as text
    assert "not shown as an image: javascript:alert(1)" in page
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"


def test_a_reviewer_rejects_an_answer_and_its_items_go_back_to_the_queue(backend: LocalBackend) -> None:
    spec = make_spec(overlap={"count": 1}, review={"fraction": 1.0, "on_reject": "requeue"})
    job = open_job(backend, spec, make_items(2))
    app = create_app(backend)
    ann, rev = make_client(app), make_client(app)
    sign_in(ann, "ann")
    sign_in(rev, "rev")
    post(ann, f"/jobs/{job.id}", f"/jobs/{job.id}/pull")
    answer_batch(ann, job.id, ["dog", "dog"])
    assert ann.get(f"/jobs/{job.id}/review").status_code == 200
    own = post(ann, f"/jobs/{job.id}/review", f"/jobs/{job.id}/review/pull").text
    assert "nothing to review right now" in own  # nobody reviews their own work
    page = post(rev, f"/jobs/{job.id}/review", f"/jobs/{job.id}/review/pull").text
    assert '<b class="reviewed-worker">ann</b>' in page and "<dd>dog</dd>" in page
    aid = re.search(r'/review/([0-9a-f]{20})"', page)
    assert aid
    no_reason = rev.post(f"/jobs/{job.id}/review/{aid.group(1)}", data={"csrf": csrf_of(page), "verdict": "reject"})
    assert "say why you reject it" in no_reason.text
    # another signed-in person cannot decide a review rev took
    carl = make_client(app)
    sign_in(carl, "carl")
    token = csrf_of(carl.get("/").text)
    stolen = carl.post(f"/jobs/{job.id}/review/{aid.group(1)}", data={"csrf": token, "verdict": "accept"})
    assert "not yours" in stolen.text
    done = rev.post(f"/jobs/{job.id}/review/{aid.group(1)}",
                    data={"csrf": csrf_of(no_reason.text), "verdict": "reject", "comment": "both are cats"})
    assert f"rejected {aid.group(1)}" in done.text
    answers = job.answers()
    assert set(answers["status"]) == {"rejected"} and set(answers["review_comment"]) == {"both are cats"}
    # the rejected items are open again: the next annotator gets them
    again = post(carl, f"/jobs/{job.id}", f"/jobs/{job.id}/pull").text
    assert held_assignment(again) is not None and "it-000" in again and "it-001" in again


def test_results_download_equals_job_results(backend: LocalBackend) -> None:
    job = open_job(backend, make_spec(), make_items(4))
    app = create_app(backend)
    for name, labels in [("ann", ["cat", "dog"]), ("bob", ["cat", "cat"])]:
        c = make_client(app)
        sign_in(c, name)
        post(c, f"/jobs/{job.id}", f"/jobs/{job.id}/pull")
        answer_batch(c, job.id, labels)
        answer_batch(c, job.id, labels)
    assert job.state().value == "completed"
    client = make_client(app)
    for method in ("ds", "mv"):
        r = client.get(f"/requester/jobs/{job.id}/results.csv?method={method}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        got = pd.read_csv(io.StringIO(r.text))
        want = pd.read_csv(io.StringIO(job.results(method=method).to_csv(index=False)))
        pd.testing.assert_frame_equal(got, want)
    bad = client.get(f"/requester/jobs/{job.id}/results.csv?method=nope")
    assert bad.status_code == 409 and "nope" in bad.text


def test_requester_pages_show_progress_and_per_worker_stats(backend: LocalBackend, clock: ManualClock) -> None:
    spec = make_spec(quality={"rules": [{"name": "fast", "when": [{"metric": "fast_submits", "window": 1,
                                                                   "faster_than_seconds": 5, "at_least": 1}],
                                         "then": {"action": "ban", "duration": 1, "unit": "days",
                                                  "scope": "project", "reason": "too fast"}}]})
    job = open_job(backend, spec, make_items(4))
    app = create_app(backend)
    ann = make_client(app)
    sign_in(ann, "ann")
    post(ann, f"/jobs/{job.id}", f"/jobs/{job.id}/pull")
    page = answer_batch(ann, job.id, ["cat", "cat"])  # in no time at all: the rule bans ann
    assert "quality rule: ban" in page and "banned" in page
    requester = make_client(app)
    jobs = requester.get("/requester").text
    assert f'data-job="{job.id}"' in jobs and "2 / 4" not in jobs and "0 / 4" in jobs
    detail = requester.get(f"/requester/jobs/{job.id}").text
    row = re.search(r"<tr><td>ann</td>(.*?)</tr>", detail)
    assert row and "<td>2</td><td>1</td><td>2</td>" in row.group(1) and "<td>yes</td>" in row.group(1)
    assert "too fast" in detail


def test_requester_pages_need_the_token_and_links_sign_annotators_in(backend: LocalBackend) -> None:
    job = open_job(backend, make_spec(), make_items(2))
    token = "t0ken-" + "x" * 20
    app = create_app(backend, token=token, loopback=False, secret="s" * 32)
    stranger = make_client(app)
    assert stranger.get("/").url.path == "/login"
    assert stranger.get("/requester").url.path == "/login"
    assert stranger.get(f"/jobs/{job.id}").url.path == "/login"
    wrong = post(stranger, "/login", "/login", {"token": "nope"})
    assert "not this server&#39;s access token" in wrong.text
    assert post(stranger, "/login", "/signin", {"name": "eve"}).url.path == "/login"  # no name without the token
    requester = make_client(app)
    assert post(requester, "/login", "/login", {"token": token}).url.path == "/"
    made = post(requester, "/requester/people", "/requester/people", {"name": "ann", "languages": "en, de"}).text
    link = re.search(r'id="person-link">([^<]+)<', made)
    assert link and link.group(1).startswith("http://127.0.0.1/a/")
    assert backend.get_skills("ann") == {}  # registered (attributes checked by the crowd filters)
    annotator = make_client(app)
    landed = annotator.get(link.group(1).removeprefix("http://127.0.0.1"))
    assert landed.url.path == "/" and 'id="me">ann<' in landed.text
    assert annotator.get("/requester").status_code == 403
    assert post(annotator, "/", "/signin", {"name": "bob"}).status_code == 403  # a link names its person
    assert held_assignment(post(annotator, f"/jobs/{job.id}", f"/jobs/{job.id}/pull").text) is not None
    forged = make_client(app).get("/a/" + link.group(1).rsplit("/", 1)[1][:-2] + "xx")
    assert forged.status_code == 404
    assert make_client(create_app(backend, token=token, loopback=False, secret="another secret " * 3)).get(
        link.group(1).removeprefix("http://127.0.0.1")).status_code == 404


def test_a_loopback_server_refuses_other_host_names(backend: LocalBackend) -> None:
    client = make_client(create_app(backend))
    assert client.get("/", headers={"host": "127.0.0.1:8000"}).status_code == 200
    assert client.get("/", headers={"host": "attacker.example"}).status_code == 400  # DNS rebinding


def test_links_only_refuses_names(backend: LocalBackend) -> None:
    app = create_app(backend, links_only=True)
    client = make_client(app)
    assert "personal link" in client.get("/").text
    assert post(client, "/requester/people", "/signin", {"name": "ann"}).status_code == 403


def test_the_preview_renders_any_spec_with_sample_values(backend: LocalBackend, tmp_path: Path) -> None:
    spec_file = tmp_path / "draft.yaml"
    spec_file.write_text("name: Draft\ninputs: [{name: text, type: text}]\n"
                         "outputs: [{name: ok, type: bool, description: 'Is it fine?'}]\n")
    client = make_client(create_app(backend, spec_files=[spec_file]))
    text = (REPO / "examples" / "toloka_medium_pool.yaml").read_text(encoding="utf-8")
    page = post(client, "/requester/preview", "/requester/preview", {"spec": text}).text
    for kind in ("c-image", "c-text_input", "c-radio", "c-checkbox", "c-dropdown"):
        assert f'class="c {kind}' in page, kind
    assert 'src="/static/sample.svg"' in page and "Enter your answer here:" in page
    fragment = post(client, "/requester/preview", "/requester/preview?fragment=1", {"spec": "name: x\n"})
    assert "<html" not in fragment.text and "inputs" in fragment.text and "spec-error" in fragment.text
    live = client.get("/requester/preview?file=0&fragment=1").text
    assert "Draft" in live and "Is it fine?" in live and "Sample text 1" in live
    spec_file.write_text(spec_file.read_text().replace("Draft", "Second draft"))
    assert "Second draft" in client.get("/requester/preview?file=0&fragment=1").text  # read again: live
    assert client.get("/requester/preview?file=7").status_code == 404


def test_the_pull_rules_apply_training_first_with_hints(backend: LocalBackend) -> None:
    spec = make_spec(training={"name": "warm-up", "passing_score": 100, "items": [
        {"key": "t1", "inputs": {"image": "https://images.example.org/t1.jpg"}, "golden": {"result": "cat"},
         "hint": "whiskers mean cat"}]})
    job = open_job(backend, spec, make_items(2))
    client = make_client(create_app(backend))
    sign_in(client, "ann")
    page = post(client, f"/jobs/{job.id}", f"/jobs/{job.id}/pull").text
    assert "a <b>training</b> batch" in page and "training:t1" in page
    page = answer_batch(client, job.id, ["dog"])
    assert "you did not pass" in page and "whiskers mean cat" in page
    assert "failed the training" in post(client, f"/jobs/{job.id}", f"/jobs/{job.id}/pull").text


def test_golden_items_are_mixed_in_and_never_marked(backend: LocalBackend) -> None:
    spec = make_spec(distribution={"kind": "pulling", "batch_size": 2, "golden_per_batch": 1})
    gold = Item(key="gold-1", inputs={"image": "https://images.example.org/g.jpg", "caption": "photo 0"},
                golden={"result": "dog"})
    items = [*make_items(2), gold]
    job = open_job(backend, spec, items)
    client = make_client(create_app(backend))
    sign_in(client, "ann")
    page = post(client, f"/jobs/{job.id}", f"/jobs/{job.id}/pull").text
    assert page.count('class="item"') == 3 and "gold-1" in page  # two items and the golden one
    card = re.search(r'<section class="item" data-index="\d" data-key="gold-1">(.*?)</section>', page, re.S)
    assert card is not None
    other = re.search(r'<section class="item" data-index="(\d)" data-key="it-000">(.*?)</section>', page, re.S)
    assert other is not None

    def shape(html: str) -> str:  # a card without what differs between any two items: index, key, image URL
        return re.sub(r'a\d\.result|https://[^"]+|(gold-1|it-000)', "", html)

    assert shape(card.group(1)) == shape(other.group(2))  # nothing tells the golden item apart
    assert "checked" not in card.group(1) and "golden" not in card.group(1)


def test_an_expired_batch_is_gone_and_its_items_go_back(backend: LocalBackend, clock: ManualClock) -> None:
    job = open_job(backend, make_spec(limits={"assignment_max_seconds": 60}), make_items(2))
    app = create_app(backend)
    ann, bob = make_client(app), make_client(app)
    sign_in(ann, "ann")
    sign_in(bob, "bob")
    page = post(ann, f"/jobs/{job.id}", f"/jobs/{job.id}/pull").text
    aid = held_assignment(page)
    assert aid and 'class="timer" data-seconds="60"' in page
    clock.advance(61)
    late = ann.post(f"/jobs/{job.id}/submit/{aid}", data={"csrf": csrf_of(page), "a0.result": "cat",
                                                          "a1.result": "cat"}).text
    assert "no longer open" in late and held_assignment(late) is None
    taken = post(bob, f"/jobs/{job.id}", f"/jobs/{job.id}/pull").text  # the slots are back in the queue
    assert held_assignment(taken) is not None and "it-000" in taken and "it-001" in taken


def test_per_worker_limits_end_a_persons_work(backend: LocalBackend) -> None:
    job = open_job(backend, make_spec(limits={"max_batches_per_worker": 1}), make_items(4))
    client = make_client(create_app(backend))
    sign_in(client, "ann")
    post(client, f"/jobs/{job.id}", f"/jobs/{job.id}/pull")
    page = answer_batch(client, job.id, ["cat", "cat"])
    assert "submitted 2 answer(s)" in page and "no work for you in this job right now" in page
    assert held_assignment(page) is None


def test_the_requester_opens_pauses_and_closes_a_job(backend: LocalBackend) -> None:
    spec = make_spec()
    job = Job(backend, backend.create_job(spec), spec)
    job.add_items(make_items(2), progress=False)
    app = create_app(backend)
    requester, ann = make_client(app), make_client(app)
    sign_in(ann, "ann")
    assert "has not been started" in post(ann, f"/jobs/{job.id}", f"/jobs/{job.id}/pull").text
    page = f"/requester/jobs/{job.id}"
    assert "is open" in post(requester, page, f"{page}/state", {"action": "start"}).text
    assert "is paused" in post(requester, page, f"{page}/state", {"action": "pause"}).text
    assert "it is paused" in post(ann, f"/jobs/{job.id}", f"/jobs/{job.id}/pull").text
    assert "is open" in post(requester, page, f"{page}/state", {"action": "start"}).text
    assert held_assignment(post(ann, f"/jobs/{job.id}", f"/jobs/{job.id}/pull").text) is not None
    assert "is closed" in post(requester, page, f"{page}/state", {"action": "close"}).text
    assert job.state().value == "closed" and set(job.answers()["status"]) == {"expired"}
    assert post(requester, page, f"{page}/state", {"action": "drop"}).status_code == 400


def test_someone_the_crowd_filter_leaves_out_is_told_how_to_get_in(backend: LocalBackend) -> None:
    job = open_job(backend, make_spec(workforce={"filter": {"attribute": "languages", "op": "in", "value": ["EN"]}}),
                   make_items(4))
    client = make_client(create_app(backend))
    sign_in(client, "bob")  # signed in by name, never registered: no languages
    page = post(client, f"/jobs/{job.id}", f"/jobs/{job.id}/pull").text
    assert "you may not take work in this job" in page and "languages" in page
    assert "register you on the Annotators page" in page and held_assignment(page) is None


@pytest.mark.parametrize("https", [False, True])
def test_behind_https_the_session_cookie_is_secure(backend: LocalBackend, https: bool) -> None:
    """``annotate serve --https`` (a TLS proxy in front): the session cookie is marked Secure, so a
    browser keeps it off plain HTTP; without it the cookie must still work over loopback HTTP."""
    app = create_app(backend, https=https)
    client = TestClient(app, base_url="https://127.0.0.1" if https else "http://127.0.0.1", follow_redirects=True)
    page = client.get("/")
    cookie = page.headers.get("set-cookie", "") or next(
        (r.headers.get("set-cookie", "") for r in page.history if r.headers.get("set-cookie")), "")
    assert cookie.startswith("annotate_serve=") and "samesite=strict" in cookie.lower()
    assert ("secure" in [part.strip().lower() for part in cookie.split(";")]) is https
    sign_in(client, "ann")  # the signed-in session rides on that cookie either way
