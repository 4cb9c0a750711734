"""Request bodies toloka-kit 1.2.3 sent on the wire, copied from shared/reference/toloka-api.md ([W] tags).

``test_reference.py`` builds the same jobs with annotate and compares, field by field; every
difference is listed and justified there, in one table. Literals only: nothing here is produced by
the backend's builders.
"""

from __future__ import annotations

from typing import Any

PROJECT_ID, POOL_ID, TRAINING_ID, SKILL_ID = "120798", "36502086", "36502085", "41586"
USER = "b4d8bcc33403cae9eb69991c8bb90bdc"
IMAGE = "https://tlk.s3.yandex.net/dataset/cats_vs_dogs/{}.jpg"

# §3.2 POST /v1/projects: the cats-vs-dogs project (config decoded: only its JSON text form differs)
PROJECT_CONFIG = {
    "view": {"type": "view.list", "items": [
        {"type": "view.image", "url": {"type": "data.input", "path": "image"}, "ratio": [1, 1]},
        {"type": "field.radio-group", "data": {"type": "data.output", "path": "result"},
         "options": [{"value": "cat", "label": "Cat"}, {"value": "dog", "label": "Dog"}],
         "validation": {"type": "condition.required"}}]},
    "plugins": [{"type": "plugin.toloka", "layout": {"kind": "scroll", "taskWidth": 400}}],
}
PROJECT: dict[str, Any] = {
    "public_name": "Cat or Dog?",
    "public_description": "Specify the type of animal depicted in a photo.",
    "public_instructions": "Look at the picture. Determine what is on it: a <b>cat</b> or a <b>dog</b>. Choose the "
                           "correct option.",
    "task_spec": {
        "input_spec": {"image": {"type": "url", "required": True, "hidden": False}},
        "output_spec": {"result": {"type": "string", "required": True, "hidden": False,
                                   "allowed_values": ["cat", "dog"]}},
        "view_spec": {"type": "tb", "inferDataSpec": False, "config": PROJECT_CONFIG,
                      "lock": {"core": "1.0.0", "view.list": "1.0.0", "view.image": "1.0.0",
                               "field.radio-group": "1.0.0", "condition.required": "1.0.0",
                               "plugin.toloka": "1.0.0"}}},
    "assignments_issuing_type": "AUTOMATED",
}

# §3.3 POST /v1/trainings
TRAINING: dict[str, Any] = {
    "project_id": PROJECT_ID, "private_name": "Cats vs dogs training", "may_contain_adult_content": False,
    "assignment_max_duration_seconds": 1200, "mix_tasks_in_creation_order": False,
    "shuffle_tasks_in_task_suite": True, "training_tasks_in_task_suite_count": 5, "task_suites_required_to_pass": 1,
    "retry_training_after_days": 1, "inherited_instructions": True,
}

# §3.4 POST /v1/skills and PUT /v1/user-skills
SKILL = {"name": "cats-vs-dogs accuracy", "hidden": True,
         "public_requester_description": {"EN": "How well you tell cats from dogs"}}
USER_SKILL = {"skill_id": SKILL_ID, "user_id": USER, "value": 85.5}


def _ban(scope: str, duration: int | None, unit: str, comment: str) -> dict[str, Any]:
    params: dict[str, Any] = {"scope": scope}
    if duration is not None:
        params["duration"] = duration
    return {"type": "RESTRICTION_V2", "parameters": {**params, "duration_unit": unit, "private_comment": comment}}


