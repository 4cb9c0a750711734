"""Pages of the people doing the work: sign in, take a batch, answer it, review someone else's.

Each action is one POST that calls the work API with the signed-in name (``worker=`` / ``reviewer=``),
then redirects to the page that shows what the person holds now (post/redirect/get: a reload never
submits twice). Refusals of the work API (not allowed, banned, job closed, a wrong answer) come back
as a message on the page, in the backend's own words.
"""

from __future__ import annotations

import random
from html import escape
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from annotate_core.errors import AnnotateError
from annotate_local.errors import BannedError, NotAllowedError
from annotate_local.serve.app import Site
from annotate_local.serve.queries import captcha_of, held_batch, held_review
from annotate_local.serve.render import answer_text, answers_from_form, instructions_html, item_view
from annotate_local.serve.security import check_name
from annotate_local.types import SubmitResult

ANSWER_KINDS = {"radio", "checkbox", "dropdown", "text_input", "number"}


def _go(path: str) -> RedirectResponse:
    return RedirectResponse(path, 303)


def _job_path(job_id: str, review: bool = False) -> str:
    return f"/jobs/{job_id}/review" if review else f"/jobs/{job_id}"


# ---- who you are ------------------------------------------------------------------------------


async def home(site: Site, request: Request) -> Response:
    if not site.allowed(request):
        return _go("/login")
    jobs = await site.call(site.backend.list_jobs)
    open_jobs = [j for j in jobs if j.get("state") in ("open", "paused")]
    return site.page(request, "home.html", jobs=open_jobs,
                     may_choose_name=site.gate.may_choose_name(request.session))


async def sign_in(site: Site, request: Request) -> Response:
    form = await site.form(request)
    if not site.allowed(request):
        return _go("/login")
    if not site.gate.may_choose_name(request.session):
        raise HTTPException(403, "annotators sign in with the personal link the requester gave them")
    name = str(form.get("name") or "").strip()
    problem = check_name(name)
    if problem:
        site.flash(request, problem, "error")
    else:
        request.session["worker"] = name
    return _go("/")


async def sign_out(site: Site, request: Request) -> Response:
    await site.form(request)
    auth = request.session.get("auth")
    request.session.clear()
    if auth:
        request.session["auth"] = True  # the requester stays the requester
    return _go("/")


async def login_page(site: Site, request: Request) -> Response:
    if site.gate.token is None:
        return _go("/")
    return site.page(request, "login.html")


async def login(site: Site, request: Request) -> Response:
    form = await site.form(request)
    if site.gate.token_matches(str(form.get("token") or "")):
        request.session["auth"] = True
        request.session.pop("linked", None)
        return _go("/")
    site.flash(request, "that is not this server's access token", "error")
    return _go("/login")


async def annotator_link(site: Site, request: Request) -> Response:
    """A personal link: signs its person in (and out of any other name)."""
    name = site.gate.name_from_link(request.path_params["token"])
    if name is None:
        raise HTTPException(404, "this annotator link is not valid here (the server's secret may have changed)")
    request.session.clear()
    request.session.update({"worker": name, "linked": True})
    return _go("/")


# ---- annotating -------------------------------------------------------------------------------


async def work_page(site: Site, request: Request) -> Response:
    me = site.need_worker(request)
    if isinstance(me, Response):
        return me
    job_id = request.path_params["job_id"]
    try:
        spec = await site.call(site.spec, job_id)
        held = await site.call(held_batch, site.backend, job_id, me)
    except AnnotateError as exc:
        raise HTTPException(404, str(exc)) from None
    items = [item_view(spec, i, it) for i, it in enumerate(held.items)] if held else []
    return site.page(request, "work.html", job_id=job_id, spec=spec, held=held, items=items,
                     instructions=instructions_html(spec), hotkeys=spec.effective_interface().hotkeys,
                     task_width=spec.effective_interface().task_width, now=site.backend.clock())


