"""Write the Toloka cassettes (vcrpy YAML) under cassettes/toloka/.

    python tests/toloka/make_cassettes.py          # all of them
    python tests/toloka/make_cassettes.py NAME...  # only these

There is no Toloka sandbox any more and no account here, so the conversations are written out from
shared/reference/toloka-api.md: request bodies come from ``expected.py`` (hand-written, never from
the backend's builders), responses have the shapes Toloka's documentation and toloka-kit's fixtures
show. Tests replay them in record mode ``none`` matching method, URL, query and JSON body, so the
backend must send exactly these requests, in this order, and nothing else.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # so `tests.toloka` imports when run as a script

from tests.toloka import expected as e  # noqa: E402
from tests.toloka import recipe  # noqa: E402

OUT = HERE.parents[1] / "cassettes" / "toloka"
BASE = "https://toloka.dev/api"
OWNER = {"id": "6c6c50dce62ca4aef87dfcbc6e9de162", "myself": True, "company_id": "1"}
PROJECT, POOL, TRAINING, SKILL = "120798", "36502086", "36502085", "41586"
# must equal annotate_toloka.tasks.OPERATION_NAMESPACE: reruns find earlier uploads through it
NAMESPACE = uuid.UUID("7c0a5e5e-3d1f-5b8e-9a3c-61a7f0e2d4b1")
UPLOAD = {"async_mode": "true", "allow_defaults": "true", "skip_invalid_items": "true"}
REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found",
           409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable"}
T0 = "2026-01-15T12:00:01.123"

Json = dict[str, Any]


def op_id(job: str, keys: list[str], attempt: int = 0) -> str:
    base = uuid.uuid5(NAMESPACE, f"{job}\n" + "\n".join(keys))
    return str(base if attempt == 0 else uuid.uuid5(base, f"attempt-{attempt}"))


def task_id(n: int) -> str:
    return f"00022c1a86--6644{n:020x}"


def assignment_id(n: int) -> str:
    return f"00022c1a86--6650{n:020x}"


class Tape:
    """The interactions of one cassette, in order."""

    def __init__(self) -> None:
        self.interactions: list[Json] = []

    def add(self, method: str, path: str, *, query: Json | None = None, body: Any = None, status: int = 200,
            response: Any = None, text: str | None = None, headers: Json | None = None) -> None:
        uri = BASE + path + ("?" + urlencode(query) if query else "")
        req_headers = {"Accept": ["application/json"]}
        if body is not None:
            req_headers["Content-Type"] = ["application/json"]
        if text is None:
            text = "" if response is None else json.dumps(response, separators=(",", ":"))
        resp_headers = {k: [str(v)] for k, v in (headers or {}).items()}
        if text and "Content-Type" not in resp_headers:
            resp_headers["Content-Type"] = ["application/json"]
        self.interactions.append({
            "request": {"body": None if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False),
                        "headers": req_headers, "method": method, "uri": uri},
            "response": {"body": {"string": text}, "headers": resp_headers,
                         "status": {"code": status, "message": REASONS[status]}},
        })

    # ---- composite conversations ------------------------------------------------------------

    def operation(self, op: Json, *, polls: int = 1) -> None:
        """GET /v1/operations/{id} until it is done (``polls`` - 1 RUNNING answers first)."""
        for _ in range(polls - 1):
            self.add("GET", f"/v1/operations/{op['id']}", response={**op, "status": "RUNNING", "progress": 50})
        self.add("GET", f"/v1/operations/{op['id']}", response=op)

    def action(self, path: str, op_type: str, params: Json, *, polls: int = 1, already: bool = False) -> None:
        """POST open/close/archive: 204 when already in that state, else 202 + operation polling."""
        if already:
            self.add("POST", path, status=204)
            return
        oid = str(uuid.uuid5(NAMESPACE, path + str(len(self.interactions))))
        pending = {"id": oid, "type": op_type, "status": "PENDING", "submitted": T0, "parameters": params}
        self.add("POST", path, status=202, response=pending)
        self.operation({**pending, "status": "SUCCESS", "started": T0, "finished": T0, "progress": 100},
                       polls=polls)

    def list_tasks(self, pool_id: str, tasks: list[Json] = ()) -> None:
        self.add("GET", "/v1/tasks", query={"pool_id": pool_id, "sort": "id", "limit": 10000},
                 response={"items": list(tasks), "has_more": False})

    def upload(self, pool_id: str, chunk_keys: list[str], bodies: list[Json], *, first_task: int,
               polls: int = 1, attempt: int = 0, overlap: int = 3) -> list[Json]:
        """One chunk: POST (async, operation_id) -> poll -> log. Returns the tasks as Toloka stores them."""
        oid = op_id(pool_id, chunk_keys, attempt)
        running = {"id": oid, "type": "TASK.BATCH_CREATE", "status": "RUNNING", "submitted": T0, "started": T0,
                   "parameters": {"skip_invalid_items": True, "allow_defaults": True, "open_pool": False},
                   "details": {"items_count": len(bodies)}}
        self.add("POST", "/v1/tasks", query={**UPLOAD, "operation_id": oid}, body=bodies, status=202,
                 response=running)
        n = len(bodies)
        self.operation({**running, "status": "SUCCESS", "finished": T0, "progress": 100,
                        "details": {"total_count": n, "valid_count": n, "not_valid_count": 0, "success_count": n,
                                    "failed_count": 0}}, polls=polls)
        stored = [stored_task(b, first_task + i, overlap) for i, b in enumerate(bodies)]
        self.add("GET", f"/v1/operations/{oid}/log", response=[
            {"type": "TASK_CREATE", "success": True, "input": b, "output": {"task_id": t["id"]}}
            for b, t in zip(bodies, stored, strict=True)])
        return stored

    def save(self, name: str) -> Path:
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"{name}.yaml"
        text = yaml.safe_dump({"interactions": self.interactions, "version": 1}, sort_keys=False, width=1000,
                              allow_unicode=True)
        path.write_text(text, encoding="utf-8")
        return path


def stored_task(body: Json, n: int, overlap: int = 3) -> Json:
    t = {k: v for k, v in body.items() if k != "overlap"}
    t["id"] = task_id(n)
    if not body.get("infinite_overlap"):
        t["overlap"] = body.get("overlap", overlap)
        t["infinite_overlap"] = False
        t["remaining_overlap"] = t["overlap"]
    t["created"] = T0
    return t


def created(body: Json, object_id: str, **extra: Any) -> Json:
    """A create response: the request echoed plus the server's read-only fields."""
    return {**body, "id": object_id, "created": T0, "owner": OWNER, **extra}


def pool_state(body: Json, pool_id: str, status: str, *, started: bool = False, reason: str | None = None) -> Json:
    p = created(copy.deepcopy(body), pool_id, type="REGULAR", status=status)
    for i, cfg in enumerate(p.get("quality_control", {}).get("configs", [])):
        cfg["collector_config"] = {**cfg["collector_config"], "uuid": str(uuid.uuid5(NAMESPACE, f"qc{i}"))}
    if started:
        p["last_started"] = "2026-01-15T12:05:00.000"
    if reason:
        p["last_stopped"] = "2026-01-15T13:12:42.000"
        p["last_close_reason"] = reason
    return p


def analytics(tape: Tape, pool_id: str, percent: float, real: int, submitted: int, spent: float = 0.0) -> None:
    names = ("completion_percentage", "real_tasks_count", "submitted_assignments_count", "spent_budget")
    requests = [{"subject": "POOL", "subject_id": pool_id, "name": n} for n in names]
    oid = str(uuid.uuid5(NAMESPACE, f"analytics-{len(tape.interactions)}"))
    pending = {"id": oid, "type": "ANALYTICS", "status": "PENDING", "progress": 0, "submitted": T0,
               "parameters": {"value": requests}}
    tape.add("POST", "/staging/analytics-2", body=requests, status=202, response=pending)
    # submitted as a bare number, as in toloka-kit's tests; the rest as {"value": ...} as in the docs
    results = [{"value": percent}, {"value": real}, submitted, {"value": spent}]
    tape.operation({**pending, "status": "SUCCESS", "progress": 100, "finished": "2026-01-15T12:19:03.99999",
                    "details": {"value": [{"request": r, "result": v, "finished": "2026-01-15T12:19:01.923461"}
                                          for r, v in zip(requests, results, strict=True)]}})


