"""Plans tell the truth on Toloka: every place the pool body changes what the spec says is a
PlanWarning naming the field, and each warning matches what the body really carries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from annotate_toloka import TolokaBackend
from annotate_toloka.compile import compile_spec
from click.testing import CliRunner

from annotate_core.backend import PlanWarning
from annotate_core.cli.main import cli
from annotate_core.client import Client
from annotate_core.specfile import spec_from_dict

from . import expected as e
from .conftest import CASSETTE_NOW

#: a spec that says everything Toloka needs: nothing to warn about
QUIET = {"name": "t", "inputs": [{"name": "image", "type": "image"}],
         "outputs": [{"name": "result", "type": "label", "options": ["cat", "dog"]}],
         "pricing": {"reward_per_batch": 0.01}, "deadline": "P30D",
         "limits": {"assignment_max_seconds": 300}}


def spec(**over: Any):
    return spec_from_dict({**QUIET, **over})


def warned(s) -> dict[str, str]:
    found = TolokaBackend().warnings(s)
    assert all(isinstance(w, PlanWarning) and w.backend == "toloka" for w in found)
    return {w.path: w.message for w in found}


def pool(s) -> dict[str, Any]:
    return compile_spec(s, CASSETTE_NOW).pool


def test_a_spec_that_says_everything_gets_no_warning() -> None:
    s = spec()
    assert warned(s) == {}
    assert pool(s)["auto_accept_solutions"] is True


def test_defaults_toloka_adds_are_warned_with_the_values_sent() -> None:
    s = spec_from_dict({k: v for k, v in QUIET.items() if k not in ("deadline", "limits")})
    body, w = pool(s), warned(s)
    assert body["assignment_max_duration_seconds"] == 600
    assert "600 s is sent (assignment_max_duration_seconds)" in w["limits.assignment_max_seconds"]
    assert body["will_expire"] == "2027-01-15T12:00:00"  # the cassette clock + 365 days
    assert "now + 365 days is sent (will_expire)" in w["deadline"]


def test_sampled_review_becomes_manual_acceptance_of_every_assignment() -> None:
    s = spec(review={"fraction": 0.1}, distribution={"kind": "pulling", "batch_size": 9})
    body, w = pool(s), warned(s)
    assert (body["auto_accept_solutions"], body["auto_accept_period_day"]) == (False, 7)
    assert w["review.fraction"] == (
        "Toloka cannot sample 10% of the work for review: the requester accepts or rejects each assignment (one "
        "task suite of 9 item(s)). The pool gets auto_accept_solutions: false, so every assignment awaits "
        "acceptance: job.review_sample() accepts the submitted ones outside a stable 10% sample and "
        "returns the sample to review with job.review(...); whatever is still waiting after 7 day(s) is accepted "
        "by Toloka (auto_accept_period_day: 7), so Tolokers wait for pay until then or until job.review_sample() runs")
    assert "7 days is sent (auto_accept_period_day)" in w["review.auto_accept_after_days"]
    assert "CHANGE_OVERLAP +1" in w["review.on_reject"]


def test_review_of_everything_with_a_period_says_so() -> None:
    s = spec(review={"fraction": 1, "auto_accept_after_days": 2, "reviewers": ["qa@example.com"],
                     "on_reject": "discard"})
    body, w = pool(s), warned(s)
    assert (body["auto_accept_solutions"], body["auto_accept_period_day"]) == (False, 2)
    assert w["review.fraction"].startswith("every assignment (one task suite of 10 item(s)) awaits your acceptance")
    assert "after 2 day(s) (auto_accept_period_day: 2)" in w["review.fraction"]
    assert "review.auto_accept_after_days" not in w and "review.on_reject" not in w
    assert "no named reviewers" in w["review.reviewers"]


def test_a_reject_rule_without_review_warns_of_manual_acceptance() -> None:
    rule = {"when": [{"metric": "golden_accuracy", "below": 50}], "then": {"action": "reject"}}
    s = spec(quality={"rules": [rule]})
    assert pool(s)["auto_accept_solutions"] is False
    assert "auto_accept_solutions: false" in warned(s)["quality.rules.0.then"]


def test_golden_mixing_says_golden_items_must_be_uploaded() -> None:
    s = spec(distribution={"kind": "pulling", "batch_size": 9, "golden_per_batch": 2})
    assert pool(s)["mixer_config"]["golden_tasks_count"] == 2
    assert ("Upload at least 2 golden item(s) before job.start(), which refuses to open the pool otherwise"
            in warned(s)["distribution.golden_per_batch"])
    suites = spec(distribution={"kind": "pulling", "batch_size": 9}, options={"toloka": {"task_suites": True}})
    assert "distribution.golden_per_batch" not in warned(suites)


def test_limits_rounded_to_whole_suites_and_captcha_are_warned() -> None:
    s = spec(distribution={"kind": "pulling", "batch_size": 4},
             limits={"assignment_max_seconds": 300, "max_items_per_worker": 10}, quality={"captcha_frequency": "low"})
    w = warned(s)
    assert "3 suite(s) of 4, so up to 12 items per Toloker" in w["limits.max_items_per_worker"]
    assert "deprecated" in w["quality.captcha_frequency"]


def test_recipe_plan_lists_the_warnings_in_text_and_json() -> None:
    plan = Client(TolokaBackend()).plan(e.CATS)
    assert [w.path for w in plan.warnings] == ["distribution.golden_per_batch", "review.fraction",
                                               "review.auto_accept_after_days", "review.on_reject",
                                               "quality.captcha_frequency"]
    result = CliRunner().invoke(cli, ["plan", "examples/cats_vs_dogs.yaml", "--backend", "toloka", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)["warnings"]
    assert {w["path"] for w in listed} == {w.path for w in plan.warnings}
    assert all(w["backend"] == "toloka" for w in listed)


@pytest.mark.parametrize("path", ["quality.rules.1"])
def test_approximations_found_while_compiling_are_warnings(path: str) -> None:
    assert "no timed ban on a skill value" in warned(e.MEDIUM)[path]


def test_skills_and_training_say_what_toloka_does_with_them() -> None:
    w = warned(e.MEDIUM)
    assert "skill 'custom_skill' is looked up by name and, when the account has none, created" in w["workforce.filter"]
    assert w["training.passing_score"].startswith("Toloka scores a Toloker after 1 training suite(s) of 1 item(s)")
    assert "training.max_duration_seconds" not in w  # the medium spec sets it
    item = {"key": "t1", "inputs": {"image": "https://example.com/1.jpg"}, "golden": {"result": "cat"}}
    s = spec_from_dict({k: v for k, v in QUIET.items() if k != "limits"} | {"training": {"items": [item]}})
    assert compile_spec(s, CASSETTE_NOW).training["assignment_max_duration_seconds"] == 600
    assert "600 s per training suite" in warned(s)["training.max_duration_seconds"]
    priced = spec(pricing={"reward_per_batch": 0.01, "dynamic": {"skill": "speed", "intervals": [
        {"from": 0, "to": 100, "reward": 0.02}]}})
    assert "skill 'speed'" in warned(priced)["pricing.dynamic.skill"]