def _pull(site: Site, request: Request, job_id: str, me: str) -> None:
    """Take the next batch, or say why there is none."""
    try:
        batch = site.backend.pull(job_id, me)
    except NotAllowedError as exc:
        hint = "" if isinstance(exc, BannedError) or "filter" not in exc.reason else (
            ": ask the requester to register you on the Annotators page with what the job asks for")
        site.flash(request, f"you may not take work in this job: {exc.reason}{hint}", "error")
        return
    except AnnotateError as exc:
        site.flash(request, str(exc), "error")
        return
    if batch is None:
        state = site.backend.progress(job_id).state.value
        site.flash(request, f"no work for you in this job right now (it is {state}): everything open is taken, "
                            "done, or past your limits; try again later")


async def pull(site: Site, request: Request) -> Response:
    me = site.need_worker(request)
    if isinstance(me, Response):
        return me
    await site.form(request)
    job_id = request.path_params["job_id"]
    held = await site.call(held_batch, site.backend, job_id, me)
    if held is None:  # one batch at a time in the browser: a double click must not take two
        await site.call(_pull, site, request, job_id, me)
    return _go(_job_path(job_id))


def _submitted(result: SubmitResult) -> list[tuple[str, str]]:
    lines = [("info", f"submitted {result.answers} answer(s)")]
    if result.training_passed is not None:
        verdict = "passed" if result.training_passed else "did not pass"
        lines.append(("info" if result.training_passed else "error",
                      f"training: you {verdict} ({result.training_score or 0:.0f}%)"))
        for m in result.mistakes:
            lines.append(("error", f"{m.key}: expected {m.expected}" + (f" ({m.hint})" if m.hint else "")))
    if result.captcha_ok is False:
        lines.append(("error", "the captcha was wrong"))
    if result.status == "rejected":
        lines.append(("error", "a quality rule rejected this batch"))
    lines.extend(("error", f"quality rule: {a}") for a in result.actions)
    return lines


async def submit(site: Site, request: Request) -> Response:
    me = site.need_worker(request)
    if isinstance(me, Response):
        return me
    form = await site.form(request)
    job_id, assignment = request.path_params["job_id"], request.path_params["assignment"]
    held = await site.call(held_batch, site.backend, job_id, me, assignment)
    if held is None:
        site.flash(request, "that batch is not yours or no longer open (submitted, skipped or expired)", "error")
        return _go(_job_path(job_id))
    spec = await site.call(site.spec, job_id)
    answers = answers_from_form(spec, form, len(held.items))
    try:
        result = await site.call(site.backend.submit, job_id, assignment, answers,
                                 captcha=str(form.get("captcha") or "") if held.has_captcha else None, worker=me)
    except AnnotateError as exc:
        site.flash(request, str(exc), "error")
        return _go(_job_path(job_id))
    for level, text in _submitted(result):
        site.flash(request, text, level)
    await site.call(_pull, site, request, job_id, me)
    return _go(_job_path(job_id))


async def skip(site: Site, request: Request) -> Response:
    me = site.need_worker(request)
    if isinstance(me, Response):
        return me
    await site.form(request)
    job_id, assignment = request.path_params["job_id"], request.path_params["assignment"]
    try:
        actions = await site.call(site.backend.skip, job_id, assignment, worker=me)
    except AnnotateError as exc:
        site.flash(request, str(exc), "error")
    else:
        site.flash(request, "batch given back: its items went back to the queue")
        for a in actions:
            site.flash(request, f"quality rule: {a}", "error")
    return _go(_job_path(job_id))


async def captcha(site: Site, request: Request) -> Response:
    """The captcha of your own batch, drawn as an SVG image (the text is not in the page)."""
    me = site.need_worker(request)
    if isinstance(me, Response):
        return me
    text = await site.call(captcha_of, site.backend, request.path_params["job_id"], me,
                           request.path_params["assignment"])
    if not text:
        raise HTTPException(404, "no captcha for you here")
    rng = random.Random(text)
    glyphs = "".join(
        f'<text x="{14 + i * 24}" y="{32 + rng.randint(-5, 5)}" transform="rotate({rng.randint(-18, 18)} '
        f'{20 + i * 24} 28)">{escape(ch)}</text>' for i, ch in enumerate(text))
    noise = "".join(f'<line x1="{rng.randint(0, 140)}" y1="{rng.randint(0, 48)}" x2="{rng.randint(0, 140)}" '
                    f'y2="{rng.randint(0, 48)}"/>' for _ in range(5))
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="140" height="48" viewBox="0 0 140 48">'
           f'<rect width="140" height="48" fill="#f3efe6"/><g stroke="#9a8f7a" stroke-width="1">{noise}</g>'
           f'<g font-family="monospace" font-size="26" font-weight="bold" fill="#333">{glyphs}</g></svg>')
    return Response(svg, media_type="image/svg+xml")


