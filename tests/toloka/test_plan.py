"""``plan`` and refusals: what the Toloka backend would send, shown without any request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from annotate_toloka import TolokaBackend
from click.testing import CliRunner
from pydantic import SecretStr

from annotate_core.cli.main import cli
from annotate_core.client import Client, connect
from annotate_core.errors import ConfigError, UnsupportedFeatureError
from annotate_core.specfile import load_spec, spec_from_dict

from .conftest import CASSETTE_NOW

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class NoNetwork(TolokaBackend):
    """A backend whose REST client must never be built."""

    @property
    def api(self) -> Any:
        raise AssertionError("a request was about to be sent")


@pytest.fixture
def offline() -> Client:
    return Client(NoNetwork(clock=lambda: CASSETTE_NOW))


def test_medium_example_plan_lists_every_object_with_bodies(offline: Client) -> None:
    plan = offline.plan(load_spec(EXAMPLES / "toloka_medium_pool.yaml"), n_items=25_000)
    assert plan.ok, plan.render()
    actions = [op.action.split("?")[0] for op in plan.operations]
    assert actions == [
        "POST /v1/skills", "POST /v1/projects", "POST /v1/trainings", "POST /v1/tasks", "POST /v1/pools",
        "PUT /v1/webhook-subscriptions", "POST /v1/tasks", "POST /v1/tasks", "POST /v1/tasks",
        "POST /v1/trainings/<training_id>/open", "POST /v1/pools/<pool_id>/open",
    ]
    ops = plan.operations
    assert ops[0].payload == {"name": "custom_skill", "hidden": True}
    pool = ops[4].payload
    assert pool["project_id"] == "<project_id>"
    assert pool["quality_control"]["training_requirement"]["training_pool_id"] == "<training_id>"
    assert pool["dynamic_pricing_config"]["skill_id"] == "<skill:custom_skill>"
    assert [w["event_type"] for w in ops[5].payload] == ["ASSIGNMENT_SUBMITTED", "ASSIGNMENT_APPROVED"]
    chunks = ops[6:9]
    assert [c.payload["count"] for c in chunks] == [10_000, 10_000, 5_000]
    assert "async_mode=true&allow_defaults=true&skip_invalid_items=true&operation_id=" in chunks[0].action
    assert chunks[0].payload["each"] == {"input_values": {"image": "<image>", "_key": "<item key>"},
                                         "pool_id": "<pool_id>"}
    assert "custom_skill" in ops[0].description and "80%" in ops[2].description
    assert plan.cost is not None and plan.cost.answers == 75_000


def test_cli_plan_shows_toloka_objects() -> None:
    result = CliRunner().invoke(cli, ["plan", str(EXAMPLES / "toloka_medium_pool.yaml"), "--backend", "toloka",
                                      "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert plan["ok"] and plan["backend"] == "toloka"
    bodies = {op["action"]: op["payload"] for op in plan["operations"]}
    project = bodies["POST /v1/projects"]
    assert json.loads(project["task_spec"]["view_spec"]["config"])["view"]["type"] == "view.list"
    assert bodies["POST /v1/pools"]["mixer_config"]["golden_tasks_count"] == 1


def test_cli_plan_of_a_priced_spec_without_n_items_says_to_pass_them() -> None:
    result = CliRunner().invoke(cli, ["plan", str(EXAMPLES / "cats_vs_dogs.yaml"), "--backend", "toloka"])
    assert result.exit_code == 0, result.output
    assert "no pricing in the spec" not in result.output
    assert ("estimated cost: unknown without the number of items: pass --n-items to estimate (reward 0.005 USD "
            "per batch of 10 item(s) + 1 golden)") in result.output
    priced = CliRunner().invoke(cli, ["plan", str(EXAMPLES / "cats_vs_dogs.yaml"), "--backend", "toloka",
                                      "--n-items", "202"])
    assert "estimated cost: " in priced.output and "USD for 202 items" in priced.output


def test_cli_plan_refuses_what_toloka_cannot_do(tmp_path: Path) -> None:
    spec = tmp_path / "fixed.yaml"
    spec.write_text(
        "name: fixed\ninputs: [{name: image, type: image}]\n"
        "outputs: [{name: result, type: label, options: [cat, dog]}]\n"
        "workforce: {assignees: [a@example.com, b@example.com]}\n"
        "distribution: {kind: fixed}\npricing: {reward_per_batch: 0.01}\n"
    )
    result = CliRunner().invoke(cli, ["plan", str(spec), "--backend", "toloka"])
    assert result.exit_code == 2
    assert "fixed workload split by weight" in result.output
    assert "Toloka hands task suites to whichever eligible Toloker asks next" in result.output
    assert "grant your people a skill" in result.output


def test_fixed_workload_is_refused_before_any_request(offline: Client) -> None:
    spec = spec_from_dict({
        "name": "fixed", "inputs": [{"name": "image", "type": "image"}],
        "outputs": [{"name": "result", "type": "label", "options": ["cat", "dog"]}],
        "workforce": {"assignees": ["a@example.com"]}, "distribution": {"kind": "fixed"},
        "pricing": {"reward_per_batch": 0.01},
    })
    with pytest.raises(UnsupportedFeatureError) as err:
        offline.create_job(spec)
    caps = {u.capability.value for u in err.value.unsupported}
    assert caps == {"workforce.assignees", "distribution.fixed"}


@pytest.mark.parametrize(("over", "needle"), [
    ({"workforce": {"filter": {"attribute": "submit_time_rate", "op": "lt", "value": 60}}}, "fast_submits"),
    ({"distribution": {"kind": "pulling", "batch_size": 5, "max_batch_workload": 10}}, "no cap on suites"),
    ({"quality": {"rules": [{"when": [{"metric": "skip_rate", "above": 50}], "then": {"action": "ban"}}]}},
     "skipped_in_row"),
    ({"outputs": [{"name": "result", "type": "json"}]}, "Template Builder has no JSON answer field"),
    ({"webhooks": [{"url": "https://example.com/h", "events": ["banned"]}]}, "Toloka sends"),
])
def test_refusals_happen_before_any_request_with_a_hint(offline: Client, over: dict, needle: str) -> None:
    data = {"name": "t", "inputs": [{"name": "image", "type": "image"}],
            "outputs": [{"name": "result", "type": "label", "options": ["cat", "dog"]}],
            "pricing": {"reward_per_batch": 0.01}, **over}
    with pytest.raises(UnsupportedFeatureError, match=needle):
        offline.create_job(spec_from_dict(data))


def test_plan_needs_no_token_but_requests_do() -> None:
    backend = TolokaBackend()
    assert backend.plan(load_spec(EXAMPLES / "cats_vs_dogs.yaml"))
    with pytest.raises(ConfigError, match="token_env"):
        backend.progress("36502086")


def test_connect_refuses_a_literal_token_and_reads_token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="is a secret: pass token_env"):
        connect(driver="toloka", token="y0_literal")
    monkeypatch.setenv("MY_TOLOKA_KEY", "key-from-the-environment-123")
    client = connect(driver="toloka", token_env="MY_TOLOKA_KEY", auth_scheme="OAuth")
    assert isinstance(client.backend.options["token"], SecretStr)
    assert "key-from-the-environment-123" not in repr(client) + repr(client.backend)
    assert client.backend.settings.credential().get_secret_value() == "OAuth key-from-the-environment-123"


@pytest.mark.parametrize(("options", "needle"), [
    ({"upload_chunk_size": 20_000}, "upload_chunk_size' must be an integer 1-10000"),
    ({"auth_scheme": "Bearer"}, "auth_scheme' must be one of"),
    ({"chunk": 5}, r"unknown option\(s\) \['chunk'\]"),
    ({"base_url": "toloka.dev"}, "base_url' must be an http"),
    ({"poll_interval": -1}, "poll_interval' must be a number"),
    ({"timeout": [10]}, r"timeout' must be seconds > 0 or \[connect, read\] seconds, got \[10\]"),
    ({"timeout": "60"}, "timeout' must be seconds"),
    ({"timeout": [10, 0]}, "timeout' must be seconds"),
])
def test_bad_options_name_the_option(options: dict, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        TolokaBackend(**options)


def test_timeout_from_toml_becomes_what_requests_takes() -> None:
    """TOML has no tuples: ``timeout = [5, 30]`` arrives as a list and is sent as (connect, read)."""
    assert TolokaBackend(timeout=[5, 30]).settings.timeout == (5, 30)
    assert TolokaBackend(timeout=12.5).settings.timeout == 12.5
    assert TolokaBackend().settings.timeout == (10.0, 60.0)


def test_gaps_finer_than_a_capability_make_the_plan_refuse(tmp_path: Path) -> None:
    """Toloka filters exist (CROWD_FILTERS) but not on accepted counts: the plan lists it, exit 2."""
    spec = tmp_path / "experienced.yaml"
    spec.write_text(
        "name: experienced\ninputs: [{name: image, type: image}]\n"
        "outputs: [{name: result, type: label, options: [cat, dog]}]\n"
        "workforce: {filter: {attribute: accepted_count, op: gt, value: 100}}\n"
        "pricing: {reward_per_batch: 0.01}\n"
    )
    result = CliRunner().invoke(cli, ["plan", str(spec), "--backend", "toloka", "--json"])
    assert result.exit_code == 2
    plan = json.loads(result.output)
    assert plan["ok"] is False and plan["operations"] == []
    assert [(u["capability"], u["path"]) for u in plan["unsupported"]] == [
        ("workforce.filters", "workforce.filter")]


@pytest.mark.parametrize(("scheme", "account"), [("ApiKey", None), ("OAuth", "6c6c50dce62ca4aef87dfcbc6e9de162")])
def test_auth_scheme_base_url_and_act_under_account_are_explicit(scheme: str, account: str | None) -> None:
    import responses

    requester = {"id": "6c6c50dce62ca4aef87dfcbc6e9de162", "balance": 120.3, "public_name": {"EN": "John Smith"}}
    backend = TolokaBackend(token=SecretStr("t0ken-for-header-test"), auth_scheme=scheme,
                            base_url="https://toloka.example/api", act_under_account_id=account)
    with responses.RequestsMock() as mock:
        mock.get("https://toloka.example/api/v1/requester", json=requester)
        assert backend.requester()["balance"] == 120.3
        sent = mock.calls[0].request.headers
    assert sent["Authorization"] == f"{scheme} t0ken-for-header-test"
    assert sent.get("X-Act-Under-Account-ID") == account
    assert "t0ken-for-header-test" not in repr(backend)
