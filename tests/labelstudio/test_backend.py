"""The Label Studio backend against the real server (live) and its recordings (replay): what the
conformance suite does not reach. Label Studio accepts every labeling config annotate generates;
overlap, skips, durations and workers come back from real annotators' work; the job's states; the
personal access (refresh) token; webhooks; and creates whose reply is lost, looked up before resending.
"""

from __future__ import annotations

from typing import Any

import pytest
from annotate_labelstudio import LabelStudioBackend
from annotate_labelstudio.labeling import labeling_config
from pydantic import SecretStr

from annotate_core import JobSpec
from annotate_core.backend import JobState
from annotate_core.client import Client
from annotate_core.testing import base_spec, conformance_items
from annotate_core.testing.faults import Fault, FaultPlan

from .conftest import RECORDING, key_for
from .faulty import proxied, read_timeout
from .labeling_work import label_everything
from .server import REPLAY_URL, Annotator, live_url
from .test_units import SPEC_VARIANTS

pytestmark = pytest.mark.vcr


def spec(**overrides: Any) -> JobSpec:
    return base_spec(LabelStudioBackend.capabilities, **overrides)


def test_label_studio_accepts_every_generated_config(make_backend) -> None:
    backend = make_backend()
    for name, data in [*SPEC_VARIANTS.items(), ("base", None)]:
        job_spec = JobSpec.model_validate(data) if data else spec()
        resp = backend.api.http.request("POST", "/api/projects/validate/",
                                        json={"label_config": labeling_config(job_spec, "k")}, idempotent=True)
        assert resp.status_code == 204, f"{name}: {resp.status_code} {resp.text[:200]}"


def test_overlap_skips_durations_and_workers_come_from_annotations(make_backend,
                                                                    annotators: list[Annotator]) -> None:
    client = Client(make_backend(), profile="studio")
    job = client.create_job(spec(overlap={"count": 2}))
    items = conformance_items(4, golden=1)
    job.add_items(items, progress=False)
    job.start()
    made = label_everything(job.spec, job.id, annotators, skip_every=3)
    df = job.answers()
    assert len(df) == made
    assert set(df["status"]) == {"submitted", "skipped"}
    submitted = df[df["status"] == "submitted"]
    # the queue gives each item to two different people; a skip frees the slot for someone else
    per_item = submitted.groupby("task")["worker"]
    assert (per_item.nunique() == 2).all() and (per_item.size() == 2).all()
    assert set(submitted["task"]) == {i.key for i in items}
    assert df["worker"].str.fullmatch(r"\d+").all() and df["worker"].nunique() <= len(annotators)
    assert df["label"][df["status"] == "skipped"].isna().all()
    assert ((df["duration_s"] >= 1.0) & (df["duration_s"] <= 7.0)).all()
    assert df[df["golden"]]["golden_label"].eq("cat").all() and set(df[df["golden"]]["task"]) == {items[0].key}
    progress = job.progress()
    assert (progress.total_items, progress.completed_items, progress.state) == (4, 4, JobState.COMPLETED)
    assert progress.submitted_answers == len(submitted) and progress.details["skipped"] == made - len(submitted)


def test_states_listing_and_stored_spec(make_backend) -> None:
    backend = make_backend()
    client = Client(backend, profile="studio")
    the_spec = spec(name="states", instructions="Label <b>carefully</b>")
    job = client.create_job(the_spec)
    assert job.progress().state is JobState.DRAFT
    job.add_items(conformance_items(2), progress=False)
    job.start()
    assert job.progress().state is JobState.OPEN
    job.close()
    assert job.progress().state is JobState.CLOSED
    row = next(r for r in backend.list_jobs() if r["id"] == job.id)
    assert (row["name"], row["state"], row["items"]) == ("states", "closed", 2)
    assert backend.get_spec(job.id) == the_spec
    job.start()  # reopening a closed job
    assert job.progress().state is JobState.OPEN


def test_personal_access_token_is_exchanged_for_bearer_tokens(make_backend, refresh_token: str) -> None:
    backend = make_backend(token=SecretStr(refresh_token))
    assert backend.settings.is_refresh_token()
    job = Client(backend, profile="studio").create_job(spec(name="bearer"))
    assert job.progress().state is JobState.DRAFT
    assert backend.api._token_client is not None  # the refresh endpoint was used, not the token itself


def test_webhooks_are_subscribed_once(make_backend, ls_mode: str) -> None:
    """The test server runs without SSRF protection (.ci/labelstudio.sh), so a loopback URL is taken."""
    backend = make_backend()
    client = Client(backend, profile="studio")
    hooked = spec(name="hooked", webhooks=[{"url": "https://127.0.0.1:9/annotate-hook",
                                            "events": ["submitted", "skipped"]}])
    key = key_for(ls_mode, "webhooks-once")
    job = client.create_job(hooked, key=key)
    again = client.create_job(hooked, key=key)
    assert (again.id, again.created) == (job.id, False)
    hooks = backend._webhooks(job.id)
    assert [(h["url"], sorted(h["actions"])) for h in hooks] == [
        ("https://127.0.0.1:9/annotate-hook", sorted(["ANNOTATION_CREATED", "ANNOTATIONS_CREATED"]))]
    assert backend.find_job(key) == job.id


def _upstream(ls_mode: str) -> str:
    return (live_url() or "").replace("://127.0.0.1:", "://localhost:") if ls_mode == "live" or RECORDING \
        else REPLAY_URL


def test_lost_create_reply_is_looked_up_not_resent(make_backend, ls_mode: str, vcr) -> None:
    """The project create's reply is lost after Label Studio made it: the key finds it, no second POST."""
    key = key_for(ls_mode, "lost-create")
    # listing for find_job (1), listing in create_job (2), the create (3): its reply is lost
    with proxied(_upstream(ls_mode), vcr, FaultPlan(server={3: Fault.LOST_REPLY})) as server:
        backend = make_backend(url=server.url, page_size=1000, timeout=(2.0, read_timeout(vcr)))
        job = Client(backend, profile="studio").create_job(spec(name="lost create"), key=key)
        assert server.plan is not None and server.plan.fired
    admin = make_backend(page_size=1000)
    assert [str(p["id"]) for p in admin._keyed_projects(key)] == [job.id]


def test_import_after_an_error_sends_only_the_missing_tasks(make_backend, ls_mode: str, vcr) -> None:
    """A 500 after Label Studio imported: the keys are listed again and nothing is imported twice."""
    admin = make_backend()
    job = Client(admin, profile="studio").create_job(spec(name="lost import"))
    items = conformance_items(5, prefix="imp")
    # project (1), keys (2), import (3): answered 500 after it was carried out
    with proxied(_upstream(ls_mode), vcr, FaultPlan(server={3: Fault.ERROR_AFTER})) as server:
        backend = make_backend(url=server.url, timeout=(2.0, read_timeout(vcr)))
        report = backend.add_items(job.id, job.spec, items)
        assert server.plan is not None and server.plan.fired
    assert (report.created, report.existing) == (5, 0)
    assert sorted(admin.existing_keys(job.id)) == [i.key for i in items]
    assert job.progress().total_items == 5
