"""Request bodies built from specs, checked against the wire format in shared/reference/toloka-api.md.

These never touch the network: they pin what ``plan`` shows and ``create_job`` sends.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from annotate_toloka.compile import compile_spec
from annotate_toloka.context import Context
from annotate_toloka.filters import build_filter
from annotate_toloka.project import project_body
from annotate_toloka.view import view_spec

from annotate_core.errors import SpecError, UnsupportedFeatureError
from annotate_core.specfile import load_spec, spec_from_dict

from .conftest import CASSETTE_NOW

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# The recipe's project body as toloka-kit sends it (reference §3.2), config decoded.
REFERENCE_CONFIG = json.loads(
    '{"view":{"type":"view.list","items":[{"type":"view.image","url":{"type":"data.input","path":"image"},'
    '"ratio":[1,1]},{"type":"field.radio-group","data":{"type":"data.output","path":"result"},"options":'
    '[{"value":"cat","label":"Cat"},{"value":"dog","label":"Dog"}],"validation":{"type":"condition.required"}}]},'
    '"plugins":[{"type":"plugin.toloka","layout":{"kind":"scroll","taskWidth":400}}]}'
)
REFERENCE_LOCK = {"core": "1.0.0", "view.list": "1.0.0", "view.image": "1.0.0", "field.radio-group": "1.0.0",
                  "condition.required": "1.0.0", "plugin.toloka": "1.0.0"}


@pytest.fixture
def cats():
    return load_spec(EXAMPLES / "cats_vs_dogs.yaml")


@pytest.fixture
def medium():
    return load_spec(EXAMPLES / "toloka_medium_pool.yaml")


def spec(**over):
    base = {"name": "t", "inputs": [{"name": "image", "type": "image"}],
            "outputs": [{"name": "result", "type": "label", "options": ["cat", "dog"]}],
            "pricing": {"reward_per_batch": 0.01}}
    return spec_from_dict({**base, **over})


def ctx(s):
    return Context(s, CASSETTE_NOW)


# ---- project and Template Builder view ----------------------------------------------------------


def test_recipe_view_is_the_reference_template(cats) -> None:
    v = view_spec(cats)
    assert v["type"] == "tb" and v["inferDataSpec"] is False
    assert isinstance(v["config"], str), "Template Builder wants the config as a JSON string"
    assert json.loads(v["config"]) == REFERENCE_CONFIG
    assert v["config"] == json.dumps(REFERENCE_CONFIG, indent=4)  # the form toloka-kit sends
    assert v["lock"] == REFERENCE_LOCK and list(v["lock"]) == list(REFERENCE_LOCK)


def test_recipe_project_body(cats) -> None:
    body = project_body(cats)
    body["task_spec"]["view_spec"] = "checked above"
    assert body == {
        "public_name": "Cat or Dog?",
        "public_description": "Specify the type of animal depicted in a photo.",
        "public_instructions": "Look at the picture. Determine what is on it: a <b>cat</b> or a <b>dog</b>. "
                               "Choose the correct option.",
        "task_spec": {
            "input_spec": {"image": {"type": "url", "required": True, "hidden": False},
                           "_key": {"type": "string", "required": False, "hidden": True}},
            "output_spec": {"result": {"type": "string", "required": True, "hidden": False,
                                       "allowed_values": ["cat", "dog"]}},
            "view_spec": "checked above",
        },
        "assignments_issuing_type": "AUTOMATED",
    }


def test_every_interface_component_renders(medium) -> None:
    config = json.loads(view_spec(medium)["config"])
    items = config["view"]["items"]
    assert [i["type"] for i in items] == ["view.image", "field.text", "field.radio-group", "field.checkbox-group",
                                          "field.select"]
    text, radio, checkbox, select = items[1:]
    assert text == {"type": "field.text", "data": {"type": "data.output", "path": "text_result"},
                    "label": "Enter your answer here:", "validation": {"type": "condition.required"}}
    assert checkbox["data"] == {"type": "data.output", "path": "checkbox_result"}
    assert checkbox["options"] == [{"value": "option_1", "label": "Option 1"},
                                   {"value": "option_2", "label": "Option 2"}]
    assert select["label"] == "Choose an option:" and radio["label"] == "Select an option:"
    assert config["plugins"] == [{"type": "plugin.toloka", "layout": {"kind": "scroll", "taskWidth": 400}}]
    out = project_body(medium)["task_spec"]["output_spec"]
    assert out["checkbox_result"] == {"type": "array_string", "required": True, "hidden": False,
                                      "allowed_values": ["option_1", "option_2"]}
    assert out["text_result"] == {"type": "string", "required": True, "hidden": False}


def test_derived_interface_text_views_numbers_and_bools() -> None:
    s = spec(inputs=[{"name": "text", "type": "text"}],
             outputs=[{"name": "n", "type": "number"}, {"name": "ok", "type": "bool"}],
             interface={"components": [{"kind": "text", "content": "**Read** it"}, {"kind": "text", "field": "text"},
                                       {"kind": "text_input", "field": "n", "placeholder": "0-10"},
                                       {"kind": "checkbox", "field": "ok", "label": "Fine?"}]})
    items = json.loads(view_spec(s)["config"])["view"]["items"]
    assert items[0] == {"type": "view.markdown", "content": "**Read** it"}
    assert items[1] == {"type": "view.text", "content": {"type": "data.input", "path": "text"}}
    assert items[2]["type"] == "field.number" and items[2]["placeholder"] == "0-10"
    assert items[3] == {"type": "field.checkbox", "data": {"type": "data.output", "path": "ok"}, "label": "Fine?"}
    assert project_body(s)["task_spec"]["output_spec"]["ok"]["type"] == "boolean"


def test_key_field_name_is_reserved() -> None:
    with pytest.raises(SpecError, match="inputs._key: this name is reserved"):
        project_body(spec(inputs=[{"name": "_key", "type": "text"}]))


# ---- pools ----------------------------------------------------------------------------------


def test_recipe_pool_body(cats) -> None:
    c = compile_spec(cats, CASSETTE_NOW)
    pool = dict(c.pool)
    stored = pool.pop("metadata")
    assert json.loads(stored["annotate_spec"][0])["name"] == "Cat or Dog?"
    assert pool == {
        "project_id": "<project_id>",
        "private_name": "Cat or Dog?",
        "may_contain_adult_content": False,
        "reward_per_assignment": 0.005,
        "assignment_max_duration_seconds": 300,
        "defaults": {"default_overlap_for_new_task_suites": 0, "default_overlap_for_new_tasks": 3},
        "will_expire": "2027-01-15T12:00:00",
        "auto_accept_solutions": False,
        "auto_accept_period_day": 7,
        "filter": {"and": [{"or": [{"operator": "IN", "value": "EN", "key": "languages", "category": "profile"}]}]},
        "quality_control": {
            "captcha_frequency": "MEDIUM",
            "configs": [
                {"collector_config": {"type": "CAPTCHA", "parameters": {"history_size": 5}},
                 "rules": [{"conditions": [{"key": "fail_rate", "operator": "GT", "value": 20}],
                            "action": {"type": "RESTRICTION_V2", "parameters": {
                                "scope": "PROJECT", "duration": 1, "duration_unit": "DAYS",
                                "private_comment": "Captcha"}}}]},
                {"collector_config": {"type": "ASSIGNMENT_SUBMIT_TIME",
                                      "parameters": {"fast_submit_threshold_seconds": 10, "history_size": 5}},
                 "rules": [{"conditions": [{"key": "fast_submitted_count", "operator": "GTE", "value": 2}],
                            "action": {"type": "RESTRICTION_V2", "parameters": {
                                "scope": "PROJECT", "duration": 1, "duration_unit": "DAYS",
                                "private_comment": "Fast submits"}}}]},
                {"collector_config": {"type": "ASSIGNMENTS_ASSESSMENT"},
                 "rules": [{"conditions": [{"key": "assessment_event", "operator": "EQ", "value": "REJECT"}],
                            "action": {"type": "CHANGE_OVERLAP", "parameters": {"delta": 1, "open_pool": True}}}]},
            ],
        },
        "mixer_config": {"real_tasks_count": 10, "golden_tasks_count": 1, "training_tasks_count": 0},
    }
    assert c.skills == [] and c.training is None and c.webhooks == []


MEDIUM_FILTER = {"and": [
    {"or": [{"category": "profile", "key": "languages", "operator": "IN", "value": "EN"}]},
    {"or": [{"category": "skill", "key": "<skill:custom_skill>", "operator": "GT", "value": 80}]},
    {"or": [{"category": "computed", "key": "region_by_ip", "operator": "IN", "value": 84},
            {"category": "computed", "key": "region_by_ip", "operator": "IN", "value": 95}]},
    {"or": [{"category": "computed", "key": "client_type", "operator": "EQ", "value": "BROWSER"},
            {"category": "computed", "key": "client_type", "operator": "EQ", "value": "TOLOKA_APP"}]},
    # the "low skill" quality rule: Tolokers under 80 are kept out by the filter
    {"or": [{"category": "skill", "key": "<skill:custom_skill>", "operator": "GTE", "value": 80}]},
]}


def test_medium_pool_training_webhooks_and_skills(medium) -> None:
    c = compile_spec(medium, CASSETTE_NOW)
    assert c.skills == ["custom_skill"]
    pool = c.pool
    assert pool["filter"] == MEDIUM_FILTER
    assert pool["reward_per_assignment"] == 0.01 and pool["assignment_max_duration_seconds"] == 1200
    assert pool["dynamic_pricing_config"] == {"type": "SKILL", "skill_id": "<skill:custom_skill>", "intervals": [
        {"from": 80, "to": 90, "reward_per_assignment": 0.02}, {"from": 90, "to": 100, "reward_per_assignment": 0.03}]}
    assert (pool["auto_accept_solutions"], pool["auto_accept_period_day"]) == (False, 7)
    assert pool["mixer_config"] == {"real_tasks_count": 5, "golden_tasks_count": 1, "training_tasks_count": 0}
    qc = pool["quality_control"]
    assert qc["training_requirement"] == {"training_pool_id": "<training_id>", "training_passing_skill_value": 80}
    assert "captcha_frequency" not in qc
    assert qc["configs"] == [
        {"collector_config": {"type": "ASSIGNMENT_SUBMIT_TIME",
                              "parameters": {"fast_submit_threshold_seconds": 900, "history_size": 5}},
         "rules": [{"conditions": [{"key": "fast_submitted_count", "operator": "GTE", "value": 1}],
                    "action": {"type": "RESTRICTION_V2", "parameters": {
                        "scope": "PROJECT", "duration": 3, "duration_unit": "DAYS",
                        "private_comment": "SUBMIT_TIME_TOO_FAST"}}}]},
        {"collector_config": {"type": "ANSWER_COUNT"},  # limits.max_batches_per_worker, as in the reference
         "rules": [{"conditions": [{"key": "assignments_accepted_count", "operator": "GTE", "value": 50}],
                    "action": {"type": "RESTRICTION_V2", "parameters": {
                        "scope": "POOL", "duration_unit": "PERMANENT", "private_comment": "Per-user limit"}}}]},
        {"collector_config": {"type": "ASSIGNMENTS_ASSESSMENT"},
         "rules": [{"conditions": [{"key": "assessment_event", "operator": "EQ", "value": "REJECT"}],
                    "action": {"type": "CHANGE_OVERLAP", "parameters": {"delta": 1, "open_pool": True}}}]},
    ]
    assert c.training == {
        "project_id": "<project_id>", "private_name": "Training for your project", "may_contain_adult_content": False,
        "assignment_max_duration_seconds": 1200, "mix_tasks_in_creation_order": False,
        "shuffle_tasks_in_task_suite": True, "training_tasks_in_task_suite_count": 1,
        "task_suites_required_to_pass": 1, "inherited_instructions": True,
    }
    assert c.training_tasks == [{
        "input_values": {"image": "https://example.com/training/1.jpg", "_key": "train-1"},
        "pool_id": "<training_id>",
        "known_solutions": [{"output_values": {"text_result": "a cat", "radio_result": "option_1",
                                               "checkbox_result": ["option_1"], "dropdown_result": "option_1"},
                             "correctness_weight": 1}],
        "message_on_unknown_solution": "The picture shows a cat, so option 1 applies.",
        "infinite_overlap": True,
    }]
    assert c.webhooks == [
        {"webhook_url": "https://your-webhook-url.com/annotate", "event_type": "ASSIGNMENT_SUBMITTED",
         "pool_id": "<pool_id>"},
        {"webhook_url": "https://your-webhook-url.com/annotate", "event_type": "ASSIGNMENT_APPROVED",
         "pool_id": "<pool_id>"},
    ]
    assert any("no timed ban on a skill value" in n for n in c.notes)


def test_deadline_date_adult_flag_and_no_review() -> None:
    s = spec(deadline="2026-06-01T10:30:00+02:00", adult_content=True)
    pool = compile_spec(s, CASSETTE_NOW).pool
    assert pool["will_expire"] == "2026-06-01T08:30:00"  # naive UTC
    assert pool["may_contain_adult_content"] is True
    assert pool["auto_accept_solutions"] is True and "auto_accept_period_day" not in pool
    assert pool["quality_control"] == {"configs": []} and "filter" not in pool


def test_task_suites_option_drops_the_mixer() -> None:
    s = spec(overlap={"count": 2}, options={"toloka": {"task_suites": True}})
    pool = compile_spec(s, CASSETTE_NOW).pool
    assert "mixer_config" not in pool and pool["defaults"] == {"default_overlap_for_new_task_suites": 2}


def test_unknown_spec_option_names_the_known_ones() -> None:
    with pytest.raises(SpecError, match=r"options.toloka: unknown option\(s\) \['suites'\]; known: task_suites"):
        compile_spec(spec(options={"toloka": {"suites": True}}), CASSETTE_NOW)


# ---- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("cond", "expected"), [
    ({"attribute": "languages", "op": "in", "value": ["EN", "fr"]},
     {"and": [{"or": [{"category": "profile", "key": "languages", "operator": "IN", "value": "EN"},
                      {"category": "profile", "key": "languages", "operator": "IN", "value": "FR"}]}]}),
    ({"attribute": "languages", "op": "not_in", "value": ["RU", "UK"]},
     {"and": [{"or": [{"category": "profile", "key": "languages", "operator": "NOT_IN", "value": "RU"}]},
              {"or": [{"category": "profile", "key": "languages", "operator": "NOT_IN", "value": "UK"}]}]}),
    ({"attribute": "country", "op": "ne", "value": "us"},
     {"and": [{"or": [{"category": "profile", "key": "country", "operator": "NE", "value": "US"}]}]}),
    ({"attribute": "education", "op": "gte", "value": "middle"},
     {"and": [{"or": [{"category": "profile", "key": "education", "operator": "EQ", "value": "MIDDLE"},
                      {"category": "profile", "key": "education", "operator": "EQ", "value": "HIGH"}]}]}),
    ({"attribute": "region_by_ip", "op": "in", "value": [225, "GB"]},
     {"and": [{"or": [{"category": "computed", "key": "region_by_ip", "operator": "IN", "value": 225},
                      {"category": "computed", "key": "region_by_ip", "operator": "IN", "value": 102}]}]}),
    ({"attribute": "skill", "skill": "41586", "op": "gte", "value": 80},
     {"and": [{"or": [{"category": "skill", "key": "41586", "operator": "GTE", "value": 80}]}]}),
    ({"attribute": "gender", "op": "eq", "value": "female"},
     {"and": [{"or": [{"category": "profile", "key": "gender", "operator": "EQ", "value": "FEMALE"}]}]}),
])
def test_filter_leaves(cond, expected) -> None:
    assert build_filter(ctx(spec(workforce={"filter": cond}))) == expected


def test_age_becomes_a_date_of_birth_bound() -> None:
    c = ctx(spec(workforce={"filter": {"attribute": "age", "op": "gte", "value": 18}}))
    born_by = datetime(2008, 1, 15, 12, 0, tzinfo=timezone.utc).timestamp()
    assert build_filter(c) == {"and": [{"or": [
        {"category": "profile", "key": "date_of_birth", "operator": "LTE", "value": int(born_by)}]}]}


def test_nested_trees_keep_their_logic() -> None:
    f = {"any": [{"all": [{"attribute": "country", "op": "eq", "value": "US"},
                          {"attribute": "languages", "op": "in", "value": ["EN"]}]},
                 {"attribute": "citizenship", "op": "eq", "value": "GB"}]}
    assert build_filter(ctx(spec(workforce={"filter": f}))) == {"and": [{"or": [
        {"and": [{"category": "profile", "key": "country", "operator": "EQ", "value": "US"},
                 {"category": "profile", "key": "languages", "operator": "IN", "value": "EN"}]},
        {"category": "profile", "key": "citizenship", "operator": "EQ", "value": "GB"},
    ]}]}


def test_unknown_region_code_asks_for_an_id_and_options_extend_the_table() -> None:
    f = {"attribute": "region_by_ip", "op": "in", "value": ["FR"]}
    with pytest.raises(SpecError, match="no Toloka region id known for 'FR'; give the numeric region id"):
        build_filter(ctx(spec(workforce={"filter": f})))
    c = ctx(spec(workforce={"filter": f}, options={"toloka": {"region_ids": {"fr": 124}}}))
    assert build_filter(c)["and"][0]["or"][0]["value"] == 124


def test_filters_toloka_lacks_are_all_refused_at_once() -> None:
    s = spec(workforce={"filter": {"all": [{"attribute": "accepted_count", "op": "gt", "value": 100},
                                           {"attribute": "rating", "op": "gt", "value": 3},
                                           {"attribute": "languages", "op": "in", "value": ["EN"]}]}})
    with pytest.raises(UnsupportedFeatureError) as err:
        compile_spec(s, CASSETTE_NOW)
    paths = [u.path for u in err.value.unsupported]
    assert paths == ["workforce.filter.all.0", "workforce.filter.all.1"]
    assert "grant a skill" in err.value.unsupported[0].hint


# ---- quality rules ----------------------------------------------------------------------------


def test_rules_sharing_a_collector_share_a_config() -> None:
    rules = [
        {"when": [{"metric": "golden_accuracy", "window": 10, "below": 60, "min_answers": 3}],
         "then": {"action": "ban", "duration": 3, "unit": "days", "scope": "project", "reason": "Golden set"}},
        {"when": [{"metric": "golden_accuracy", "window": 10, "below": 100, "min_answers": 3}],
         "then": {"action": "set_skill", "skill": "41586", "from_metric": True}},
        {"when": [{"metric": "skipped_in_row", "at_least": 4}], "then": {"action": "ban", "unit": "permanent",
                                                                         "scope": "all"}},
        {"when": [{"metric": "answer_count", "at_least": 25}], "then": {"action": "set_skill", "skill": "41586",
                                                                         "value": 0}},
    ]
    configs = compile_spec(spec(quality={"rules": rules}, distribution={"kind": "pulling", "batch_size": 10}),
                           CASSETTE_NOW).pool["quality_control"]["configs"]
    golden, skipped, count = configs
    assert golden["collector_config"] == {"type": "GOLDEN_SET", "parameters": {"history_size": 10}}
    assert golden["rules"][0]["conditions"] == [
        {"key": "golden_set_correct_answers_rate", "operator": "LT", "value": 60},
        {"key": "golden_set_answers_count", "operator": "GTE", "value": 3}]
    assert golden["rules"][1]["action"] == {"type": "SET_SKILL_FROM_OUTPUT_FIELD",
                                            "parameters": {"skill_id": "41586", "from_field": "correct_answers_rate"}}
    assert skipped["rules"][0]["action"]["parameters"] == {"scope": "ALL_PROJECTS", "duration_unit": "PERMANENT",
                                                           "private_comment": "annotate quality rule"}
    # 25 answers in suites of 10 = 3 suites
    assert count["rules"][0]["conditions"] == [{"key": "assignments_accepted_count", "operator": "GTE", "value": 3}]
    assert count["rules"][0]["action"] == {"type": "SET_SKILL", "parameters": {"skill_id": "41586", "skill_value": 0}}


def test_a_rule_over_two_collectors_is_refused() -> None:
    rule = {"when": [{"metric": "golden_accuracy", "below": 60}, {"metric": "fast_submits", "faster_than_seconds": 5}],
            "then": {"action": "ban"}}
    with pytest.raises(UnsupportedFeatureError, match="split it into one rule per measure"):
        compile_spec(spec(quality={"rules": [rule]}), CASSETTE_NOW)


def test_reject_by_rule_turns_on_manual_acceptance() -> None:
    rule = {"when": [{"metric": "golden_accuracy", "below": 50}], "then": {"action": "reject", "comment": "bad"}}
    pool = compile_spec(spec(quality={"rules": [rule]}), CASSETTE_NOW).pool
    assert pool["auto_accept_solutions"] is False and pool["auto_accept_period_day"] == 7
    action = pool["quality_control"]["configs"][0]["rules"][0]["action"]
    assert action == {"type": "REJECT_ALL_ASSIGNMENTS", "parameters": {"public_comment": "bad"}}


def test_skill_rule_with_a_non_ban_action_is_refused() -> None:
    rule = {"when": [{"metric": "skill", "skill": "s", "op": "lt", "value": 50}],
            "then": {"action": "set_skill", "skill": "s", "value": 0}}
    with pytest.raises(UnsupportedFeatureError, match="keeping such Tolokers out of the pool"):
        compile_spec(spec(quality={"rules": [rule]}), CASSETTE_NOW)


def test_missing_reward_and_foreign_currency_are_refused() -> None:
    base = spec().model_dump(by_alias=True, exclude_none=True)
    base.pop("pricing")
    with pytest.raises(UnsupportedFeatureError, match="pricing.reward_per_batch"):
        compile_spec(spec_from_dict(base), CASSETTE_NOW)
    with pytest.raises(UnsupportedFeatureError, match="Toloka pays in USD"):
        compile_spec(spec(pricing={"reward_per_batch": 0.01, "currency": "EUR"}), CASSETTE_NOW)


def test_bodies_equal_the_hand_written_expectations() -> None:
    from . import expected as e

    cats = compile_spec(e.CATS, CASSETTE_NOW)
    assert cats.project == e.CATS_PROJECT
    assert cats.pool == e.cats_pool("<project_id>")
    medium = compile_spec(e.MEDIUM, CASSETTE_NOW)
    assert medium.project == e.MEDIUM_PROJECT
    assert medium.pool == e.medium_pool("<project_id>", "<training_id>", "<skill:custom_skill>")
    assert medium.training == e.medium_training("<project_id>")
    assert medium.training_tasks == e.medium_training_tasks("<training_id>")
    assert medium.webhooks == e.medium_webhooks("<pool_id>")


def test_the_spec_in_pool_metadata_reads_back_equal_with_explicit_nulls():
    """A permanent ban is ``duration: null``; stored without nulls it read back as 1 day, changed the
    fingerprint, and a rerun with the same job key became a false key conflict."""
    from annotate_core.jobkeys import spec_fingerprint
    from annotate_core.stored_spec import spec_from_json

    s = spec(quality={"rules": [{"name": "captcha", "when": [{"metric": "captcha_fail_rate", "window": 5,
                                                             "above": 20}],
                                 "then": {"action": "ban", "duration": None, "scope": "project"}}]})
    assert s.quality.rules[0].then.duration is None
    stored = compile_spec(s, CASSETTE_NOW).pool["metadata"]["annotate_spec"][0]
    back = spec_from_json(stored)
    assert back == s and spec_fingerprint(back) == spec_fingerprint(s)
