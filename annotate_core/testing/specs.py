"""Minimal specs that need one capability each: what the conformance suite feeds a backend.

``spec_needing(cap)`` gives the smallest spec whose ``required_capabilities`` include ``cap``, so a
suite can check that a backend either runs it (capability declared) or refuses it up front.
"""

from __future__ import annotations

from typing import Any

from annotate_core.capabilities import Capability
from annotate_core.model.spec import JobSpec

BASE: dict[str, Any] = {
    "name": "conformance",
    "instructions": "Is it a cat or a dog?",
    "inputs": [{"name": "image", "type": "image"}],
    "outputs": [{"name": "result", "type": "label", "options": ["cat", "dog"]}],
}

_ASSIGNEES = {"assignees": ["annotator1@example.com", "annotator2@example.com"]}
_LABEL_AND_TEXT = [
    {"name": "result", "type": "label", "options": ["cat", "dog"]},
    {"name": "note", "type": "free_text", "required": False},
]

# capability -> overrides of BASE that make a spec need it
FRAGMENTS: dict[Capability, dict[str, Any]] = {
    Capability.UPLOAD_ITEMS: {},
    Capability.VENDOR_DATASET: {"source": {"kind": "dataset", "dataset": "my-dataset"}},
    Capability.OUTPUT_LABEL: {},
    Capability.OUTPUT_LABELS: {"outputs": [{"name": "result", "type": "labels", "options": ["cat", "dog"]}]},
    Capability.OUTPUT_FREE_TEXT: {"outputs": [{"name": "result", "type": "free_text"}]},
    Capability.OUTPUT_NUMBER: {"outputs": [{"name": "result", "type": "number"}]},
    Capability.OUTPUT_JSON: {"outputs": [{"name": "result", "type": "json"}]},
    Capability.MULTIPLE_OUTPUTS: {"outputs": _LABEL_AND_TEXT},
    Capability.INTERFACE: {
        "interface": {"components": [{"kind": "image", "field": "image"}, {"kind": "radio", "field": "result"}]}
    },
    Capability.ASSIGNEES: {"workforce": _ASSIGNEES},
    Capability.CROWD_FILTERS: {"workforce": {"filter": {"attribute": "languages", "op": "in", "value": ["EN"]}}},
    Capability.SKILL_FILTERS: {
        "workforce": {"filter": {"attribute": "skill", "skill": "accuracy", "op": "gte", "value": 80}}
    },
    Capability.FIXED_WORKLOAD: {"workforce": _ASSIGNEES, "distribution": {"kind": "fixed"}},
    Capability.PULLING: {"distribution": {"kind": "pulling", "batch_size": 5}},
    Capability.PULLING_MAX_WORKLOAD: {"distribution": {"kind": "pulling", "batch_size": 5, "max_batch_workload": 8}},
    Capability.OVERLAP: {"overlap": {"count": 2}},
    Capability.PARTIAL_OVERLAP: {"overlap": {"count": 2, "fraction": 0.5}},
    Capability.GOLDEN_MIXING: {"distribution": {"kind": "pulling", "batch_size": 5, "golden_per_batch": 1}},
    Capability.TRAINING: {
        "training": {
            "passing_score": 80,
            "items": [{"inputs": {"image": "https://example.com/t.jpg"}, "golden": {"result": "cat"}}],
        }
    },
    Capability.RULE_GOLDEN_ACCURACY: {
        "quality": {"rules": [{"when": [{"metric": "golden_accuracy", "below": 60}], "then": {"action": "ban"}}]}
    },
    Capability.RULE_FAST_SUBMITS: {
        "quality": {
            "rules": [{"when": [{"metric": "fast_submits", "faster_than_seconds": 5}], "then": {"action": "ban"}}]
        }
    },
    Capability.RULE_CAPTCHA: {"quality": {"captcha_frequency": "medium"}},
    Capability.RULE_SKIPPED_IN_ROW: {
        "quality": {"rules": [{"when": [{"metric": "skipped_in_row", "at_least": 3}], "then": {"action": "ban"}}]}
    },
    Capability.RULE_SKIP_RATE: {
        "quality": {"rules": [{"when": [{"metric": "skip_rate", "above": 50}], "then": {"action": "ban"}}]}
    },
    Capability.RULE_ANSWER_COUNT: {
        "quality": {"rules": [{"when": [{"metric": "answer_count", "at_least": 100}], "then": {"action": "ban"}}]}
    },
    Capability.RULE_SKILL: {
        "quality": {
            "rules": [
                {"when": [{"metric": "skill", "skill": "accuracy", "op": "lt", "value": 50}], "then": {"action": "ban"}}
            ]
        }
    },
    Capability.ACTION_BAN: {
        "quality": {"rules": [{"when": [{"metric": "answer_count", "at_least": 100}], "then": {"action": "ban"}}]}
    },
    Capability.ACTION_REJECT: {
        "quality": {"rules": [{"when": [{"metric": "answer_count", "at_least": 100}], "then": {"action": "reject"}}]}
    },
    Capability.ACTION_SET_SKILL: {
        "quality": {
            "rules": [
                {
                    "when": [{"metric": "answer_count", "at_least": 100}],
                    "then": {"action": "set_skill", "skill": "accuracy", "value": 0},
                }
            ]
        }
    },
    Capability.REVIEW: {"review": {"fraction": 0.2, "on_reject": "discard"}},
    Capability.REVIEW_REQUEUE: {"review": {"fraction": 0.2, "on_reject": "requeue"}},
    Capability.REWARD: {"pricing": {"reward_per_batch": 0.05}},
    Capability.DYNAMIC_PRICING: {
        "pricing": {
            "reward_per_batch": 0.05,
            "dynamic": {"skill": "accuracy", "intervals": [{"from": 80, "to": 100, "reward": 0.08}]},
        }
    },
    Capability.LIMIT_PER_WORKER: {"limits": {"max_items_per_worker": 50}},
    Capability.ASSIGNMENT_TIMEOUT: {"limits": {"assignment_max_seconds": 600}},
    Capability.DEADLINE: {"deadline": "2030-01-01T00:00:00Z"},
    Capability.ADULT_CONTENT_FLAG: {"adult_content": True},
    Capability.WEBHOOKS: {"webhooks": [{"url": "https://example.com/hook", "events": ["submitted"]}]},
    Capability.PIPELINE: {"pipeline": {"stages": [{"kind": "annotate"}, {"kind": "review"}]}},
    Capability.PIPELINE_AGGREGATE: {
        "pipeline": {"stages": [{"kind": "annotate"}, {"kind": "aggregate", "method": "mv"}]}
    },
}

