"""Golden mixing, training, quality rules and their actions, crowd filters and skills."""

from __future__ import annotations

import pytest
from annotate_local import BannedError, NotAllowedError

from annotate_core.backend import JobState
from annotate_core.errors import JobStateError
from annotate_core.items import Item

from .conftest import make_items, make_spec

PULL5 = {"kind": "pulling", "batch_size": 5}


def answer_all(job, batch, value="cat", **kw):
    return job.submit(batch.assignment, [value] * len(batch), **kw)


def rule(when, then):
    return {"quality": {"rules": [{"name": "r", "when": [when], "then": then}]}}


def test_golden_items_are_mixed_into_every_batch(started):
    job, items = started(20, golden=4, distribution={**PULL5, "golden_per_batch": 1})
    golden_keys = {i.key for i in items if i.is_golden}
    b = job.pull("a")
    assert len(b) == 6 and len(set(b.keys) & golden_keys) == 1
    res = job.submit(b.assignment, {k: "cat" for k in b.keys})
    assert res.golden_total == 1
    p = job.progress()
    assert p.total_items == 16 and p.details["golden_items"] == 4  # golden items are control, not work


def test_wrong_golden_answers_come_back_with_the_hint(client):
    job = client.create_job(make_spec(distribution={**PULL5, "golden_per_batch": 1}))
    job.add_items([*make_items(5), Item(key="g", inputs={"image": "https://e.com/g.jpg"}, golden={"result": "dog"},
                                        hint="Look at the ears")], progress=False)
    job.start()
    b = job.pull("a")
    res = job.submit(b.assignment, {k: "cat" for k in b.keys})
    assert res.golden_correct == 0 and res.mistakes[0].key == "g"
    assert res.mistakes[0].hint == "Look at the ears" and res.mistakes[0].expected == {"result": "dog"}
    df = job.answers()
    g = df[df["golden"]]
    assert list(g["golden_label"]) == ["dog"] and list(g["label"]) == ["cat"]


def test_without_mixing_golden_items_queue_like_any_item(started):
    job, _items = started(4, golden=2)
    b = job.pull("a")
    assert len(b) == 4  # batch_size 10: everything, golden included
    job.submit(b.assignment, {k: "cat" for k in b.keys})
    assert job.progress().state is JobState.COMPLETED


def test_golden_accuracy_rule_bans_for_its_duration_and_scope(client, clock):
    spec = make_spec(distribution={**PULL5, "golden_per_batch": 1}, **rule(
        {"metric": "golden_accuracy", "window": 5, "below": 60, "min_answers": 2},
        {"action": "ban", "duration": 2, "unit": "hours", "scope": "project", "reason": "bad golden"}))
    job = client.create_job(spec)
    job.add_items(make_items(40, golden=10), progress=False)
    job.start()
    golden_truth = {i.key: i.golden["result"] for i in make_items(40, golden=10) if i.golden}
    right = job.pull("liar")
    assert job.submit(right.assignment, {k: golden_truth.get(k, "cat") for k in right.keys}).actions == ()
    wrong = job.pull("liar")  # 1 of 2 golden answers right: 50% < 60%
    res = job.submit(wrong.assignment, {k: ("dog" if golden_truth.get(k) == "cat" else "cat") for k in wrong.keys})
    assert res.golden_correct == 0 and res.actions == ("ban: bad golden",)
    with pytest.raises(BannedError, match="bad golden") as err:
        job.pull("liar")
    assert err.value.until == pytest.approx(clock.now + 7200)
    other = client.create_job(spec)  # same project (the spec's name): banned there too
    other.add_items(make_items(5, golden=1), progress=False)
    other.start()
    with pytest.raises(BannedError):
        other.pull("liar")
    clock.advance(7201)
    assert job.pull("liar") is not None  # the ban ran out
    assert [e["type"] for e in job.events()].count("banned") == 1


def test_job_scoped_ban_leaves_other_jobs_alone(client):
    spec = make_spec(**rule({"metric": "answer_count", "at_least": 3},
                            {"action": "ban", "unit": "permanent", "duration": None, "scope": "job"}))
    job = client.create_job(spec)
    job.add_items(make_items(10), progress=False)
    job.start()
    answer_all(job, job.pull("w", limit=3))
    with pytest.raises(BannedError, match="permanently"):
        job.pull("w")
    other = client.create_job(spec)
    other.add_items(make_items(3), progress=False)
    other.start()
    assert other.pull("w") is not None


