"""The requester's pages: jobs and their progress, per-worker stats, results as CSV, annotator links,
and a live preview of any spec's interface before a job exists.

Everything comes from the public API: ``backend.list_jobs`` / ``progress`` / ``bans`` and the ``Job``
handle's ``answers()`` and ``results()``, so the CSV here is exactly ``job.results()``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from annotate_core.aggregation.registry import AGGREGATORS, DEFAULT_METHOD
from annotate_core.errors import AnnotateError, SpecError
from annotate_core.job import Job
from annotate_core.model.spec import JobSpec
from annotate_local.serve.app import Site
from annotate_local.serve.render import instructions_html, item_views, sample_items
from annotate_local.serve.security import check_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MAX_SPEC_BYTES = 1_000_000


async def jobs_page(site: Site, request: Request) -> Response:
    if (gone := site.need_requester(request)) is not None:
        return gone

    def rows() -> list[dict[str, Any]]:
        out = []
        for j in site.backend.list_jobs():
            p = site.backend.progress(str(j["id"]))
            out.append({**j, "percent": p.percent, "completed": p.completed_items, "total": p.total_items,
                        "pending_reviews": p.details.get("pending_reviews", 0), "idle": p.idle})
        return out

    return site.page(request, "requester_jobs.html", jobs=await site.call(rows))


def worker_stats(answers: Any, spec: JobSpec, bans: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per worker: answers by status, golden accuracy, median seconds per batch, banned."""
    if answers.empty:
        return []
    first = spec.outputs[0].name
    df = answers[answers["field"] == first]
    banned = {b["worker"] for b in bans}
    rows = []
    for worker, g in df.groupby("worker", sort=True):
        status = g["status"].value_counts().to_dict()
        gold = g[g["golden"] & g["status"].isin(["submitted", "accepted", "rejected"])]
        correct = sum(1 for a, b in zip(gold["label"], gold["golden_label"], strict=True) if a == b)
        per_batch = g.drop_duplicates("assignment")["duration_s"].dropna()
        rows.append({
            "worker": worker, "answers": len(g), "batches": int(g["assignment"].nunique()),
            "submitted": int(status.get("submitted", 0)), "accepted": int(status.get("accepted", 0)),
            "rejected": int(status.get("rejected", 0)),
            "other": int(sum(v for k, v in status.items() if k not in ("submitted", "accepted", "rejected"))),
            "golden": f"{correct}/{len(gold)}" if len(gold) else "-",
            "median_s": f"{per_batch.median():.1f}" if len(per_batch) else "-",
            "banned": worker in banned,
        })
    return rows


async def job_page(site: Site, request: Request) -> Response:
    if (gone := site.need_requester(request)) is not None:
        return gone
    job_id = request.path_params["job_id"]

    def load() -> dict[str, Any]:
        job = Job(site.backend, job_id, site.spec(job_id))
        p = job.progress()
        bans = site.backend.bans(job_id)
        return {"job": job, "spec": job.spec, "progress": p, "bans": bans,
                "stats": worker_stats(job.answers(), job.spec, bans)}

    try:
        data = await site.call(load)
    except AnnotateError as exc:
        raise HTTPException(404, str(exc)) from None
    return site.page(request, "requester_job.html", job_id=job_id, methods=list(AGGREGATORS),
                     default_method=DEFAULT_METHOD, **data)


async def job_state(site: Site, request: Request) -> Response:
    """Open (start or resume), pause or close a job: ``job.start()`` / ``pause()`` / ``close()``."""
    if (gone := site.need_requester(request)) is not None:
        return gone
    form = await site.form(request)
    job_id = request.path_params["job_id"]
    action = form.get("action")
    if action not in ("start", "pause", "close"):
        raise HTTPException(400, "action: expected start, pause or close")

    def change() -> str:
        job = Job(site.backend, job_id, site.spec(job_id))
        getattr(job, str(action))()
        return job.state().value

    try:
        state = await site.call(change)
    except AnnotateError as exc:
        site.flash(request, str(exc), "error")
    else:
        site.flash(request, f"job {job_id} is {state}")
    return RedirectResponse(f"/requester/jobs/{job_id}", 303)


async def results_csv(site: Site, request: Request) -> Response:
    if (gone := site.need_requester(request)) is not None:
        return gone
    job_id = request.path_params["job_id"]
    method = request.query_params.get("method") or DEFAULT_METHOD

    def table() -> str:
        job = Job(site.backend, job_id, site.spec(job_id))
        return str(job.results(method=method).to_csv(index=False))

    try:
        text = await site.call(table)
    except AnnotateError as exc:
        raise HTTPException(404, str(exc)) from None
    except ValueError as exc:  # no usable answers yet, an unknown method
        raise HTTPException(409, f"no results: {exc}") from None
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="results-{job_id}-{method}.csv"'})


# ---- annotators ---------------------------------------------------------------------------------


def _link(site: Site, request: Request, name: str) -> str:
    return str(request.base_url).rstrip("/") + f"/a/{site.gate.link_token(name)}"


