"""A small self-hosted labeling server and the plugin that speaks to it: the kit's recording pattern.

``LabelServer`` behaves like a self-hosted vendor (Label Studio's shape, much reduced): token
authentication (an admin and annotator users, each with their own token), a ``sessionid`` cookie on
every reply, projects holding the spec, tasks imported in bulk, annotations posted by annotators with
their own tokens, paged listings whose page past the end is a 404 "Invalid page.", and no rate limit.
``LabelBackend`` is a plugin for it written only with the kit (``HttpClient``, ``spec_to_json``).

``tests/conformance/test_recording_pattern.py`` runs the conformance suite on it twice: recording
against the live server, then replaying the cassettes with the server gone, ``make_answers`` posting
the annotators' answers in both.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import SecretStr

from annotate_core import (
    Backend,
    Capability,
    Item,
    ItemError,
    JobSpec,
    JobState,
    PlannedOperation,
    Progress,
    UploadReport,
    spec_from_json,
    spec_to_json,
)
from annotate_core.errors import FieldProblem
from annotate_core.http import ErrorInfo, HttpClient

ADMIN_TOKEN = "admin-token-0123456789abcdef"
ANNOTATORS = {"annotator-1": "ann1-token-0123456789abcdef", "annotator-2": "ann2-token-0123456789abcdef",
              "annotator-3": "ann3-token-0123456789abcdef"}


class LabelServer:
    """The live server (loopback). ``fail_next(method, path_regex, status, body)`` injects one fault."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.projects: dict[int, dict[str, Any]] = {}
        self.tasks: dict[int, dict[str, Any]] = {}
        self.annotations: list[dict[str, Any]] = []
        self.faults: list[tuple[str, re.Pattern[str], int, Any]] = []
        self.cookies_received: list[str] = []
        self.users = {ADMIN_TOKEN: "admin", **{t: u for u, t in ANNOTATORS.items()}}

    def fail_next(self, method: str, path: str, status: int, body: Any) -> None:
        self.faults.append((method, re.compile(path), status, body))

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}"

    def handle(self, method: str, path: str, query: dict[str, list[str]], user: str | None, body: Any
               ) -> tuple[int, Any]:
        for fault in list(self.faults):
            if fault[0] == method and fault[1].search(path):
                self.faults.remove(fault)
                return fault[2], fault[3]
        if user is None:
            return 401, {"detail": "Invalid token."}
        with self.lock:
            return self._route(method, path, query, user, body)

    def _page(self, rows: list[Any], query: dict[str, list[str]]) -> tuple[int, Any]:
        page, size = int(query.get("page", ["1"])[0]), int(query.get("page_size", ["100"])[0])
        chunk = rows[(page - 1) * size: page * size]
        if page > 1 and not chunk:
            return 404, {"detail": "Invalid page."}
        return 200, {"count": len(rows), "results": chunk}

    def _route(self, method: str, path: str, query: dict[str, list[str]], user: str, body: Any) -> tuple[int, Any]:
        if method == "POST" and path == "/api/projects":
            if not body.get("title"):
                return 400, {"detail": "Validation error", "validation_errors": {"title": ["may not be blank"]}}
            pid = next(self.ids)
            self.projects[pid] = {"id": pid, "title": body["title"], "description": body.get("description", ""),
                                  "maximum_annotations": body.get("maximum_annotations", 1), "state": "draft"}
            return 201, self.projects[pid]
        m = re.fullmatch(r"/api/projects/(\d+)(/tasks|/import|/annotations)?", path)
        if not m or int(m.group(1)) not in self.projects:
            return 404, {"detail": "Not found."}
        project = self.projects[int(m.group(1))]
        tasks = [t for t in self.tasks.values() if t["project"] == project["id"]]
        if m.group(2) is None and method == "GET":
            done = sum(1 for t in tasks if len(t["annotations"]) >= project["maximum_annotations"])
            return 200, {**project, "task_number": len(tasks), "num_tasks_with_annotations": done,
                         "total_annotations_number": sum(len(t["annotations"]) for t in tasks)}
        if m.group(2) is None and method == "PATCH":
            project["state"] = body["state"]
            return 200, project
        if m.group(2) == "/tasks" and method == "GET":
            return self._page([{k: v for k, v in t.items() if k != "annotations"} for t in tasks], query)
        if m.group(2) == "/import" and method == "POST":
            ids = []
            for row in body:
                tid = next(self.ids)
                self.tasks[tid] = {"id": tid, "project": project["id"], "data": row["data"], "annotations": []}
                ids.append(tid)
            return 201, {"task_count": len(ids), "task_ids": ids}
        if m.group(2) == "/annotations" and method == "POST":
            task = self.tasks.get(body.get("task"))
            if task is None or task["project"] != project["id"]:
                return 404, {"detail": "Not found."}
            if user in {a["completed_by"] for a in task["annotations"]}:
                return 400, {"detail": "Validation error", "validation_errors": {"task": ["already annotated"]}}
            note = {"id": next(self.ids), "task": task["id"], "completed_by": user, "result": body["result"],
                    "lead_time": body.get("lead_time", 0.0), "created_at": "2026-01-15T12:00:00Z"}
            task["annotations"].append(note)
            return 201, note
        if m.group(2) == "/annotations" and method == "GET":
            rows = [{**a, "data": t["data"]} for t in tasks for a in t["annotations"]]
            return self._page(rows, query)
        return 405, {"detail": f"Method {method} not allowed."}


