"""Where a spec means something else on Toloka: the ``PlanWarning`` list ``annotate plan`` shows.

Every entry names the spec field and says what the pool body does instead, so nothing is
reinterpreted silently. The decisions, in one place:

- **Review sampling.** Toloka accepts or rejects whole assignments (one task suite of
  ``batch_size`` items), by the requester, and an accepted assignment can no longer be rejected.
  A server-side sample (``review.fraction``) does not exist, and accepting automatically on submit
  (``auto_accept_solutions: true``) would leave nothing to reject. So a spec with ``review`` gets
  manual acceptance (``auto_accept_solutions: false``) and the fraction is honoured from the
  requester's side: ``TolokaBackend.accept_unsampled`` accepts the submitted assignments outside a
  stable ``fraction`` sample and returns the sample, reviewed with ``job.review``; Toloka accepts
  whatever still waits after ``auto_accept_period_day`` (``review.auto_accept_after_days``, default 7,
  toloka-kit's recipe value). The plan says so, and that Tolokers wait for pay until then.
- **Reject rules** need the same manual acceptance (Toloka rejects only what awaits acceptance).
- **Defaults Toloka needs and the spec left out**: the time limit per task suite
  (``assignment_max_duration_seconds`` 600) and the pool's expiry (``will_expire`` now + 365 days).
- **Golden mixing**: ``golden_per_batch`` becomes ``mixer_config.golden_tasks_count``; golden items
  must be uploaded before ``start`` (which refuses otherwise, with the counts).
"""

from __future__ import annotations

from annotate_core.backend import PlanWarning
from annotate_core.model.quality import RejectAnswers
from annotate_core.model.spec import JobSpec
from annotate_core.model.workflow import OnReject, Pulling
from annotate_toloka.compile import Compiled
from annotate_toloka.pool import DEFAULT_ASSIGNMENT_SECONDS, DEFAULT_AUTO_ACCEPT_DAYS, DEFAULT_DEADLINE
from annotate_toloka.wire import BACKEND


def _w(path: str, message: str) -> PlanWarning:
    return PlanWarning(path, message, BACKEND)


def _review(spec: JobSpec) -> list[PlanWarning]:
    review = spec.review
    if review is None:
        return []
    days = review.auto_accept_after_days or DEFAULT_AUTO_ACCEPT_DAYS
    batch = f"task suite of {spec.batch_size} item(s)" if spec.batch_size > 1 else "task"
    if review.fraction < 1:
        share = f"{review.fraction:.0%}"
        what = (f"Toloka cannot sample {share} of the work for review: the requester accepts or rejects each "
                f"assignment (one {batch}). The pool gets auto_accept_solutions: false, so every assignment awaits "
                f"acceptance: job.review_sample() accepts the submitted ones outside a stable {share} "
                "sample and returns the sample to review with job.review(...); whatever is still waiting after "
                f"{days} day(s) is accepted by Toloka (auto_accept_period_day: {days}), so Tolokers wait for pay "
                "until then or until job.review_sample() runs")
    else:
        what = (f"every assignment (one {batch}) awaits your acceptance with job.review(...) "
                f"(auto_accept_solutions: false); Toloka accepts what is not reviewed after {days} day(s) "
                f"(auto_accept_period_day: {days}), so Tolokers wait up to {days} day(s) for pay")
    out = [_w("review.fraction", what)]
    if review.auto_accept_after_days is None:
        out.append(_w("review.auto_accept_after_days", f"not set: Toloka needs a review period, "
                      f"{DEFAULT_AUTO_ACCEPT_DAYS} days is sent (auto_accept_period_day)"))
    if review.reviewers:
        out.append(_w("review.reviewers", "Toloka has no named reviewers: the requester account (its token) "
                      "reviews through job.review; the names are not sent"))
    if review.on_reject is OnReject.REQUEUE:
        out.append(_w("review.on_reject", "a rejection gives each task of the rejected assignment one more "
                      "overlap (quality rule ASSIGNMENTS_ASSESSMENT REJECT -> CHANGE_OVERLAP +1, open_pool): "
                      "the whole task suite is redone, not one item"))
    return out