async def people_page(site: Site, request: Request) -> Response:
    if (gone := site.need_requester(request)) is not None:
        return gone
    return site.page(request, "people.html", made=None)


async def add_person(site: Site, request: Request) -> Response:
    """Register an annotator (attributes the crowd filters test) and show their personal link."""
    if (gone := site.need_requester(request)) is not None:
        return gone
    form = await site.form(request)
    name = str(form.get("name") or "").strip()
    problem = check_name(name)
    if problem:
        site.flash(request, problem, "error")
        return RedirectResponse("/requester/people", 303)
    attributes: dict[str, Any] = {}
    languages = [x.strip().upper() for x in str(form.get("languages") or "").split(",") if x.strip()]
    if languages:
        attributes["languages"] = languages
    for key in ("region_by_ip", "client_type"):
        value = str(form.get(key) or "").strip()
        if value:
            attributes[key] = value
    try:
        await site.call(site.backend.register_worker, name, **attributes)
    except AnnotateError as exc:
        site.flash(request, str(exc), "error")
        return RedirectResponse("/requester/people", 303)
    return site.page(request, "people.html", made={"name": name, "link": _link(site, request, name),
                                                   "attributes": attributes})


# ---- preview ------------------------------------------------------------------------------------


def parse_spec_text(text: str, filename: str = "spec.yaml") -> JobSpec:
    """A spec from a file's text (YAML, JSON or TOML by name), with the errors ``annotate validate`` gives."""
    import yaml

    from annotate_core.specfile import spec_from_dict

    try:
        data = tomllib.loads(text) if filename.lower().endswith(".toml") else yaml.safe_load(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"{filename}: not valid {'TOML' if filename.endswith('.toml') else 'YAML'}: {exc}") from None
    return spec_from_dict(data if data is not None else {}, filename)


def _preview(site: Site, request: Request, spec_text: str | None, filename: str, *, fragment: bool,
             file_index: int | None = None) -> Response:
    spec = error = None
    if spec_text is not None and spec_text.strip():
        try:
            spec = parse_spec_text(spec_text, filename)
        except SpecError as exc:
            error = str(exc)
    context: dict[str, Any] = {
        "spec": spec, "error": error, "spec_text": spec_text or "", "filename": filename,
        "items": item_views(spec, sample_items(spec)) if spec else [],
        "instructions": instructions_html(spec) if spec else "",
        "task_width": spec.effective_interface().task_width if spec else None,
        "files": [str(p) for p in site.spec_files], "file_index": file_index,
    }
    return site.page(request, "preview_fragment.html" if fragment else "preview.html", **context)


async def preview_page(site: Site, request: Request) -> Response:
    """``?file=N``: the N-th spec file given to ``annotate serve --spec``, read again on every view."""
    if (gone := site.need_requester(request)) is not None:
        return gone
    fragment = request.query_params.get("fragment") == "1"
    raw = request.query_params.get("file")
    if raw is None:
        return _preview(site, request, None, "spec.yaml", fragment=fragment)
    if not raw.isdigit() or int(raw) >= len(site.spec_files):
        raise HTTPException(404, "no such spec file: give them to annotate serve with --spec")
    path = site.spec_files[int(raw)]
    try:
        text = await site.call(path.read_text, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return site.page(request, "preview_fragment.html" if fragment else "preview.html", spec=None,
                         error=f"{path}: cannot read it ({exc})", spec_text="", filename=path.name, items=[],
                         instructions="", task_width=None, files=[str(p) for p in site.spec_files],
                         file_index=int(raw))
    return _preview(site, request, text, path.name, fragment=fragment, file_index=int(raw))


async def preview_post(site: Site, request: Request) -> Response:
    """A spec pasted in the text box or uploaded as a file; ``?fragment=1`` returns the preview alone."""
    if (gone := site.need_requester(request)) is not None:
        return gone
    form = await site.form(request)
    upload = form.get("file")
    filename = "spec.yaml"
    text = str(form.get("spec") or "")
    if upload is not None and not isinstance(upload, str) and getattr(upload, "filename", None):
        raw = await upload.read(MAX_SPEC_BYTES + 1)
        filename = str(upload.filename)
        try:
            text = raw[:MAX_SPEC_BYTES].decode("utf-8")
        except UnicodeDecodeError:
            text = ""
            site.flash(request, f"{filename}: not UTF-8 text", "error")
    if len(text.encode()) > MAX_SPEC_BYTES:
        raise HTTPException(413, "a spec of more than 1 MB is not a spec")
    return _preview(site, request, text, filename, fragment=request.query_params.get("fragment") == "1")


ROUTES = [
    ("/requester", jobs_page, ["GET"]),
    ("/requester/jobs/{job_id}", job_page, ["GET"]),
    ("/requester/jobs/{job_id}/results.csv", results_csv, ["GET"]),
    ("/requester/jobs/{job_id}/state", job_state, ["POST"]),
    ("/requester/people", people_page, ["GET"]),
    ("/requester/people", add_person, ["POST"]),
    ("/requester/preview", preview_page, ["GET"]),
    ("/requester/preview", preview_post, ["POST"]),
]