def _handler(state: LabelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            auth = self.headers.get("Authorization", "")
            user = state.users.get(auth.removeprefix("Token ")) if auth.startswith("Token ") else None
            if self.headers.get("Cookie"):
                state.cookies_received.append(self.headers["Cookie"])
            status, payload = state.handle(self.command, parts.path.rstrip("/"), parse_qs(parts.query), user,
                                           json.loads(raw) if raw else None)
            out = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Set-Cookie", f"sessionid=live-session-for-{user or 'anonymous'}-0123456789; Path=/")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = do_PATCH = _serve

    return Handler


def parse_label_error(response: Any) -> ErrorInfo:
    try:
        body = response.json()
    except ValueError:
        return ErrorInfo(response.text[:200] or response.reason)
    details = tuple(FieldProblem(field, "; ".join(msgs))
                    for field, msgs in (body.get("validation_errors") or {}).items())
    return ErrorInfo(str(body.get("detail") or response.reason), None, details)


class LabelBackend(Backend):
    """A plugin for ``LabelServer``: job = project, items = tasks (keyed by ``_key``), answers = annotations."""

    name = "labelserver"
    capabilities = frozenset({Capability.UPLOAD_ITEMS, Capability.OUTPUT_LABEL, Capability.PULLING,
                              Capability.OVERLAP})
    secret_options = frozenset({"token"})
    remote = True
    rate_limited = False  # self-hosted: it never throttles

    def __init__(self, *, url: str, token: SecretStr, page_size: int = 100, **options: Any) -> None:
        super().__init__(url=url, token=token, page_size=page_size, **options)
        self.page_size = page_size
        self.http = self._client(token)

    def _client(self, token: SecretStr) -> HttpClient:
        return HttpClient(self.options["url"], backend=self.name, parse_error=parse_label_error,
                          credential=SecretStr(f"Token {token.get_secret_value()}"), sleep=lambda s: None,
                          backoff_factor=0)

    def _body(self, spec: JobSpec) -> dict[str, Any]:
        return {"title": spec.name, "description": spec_to_json(spec), "maximum_annotations": spec.overlap.count}

    def plan(self, spec: JobSpec, n_items: int | None = None) -> list[PlannedOperation]:
        return [PlannedOperation("POST /api/projects", "create the project", self._body(spec))]

    def create_job(self, spec: JobSpec) -> str:
        return str(self.http.post("/api/projects", json=self._body(spec))["id"])

    def get_spec(self, job_id: str) -> JobSpec | None:
        project = self.http.get(f"/api/projects/{job_id}")
        return spec_from_json(project["description"], where=f"project {job_id}: description", backend=self.name)

    def _pages(self, path: str) -> Iterator[dict[str, Any]]:
        for page in itertools.count(1):
            resp = self.http.request("GET", path, params={"page": page, "page_size": self.page_size}, expect=(404,))
            if resp.status_code == 404:  # "Invalid page.": past the end
                return
            rows = resp.json()["results"]
            yield from rows
            if len(rows) < self.page_size:
                return

    def task_ids(self, job_id: str) -> dict[str, int]:
        return {t["data"]["_key"]: t["id"] for t in self._pages(f"/api/projects/{job_id}/tasks")}

    def add_items(self, job_id: str, spec: JobSpec, items: Iterable[Item], *, on_progress: Any = None
                  ) -> UploadReport:
        existing = self.task_ids(job_id)
        report = UploadReport()
        new = []
        for item in items:
            report.keys.append(item.key)
            if item.key in existing:
                report.existing += 1
            else:
                new.append({"data": {**item.inputs, "_key": item.key}})
        if new:
            try:
                self.http.post(f"/api/projects/{job_id}/import", json=new)
            except Exception as exc:  # pragma: no cover - the fake never refuses an import
                report.errors += [ItemError(row["data"]["_key"], "inputs", str(exc)) for row in new]
            else:
                report.created += len(new)
        if on_progress:
            on_progress(len(report.keys))
        return report

    def start(self, job_id: str) -> None:
        self.http.patch(f"/api/projects/{job_id}", json={"state": "open"})

    def close(self, job_id: str) -> None:
        self.http.patch(f"/api/projects/{job_id}", json={"state": "closed"})

    def progress(self, job_id: str) -> Progress:
        p = self.http.get(f"/api/projects/{job_id}")
        state = JobState(p["state"])
        if state is JobState.OPEN and p["task_number"] and p["num_tasks_with_annotations"] == p["task_number"]:
            state = JobState.COMPLETED
        return Progress(state, p["task_number"], p["num_tasks_with_annotations"], p["total_annotations_number"],
                        p["task_number"] * p["maximum_annotations"])

    def annotate(self, job_id: str, task_id: int, label: str, *, annotator_token: SecretStr) -> None:
        """Post one annotation as an annotator (their own token): what a person does in the UI."""
        http = self._client(annotator_token)
        try:
            http.post(f"/api/projects/{job_id}/annotations", json={"task": task_id, "result": label,
                                                                  "lead_time": 2.5})
        finally:
            http.close()

    def iter_answers(self, job_id: str, spec: JobSpec | None) -> Iterator[Mapping[str, Any]]:
        for a in self._pages(f"/api/projects/{job_id}/annotations"):
            data = dict(a["data"])
            key = data.pop("_key")
            yield {"item_key": key, "worker": a["completed_by"], "field": "result", "label": a["result"],
                   "assignment": str(a["id"]), "status": "submitted",
                   "submitted_at": datetime.fromisoformat(a["created_at"].replace("Z", "+00:00")).astimezone(
                       timezone.utc),
                   "duration_s": float(a["lead_time"]), "golden": False, "golden_label": None, "inputs": data}

    def close_backend(self) -> None:
        self.http.close()