def assignment(n: int, worker: str, status: str, tasks: list[Json], labels: list[str | None], **extra: Any) -> Json:
    a = {"id": assignment_id(n), "task_suite_id": f"00022c1a86--664f{n:020x}", "pool_id": tasks[0]["pool_id"],
         "user_id": worker, "status": status, "reward": 0.005, "mixed": True, "automerged": False,
         "tasks": tasks, "created": "2026-01-15T12:20:00.123", "owner": OWNER}
    if status in ("SUBMITTED", "ACCEPTED", "REJECTED"):
        a["solutions"] = [{"output_values": {"result": label}} for label in labels]
        a["submitted"] = f"2026-01-15T12:20:{10 + n % 40:02d}.904"
    if status == "ACCEPTED":
        a["accepted"] = "2026-01-16T09:00:00.000"
    if status == "REJECTED":
        a["rejected"] = "2026-01-16T09:00:00.000"
    if status == "SKIPPED":
        a["skipped"] = "2026-01-15T12:21:00.000"
    if status == "EXPIRED":
        a["expired"] = "2026-01-15T12:25:00.000"
    a.update(extra)
    return a


def pages(tape: Tape, pool_id: str, items: list[Json], limit: int) -> None:
    """GET /v1/assignments keyset pages: sort=id, limit, id_gt=<last id of the previous page>."""
    query: Json = {"pool_id": pool_id, "sort": "id", "limit": limit}
    for start in range(0, max(len(items), 1), limit):
        page = items[start:start + limit]
        more = start + limit < len(items)
        tape.add("GET", "/v1/assignments", query=query, response={"items": page, "has_more": more})
        if page:
            query = {**query, "id_gt": page[-1]["id"]}


def restrictions(tape: Tape, pool_id: str, project_id: str, banned: list[str] = (), limit: int = 500) -> None:
    """The bans a finished pool's progress reads: POOL scope (the rules' bans), then PROJECT scope."""
    pool_bans = [{"id": str(54 + i), "scope": "POOL", "user_id": user, "pool_id": pool_id,
                  "private_comment": "Control tasks failed", "created": "2026-01-15T12:40:07"}
                 for i, user in enumerate(banned)]
    tape.add("GET", "/v1/user-restrictions", query={"scope": "POOL", "pool_id": pool_id, "sort": "id", "limit": limit},
             response={"items": pool_bans, "has_more": False})
    tape.add("GET", "/v1/user-restrictions",
             query={"scope": "PROJECT", "project_id": project_id, "sort": "id", "limit": limit},
             response={"items": [], "has_more": False})


def cats_items(n: int, prefix: str = "cat") -> list[tuple[str, str]]:
    return [(f"{prefix}-{i}", f"https://tlk.s3.yandex.net/dataset/cats_vs_dogs/{recipe.truth(i)}s/{prefix}{i}.jpg")
            for i in range(n)]


# ---- step 2: operations ---------------------------------------------------------------------------

def test_create_job_and_read_its_spec_back(t: Tape) -> None:
    t.add("POST", "/v1/projects", body=e.CATS_PROJECT, status=201,
          response=created(e.CATS_PROJECT, PROJECT, status="ACTIVE"))
    pool = e.cats_pool(PROJECT)
    t.add("POST", "/v1/pools", body=pool, status=201, response=pool_state(pool, POOL, "CLOSED"))
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "CLOSED"))


def test_add_items_in_chunks_with_operation_ids(t: Tape) -> None:
    items = cats_items(5)
    t.list_tasks(POOL)
    bodies = [e.cats_task(POOL, k, url) for k, url in items]
    keys = [k for k, _ in items]
    stored = t.upload(POOL, keys[:3], bodies[:3], first_task=0)
    stored += t.upload(POOL, keys[3:], bodies[3:], first_task=3, polls=2)
    t.list_tasks(POOL, stored)  # the rerun finds every key and sends nothing


def test_open_close_archive(t: Tape) -> None:
    pool = pool_state(e.cats_pool(PROJECT), POOL, "CLOSED")
    t.add("GET", f"/v1/pools/{POOL}", response=pool)
    t.list_tasks(POOL, cats_tasks(golden=1))  # golden mixing: enough golden tasks before it opens
    t.action(f"/v1/pools/{POOL}/open", "POOL.OPEN", {"pool_id": POOL}, polls=2)
    t.add("GET", f"/v1/pools/{POOL}", response={**pool, "status": "OPEN"})
    t.action(f"/v1/pools/{POOL}/open", "POOL.OPEN", {"pool_id": POOL}, already=True)
    t.action(f"/v1/pools/{POOL}/close", "POOL.CLOSE", {"pool_id": POOL})
    t.action(f"/v1/pools/{POOL}/close", "POOL.CLOSE", {"pool_id": POOL}, already=True)
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(e.cats_pool(PROJECT), POOL, "CLOSED", started=True,
                                                          reason="MANUAL"))
    t.action(f"/v1/pools/{POOL}/archive", "POOL.ARCHIVE", {"pool_id": POOL})
    t.action(f"/v1/projects/{PROJECT}/archive", "PROJECT.ARCHIVE", {"project_id": PROJECT})


def cats_tasks(*, real: int = 2, golden: int = 0) -> list[Json]:
    """Cats tasks as Toloka lists them: ``real`` ones, then ``golden`` ones with known solutions."""
    items = cats_items(real + golden, "listed")
    bodies = [e.cats_task(POOL, k, url, "cat" if i >= real else None) for i, (k, url) in enumerate(items)]
    return [stored_task(b, 500 + i) for i, b in enumerate(bodies)]


def test_start_refuses_golden_mixing_without_golden_items(t: Tape) -> None:
    """golden_per_batch 1 and only real tasks uploaded (listed over two pages): the pool is not opened."""
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(e.cats_pool(PROJECT), POOL, "CLOSED"))
    tasks = cats_tasks(real=3)
    query: Json = {"pool_id": POOL, "sort": "id", "limit": 10000}
    t.add("GET", "/v1/tasks", query=query, response={"items": tasks[:2], "has_more": True})
    t.add("GET", "/v1/tasks", query={**query, "id_gt": tasks[1]["id"]}, response={"items": tasks[2:],
                                                                                   "has_more": False})


def test_progress_from_pool_analytics(t: Tape) -> None:
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(e.cats_pool(PROJECT), POOL, "OPEN", started=True))
    analytics(t, POOL, 74, 202, 45, spent=0.54)


def _status_tasks(n: int) -> list[Json]:
    return [stored_task(e.cats_task(POOL, k, url), n * 10 + i) for i, (k, url) in enumerate(cats_items(2, f"s{n}"))]


def test_answers_every_status_across_pages(t: Tape) -> None:
    statuses = ["ACCEPTED", "SUBMITTED", "REJECTED", "SKIPPED", "EXPIRED", "ACTIVE", "SUBMITTED"]
    items = []
    for n, status in enumerate(statuses):
        extra = {"public_comment": "Wrong label on a control image."} if status == "REJECTED" else {}
        items.append(assignment(n, f"worker{n}", status, _status_tasks(n), ["cat", "dog"], **extra))
    pages(t, POOL, items, 3)


def test_review_accept_and_reject(t: Tape) -> None:
    for aid, status, comment in ((assignment_id(1), "ACCEPTED", "Well done!"),
                                 (assignment_id(2), "REJECTED", "Wrong label on a control image.")):
        body = {"public_comment": comment, "status": status}
        t.add("PATCH", f"/v1/assignments/{aid}", body=body, response={**body, "bonus_ids": []})