# ---- reviewing --------------------------------------------------------------------------------


async def review_page(site: Site, request: Request) -> Response:
    me = site.need_worker(request)
    if isinstance(me, Response):
        return me
    job_id = request.path_params["job_id"]
    try:
        spec = await site.call(site.spec, job_id)
        held = await site.call(held_review, site.backend, job_id, me)
    except AnnotateError as exc:
        raise HTTPException(404, str(exc)) from None
    rows: list[dict[str, Any]] = []
    if held is not None:
        for i, (data, answer) in enumerate(held.items):
            view = item_view(spec, i, data)
            rows.append({"view": view, "inputs": [w for w in view.widgets if w.kind not in ANSWER_KINDS],
                         "answers": [(f.name, answer_text(answer.get(f.name))) for f in spec.outputs]})
    return site.page(request, "review.html", job_id=job_id, spec=spec, held=held, rows=rows,
                     instructions=instructions_html(spec))


def _pull_review(site: Site, request: Request, job_id: str, me: str) -> None:
    try:
        task = site.backend.pull(job_id, me, role="review")
    except AnnotateError as exc:
        site.flash(request, str(exc), "error")
        return
    if task is None:
        site.flash(request, "nothing to review right now")


async def review_pull(site: Site, request: Request) -> Response:
    me = site.need_worker(request)
    if isinstance(me, Response):
        return me
    await site.form(request)
    job_id = request.path_params["job_id"]
    if await site.call(held_review, site.backend, job_id, me) is None:
        await site.call(_pull_review, site, request, job_id, me)
    return _go(_job_path(job_id, review=True))


async def review_decide(site: Site, request: Request) -> Response:
    me = site.need_worker(request)
    if isinstance(me, Response):
        return me
    form = await site.form(request)
    job_id, assignment = request.path_params["job_id"], request.path_params["assignment"]
    verdict = form.get("verdict")
    comment = str(form.get("comment") or "").strip() or None
    if verdict not in ("accept", "reject"):
        raise HTTPException(400, "verdict: expected accept or reject")
    if await site.call(held_review, site.backend, job_id, me, assignment) is None:
        site.flash(request, "that review is not yours or was already decided", "error")
        return _go(_job_path(job_id, review=True))
    if verdict == "reject" and comment is None:
        site.flash(request, "say why you reject it: the comment goes back to the annotator", "error")
        return _go(_job_path(job_id, review=True))
    try:
        await site.call(site.backend.review, job_id, assignment, accept=verdict == "accept", comment=comment,
                        reviewer=me)
    except AnnotateError as exc:
        site.flash(request, str(exc), "error")
        return _go(_job_path(job_id, review=True))
    site.flash(request, f"{'accepted' if verdict == 'accept' else 'rejected'} {assignment}")
    await site.call(_pull_review, site, request, job_id, me)
    return _go(_job_path(job_id, review=True))


ROUTES = [
    ("/", home, ["GET"]),
    ("/signin", sign_in, ["POST"]),
    ("/signout", sign_out, ["POST"]),
    ("/login", login_page, ["GET"]),
    ("/login", login, ["POST"]),
    ("/a/{token}", annotator_link, ["GET"]),
    ("/jobs/{job_id}", work_page, ["GET"]),
    ("/jobs/{job_id}/pull", pull, ["POST"]),
    ("/jobs/{job_id}/submit/{assignment}", submit, ["POST"]),
    ("/jobs/{job_id}/skip/{assignment}", skip, ["POST"]),
    ("/jobs/{job_id}/captcha/{assignment}", captcha, ["GET"]),
    ("/jobs/{job_id}/review", review_page, ["GET"]),
    ("/jobs/{job_id}/review/pull", review_pull, ["POST"]),
    ("/jobs/{job_id}/review/{assignment}", review_decide, ["POST"]),
]
