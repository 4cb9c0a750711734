"""Webhooks: subscribed events are POSTed as JSON after they commit, retried, and given up on."""

from __future__ import annotations

import json

import pytest
import responses

from .conftest import make_spec

HOOK = "https://hooks.example.com/annotate"
ONE = {"kind": "pulling", "batch_size": 1}


@pytest.fixture
def hooked(started):
    def make(n=2, events=("submitted", "completed")):
        return started(n, distribution=ONE, webhooks=[{"url": HOOK, "events": list(events)}])

    return make


@responses.activate
def test_subscribed_events_are_posted(hooked):
    responses.post(HOOK, json={"ok": True})
    job, _ = hooked(2)
    b = job.pull("a")
    job.submit(b.assignment, ["cat"])
    assert len(responses.calls) == 1
    body = json.loads(responses.calls[0].request.body)
    assert body["event"] == "submitted" and body["job_id"] == job.id and body["worker"] == "a"
    assert body["assignment"] == b.assignment and body["at"].endswith("+00:00")
    assert responses.calls[0].request.headers["Idempotency-Key"].startswith(f"annotate-{job.id}-")
    job.review(b.assignment, accept=True)  # "accepted" is not subscribed: nothing sent
    assert len(responses.calls) == 1
    job.submit(job.pull("a").assignment, ["dog"])
    assert [json.loads(c.request.body)["event"] for c in responses.calls] == ["submitted", "submitted", "completed"]
    assert {d["status"] for d in job.backend.webhook_deliveries(job.id)} == {"sent"}


@responses.activate
def test_a_failed_delivery_is_retried_on_the_next_change(hooked):
    responses.post(HOOK, status=503)
    job, _ = hooked(3, events=("submitted",))
    job.submit(job.pull("a").assignment, ["cat"])
    [d] = job.backend.webhook_deliveries(job.id)
    assert d["status"] == "pending" and d["attempts"] == 1 and "503" in d["last_error"]
    responses.replace(responses.POST, HOOK, json={})
    job.submit(job.pull("b").assignment, ["cat"])
    deliveries = job.backend.webhook_deliveries(job.id)
    assert [(d["status"], d["attempts"]) for d in deliveries] == [("sent", 2), ("sent", 1)]


@responses.activate
def test_delivery_gives_up_after_max_attempts(hooked):
    from annotate_local.webhooks import MAX_ATTEMPTS

    responses.post(HOOK, status=500)
    job, _ = hooked(1, events=("submitted",))
    job.submit(job.pull("a").assignment, ["cat"])
    for _ in range(MAX_ATTEMPTS + 2):
        job.backend.deliver_webhooks(job.id)
    [d] = job.backend.webhook_deliveries(job.id)
    assert d["status"] == "failed" and d["attempts"] == MAX_ATTEMPTS
    assert len(responses.calls) == MAX_ATTEMPTS


def test_webhook_urls_must_be_https():
    with pytest.raises(ValueError, match="https"):
        make_spec(webhooks=[{"url": "http://hooks.example.com/x", "events": ["submitted"]}])