def test_answers_of_a_pool_made_elsewhere(t: Tape) -> None:
    """A pool created with toloka-kit: no stored spec, no _key; fields come from the project."""
    pool = {k: v for k, v in e.cats_pool(PROJECT).items() if k != "metadata"}
    for _ in range(2):  # Job.answers asks for the spec, then iter_answers for the fields
        t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "CLOSED", started=True,
                                                              reason="COMPLETED"))
    t.add("GET", f"/v1/projects/{PROJECT}", response=created(e.CATS_PROJECT, PROJECT, status="ACTIVE"))
    tasks = [{"id": task_id(i), "pool_id": POOL, "input_values": {"image": url}, "overlap": 3,
              "infinite_overlap": False, "created": T0} for i, (_, url) in enumerate(cats_items(2, "kit"))]
    pages(t, POOL, [assignment(0, "w0", "ACCEPTED", tasks, ["cat", "dog"])], 1000)


def in_review_sample(pool_id: str, aid: str, fraction: float) -> bool:
    """The review sample as the backend must draw it: sha256 of pool id, assignment id and 'review'."""
    digest = hashlib.sha256(f"{pool_id}\x1f{aid}\x1freview".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def test_accept_unsampled_accepts_what_the_review_sample_leaves_out(t: Tape) -> None:
    """review.fraction 0.1 (read from the pool's stored spec): of 16 submitted assignments, the
    two in the stable sample (12 and 15) are returned for review, the others accepted."""
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(e.cats_pool(PROJECT), POOL, "OPEN", started=True))
    submitted = [assignment(n, f"w{n}", "SUBMITTED", _status_tasks(n), ["cat", "dog"]) for n in range(16)]
    t.add("GET", "/v1/assignments", query={"pool_id": POOL, "status": "SUBMITTED", "sort": "id", "limit": 1000},
          response={"items": submitted, "has_more": False})
    for a in submitted:
        if not in_review_sample(POOL, a["id"], 0.1):
            t.add("PATCH", f"/v1/assignments/{a['id']}", body={"status": "ACCEPTED"},
                  response={"status": "ACCEPTED", "bonus_ids": []})


def pool_pages(tape: Tape, status: str, pools: list[Json], limit: int) -> None:
    """GET /v1/pools?status=... keyset pages, as ``pages`` does for assignments."""
    query: Json = {"status": status, "sort": "id", "limit": limit}
    for start in range(0, max(len(pools), 1), limit):
        page = pools[start:start + limit]
        tape.add("GET", "/v1/pools", query=query, response={"items": page, "has_more": start + limit < len(pools)})
        if page:
            query = {**query, "id_gt": page[-1]["id"]}


def test_jobs_are_the_pools_annotate_made(t: Tape) -> None:
    """Three annotate pools among pools made elsewhere, listed per status two a page (ARCHIVED never asked for)."""
    ours = e.cats_pool(PROJECT)
    foreign = {k: v for k, v in ours.items() if k != "metadata"}
    tagged = {**foreign, "private_name": "Tagged by another tool", "metadata": {"team": ["vision"]}}
    open_pools = [
        {**pool_state(ours, POOL, "OPEN", started=True), "created": "2026-01-12T09:30:00.12"},
        {**pool_state(foreign, "36502090", "OPEN", started=True), "created": "2026-01-13T10:00:00"},
        {**pool_state(tagged, "36502102", "OPEN", started=True), "created": "2026-01-14T08:00:00"},
    ]
    closed_pools = [
        {**pool_state({**ours, "private_name": "Cat or Dog? (first run)"}, "36501990", "CLOSED", started=True,
                      reason="COMPLETED"), "created": "2026-01-10T08:00:00"},
        {**pool_state({**ours, "private_name": "Cat or Dog? (draft)"}, "36502110", "CLOSED"),
         "created": "2026-01-15T12:00:01.123"},
    ]
    pool_pages(t, "OPEN", open_pools, 2)
    pool_pages(t, "CLOSED", closed_pools, 2)
    pool_pages(t, "LOCKED", [], 2)


# ---- step 3: the seed 001 recipe end to end -------------------------------------------------------

def recipe_careless_workers() -> list[str]:
    """The two Tolokers of ``recipe_assignments`` who answer at 55%: the ones the rules ban."""
    rng = random.Random(1)
    workers = [f"{rng.getrandbits(128):032x}" for _ in range(30)]
    return [workers[3], workers[17]]


def recipe_assignments(stored: dict[str, Json]) -> list[Json]:
    """Each real task answered by 3 different Tolokers in suites of 10 real + 1 golden task."""
    rng = random.Random(1)
    real = [it for it in recipe.real_items()]
    golden = recipe.golden_items()
    workers = [f"{rng.getrandbits(128):032x}" for _ in range(30)]
    skill = {w: (0.55 if i in (3, 17) else 0.9) for i, w in enumerate(workers)}  # two careless Tolokers
    out: list[Json] = []
    n = 0
    for round_ in range(3):
        for s in range(0, len(real), 10):
            suite = real[s:s + 10]
            gold = golden[(s // 10) % len(golden)]
            worker = workers[(3 * (s // 10) + round_) % len(workers)]
            tasks, labels = [], []
            for it in [*suite, gold]:
                task = stored[it.key]
                right = recipe.truth(int(it.key.split("-")[1]))
                wrong = "dog" if right == "cat" else "cat"
                tasks.append(task)
                labels.append(right if rng.random() < skill[worker] else wrong)
            status = "ACCEPTED" if n % 9 == 0 else "SUBMITTED"
            out.append(assignment(n, worker, status, tasks, labels))
            n += 1
    rng.shuffle(out)  # Toloka pages by id, not by round
    out.sort(key=lambda a: a["id"])
    return out


def test_seed_001_recipe_end_to_end(t: Tape) -> None:
    t.add("POST", "/v1/projects", body=e.CATS_PROJECT, status=201,
          response=created(e.CATS_PROJECT, PROJECT, status="ACTIVE"))
    pool = e.cats_pool(PROJECT)
    t.add("POST", "/v1/pools", body=pool, status=201, response=pool_state(pool, POOL, "CLOSED"))
    items = recipe.recipe_items()
    bodies = [e.cats_task(POOL, it.key, it.inputs["image"], (it.golden or {}).get("result")) for it in items]
    t.list_tasks(POOL)
    stored = t.upload(POOL, [it.key for it in items], bodies, first_task=0, polls=3)
    by_key = {task["input_values"]["_key"]: task for task in stored}
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "CLOSED"))
    t.list_tasks(POOL, stored)  # golden mixing: the uploaded golden tasks are counted before it opens
    t.action(f"/v1/pools/{POOL}/open", "POOL.OPEN", {"pool_id": POOL})
    # spent: 0.01 USD per suite plus Toloka's fee (illustrative: the fee rate is not part of the reference)
    for status, percent, submitted, reason in (("OPEN", 0, 0, None), ("OPEN", 74, 45, None),
                                               ("CLOSED", 100, 63, "COMPLETED")):
        t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, status, started=True, reason=reason))
        analytics(t, POOL, percent, recipe.N_REAL, submitted, spent=round(submitted * 0.012, 3))
    restrictions(t, POOL, PROJECT, recipe_careless_workers(), limit=10)
    pages(t, POOL, recipe_assignments(by_key), 10)


# ---- step 4: faults --------------------------------------------------------------------------------

TOO_MANY = {"request_id": "1f0c5b7a-0d6e-4d7b-9d61-5a2f3c1e9a01", "code": "TOO_MANY_REQUESTS",
            "message": "Too many requests"}


def test_rate_limit_honours_retry_after(t: Tape) -> None:
    t.add("GET", f"/v1/pools/{POOL}", status=429, response=TOO_MANY, headers={"Retry-After": "7"})
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(e.cats_pool(PROJECT), POOL, "CLOSED"))