def test_fast_submits_rule_uses_submit_durations(client, clock):
    spec = make_spec(distribution={"kind": "pulling", "batch_size": 2}, **rule(
        {"metric": "fast_submits", "window": 5, "faster_than_seconds": 10, "at_least": 2},
        {"action": "ban", "duration": 1, "unit": "days", "reason": "Fast submits"}))
    job = client.create_job(spec)
    job.add_items(make_items(20), progress=False)
    job.start()
    for seconds, expect in ((30, ()), (3, ()), (40, ()), (2, ("ban: Fast submits",))):
        b = job.pull("quick")
        clock.advance(seconds)
        assert answer_all(job, b).actions == expect
    df = job.answers().drop_duplicates("assignment")
    assert sorted(df["duration_s"]) == [2, 3, 30, 40]


def test_captchas_are_shown_and_a_failing_worker_is_banned(client):
    spec = make_spec(distribution={"kind": "pulling", "batch_size": 1}, quality={
        "captcha_frequency": "high",
        "rules": [{"when": [{"metric": "captcha_fail_rate", "window": 5, "above": 40}],
                   "then": {"action": "ban", "reason": "Captcha"}}]})
    job = client.create_job(spec)
    job.add_items(make_items(10), progress=False)
    job.start()
    shown = []
    b1 = job.pull("bot")
    shown.append(b1.captcha)
    assert answer_all(job, b1, captcha=b1.captcha).captcha_ok is True
    b2 = job.pull("bot")
    shown.append(b2.captcha)  # high: every 2nd assignment
    answer_all(job, b2)
    b3 = job.pull("bot")
    shown.append(b3.captcha)
    res = answer_all(job, b3, captcha="nope")
    assert shown[0] and shown[1] is None and shown[2] and shown[0] != shown[2]
    assert res.captcha_ok is False and res.actions == ("ban: Captcha",)  # 1 of 2 failed = 50% > 40%


def test_skips_in_a_row_and_skip_rate(client):
    spec = make_spec(distribution={"kind": "pulling", "batch_size": 1}, quality={"rules": [
        {"name": "row", "when": [{"metric": "skipped_in_row", "at_least": 3}], "then": {"action": "ban"}}]})
    job = client.create_job(spec)
    job.add_items(make_items(10), progress=False)
    job.start()
    for _ in range(2):
        assert job.backend.skip(job.id, job.pull("s").assignment) == []
    answer_all(job, job.pull("s"))  # breaks the row
    for _ in range(2):
        assert job.backend.skip(job.id, job.pull("s").assignment) == []
    assert job.backend.skip(job.id, job.pull("s").assignment) == ["ban: row"]

    spec2 = make_spec(distribution={"kind": "pulling", "batch_size": 1}, **rule(
        {"metric": "skip_rate", "window": 4, "above": 50}, {"action": "ban", "reason": "skips"}))
    job2 = client.create_job(spec2)
    job2.add_items(make_items(10), progress=False)
    job2.start()
    answer_all(job2, job2.pull("t"))
    answer_all(job2, job2.pull("t"))
    assert job2.backend.skip(job2.id, job2.pull("t").assignment) == []  # 1 of 3 = 33%
    assert job2.backend.skip(job2.id, job2.pull("t").assignment) == []  # 2 of 4 = 50%, not above
    assert job2.backend.skip(job2.id, job2.pull("t").assignment) == ["ban: skips"]  # 3 of 4


def test_reject_action_requeues_the_workers_answers(client):
    spec = make_spec(distribution={"kind": "pulling", "batch_size": 2}, **rule(
        {"metric": "answer_count", "at_least": 4}, {"action": "reject", "comment": "too many"}))
    job = client.create_job(spec)
    job.add_items(make_items(4), progress=False)
    job.start()
    answer_all(job, job.pull("x"))
    res = answer_all(job, job.pull("x"))
    assert res.actions == ("reject: 2 assignment(s)",) and res.status == "rejected"
    df = job.answers()
    assert set(df["status"]) == {"rejected"} and set(df["review_comment"]) == {"too many"}
    assert job.progress().submitted_answers == 0
    assert len(job.pull("y", limit=10)) == 4  # the items went back to the queue


def test_set_skill_action_and_skill_rule(client, backend):
    spec = make_spec(distribution={"kind": "pulling", "batch_size": 1}, quality={"rules": [
        {"when": [{"metric": "answer_count", "at_least": 2}],
         "then": {"action": "set_skill", "skill": "level", "from_metric": True}},
        {"when": [{"metric": "skill", "skill": "level", "op": "gte", "value": 3}],
         "then": {"action": "ban", "reason": "enough"}}]})
    job = client.create_job(spec)
    job.add_items(make_items(10), progress=False)
    job.start()
    answer_all(job, job.pull("p"))
    assert answer_all(job, job.pull("p")).actions == ("set_skill: level=2",)
    assert backend.get_skills("p") == {"level": 2.0}
    assert answer_all(job, job.pull("p")).actions == ("set_skill: level=3", "ban: enough")


