"""Plans tell the truth: a backend's warnings (meaning or cost changed) and its finer refusals."""

from __future__ import annotations

import json

import pytest

from annotate_core import PlanWarning, connect
from annotate_core.capabilities import Capability, Unsupported
from annotate_core.errors import UnsupportedFeatureError

from .conftest import make_spec


@pytest.fixture
def client(tmp_path):
    c = connect(driver="local", path=str(tmp_path / "a.db"))
    yield c
    c.close()


def test_backend_warnings_are_in_the_plan_its_text_and_its_json(client, monkeypatch) -> None:
    monkeypatch.setattr(client.backend, "warnings", lambda spec, n_items=None: [
        PlanWarning("review.fraction", "every assignment is reviewed, not 10%")])
    plan = client.plan(make_spec(), n_items=10)
    assert plan.ok
    assert plan.warnings == [PlanWarning("review.fraction", "every assignment is reviewed, not 10%", "local")]
    assert "! review.fraction: every assignment is reviewed, not 10%" in plan.render()
    data = json.loads(json.dumps(plan.to_dict()))
    assert data["warnings"] == [{"path": "review.fraction", "message": "every assignment is reviewed, not 10%",
                                 "backend": "local"}]


def test_no_warnings_by_default(client) -> None:
    plan = client.plan(make_spec(), n_items=10)
    assert plan.warnings == [] and "changes what the spec says" not in plan.render()


def test_check_spec_refuses_in_plan_and_before_create(client, monkeypatch, tmp_path) -> None:
    gap = Unsupported("local", Capability.WEBHOOKS, "webhook event 'x'", "webhooks[0].events", "drop it")
    monkeypatch.setattr(client.backend, "check_spec", lambda spec: [gap])
    plan = client.plan(make_spec(), n_items=10)
    assert not plan.ok and plan.unsupported == [gap] and plan.operations == []
    called: list[str] = []
    monkeypatch.setattr(client.backend, "create_job", lambda *a, **k: called.append("x") or "x")
    with pytest.raises(UnsupportedFeatureError) as err:
        client.create_job(make_spec())
    assert err.value.unsupported == [gap] and called == []