def test_minute_quota_waits_a_minute_then_creates_once(t: Tape) -> None:
    quota = {**TOO_MANY, "payload": {"interval": "MIN", "limit": 20}}
    t.add("POST", "/v1/projects", body=e.CATS_PROJECT, status=429, response=quota)
    t.add("POST", "/v1/projects", body=e.CATS_PROJECT, status=201,
          response=created(e.CATS_PROJECT, PROJECT, status="ACTIVE"))
    pool = e.cats_pool(PROJECT)
    t.add("POST", "/v1/pools", body=pool, status=201, response=pool_state(pool, POOL, "CLOSED"))


def test_daily_quota_raises_instead_of_sleeping(t: Tape) -> None:
    quota = {**TOO_MANY, "payload": {"interval": "DAY", "limit": 100}}
    t.add("POST", "/v1/projects", body=e.CATS_PROJECT, status=429, response=quota)


def test_a_create_is_not_repeated_after_a_server_error(t: Tape) -> None:
    t.add("POST", "/v1/projects", body=e.CATS_PROJECT, status=500, response={
        "request_id": "500e", "code": "INTERNAL_ERROR", "message": "Internal server error"})


def _chunked_upload_start(t: Tape, n: int) -> tuple[list[str], list[Json]]:
    items = cats_items(n)
    t.list_tasks(POOL)
    return [k for k, _ in items], [e.cats_task(POOL, k, url) for k, url in items]


def test_server_errors_mid_upload_are_retried_without_duplicates(t: Tape) -> None:
    keys, bodies = _chunked_upload_start(t, 4)
    t.upload(POOL, keys[:2], bodies[:2], first_task=0)
    oid = op_id(POOL, keys[2:])
    boom = {"request_id": "9a1e", "code": "INTERNAL_ERROR", "message": "Internal server error"}
    unknown = {"request_id": "404o", "code": "DOES_NOT_EXIST", "message": "Object does not exist"}
    t.add("POST", "/v1/tasks", query={**UPLOAD, "operation_id": oid}, body=bodies[2:], status=500, response=boom)
    # a 5xx may hide an upload that happened: the operation id is looked up before the POST is sent again
    t.add("GET", f"/v1/operations/{oid}", status=404, response=unknown)
    t.add("POST", "/v1/tasks", query={**UPLOAD, "operation_id": oid}, body=bodies[2:], status=503,
          response={"code": "REMOTE_SERVICE_UNAVAILABLE", "message": "Service unavailable"})
    t.add("GET", f"/v1/operations/{oid}", status=404, response=unknown)
    tape = Tape()  # the accepted POST, its poll and its log, with a gateway 502 before the poll
    tape.upload(POOL, keys[2:], bodies[2:], first_task=2)
    post, poll, log = tape.interactions
    t.interactions.append(post)
    t.add("GET", f"/v1/operations/{oid}", status=502, text="<html><body>502 Bad Gateway</body></html>",
          headers={"Content-Type": "text/html"})
    t.interactions += [poll, log]


def test_timeout_after_the_server_accepted_a_chunk_then_rerun(t: Tape) -> None:
    keys, bodies = _chunked_upload_start(t, 3)
    oid = op_id(POOL, keys)
    running = {"id": oid, "type": "TASK.BATCH_CREATE", "status": "RUNNING", "submitted": T0,
               "parameters": {"skip_invalid_items": True, "allow_defaults": True, "open_pool": False}}
    t.add("POST", "/v1/tasks", query={**UPLOAD, "operation_id": oid}, body=bodies, status=202, response=running)
    # the client gave up on that answer and looks its operation id up instead of sending the POST again
    stored = [stored_task(b, i) for i, b in enumerate(bodies)]
    t.add("GET", f"/v1/operations/{oid}", response={**running, "progress": 40})
    t.operation({**running, "status": "SUCCESS", "finished": T0, "progress": 100})
    t.add("GET", f"/v1/operations/{oid}/log", response=[
        {"type": "TASK_CREATE", "success": True, "input": b, "output": {"task_id": task["id"]}}
        for b, task in zip(bodies, stored, strict=True)])
    t.list_tasks(POOL, stored)  # the rerun finds every key and sends nothing


def test_rerun_while_the_operation_still_runs_reads_it(t: Tape) -> None:
    keys, bodies = _chunked_upload_start(t, 3)
    oid = op_id(POOL, keys)
    running = {"id": oid, "type": "TASK.BATCH_CREATE", "status": "RUNNING", "submitted": T0,
               "parameters": {"skip_invalid_items": True, "allow_defaults": True, "open_pool": False}}
    t.add("POST", "/v1/tasks", query={**UPLOAD, "operation_id": oid}, body=bodies, status=202, response=running)
    t.add("GET", f"/v1/operations/{oid}", response={**running, "progress": 10})
    # rerun: nothing visible yet; the same operation id is refused and the operation read instead
    t.list_tasks(POOL)
    t.add("POST", "/v1/tasks", query={**UPLOAD, "operation_id": oid}, body=bodies, status=409,
          response={"request_id": "c0de", "code": "OPERATION_ALREADY_EXISTS",
                    "message": "Operation with this id already exists"})
    done = {**running, "status": "SUCCESS", "finished": T0, "progress": 100}
    t.add("GET", f"/v1/operations/{oid}", response=done)
    t.add("GET", f"/v1/operations/{oid}/log", response=[
        {"type": "TASK_CREATE", "success": True, "input": b, "output": {"task_id": task_id(i)}}
        for i, b in enumerate(bodies)])


def test_an_earlier_failed_upload_is_sent_again_under_a_new_id(t: Tape) -> None:
    keys, bodies = _chunked_upload_start(t, 3)
    first = op_id(POOL, keys)
    t.add("POST", "/v1/tasks", query={**UPLOAD, "operation_id": first}, body=bodies, status=409,
          response={"code": "OPERATION_ALREADY_EXISTS", "message": "Operation with this id already exists"})
    t.add("GET", f"/v1/operations/{first}", response={
        "id": first, "type": "TASK.BATCH_CREATE", "status": "FAIL", "submitted": T0, "finished": T0,
        "details": {"reason": "pool was archived at the time"}})
    t.upload(POOL, keys, bodies, first_task=0, attempt=1)


def test_the_log_is_read_under_the_id_toloka_returns(t: Tape) -> None:
    """Toloka documents that the operation takes the operation_id sent; if it ever did not, the
    operation it returned is the one polled and whose log is read."""
    keys, bodies = _chunked_upload_start(t, 2)
    sent, theirs = op_id(POOL, keys), "5b1f7e52-6f0c-4f8e-9d3a-0b7d2c9e4a11"
    running = {"id": theirs, "type": "TASK.BATCH_CREATE", "status": "RUNNING", "submitted": T0, "started": T0}
    t.add("POST", "/v1/tasks", query={**UPLOAD, "operation_id": sent}, body=bodies, status=202, response=running)
    t.operation({**running, "status": "SUCCESS", "finished": T0, "progress": 100})
    t.add("GET", f"/v1/operations/{theirs}/log", response=[
        {"type": "TASK_CREATE", "success": True, "input": b, "output": {"task_id": task_id(i)}}
        for i, b in enumerate(bodies)])


def test_open_after_an_unknown_outcome_reads_the_pool_first(t: Tape) -> None:
    """A 503 to open: the pool is still closed, so open is sent again. Then a reply lost after
    Toloka opened the pool: the pool is open, so nothing is sent again."""
    closed = pool_state(e.cats_pool(PROJECT), POOL, "CLOSED")
    t.add("GET", f"/v1/pools/{POOL}", response=closed)
    t.list_tasks(POOL, cats_tasks(golden=1))
    t.add("POST", f"/v1/pools/{POOL}/open", status=503,
          response={"code": "REMOTE_SERVICE_UNAVAILABLE", "message": "Service unavailable"})
    t.add("GET", f"/v1/pools/{POOL}", response=closed)
    t.action(f"/v1/pools/{POOL}/open", "POOL.OPEN", {"pool_id": POOL})
    t.add("GET", f"/v1/pools/{POOL}", response=closed)  # the second start(), on another pool state
    t.list_tasks(POOL, cats_tasks(golden=1))
    pending = {"id": str(uuid.uuid5(NAMESPACE, "lost-open")), "type": "POOL.OPEN", "status": "PENDING",
               "submitted": T0, "parameters": {"pool_id": POOL}}
    t.add("POST", f"/v1/pools/{POOL}/open", status=202, response=pending)  # its reply is lost (the test drops it)
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(e.cats_pool(PROJECT), POOL, "OPEN", started=True))