# §3.5 POST /v1/pools: the recipe's pool with the medium tutorial's features (valid API only)
POOL: dict[str, Any] = {
    "project_id": PROJECT_ID, "private_name": "Pool 1", "may_contain_adult_content": False,
    "reward_per_assignment": 0.005, "assignment_max_duration_seconds": 300,
    "defaults": {"default_overlap_for_new_task_suites": 0, "default_overlap_for_new_tasks": 3},
    "will_expire": "2025-05-20T10:00:00",
    "dynamic_pricing_config": {"type": "SKILL", "skill_id": SKILL_ID,
                               "intervals": [{"from": 80, "reward_per_assignment": 0.01}]},
    "auto_accept_solutions": False, "auto_accept_period_day": 7,
    "assignments_issuing_config": {"issue_task_suites_in_creation_order": False},
    "priority": 0,
    "filter": {"and": [
        {"or": [{"operator": "IN", "value": "EN", "key": "languages", "category": "profile"}]},
        {"or": [{"key": SKILL_ID, "operator": "GTE", "value": 80, "category": "skill"}]},
        {"or": [{"operator": "IN", "value": 84, "key": "region_by_ip", "category": "computed"},
                {"operator": "IN", "value": 102, "key": "region_by_ip", "category": "computed"}]},
        {"or": [{"operator": "EQ", "value": "BROWSER", "key": "client_type", "category": "computed"},
                {"operator": "EQ", "value": "TOLOKA_APP", "key": "client_type", "category": "computed"}]}]},
    "quality_control": {
        "training_requirement": {"training_pool_id": TRAINING_ID, "training_passing_skill_value": 80},
        "captcha_frequency": "MEDIUM",
        "configs": [
            {"collector_config": {"type": "CAPTCHA", "parameters": {"history_size": 5}},
             "rules": [{"conditions": [{"key": "fail_rate", "operator": "GT", "value": 20}],
                        "action": _ban("PROJECT", 1, "DAYS", "Captcha")}]},
            {"collector_config": {"type": "GOLDEN_SET", "parameters": {"history_size": 10}},
             "rules": [{"conditions": [{"key": "golden_set_correct_answers_rate", "operator": "LT", "value": 60},
                                       {"key": "golden_set_answers_count", "operator": "GTE", "value": 3}],
                        "action": _ban("PROJECT", 3, "DAYS", "Golden set")}]},
            {"collector_config": {"type": "ASSIGNMENT_SUBMIT_TIME",
                                  "parameters": {"fast_submit_threshold_seconds": 20, "history_size": 5}},
             "rules": [{"conditions": [{"key": "fast_submitted_count", "operator": "GT", "value": 1}],
                        "action": _ban("POOL", 1, "DAYS", "Fast responses")}]},
            {"collector_config": {"type": "ANSWER_COUNT"},
             "rules": [{"conditions": [{"key": "assignments_accepted_count", "operator": "GTE", "value": 50}],
                        "action": _ban("POOL", None, "PERMANENT", "Per-user limit")}]}]},
    "mixer_config": {"real_tasks_count": 9, "golden_tasks_count": 1, "training_tasks_count": 0},
}

# §3.6.3 POST /v1/tasks (async, toloka-kit's default): a real task with its own overlap, a golden task
TASKS_QUERY = {"async_mode": "true", "allow_defaults": "false", "open_pool": "true", "skip_invalid_items": "true"}
TASKS: list[dict[str, Any]] = [
    {"__item_idx": "0", "pool_id": POOL_ID, "overlap": 5, "infinite_overlap": False,
     "input_values": {"image": IMAGE.format("dogs/f2cf0283882e4c738e0fb7bd429b967b")}},
    {"__item_idx": "1", "pool_id": POOL_ID, "infinite_overlap": True, "overlap": None,
     "input_values": {"image": IMAGE.format("cats/052a05203748432a882ed886a74a3ef7")},
     "known_solutions": [{"output_values": {"result": "cat"}, "correctness_weight": 1}],
     "message_on_unknown_solution": "It is a cat: pointy ears, whiskers."},
]

# §3.7 POST /v1/task-suites
SUITE: dict[str, Any] = {
    "pool_id": POOL_ID, "overlap": 3, "infinite_overlap": False,
    "tasks": [{"input_values": {"image": IMAGE.format("cats/0ddcd307bb7e4cceb10ccc5bd9ccecc8")}},
              {"input_values": {"image": IMAGE.format("dogs/ffb6ceff76d348bfb9d448d4e90f9daf")},
               "known_solutions": [{"output_values": {"result": "dog"}}]}],
}

# §3.9 POST /staging/analytics-2 (the recipe polls completion only)
ANALYTICS = [{"subject": "POOL", "subject_id": POOL_ID, "name": "completion_percentage"}]

# §3.10 PATCH /v1/assignments/{id}
ACCEPT = {"public_comment": "Well done!", "status": "ACCEPTED"}
REJECT = {"public_comment": "Wrong label on a control image.", "status": "REJECTED"}

# §3.12 PUT /v1/webhook-subscriptions
WEBHOOKS = [
    {"webhook_url": "https://example.org/toloka-hook", "event_type": "ASSIGNMENT_SUBMITTED", "pool_id": POOL_ID,
     "secret_key": "s3cr3t"},
    {"webhook_url": "https://example.org/toloka-hook", "event_type": "POOL_CLOSED", "pool_id": POOL_ID},
]
