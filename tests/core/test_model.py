"""The neutral model: every seed's features load, and bad specs name the field at fault."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from annotate_core import (
    AllOf,
    AnyOf,
    Attribute,
    Ban,
    Condition,
    FastSubmits,
    JobSpec,
    Overlap,
    Pulling,
    SpecError,
    load_spec,
    spec_from_dict,
)
from annotate_core.model.workforce import iter_conditions
from annotate_core.specfile import dump_spec

from .conftest import make_spec

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


def test_there_is_an_example_for_every_seed_flow() -> None:
    names = {p.stem for p in EXAMPLES}
    assert {
        "cats_vs_dogs", "toloka_medium_pool", "dataloop_task_from_filter", "dataloop_task_from_items",
        "dataloop_task_whole_dataset", "dataloop_qa_task", "dataloop_pulling_task",
        "dataloop_consensus_task", "dataloop_pipeline_task_node",
    } <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_load_and_round_trip(path: Path) -> None:
    spec = load_spec(path)
    again = spec_from_dict(__import__("yaml").safe_load(dump_spec(spec)))
    assert again == spec


def test_cats_vs_dogs_expresses_seed_001() -> None:
    spec = load_spec(Path(__file__).resolve().parents[2] / "examples" / "cats_vs_dogs.yaml")
    assert spec.output("result").option_values == ("cat", "dog")
    assert isinstance(spec.distribution, Pulling)
    assert (spec.distribution.batch_size, spec.distribution.golden_per_batch) == (10, 1)
    assert spec.overlap.count == 3
    assert spec.pricing and spec.pricing.reward_per_batch == 0.005
    assert spec.quality.captcha_frequency == "medium"
    assert any(isinstance(c, FastSubmits) for r in spec.quality.rules for c in r.when)
    assert all(isinstance(r.then, Ban) for r in spec.quality.rules)
    assert spec.review and spec.review.fraction == 0.1
    assert spec.deadline == timedelta(days=365)
    assert spec.interface and spec.interface.task_width == 400


def test_medium_pool_expresses_seed_002() -> None:
    spec = load_spec(Path(__file__).resolve().parents[2] / "examples" / "toloka_medium_pool.yaml")
    f = spec.workforce.filter
    assert isinstance(f, AllOf)
    assert isinstance(f.all[-1], AnyOf)  # client type: browser OR app
    attrs = [c.attribute for c in iter_conditions(f)]
    assert attrs.count(Attribute.CLIENT_TYPE) == 2
    assert Attribute.SKILL in attrs and Attribute.REGION_BY_IP in attrs
    assert spec.training and spec.training.passing_score == 80
    assert spec.training.items[0].golden["radio_result"] == "option_1"
    assert spec.pricing and spec.pricing.dynamic and spec.pricing.dynamic.intervals[0].from_ == 80
    assert spec.limits.max_batches_per_worker == 50
    assert [e.value for e in spec.webhooks[0].events] == ["submitted", "accepted"]
    assert spec.review and spec.review.auto_accept_after_days == 7


def test_specs_are_immutable(spec: JobSpec) -> None:
    with pytest.raises(ValidationError):
        spec.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"inputs": [{"name": "image", "type": "label", "options": ["a", "b"]}]}, "inputs.image: type 'label'"),
        ({"outputs": [{"name": "result", "type": "label", "options": ["cat"]}]}, "outputs.0: a 'label' field needs"),
        ({"outputs": [{"name": "result", "type": "number", "options": ["1", "2"]}]}, "options are only allowed"),
        ({"inputs": [{"name": "1bad", "type": "text"}]}, "inputs.0.name"),
        ({"overlap": {"count": 0}}, "overlap.count"),
        ({"distribution": {"kind": "pulling", "batch_size": 10, "max_batch_workload": 5}}, "max_batch_workload (5)"),
        ({"distribution": {"kind": "fixed"}}, "needs workforce.assignees"),
        ({"distribution": {"kind": "batched"}}, "distribution"),
        ({"colour": "blue"}, "colour: Extra inputs are not permitted"),
        ({"interface": {"components": [{"kind": "radio", "field": "nope"}]}}, "interface.components.0.field: 'nope'"),
        ({"interface": {"components": [{"kind": "checkbox", "field": "result"}]}}, "cannot answer a 'label' field"),
        ({"interface": {"components": [{"kind": "image", "field": "image"}]}}, "no component answers"),
        ({"webhooks": [{"url": "http://x.example/h", "events": ["submitted"]}]}, "https"),
        ({"review": {"fraction": 1.5}}, "review.fraction"),
        ({"pipeline": {"stages": [{"kind": "review"}]}}, "first stage must be 'annotate'"),
    ],
)
def test_invalid_specs_name_the_field(overrides: dict, needle: str) -> None:
    with pytest.raises(SpecError) as err:
        spec_from_dict({"name": "x", "inputs": [{"name": "image", "type": "image"}],
                        "outputs": [{"name": "result", "type": "label", "options": ["cat", "dog"]}], **overrides})
    assert needle in str(err.value)


def test_filter_conditions_are_checked() -> None:
    with pytest.raises(ValidationError, match="needs `skill`"):
        Condition(attribute="skill", op="gt", value=1)
    with pytest.raises(ValidationError, match="expects a non-empty list"):
        Condition(attribute="languages", op="in", value="EN")
    with pytest.raises(ValidationError, match="expects a number"):
        Condition(attribute="accepted_count", op="gt", value="many")
    with pytest.raises(ValidationError, match="'browser' or 'app'"):
        Condition(attribute="client_type", op="eq", value="desktop")
    assert Condition(attribute="languages", op="in", value=["EN", "DE"]).values == ("EN", "DE")


def test_spec_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ninputs: []\noutputs: [{name: r, type: label, options: [a, b]}]\n")
    with pytest.raises(SpecError, match=r"bad.yaml: 1 problem\(s\)\n  - inputs:"):
        load_spec(bad)
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(broken)
    with pytest.raises(SpecError, match="does not exist"):
        load_spec(tmp_path / "missing.yaml")


def test_toml_specs_load(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_text(
        'name = "t"\n[[inputs]]\nname = "text"\ntype = "text"\n'
        '[[outputs]]\nname = "sentiment"\ntype = "label"\noptions = ["pos", "neg"]\n'
    )
    assert load_spec(p).output("sentiment").option_values == ("pos", "neg")


def test_partial_overlap_is_stable_and_close_to_the_fraction() -> None:
    ov = Overlap(count=3, fraction=0.3)
    keys = [f"item-{i}" for i in range(5000)]
    first = [ov.for_key(k) for k in keys]
    assert first == [ov.for_key(k) for k in keys]  # same in every run and on every backend
    assert set(first) == {1, 3}
    share = first.count(3) / len(keys)
    assert 0.27 < share < 0.33
    assert Overlap(count=2).for_key("anything") == 2


def test_relative_and_absolute_deadlines() -> None:
    created = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert make_spec(deadline="P10D").deadline_at(created) == datetime(2026, 1, 11, tzinfo=timezone.utc)
    naive = make_spec(deadline="2029-01-01T00:00:00").deadline_at(created)
    assert naive == datetime(2029, 1, 1, tzinfo=timezone.utc)
    assert make_spec().deadline_at(created) is None


def test_default_interface_is_derived_from_fields() -> None:
    spec = make_spec(outputs=[
        {"name": "result", "type": "label", "options": ["cat", "dog"]},
        {"name": "tags", "type": "labels", "options": ["a", "b"]},
        {"name": "note", "type": "free_text", "required": False},
    ])
    kinds = [c.kind for c in spec.effective_interface().components]
    assert kinds == ["image", "radio", "checkbox", "text_input"]


def test_schema_describes_every_top_level_field() -> None:
    schema = JobSpec.model_json_schema()
    assert set(JobSpec.model_fields) <= set(schema["properties"])
    assert schema["additionalProperties"] is False
