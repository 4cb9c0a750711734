"""Money, limits and time: pricing, per-worker limits, deadlines, and event webhooks."""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import AnyHttpUrl, Field, model_validator

from annotate_core.model.base import SpecModel


class PriceInterval(SpecModel):
    """Reward for workers whose skill lies in ``[from_, to]``."""

    from_: float = Field(alias="from")
    to: float
    reward: float = Field(ge=0)


class DynamicPricing(SpecModel):
    """Pay more to better workers: the reward depends on a skill's value."""

    kind: Literal["skill"] = "skill"
    skill: str
    intervals: tuple[PriceInterval, ...] = Field(min_length=1)


class Pricing(SpecModel):
    """What one batch (Toloka: task suite) pays, in ``currency``."""

    reward_per_batch: float = Field(ge=0)
    currency: str = "USD"
    dynamic: DynamicPricing | None = None


class Limits(SpecModel):
    """Per-worker and per-assignment limits."""

    max_items_per_worker: int | None = Field(None, gt=0)
    max_batches_per_worker: int | None = Field(None, gt=0)
    assignment_max_seconds: int | None = Field(
        None, gt=0, description="Time a worker has to finish a batch before it returns to the queue."
    )


class Event(str, Enum):
    """Job events, delivered as an iterator, callbacks, or webhooks."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SKIPPED = "skipped"
    EXPIRED = "expired"
    BANNED = "banned"
    COMPLETED = "completed"


class Webhook(SpecModel):
    url: AnyHttpUrl
    events: tuple[Event, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _https(self) -> Webhook:
        if self.url.scheme != "https":
            raise ValueError("webhook url must use https")
        return self