def test_review_after_an_unknown_outcome_reads_the_assignment(t: Tape) -> None:
    """Accept answered 500 after Toloka accepted: read, ACCEPTED, done. Reject refused with 409
    because a rerun already rejected: read, REJECTED, done. Reject refused for an accepted
    assignment: read, ACCEPTED, so the refusal stands."""
    first, second, third = assignment_id(1), assignment_id(2), assignment_id(3)
    tasks = _status_tasks(1)
    t.add("PATCH", f"/v1/assignments/{first}", body={"status": "ACCEPTED"}, status=500,
          response={"request_id": "500r", "code": "INTERNAL_ERROR", "message": "Internal server error"})
    t.add("GET", f"/v1/assignments/{first}", response=assignment(1, "w1", "ACCEPTED", tasks, ["cat", "dog"]))
    conflict = {"request_id": "409r", "code": "INAPPROPRIATE_STATUS",
                "message": "This or related resource is in inappropriate status, operation is not allowed"}
    rejected = {"public_comment": "wrong animal", "status": "REJECTED"}
    t.add("PATCH", f"/v1/assignments/{second}", body=rejected, status=409, response=conflict)
    t.add("GET", f"/v1/assignments/{second}", response=assignment(2, "w2", "REJECTED", tasks, ["cat", "dog"],
                                                                   public_comment="wrong animal"))
    t.add("PATCH", f"/v1/assignments/{third}", body=rejected, status=409, response=conflict)
    t.add("GET", f"/v1/assignments/{third}", response=assignment(3, "w3", "ACCEPTED", tasks, ["cat", "dog"]))


def test_failed_operation_reports_each_item(t: Tape) -> None:
    keys, bodies = _chunked_upload_start(t, 2)
    oid = op_id(POOL, keys)
    running = {"id": oid, "type": "TASK.BATCH_CREATE", "status": "RUNNING", "submitted": T0,
               "parameters": {"skip_invalid_items": True, "allow_defaults": True, "open_pool": False}}
    t.add("POST", "/v1/tasks", query={**UPLOAD, "operation_id": oid}, body=bodies, status=202, response=running)
    t.operation({**running, "status": "FAIL", "finished": T0, "details": {
        "total_count": 2, "valid_count": 0, "not_valid_count": 2, "success_count": 0, "failed_count": 2}})
    t.add("GET", f"/v1/operations/{oid}/log", response=[
        {"type": "TASK_VALIDATE", "success": False, "input": b,
         "output": {"input_values.image": {"code": "INVALID_URL", "message": "Image is not reachable"}}}
        for b in bodies])


def test_failed_operation_without_a_log_fails_every_item(t: Tape) -> None:
    keys, bodies = _chunked_upload_start(t, 2)
    oid = op_id(POOL, keys)
    running = {"id": oid, "type": "TASK.BATCH_CREATE", "status": "RUNNING", "submitted": T0}
    t.add("POST", "/v1/tasks", query={**UPLOAD, "operation_id": oid}, body=bodies, status=202, response=running)
    t.operation({**running, "status": "FAIL", "finished": T0, "details": {"items_count": 2}})
    t.add("GET", f"/v1/operations/{oid}/log", response=[])


def test_malformed_responses_are_typed_errors(t: Tape) -> None:
    t.add("GET", f"/v1/pools/{POOL}", text="<html><body>Welcome to Toloka</body></html>",
          headers={"Content-Type": "text/html"})
    t.add("GET", "/v1/assignments", query={"pool_id": POOL, "sort": "id", "limit": 1000},
          response={"items": []})
    broken = assignment(0, "w0", "SUBMITTED", _status_tasks(0), ["cat", "dog"])
    broken["solutions"] = broken["solutions"][:1]
    t.add("GET", "/v1/assignments", query={"pool_id": POOL, "sort": "id", "limit": 1000},
          response={"items": [broken], "has_more": False})
    t.add("GET", "/v1/assignments", query={"pool_id": POOL, "sort": "id", "limit": 1000},
          response={"items": [], "has_more": True})


# ---- job keys: keyed creates, resumed creates, lost replies -------------------------------------------

CATS_KEY = "cats-vs-dogs-2026-01"
#: projects of the account made elsewhere: one without metadata, one with another tool's, one with another key
FOREIGN_PROJECTS = [
    created({**e.CATS_PROJECT, "public_name": "Made with toloka-kit"}, "120500", status="ACTIVE"),
    created({**e.CATS_PROJECT, "public_name": "Tagged", "metadata": {"team": ["vision"]}}, "120600", status="ACTIVE"),
    created(e.keyed(e.CATS_PROJECT, "another-key", e.CATS), "120700", status="ARCHIVED"),
]


def project_pages(t: Tape, projects: list[Json], limit: int = 300) -> None:
    """GET /v1/projects keyset pages (no status filter: archived projects hold keys too)."""
    query: Json = {"sort": "id", "limit": limit}
    ordered = sorted(projects, key=lambda p: (len(p["id"]), p["id"]))
    for start in range(0, max(len(ordered), 1), limit):
        page = ordered[start:start + limit]
        t.add("GET", "/v1/projects", query=query, response={"items": page, "has_more": start + limit < len(ordered)})
        if page:
            query = {**query, "id_gt": page[-1]["id"]}


def project_pools(t: Tape, project_id: str, pools: list[Json], limit: int = 300) -> None:
    t.add("GET", "/v1/pools", query={"project_id": project_id, "sort": "id", "limit": limit},
          response={"items": pools, "has_more": False})


def keyed_cats(project_id: str = PROJECT) -> tuple[Json, Json]:
    """The recipe's project and pool bodies as a create with ``CATS_KEY`` sends them."""
    return e.keyed(e.CATS_PROJECT, CATS_KEY, e.CATS), e.keyed(e.cats_pool(project_id), CATS_KEY, e.CATS)


def test_keyed_create_then_attach(t: Tape) -> None:
    """Paged lookups (two projects a page) find nothing, so both objects are created with the key;
    a second run's lookup finds the project, then its pool, and attaches."""
    project, pool = keyed_cats()
    for _ in range(2):  # Client.create_job's find_job, then create_job's own lookup
        project_pages(t, FOREIGN_PROJECTS, 2)
    t.add("POST", "/v1/projects", body=project, status=201, response=created(project, PROJECT, status="ACTIVE"))
    t.add("POST", "/v1/pools", body=pool, status=201, response=pool_state(pool, POOL, "CLOSED"))
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "CLOSED"))  # the spec, checked
    mine = created(project, PROJECT, status="ACTIVE")
    project_pages(t, [*FOREIGN_PROJECTS, mine], 2)
    project_pools(t, PROJECT, [pool_state(pool, POOL, "CLOSED")], 2)
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "CLOSED"))


def test_lost_pool_reply_is_looked_up_then_rerun_attaches(t: Tape) -> None:
    """The reply to POST /v1/pools is lost after Toloka created the pool: the key is looked up
    instead of the POST being sent again, and a rerun attaches. One project, one pool."""
    project, pool = keyed_cats()
    for _ in range(2):
        project_pages(t, FOREIGN_PROJECTS)
    t.add("POST", "/v1/projects", body=project, status=201, response=created(project, PROJECT, status="ACTIVE"))
    t.add("POST", "/v1/pools", body=pool, status=201, response=pool_state(pool, POOL, "CLOSED"))  # reply lost
    project_pools(t, PROJECT, [pool_state(pool, POOL, "CLOSED")])
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "CLOSED"))
    project_pages(t, [*FOREIGN_PROJECTS, created(project, PROJECT, status="ACTIVE")])  # the rerun
    project_pools(t, PROJECT, [pool_state(pool, POOL, "CLOSED")])
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "CLOSED"))