def test_crowd_filters_are_evaluated_against_registered_attributes(client, backend):
    spec = make_spec(workforce={"filter": {"all": [
        {"attribute": "languages", "op": "in", "value": ["EN"]},
        {"any": [{"attribute": "region_by_ip", "op": "eq", "value": "US"},
                 {"attribute": "skill", "skill": "cats", "op": "gte", "value": 80}]}]}}, overlap={"count": 5})
    job = client.create_job(spec)
    job.add_items(make_items(10), progress=False)
    job.start()
    backend.register_worker("us", languages=["EN", "DE"], region_by_ip="US")
    backend.register_worker("de", languages=["DE"], region_by_ip="US")
    backend.register_worker("fr", languages=["en"], region_by_ip="FR", skills={"cats": 90})
    backend.register_worker("gb", languages=["EN"], region_by_ip="GB", skills={"cats": 10})
    assert job.pull("us") is not None and job.pull("fr") is not None
    with pytest.raises(NotAllowedError, match="languages in"):
        job.pull("de")
    with pytest.raises(NotAllowedError, match="none of"):
        job.pull("gb")
    with pytest.raises(NotAllowedError):
        job.pull("unknown")  # no attributes registered: a positive filter does not match
    backend.set_skill("gb", "cats", 85)
    assert job.pull("gb") is not None
    with pytest.raises(ValueError, match="unknown worker attribute"):
        backend.register_worker("x", langs=["EN"])


def test_training_gates_real_work(client, clock):
    training = {"passing_score": 75, "items_per_batch": 4, "retry_after_days": 1, "items": [
        {"inputs": {"image": f"https://e.com/t{i}.jpg"}, "golden": {"result": "cat" if i % 2 else "dog"},
         "hint": f"hint {i}"} for i in range(4)]}
    job = client.create_job(make_spec(training=training))
    job.add_items(make_items(6), progress=False)
    job.start()
    t = job.pull("newbie")
    assert t.kind == "training" and len(t) == 4 and all(i.training for i in t.items)
    assert job.pull("newbie") is None  # finish the training batch first
    answers = []  # the first two wrong, the last two right
    for pos, item in enumerate(t.items):
        expected = "cat" if item.inputs["image"].endswith(("t1.jpg", "t3.jpg")) else "dog"
        answers.append(expected if pos >= 2 else ("dog" if expected == "cat" else "cat"))
    res = job.submit(t.assignment, answers)
    assert res.training_score == 50 and res.training_passed is False and len(res.mistakes) == 2
    assert res.mistakes[0].hint.startswith("hint")
    with pytest.raises(NotAllowedError, match="failed the training"):
        job.pull("newbie")
    clock.advance(86401)
    retry = job.pull("newbie")
    assert retry.kind == "training"
    good = ["cat" if i.inputs["image"].endswith(("t1.jpg", "t3.jpg")) else "dog" for i in retry.items]
    assert job.submit(retry.assignment, good).training_passed is True
    work = job.pull("newbie")
    assert work.kind == "work" and len(work) == 6
    assert job.backend.training_status(job.id, "newbie")["training"] == "passed"
    assert set(job.answers()["task"]) <= {i.key for i in make_items(6)}  # training answers stay apart


def test_dynamic_pricing_by_skill(client, backend):
    spec = make_spec(distribution={"kind": "pulling", "batch_size": 2}, pricing={
        "reward_per_batch": 0.01, "currency": "EUR",
        "dynamic": {"skill": "level", "intervals": [{"from": 80, "to": 100, "reward": 0.05}]}})
    job = client.create_job(spec)
    job.add_items(make_items(4), progress=False)
    job.start()
    backend.set_skill("pro", "level", 90)
    answer_all(job, job.pull("pro"))
    answer_all(job, job.pull("novice"))
    p = job.progress()
    assert p.details["cost"] == pytest.approx(0.06) and p.details["currency"] == "EUR"


def test_adult_content_flag_and_instructions_travel_with_the_batch(started):
    job, _ = started(2, adult_content=True, instructions="Be careful")
    b = job.pull("a")
    assert b.adult_content is True and b.instructions == "Be careful"


def test_a_job_mixing_golden_items_it_does_not_have_is_not_opened(client):
    spec = make_spec(distribution={**PULL5, "golden_per_batch": 1})
    job = client.create_job(spec)
    job.add_items(make_items(6), progress=False)
    with pytest.raises(JobStateError, match="golden_per_batch is 1 but 0 golden items are uploaded"):
        job.start()
    assert job.progress().state.value == "draft"
    job.add_items(make_items(2, golden=1, prefix="g"), progress=False)
    job.start()
    assert job.progress().state.value == "open"
