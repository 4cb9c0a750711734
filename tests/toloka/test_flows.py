"""Skills, training pools, webhooks and task suites on cassettes (seed 002's "medium level" pool)."""

from __future__ import annotations

import pytest
from annotate_toloka import TolokaBackend

from annotate_core.client import Client
from annotate_core.errors import VendorValidationError
from annotate_core.items import Item
from annotate_core.specfile import spec_from_dict

from . import expected as e

pytestmark = pytest.mark.vcr

POOL, TRAINING, SKILL = "36502086", "36502085", "41586"


def test_medium_pool_with_training_skills_and_webhooks(backend: TolokaBackend, sleeps: list[float], vcr) -> None:
    job = Client(backend).create_job(e.MEDIUM)
    # custom_skill was looked up by name, created, and its id put into the filter and dynamic pricing
    assert job.id.isdigit()
    golden = {"text_result": "a cat", "radio_result": "option_1", "checkbox_result": ["option_1"],
              "dropdown_result": "option_1"}
    job.add_items([Item(key="gold-1", inputs={"image": "https://example.com/gold/1.jpg"}, golden=golden)],
                  progress=False)
    job.start()  # golden_per_batch 1: one golden task is there; the training pool opens before the pool
    backend.archive(job.id)
    assert vcr.all_played
    assert len(sleeps) == 2 + 2 + 5  # two upload polls; two opens; close + 4 archives/closes


@pytest.mark.synthetic
def test_skill_flows(make_backend, vcr) -> None:
    backend = make_backend(page_size=2)
    skills = backend.list_skills()
    assert [s["name"] for s in skills] == ["cats-vs-dogs accuracy", "custom_skill", "old"]
    assert backend.resolve_skill("cats-vs-dogs accuracy") == SKILL  # found, not created again
    fresh = backend.create_skill("fresh skill", description="Made by annotate")
    assert fresh["id"] == "41602"
    updated = backend.update_skill(SKILL, name="cats vs dogs")  # only editable fields go back
    assert updated["name"] == "cats vs dogs"
    user_skill = backend.set_user_skill(SKILL, "b4d8bcc33403cae9eb69991c8bb90bdc", 85.5)
    assert (user_skill["value"], user_skill["exact_value"]) == (86, 85.5)
    backend.delete_user_skill(user_skill["id"])
    assert vcr.all_played


def test_set_user_skill_checks_the_value_before_sending(backend: TolokaBackend) -> None:
    with pytest.raises(ValueError, match="value: expected a number from 0 to 100"):
        backend.set_user_skill(SKILL, "u1", 120)
    with pytest.raises(ValueError, match=r"cannot change \['id'\]"):
        backend.update_skill(SKILL, id="1")


@pytest.mark.synthetic
def test_webhook_subscriptions_rejected(backend: TolokaBackend) -> None:
    with pytest.raises(VendorValidationError) as err:
        backend.api.upsert_webhooks(e.medium_webhooks(POOL))
    assert [(d.field, d.code) for d in err.value.details] == [("webhooks.1.webhook_url", "INVALID_URL")]


@pytest.mark.synthetic
def test_task_suites_upload(backend: TolokaBackend, vcr) -> None:
    spec = spec_from_dict({
        "name": "suites", "inputs": [{"name": "image", "type": "image"}],
        "outputs": [{"name": "result", "type": "label", "options": ["cat", "dog"]}],
        "distribution": {"kind": "pulling", "batch_size": 2}, "pricing": {"reward_per_batch": 0.01},
        "options": {"toloka": {"task_suites": True}},
    })
    items = [Item(key=f"cat-{i}", inputs={"image": f"https://tlk.s3.yandex.net/dataset/cats_vs_dogs/"
                                                   f"{'cat' if i % 2 == 0 else 'dog'}s/cat{i}.jpg"})
             for i in range(3)]
    report = Client(backend).job(POOL, spec=spec).add_items(items, progress=False)
    assert (report.created, report.errors) == (3, [])
    assert vcr.all_played
