"""Realistic answer pages of Toloka and Dataloop on a loopback HTTP server, for ``answers.py``.

The fakes under tests/ keep every object in memory and sort them for each request, which is right
for tests and hopeless at millions of answers. Here the job is a formula: page after page is made
on request, in the wire shapes of the fakes and cassettes (Toloka: ``GET /api/v1/assignments`` with
``sort=id``, ``limit`` and ``id_gt``; Dataloop: ``GET /annotationtasks/<id>`` then DQL queries over
items and their class annotations, keyset paged with ``{"id": {"$gt": last}}``), so the backends
read them exactly as they read the vendors. ``N`` answers: overlap 3, 1,000 workers, four labels.

Made on request, a page costs the server about as much CPU as decoding it costs the client, and on
two cores that would be measured as the client's time. With ``--cache DIR`` every page the backends
ask for (at their default page sizes) is written to DIR first and then served from there: the read
measured is the client's decoding and mapping, as against a vendor that answers at once.

    python benchmarks/vendor_pages.py --answers 3000000 --cache /tmp/pages   # prints the URL when ready
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

OVERLAP = 3
SUITE = 10  # Toloka tasks per assignment
WORKERS = 1000
LABELS = ("cat", "dog", "bird", "other")
POOL = "36502086"
TASK = "65f1c0de0000000000000001"
DATASET = "65f1c0de00000000000000d5"
GATE = "http://gate.invalid/api/v1"


def _mix(n: int) -> int:
    """A cheap deterministic hash (labels, statuses): the same pages on every run."""
    n = (n * 0x9E3779B1) & 0xFFFFFFFF
    return (n ^ (n >> 15)) * 0x2C1B3C6D & 0xFFFFFFFF


def _worker(w: int) -> str:
    return f"{_mix(w + 7):08x}{_mix(w + 11):08x}{_mix(w + 13):08x}{w:08x}"  # Toloka user ids: 32 hex digits


def _stamp(seconds: int, ms: int) -> str:
    h, rest = divmod(seconds % 86400, 3600)
    return f"2026-01-{15 + seconds // 86400:02d}T{h:02d}:{rest // 60:02d}:{rest % 60:02d}.{ms:03d}"


class Job:
    def __init__(self, answers: int) -> None:
        self.answers = answers
        self.items = -(-answers // OVERLAP)
        self.assignments = -(-answers // SUITE)

    # ---- Toloka ----------------------------------------------------------------------------------

    def _assignment(self, a: int) -> dict[str, Any]:
        first = (a // OVERLAP) * SUITE  # three assignments in a row share a suite of ten items
        n_tasks = min(SUITE, self.answers - a * SUITE)
        tasks, solutions = [], []
        for j in range(n_tasks):
            i = (first + j) % self.items
            task: dict[str, Any] = {"id": f"00022c1a86--6644{i:020x}", "input_values": {
                "image": f"https://tlk.s3.yandex.net/dataset/bench/{i:07d}.jpg", "_key": f"img-{i:07d}"},
                "overlap": OVERLAP}
            if i % 10 == 0:
                task["known_solutions"] = [{"output_values": {"result": LABELS[i % 4]}, "correctness_weight": 1}]
            tasks.append(task)
            solutions.append({"output_values": {"result": LABELS[_mix(a * SUITE + j) % 4]}})
        roll = _mix(a) % 100
        status = "REJECTED" if roll < 5 else "SUBMITTED" if roll < 10 else "ACCEPTED"
        t = 3600 * 8 + a // 20
        out: dict[str, Any] = {
            "id": f"00022c1a86--6650{a:020x}", "task_suite_id": f"00022c1a86--664f{a:020x}", "pool_id": POOL,
            "user_id": _worker((a + a // OVERLAP) % WORKERS), "status": status, "reward": 0.02, "tasks": tasks,
            "solutions": solutions, "mixed": True, "automerged": False, "created": _stamp(t, a % 1000),
            "submitted": _stamp(t + 20 + a % 60, (a * 7) % 1000), "owner": {
                "id": "6c6c50dce62ca4aef87dfcbc6e9de162", "myself": True, "company_id": "1"}}
        if status == "REJECTED":
            out["rejected"] = out["submitted"]
            out["public_comment"] = "Wrong label on a control image."
        elif status == "ACCEPTED":
            out["accepted"] = out["submitted"]
        return out

    def toloka_page(self, query: dict[str, str]) -> dict[str, Any]:
        limit = min(int(query.get("limit", "50")), 100_000)
        start = int(query["id_gt"].rsplit("6650", 1)[1], 16) + 1 if "id_gt" in query else 0
        stop = min(start + limit, self.assignments)
        return {"items": [self._assignment(a) for a in range(start, stop)], "has_more": stop < self.assignments}

    # ---- Dataloop --------------------------------------------------------------------------------

    def _item(self, i: int) -> dict[str, Any]:
        iid = f"64{i:022x}"
        name = f"{i:07d}.jpg"
        done = _stamp(3600 * 8 + i // 7, i % 1000) + "Z"
        return {
            "id": iid, "url": f"{GATE}/items/{iid}", "datasetId": DATASET, "dataset": f"{GATE}/datasets/{DATASET}",
            "dir": "/annotate/bench", "filename": f"/annotate/bench/{name}", "name": name, "type": "file",
            "spec": None, "hidden": False, "annotated": True, "annotationsCount": OVERLAP,
            "creator": "owner@example.com", "createdAt": "2026-01-15T07:00:00.000Z", "updatedAt": done,
            "updatedBy": "owner@example.com", "stream": f"{GATE}/items/{iid}/stream",
            "thumbnail": f"{GATE}/items/{iid}/thumbnail", "annotations": f"{GATE}/items/{iid}/annotations",
            "metadata": {
                "system": {"originalname": name, "mimetype": "image/jpeg", "size": 48213, "encoding": "7bit",
                           "isBinary": True, "refs": [
                               {"type": "task", "id": TASK, "metadata": {
                                   "status": "completed", "creator": f"annotator{i % 50}@example.com",
                                   "timestamp": done}},
                               {"type": "assignment", "id": f"66{i % 50:022x}", "metadata": {
                                   "status": "completed", "creator": f"annotator{i % 50}@example.com",
                                   "timestamp": done}}]},
                "user": {"annotate": {"key": f"img-{i:07d}", "inputs": {
                    "image": f"https://storage.example.org/bench/{i:07d}.jpg"}}}},
        }

    def _annotation(self, n: int) -> dict[str, Any]:
        i, k = divmod(n, OVERLAP)
        aid, iid = f"6a{n:022x}", f"64{i:022x}"
        who = f"annotator{(i + 17 * k) % WORKERS}@example.com"
        roll = _mix(n) % 100
        system: dict[str, Any] = {"automated": False, "taskId": TASK, "assignmentId": f"66{(i + 17 * k) % 50:022x}",
                                  "attributes": {}}
        if roll < 5:
            system["status"] = "issue"
        elif roll < 15:
            system["status"] = "approved"
        made = _stamp(3600 * 8 + n // 20, n % 1000) + "Z"
        return {"id": aid, "url": f"{GATE}/annotations/{aid}", "type": "class", "label": LABELS[_mix(n + 3) % 4],
                "attributes": [], "coordinates": [], "metadata": {"system": system, "user": {}}, "creator": who,
                "createdAt": made, "updatedBy": who, "updatedAt": made, "itemId": iid, "item": f"{GATE}/items/{iid}",
                "datasetId": DATASET, "dataset": f"{GATE}/datasets/{DATASET}", "hash": f"{_mix(n):040x}",
                "labelSuggestions": {}, "source": "ui"}

    @staticmethod
    def _after(clauses: list[Any]) -> int | None:
        for c in clauses:
            if isinstance(c, dict) and set(c) == {"id"} and isinstance(c["id"], dict) and "$gt" in c["id"]:
                return int(c["id"]["$gt"][2:], 16)
        return None

    def dataloop_query(self, body: dict[str, Any]) -> dict[str, Any]:
        size = min(int(body.get("pageSize", 1000)), 1000)
        clauses = body["filter"]["$and"]
        after = self._after(clauses)
        start = 0 if after is None else after + 1
        if body["resource"] == "items":
            stop = min(start + size, self.items)
            entities = [self._item(i) for i in range(start, stop)]
            more = stop < self.items
        else:  # class annotations of the listed items (annotation n belongs to item n // 3)
            wanted = next(c["itemId"]["$in"] for c in clauses if isinstance(c, dict) and "itemId" in c)
            ids = sorted(int(i[2:], 16) for i in wanted)
            lo, hi = max(start, ids[0] * OVERLAP), (ids[-1] + 1) * OVERLAP  # the ids listed are consecutive
            stop = min(lo + size, hi)
            entities = [self._annotation(n) for n in range(lo, stop)]
            more = stop < hi
        return {"totalItemsCount": None, "totalPagesCount": None, "hasNextPage": more, "items": entities}

    def cache_name(self, body: dict[str, Any]) -> str:
        """The file ``render`` wrote this DQL page to (a page size it did not render: none)."""
        if int(body.get("pageSize", 0)) != DQL_SIZE:
            return "-"
        clauses = body["filter"]["$and"]
        after = self._after(clauses)
        start = 0 if after is None else after + 1
        if body["resource"] == "items":
            return f"items-{start}.json"
        wanted = next(c["itemId"]["$in"] for c in clauses if isinstance(c, dict) and "itemId" in c)
        first, last = int(wanted[0][2:], 16), int(wanted[-1][2:], 16)
        lo = max(start, first * OVERLAP)
        return f"annotations-{lo}-{(last + 1) * OVERLAP}.json"

    def dataloop_task(self) -> dict[str, Any]:
        return {"id": TASK, "name": "answers-benchmark", "datasetId": DATASET, "projectId": "bench", "status": "open",
                "spec": {"type": "annotation"}, "metadata": {"system": {}}, "assignmentIds": []}


TOLOKA_LIMIT = 1000  # the Toloka backend's page_size default
DQL_SIZE = 1000  # the Dataloop backend's DQL pageSize


def _dump(answer: Any) -> bytes:
    return json.dumps(answer, separators=(",", ":")).encode()


def render(job: Job, cache: Path, vendors: tuple[str, ...]) -> None:
    """Every page the backends will ask for, written to ``cache`` (``<vendor>-<first>-<end>.json``)."""
    cache.mkdir(parents=True, exist_ok=True)
    if "toloka" in vendors:
        for start in range(0, job.assignments, TOLOKA_LIMIT):
            query = {"limit": str(TOLOKA_LIMIT)} if start == 0 else {
                "limit": str(TOLOKA_LIMIT), "id_gt": f"00022c1a86--6650{start - 1:020x}"}
            (cache / f"toloka-{start}.json").write_bytes(_dump(job.toloka_page(query)))
    if "dataloop" in vendors:
        for start in range(0, job.items, DQL_SIZE):
            clauses: list[Any] = [] if start == 0 else [{"id": {"$gt": f"64{start - 1:022x}"}}]
            (cache / f"items-{start}.json").write_bytes(_dump(job.dataloop_query({
                "filter": {"$and": clauses}, "pageSize": DQL_SIZE, "resource": "items"})))
            ids = [f"64{i:022x}" for i in range(start, min(start + DQL_SIZE, job.items))]
            hi = (start + len(ids)) * OVERLAP
            for lo in range(start * OVERLAP, hi, DQL_SIZE):
                clauses = [{"itemId": {"$in": ids}}] + ([{"id": {"$gt": f"6a{lo - 1:022x}"}}] if lo > start * OVERLAP
                                                         else [])
                (cache / f"annotations-{lo}-{hi}.json").write_bytes(_dump(job.dataloop_query({
                    "filter": {"$and": clauses}, "pageSize": DQL_SIZE, "resource": "annotations"})))


def cached(cache: Path | None, name: str) -> bytes | None:
    if cache is None:
        return None
    path = cache / name
    return path.read_bytes() if path.exists() else None


def serve(answers: int, port: int = 0, cache: Path | None = None) -> ThreadingHTTPServer:
    job = Job(answers)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _reply(self, answer: Any) -> None:
            self._send(_dump(answer))

        def _send(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/api/v1/assignments":
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                start = int(query["id_gt"].rsplit("6650", 1)[1], 16) + 1 if "id_gt" in query else 0
                body = cached(cache, f"toloka-{start}.json") if query.get("limit") == str(TOLOKA_LIMIT) else None
                return self._send(body) if body is not None else self._reply(job.toloka_page(query))
            if parts.path == f"/api/v1/annotationtasks/{TASK}":
                return self._reply(job.dataloop_task())
            self.send_error(404)
            return None

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if urlsplit(self.path).path == f"/api/v1/datasets/{DATASET}/query":
                return self._send(cached(cache, job.cache_name(body)) or _dump(job.dataloop_query(body)))
            self.send_error(404)
            return None

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--answers", type=int, required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cache", type=Path, help="render every page into this folder first, then serve from it")
    p.add_argument("--vendors", default="toloka,dataloop", help="which vendors' pages to render")
    args = p.parse_args()
    if args.cache is not None:
        render(Job(args.answers), args.cache, tuple(args.vendors.split(",")))
    server = serve(args.answers, args.port, args.cache)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
