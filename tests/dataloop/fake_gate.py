"""A stateful stand-in for the Dataloop gate, used only to *author* the cassettes under cassettes/dataloop/.

There is no Dataloop account to record against, so the cassettes are generated: the tests run
against this fake over loopback HTTP while pytest-recording records, then replay forever with the
network blocked (see ``generate_cassettes.py``). The fake is only as good as its fidelity, so it

* answers in the shapes of Dataloop's OpenAPI schemas (``APITask``, ``APICommand``,
  ``APIAssignment``, ``CursorPage``, items and annotations as in reference §3.3.2 and §3.13);
* refuses what the gate is documented to refuse (a ``query`` that is not a JSON *string*, workloads
  not summing to 100, consensus on a pulling task, missing required ``TaskPayload`` fields, nodes
  without ``condition`` strings, multipart forms whose ``file`` is not last);
* keeps a task's ``availableActions`` as sent (Dataloop's completed/discard, or approved/discard for
  QA, when none are sent) and refuses, with a 400, an item status that is not one of them, since
  statuses are per task and come from its actions (reference §3.12);
* runs creates as commands that are polled (``created`` -> ``in-progress`` -> ``success``) and that
  finish on the gate whether or not anyone polls them (after ``command_delay`` further requests, or
  at once on ``settle()``), so a create whose answer was lost still makes its object;
* does *not* honour ``checkIfExist`` or any other dedupe: what the gate does with it is not
  documented (dtlpy only reads a task back when one is returned [K repositories/tasks.py:919]), so
  a repeated create makes a second object, as it may on the real gate;
* clamps page sizes (``max_page_size``) so every listing really spans several pages;
* models consensus as reference §3.7 describes it: each annotator works a hidden copy of the item
  (``/.consensus/...``, ``spec.parentDatasetItemId``), the original sits in the consensus assignment
  (``metadata.system.consensusAssignmentId``), and the copies' annotations are merged onto the
  original (tagged with the copy's task and assignment) only once every copy has a status;
* changes a dataset's ``metadata.system`` (its recipe) only through ``PATCH ...?system=true``, and
  executes only installed pipelines.

Everything is deterministic (ids from counters, fixed clock) so regenerated cassettes are stable.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

GATE = "https://gate.dataloop.ai/api/v1"
PROJECT_ID = "3a7c5f1e-9b2d-4c8e-a1f0-6d5e4b3c2a10"
ORG_ID = "c2b1a0f9-8e7d-4c6b-9a5f-4e3d2c1b0a99"
OWNER = "owner@example.com"
DEFAULT_ITEM_CLAUSES = [{"hidden": False}, {"type": "file"}]
#: objects per page of a DQL query at most (the gate clamps larger pageSize values), by default
MAX_PAGE_SIZE = 4


def fake_jwt(exp: float, email: str = OWNER) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'email': email, 'exp': int(exp), 'iss': 'fake'})}.fake"


class GateError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# ---- DQL evaluation (Mongo-like, as far as the backend uses it) -----------------------------------


def _resolve(value: Any, parts: list[str]) -> list[Any]:
    if not parts:
        return [value]
    if isinstance(value, list):
        return [r for v in value for r in _resolve(v, parts)]
    if isinstance(value, dict) and parts[0] in value:
        return _resolve(value[parts[0]], parts[1:])
    return []


def _equal(candidate: Any, expected: Any) -> bool:
    return candidate == expected or (isinstance(candidate, list) and not isinstance(expected, list)
                                     and expected in candidate)


def _field_match(doc: Any, path: str, cond: Any) -> bool:
    candidates = _resolve(doc, path.split("."))
    if isinstance(cond, dict) and cond and all(k.startswith("$") for k in cond):
        return all(_op(candidates, op, arg) for op, arg in cond.items())
    if isinstance(cond, dict) and cond:  # a sub-document condition (inside $match)
        return any(isinstance(c, dict) and matches(c, cond) for c in candidates)
    return any(_equal(c, cond) for c in candidates)


def _flat(candidates: list[Any]) -> list[Any]:
    return [x for c in candidates for x in (c if isinstance(c, list) else [c])]


def _op(candidates: list[Any], op: str, arg: Any) -> bool:
    if op == "$eq":
        return any(_equal(c, arg) for c in candidates)
    if op == "$ne":
        return not any(_equal(c, arg) for c in candidates)
    if op == "$in":
        return any(x in arg for x in _flat(candidates))
    if op == "$nin":
        return not any(x in arg for x in _flat(candidates))
    if op == "$exists":
        return bool(candidates) == bool(arg)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        cmp = {"$gt": lambda a, b: a > b, "$gte": lambda a, b: a >= b,
               "$lt": lambda a, b: a < b, "$lte": lambda a, b: a <= b}[op]
        return any(type(x) is type(arg) and cmp(x, arg) for x in _flat(candidates))
    if op == "$match":
        return any(isinstance(x, dict) and matches(x, arg) for x in _flat(candidates))
    raise GateError(400, f"unknown DQL operator {op}")


def matches(doc: Any, flt: dict[str, Any]) -> bool:
    for key, cond in flt.items():
        if key == "$and":
            if not all(matches(doc, c) for c in cond):
                return False
        elif key == "$or":
            if not any(matches(doc, c) for c in cond):
                return False
        elif not _field_match(doc, key, cond):
            return False
    return True


# ---- the fake gate -------------------------------------------------------------------------------


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int
    after: int = 0  # matching requests to let through first
    process: bool = False  # handle the request (and finish its command) but answer with the fault


@dataclass
class State:
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    annotations: dict[str, dict[str, Any]] = field(default_factory=dict)
    recipes: dict[str, dict[str, Any]] = field(default_factory=dict)
    ontologies: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    assignments: dict[str, dict[str, Any]] = field(default_factory=dict)
    commands: dict[str, dict[str, Any]] = field(default_factory=dict)
    pipelines: dict[str, dict[str, Any]] = field(default_factory=dict)


class FakeGate:
    """The fake. ``handle()`` answers one request; ``serve()`` puts it on a loopback port."""

    def __init__(self, *, n_items: int = 6, max_page_size: int = MAX_PAGE_SIZE, max_list_page_size: int = 2,
                 polls_per_command: int = 2, command_delay: int = 2, labels: tuple[str, ...] = ("cat", "dog"),
                 folders: tuple[str, ...] = ("/batch1", "/batch2")) -> None:
        self.s = State()
        self._ids = itertools.count(1)
        self._clock = itertools.count(0)
        self._requests = itertools.count(1)
        self.max_page_size = max_page_size
        self.max_list_page_size = max_list_page_size
        self.polls_per_command = polls_per_command
        #: requests after which a command nobody polls to its end has finished on the gate anyway
        self.command_delay = command_delay
        self._request_no = 0
        self.faults: list[Fault] = []
        #: addToTask / execute runs that selected items their task already held (see ``_note_repeats``)
        self.repeats: list[str] = []
        self.received: list[tuple[str, str, Any]] = []
        self.lock = threading.RLock()
        self._pending_failure: str | None = None
        self._extra_headers: dict[str, str] = {}
        self._seed(n_items, labels, folders)

    # ---- ids and time ---------------------------------------------------------------------------

    def oid(self, prefix: str = "66") -> str:
        return f"{prefix}{next(self._ids):022x}"

    def now(self) -> str:
        tick = next(self._clock)
        return f"2026-01-15T10:{tick // 60 % 60:02d}:{tick % 60:02d}.000Z"

    def url(self, kind: str, id_: str) -> str:
        return f"{GATE}/{kind}/{id_}"

    # ---- seed data ------------------------------------------------------------------------------

    def _seed(self, n_items: int, labels: tuple[str, ...], folders: tuple[str, ...]) -> None:
        self.s.projects[PROJECT_ID] = {
            "id": PROJECT_ID, "url": self.url("projects", PROJECT_ID), "name": "my-project",
            "createdAt": "2025-11-02T08:00:00.000Z", "updatedAt": "2025-11-02T08:00:00.000Z", "creator": OWNER,
            "org": ORG_ID, "account": "8d0c4b2a-1f3e-4a5b-9c7d-6e5f4a3b2c1d",
            "contributors": [OWNER, "annotator1@dataloop.ai", "annotator2@dataloop.ai"], "groups": [], "guests": [],
            "role": "owner", "archived": False, "featureConstraints": [],
        }
        onto = self.oid("65")
        self.s.ontologies[onto] = {
            "id": onto, "url": self.url("ontologies", onto), "title": "my-dataset ontology", "creator": OWNER,
            "attributes": [], "metadata": {"system": {"projectIds": [PROJECT_ID]}},
            "roots": [{"value": {"tag": t, "displayLabel": t, "color": "#e6194b", "attributes": [], "displayData": {}},
                       "children": []} for t in labels],
        }
        recipe = self.oid("65")
        self.s.recipes[recipe] = {
            "id": recipe, "url": self.url("recipes", recipe), "title": "my-dataset Default Recipe", "creator": OWNER,
            "projectIds": [PROJECT_ID], "ontologyIds": [onto], "instructions": [], "examples": {"good": [], "bad": []},
            "customActions": [], "uiSettings": {"allowObjectIdAutoAssign": True, "studioV2App": True},
            "metadata": {"system": {}}, "createdAt": "2025-11-02T08:05:00.000Z",
            "updatedAt": "2025-11-02T08:05:00.000Z",
        }
        ds = self.oid("65")
        self.s.datasets[ds] = {
            "id": ds, "url": self.url("datasets", ds), "name": "my-dataset", "creator": OWNER,
            "projects": [PROJECT_ID], "createdAt": "2025-11-02T08:05:00.000Z", "updatedAt": "2025-11-03T09:00:00.000Z",
            "updatedBy": OWNER, "items": f"{GATE}/datasets/{ds}/items",
            "directoryTree": f"{GATE}/datasets/{ds}/directoryTree", "itemsCount": n_items, "annotated": 0,
            "annotationsCount": 0, "readableType": "dataloop", "accessLevel": "project", "driver": self.oid("65"),
            "readonly": False, "indexDriver": "v2", "metadata": {"system": {"recipes": [recipe]}},
        }
        self.dataset_id, self.recipe_id = ds, recipe
        for i in range(n_items):  # ids as in examples/dataloop_task_from_items.yaml
            folder = folders[i % len(folders)]
            self.add_item(ds, folder, f"img_{i + 1}.jpg", item_id=f"64f0c0ffee0000000000a{i + 1:03d}")

    def add_item(self, dataset_id: str, folder: str, name: str, *, mimetype: str = "image/jpeg",
                 user: dict[str, Any] | None = None, hidden: bool = False, spec: Any = "MasterItemSpec",
                 item_id: str | None = None) -> dict[str, Any]:
        iid = item_id or self.oid("64")
        filename = f"{folder.rstrip('/')}/{name}"
        item = {
            "id": iid, "url": self.url("items", iid), "datasetId": dataset_id, "dataset": self.url("datasets",
                                                                                                   dataset_id),
            "dir": folder, "filename": filename, "name": name, "type": "file", "spec": spec, "hidden": hidden,
            "annotated": False, "annotationsCount": 0, "creator": OWNER, "createdAt": self.now(),
            "updatedAt": self.now(), "updatedBy": OWNER, "stream": f"{GATE}/items/{iid}/stream",
            "thumbnail": f"{GATE}/items/{iid}/thumbnail", "annotations": f"{GATE}/items/{iid}/annotations",
            "metadata": {"system": {"originalname": name, "mimetype": mimetype, "size": 48213, "encoding": "7bit",
                                    "isBinary": mimetype.startswith("image"), "refs": []},
                         "user": user or {}},
        }
        self.s.items[iid] = item
        return item

    # ---- faults ---------------------------------------------------------------------------------

    def fail(self, method: str, path: str, status: int, body: Any = None, *, headers: dict[str, str] | None = None,
             times: int = 1, after: int = 0, process: bool = False) -> None:
        """After ``after`` matching requests pass, the next ``times`` ones get this answer instead.

        ``body`` may be a callable ``(path) -> body``; with ``process`` the request is carried out
        first (a create's command runs to success), as when the gate works but the answer is lost.
        """
        self.faults.append(Fault(method, re.compile(path), status, body, headers or {}, times, after, process))

    def _fault(self, method: str, path: str) -> Fault | None:
        for f in self.faults:
            if f.method == method and f.path.search(path) and f.times > 0:
                if f.after > 0:
                    f.after -= 1
                    continue
                f.times -= 1
                return f
        return None

    # ---- HTTP entry point -----------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes
               ) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self._extra_headers = {}
            parts = urlsplit(target)
            path = unquote(parts.path)
            query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            rid = f"req-{next(self._requests):05d}"
            self._request_no += 1
            self._run_overdue_commands()
            out_headers = {"Content-Type": "application/json; charset=utf-8", "x-request-id": rid}
            fault = self._fault(method, path)
            if fault is not None:
                if fault.process:
                    try:
                        _, done, _ = self._route(method, path, query, headers, body)
                        if isinstance(done, dict) and done.get("id") in self.s.commands:
                            while self._poll(done["id"])["status"] not in ("success", "failed"):
                                pass
                    except GateError:
                        pass
                out_headers.update(fault.headers)
                content = fault.body(path) if callable(fault.body) else fault.body
                raw = content if isinstance(content, bytes) else json.dumps(content).encode()
                if isinstance(content, bytes):
                    out_headers["Content-Type"] = "text/html"
                return fault.status, out_headers, raw
            try:
                status, payload, extra = self._route(method, path, query, headers, body)
            except GateError as exc:
                status, payload, extra = exc.status, {"status": exc.status, "message": exc.message}, {}
            out_headers.update(extra)
            self.received.append((method, path, body))
            return status, out_headers, json.dumps(payload).encode()

    def _route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes
               ) -> tuple[int, Any, dict[str, str]]:
        if path == "/token":
            return 200, self._token(self._json(raw)), {}
        if not path.startswith("/api/v1/"):
            raise GateError(404, f"Cannot {method} {path}")
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if not auth.startswith("Bearer ") or len(auth) < 20:
            raise GateError(401, "Unauthorized")
        p = path[len("/api/v1"):]
        body = self._json(raw) if raw and not headers.get("Content-Type", "").startswith("multipart") else None
        routes: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", r"^/users/me$", lambda: {"id": OWNER, "email": OWNER, "username": OWNER, "name": "Owner"}),
            ("GET", r"^/projects/(?P<name>[^/]+)/name$", self._project_by_name),
            ("GET", r"^/projects/(?P<pid>[^/]+)$", self._project),
            ("POST", r"^/datasets/query$", lambda: self._datasets_query(body)),
            ("GET", r"^/datasets/(?P<did>[0-9a-f]{24})$", self._dataset),
            ("PATCH", r"^/datasets/(?P<did>[0-9a-f]{24})$", lambda did: self._update_dataset(did, query, body)),
            ("POST", r"^/datasets/(?P<did>[0-9a-f]{24})/query$", lambda did: self._dql(did, body)),
            ("POST", r"^/datasets/(?P<did>[0-9a-f]{24})/items$",
             lambda did: self._upload(did, query, headers, raw)),
            ("GET", r"^/recipes/(?P<rid>[0-9a-f]{24})$", lambda rid: self._get(self.s.recipes, rid, "Recipe")),
            ("POST", r"^/recipes$", lambda: self._create_recipe(body)),
            ("GET", r"^/ontologies/(?P<oid>[0-9a-f]{24})$", lambda oid: self._get(self.s.ontologies, oid, "Ontology")),
            ("POST", r"^/ontologies$", lambda: self._create_ontology(body)),
            ("POST", r"^/annotationtasks$", lambda: self._create_task(body)),
            ("POST", r"^/annotationtasks/query$", lambda: self._tasks_query(body)),
            ("GET", r"^/annotationtasks/(?P<tid>[0-9a-f]{24})$", lambda tid: self.task_json(tid)),
            ("PATCH", r"^/annotationtasks/(?P<tid>[0-9a-f]{24})$", lambda tid: self._update_task(tid, body)),
            ("POST", r"^/annotationtasks/(?P<tid>[0-9a-f]{24})/addToTask$", lambda tid: self._add_to_task(tid, body)),
            ("GET", r"^/assignments$", lambda: self._assignments(query)),
            ("GET", r"^/commands/(?P<cid>[0-9a-f]{24})$", self._poll),
            ("POST", r"^/pipelines$", lambda: self._create_pipeline(body)),
            ("POST", r"^/pipelines/query$", lambda: self._pipelines_query(body)),
            ("GET", r"^/recipes$", lambda: self._recipes(query)),
            ("GET", r"^/pipelines/(?P<pid>[0-9a-f]{24})$", lambda pid: self._get(self.s.pipelines, pid, "Pipeline")),
            ("PATCH", r"^/pipelines/(?P<pid>[0-9a-f]{24})$", lambda pid: self._update_pipeline(pid, body)),
            ("POST", r"^/pipelines/(?P<pid>[0-9a-f]{24})/install$",
             lambda pid: self._pipeline_status(pid, "Installed")),
            ("POST", r"^/pipelines/(?P<pid>[0-9a-f]{24})/uninstall$",
             lambda pid: self._pipeline_status(pid, "Uninstalled")),
            ("POST", r"^/pipelines/(?P<pid>[0-9a-f]{24})/execute$", lambda pid: self._execute(pid, body)),
        ]
        for m, pattern, fn in routes:
            match = re.match(pattern, p)
            if m == method and match:
                result = fn(**match.groupdict())
                return 200, result, dict(self._extra_headers)
        raise GateError(404, f"Cannot {method} {p}")

    @staticmethod
    def _json(raw: bytes) -> Any:
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise GateError(400, "Invalid JSON body") from None

    @staticmethod
    def _get(table: dict[str, Any], key: str, what: str) -> Any:
        if key not in table:
            raise GateError(404, f"{what} not found")
        return copy.deepcopy(table[key])

    def _page(self, entities: list[Any], page: int, size: int, cap: int) -> dict[str, Any]:
        size = max(1, min(size, cap))
        start = page * size
        chunk = entities[start:start + size]
        total_pages = max(1, -(-len(entities) // size))
        return {"totalItemsCount": len(entities), "totalPagesCount": total_pages,
                "hasNextPage": start + size < len(entities), "items": copy.deepcopy(chunk)}

    # ---- auth -----------------------------------------------------------------------------------

    def _token(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or body.get("type") != "refresh_token" or not body.get("refresh_token"):
            raise GateError(401, "Invalid refresh token")
        return {"id_token": fake_jwt(4102444800), "access_token": "fake-access-token",
                "refresh_token": body["refresh_token"]}

    # ---- projects / datasets / recipes ----------------------------------------------------------

    def _project_by_name(self, name: str) -> list[Any]:
        found = [p for p in self.s.projects.values() if p["name"] == name]
        if not found:
            raise GateError(403, "Forbidden")  # the gate's wrong status for unknown names [K projects.py]
        return copy.deepcopy(found)

    def _project(self, pid: str) -> Any:
        return self._get(self.s.projects, pid, "Project")

    def _dataset(self, did: str) -> Any:
        return self._get(self.s.datasets, did, "Dataset")

    def _update_dataset(self, did: str, query: dict[str, str], body: Any) -> Any:
        """``PATCH /datasets/{id}``: ``metadata.system`` changes only with ``?system=true`` (dtlpy's
        ``update(system_metadata=True)``, how ``switch_recipe`` sets ``metadata.system.recipes`` [W §3.4])."""
        if did not in self.s.datasets:
            raise GateError(404, "Dataset not found")
        if not isinstance(body, dict):
            raise GateError(400, "body must be an object")
        dataset = self.s.datasets[did]
        system = (body.get("metadata") or {}).get("system")
        if system is not None and system != dataset["metadata"]["system"]:
            if query.get("system") != "true":
                raise GateError(403, "metadata.system can only be changed with system=true")
            recipes = system.get("recipes")
            if not isinstance(recipes, list) or not all(r in self.s.recipes for r in recipes):
                raise GateError(400, "metadata.system.recipes must name recipes")
            dataset["metadata"]["system"] = copy.deepcopy(system)
        if isinstance(body.get("name"), str):
            dataset["name"] = body["name"]
        dataset["updatedAt"] = self.now()
        return copy.deepcopy(dataset)

    def _datasets_query(self, body: Any) -> Any:
        if not isinstance(body, dict) or body.get("resource") != "datasets":
            raise GateError(400, "resource must be datasets")
        projects = (body.get("context") or {}).get("projects") or []
        found = [d for d in self.s.datasets.values() if set(projects) & set(d["projects"])
                 and matches(d, body.get("filter") or {})]
        return self._page(found, body.get("page", 0), body.get("pageSize", 1000), 1000)

    def _create_ontology(self, body: Any) -> Any:
        if not isinstance(body, dict) or not isinstance(body.get("roots"), list):
            raise GateError(400, "roots are required")
        for r in body["roots"]:
            if not r.get("value", {}).get("color"):
                raise GateError(400, "label color is required")
        oid = self.oid("65")
        self.s.ontologies[oid] = {"id": oid, "url": self.url("ontologies", oid), "title": oid, "creator": OWNER,
                                  "attributes": body.get("attributes", []),
                                  "metadata": {"system": {"projectIds": body.get("projectIds", [])}},
                                  "roots": body["roots"]}
        return copy.deepcopy(self.s.ontologies[oid])

    def _recipes(self, query: dict[str, str]) -> Any:
        if "projects" not in query:
            raise GateError(400, "projects is required")
        found = [r for _, r in sorted(self.s.recipes.items()) if query["projects"] in r["projectIds"]]
        return self._page(found, int(query.get("pageOffset", 0)), int(query.get("pageSize", 500)),
                          self.max_list_page_size)

    def _create_recipe(self, body: Any) -> Any:
        if not isinstance(body, dict) or not body.get("ontologyIds") or body["ontologyIds"][0] not in self.s.ontologies:
            raise GateError(400, "ontologyIds must name an ontology")
        rid = self.oid("65")
        self.s.recipes[rid] = {"id": rid, "url": self.url("recipes", rid), "title": body.get("title"),
                               "creator": OWNER, "projectIds": body.get("projectIds", []),
                               "ontologyIds": body["ontologyIds"], "instructions": [],
                               "examples": {"good": [], "bad": []}, "customActions": [],
                               "uiSettings": body.get("uiSettings", {}), "metadata": {"system": {}},
                               "createdAt": self.now(), "updatedAt": self.now()}
        return copy.deepcopy(self.s.recipes[rid])

    # ---- DQL over items and annotations ---------------------------------------------------------

    def _dql(self, did: str, body: Any) -> Any:
        if did not in self.s.datasets:
            raise GateError(404, "Dataset not found")
        if not isinstance(body, dict) or "filter" not in body:
            raise GateError(400, "filter is required")
        resource = body.get("resource")
        if resource == "items":
            pool = [self.item_json(i) for i in self.s.items.values() if i["datasetId"] == did]
        elif resource == "annotations":
            pool = [copy.deepcopy(a) for a in self.s.annotations.values() if a["datasetId"] == did]
        else:
            raise GateError(400, f"unknown resource {resource!r}")
        found = [e for e in pool if matches(e, body["filter"])]
        found.sort(key=lambda e: e["id"])
        return self._page(found, body.get("page", 0), body.get("pageSize", 1000), self.max_page_size)

    def item_json(self, item: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(item)
        notes = [a for a in self.s.annotations.values() if a["itemId"] == item["id"]]
        out["annotationsCount"] = len(notes)
        out["annotated"] = bool(notes)
        return out

    def items_of(self, dataset_id: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        flt = query.get("filter") or {}
        found = [i for i in self.s.items.values() if i["datasetId"] == dataset_id and matches(self.item_json(i), flt)]
        return sorted(found, key=lambda i: i["id"])

    # ---- uploads --------------------------------------------------------------------------------

    def _upload(self, did: str, query: dict[str, str], headers: dict[str, str], raw: bytes) -> Any:
        if did not in self.s.datasets:
            raise GateError(404, "Dataset not found")
        ctype = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        m = re.search(r"boundary=([^;]+)", ctype)
        if not ctype.startswith("multipart/form-data") or not m:
            raise GateError(400, "expected multipart/form-data")
        fields = _parse_multipart(raw, m.group(1).strip('"'))
        names = [f[0] for f in fields]
        if not names or names[-1] != "file":
            raise GateError(400, "FILE MUST BE LAST FIELD OF THE FORM")
        form = {name: (value, filename) for name, value, filename in fields}
        path = form.get("path", (b"", None))[0].decode()
        content = form["file"][0]
        if not path.startswith("/"):
            raise GateError(400, "path must be absolute")
        if content.startswith(b"{"):
            try:
                json.loads(content)
            except ValueError:
                raise GateError(400, "invalid JSON file") from None
        if b"REFUSE-ME" in content:
            raise GateError(400, "Item name is invalid")
        existing = [i for i in self.s.items.values() if i["datasetId"] == did and i["filename"] == path]
        mode = query.get("mode", "skip")
        if existing and mode == "skip":
            self._extra_headers = {"x-item-op": "skip"}
            return self.item_json(existing[0])
        folder, name = path.rsplit("/", 1)
        meta = json.loads(form["metadata"][0]) if "metadata" in form else {}
        item = self.add_item(did, folder or "/", name, mimetype="application/json", user=meta.get("user", {}))
        item["metadata"]["system"]["size"] = len(content)
        self._extra_headers = {"x-item-op": "created"}
        return self.item_json(item)

    # ---- tasks ----------------------------------------------------------------------------------

    def _validate_task_payload(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise GateError(400, "body must be an object")
        missing = [k for k in ("datasetId", "recipeId", "projectId", "name", "taskOwner", "query", "spec")
                   if k not in body]
        if missing:
            raise GateError(400, f"Missing required field(s): {', '.join(missing)}")
        if not isinstance(body["query"], str):
            raise GateError(400, "query must be a string")
        try:
            query = json.loads(body["query"])
        except ValueError:
            raise GateError(400, "query is not valid JSON") from None
        if body["datasetId"] not in self.s.datasets:
            raise GateError(404, "Dataset not found")
        if body["recipeId"] not in self.s.recipes:
            raise GateError(404, "Recipe not found")
        if "dueDate" in body and not isinstance(body["dueDate"], int | float):
            raise GateError(400, "dueDate must be a number (epoch ms)")
        self._check_workload(body.get("workload"))
        system = (body.get("metadata") or {}).get("system") or {}
        actions = body.get("availableActions")
        if actions is not None and (not isinstance(actions, list) or not all(
                isinstance(a, dict) and isinstance(a.get("action"), str) and a["action"] for a in actions)):
            raise GateError(400, "availableActions must be [{action, displayName, color}]")
        pulling = "batchSize" in system or "maxBatchWorkload" in system
        if pulling and ("consensusPercentage" in system or "consensusAssignees" in system):
            raise GateError(400, "Consensus can not work as a pulling task")
        return query

    @staticmethod
    def _check_workload(workload: Any) -> None:
        if workload is None:
            return
        if not isinstance(workload, list) or not all(isinstance(w, dict) and set(w) == {"assigneeId", "load"}
                                                     for w in workload):
            raise GateError(400, "workload must be [{assigneeId, load}]")
        if any(not 0 <= w["load"] <= 100 for w in workload) or sum(w["load"] for w in workload) != 100:
            raise GateError(400, "workload loads must sum to 100")

    def _command(self, ctype: str, spec: dict[str, Any], *, on_success: Callable[[], dict[str, Any]],
                 fail: str | None = None) -> dict[str, Any]:
        cid = self.oid("67")
        cmd = {"id": cid, "url": self.url("commands", cid), "type": ctype, "status": "created", "progress": 0,
               "createdAt": self.now(), "updatedAt": None, "spec": spec, "error": None, "report": None}
        self.s.commands[cid] = {"json": cmd, "polls": 0, "on_success": on_success, "fail": fail,
                                "request": self._request_no}
        return copy.deepcopy(cmd)

    def _run_overdue_commands(self) -> None:
        """Commands left unpolled (their creator lost the answer, or died) finish on their own."""
        for cid, entry in list(self.s.commands.items()):
            if entry["json"]["status"] not in ("success", "failed") and \
                    self._request_no - entry["request"] > self.command_delay:
                self._finish(cid)

    def _finish(self, cid: str) -> None:
        try:
            while self._poll(cid)["status"] not in ("success", "failed"):
                pass
        except GateError as exc:  # the work itself failed on the gate
            cmd = self.s.commands[cid]["json"]
            cmd["status"], cmd["error"] = "failed", exc.message

    def settle(self) -> None:
        """Every pending command finishes (time passes, as before a rerun)."""
        with self.lock:
            for cid in list(self.s.commands):
                self._finish(cid)

    def fail_next_command(self, message: str) -> None:
        """The next command ends ``failed`` with ``message`` instead of running."""
        self._pending_failure = message

    def _poll(self, cid: str) -> Any:
        entry = self.s.commands.get(cid)
        if entry is None:
            raise GateError(404, "Command not found")
        cmd = entry["json"]
        if cmd["status"] in ("success", "failed"):
            return copy.deepcopy(cmd)
        entry["polls"] += 1
        cmd["updatedAt"] = self.now()
        if entry["polls"] < self.polls_per_command:
            cmd["status"], cmd["progress"] = "in-progress", 50
        elif entry["fail"]:
            cmd["status"], cmd["progress"], cmd["error"] = "failed", 100, entry["fail"]
        else:
            cmd["spec"].update(entry["on_success"]())
            cmd["status"], cmd["progress"] = "success", 100
        return copy.deepcopy(cmd)

    def _create_task(self, body: Any) -> Any:
        query = self._validate_task_payload(body)  # checkIfExist, if sent, is ignored (see the module doc)
        failure, self._pending_failure = self._pending_failure, None
        return self._command("CreateTask", {"createTaskPayload": copy.deepcopy(body)},
                             on_success=lambda: {"createdTaskId": self._make_task(body, query)}, fail=failure)

    def _make_task(self, body: dict[str, Any], query: dict[str, Any], *, extra_system: dict[str, Any] | None = None
                   ) -> str:
        tid = self.oid("67")
        sent_system = copy.deepcopy((body.get("metadata") or {}).get("system") or {})
        metadata = {"system": {**sent_system, **(extra_system or {})}, **{k: v for k, v in
                                                                           (body.get("metadata") or {}).items()
                                                                           if k != "system"}}
        stored_query = {**query, "sort": {"id": "ascending"}}
        task = {
            "id": tid, "url": self.url("annotationtasks", tid), "createdAt": self.now(), "updatedAt": self.now(),
            "updatedBy": OWNER, "creator": OWNER, "name": body["name"], "taskOwner": body["taskOwner"],
            "dueDate": body.get("dueDate", 0), "hasDueDate": "dueDate" in body, "datasetId": body["datasetId"],
            "recipeId": body["recipeId"], "projectId": body["projectId"], "spec": copy.deepcopy(body["spec"]),
            "hasParent": body["spec"].get("type") == "qa", "query": json.dumps(stored_query, separators=(",", ":")),
            "assignmentIds": [], "status": "open", "metadata": metadata, "availableActions": (
                copy.deepcopy(body["availableActions"]) if body.get("availableActions") else
                [{"action": "approved", "displayName": "Approve", "color": "#4bb543"},
                 {"action": "discard", "displayName": "Discard", "color": "#ff5858"}]
                if body["spec"].get("type") == "qa" else
                [{"action": "completed", "displayName": "Complete", "color": "#4bb543"},
                 {"action": "discard", "displayName": "Discard", "color": "#ff5858"}]),
            "priority": body.get("priority", 2), "error": None, "description": None,
        }
        self.s.tasks[tid] = task
        task["_workload"], task["_limit"] = body.get("workload"), body.get("limit")
        items = [] if body.get("emptyTask") else self.items_of(body["datasetId"], query)
        if body.get("limit"):
            items = items[: int(body["limit"])]
        self._assign(task, items, body.get("workload"))
        return tid

    def _assignment(self, task: dict[str, Any], annotator: str, *, hidden_queue: bool = False) -> dict[str, Any]:
        for aid in task["assignmentIds"]:
            a = self.s.assignments[aid]
            if a["annotator"] == annotator:
                return a
        aid = self.oid("68")
        n = len(task["assignmentIds"]) + 1
        a = {"id": aid, "url": self.url("assignments", aid), "createdAt": self.now(), "updatedAt": self.now(),
             "updatedBy": OWNER, "name": f"{task['name']} ({n})", "annotator": annotator, "status": "todo",
             "projectId": task["projectId"], "taskType": task["spec"]["type"],
             "metadata": {"system": {"taskId": task["id"], "datasetId": task["datasetId"]}},
             "priority": task["priority"], "_queue": hidden_queue}
        self.s.assignments[aid] = a
        task["assignmentIds"].append(aid)
        return a

    def _ref(self, item: dict[str, Any], ref_id: str, kind: str) -> None:
        refs = item["metadata"]["system"].setdefault("refs", [])
        if not any(r["id"] == ref_id for r in refs):
            refs.append({"type": kind, "id": ref_id})

    def _put(self, task: dict[str, Any], item: dict[str, Any], assignment: dict[str, Any]) -> None:
        self._ref(item, task["id"], "task")
        self._ref(item, assignment["id"], "assignment")

    def _assign(self, task: dict[str, Any], items: list[dict[str, Any]], workload: list[dict[str, Any]] | None
                ) -> None:
        system = task["metadata"]["system"]
        if "batchSize" in system:  # pulling: batchSize items per allowed assignee, the rest in a hidden queue
            people = system.get("allowedAssignees") or [w["assigneeId"] for w in workload or []]
            queue = self._assignment(task, task["taskOwner"], hidden_queue=True)
            rest = list(items)
            for person in people:
                a = self._assignment(task, person)
                for item in rest[: system["batchSize"]]:
                    self._put(task, item, a)
                rest = rest[system["batchSize"]:]
            for item in rest:
                self._put(task, item, queue)
            return
        if "consensusAssignees" in system:
            self._consensus(task, items, workload)
            return
        people = [w["assigneeId"] for w in workload or []] or [task["taskOwner"]]
        loads = [w["load"] for w in workload or []] or [100]
        counts = [len(items) * ld // 100 for ld in loads]
        for i in sorted(range(len(loads)), key=lambda i: -(len(items) * loads[i] % 100))[: len(items) - sum(counts)]:
            counts[i] += 1
        it = iter(items)
        for person, count in zip(people, counts, strict=True):
            a = self._assignment(task, person)
            for item in itertools.islice(it, count):
                self._put(task, item, a)

    def _consensus(self, task: dict[str, Any], items: list[dict[str, Any]], workload: list[dict[str, Any]] | None
                   ) -> None:
        system = task["metadata"]["system"]
        people = system.get("allowedAssignees") or [w["assigneeId"] for w in workload or []] or [
            "worker1@example.com", "worker2@example.com"]
        copies = system["consensusAssignees"]
        if copies > len(people):
            people = people + [f"worker{i}@example.com" for i in range(len(people) + 1, copies + 1)]
        holder = self._assignment(task, task["taskOwner"], hidden_queue=True)
        system["consensusAssignmentId"] = holder["id"]
        n_consensus = -(-len(items) * system["consensusPercentage"] // 100)
        for index, item in enumerate(items):
            if index >= n_consensus:  # not a consensus item: one annotator works the original
                self._put(task, item, self._assignment(task, people[index % len(people)]))
                continue
            self._put(task, item, holder)
            for k in range(copies):
                a = self._assignment(task, people[(index + k) % len(people)])
                clone = self._clone(item)
                self._put(task, clone, a)

    def _clone(self, item: dict[str, Any]) -> dict[str, Any]:
        return self.add_item(item["datasetId"], f"/.consensus{item['dir']}", item["name"],
                             mimetype=item["metadata"]["system"]["mimetype"], hidden=True,
                             spec={"parentDatasetItemId": item["id"]})

    def _status(self, item: dict[str, Any], ref_id: str) -> str | None:
        for r in item["metadata"]["system"].get("refs", []):
            if r["id"] == ref_id:
                return (r.get("metadata") or {}).get("status")
        return None

    def task_items(self, tid: str) -> list[dict[str, Any]]:
        return sorted((i for i in self.s.items.values() if any(r["id"] == tid for r in
                                                                 i["metadata"]["system"].get("refs", []))),
                      key=lambda i: i["id"])

    def task_json(self, tid: str) -> Any:
        if tid not in self.s.tasks:
            raise GateError(404, "Task not found")
        task = {k: copy.deepcopy(v) for k, v in self.s.tasks[tid].items() if not k.startswith("_")}
        items = self.task_items(tid)
        statuses = [self._status(i, tid) for i in items]
        done = [s for s in statuses if s]
        actions: dict[str, int] = {}
        for s in done:
            actions[s] = actions.get(s, 0) + 1
        task["totalItems"] = len(items)
        task["itemStatus"] = {"completed": len(done), "remaining": len(items) - len(done), "actions": actions}
        task["progress"] = round(100 * len(done) / len(items)) if items else 0
        task["forReview"] = 0
        task["issues"] = 0
        if task["status"] == "open" and done:
            task["status"] = "in progress"
        if items and len(done) == len(items) and task["status"] == "in progress":
            task["status"] = "completed"
        task["metadata"]["system"]["workloadDistribution"] = [
            {"assigneeId": self.s.assignments[a]["annotator"], "load": 0} for a in task["assignmentIds"]
            if not self.s.assignments[a]["_queue"]]
        return task

    def _update_task(self, tid: str, body: Any) -> Any:
        if tid not in self.s.tasks:
            raise GateError(404, "Task not found")
        if not isinstance(body, dict) or "metadata" not in body:
            raise GateError(400, "metadata is required")
        allowed = {"recipeId", "query", "name", "taskOwner", "priority", "dueDate", "status", "availableActions",
                   "spec", "metadata", "description"}
        for k in allowed & set(body):
            if k != "metadata":
                self.s.tasks[tid][k] = copy.deepcopy(body[k])
        return self.task_json(tid)

    def _tasks_query(self, body: Any) -> Any:
        if not isinstance(body, dict) or body.get("resource") != "tasks":
            raise GateError(400, "resource must be tasks")
        projects = (body.get("context") or {}).get("projectIds")
        found = [self.task_json(t) for t in sorted(self.s.tasks) if matches(self.s.tasks[t], body.get("filter") or {})
                 and (not projects or self.s.tasks[t]["projectId"] in projects)]
        return self._page(found, body.get("page", 0), body.get("pageSize", 500), self.max_list_page_size)

    def _add_to_task(self, tid: str, body: Any) -> Any:
        if tid not in self.s.tasks:
            raise GateError(404, "Task not found")
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise GateError(400, "query must be a string")
        self._check_workload(body.get("workload"))
        query = json.loads(body["query"])
        task = self.s.tasks[tid]

        def run() -> dict[str, Any]:
            selected = self.items_of(task["datasetId"], query)
            new = [i for i in selected if not any(r["id"] == tid for r in i["metadata"]["system"].get("refs", []))]
            self._note_repeats(f"addToTask {tid}", len(selected) - len(new))
            self._assign(task, new, body.get("workload"))
            return {"addToTaskPayload": copy.deepcopy(body)}

        failure, self._pending_failure = self._pending_failure, None
        return self._command("BulkAddToTaskSetting", {"taskId": tid}, on_success=run, fail=failure)

    def _note_repeats(self, what: str, n: int) -> None:
        """Items sent again to a task that holds them. What the gate does then is not documented (assign
        them again? skip them?): the fake skips them but keeps count, so a test can demand there are none."""
        if n:
            self.repeats.append(f"{what}: {n} item(s) already in the task")

    def _assignments(self, query: dict[str, str]) -> Any:
        if "projects" not in query:
            raise GateError(400, "projects is required")
        tid = query.get("taskId")
        found = []
        for aid, a in sorted(self.s.assignments.items()):
            if a["_queue"] or (tid and a["metadata"]["system"]["taskId"] != tid):
                continue
            out = {k: copy.deepcopy(v) for k, v in a.items() if not k.startswith("_")}
            items = [i for i in self.s.items.values() if any(r["id"] == aid for r in
                                                             i["metadata"]["system"].get("refs", []))]
            done = [i for i in items if self._status(i, aid)]
            out["totalItems"] = len(items)
            out["itemStatus"] = {"completed": len(done), "remaining": len(items) - len(done), "actions": {}}
            out["progress"] = round(100 * len(done) / len(items)) if items else 0
            out["forReview"], out["issues"] = 0, 0
            out["status"] = "done" if items and len(done) == len(items) else ("in progress" if done else "todo")
            found.append(out)
        page = int(query.get("pageOffset", 0))
        return self._page(found, page, int(query.get("pageSize", 500)), self.max_list_page_size)

    # ---- pipelines ------------------------------------------------------------------------------

    def _create_pipeline(self, body: Any) -> Any:
        if not isinstance(body, dict) or not body.get("name") or body.get("projectId") not in self.s.projects:
            raise GateError(400, "name and a known projectId are required")
        pid = self.oid("69")
        self.s.pipelines[pid] = {
            "id": pid, "url": self.url("pipelines", pid), "name": body["name"], "creator": OWNER,
            "createdAt": self.now(), "updatedAt": self.now(), "projectId": body["projectId"], "orgId": ORG_ID,
            "compositionId": self.oid("69"), "nodes": [], "connections": [], "startNodes": [], "description": "",
            "preview": "", "status": "Created", "variables": [],
        }
        if isinstance(body.get("description"), str):
            self.s.pipelines[pid]["description"] = body["description"]
        return copy.deepcopy(self.s.pipelines[pid])

    def _pipelines_query(self, body: Any) -> Any:
        if not isinstance(body, dict) or body.get("resource") != "pipeline":
            raise GateError(400, "resource must be pipeline")
        found = [copy.deepcopy(p) for _, p in sorted(self.s.pipelines.items()) if matches(p, body.get("filter") or {})]
        return self._page(found, body.get("page", 0), body.get("pageSize", 500), self.max_list_page_size)

    def _update_pipeline(self, pid: str, body: Any) -> Any:
        if pid not in self.s.pipelines:
            raise GateError(404, "Pipeline not found")
        if not isinstance(body, dict) or not {"name", "projectId", "nodes", "connections", "startNodes"} <= set(body):
            raise GateError(400, "name, projectId, nodes, connections and startNodes are required")
        ids = {n.get("id") for n in body["nodes"]}
        for n in body["nodes"]:
            meta = n.get("metadata") or {}
            if n.get("type") != "task" or not meta.get("recipeId") or meta.get("datasetId") not in self.s.datasets:
                raise GateError(400, "task nodes need metadata.recipeId and a known metadata.datasetId")
            self._check_workload(meta.get("workload"))
        for c in body["connections"]:
            known = c["src"]["nodeId"] in ids and c["tgt"]["nodeId"] in ids
            if not isinstance(c.get("condition"), str) or not known:
                raise GateError(400, "connections need a condition string and known nodes")
        if [s.get("nodeId") for s in body["startNodes"]] != [body["nodes"][0]["id"]]:
            raise GateError(400, "the start node must be a node of the pipeline")
        p = self.s.pipelines[pid]
        for k in ("name", "nodes", "connections", "startNodes", "description", "variables"):
            if k in body:
                p[k] = copy.deepcopy(body[k])
        p["updatedAt"] = self.now()
        return copy.deepcopy(p)

    def _pipeline_status(self, pid: str, status: str) -> Any:
        if pid not in self.s.pipelines:
            raise GateError(404, "Pipeline not found")
        if status == "Installed" and not self.s.pipelines[pid]["nodes"]:
            raise GateError(400, "a pipeline without nodes cannot be installed")
        self.s.pipelines[pid]["status"] = status
        return copy.deepcopy(self.s.pipelines[pid])

    def node_task(self, pid: str, node: dict[str, Any]) -> dict[str, Any]:
        """The task a task node created (made on first use, like the gate's move_to_task)."""
        for t in self.s.tasks.values():
            if t["metadata"]["system"].get("nodeId") == node["id"]:
                return t
        meta = node["metadata"]
        body = {"name": node["name"], "taskOwner": meta["taskOwner"], "spec": {"type": meta["taskType"]},
                "datasetId": meta["datasetId"], "projectId": node["projectId"], "recipeId": meta["recipeId"],
                "workload": meta.get("workload"), "priority": meta.get("priority", 2), "emptyTask": True}
        if "dueDate" in meta:
            body["dueDate"] = meta["dueDate"]
        tid = self._make_task(body, {"filter": {"$and": []}}, extra_system={"pipelineId": pid, "nodeId": node["id"]})
        return self.s.tasks[tid]

    def _execute(self, pid: str, body: Any) -> Any:
        p = self.s.pipelines.get(pid)
        if p is None:
            raise GateError(404, "Pipeline not found")
        if p["status"] != "Installed":
            raise GateError(400, "Pipeline is not installed")
        if not isinstance(body, dict) or not isinstance((body.get("batch") or {}).get("query"), dict):
            raise GateError(400, "batch.query is required")
        start = next(n for n in p["nodes"] if n["id"] == p["startNodes"][0]["nodeId"])

        def run() -> dict[str, Any]:
            task = self.node_task(pid, start)
            dataset = start["metadata"]["datasetId"]
            selected = self.items_of(dataset, body["batch"]["query"])
            new = [i for i in selected
                   if not any(r["id"] == task["id"] for r in i["metadata"]["system"].get("refs", []))]
            self._note_repeats(f"execute {pid}", len(selected) - len(new))
            self._assign(task, new, start["metadata"].get("workload"))
            return {"executionCount": len(new)}

        return self._command("PipelineExecution", {"pipelineId": pid}, on_success=run)

    # ---- simulated people (called by tests in fake mode only) -----------------------------------

    def _annotate(self, item: dict[str, Any], label: str, who: str, task_id: str, assignment_id: str
                  ) -> dict[str, Any]:
        aid = self.oid("6a")
        target = item
        note = {
            "id": aid, "url": self.url("annotations", aid), "type": "class", "label": label, "attributes": [],
            "coordinates": [], "metadata": {"system": {"automated": False, "taskId": task_id,
                                                       "assignmentId": assignment_id, "attributes": {}},
                                            "user": {}},
            "creator": who, "createdAt": self.now(), "updatedBy": who, "updatedAt": self.now(),
            "itemId": target["id"], "item": self.url("items", target["id"]), "datasetId": target["datasetId"],
            "dataset": self.url("datasets", target["datasetId"]), "hash": f"{next(self._ids):040x}",
            "labelSuggestions": {}, "source": "ui",
        }
        self.s.annotations[aid] = note
        return note

    def _set_status(self, item: dict[str, Any], ref_id: str, status: str, who: str) -> None:
        for r in item["metadata"]["system"]["refs"]:
            if r["id"] == ref_id:
                r["metadata"] = {"status": status, "creator": who, "timestamp": self.now()}

    def _check_action(self, task: dict[str, Any], status: str) -> None:
        """Item statuses are the task's actions; anything else is refused, as the gate would."""
        actions = [a.get("action") for a in task.get("availableActions") or []]
        if status not in actions:
            raise GateError(400, f"Status {status!r} is not an available action of task {task['id']} "
                                 f"({', '.join(map(str, actions))})")

    def work(self, task_id: str, label_for: Callable[[dict[str, Any], str], str | list[str] | None],
             status_for: Callable[[dict[str, Any], str], str | None] | None = None, *,
             only_unanswered: bool = False, annotators: tuple[str, ...] | None = None) -> None:
        """Every assignee (or those in ``annotators``) labels every item of their assignments (None = no label).

        The item then gets ``status_for(item, annotator)`` — a custom status of the task — or, when
        that is absent or None, ``completed`` (labelled) / ``discard`` (no label). With
        ``only_unanswered``, items that already have a status in the task are left as they are.
        In a consensus task annotators label their copies; a copy's annotations are merged onto the
        original (tagged with the copy's task and assignment) once every copy of it has a status, as
        the platform does [reference §3.7][D create-consensus-tasks].
        """
        with self.lock:
            task = self.s.tasks[task_id]
            system = task["metadata"]["system"]
            holder = system.get("consensusAssignmentId")
            if "batchSize" in system:  # pulling: somebody pulls what waits in the hidden queue
                puller = (system.get("allowedAssignees") or ["annotator1@dataloop.ai"])[0]
                mine = self._assignment(task, puller)
                for aid in list(task["assignmentIds"]):
                    if self.s.assignments[aid]["_queue"]:
                        for item in [i for i in self.s.items.values()
                                     if any(r["id"] == aid for r in i["metadata"]["system"].get("refs", []))]:
                            item["metadata"]["system"]["refs"] = [
                                r for r in item["metadata"]["system"]["refs"] if r["id"] != aid]
                            self._put(task, item, mine)
            for aid in task["assignmentIds"]:
                a = self.s.assignments[aid]
                if a["_queue"] or (annotators is not None and a["annotator"] not in annotators):
                    continue
                for item in [i for i in self.s.items.values()
                             if any(r["id"] == aid for r in i["metadata"]["system"].get("refs", []))]:
                    if only_unanswered and self._status(item, task_id):
                        continue
                    original = self.s.items.get(item["spec"]["parentDatasetItemId"]) if isinstance(
                        item["spec"], dict) else None
                    label = label_for(original or item, a["annotator"])
                    chosen = status_for(original or item, a["annotator"]) if status_for is not None else None
                    status = chosen or ("discard" if label is None else "completed")
                    self._check_action(task, status)
                    for one in ([] if label is None else [label] if isinstance(label, str) else label):
                        self._annotate(item, one, a["annotator"], task_id, aid)
                    self._set_status(item, aid, status, a["annotator"])
                    self._set_status(item, task_id, status, a["annotator"])
            if holder:
                self._merge_consensus(task_id, holder)
            self._feed_qa(task_id)

    def _merge_consensus(self, task_id: str, holder: str) -> None:
        """Originals whose copies all have a status get the copies' annotations and ``completed``."""
        for original in [i for i in self.s.items.values()
                         if any(r["id"] == holder for r in i["metadata"]["system"].get("refs", []))]:
            if self._status(original, task_id):
                continue  # merged already
            copies = [i for i in self.s.items.values() if isinstance(i["spec"], dict)
                      and i["spec"].get("parentDatasetItemId") == original["id"]]
            if not copies or not all(self._status(c, task_id) for c in copies):
                continue
            for c in copies:
                for note in [n for n in list(self.s.annotations.values()) if n["itemId"] == c["id"]]:
                    system = note["metadata"]["system"]
                    self._annotate(original, note["label"], note["creator"], system["taskId"], system["assignmentId"])
            who = str(copies[-1]["metadata"]["system"]["refs"][-1].get("metadata", {}).get("creator") or OWNER)
            self._set_status(original, task_id, "completed", who)
            self._set_status(original, holder, "completed", who)

    def _feed_qa(self, parent_id: str) -> None:
        """Items that got a status in a task join the QA tasks linked to it, as in the platform, where an
        item completed (again) in the annotation task appears in its QA task [D create-review-qa-tasks]."""
        for qa in list(self.s.tasks.values()):
            if qa["spec"].get("parentTaskId") != parent_id:
                continue
            query = json.loads(qa["query"])
            fresh = [i for i in self.items_of(qa["datasetId"], query)
                     if not any(r["id"] == qa["id"] for r in i["metadata"]["system"]["refs"])]
            limit = qa.get("_limit")
            if limit is not None:
                fresh = fresh[: max(0, limit - len(self.task_items(qa["id"])))]
            self._assign(qa, fresh, qa.get("_workload"))

    def review(self, qa_task_id: str, verdict: Callable[[dict[str, Any]], str]) -> None:
        """QA reviewers set ``approved`` or ``discard`` on every item of the QA task."""
        with self.lock:
            task = self.s.tasks[qa_task_id]
            for aid in task["assignmentIds"]:
                a = self.s.assignments[aid]
                for item in [i for i in self.s.items.values()
                             if any(r["id"] == aid for r in i["metadata"]["system"].get("refs", []))]:
                    status = verdict(item)
                    self._check_action(task, status)
                    self._set_status(item, aid, status, a["annotator"])
                    self._set_status(item, qa_task_id, status, a["annotator"])

    def studio_task(self, name: str) -> dict[str, Any]:
        """A task someone made in the platform (no ``metadata.user``): not one of annotate's jobs."""
        with self.lock:
            body = {"name": name, "taskOwner": OWNER, "spec": {"type": "annotation"}, "datasetId": self.dataset_id,
                    "recipeId": self.recipe_id, "projectId": PROJECT_ID}
            return self.s.tasks[self._make_task(body, {"filter": {"$and": DEFAULT_ITEM_CLAUSES}})]

    def advance_pipeline(self, pid: str) -> None:
        """Items completed in a node's task move along the node's connection (move_to_task)."""
        with self.lock:
            p = self.s.pipelines[pid]
            for c in p["connections"]:
                src = next(n for n in p["nodes"] if n["id"] == c["src"]["nodeId"])
                tgt = next(n for n in p["nodes"] if n["id"] == c["tgt"]["nodeId"])
                src_task = self.node_task(pid, src)
                action = {"complete": "completed", "approve": "approved"}.get(c["action"], c["action"])
                moved = [i for i in self.task_items(src_task["id"]) if self._status(i, src_task["id"]) == action]
                tgt_task = self.node_task(pid, tgt)
                fresh = [i for i in moved if not any(r["id"] == tgt_task["id"]
                                                     for r in i["metadata"]["system"]["refs"])]
                self._assign(tgt_task, fresh, tgt["metadata"].get("workload"))

    # ---- loopback server ------------------------------------------------------------------------

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        gate = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # one reply, not one reply per delayed ACK (~40 ms)

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, headers, body = gate.handle(self.command, self.path, dict(self.headers.items()), raw)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

            def version_string(self) -> str:
                return "fake-gate"

            def date_time_string(self, timestamp: float | None = None) -> str:
                return "Thu, 15 Jan 2026 10:00:00 GMT"

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}"


def _parse_multipart(raw: bytes, boundary: str) -> list[tuple[str, bytes, str | None]]:
    out: list[tuple[str, bytes, str | None]] = []
    for part in raw.split(b"--" + boundary.encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.partition(b"\r\n\r\n")
        content = content[:-2] if content.endswith(b"\r\n") else content
        disp = re.search(rb'name="([^"]*)"(?:; filename="([^"]*)")?', head)
        if disp:
            out.append((disp.group(1).decode(), content,
                        disp.group(2).decode() if disp.group(2) is not None else None))
    return out
