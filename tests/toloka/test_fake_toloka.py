"""The fault harness's fake Toloka is no kinder than Toloka: what it must not forgive, it does not."""

from __future__ import annotations

import json
from typing import Any

from . import expected as e
from .fake_toloka import FakeToloka

AUTH = {"Authorization": "ApiKey fake-toloka-api-key-for-the-fault-harness"}


def call(fake: FakeToloka, method: str, target: str, body: Any = None, headers: dict[str, str] = AUTH
         ) -> tuple[int, Any]:
    status, _, raw = fake.handle(method, target, headers, b"" if body is None else json.dumps(body).encode())
    return status, json.loads(raw) if raw else None


def project_and_pool(fake: FakeToloka) -> tuple[str, dict[str, Any]]:
    status, project = call(fake, "POST", "/v1/projects", e.CATS_PROJECT)
    assert status == 201
    return project["id"], e.cats_pool(project["id"])


def test_the_same_create_twice_makes_two_objects() -> None:
    fake = FakeToloka()
    _, pool = project_and_pool(fake)
    ids = {call(fake, "POST", "/v1/pools", pool)[1]["id"] for _ in range(2)}
    assert len(ids) == 2 and fake.created["pool"] == 2


def test_wrong_token_is_refused() -> None:
    status, body = call(FakeToloka(), "GET", "/v1/projects", headers={"Authorization": "ApiKey nope"})
    assert (status, body["code"]) == (401, "AUTHENTICATION_ERROR")


def test_listings_page_by_id_with_documented_limits() -> None:
    fake = FakeToloka()
    project_id, pool = project_and_pool(fake)
    for _ in range(5):
        call(fake, "POST", "/v1/pools", pool)
    status, first = call(fake, "GET", f"/v1/pools?project_id={project_id}&sort=id&limit=2")
    assert status == 200 and len(first["items"]) == 2 and first["has_more"] is True
    last = first["items"][-1]["id"]
    _, rest = call(fake, "GET", f"/v1/pools?project_id={project_id}&sort=id&limit=1000&id_gt={last}")
    assert [p["id"] for p in rest["items"]] == sorted(p["id"] for p in rest["items"]) and len(rest["items"]) == 3
    _, unsorted = call(fake, "GET", f"/v1/pools?project_id={project_id}&limit=300")
    ids = [p["id"] for p in unsorted["items"]]
    assert ids != sorted(ids), "without sort=id Toloka promises no order"
    # a limit above Toloka's maximum (300 pools) is capped, and 20 is the default
    many = [{"id": f"{i:03d}"} for i in range(400)]
    capped = FakeToloka._page("pools", many, {"sort": "id", "limit": "1000"})[1]
    assert len(capped["items"]) == 300 and capped["has_more"] is True
    assert len(FakeToloka._page("pools", many, {"sort": "id"})[1]["items"]) == 20


def test_a_reused_operation_id_creates_nothing_and_is_a_409() -> None:
    fake = FakeToloka()
    _, pool = project_and_pool(fake)
    pool_id = call(fake, "POST", "/v1/pools", pool)[1]["id"]
    tasks = [e.cats_task(pool_id, "k1", "https://example.com/1.jpg")]
    target = ("/v1/tasks?async_mode=true&allow_defaults=true&skip_invalid_items=true"
              "&operation_id=3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b")
    status, op = call(fake, "POST", target, tasks)
    assert status == 202 and op["status"] == "PENDING"  # asynchronous: done by the next request
    status, again = call(fake, "POST", target, tasks)
    assert (status, again["code"]) == (409, "OPERATION_ALREADY_EXISTS")
    _, done = call(fake, "GET", f"/v1/operations/{op['id']}")
    assert done["status"] == "SUCCESS" and len(fake.tasks) == 1
    _, log = call(fake, "GET", f"/v1/operations/{op['id']}/log")
    assert [entry["type"] for entry in log] == ["TASK_CREATE"]


def test_tasks_are_checked_against_the_project() -> None:
    fake = FakeToloka()
    _, pool = project_and_pool(fake)
    pool_id = call(fake, "POST", "/v1/pools", pool)[1]["id"]
    bad = [{"input_values": {"imagis": "x", "_key": "k"}, "pool_id": pool_id}]
    _, op = call(fake, "POST", "/v1/tasks?async_mode=true&allow_defaults=true&skip_invalid_items=true", bad)
    _, log = call(fake, "GET", f"/v1/operations/{op['id']}/log")
    assert set(log[0]["output"]) == {"input_values.imagis", "input_values.image"} and not fake.tasks


def test_open_needs_tasks_and_is_204_when_open() -> None:
    fake = FakeToloka()
    _, pool = project_and_pool(fake)
    pool_id = call(fake, "POST", "/v1/pools", pool)[1]["id"]
    status, body = call(fake, "POST", f"/v1/pools/{pool_id}/open")
    assert (status, body["code"]) == (409, "EMPTY_POOL")
    call(fake, "POST", "/v1/tasks?async_mode=true&allow_defaults=true",
         [e.cats_task(pool_id, "k1", "https://example.com/1.jpg")])
    assert call(fake, "POST", f"/v1/pools/{pool_id}/open")[0] == 202
    assert call(fake, "GET", f"/v1/pools/{pool_id}")[1]["status"] == "OPEN"
    assert call(fake, "POST", f"/v1/pools/{pool_id}/open") == (204, None)
