"""Quality rules: *when* a measure of a worker's recent work crosses a threshold, *then* act.

Mirrors Toloka's collector/condition/action triple in neutral words; the local backend evaluates
the same rules itself as answers arrive.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal

from pydantic import Field

from annotate_core.model.base import SpecModel
from annotate_core.model.workforce import Op


class GoldenAccuracy(SpecModel):
    """Share of correct answers on golden items over the worker's last ``window`` golden answers."""

    metric: Literal["golden_accuracy"] = "golden_accuracy"
    window: int = Field(10, gt=0, description="How many recent golden answers to look at.")
    below: float = Field(ge=0, le=100, description="Trigger when accuracy (percent) is below this.")
    min_answers: int = Field(3, gt=0, description="Do not judge on fewer golden answers than this.")


class FastSubmits(SpecModel):
    """Assignments submitted faster than ``faster_than_seconds``, among the last ``window``."""

    metric: Literal["fast_submits"] = "fast_submits"
    window: int = Field(5, gt=0, description="How many of the worker's recent assignments to look at.")
    faster_than_seconds: float = Field(gt=0, description=(
        "An assignment submitted sooner than this was not read: set it below an honest worker's fastest time."))
    at_least: int = Field(1, gt=0, description="Trigger when this many of the window were fast.")


class CaptchaFailRate(SpecModel):
    """Share of failed captchas (percent) over the last ``window`` captchas."""

    metric: Literal["captcha_fail_rate"] = "captcha_fail_rate"
    window: int = Field(5, gt=0, description="How many of the worker's recent captchas to look at.")
    above: float = Field(ge=0, le=100, description="Trigger when the failed share (percent) is above this.")


class SkippedInRow(SpecModel):
    """Batches skipped in a row (a worker who opens and abandons work)."""

    metric: Literal["skipped_in_row"] = "skipped_in_row"
    at_least: int = Field(gt=0, description="Trigger after this many batches skipped one after another.")


class SkipRate(SpecModel):
    """Share of skipped batches (percent) over the last ``window``."""

    metric: Literal["skip_rate"] = "skip_rate"
    window: int = Field(10, gt=0, description="How many of the worker's recent batches to look at.")
    above: float = Field(ge=0, le=100, description="Trigger when the skipped share (percent) is above this.")


class AnswerCount(SpecModel):
    """Number of answers a worker gave in this job: caps per-worker volume."""

    metric: Literal["answer_count"] = "answer_count"
    at_least: int = Field(gt=0, description=(
        "Trigger once the worker has given this many answers, so no one worker dominates the job."))


class SkillValue(SpecModel):
    """A worker's skill value compared with a threshold."""

    metric: Literal["skill"] = "skill"
    skill: str = Field(description="The skill's name or id (see `backend.set_user_skill`, `SetSkill`).")
    op: Op = Field(description="How the worker's value is compared with `value`.")
    value: float = Field(description="The threshold the skill value is compared with.")


RuleCondition = Annotated[
    GoldenAccuracy | FastSubmits | CaptchaFailRate | SkippedInRow | SkipRate | AnswerCount | SkillValue,
    Field(discriminator="metric"),
]


class BanScope(str, Enum):
    """Where a ban applies: ``job`` this job only (Toloka: the pool), ``project`` every job of the project,
    ``all`` every job of the requester."""

    JOB = "job"  # this job only (Toloka: pool)
    PROJECT = "project"  # every job of the project
    ALL = "all"  # every job of the requester


class DurationUnit(str, Enum):
    """The unit of a ban's ``duration``; ``permanent`` bans until lifted by hand (no duration)."""

    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    PERMANENT = "permanent"


class Ban(SpecModel):
    """Stop giving the worker work, for a duration, in a scope."""

    action: Literal["ban"] = "ban"
    duration: int | None = Field(1, gt=0, description=(
        "How long the ban lasts, in `unit`s; ignored (may be null) with unit 'permanent'."))
    unit: DurationUnit = Field(DurationUnit.DAYS, description="The unit of `duration`, or 'permanent'.")
    scope: BanScope = Field(BanScope.PROJECT, description=(
        "Which jobs the worker is kept from: a careless worker is usually careless on every job of the project."))
    reason: str | None = Field(None, description="Shown to you, not the worker (private comment).")

    def seconds(self) -> float | None:
        """Length of the ban, None when permanent."""
        if self.unit is DurationUnit.PERMANENT or self.duration is None:
            return None
        factor = {DurationUnit.MINUTES: 60, DurationUnit.HOURS: 3600, DurationUnit.DAYS: 86400}
        return float(self.duration * factor[self.unit])


class RejectAnswers(SpecModel):
    """Reject the worker's answers that the rule looked at (they go back into the queue)."""

    action: Literal["reject"] = "reject"
    comment: str = Field("Rejected by a quality rule", description=(
        "Shown to the worker with the rejection (crowd platforms require a reason)."))


class SetSkill(SpecModel):
    """Set the worker's skill to a value (or to the measured metric when ``from_metric``)."""

    action: Literal["set_skill"] = "set_skill"
    skill: str = Field(description="The skill's name or id, e.g. one filtered on in `workforce.filter`.")
    value: float | None = Field(None, description="The value to set (unless `from_metric`).")
    from_metric: bool = Field(False, description=(
        "Set the skill to the rule's measured metric (e.g. golden accuracy) instead of a fixed value, so the "
        "skill tracks how well the worker does."))


RuleAction = Annotated[Ban | RejectAnswers | SetSkill, Field(discriminator="action")]


class QualityRule(SpecModel):
    """When every condition in ``when`` holds, apply ``then``."""

    name: str | None = Field(None, description=(
        "Names the rule where its actions are recorded (local ban events; Toloka's private comment when a ban "
        "gives no reason)."))
    when: tuple[RuleCondition, ...] = Field(min_length=1, description=(
        "Conditions on the worker's recent work, chosen by `metric`; all must hold for the rule to fire."))
    then: RuleAction = Field(description="What happens to the worker, chosen by `action`.")


class Quality(SpecModel):
    """Quality control: rules, and how often to show a captcha (crowd backends only)."""

    rules: tuple[QualityRule, ...] = Field((), description=(
        "Evaluated as answers arrive; each acts on the worker whose work it measured."))
    captcha_frequency: Literal["low", "medium", "high"] | None = Field(None, description=(
        "How often crowd workers are shown a captcha (bots and scripted clicking fail them); null for none."))