def test_resume_when_the_project_exists_but_the_pool_does_not(t: Tape) -> None:
    """The first run stopped after creating the project: the rerun creates only the pool."""
    project, pool = keyed_cats()
    mine = created(project, PROJECT, status="ACTIVE")
    for _ in range(2):  # find_job finds the project but no pool; create_job resumes from the project
        project_pages(t, [*FOREIGN_PROJECTS, mine])
        project_pools(t, PROJECT, [])
    t.add("POST", "/v1/pools", body=pool, status=201, response=pool_state(pool, POOL, "CLOSED"))
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "CLOSED"))


def test_resume_after_the_training_pool_and_its_tasks(t: Tape) -> None:
    """The medium job's first run stopped after its training pool and training tasks: the rerun
    finds both (no training task sent twice) and creates the pool and its webhooks."""
    key = "medium-1"
    project = created(e.keyed(e.MEDIUM_PROJECT, key, e.MEDIUM), PROJECT, status="ACTIVE")
    training_body = e.keyed(e.medium_training(PROJECT), key, e.MEDIUM)
    training = created(training_body, TRAINING, status="CLOSED")
    project_pages(t, [*FOREIGN_PROJECTS, project])  # find_job: the project, but no pool
    project_pools(t, PROJECT, [])
    t.add("GET", "/v1/skills", query={"name": "custom_skill", "sort": "id", "limit": 100},
          response={"items": [SKILL_OBJ], "has_more": False})
    project_pages(t, [*FOREIGN_PROJECTS, project])
    t.add("GET", "/v1/trainings", query={"project_id": PROJECT, "sort": "id", "limit": 300},
          response={"items": [training], "has_more": False})
    t.list_tasks(TRAINING, [stored_task(task, 900) for task in e.medium_training_tasks(TRAINING)])
    project_pools(t, PROJECT, [])
    pool = e.keyed(e.medium_pool(PROJECT, TRAINING, SKILL), key, e.MEDIUM)
    t.add("POST", "/v1/pools", body=pool, status=201, response=pool_state(pool, POOL, "CLOSED"))
    hooks = e.medium_webhooks(POOL)
    t.add("PUT", "/v1/webhook-subscriptions", body=hooks, status=201, response={
        "items": {str(i): {**h, "id": f"a8f25{i}c0-1111-4a5b-9d10-2b1e1b4f0d3{i}", "created": T0}
                  for i, h in enumerate(hooks)},
        "validation_errors": {}})
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "CLOSED"))


def test_resume_subscribes_the_webhooks_a_stopped_run_left_out(t: Tape) -> None:
    """The first run stopped after creating the pool, before its webhook subscriptions: the key's
    job is not complete, so the rerun resumes (creating nothing) and subscribes."""
    key = "medium-1"
    project = created(e.keyed(e.MEDIUM_PROJECT, key, e.MEDIUM), PROJECT, status="ACTIVE")
    training = created(e.keyed(e.medium_training(PROJECT), key, e.MEDIUM), TRAINING, status="CLOSED")
    pool = pool_state(e.keyed(e.medium_pool(PROJECT, TRAINING, SKILL), key, e.MEDIUM), POOL, "CLOSED")
    project_pages(t, [*FOREIGN_PROJECTS, project])  # find_job: the project, its pool, no subscriptions
    project_pools(t, PROJECT, [pool])
    t.add("GET", "/v1/webhook-subscriptions", query={"pool_id": POOL, "sort": "id", "limit": 300},
          response={"items": [], "has_more": False})
    t.add("GET", "/v1/skills", query={"name": "custom_skill", "sort": "id", "limit": 100},
          response={"items": [SKILL_OBJ], "has_more": False})
    project_pages(t, [*FOREIGN_PROJECTS, project])
    t.add("GET", "/v1/trainings", query={"project_id": PROJECT, "sort": "id", "limit": 300},
          response={"items": [training], "has_more": False})
    t.list_tasks(TRAINING, [stored_task(task, 900) for task in e.medium_training_tasks(TRAINING)])
    project_pools(t, PROJECT, [pool])
    hooks = e.medium_webhooks(POOL)
    t.add("PUT", "/v1/webhook-subscriptions", body=hooks, status=201, response={
        "items": {str(i): {**h, "id": f"a8f25{i}c0-1111-4a5b-9d10-2b1e1b4f0d3{i}", "created": T0}
                  for i, h in enumerate(hooks)},
        "validation_errors": {}})
    t.add("GET", f"/v1/pools/{POOL}", response=pool)
    # a later run finds every subscription: the job is complete, and attached
    project_pages(t, [*FOREIGN_PROJECTS, project])
    project_pools(t, PROJECT, [pool])
    t.add("GET", "/v1/webhook-subscriptions", query={"pool_id": POOL, "sort": "id", "limit": 300}, response={
        "items": [{**h, "id": f"a8f25{i}c0-1111-4a5b-9d10-2b1e1b4f0d3{i}", "created": T0}
                  for i, h in enumerate(hooks)], "has_more": False})
    t.add("GET", f"/v1/pools/{POOL}", response=pool)


def test_vendor_errors_are_typed(t: Tape) -> None:
    t.add("GET", "/v1/pools/999", status=404, response={
        "request_id": "404e", "code": "DOES_NOT_EXIST", "message": "Object does not exist"})
    # a pool that mixes no golden tasks (with golden mixing, start() would refuse an empty pool itself)
    unmixed = {**e.cats_pool(PROJECT), "mixer_config": {"real_tasks_count": 10, "golden_tasks_count": 0,
                                                        "training_tasks_count": 0}}
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(unmixed, POOL, "CLOSED"))
    t.add("POST", f"/v1/pools/{POOL}/open", status=409, response={
        "request_id": "409e", "code": "EMPTY_POOL", "message": "Pool contains no tasks. Operation is not allowed"})
    t.add("POST", "/v1/projects", body=e.CATS_PROJECT, status=400, response={
        "request_id": "400e", "code": "VALIDATION_ERROR", "message": "Validation failed",
        "payload": {"task_spec.view_spec.config": {"code": "INVALID_JSON", "message": "Config is not valid"}}})
    t.add("GET", "/v1/requester", status=401, response={
        "request_id": "401e", "code": "AUTHENTICATION_ERROR", "message": "Invalid token"})


# ---- step 5: skills, training pools, webhooks, task suites ------------------------------------------

SKILL_OBJ = {"id": SKILL, "name": "custom_skill", "hidden": True, "deprecated": False, "global": False,
             "owner": OWNER, "created": "2026-01-15T12:00:00.387"}


