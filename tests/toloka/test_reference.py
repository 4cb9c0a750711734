"""Side by side: what annotate sends for each seed flow vs what toloka-kit 1.2.3 sent (``reference``).

Each flow builds the job toloka-kit's capture describes as a neutral spec, compiles it, binds the
ids, and compares field by field. ``DIFFERENCES`` is the one place that lists every field where the
two differ and why; a test fails when a difference appears that is not listed, or a listed one
disappears, so the table cannot drift from the code.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from typing import Any

import pytest
from annotate_toloka import TolokaBackend
from annotate_toloka.compile import compile_spec
from annotate_toloka.context import POOL_ID, PROJECT_ID, TRAINING_ID, bind, skill_placeholder
from annotate_toloka.tasks import TaskBuilder

from annotate_core.items import Item
from annotate_core.specfile import spec_from_dict

from . import expected as e
from . import reference as ref

#: the capture was made on 2024-05-20; its pool expires a year later
CAPTURED = datetime(2024, 5, 20, 10, 0, tzinfo=timezone.utc)
IDS = {PROJECT_ID: ref.PROJECT_ID, POOL_ID: ref.POOL_ID, TRAINING_ID: ref.TRAINING_ID,
       skill_placeholder("cats-vs-dogs accuracy"): ref.SKILL_ID}
MISSING = "<absent>"

CATS = e.CATS.model_dump(mode="json", by_alias=True, exclude_none=True)

#: the job toloka-kit's §3.5 pool describes (the recipe plus the medium tutorial's features), as a spec
SDK_JOB: dict[str, Any] = {
    **{k: CATS[k] for k in ("name", "description", "instructions", "inputs", "outputs", "interface")},
    "workforce": {"filter": {"all": [
        {"attribute": "languages", "op": "in", "value": ["EN"]},
        {"attribute": "skill", "skill": "cats-vs-dogs accuracy", "op": "gte", "value": 80},
        {"attribute": "region_by_ip", "op": "in", "value": ["US", "GB"]},
        {"any": [{"attribute": "client_type", "op": "eq", "value": "browser"},
                 {"attribute": "client_type", "op": "eq", "value": "app"}]}]}},
    "distribution": {"kind": "pulling", "batch_size": 9, "golden_per_batch": 1},
    "overlap": {"count": 3},
    "training": {"name": "Cats vs dogs training", "passing_score": 80, "max_duration_seconds": 1200,
                 "retry_after_days": 1, "items_per_batch": 5,
                 "items": [{"key": f"train-{i}", "inputs": {"image": ref.IMAGE.format(f"train/{i}")},
                            "golden": {"result": "cat"}, "hint": "Pointy ears and whiskers: a cat."}
                           for i in range(5)]},
    "quality": {"captcha_frequency": "medium", "rules": [
        {"name": "captcha", "when": [{"metric": "captcha_fail_rate", "window": 5, "above": 20}],
         "then": {"action": "ban", "duration": 1, "unit": "days", "scope": "project", "reason": "Captcha"}},
        {"name": "golden", "when": [{"metric": "golden_accuracy", "window": 10, "below": 60, "min_answers": 3}],
         "then": {"action": "ban", "duration": 3, "unit": "days", "scope": "project", "reason": "Golden set"}},
        {"name": "fast", "when": [{"metric": "fast_submits", "window": 5, "faster_than_seconds": 20, "at_least": 2}],
         "then": {"action": "ban", "duration": 1, "unit": "days", "scope": "job", "reason": "Fast responses"}}]},
    "review": {"fraction": 1, "on_reject": "discard", "auto_accept_after_days": 7},
    "pricing": {"reward_per_batch": 0.005, "dynamic": {"skill": "cats-vs-dogs accuracy",
                                                       "intervals": [{"from": 80, "to": 100, "reward": 0.01}]}},
    "limits": {"max_batches_per_worker": 50, "assignment_max_seconds": 300},
    "deadline": "2025-05-20T10:00:00Z",
    "options": {"toloka": {"pool_name": "Pool 1", "priority": 0}},
}

#: every field where annotate's body differs from toloka-kit's, per flow, and why (the one place)
DIFFERENCES: dict[str, dict[str, str]] = {
    "project": {
        "task_spec.input_spec._key": "annotate's item key travels in a hidden optional input, so uploads are "
                                     "idempotent by key and answers map back to items",
    },
    "pool": {
        "assignments_issuing_config": "toloka-kit sends its default (issue_task_suites_in_creation_order: false); "
                                      "the server's default is the same, so annotate omits it",
        "dynamic_pricing_config.intervals.0.to": "a neutral price interval has an upper bound; 100 is the top of "
                                                 "every skill, so the meaning is toloka-kit's open interval",
        "quality_control.configs.ASSIGNMENT_SUBMIT_TIME.rules.0.conditions.0.operator": "annotate says 'at least "
            "N fast submits' (GTE N); toloka-kit's 'more than N-1' (GT 1) is the same count",
        "quality_control.configs.ASSIGNMENT_SUBMIT_TIME.rules.0.conditions.0.value": "GTE 2 is GT 1 (see above)",
        "metadata": "the spec itself, stored in pool metadata so get_spec rebuilds a job from its id "
                    "(store_spec = false leaves it out)",
    },
    "tasks": {
        "0.__item_idx": "toloka-kit's private tag to map log entries back to inputs; annotate maps them by the "
                        "_key input",
        "1.__item_idx": "toloka-kit's private tag (see 0.__item_idx)",
        "0.input_values._key": "the item key (see project)",
        "1.input_values._key": "the item key (see project)",
        "0.overlap": "annotate uploads with allow_defaults=true: overlap comes from the pool's defaults "
                     "(default_overlap_for_new_tasks), sent per task only for partial overlap",
        "0.infinite_overlap": "false is the server's default for a task with an overlap",
        "1.overlap": "toloka-kit sends overlap: null next to infinite_overlap: true; annotate omits it",
        "query.allow_defaults": "annotate takes the overlap from the pool's defaults (allow_defaults=true)",
        "query.open_pool": "uploading must not start work: job.start() opens the pool (after its golden check)",
        "query.operation_id": "toloka-kit sends a random uuid4; annotate a uuid5 of the pool and the chunk's "
                              "item keys, so a rerun of the same chunk is recognised instead of duplicated",
    },
    "suite": {
        "overlap": "the suite's overlap comes from the pool's defaults (default_overlap_for_new_task_suites)",
        "infinite_overlap": "false is the server's default",
        "tasks.0.input_values._key": "the item key (see project)",
        "tasks.1.input_values._key": "the item key (see project)",
        "tasks.1.known_solutions.0.correctness_weight": "annotate states the weight toloka-kit leaves to the "
                                                        "server's default (1)",
    },
    "analytics": {
        "1": "annotate reads size, submissions and money spent with completion in the same call (four "
             "requests, one operation): progress and comparison cost",
        "2": "the submissions count, read in the same call (see 1)",
        "3": "the money spent (spent_budget), read in the same call (see 1)",
    },
    "webhooks": {
        "0.secret_key": "the neutral webhook has no secret: Toloka's events arrive unsigned",
    },
    "skill": {
        "public_requester_description": "a skill annotate creates for a filter has no description in the spec "
                                        "(create_skill(description=...) sends one)",
    },
}


def normal(body: Any) -> Any:
    """Order-free and decoded: the Template Builder config as JSON, filter groups and quality
    configs in a stable order (their order means nothing to Toloka)."""
    body = copy.deepcopy(body)
    if isinstance(body, dict):
        view = (body.get("task_spec") or {}).get("view_spec")
        if view and isinstance(view.get("config"), str):
            view["config"] = json.loads(view["config"])
        filt = body.get("filter")
        if isinstance(filt, dict) and "and" in filt:
            filt["and"] = sorted(filt["and"], key=lambda g: json.dumps(g, sort_keys=True))
        qc = body.get("quality_control")
        if isinstance(qc, dict) and "configs" in qc:
            qc["configs"] = {c["collector_config"]["type"]: c for c in qc["configs"]}
    return body


def flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flat(v, f"{prefix}{k}."))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(flat(v, f"{prefix}{i}."))
        return out
    return {prefix[:-1]: value}


def differences(ours: Any, sdk: Any) -> dict[str, tuple[Any, Any]]:
    """Paths where the bodies differ, with (ours, toloka-kit's). A subtree only one side has is one
    difference, named by its root (``metadata``, ``task_spec.input_spec._key``)."""
    a, b = flat(normal(ours)), flat(normal(sdk))

    def has(side: dict[str, Any], prefix: str) -> bool:
        return any(k == prefix or k.startswith(prefix + ".") for k in side)

    found: dict[str, tuple[Any, Any]] = {}
    for path in sorted(a.keys() | b.keys()):
        if a.get(path, MISSING) == b.get(path, MISSING):
            continue
        parts = path.split(".")
        root = next((".".join(parts[:n]) for n in range(1, len(parts) + 1)
                     if not (has(a, ".".join(parts[:n])) and has(b, ".".join(parts[:n])))), path)
        if root != path:
            found[root] = ("<subtree>" if has(a, root) else MISSING, "<subtree>" if has(b, root) else MISSING)
        else:
            found[path] = (a.get(path, MISSING), b.get(path, MISSING))
    return found


def check(flow: str, ours: Any, sdk: Any) -> None:
    found = differences(ours, sdk)
    listed = DIFFERENCES.get(flow, {})
    unlisted = {p: v for p, v in found.items() if p not in listed}
    gone = sorted(set(listed) - set(found))
    assert not unlisted and not gone, (
        f"{flow}: differences from toloka-kit not in DIFFERENCES (ours, toloka-kit's): {unlisted}; "
        f"listed but no longer there: {gone}")


def sdk_job():
    return compile_spec(spec_from_dict(SDK_JOB), CAPTURED)


def test_every_listed_difference_says_why() -> None:
    assert all(len(reason) > 20 for rows in DIFFERENCES.values() for reason in rows.values())


def test_seed_001_project_side_by_side() -> None:
    check("project", compile_spec(e.CATS, CAPTURED).project, ref.PROJECT)


def test_seed_pool_side_by_side() -> None:
    c = sdk_job()
    check("pool", bind(c.pool, IDS), ref.POOL)


def test_seed_002_training_side_by_side() -> None:
    check("training", bind(sdk_job().training, IDS), ref.TRAINING)


def test_seed_001_tasks_side_by_side() -> None:
    real = Item(key="dog-0", inputs={"image": ref.IMAGE.format("dogs/f2cf0283882e4c738e0fb7bd429b967b")})
    gold = Item(key="cat-1", inputs={"image": ref.IMAGE.format("cats/052a05203748432a882ed886a74a3ef7")},
                golden={"result": "cat"}, hint="It is a cat: pointy ears, whiskers.")
    builder = TaskBuilder(ref.POOL_ID, e.CATS.overlap)
    ours = {str(i): t for i, t in enumerate([builder.task(real), builder.task(gold)])}
    from annotate_toloka.backend import UPLOAD_QUERY

    ours_query = dict(p.split("=") for p in UPLOAD_QUERY.split("&")) | {"operation_id": "<uuid5>"}
    sdk = {str(i): t for i, t in enumerate(ref.TASKS)}
    check("tasks", {**ours, "query": ours_query}, {**sdk, "query": {**ref.TASKS_QUERY, "operation_id": "<uuid4>"}})


def test_seed_001_task_suite_side_by_side() -> None:
    items = [Item(key="cat-0", inputs=ref.SUITE["tasks"][0]["input_values"]),
             Item(key="dog-1", inputs=ref.SUITE["tasks"][1]["input_values"], golden={"result": "dog"})]
    check("suite", TaskBuilder(ref.POOL_ID, e.CATS.overlap).suite(items), ref.SUITE)


def test_progress_analytics_side_by_side() -> None:
    from annotate_toloka.backend import ANALYTICS

    ours = {str(i): {"subject": "POOL", "subject_id": ref.POOL_ID, "name": n} for i, n in enumerate(ANALYTICS)}
    check("analytics", ours, {str(i): r for i, r in enumerate(ref.ANALYTICS)})


def test_webhooks_side_by_side() -> None:
    spec = spec_from_dict({**SDK_JOB, "webhooks": [{"url": "https://example.org/toloka-hook",
                                                    "events": ["submitted", "completed"]}]})
    ours = bind(compile_spec(spec, CAPTURED).webhooks, IDS)
    check("webhooks", {str(i): w for i, w in enumerate(ours)}, {str(i): w for i, w in enumerate(ref.WEBHOOKS)})


def test_skill_user_skill_and_review_side_by_side() -> None:
    import responses

    backend = TolokaBackend(token="t", sleep=lambda s: None)
    with responses.RequestsMock() as mock:
        mock.get("https://toloka.dev/api/v1/skills", json={"items": [], "has_more": False})
        mock.post("https://toloka.dev/api/v1/skills", status=201, json={**ref.SKILL, "id": ref.SKILL_ID})
        mock.put("https://toloka.dev/api/v1/user-skills", json={**ref.USER_SKILL, "id": "43"})
        for body in (ref.ACCEPT, ref.REJECT):
            mock.patch("https://toloka.dev/api/v1/assignments/a1", json={**body, "bonus_ids": []})
        assert backend.resolve_skill("cats-vs-dogs accuracy") == ref.SKILL_ID
        backend.set_user_skill(ref.SKILL_ID, ref.USER, 85.5)
        backend.review("p", "a1", accept=True, comment="Well done!")
        backend.review("p", "a1", accept=False, comment="Wrong label on a control image.")
        sent = [json.loads(c.request.body) for c in mock.calls if c.request.body]
    check("skill", sent[0], ref.SKILL)
    check("user_skill", sent[1], ref.USER_SKILL)
    check("review", sent[2], ref.ACCEPT)
    check("review", sent[3], ref.REJECT)


@pytest.mark.parametrize("flow", sorted(DIFFERENCES))
def test_every_flow_in_the_table_is_compared(flow: str) -> None:
    compared = {"project", "pool", "training", "tasks", "suite", "analytics", "webhooks", "skill"}
    assert flow in compared
