"""The CLI: schema, validate and plan, with the exit codes scripts rely on."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from annotate_core.cli.main import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_schema_is_the_job_spec_json_schema() -> None:
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["title"] == "JobSpec" and "distribution" in schema["properties"]


def test_validate_reports_fields(tmp_path: Path) -> None:
    assert run("validate", str(EXAMPLES / "cats_vs_dogs.yaml")).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ninputs: [{name: a, type: text}]\noutputs: [{name: r, type: label, options: [y]}]\n")
    result = run("validate", str(bad))
    assert result.exit_code == 1
    assert "outputs.0: a 'label' field needs at least 2 options" in result.output


def test_plan_exit_0_when_the_backend_can_run_it(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("name: s\ninputs: [{name: image, type: image}]\n"
                    "outputs: [{name: r, type: label, options: [a, b]}]\noverlap: {count: 3}\n"
                    "distribution: {kind: pulling, batch_size: 10}\n")
    result = run("plan", str(spec), "--backend", "memory", "--n-items", "100")
    assert result.exit_code == 0, result.output
    assert "1. create job: in-memory job 's'" in result.output
    assert "estimated cost: no pricing in the spec" in result.output


def test_plan_of_a_priced_spec_without_n_items_asks_for_them() -> None:
    from annotate_core.plan import CostEstimate, Plan

    plan = Plan("vendor", "s", reward="0.005 USD per batch of 9 item(s)")
    assert plan.render().endswith("estimated cost: unknown without the number of items: pass --n-items to "
                                  "estimate (reward 0.005 USD per batch of 9 item(s))")
    plan.cost = CostEstimate(18, 18, 2, 0.01, "USD")
    assert plan.render().endswith("estimated cost: 0.01 USD for 18 items (18 answers in 2 batches, vendor fees "
                                  "excluded)")
    assert Plan("vendor", "s").render().endswith("estimated cost: no pricing in the spec")


def test_cost_estimate_counts_batches_and_partial_overlap() -> None:
    from annotate_core import estimate_cost, spec_from_dict

    base = {"name": "s", "inputs": [{"name": "image", "type": "image"}],
            "outputs": [{"name": "r", "type": "label", "options": ["a", "b"]}],
            "pricing": {"reward_per_batch": 0.05}, "distribution": {"kind": "pulling", "batch_size": 10}}
    full = estimate_cost(spec_from_dict({**base, "overlap": {"count": 3}}), 100)
    assert (full.answers, full.batches, full.reward) == (300, 30, 1.5)
    half = estimate_cost(spec_from_dict({**base, "overlap": {"count": 3, "fraction": 0.5}}), 100)
    assert (half.answers, half.batches) == (200, 20)
    assert "1.50 USD for 100 items (300 answers in 30 batches" in full.describe()


def test_plan_exit_2_lists_every_unsupported_feature() -> None:
    result = run("plan", str(EXAMPLES / "toloka_medium_pool.yaml"), "--backend", "memory", "--json")
    assert result.exit_code == 2
    plan = json.loads(result.output)
    assert plan["ok"] is False and plan["operations"] == []
    caps = {u["capability"] for u in plan["unsupported"]}
    assert {"training", "webhooks", "pricing.dynamic", "workforce.filters", "quality.fast_submits"} <= caps
    assert all(u["backend"] == "memory" and u["hint"] for u in plan["unsupported"])


def test_unknown_backend_is_a_one_line_error() -> None:
    result = run("plan", str(EXAMPLES / "cats_vs_dogs.yaml"), "--backend", "acme")
    assert result.exit_code == 1
    assert result.output.startswith("error: backend 'acme' is not installed")


def test_plan_cost_counts_mixed_golden_items_as_riding_along() -> None:
    from annotate_memory import MemoryBackend

    from annotate_core import Capability, spec_from_dict
    from annotate_core.plan import make_plan

    class Paying(MemoryBackend):
        capabilities = MemoryBackend.capabilities | {Capability.REWARD, Capability.GOLDEN_MIXING}

    spec = spec_from_dict({"name": "s", "inputs": [{"name": "image", "type": "image"}],
                           "outputs": [{"name": "r", "type": "label", "options": ["a", "b"]}],
                           "overlap": {"count": 3}, "pricing": {"reward_per_batch": 0.005},
                           "distribution": {"kind": "pulling", "batch_size": 10, "golden_per_batch": 1}})
    cost = make_plan(Paying(), spec, n_items=202, n_golden=20).cost
    assert cost is not None
    assert (cost.answers, cost.batches) == (546, 55)  # 182 real items x 3; golden items add no batches


def test_jobs_on_a_backend_that_cannot_list_them_is_a_one_line_error() -> None:
    result = run("jobs", "--backend", "memory")
    assert result.exit_code == 2  # the backend cannot do this, as `annotate plan` exits for a refused spec
    assert result.output.strip() == "error: backend 'memory' cannot list jobs"
