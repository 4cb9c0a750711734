"""The Dataloop gate over the core's ``HttpClient``: auth, commands, pagination and lookups.

One object per backend instance. Every request first makes sure the token is fresh (refreshing or
refusing before anything is sent); every create that starts a server command is polled to its end;
every listing follows pagination to the last page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from itertools import chain
from typing import Any
from urllib.parse import quote

from pydantic import SecretStr

from annotate_core.errors import MalformedResponseError, NotFoundError, OperationFailedError, VendorError
from annotate_core.http import HttpClient
from annotate_dataloop import dql
from annotate_dataloop.auth import TokenSource
from annotate_dataloop.wire import (
    BACKEND,
    LIST_PAGE_SIZE,
    expect_object,
    is_object_id,
    is_uuid,
    need,
    parse_error,
    token_url,
)

log = logging.getLogger(__name__)

#: command states that mean "still working" and "finished" [K entities/command.py:CommandsStatus]
RUNNING = frozenset({"created", "making-children", "waiting-children", "in-progress", "finalizing",
                     "cleaning-up", "on-error"})
SUCCESS = "success"
FAILED = frozenset({"failed", "timeout", "canceled", "aborted"})


class Gate:
    """Typed access to the endpoints the backend uses (paths relative to ``/api/v1``)."""

    def __init__(
        self,
        *,
        base_url: str,
        token: SecretStr | None,
        refresh_token: SecretStr | None = None,
        poll_interval: float = 1.0,
        max_poll_interval: float = 30.0,
        command_timeout: float = 3600.0,
        retries: int = 5,
        backoff_factor: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        timeout: float | tuple[float, float] = (10.0, 120.0),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.command_timeout = command_timeout
        self.sleep = sleep
        self.monotonic = monotonic
        common: dict[str, Any] = {
            "backend": BACKEND, "retries": retries, "backoff_factor": backoff_factor, "sleep": sleep,
            "parse_error": parse_error, "timeout": timeout,
        }
        # the token endpoint takes no bearer token: a client of its own, under the same retry policy
        self._token_url = token_url(self.base_url)
        self._token_http = HttpClient(self._token_url, **common)
        self.tokens = TokenSource(token, refresh_token=refresh_token, refresh=self._refresh, clock=clock)
        self.http = HttpClient(self.base_url, credential=self.tokens.header, auth_header="authorization", **common)

    def close(self) -> None:
        self.http.close()
        self._token_http.close()

    # ---- raw calls ------------------------------------------------------------------------------

    def _refresh(self, refresh_token: str) -> str:
        """``POST /token?default`` with the refresh token; the new JWT is ``id_token`` [W §1.2]."""
        body = self._token_http.post(
            self._token_url, json={"type": "refresh_token", "refresh_token": refresh_token}, idempotent=True
        )
        return need(expect_object(body, "POST /token"), "id_token", str, "POST /token")

    def call(self, method: str, path: str, **kw: Any) -> Any:
        """Any call, after the token check; returns the decoded JSON body (None when empty)."""
        self.tokens.ensure_fresh()
        return self.http.json(method, path, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.call("POST", path, **kw)

    def object(self, method: str, path: str, where: str | None = None, **kw: Any) -> dict[str, Any]:
        return expect_object(self.call(method, path, **kw), where or f"{method} {path}")

    # ---- commands -------------------------------------------------------------------------------

    def wait_command(self, command: Mapping[str, Any], where: str) -> dict[str, Any]:
        """Poll ``GET /commands/{id}`` until the command ends; its failure is an OperationFailedError.

        First poll at once, then ``poll_interval * 2**n`` seconds capped at ``max_poll_interval``,
        like dtlpy [K repositories/commands.py:72-140]; unlike dtlpy, give up after
        ``command_timeout`` seconds.
        """
        command_id = need(command, "id", str, where)
        started = self.monotonic()
        n = 0
        current: dict[str, Any] = dict(command)
        while True:
            current = self.object("GET", f"/commands/{command_id}")
            status = need(current, "status", str, f"GET /commands/{command_id}")
            if status == SUCCESS:
                log.debug("command %s (%s) succeeded", command_id, current.get("type"))
                return current
            if status in FAILED:
                error = current.get("error") or "no error message"
                raise OperationFailedError(
                    f"{where}: Dataloop command {command_id} ({current.get('type', '?')}) {status}: {error}",
                    backend=BACKEND, payload=current,
                )
            if status not in RUNNING:
                log.warning("command %s has unknown status %r; still waiting", command_id, status)
            if self.monotonic() - started > self.command_timeout:
                raise OperationFailedError(
                    f"{where}: Dataloop command {command_id} still {status!r} after {self.command_timeout:.0f}s; "
                    f"abort it with POST /commands/{command_id}/abort or wait and retry",
                    backend=BACKEND, payload=current,
                )
            n += 1
            self.sleep(min(self.poll_interval * 2**n, self.max_poll_interval))

    # ---- pagination -----------------------------------------------------------------------------

    def iter_dql(self, dataset_id: str, query: Mapping[str, Any], shape: Any = None) -> Iterator[dict[str, Any]]:
        """Every entity a DQL query over a dataset matches, page after page to the last (keyset)."""
        return chain.from_iterable(self.iter_dql_pages(dataset_id, query, shape))

    def iter_dql_pages(self, dataset_id: str, query: Mapping[str, Any], shape: Any = None
                       ) -> Iterator[list[dict[str, Any]]]:
        """``iter_dql`` a response at a time: each page's entities as the gate sent them (checked).
        ``shape``: the keys the caller reads of each page (``HttpClient.json``); it must name
        ``items``, ``hasNextPage`` and each entity's ``id``, which the pagination reads."""
        path = f"/datasets/{dataset_id}/query"
        current = dict(query)
        while True:
            # a query only reads: repeating it after a 5xx cannot duplicate anything
            page = self.object("POST", path, json=current, headers={"user_query": "true"}, idempotent=True,
                               shape=shape)
            entities = need(page, "items", list, f"POST {path}")
            for e in entities:
                if not isinstance(e, dict) or not isinstance(e.get("id"), str):
                    raise MalformedResponseError(f"POST {path}: an entry of 'items' has no string 'id'",
                                                 backend=BACKEND)
            if entities:
                yield entities
            if not entities or not page.get("hasNextPage"):
                return
            current = dql.after_id(current, entities[-1]["id"])

    def iter_pages(self, method: str, path: str, query: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Offset paging of a DQL body (``page`` += 1 while ``hasNextPage``), for tasks/datasets queries."""
        current = dict(query)
        while True:
            page = self.object(method, path, json=current, idempotent=True)
            entities = need(page, "items", list, f"{method} {path}")
            yield from entities
            if not entities or not page.get("hasNextPage"):
                return
            current = {**current, "page": current.get("page", 0) + 1}

    def iter_list(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """A REST list paged with ``pageOffset``/``pageSize`` query parameters, to its last page.

        dtlpy's ``assignments.list()`` reads only the first page (reference §5); this reads them all.
        """
        offset = 0
        while True:
            page = self.object("GET", path, params={**params, "pageOffset": offset, "pageSize": LIST_PAGE_SIZE})
            entities = need(page, "items", list, f"GET {path}")
            yield from entities
            if not entities or not page.get("hasNextPage"):
                return
            offset += 1

    # ---- lookups ----------------------------------------------------------------------------------

    def project(self, name_or_id: str) -> dict[str, Any]:
        """A project by id (UUID) or by name; a name matching none or several is an error."""
        if is_uuid(name_or_id):
            return self.object("GET", f"/projects/{name_or_id}")
        where = f"GET /projects/{name_or_id}/name"
        try:
            found = self.get(f"/projects/{quote(name_or_id, safe='')}/name")
        except VendorError as exc:
            # the gate answers an unknown name with a non-404 error (dtlpy maps them all to 404) [K projects.py]
            if exc.status in (400, 403, 404, 500):
                raise NotFoundError(f"Dataloop project {name_or_id!r} not found (or not visible to this token)",
                                    backend=BACKEND, status=exc.status) from None
            raise
        if isinstance(found, dict):
            found = [found]
        if not isinstance(found, list):
            raise MalformedResponseError(f"{where}: expected an array of projects", backend=BACKEND)
        if not found:
            raise NotFoundError(f"Dataloop project {name_or_id!r} not found (or not visible to this token)",
                                backend=BACKEND)
        if len(found) > 1:
            raise VendorError(f"{len(found)} Dataloop projects are named {name_or_id!r}; give the project id",
                              backend=BACKEND)
        return expect_object(found[0], where)

    def dataset(self, project_id: str | None, name_or_id: str) -> dict[str, Any]:
        """A dataset by id, or by name inside a project (``POST /datasets/query``) [W §3.2]."""
        if is_object_id(name_or_id):
            return self.object("GET", f"/datasets/{name_or_id}")
        if project_id is None:
            raise NotFoundError(f"dataset {name_or_id!r} is a name: give source.project (or the profile's "
                                "project option) to look it up", backend=BACKEND)
        matches = list(self.iter_pages("POST", "/datasets/query", dql.dataset_by_name(name_or_id, project_id)))
        matches = [d for d in matches if isinstance(d, dict) and d.get("name") == name_or_id]
        if not matches:
            raise NotFoundError(f"Dataloop dataset {name_or_id!r} not found in project {project_id}", backend=BACKEND)
        if len(matches) > 1:
            raise VendorError(f"{len(matches)} datasets are named {name_or_id!r}; give the dataset id",
                              backend=BACKEND)
        return matches[0]

    def labels_of_recipe(self, recipe_id: str) -> tuple[dict[str, Any], set[str]]:
        """A recipe and the flat labels of its (first) ontology: ``GET /recipes`` + ``GET /ontologies`` [W §3.4]."""
        from annotate_dataloop.payloads import flat_labels

        recipe = self.object("GET", f"/recipes/{recipe_id}")
        ontology_id = None
        ids = recipe.get("ontologyIds")
        if isinstance(ids, list) and ids:
            ontology_id = ids[0]
        elif isinstance(recipe.get("ontology"), dict):  # V2 recipes [O APIRecipeV2]
            ontology_id = recipe["ontology"].get("ontologyId")
        if not isinstance(ontology_id, str):
            raise MalformedResponseError(f"GET /recipes/{recipe_id}: response has no 'ontologyIds'",
                                         backend=BACKEND)
        ontology = self.object("GET", f"/ontologies/{ontology_id}")
        return recipe, flat_labels(ontology.get("roots"))

    def me(self) -> dict[str, Any]:
        return self.object("GET", "/users/me")
