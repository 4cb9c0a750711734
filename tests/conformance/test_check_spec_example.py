"""The guide's ``check_spec`` example (refuse one webhook event type), run as written on a plugin."""

from __future__ import annotations

import pytest
from annotate_memory import MemoryBackend

from annotate_core import Capability, Client, JobSpec, Unsupported, UnsupportedFeatureError
from annotate_core.model.commercial import Event
from annotate_core.testing import base_spec

ACME_EVENTS = {Event.SUBMITTED, Event.COMPLETED}


class WebhookBackend(MemoryBackend):
    name = "memory-webhooks"
    capabilities = MemoryBackend.capabilities | {Capability.WEBHOOKS}

    def check_spec(self, spec: JobSpec) -> list[Unsupported]:  # as in docs/plugins.md
        gaps = []
        for i, hook in enumerate(spec.webhooks):
            for event in hook.events:
                if event not in ACME_EVENTS:
                    gaps.append(Unsupported(
                        self.name, Capability.WEBHOOKS, f"webhook event {event.value!r}", f"webhooks[{i}].events",
                        "Acme sends submitted and completed only: drop it, or poll job.progress()"))
        return gaps


def _spec(*events: str) -> JobSpec:
    return base_spec(WebhookBackend.capabilities,
                     webhooks=[{"url": "https://hooks.example.com/acme", "events": list(events)}])


def test_one_refused_event_type_stops_plan_and_create() -> None:
    client = Client(WebhookBackend())
    spec = _spec("submitted", "banned")
    plan = client.plan(spec)
    assert not plan.ok and plan.operations == []
    assert [(u.feature, u.path) for u in plan.unsupported] == [("webhook event 'banned'", "webhooks[0].events")]
    assert "poll job.progress()" in plan.render()
    with pytest.raises(UnsupportedFeatureError, match="webhook event 'banned'"):
        client.create_job(spec)
    assert client.backend._jobs == {}  # nothing was created


def test_the_supported_event_types_pass() -> None:
    client = Client(WebhookBackend())
    assert client.plan(_spec("submitted", "completed")).ok
    assert client.create_job(_spec("submitted")).id
