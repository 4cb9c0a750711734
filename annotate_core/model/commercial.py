"""Money, limits and time: pricing, per-worker limits, deadlines, and event webhooks."""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import AnyHttpUrl, Field, model_validator

from annotate_core.model.base import SpecModel


class PriceInterval(SpecModel):
    """Reward for workers whose skill lies in ``[from_, to]``."""

    from_: float = Field(alias="from", description="Lowest skill value of the interval (inclusive).")
    to: float = Field(description="Highest skill value of the interval (inclusive).")
    reward: float = Field(ge=0, description="Reward per batch for workers in the interval, in `pricing.currency`.")


class DynamicPricing(SpecModel):
    """Pay more to better workers: the reward depends on a skill's value."""

    kind: Literal["skill"] = Field("skill", description="Always 'skill': the reward depends on a skill value.")
    skill: str = Field(description="The skill's name or id whose value sets the reward.")
    intervals: tuple[PriceInterval, ...] = Field(min_length=1, description=(
        "Skill ranges and their rewards; workers outside every range get `reward_per_batch`."))


class Pricing(SpecModel):
    """What one batch (Toloka: task suite) pays, in ``currency``."""

    reward_per_batch: float = Field(ge=0, description=(
        "What a worker earns for one accepted batch (Toloka: task suite); `annotate plan` estimates the cost "
        "from it."))
    currency: str = Field("USD", description="ISO 4217 code of the rewards (Toloka pays in USD only).")
    dynamic: DynamicPricing | None = Field(None, description="Pay better workers more, by a skill's value.")


class Limits(SpecModel):
    """Per-worker and per-assignment limits."""

    max_items_per_worker: int | None = Field(None, gt=0, description=(
        "Most items one worker may answer in the job, so answers come from many people, not a few fast ones."))
    max_batches_per_worker: int | None = Field(None, gt=0, description=(
        "Most batches one worker may do in the job (the same cap counted in batches)."))
    assignment_max_seconds: int | None = Field(
        None, gt=0, description="Time a worker has to finish a batch before it returns to the queue."
    )


class Event(str, Enum):
    """Job events, delivered as an iterator, callbacks, or webhooks: an assignment ``submitted``,
    ``accepted``, ``rejected``, ``skipped`` or ``expired`` (timed out), a worker ``banned``, the job
    ``completed``."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SKIPPED = "skipped"
    EXPIRED = "expired"
    BANNED = "banned"
    COMPLETED = "completed"


class Webhook(SpecModel):
    """An HTTPS endpoint the backend POSTs job events to, instead of you polling progress."""

    url: AnyHttpUrl = Field(description="Where events are POSTed; must be https (events carry job data).")
    events: tuple[Event, ...] = Field(min_length=1, description="Which events to send.")

    @model_validator(mode="after")
    def _https(self) -> Webhook:
        if self.url.scheme != "https":
            raise ValueError("webhook url must use https")
        return self
