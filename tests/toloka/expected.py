"""Request bodies the backend must send, written out by hand from shared/reference/toloka-api.md.

They are deliberately *not* produced by the backend's builders: the payload tests and the cassette
generator both compare the backend against these literals, so a change in what the backend sends
shows up as a failing test, not as a silently regenerated expectation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from annotate_core.specfile import load_spec
from annotate_core.stored_spec import spec_to_json
from annotate_core.testing import BackendConformance, paged_item_count

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CATS = load_spec(EXAMPLES / "cats_vs_dogs.yaml")
MEDIUM = load_spec(EXAMPLES / "toloka_medium_pool.yaml")

REQUIRED = {"type": "condition.required"}

# ---- seed 001: cats vs dogs (reference §3.2 and §3.5) ------------------------------------------

CATS_CONFIG = {
    "view": {"type": "view.list", "items": [
        {"type": "view.image", "url": {"type": "data.input", "path": "image"}, "ratio": [1, 1]},
        {"type": "field.radio-group", "data": {"type": "data.output", "path": "result"},
         "options": [{"value": "cat", "label": "Cat"}, {"value": "dog", "label": "Dog"}], "validation": REQUIRED},
    ]},
    "plugins": [{"type": "plugin.toloka", "layout": {"kind": "scroll", "taskWidth": 400}}],
}

CATS_PROJECT: dict[str, Any] = {
    "public_name": "Cat or Dog?",
    "public_description": "Specify the type of animal depicted in a photo.",
    "public_instructions": "Look at the picture. Determine what is on it: a <b>cat</b> or a <b>dog</b>. "
                           "Choose the correct option.",
    "task_spec": {
        "input_spec": {"image": {"type": "url", "required": True, "hidden": False},
                       "_key": {"type": "string", "required": False, "hidden": True}},
        "output_spec": {"result": {"type": "string", "required": True, "hidden": False,
                                   "allowed_values": ["cat", "dog"]}},
        "view_spec": {
            "type": "tb", "inferDataSpec": False, "config": json.dumps(CATS_CONFIG, indent=4),
            "lock": {"core": "1.0.0", "view.list": "1.0.0", "view.image": "1.0.0", "field.radio-group": "1.0.0",
                     "condition.required": "1.0.0", "plugin.toloka": "1.0.0"},
        },
    },
    "assignments_issuing_type": "AUTOMATED",
}


def _ban(scope: str, duration: int | None, unit: str, comment: str) -> dict[str, Any]:
    params: dict[str, Any] = {"scope": scope}
    if duration is not None:
        params["duration"] = duration
    params.update({"duration_unit": unit, "private_comment": comment})
    return {"type": "RESTRICTION_V2", "parameters": params}


REQUEUE_ON_REJECT = {
    "collector_config": {"type": "ASSIGNMENTS_ASSESSMENT"},
    "rules": [{"conditions": [{"key": "assessment_event", "operator": "EQ", "value": "REJECT"}],
               "action": {"type": "CHANGE_OVERLAP", "parameters": {"delta": 1, "open_pool": True}}}],
}


def cats_pool(project_id: str) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "private_name": "Cat or Dog?",
        "may_contain_adult_content": False,
        "reward_per_assignment": 0.005,
        "assignment_max_duration_seconds": 300,
        "defaults": {"default_overlap_for_new_task_suites": 0, "default_overlap_for_new_tasks": 3},
        "will_expire": "2027-01-15T12:00:00",  # CASSETTE_NOW + P365D, naive UTC
        "auto_accept_solutions": False,
        "auto_accept_period_day": 7,
        "filter": {"and": [{"or": [{"operator": "IN", "value": "EN", "key": "languages", "category": "profile"}]}]},
        "quality_control": {
            "captcha_frequency": "MEDIUM",
            "configs": [
                {"collector_config": {"type": "CAPTCHA", "parameters": {"history_size": 5}},
                 "rules": [{"conditions": [{"key": "fail_rate", "operator": "GT", "value": 20}],
                            "action": _ban("PROJECT", 1, "DAYS", "Captcha")}]},
                {"collector_config": {"type": "ASSIGNMENT_SUBMIT_TIME",
                                      "parameters": {"fast_submit_threshold_seconds": 10, "history_size": 5}},
                 "rules": [{"conditions": [{"key": "fast_submitted_count", "operator": "GTE", "value": 2}],
                            "action": _ban("PROJECT", 1, "DAYS", "Fast submits")}]},
                REQUEUE_ON_REJECT,
            ],
        },
        "mixer_config": {"real_tasks_count": 10, "golden_tasks_count": 1, "training_tasks_count": 0},
        "metadata": {"annotate_spec": [spec_to_json(CATS)]},
    }


def cats_task(pool_id: str, key: str, image: str, golden: str | None = None) -> dict[str, Any]:
    """A recipe task: the image, the hidden key; golden ones carry their answer (reference §3.6.3)."""
    task: dict[str, Any] = {"input_values": {"image": image, "_key": key}, "pool_id": pool_id}
    if golden is not None:
        task["known_solutions"] = [{"output_values": {"result": golden}, "correctness_weight": 1}]
        task["infinite_overlap"] = True
    return task


# ---- seed 002: the medium-level pool ----------------------------------------------------------

OPTIONS = [{"value": "option_1", "label": "Option 1"}, {"value": "option_2", "label": "Option 2"}]
MEDIUM_CONFIG = {
    "view": {"type": "view.list", "items": [
        {"type": "view.image", "url": {"type": "data.input", "path": "image"}},
        {"type": "field.text", "data": {"type": "data.output", "path": "text_result"},
         "label": "Enter your answer here:", "validation": REQUIRED},
        {"type": "field.radio-group", "data": {"type": "data.output", "path": "radio_result"}, "options": OPTIONS,
         "label": "Select an option:", "validation": REQUIRED},
        {"type": "field.checkbox-group", "data": {"type": "data.output", "path": "checkbox_result"},
         "options": OPTIONS, "label": "Select all that apply:", "validation": REQUIRED},
        {"type": "field.select", "data": {"type": "data.output", "path": "dropdown_result"}, "options": OPTIONS,
         "label": "Choose an option:", "validation": REQUIRED},
    ]},
    "plugins": [{"type": "plugin.toloka", "layout": {"kind": "scroll", "taskWidth": 400}}],
}

_CHOICE = {"type": "string", "required": True, "hidden": False, "allowed_values": ["option_1", "option_2"]}
MEDIUM_PROJECT: dict[str, Any] = {
    "public_name": "Your project name",
    "public_description": "Your project description",
    "public_instructions": "Look at the image and answer every question.",
    "task_spec": {
        "input_spec": {"image": {"type": "url", "required": True, "hidden": False},
                       "_key": {"type": "string", "required": False, "hidden": True}},
        "output_spec": {
            "text_result": {"type": "string", "required": True, "hidden": False},
            "radio_result": _CHOICE,
            "checkbox_result": {**_CHOICE, "type": "array_string"},
            "dropdown_result": _CHOICE,
        },
        "view_spec": {
            "type": "tb", "inferDataSpec": False, "config": json.dumps(MEDIUM_CONFIG, indent=4),
            "lock": {"core": "1.0.0", "view.list": "1.0.0", "view.image": "1.0.0", "field.text": "1.0.0",
                     "condition.required": "1.0.0", "field.radio-group": "1.0.0", "field.checkbox-group": "1.0.0",
                     "field.select": "1.0.0", "plugin.toloka": "1.0.0"},
        },
    },
    "assignments_issuing_type": "AUTOMATED",
}

MEDIUM_SKILL = {"name": "custom_skill", "hidden": True}


def medium_training(project_id: str) -> dict[str, Any]:
    return {
        "project_id": project_id, "private_name": "Training for your project", "may_contain_adult_content": False,
        "assignment_max_duration_seconds": 1200, "mix_tasks_in_creation_order": False,
        "shuffle_tasks_in_task_suite": True, "training_tasks_in_task_suite_count": 1,
        "task_suites_required_to_pass": 1, "inherited_instructions": True,
    }


def medium_training_tasks(training_id: str) -> list[dict[str, Any]]:
    return [{
        "input_values": {"image": "https://example.com/training/1.jpg", "_key": "train-1"},
        "pool_id": training_id,
        "known_solutions": [{"output_values": {"text_result": "a cat", "radio_result": "option_1",
                                               "checkbox_result": ["option_1"], "dropdown_result": "option_1"},
                             "correctness_weight": 1}],
        "message_on_unknown_solution": "The picture shows a cat, so option 1 applies.",
        "infinite_overlap": True,
    }]


def medium_pool(project_id: str, training_id: str, skill_id: str) -> dict[str, Any]:
    def skill(op: str, value: int) -> dict[str, Any]:
        return {"category": "skill", "key": skill_id, "operator": op, "value": value}

    return {
        "project_id": project_id,
        "private_name": "Your project name",
        "may_contain_adult_content": False,
        "reward_per_assignment": 0.01,
        "assignment_max_duration_seconds": 1200,
        "defaults": {"default_overlap_for_new_task_suites": 0, "default_overlap_for_new_tasks": 3},
        "will_expire": "2027-01-15T12:00:00",
        "dynamic_pricing_config": {"type": "SKILL", "skill_id": skill_id, "intervals": [
            {"from": 80, "to": 90, "reward_per_assignment": 0.02},
            {"from": 90, "to": 100, "reward_per_assignment": 0.03}]},
        "auto_accept_solutions": False,
        "auto_accept_period_day": 7,
        "filter": {"and": [
            {"or": [{"category": "profile", "key": "languages", "operator": "IN", "value": "EN"}]},
            {"or": [skill("GT", 80)]},
            {"or": [{"category": "computed", "key": "region_by_ip", "operator": "IN", "value": 84},
                    {"category": "computed", "key": "region_by_ip", "operator": "IN", "value": 95}]},
            {"or": [{"category": "computed", "key": "client_type", "operator": "EQ", "value": "BROWSER"},
                    {"category": "computed", "key": "client_type", "operator": "EQ", "value": "TOLOKA_APP"}]},
            {"or": [skill("GTE", 80)]},  # the "low skill" rule: below 80 stays out of the pool
        ]},
        "quality_control": {
            "training_requirement": {"training_pool_id": training_id, "training_passing_skill_value": 80},
            "configs": [
                {"collector_config": {"type": "ASSIGNMENT_SUBMIT_TIME",
                                      "parameters": {"fast_submit_threshold_seconds": 900, "history_size": 5}},
                 "rules": [{"conditions": [{"key": "fast_submitted_count", "operator": "GTE", "value": 1}],
                            "action": _ban("PROJECT", 3, "DAYS", "SUBMIT_TIME_TOO_FAST")}]},
                {"collector_config": {"type": "ANSWER_COUNT"},
                 "rules": [{"conditions": [{"key": "assignments_accepted_count", "operator": "GTE", "value": 50}],
                            "action": _ban("POOL", None, "PERMANENT", "Per-user limit")}]},
                REQUEUE_ON_REJECT,
            ],
        },
        "mixer_config": {"real_tasks_count": 5, "golden_tasks_count": 1, "training_tasks_count": 0},
        "metadata": {"annotate_spec": [spec_to_json(MEDIUM)]},
    }


def medium_webhooks(pool_id: str) -> list[dict[str, Any]]:
    return [{"webhook_url": "https://your-webhook-url.com/annotate", "event_type": event, "pool_id": pool_id}
            for event in ("ASSIGNMENT_SUBMITTED", "ASSIGNMENT_APPROVED")]


# ---- the conformance suite's base spec (annotate_core.testing) ---------------------------------

#: what TestTolokaConformance adds to the suite's base spec: Toloka pays per suite, and manual
#: review needs pools with non-automatic acceptance
CONFORMANCE_EXTRAS: dict[str, Any] = {"pricing": {"reward_per_batch": 0.01},
                                      "review": {"fraction": 1.0, "on_reject": "discard"}}

#: TestTolokaConformance's page size for assignment listings, and the items its pagination test uploads
CONFORMANCE_PAGE_SIZE = 2
CONFORMANCE_PAGED_ITEMS = paged_item_count(CONFORMANCE_PAGE_SIZE, BackendConformance.n_items)
#: a pool id no pool has
CONFORMANCE_UNKNOWN_POOL = "987654321"

CONFORMANCE_CONFIG = {
    "view": {"type": "view.list", "items": [
        {"type": "view.image", "url": {"type": "data.input", "path": "image"}},
        {"type": "field.radio-group", "data": {"type": "data.output", "path": "result"},
         "options": [{"value": "cat", "label": "cat"}, {"value": "dog", "label": "dog"}], "validation": REQUIRED},
    ]},
    "plugins": [{"type": "plugin.toloka", "layout": {"kind": "scroll"}}],
}

CONFORMANCE_PROJECT: dict[str, Any] = {
    "public_name": "conformance",
    "public_description": "conformance",
    "public_instructions": "Is it a cat or a dog?",
    "task_spec": {
        "input_spec": {"image": {"type": "url", "required": True, "hidden": False},
                       "_key": {"type": "string", "required": False, "hidden": True}},
        "output_spec": {"result": {"type": "string", "required": True, "hidden": False,
                                   "allowed_values": ["cat", "dog"]}},
        "view_spec": {
            "type": "tb", "inferDataSpec": False, "config": json.dumps(CONFORMANCE_CONFIG, indent=4),
            "lock": {"core": "1.0.0", "view.list": "1.0.0", "view.image": "1.0.0", "field.radio-group": "1.0.0",
                     "condition.required": "1.0.0", "plugin.toloka": "1.0.0"},
        },
    },
    "assignments_issuing_type": "AUTOMATED",
}


def conformance_pool(project_id: str, spec: Any, overlap: int = 1, golden: int = 0) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "private_name": "conformance",
        "may_contain_adult_content": False,
        "reward_per_assignment": 0.01,
        "assignment_max_duration_seconds": 600,  # the backend's default when the spec sets no limit
        "defaults": {"default_overlap_for_new_task_suites": 0, "default_overlap_for_new_tasks": overlap},
        "will_expire": "2027-01-15T12:00:00",  # no deadline: now + 365 days
        "auto_accept_solutions": False,
        "auto_accept_period_day": 7,
        "quality_control": {"configs": []},
        "mixer_config": {"real_tasks_count": 10, "golden_tasks_count": golden, "training_tasks_count": 0},
        "metadata": {"annotate_spec": [spec_to_json(spec)]},
    }


# ---- job keys: the metadata a keyed create_job adds to the project, training pool and pool --------------

def keyed(body: dict[str, Any], key: str, spec: Any) -> dict[str, Any]:
    """``body`` as a keyed create sends it: its own metadata plus the key and the spec's fingerprint."""
    from annotate_core.jobkeys import spec_fingerprint

    return {**body, "metadata": {**body.get("metadata", {}), "annotate_job_key": [key],
                                 "annotate_spec_sha256": [spec_fingerprint(spec)]}}
