"""Job spec -> Toloka pool, training pool and webhook subscriptions (request bodies only).

The neutral batch is Toloka's task suite: ``reward_per_assignment`` and
``assignment_max_duration_seconds`` are per suite, and smart mixing (``mixer_config``) builds suites
of ``batch_size`` real tasks plus golden/training ones. The spec itself is stored in the pool's
``metadata`` so ``get_spec`` can rebuild a job handle from its id alone.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from annotate_core.capabilities import Capability
from annotate_core.errors import SpecError
from annotate_core.model.commercial import Event
from annotate_core.model.quality import RejectAnswers
from annotate_core.model.workflow import Pulling
from annotate_toloka.context import POOL_ID, PROJECT_ID, Context, number
from annotate_toloka.filters import build_filter
from annotate_toloka.quality import quality_control, skill_rule_filters
from annotate_toloka.wire import to_wire_datetime

DEFAULT_DEADLINE = timedelta(days=365)  # toloka-kit recipes use now + 365 days; Toloka needs one
DEFAULT_ASSIGNMENT_SECONDS = 600
DEFAULT_AUTO_ACCEPT_DAYS = 7
SPEC_METADATA_KEY = "annotate_spec"

WEBHOOK_EVENTS = {
    Event.SUBMITTED: "ASSIGNMENT_SUBMITTED",
    Event.ACCEPTED: "ASSIGNMENT_APPROVED",
    Event.REJECTED: "ASSIGNMENT_REJECTED",
    Event.SKIPPED: "ASSIGNMENT_SKIPPED",
    Event.EXPIRED: "ASSIGNMENT_EXPIRED",
    Event.COMPLETED: "POOL_CLOSED",
}

Json = dict[str, Any]


def _reward(ctx: Context) -> float | None:
    pricing = ctx.spec.pricing
    if pricing is None:
        ctx.refuse(Capability.REWARD, "a pool without a reward", "pricing",
                   "Toloka pays per task suite: set pricing.reward_per_batch (USD), e.g. 0.01")
        return None
    if pricing.currency.upper() != "USD":
        ctx.refuse(Capability.REWARD, f"reward in {pricing.currency}", "pricing.currency", "Toloka pays in USD")
    return pricing.reward_per_batch


def _dynamic_pricing(ctx: Context) -> Json | None:
    dyn = ctx.spec.pricing.dynamic if ctx.spec.pricing else None
    if dyn is None:
        return None
    return {"type": "SKILL", "skill_id": ctx.skill(dyn.skill), "intervals": [
        {"from": number(i.from_), "to": number(i.to), "reward_per_assignment": i.reward} for i in dyn.intervals
    ]}


def _mixer(ctx: Context) -> Json:
    d = ctx.spec.distribution
    assert isinstance(d, Pulling)  # Fixed is refused by capabilities before we get here
    return {"real_tasks_count": d.batch_size, "golden_tasks_count": d.golden_per_batch,
            "training_tasks_count": d.training_per_batch}


def pool_body(ctx: Context, spec_json: str | None = None) -> Json:
    """``POST /v1/pools`` body, with ``<project_id>`` / ``<training_id>`` / skill placeholders."""
    spec = ctx.spec
    body: Json = {"project_id": PROJECT_ID, "private_name": str(ctx.options.get("pool_name") or spec.name),
                  "may_contain_adult_content": spec.adult_content}
    reward = _reward(ctx)
    if reward is not None:
        body["reward_per_assignment"] = reward
    body["assignment_max_duration_seconds"] = spec.limits.assignment_max_seconds or DEFAULT_ASSIGNMENT_SECONDS
    if ctx.task_suites:
        body["defaults"] = {"default_overlap_for_new_task_suites": spec.overlap.count}
    else:
        body["defaults"] = {"default_overlap_for_new_task_suites": 0,
                            "default_overlap_for_new_tasks": spec.overlap.count}
    deadline = spec.deadline_at(ctx.now) or ctx.now + DEFAULT_DEADLINE
    body["will_expire"] = to_wire_datetime(deadline.replace(microsecond=0))
    dyn = _dynamic_pricing(ctx)
    if dyn is not None:
        body["dynamic_pricing_config"] = dyn
    # manual acceptance for review, and for rules that reject (Toloka rejects only what awaits
    # acceptance); work nobody reviews is accepted after the period. Toloka cannot sample a review
    # fraction: the requester honours it (job.review_sample(), TolokaBackend.accept_unsampled); see plan_warnings
    if spec.review is not None or any(isinstance(r.then, RejectAnswers) for r in spec.quality.rules):
        body["auto_accept_solutions"] = False
        body["auto_accept_period_day"] = (spec.review and spec.review.auto_accept_after_days) \
            or DEFAULT_AUTO_ACCEPT_DAYS
    else:
        body["auto_accept_solutions"] = True
    if "priority" in ctx.options:
        priority = ctx.options["priority"]
        if not isinstance(priority, int) or not 0 <= priority <= 100:
            raise SpecError(f"options.toloka.priority: expected an integer 0-100, got {priority!r}")
        body["priority"] = priority
    filt = build_filter(ctx, skill_rule_filters(ctx))
    if filt is not None:
        body["filter"] = filt
    body["quality_control"] = quality_control(ctx)
    if not ctx.task_suites:
        body["mixer_config"] = _mixer(ctx)
    if spec_json is not None:
        body["metadata"] = {SPEC_METADATA_KEY: [spec_json]}
    return body


def training_body(ctx: Context) -> Json | None:
    """``POST /v1/trainings`` body, or None when the spec has no training."""
    tr = ctx.spec.training
    if tr is None:
        return None
    if not tr.items:
        raise SpecError("training.items: a Toloka training pool needs at least one training item")
    per_suite = min(tr.items_per_batch, len(tr.items))
    body: Json = {
        "project_id": PROJECT_ID,
        "private_name": tr.name or f"{ctx.spec.name} (training)",
        "may_contain_adult_content": ctx.spec.adult_content,
        "assignment_max_duration_seconds": tr.max_duration_seconds or ctx.spec.limits.assignment_max_seconds
        or DEFAULT_ASSIGNMENT_SECONDS,
        "mix_tasks_in_creation_order": False,
        "shuffle_tasks_in_task_suite": True,
        "training_tasks_in_task_suite_count": per_suite,
        # the passing score is measured over the whole training set
        "task_suites_required_to_pass": math.ceil(len(tr.items) / per_suite),
    }
    if tr.retry_after_days:
        body["retry_training_after_days"] = tr.retry_after_days
    body["inherited_instructions"] = True
    return body


def webhook_bodies(ctx: Context) -> list[Json]:
    """``PUT /v1/webhook-subscriptions`` body: one subscription per (url, event)."""
    out: list[Json] = []
    for i, hook in enumerate(ctx.spec.webhooks):
        for j, event in enumerate(hook.events):
            if event not in WEBHOOK_EVENTS:
                ctx.refuse(Capability.WEBHOOKS, f"webhook on {event.value!r} events", f"webhooks.{i}.events.{j}",
                           f"Toloka sends {sorted(e.value for e in WEBHOOK_EVENTS)}")
                continue
            out.append({"webhook_url": str(hook.url), "event_type": WEBHOOK_EVENTS[event], "pool_id": POOL_ID})
    return out
