"""Capabilities: specs are checked against what a backend declares, before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotate_core import Capability, UnsupportedFeatureError, check, connect, load_spec, required_capabilities
from annotate_core.capabilities import CAPABILITY_DESCRIPTIONS

from .conftest import make_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_every_capability_is_described() -> None:
    assert set(CAPABILITY_DESCRIPTIONS) == set(Capability)


def test_a_plain_spec_needs_little() -> None:
    caps = {r.capability for r in required_capabilities(make_spec())}
    assert caps == {Capability.UPLOAD_ITEMS, Capability.OUTPUT_LABEL, Capability.PULLING}


def test_medium_pool_needs_crowd_features_with_paths() -> None:
    reqs = required_capabilities(load_spec(EXAMPLES / "toloka_medium_pool.yaml"))
    by_cap = {r.capability: r for r in reqs}
    for cap in (Capability.CROWD_FILTERS, Capability.SKILL_FILTERS, Capability.TRAINING,
                Capability.DYNAMIC_PRICING, Capability.WEBHOOKS, Capability.RULE_FAST_SUBMITS,
                Capability.RULE_SKILL, Capability.LIMIT_PER_WORKER, Capability.OUTPUT_LABELS,
                Capability.MULTIPLE_OUTPUTS, Capability.GOLDEN_MIXING):
        assert cap in by_cap, cap
    assert by_cap[Capability.RULE_SKILL].path == "quality.rules.1.when.0"
    assert by_cap[Capability.DYNAMIC_PRICING].path == "pricing.dynamic"


def test_check_lists_every_gap_at_once_with_hints() -> None:
    spec = make_spec(
        workforce={
            "assignees": ["a@x.io", "b@x.io"],
            "filter": {"attribute": "languages", "op": "in", "value": ["EN"]},
        },
        distribution={"kind": "fixed"},
        overlap={"count": 2, "fraction": 0.5},
    )
    gaps = check(spec, "vendor", {Capability.UPLOAD_ITEMS, Capability.OUTPUT_LABEL, Capability.OVERLAP})
    caps = [u.capability for u in gaps]
    assert caps == [Capability.ASSIGNEES, Capability.CROWD_FILTERS, Capability.FIXED_WORKLOAD,
                    Capability.PARTIAL_OVERLAP]
    assert all(u.backend == "vendor" for u in gaps)
    fixed = gaps[2]
    assert "pulling" in fixed.hint and fixed.path == "distribution"
    assert "distribution.fixed" in fixed.describe()


def test_backend_hints_override_defaults() -> None:
    spec = make_spec(workforce={"assignees": ["a@x.io"]}, distribution={"kind": "fixed"})
    gaps = check(spec, "v", {Capability.UPLOAD_ITEMS, Capability.OUTPUT_LABEL, Capability.ASSIGNEES},
                 hints={Capability.FIXED_WORKLOAD: "ask the vendor"})
    assert [u.hint for u in gaps] == ["ask the vendor"]


def test_create_job_refuses_before_calling_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    client = connect(driver="memory")
    calls: list[str] = []
    monkeypatch.setattr(client.backend, "create_job", lambda spec: calls.append("create") or "x")
    spec = make_spec(workforce={"assignees": ["a@x.io"]}, distribution={"kind": "fixed"})
    with pytest.raises(UnsupportedFeatureError) as err:
        client.create_job(spec)
    assert calls == []
    assert err.value.backend == "memory"
    assert {u.capability for u in err.value.unsupported} == {Capability.ASSIGNEES, Capability.FIXED_WORKLOAD}
    assert "the memory backend only hands out work by pulling" in str(err.value)
