"""Capabilities as data: what each backend can do, and what each spec needs.

A backend declares a frozen set of ``Capability`` values. ``required_capabilities(spec)`` walks a
spec and says which capabilities it needs and why (with the field path). ``check`` compares the two
and returns every gap at once, so a user sees the whole list before anything is sent to a vendor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from annotate_core.model.fields import FieldType
from annotate_core.model.quality import (
    AnswerCount,
    Ban,
    CaptchaFailRate,
    FastSubmits,
    GoldenAccuracy,
    RejectAnswers,
    SetSkill,
    SkillValue,
    SkippedInRow,
    SkipRate,
)
from annotate_core.model.source import DatasetSource, ItemsSource
from annotate_core.model.workflow import Fixed, OnReject, Pulling, StageKind
from annotate_core.model.workforce import Attribute, iter_conditions

if TYPE_CHECKING:
    from annotate_core.model.spec import JobSpec


class Capability(str, Enum):
    """One thing a backend can do. Values are stable strings used in CLI output and docs."""

    # where items come from
    UPLOAD_ITEMS = "source.upload_items"
    VENDOR_DATASET = "source.vendor_dataset"
    # field types a backend can carry
    OUTPUT_LABEL = "output.label"
    OUTPUT_LABELS = "output.labels"
    OUTPUT_FREE_TEXT = "output.free_text"
    OUTPUT_NUMBER = "output.number"
    OUTPUT_JSON = "output.json"
    MULTIPLE_OUTPUTS = "output.multiple"
    # interface
    INTERFACE = "interface.components"
    # who works
    ASSIGNEES = "workforce.assignees"
    CROWD_FILTERS = "workforce.filters"
    SKILL_FILTERS = "workforce.skill_filters"
    # how work is handed out
    FIXED_WORKLOAD = "distribution.fixed"
    PULLING = "distribution.pulling"
    PULLING_MAX_WORKLOAD = "distribution.pulling.max_batch_workload"
    OVERLAP = "overlap"
    PARTIAL_OVERLAP = "overlap.partial"
    GOLDEN = "golden"
    GOLDEN_MIXING = "golden.per_batch"
    TRAINING = "training"
    # quality control
    RULE_GOLDEN_ACCURACY = "quality.golden_accuracy"
    RULE_FAST_SUBMITS = "quality.fast_submits"
    RULE_CAPTCHA = "quality.captcha"
    RULE_SKIPPED_IN_ROW = "quality.skipped_in_row"
    RULE_SKIP_RATE = "quality.skip_rate"
    RULE_ANSWER_COUNT = "quality.answer_count"
    RULE_SKILL = "quality.skill"
    ACTION_BAN = "quality.action.ban"
    ACTION_REJECT = "quality.action.reject"
    ACTION_SET_SKILL = "quality.action.set_skill"
    # review
    REVIEW = "review"
    REVIEW_REQUEUE = "review.requeue"
    MANUAL_REVIEW = "review.manual"
    # money and time
    REWARD = "pricing.reward"
    DYNAMIC_PRICING = "pricing.dynamic"
    LIMIT_PER_WORKER = "limits.per_worker"
    ASSIGNMENT_TIMEOUT = "limits.assignment_timeout"
    DEADLINE = "deadline"
    ADULT_CONTENT_FLAG = "adult_content"
    # lifecycle and events
    PAUSE = "lifecycle.pause"
    JOB_KEYS = "lifecycle.job_keys"  # create_job(spec, key=...) creates or attaches
    EVENTS = "events"
    WEBHOOKS = "webhooks"
    PIPELINE = "pipeline"
    PIPELINE_AGGREGATE = "pipeline.aggregate"
    SKILLS = "skills"
    # local rehearsal
    SIMULATION = "simulation"
    PULL_API = "pull_api"  # job.pull / job.submit for in-house annotators


CAPABILITY_DESCRIPTIONS: dict[Capability, str] = {
    Capability.UPLOAD_ITEMS: "upload neutral items",
    Capability.VENDOR_DATASET: "use items already stored in a vendor dataset (filter / ids)",
    Capability.OUTPUT_LABEL: "single-choice label outputs",
    Capability.OUTPUT_LABELS: "multi-choice label outputs",
    Capability.OUTPUT_FREE_TEXT: "free-text outputs",
    Capability.OUTPUT_NUMBER: "number outputs",
    Capability.OUTPUT_JSON: "JSON outputs",
    Capability.MULTIPLE_OUTPUTS: "more than one output field",
    Capability.INTERFACE: "render the neutral interface components",
    Capability.ASSIGNEES: "named assignees",
    Capability.CROWD_FILTERS: "crowd filters (languages, regions, client type, ...)",
    Capability.SKILL_FILTERS: "filters on worker skills",
    Capability.FIXED_WORKLOAD: "fixed workload split among assignees by weight",
    Capability.PULLING: "workers pull batches",
    Capability.PULLING_MAX_WORKLOAD: "cap on items open per worker (max_batch_workload)",
    Capability.OVERLAP: "several answers per item",
    Capability.PARTIAL_OVERLAP: "overlap on a fraction of the items",
    Capability.GOLDEN: "golden items with known answers",
    Capability.GOLDEN_MIXING: "golden items mixed into every batch at a fixed count",
    Capability.TRAINING: "training / qualification with a passing score",
    Capability.RULE_GOLDEN_ACCURACY: "rule on golden-item accuracy",
    Capability.RULE_FAST_SUBMITS: "rule on fast submits",
    Capability.RULE_CAPTCHA: "captchas and a rule on their fail rate",
    Capability.RULE_SKIPPED_IN_ROW: "rule on batches skipped in a row",
    Capability.RULE_SKIP_RATE: "rule on skip rate",
    Capability.RULE_ANSWER_COUNT: "rule on answers per worker",
    Capability.RULE_SKILL: "rule on a skill value",
    Capability.ACTION_BAN: "ban workers for a duration and scope",
    Capability.ACTION_REJECT: "reject answers by rule",
    Capability.ACTION_SET_SKILL: "set a worker's skill by rule",
    Capability.REVIEW: "QA review of a share of the work",
    Capability.REVIEW_REQUEUE: "rejected work goes back to the queue",
    Capability.MANUAL_REVIEW: "accept / reject answers through the API",
    Capability.REWARD: "reward per batch",
    Capability.DYNAMIC_PRICING: "reward depending on skill",
    Capability.LIMIT_PER_WORKER: "per-worker limits",
    Capability.ASSIGNMENT_TIMEOUT: "time limit per assignment",
    Capability.DEADLINE: "job deadline / due date",
    Capability.ADULT_CONTENT_FLAG: "adult-content flag",
    Capability.PAUSE: "pause and resume",
    Capability.JOB_KEYS: "job keys: create_job(spec, key=...) attaches to the job a key already names",
    Capability.EVENTS: "job events as an iterator or callbacks",
    Capability.WEBHOOKS: "webhooks for job events",
    Capability.PIPELINE: "multi-stage pipelines",
    Capability.PIPELINE_AGGREGATE: "aggregation as a pipeline stage",
    Capability.SKILLS: "worker skills",
    Capability.SIMULATION: "simulated workforce",
    Capability.PULL_API: "pull/submit API for in-house annotators",
}


# Generic advice when a backend lacks a capability; backends can override per capability.
DEFAULT_HINTS: dict[Capability, str] = {
    Capability.FIXED_WORKLOAD: "use distribution kind 'pulling' instead",
    Capability.PULLING: "use distribution kind 'fixed' with named assignees",
    Capability.PULLING_MAX_WORKLOAD: "remove distribution.max_batch_workload",
    Capability.CROWD_FILTERS: "list the people in workforce.assignees instead of filtering a crowd",
    Capability.SKILL_FILTERS: "remove skill conditions from workforce.filter",
    Capability.ASSIGNEES: "remove workforce.assignees and select workers with workforce.filter",
    Capability.PARTIAL_OVERLAP: "set overlap.fraction to 1",
    Capability.GOLDEN_MIXING: "set distribution.golden_per_batch to 0 (golden items still count)",
    Capability.REWARD: "remove pricing: this backend does not pay workers per batch",
    Capability.DYNAMIC_PRICING: "remove pricing.dynamic",
    Capability.WEBHOOKS: "remove webhooks and poll job.progress() instead",
    Capability.REVIEW_REQUEUE: "set review.on_reject to 'discard'",
    Capability.VENDOR_DATASET: "use source kind 'items' and upload the items",
    Capability.UPLOAD_ITEMS: "point source at a vendor dataset",
    Capability.PIPELINE_AGGREGATE: "drop the aggregate stage and call job.results(method=...)",
    Capability.SIMULATION: "use the 'local' backend to rehearse with a simulated workforce",
    Capability.PULL_API: "use the 'local' backend for in-house pull/submit annotation",
}


@dataclass(frozen=True)
class Requirement:
    """A capability a spec needs, the feature in words, and where in the spec it comes from."""

    capability: Capability
    feature: str
    path: str


@dataclass(frozen=True)
class Unsupported:
    """A requirement a backend cannot meet, and what to do instead."""

    backend: str
    capability: Capability
    feature: str
    path: str
    hint: str

    def describe(self) -> str:
        return f"{self.feature} ({self.path}; capability {self.capability.value}): {self.hint}"


_RULE_CAPS = {
    GoldenAccuracy: Capability.RULE_GOLDEN_ACCURACY,
    FastSubmits: Capability.RULE_FAST_SUBMITS,
    CaptchaFailRate: Capability.RULE_CAPTCHA,
    SkippedInRow: Capability.RULE_SKIPPED_IN_ROW,
    SkipRate: Capability.RULE_SKIP_RATE,
    AnswerCount: Capability.RULE_ANSWER_COUNT,
    SkillValue: Capability.RULE_SKILL,
}
_ACTION_CAPS = {
    Ban: Capability.ACTION_BAN,
    RejectAnswers: Capability.ACTION_REJECT,
    SetSkill: Capability.ACTION_SET_SKILL,
}
_OUTPUT_CAPS = {
    FieldType.LABEL: Capability.OUTPUT_LABEL,
    FieldType.LABELS: Capability.OUTPUT_LABELS,
    FieldType.FREE_TEXT: Capability.OUTPUT_FREE_TEXT,
    FieldType.TEXT: Capability.OUTPUT_FREE_TEXT,
    FieldType.NUMBER: Capability.OUTPUT_NUMBER,
    FieldType.JSON: Capability.OUTPUT_JSON,
    FieldType.BOOL: Capability.OUTPUT_LABEL,
    FieldType.URL: Capability.OUTPUT_FREE_TEXT,
    FieldType.IMAGE: Capability.OUTPUT_FREE_TEXT,
}


def required_capabilities(spec: JobSpec) -> list[Requirement]:
    """Every capability ``spec`` needs, each with the feature and the spec path that needs it."""
    req: list[Requirement] = []

    def need(cap: Capability, feature: str, path: str) -> None:
        req.append(Requirement(cap, feature, path))

    if isinstance(spec.source, ItemsSource):
        need(Capability.UPLOAD_ITEMS, "uploaded items", "source")
    elif isinstance(spec.source, DatasetSource):
        need(Capability.VENDOR_DATASET, "items from a vendor dataset", "source")
    for i, f in enumerate(spec.outputs):
        need(_OUTPUT_CAPS[f.type], f"{f.type.value} output {f.name!r}", f"outputs.{i}")
    if len(spec.outputs) > 1:
        need(Capability.MULTIPLE_OUTPUTS, f"{len(spec.outputs)} output fields", "outputs")
    if spec.interface is not None:
        need(Capability.INTERFACE, "a custom interface", "interface")
    wf = spec.workforce
    if wf.assignees:
        need(Capability.ASSIGNEES, "named assignees", "workforce.assignees")
    for cond in iter_conditions(wf.filter):
        if cond.attribute is Attribute.SKILL:
            need(Capability.SKILL_FILTERS, f"skill filter on {cond.skill!r}", "workforce.filter")
        else:
            need(Capability.CROWD_FILTERS, f"crowd filter on {cond.attribute.value}", "workforce.filter")
    d = spec.distribution
    if isinstance(d, Fixed):
        need(Capability.FIXED_WORKLOAD, "fixed workload split by weight", "distribution")
    elif isinstance(d, Pulling):
        need(Capability.PULLING, f"pulling in batches of {d.batch_size}", "distribution")
        if d.max_batch_workload is not None:
            need(Capability.PULLING_MAX_WORKLOAD, "max_batch_workload", "distribution.max_batch_workload")
        if d.golden_per_batch:
            need(Capability.GOLDEN_MIXING, f"{d.golden_per_batch} golden item(s) per batch",
                 "distribution.golden_per_batch")
    if spec.overlap.count > 1:
        need(Capability.OVERLAP, f"overlap {spec.overlap.count}", "overlap.count")
        if spec.overlap.fraction < 1:
            need(Capability.PARTIAL_OVERLAP, f"overlap on {spec.overlap.fraction:.0%} of the items",
                 "overlap.fraction")
    if spec.training is not None:
        need(Capability.TRAINING, "training with a passing score", "training")
    for i, rule in enumerate(spec.quality.rules):
        for j, cond in enumerate(rule.when):
            need(_RULE_CAPS[type(cond)], f"quality rule on {cond.metric}", f"quality.rules.{i}.when.{j}")
        need(_ACTION_CAPS[type(rule.then)], f"quality action {rule.then.action}", f"quality.rules.{i}.then")
    if spec.quality.captcha_frequency:
        need(Capability.RULE_CAPTCHA, "captchas", "quality.captcha_frequency")
    if spec.review is not None:
        need(Capability.REVIEW, f"review of {spec.review.fraction:.0%} of the work", "review")
        if spec.review.on_reject is OnReject.REQUEUE:
            need(Capability.REVIEW_REQUEUE, "rejected work requeued", "review.on_reject")
    if spec.pricing is not None:
        need(Capability.REWARD, "reward per batch", "pricing.reward_per_batch")
        if spec.pricing.dynamic is not None:
            need(Capability.DYNAMIC_PRICING, "dynamic pricing by skill", "pricing.dynamic")
    lim = spec.limits
    if lim.max_items_per_worker or lim.max_batches_per_worker:
        need(Capability.LIMIT_PER_WORKER, "per-worker limit", "limits")
    if lim.assignment_max_seconds:
        need(Capability.ASSIGNMENT_TIMEOUT, "assignment time limit", "limits.assignment_max_seconds")
    if spec.deadline is not None:
        need(Capability.DEADLINE, "deadline", "deadline")
    if spec.adult_content:
        need(Capability.ADULT_CONTENT_FLAG, "adult-content flag", "adult_content")
    if spec.webhooks:
        need(Capability.WEBHOOKS, "webhooks", "webhooks")
    if spec.pipeline is not None:
        need(Capability.PIPELINE, f"pipeline of {len(spec.pipeline.stages)} stages", "pipeline")
        for i, s in enumerate(spec.pipeline.stages):
            if s.kind is StageKind.AGGREGATE:
                need(Capability.PIPELINE_AGGREGATE, "aggregate stage", f"pipeline.stages.{i}")
    return req


def check(
    spec: JobSpec,
    backend: str,
    capabilities: Iterable[Capability],
    hints: Mapping[Capability, str] | None = None,
) -> list[Unsupported]:
    """Every requirement of ``spec`` that ``capabilities`` cannot meet (empty when it can run)."""
    have = frozenset(capabilities)
    hints = {**DEFAULT_HINTS, **(hints or {})}
    out: list[Unsupported] = []
    seen: set[tuple[Capability, str]] = set()
    for r in required_capabilities(spec):
        if r.capability in have or (r.capability, r.path) in seen:
            continue
        seen.add((r.capability, r.path))
        hint = hints.get(r.capability, f"remove it from the spec or use a backend that supports {r.capability.value}")
        out.append(Unsupported(backend, r.capability, r.feature, r.path, hint))
    return out


ALL_CAPABILITIES = frozenset(Capability)