def test_medium_pool_with_training_skills_and_webhooks(t: Tape) -> None:
    t.add("GET", "/v1/skills", query={"name": "custom_skill", "sort": "id", "limit": 100},
          response={"items": [], "has_more": False})
    t.add("POST", "/v1/skills", body=e.MEDIUM_SKILL, status=201, response=SKILL_OBJ)
    t.add("POST", "/v1/projects", body=e.MEDIUM_PROJECT, status=201,
          response=created(e.MEDIUM_PROJECT, PROJECT, status="ACTIVE"))
    training = e.medium_training(PROJECT)
    t.add("POST", "/v1/trainings", body=training, status=201,
          response=created(training, TRAINING, status="CLOSED"))
    t.upload(TRAINING, ["train-1"], e.medium_training_tasks(TRAINING), first_task=900)
    pool = e.medium_pool(PROJECT, TRAINING, SKILL)
    t.add("POST", "/v1/pools", body=pool, status=201, response=pool_state(pool, POOL, "CLOSED"))
    hooks = e.medium_webhooks(POOL)
    t.add("PUT", "/v1/webhook-subscriptions", body=hooks, status=201, response={
        "items": {str(i): {**h, "id": f"a8f25{i}c0-1111-4a5b-9d10-2b1e1b4f0d3{i}", "created": T0}
                  for i, h in enumerate(hooks)},
        "validation_errors": {}})
    # job.add_items: one golden item, which the pool's mixing (golden_per_batch: 1) needs before it opens
    t.list_tasks(POOL)
    gold = [{**e.medium_training_tasks(POOL)[0], "input_values": {"image": "https://example.com/gold/1.jpg",
                                                                  "_key": "gold-1"}}]
    del gold[0]["message_on_unknown_solution"]
    stored = t.upload(POOL, ["gold-1"], gold, first_task=950)
    # job.start(): the golden tasks are counted, then the training pool opens first, then the pool
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "CLOSED"))
    t.list_tasks(POOL, stored)
    t.action(f"/v1/trainings/{TRAINING}/open", "TRAINING.OPEN", {"training_id": TRAINING})
    t.action(f"/v1/pools/{POOL}/open", "POOL.OPEN", {"pool_id": POOL})
    # archive(): close and archive the pool, then the training pool, then the project
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "OPEN", started=True))
    t.action(f"/v1/pools/{POOL}/close", "POOL.CLOSE", {"pool_id": POOL})
    t.action(f"/v1/pools/{POOL}/archive", "POOL.ARCHIVE", {"pool_id": POOL})
    t.action(f"/v1/trainings/{TRAINING}/close", "TRAINING.CLOSE", {"training_id": TRAINING})
    t.action(f"/v1/trainings/{TRAINING}/archive", "TRAINING.ARCHIVE", {"training_id": TRAINING})
    t.action(f"/v1/projects/{PROJECT}/archive", "PROJECT.ARCHIVE", {"project_id": PROJECT})


def test_skill_flows(t: Tape) -> None:
    accuracy = {**SKILL_OBJ, "name": "cats-vs-dogs accuracy",
                "public_requester_description": {"EN": "How well you tell cats from dogs"}}
    skills = [accuracy, {**SKILL_OBJ, "id": "41590", "name": "custom_skill"},
              {**SKILL_OBJ, "id": "41601", "name": "old", "deprecated": True}]
    t.add("GET", "/v1/skills", query={"sort": "id", "limit": 2}, response={"items": skills[:2], "has_more": True})
    t.add("GET", "/v1/skills", query={"sort": "id", "limit": 2, "id_gt": "41590"},
          response={"items": skills[2:], "has_more": False})
    t.add("GET", "/v1/skills", query={"name": "cats-vs-dogs accuracy", "sort": "id", "limit": 2},
          response={"items": [accuracy], "has_more": False})
    fresh = {"name": "fresh skill", "hidden": True, "public_requester_description": {"EN": "Made by annotate"}}
    t.add("POST", "/v1/skills", body=fresh, status=201, response={**SKILL_OBJ, **fresh, "id": "41602"})
    t.add("GET", f"/v1/skills/{SKILL}", response=accuracy)
    renamed = {"name": "cats vs dogs", "hidden": True,
               "public_requester_description": {"EN": "How well you tell cats from dogs"}}
    t.add("PUT", f"/v1/skills/{SKILL}", body=renamed, response={**accuracy, **renamed})
    user = "b4d8bcc33403cae9eb69991c8bb90bdc"
    t.add("PUT", "/v1/user-skills", body={"skill_id": SKILL, "user_id": user, "value": 85.5}, response={
        "id": "43", "skill_id": SKILL, "user_id": user, "value": 86, "exact_value": 85.5,
        "created": "2026-01-15T09:30:11.681", "modified": "2026-01-15T10:52:22.130"})
    t.add("DELETE", "/v1/user-skills/43", status=204)


def test_webhook_subscriptions_rejected(t: Tape) -> None:
    hooks = e.medium_webhooks(POOL)
    t.add("PUT", "/v1/webhook-subscriptions", body=hooks, status=201, response={
        "items": {"0": {**hooks[0], "id": "a8f250c0-1111-4a5b-9d10-2b1e1b4f0d30", "created": T0}},
        "validation_errors": {"1": {"webhook_url": {"code": "INVALID_URL", "message": "Host is not reachable"}}}})


def test_task_suites_upload(t: Tape) -> None:
    items = cats_items(3)
    t.add("GET", "/v1/task-suites", query={"pool_id": POOL, "sort": "id", "limit": 10000},
          response={"items": [], "has_more": False})
    tasks = [{"input_values": {"image": url, "_key": key}} for key, url in items]
    suites = [{"pool_id": POOL, "tasks": tasks[:2]}, {"pool_id": POOL, "tasks": tasks[2:]}]
    oid = op_id(POOL, [k for k, _ in items])
    running = {"id": oid, "type": "TASK_SUITE.BATCH_CREATE", "status": "RUNNING", "submitted": T0,
               "parameters": {"skip_invalid_items": True, "allow_defaults": True, "open_pool": False}}
    t.add("POST", "/v1/task-suites", query={**UPLOAD, "operation_id": oid}, body=suites, status=202,
          response=running)
    t.operation({**running, "status": "SUCCESS", "finished": T0, "progress": 100})
    t.add("GET", f"/v1/operations/{oid}/log", response=[
        {"type": "TASK_SUITE_CREATE", "success": True, "input": suite, "output": {"task_suite_id": f"ts-{i}"}}
        for i, suite in enumerate(suites)])


# ---- the conformance suite (annotate_core.testing) as TestTolokaConformance runs it --------------------

def conf_spec(**over: Any) -> Any:
    from annotate_toloka import TolokaBackend

    from annotate_core.testing import base_spec

    return base_spec(TolokaBackend.capabilities, **{**e.CONFORMANCE_EXTRAS, **over})


def conf_created(t: Tape, spec: Any, overlap: int = 1, golden: int = 0) -> Json:
    """create_job: the project, then its closed pool; returns the pool body."""
    t.add("POST", "/v1/projects", body=e.CONFORMANCE_PROJECT, status=201,
          response=created(e.CONFORMANCE_PROJECT, PROJECT, status="ACTIVE"))
    pool = e.conformance_pool(PROJECT, spec, overlap, golden)
    t.add("POST", "/v1/pools", body=pool, status=201, response=pool_state(pool, POOL, "CLOSED"))
    return pool


def conf_started(t: Tape, *, golden: int = 0, overlap: int = 1, start: bool = True, **over: Any) -> list[Json]:
    """create_job + add 6 items + start, as the suite's ``_started_job`` does; returns the stored tasks."""
    from annotate_core.testing import conformance_items

    if golden:
        over["distribution"] = {"kind": "pulling", "batch_size": 10, "golden_per_batch": 1}
    if overlap > 1:
        over["overlap"] = {"count": overlap}
    pool = conf_created(t, conf_spec(**over), overlap, 1 if golden else 0)
    items = conformance_items(6, golden=golden)
    bodies = []
    for it in items:
        body: Json = {"input_values": {**it.inputs, "_key": it.key}, "pool_id": POOL}
        if it.golden:
            body["known_solutions"] = [{"output_values": it.golden, "correctness_weight": 1}]
            body["infinite_overlap"] = True
        bodies.append(body)
    t.list_tasks(POOL)
    stored = t.upload(POOL, [it.key for it in items], bodies, first_task=0, overlap=overlap)
    if start:
        t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "CLOSED"))
        if golden:  # golden mixing: the golden tasks are counted before the pool opens
            t.list_tasks(POOL, stored)
        t.action(f"/v1/pools/{POOL}/open", "POOL.OPEN", {"pool_id": POOL})
    t.pool = pool  # type: ignore[attr-defined]
    return stored


def _labels(tasks: list[Json]) -> list[str]:
    return ["cat" if int(task["input_values"]["_key"].split("-")[1]) % 2 == 0 else "dog" for task in tasks]