# Capabilities exercised through the Job API rather than the spec (no fragment needed).
API_CAPABILITIES = frozenset(
    {
        Capability.GOLDEN,
        Capability.MANUAL_REVIEW,
        Capability.PAUSE,
        Capability.EVENTS,
        Capability.SKILLS,
        Capability.SIMULATION,
        Capability.PULL_API,
    }
)


def spec_data_needing(cap: Capability) -> dict[str, Any]:
    if cap not in FRAGMENTS:
        raise KeyError(f"{cap.value} is exercised through the Job API, not by a spec")
    return {**BASE, **FRAGMENTS[cap]}


def spec_needing(cap: Capability) -> JobSpec:
    return JobSpec.model_validate(spec_data_needing(cap))


def base_spec(capabilities: frozenset[Capability], **overrides: Any) -> JobSpec:
    """The base spec adjusted to what a backend can run (e.g. fixed workload when it can't pull)."""
    data: dict[str, Any] = {**BASE, **overrides}
    if Capability.PULLING not in capabilities and "distribution" not in overrides:
        data.update(FRAGMENTS[Capability.FIXED_WORKLOAD])
    if Capability.UPLOAD_ITEMS not in capabilities and "source" not in overrides:
        data.update(FRAGMENTS[Capability.VENDOR_DATASET])
    return JobSpec.model_validate(data)