def _reject_rules(spec: JobSpec) -> list[PlanWarning]:
    if spec.review is not None:
        return []  # manual acceptance is on anyway, and said above
    return [_w(f"quality.rules.{i}.then", "Toloka rejects only assignments awaiting acceptance: the pool gets "
               "auto_accept_solutions: false, so every assignment awaits acceptance (job.review) and is accepted "
               f"after {DEFAULT_AUTO_ACCEPT_DAYS} days (auto_accept_period_day); Tolokers wait that long for pay")
            for i, rule in enumerate(spec.quality.rules) if isinstance(rule.then, RejectAnswers)][:1]


def _defaults(spec: JobSpec) -> list[PlanWarning]:
    out = []
    if spec.limits.assignment_max_seconds is None:
        out.append(_w("limits.assignment_max_seconds", "not set: Toloka needs a time limit per task suite; "
                      f"{DEFAULT_ASSIGNMENT_SECONDS} s is sent (assignment_max_duration_seconds), after which an "
                      "unfinished suite expires and goes to someone else"))
    if spec.deadline is None:
        out.append(_w("deadline", f"not set: Toloka pools need an expiry; now + {DEFAULT_DEADLINE.days} days is "
                      "sent (will_expire), as toloka-kit's recipe does"))
    if spec.quality.captcha_frequency:
        out.append(_w("quality.captcha_frequency", "sent as captcha_frequency, which Toloka has deprecated "
                      "(it now shows captchas by itself); the setting may be ignored"))
    lim = spec.limits
    if lim.max_items_per_worker and spec.batch_size > 1 and lim.max_items_per_worker % spec.batch_size:
        suites = -(-lim.max_items_per_worker // spec.batch_size)
        out.append(_w("limits.max_items_per_worker", f"Toloka limits whole task suites: {suites} suite(s) of "
                      f"{spec.batch_size}, so up to {suites * spec.batch_size} items per Toloker"))
    return out


def _golden(spec: JobSpec, c: Compiled) -> list[PlanWarning]:
    d = spec.distribution
    if c.task_suites or not isinstance(d, Pulling) or d.golden_per_batch <= 0:
        return []
    n = d.golden_per_batch
    return [_w("distribution.golden_per_batch", f"becomes mixer_config.golden_tasks_count: {n}: every task suite "
               f"mixes in {n} golden task(s), reused across suites. Upload at least {n} golden item(s) before "
               "job.start(), which refuses to open the pool otherwise (Toloka would hand out no work); golden "
               "tasks are paid as part of the suite's reward")]


def _training(spec: JobSpec, c: Compiled) -> list[PlanWarning]:
    tr = spec.training
    if tr is None or c.training is None:
        return []
    out = []
    if not tr.max_duration_seconds and not spec.limits.assignment_max_seconds:
        out.append(_w("training.max_duration_seconds", f"not set: {DEFAULT_ASSIGNMENT_SECONDS} s per training "
                      "suite is sent (assignment_max_duration_seconds)"))
    per, suites = c.training["training_tasks_in_task_suite_count"], c.training["task_suites_required_to_pass"]
    out.append(_w("training.passing_score", f"Toloka scores a Toloker after {suites} training suite(s) of {per} "
                  f"item(s), the whole training set, shown shuffled (shuffle_tasks_in_task_suite), and admits to "
                  f"the pool at {tr.passing_score:g}% correct (training_passing_skill_value)"))
    return out


def _skills(spec: JobSpec, c: Compiled) -> list[PlanWarning]:
    dyn = spec.pricing.dynamic if spec.pricing else None
    workforce = spec.workforce.model_dump_json()
    out = []
    for name in c.skills:
        path = ("workforce.filter" if f'"{name}"' in workforce
                else "pricing.dynamic.skill" if dyn is not None and dyn.skill == name else "quality.rules")
        out.append(_w(path, f"skill {name!r} is looked up by name and, when the account has none, created "
                      "(hidden, held by nobody): a filter or price on a new skill matches no Toloker until "
                      "someone sets it (backend.set_user_skill or a quality rule)"))
    return out


def plan_warnings(spec: JobSpec, c: Compiled) -> list[PlanWarning]:
    """Every place where the compiled pool changes what ``spec`` says, in spec order."""
    return [*_skills(spec, c), *_golden(spec, c), *_training(spec, c), *_review(spec), *_reject_rules(spec),
            *_defaults(spec), *(_w(path, message) for path, message in c.approximations)]