def conf_upload_is_idempotent_by_key(t: Tape) -> None:
    from annotate_core.testing import conformance_items

    pool = conf_created(t, conf_spec())
    items = conformance_items(6)
    bodies = [{"input_values": {**it.inputs, "_key": it.key}, "pool_id": POOL} for it in items]
    t.list_tasks(POOL)
    stored = t.upload(POOL, [it.key for it in items[:4]], bodies[:4], first_task=0, overlap=1)
    t.list_tasks(POOL, stored)
    # the chunk's operation id covers all six keys; only the two new tasks are sent
    stored += t.upload(POOL, [it.key for it in items], bodies[4:], first_task=4, overlap=1)
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "CLOSED"))
    analytics(t, POOL, 0, 6, 0)


def conf_answers_frame_schema(t: Tape) -> None:
    stored = conf_started(t)
    pages(t, POOL, [assignment(0, "w0", "SUBMITTED", stored, _labels(stored))], 1000)


def conf_lifecycle_to_closed(t: Tape) -> None:
    conf_started(t)
    pool = t.pool  # type: ignore[attr-defined]
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "OPEN", started=True))
    analytics(t, POOL, 0, 6, 0)
    t.action(f"/v1/pools/{POOL}/close", "POOL.CLOSE", {"pool_id": POOL})
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "CLOSED", started=True, reason="MANUAL"))
    analytics(t, POOL, 0, 6, 0)
    restrictions(t, POOL, PROJECT)


def conf_overlap_never_exceeded(t: Tape) -> None:
    stored = conf_started(t, overlap=2)
    pages(t, POOL, [assignment(n, f"w{n}", "SUBMITTED", stored, _labels(stored)) for n in range(2)], 1000)


def conf_golden_answers_are_flagged(t: Tape) -> None:
    stored = conf_started(t, golden=2)
    suite = stored[2:] + stored[:1]  # four real tasks and one control task
    pages(t, POOL, [assignment(0, "w0", "SUBMITTED", suite, _labels(suite))], 1000)


def conf_manual_review_changes_status(t: Tape) -> None:
    stored = conf_started(t)
    first = [assignment(n, f"w{n}", "SUBMITTED", stored[3 * n:3 * n + 3], _labels(stored[3 * n:3 * n + 3]))
             for n in range(2)]
    pages(t, POOL, first, 1000)
    t.add("PATCH", f"/v1/assignments/{assignment_id(0)}", body={"status": "ACCEPTED"},
          response={"status": "ACCEPTED", "bonus_ids": []})
    rejected = {"public_comment": "wrong animal", "status": "REJECTED"}
    t.add("PATCH", f"/v1/assignments/{assignment_id(1)}", body=rejected, response={**rejected, "bonus_ids": []})
    after = [assignment(0, "w0", "ACCEPTED", stored[:3], _labels(stored[:3])),
             assignment(1, "w1", "REJECTED", stored[3:], _labels(stored[3:]), public_comment="wrong animal")]
    pages(t, POOL, after, 1000)


def conf_unknown_job_is_not_found(t: Tape) -> None:
    t.add("GET", f"/v1/pools/{e.CONFORMANCE_UNKNOWN_POOL}", status=404, response={
        "request_id": "404c", "code": "DOES_NOT_EXIST", "message": "Object does not exist"})


def conf_listings_read_every_page(t: Tape) -> None:
    """Seven items, answered one task per assignment, listed two assignments a page (four pages)."""
    from annotate_core.testing import conformance_items

    pool = conf_created(t, conf_spec())
    items = conformance_items(e.CONFORMANCE_PAGED_ITEMS, prefix="page")
    bodies = [{"input_values": {**it.inputs, "_key": it.key}, "pool_id": POOL} for it in items]
    t.list_tasks(POOL)
    stored = t.upload(POOL, [it.key for it in items], bodies, first_task=0, overlap=1)
    t.list_tasks(POOL, stored)  # the rerun finds every key and sends nothing
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "CLOSED"))
    t.action(f"/v1/pools/{POOL}/open", "POOL.OPEN", {"pool_id": POOL})
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "OPEN", started=True))
    analytics(t, POOL, 100, len(items), len(items))
    answered = [assignment(n, f"w{n % 3}", "SUBMITTED", [task], ["cat" if n % 2 == 0 else "dog"])
                for n, task in enumerate(stored)]
    pages(t, POOL, answered, e.CONFORMANCE_PAGE_SIZE)


def conf_secrets_absent_from_logs(t: Tape) -> None:
    stored = conf_started(t)
    pages(t, POOL, [assignment(0, "w0", "SUBMITTED", stored, _labels(stored))], 1000)


def conf_job_key_creates_once_then_attaches(t: Tape) -> None:
    """The suite's job-key test: an unused key finds nothing; the key creates once, then names the
    job: the same spec attaches, another spec is a conflict."""
    from annotate_core.testing import BackendConformance

    key = BackendConformance.job_key
    spec = conf_spec()
    project_pages(t, FOREIGN_PROJECTS)  # find_job(key + "-unused")
    for _ in range(2):
        project_pages(t, FOREIGN_PROJECTS)
    project = e.keyed(e.CONFORMANCE_PROJECT, key, spec)
    t.add("POST", "/v1/projects", body=project, status=201, response=created(project, PROJECT, status="ACTIVE"))
    pool = e.keyed(e.conformance_pool(PROJECT, spec), key, spec)
    t.add("POST", "/v1/pools", body=pool, status=201, response=pool_state(pool, POOL, "CLOSED"))
    t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "CLOSED"))
    mine = created(project, PROJECT, status="ACTIVE")
    for fetch_spec in (False, True, True):  # find_job; the same spec again; another spec
        project_pages(t, [*FOREIGN_PROJECTS, mine])
        project_pools(t, PROJECT, [pool_state(pool, POOL, "CLOSED")])
        if fetch_spec:
            t.add("GET", f"/v1/pools/{POOL}", response=pool_state(pool, POOL, "CLOSED"))


def _conf_create_refused(status: int, response: Json, headers: Json | None = None) -> Callable[[Tape], None]:
    """create_job's first request, POST /v1/projects, answered with a fault (and nothing sent after it)."""
    def tape(t: Tape) -> None:
        t.add("POST", "/v1/projects", body=e.CONFORMANCE_PROJECT, status=status, response=response, headers=headers)
    return tape


CONF_FAULTS: dict[str, Callable[[Tape], None]] = {
    # a revoked API key (reference §1: 401 with code AUTHENTICATION_ERROR)
    "auth": _conf_create_refused(401, {"request_id": "401c", "code": "AUTHENTICATION_ERROR",
                                       "message": "Invalid token"}),
    # the daily quota: waiting it out is not sensible, so the backend raises instead of sleeping
    "rate_limit": _conf_create_refused(429, {**TOO_MANY, "payload": {"interval": "DAY", "limit": 100}}),
    # a field-level refusal (reference §1: VALIDATION_ERROR with the field path in the payload)
    "validation": _conf_create_refused(400, {
        "request_id": "400c", "code": "VALIDATION_ERROR", "message": "Validation failed",
        "payload": {"public_instructions": {"code": "VALUE_TOO_LONG", "message": "Value is too long"}}}),
}


TAPES: dict[str, Callable[[Tape], None]] = {
    name: fn for name, fn in dict(globals()).items() if name.startswith("test_") and callable(fn)
}
CONF_HELPERS = ("conf_spec", "conf_started", "conf_created")
TAPES.update({f"TestTolokaConformance.test_{name[5:]}": fn for name, fn in dict(globals()).items()
              if name.startswith("conf_") and name not in CONF_HELPERS and callable(fn)})
TAPES.update({f"TestTolokaConformance.test_vendor_fault_is_mapped[{fault}]": fn for fault, fn in CONF_FAULTS.items()})


def main(names: list[str]) -> None:
    unknown = sorted(set(names) - set(TAPES))
    if unknown:
        raise SystemExit(f"unknown cassette(s) {unknown}; known: {sorted(TAPES)}")
    for name, fn in TAPES.items():
        if names and name not in names:
            continue
        tape = Tape()
        fn(tape)
        path = tape.save(name)
        print(f"{path.relative_to(HERE.parents[1])}: {len(tape.interactions)} interactions")


if __name__ == "__main__":
    main(sys.argv[1:])
