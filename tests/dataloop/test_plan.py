"""plan(): exact bodies offline, client-side limits, and refusals of what Dataloop cannot do."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from annotate_dataloop import DataloopBackend
from click.testing import CliRunner

from annotate_core import connect
from annotate_core.cli.main import cli
from annotate_core.errors import SpecError, UnsupportedFeatureError

from .helpers import DROP, EXAMPLES, example

FLOWS = ["task_from_filter", "task_from_items", "task_whole_dataset", "qa_task", "pulling_task",
         "consensus_task", "pipeline_task_node"]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        attempts.append(args)
        raise AssertionError(f"network used: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.fixture
def client():
    return connect(driver="dataloop")


def actions(plan) -> list[str]:
    return [op.action for op in plan.operations]


@pytest.mark.parametrize("flow", FLOWS)
def test_every_seed_flow_plans_offline(client, flow: str, no_network: list[Any]) -> None:
    plan = client.plan(example(flow), n_items=10)
    assert plan.ok, plan.render()
    assert no_network == []
    creates = [op for op in plan.operations if op.action in ("POST /annotationtasks", "POST /pipelines")]
    assert creates, actions(plan)
    json.dumps(plan.to_dict(), default=str)  # every payload is plain JSON


def test_plan_shows_the_task_body_with_placeholders(client) -> None:
    plan = client.plan(example("task_from_filter"))
    assert actions(plan)[:2] == ["GET /projects/my-project/name", "POST /datasets/query"]
    task = next(op for op in plan.operations if op.action == "POST /annotationtasks")
    body = task.payload
    assert body["projectId"] == "<id of project 'my-project'>"
    assert body["datasetId"] == "<id of dataset 'my-dataset'>"
    assert body["dueDate"] == 1861920000000.0 and body["asynced"] is True
    assert json.loads(body["query"])["filter"] == {"$and": [{"hidden": False}, {"type": "file"}, {"annotated": False}]}
    assert "50%" in task.description and "2029-01-01" in task.description


def test_plan_uses_ids_as_given_and_profile_owner() -> None:
    backend = DataloopBackend(project="3a7c5f1e-9b2d-4c8e-a1f0-6d5e4b3c2a10", task_owner="pm@example.com")
    spec = example("task_whole_dataset", source={"kind": "dataset", "dataset": "65f1c0a2b3d4e5f6a7b8c9d0"})
    ops = backend.plan(spec)
    assert not any(op.action.startswith("GET /projects") for op in ops)
    body = next(op.payload for op in ops if op.action == "POST /annotationtasks")
    assert body["projectId"] == "3a7c5f1e-9b2d-4c8e-a1f0-6d5e4b3c2a10"
    assert body["datasetId"] == "65f1c0a2b3d4e5f6a7b8c9d0"
    assert body["taskOwner"] == "pm@example.com"


def test_plan_owner_from_the_tokens_email_claim() -> None:
    from pydantic import SecretStr

    from .helpers import fake_jwt

    backend = DataloopBackend(token=SecretStr(fake_jwt(4102444800, email="Boss@Example.com")))
    body = next(op.payload for op in backend.plan(example("pulling_task")) if op.action == "POST /annotationtasks")
    assert body["taskOwner"] == "boss@example.com"


def test_qa_plan_links_the_parent(client) -> None:
    plan = client.plan(example("qa_task"))
    tasks = [op.payload for op in plan.operations if op.action == "POST /annotationtasks"]
    assert [t["spec"]["type"] for t in tasks] == ["annotation", "qa"]
    qa = tasks[1]
    assert qa["spec"]["parentTaskId"] == "<created task id>"
    assert qa["name"] == "Annotate then QA_qa"
    assert json.loads(qa["query"])["filter"]["$and"][-1]["metadata.system.refs"]["$match"]["id"] == "<created task id>"
    assert [w["assigneeId"] for w in qa["workload"]] == ["reviewer1@dataloop.ai", "reviewer2@dataloop.ai"]


def test_pipeline_plan(client) -> None:
    plan = client.plan(example("pipeline_task_node"))
    acts = actions(plan)
    assert acts[-4:] == ["POST /pipelines", "PATCH /pipelines/<pipeline id>", "POST /pipelines/<pipeline id>/install",
                         "POST /pipelines/<pipeline id>/execute"]
    create = plan.operations[acts.index("POST /pipelines")].payload
    assert create["name"] == "pipeline-faas-example-dataset"
    patch = plan.operations[acts.index("PATCH /pipelines/<pipeline id>")].payload
    assert [n["metadata"]["taskOwner"] for n in patch["nodes"]] == ["owner@dataloop.ai"] * 2
    assert patch["variables"][0]["name"] == "annotate_source"
    # installing and running are job.start()'s, and the plan says so
    for action in acts[-2:]:
        assert plan.operations[acts.index(action)].description.startswith("at job.start()")


# ---- what the plan says Dataloop does differently ---------------------------------------------------


def warned(plan) -> dict[str, str]:
    assert all(w.backend == "dataloop" for w in plan.warnings)
    return {w.path: w.message for w in plan.warnings}


def test_no_deadline_gets_dtlpys_seven_days_and_the_plan_says_so(client) -> None:
    from datetime import datetime, timezone

    from annotate_dataloop import payloads

    spec = example("task_from_items", deadline=None)
    created = datetime(2026, 1, 15, 10, tzinfo=timezone.utc)
    assert payloads.due_date(spec, created) == datetime(2026, 1, 22, 10, tzinfo=timezone.utc).timestamp() * 1000
    plan = client.plan(spec)
    assert "creation time + 7 days, dtlpy's default" in warned(plan)["deadline"]
    task = next(op for op in plan.operations if op.action == "POST /annotationtasks")
    assert "due 7 days after creation" in task.description and isinstance(task.payload["dueDate"], float)
    assert "deadline" not in warned(client.plan(example("task_from_items")))  # a deadline: nothing to say
    assert "every pipeline task node" in warned(client.plan(example("pipeline_task_node")))["deadline"]


def test_no_distribution_is_dtlpys_fixed_workload_not_pulling(client) -> None:
    from annotate_dataloop import payloads

    from .test_payloads import IDS

    spec = example("task_whole_dataset", distribution=DROP)
    assert "distribution" not in spec.model_fields_set
    body = payloads.annotation_task_body(spec, query={"filter": {}}, ids=IDS, create_id="c", due=1.0)
    # the weighted workload, not a pulling task (no batchSize / maxBatchWorkload, weights kept)
    assert body["workload"] == [{"assigneeId": "annotator1@dataloop.ai", "load": 67},
                                {"assigneeId": "annotator2@dataloop.ai", "load": 33}]
    assert "system" not in body["metadata"]
    assert "split up front among workforce.assignees by their weights" in warned(client.plan(spec))["distribution"]
    pulling = warned(client.plan(example("pulling_task", workforce={"assignees": [
        {"id": "a@x.io", "weight": 2}, {"id": "b@x.io", "weight": 1}]},
        distribution={"kind": "pulling", "batch_size": 10})))
    assert "weights are ignored" in pulling["workforce.assignees"]
    assert "batch_size + 2 = 12" in pulling["distribution.max_batch_workload"]
    assert "distribution" not in pulling


def test_other_meaning_changes_are_warned(client) -> None:
    consensus = warned(client.plan(example("consensus_task", overlap={"count": 2, "fraction": 0.5})))
    assert "Dataloop picks which 50% of the items" in consensus["overlap.fraction"]
    partial = warned(client.plan(example("qa_task", review={"fraction": 0.25, "reviewers": ["r@x.io"],
                                                             "on_reject": "discard"})))
    assert "not a random sample" in partial["review.fraction"]
    flt = warned(client.plan(example("task_from_filter")))
    assert "makes it the dataset's recipe" in flt["outputs"] and "no draft state" in flt["source"]
    yes_no = warned(client.plan(example("task_from_filter", outputs=[{"name": "ok", "type": "bool"}])))
    assert "two labels of the recipe, 'true' and 'false'" in yes_no["outputs.0.type"]
    chosen = warned(client.plan(example("task_from_filter", options={"dataloop": {"recipe_id": "r" * 24}})))
    assert "outputs" not in chosen
    result = CliRunner().invoke(cli, ["plan", str(EXAMPLES / "dataloop_pipeline_task_node.yaml"),
                                      "--backend", "dataloop", "--json"])
    assert result.exit_code == 0, result.output
    paths = {w["path"] for w in json.loads(result.output)["warnings"]}
    assert {"deadline", "outputs"} <= paths


# ---- env: dtlpy's environments -------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "url"), [("prod", "https://gate.dataloop.ai/api/v1"),
                                          ("rc", "https://rc-gate.dataloop.ai/api/v1"),
                                          ("dev", "https://dev-gate.dataloop.ai/api/v1")])
def test_env_option_picks_dtlpys_gate(env: str, url: str) -> None:
    backend = DataloopBackend(env=env)
    assert backend.gate.base_url == url
    assert backend.gate._token_url == url.removesuffix("/api/v1") + "/token?default"  # refresh on the same gate
    backend.close_backend()
    assert DataloopBackend().base_url == "https://gate.dataloop.ai/api/v1"
    assert DataloopBackend(base_url="https://dl.corp.example/api/v1").base_url == "https://dl.corp.example/api/v1"


@pytest.mark.parametrize(("options", "message"), [
    ({"env": "staging"}, r"option 'env' of backend 'dataloop': expected one of 'prod', 'rc', 'dev' .*dl\.setenv.*"
                         r"got 'staging'; for another gate \(on-prem\) set 'base_url'"),
    ({"env": "rc", "base_url": "https://gate.dataloop.ai/api/v1"},
     r"options 'env' \('rc'.*and 'base_url'.*set only one"),
    ({"base_url": "gate.dataloop.ai"}, r"option 'base_url' of backend 'dataloop': expected the gate's REST base URL"),
])
def test_env_and_base_url_errors_name_the_option(options: dict[str, Any], message: str) -> None:
    from annotate_core.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        DataloopBackend(**options)
    assert DataloopBackend(env="prod", base_url="https://gate.dataloop.ai/api/v1/").base_url  # the same gate: fine


def test_uploaded_items_plan(no_network: list[Any]) -> None:
    backend = DataloopBackend(project="my-project", dataset="uploads")
    spec = example("task_from_filter", source={"kind": "items"})
    ops = backend.plan(spec, n_items=250)
    acts = [op.action for op in ops]
    assert "POST /datasets/<id of dataset 'uploads'>/items?mode=skip" in acts
    task = ops[acts.index("POST /annotationtasks")].payload
    assert task["emptyTask"] is True
    upload = ops[acts.index("POST /datasets/<id of dataset 'uploads'>/items?mode=skip")]
    assert "250 item(s)" in upload.description and "link items" in upload.description
    assert upload.payload["path"] == "/annotate/annotate-unlabeled-items/k-" + upload.payload["path"].split("/k-")[1]
    assert json.loads(upload.payload["file"])["metadata"]["linkInfo"]["ref"] == "<image>"
    assert "3 batch(es)" in ops[acts.index("POST /datasets/<id of dataset 'uploads'>/query")].description
    assert no_network == []


# ---- client-side limits ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("distribution", "message"),
    [
        ({"kind": "pulling", "batch_size": 2, "max_batch_workload": 4}, r"batch_size: .*3 to 100 items, got 2"),
        ({"kind": "pulling", "batch_size": 101}, r"3 to 100 items, got 101"),
        ({"kind": "pulling", "batch_size": 10, "max_batch_workload": 11}, r"allows 12 to 20 .*got 11"),
        ({"kind": "pulling", "batch_size": 5, "max_batch_workload": 20}, r"allows 7 to 10 .*got 20"),
    ],
)
def test_pulling_limits_refused_at_plan_and_before_any_request(client, distribution, message, no_network) -> None:
    spec = example("pulling_task", distribution=distribution)
    with pytest.raises(SpecError, match=message):
        client.plan(spec)
    with pytest.raises(SpecError, match=message):
        client.create_job(spec)
    assert no_network == []


@pytest.mark.parametrize(("batch", "workload"), [(3, 5), (3, 6), (100, 102), (100, 200), (10, 15)])
def test_pulling_limits_accept_the_bounds(client, batch: int, workload: int) -> None:
    spec = example("pulling_task", distribution={"kind": "pulling", "batch_size": batch,
                                                 "max_batch_workload": workload})
    body = next(op.payload for op in client.plan(spec).operations if op.action == "POST /annotationtasks")
    system = body["metadata"]["system"]
    assert (system["batchSize"], system["maxBatchWorkload"]) == (batch, workload)


def test_default_workload_is_the_minimum(client) -> None:
    spec = example("pulling_task", distribution={"kind": "pulling", "batch_size": 10})
    body = next(op.payload for op in client.plan(spec).operations if op.action == "POST /annotationtasks")
    assert body["metadata"]["system"]["maxBatchWorkload"] == 12


def test_explicit_pulling_with_consensus_is_refused(client, no_network) -> None:
    spec = example("consensus_task", distribution={"kind": "pulling", "batch_size": 10})
    with pytest.raises(SpecError, match="consensus as a pulling task"):
        client.plan(spec)
    assert no_network == []


def test_unknown_dataloop_option_is_named(client) -> None:
    spec = example("pipeline_task_node", options={"dataloop": {"task_ower": "x"}})
    with pytest.raises(SpecError, match=r"options\.dataloop.*task_ower"):
        client.plan(spec)


# ---- capabilities Dataloop lacks ------------------------------------------------------------------


REFUSED = {
    "crowd filters": ({"workforce": {"filter": {"attribute": "languages", "op": "in", "value": ["EN"]}}},
                      "workforce.filters", "e-mails"),
    "pricing": ({"pricing": {"reward_per_batch": 0.05}}, "pricing.reward", "remove pricing"),
    "quality rules": ({"quality": {"rules": [{"when": [{"metric": "fast_submits", "faster_than_seconds": 5}],
                                              "then": {"action": "ban"}}]}}, "quality.fast_submits",
                      "no automatic quality rules"),
    "golden mixing": ({"distribution": {"kind": "pulling", "batch_size": 10, "golden_per_batch": 1}},
                      "golden.per_batch", "golden_per_batch to 0"),
    "requeue": ({"review": {"fraction": 1, "on_reject": "requeue"}}, "review.requeue", "'discard'"),
    "interface": ({"interface": {"components": [{"kind": "image", "field": "image"},
                                                {"kind": "radio", "field": "label"}]}}, "interface.components",
                  "studio"),
    "free text": ({"outputs": [{"name": "label", "type": "free_text"}]}, "output.free_text", "label/labels"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_dataloop_cannot_do_is_refused_before_any_request(client, case: str, no_network) -> None:
    overrides, capability, hint = REFUSED[case]
    spec = example("pulling_task", **overrides)
    plan = client.plan(spec)
    assert not plan.ok and plan.operations == []
    refused = {u.capability.value: u for u in plan.unsupported}
    assert capability in refused and hint in refused[capability].hint
    with pytest.raises(UnsupportedFeatureError, match="dataloop"):
        client.create_job(spec)
    assert no_network == []


def test_cli_plan_shows_the_dataloop_objects() -> None:
    result = CliRunner().invoke(cli, ["plan", str(EXAMPLES / "dataloop_pulling_task.yaml"), "--backend", "dataloop",
                                      "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    body = next(op["payload"] for op in plan["operations"] if op["action"] == "POST /annotationtasks")
    assert body["metadata"]["system"]["batchSize"] == 10 and body["metadata"]["system"]["maxBatchWorkload"] == 15
    text = CliRunner().invoke(cli, ["plan", str(EXAMPLES / "dataloop_pulling_task.yaml"), "--backend", "dataloop"])
    assert "pulling batches of 10, at most 15 open per assignee" in text.output


def test_cli_plan_refuses_with_exit_2(tmp_path) -> None:
    spec = (EXAMPLES / "dataloop_pulling_task.yaml").read_text() + "pricing: {reward_per_batch: 0.1}\n"
    path = tmp_path / "priced.yaml"
    path.write_text(spec)
    result = CliRunner().invoke(cli, ["plan", str(path), "--backend", "dataloop"])
    assert result.exit_code == 2 and "pricing" in result.output


def test_plan_shows_custom_statuses(client) -> None:
    statuses = ["completed", "discard", {"action": "unclear", "display_name": "Can't tell", "color": "#ffaa00"}]
    plan = client.plan(example("task_from_items", options={"dataloop": {"statuses": statuses}}))
    task = next(op for op in plan.operations if op.action == "POST /annotationtasks")
    assert [a["action"] for a in task.payload["availableActions"]] == ["completed", "discard", "unclear"]
    assert "item statuses completed, discard, unclear (\"Can't tell\")" in task.description


def test_statuses_with_a_pipeline_are_refused_before_any_request(client, no_network) -> None:
    spec = example("pipeline_task_node", options={"dataloop": {"statuses": ["completed", "unclear"]}})
    with pytest.raises(SpecError, match=r"options\.dataloop\.statuses: .*pipeline task nodes take no "
                                        r"availableActions"):
        client.plan(spec)
    with pytest.raises(SpecError, match=r"options\.dataloop\.statuses"):
        client.create_job(spec)
    assert no_network == []
