"""How work flows: distribution, overlap, golden mixing, training, review and pipelines."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from annotate_core.model.base import SpecModel


class Fixed(SpecModel):
    """Items split up front among named assignees by weight (``workforce.assignees[*].weight``)."""

    kind: Literal["fixed"] = "fixed"


class Pulling(SpecModel):
    """Workers pull batches as they go: ``batch_size`` real items per batch, plus golden ones.

    ``max_batch_workload`` caps how many items one worker may hold open at once.
    """

    kind: Literal["pulling"] = "pulling"
    batch_size: int = Field(10, gt=0, description=(
        "Real items per batch (Toloka: task suite): what a worker gets per request and is paid for."))
    max_batch_workload: int | None = Field(None, gt=0, description=(
        "Most items one worker may hold open at once, so nobody hoards work others could do (>= batch_size)."))
    golden_per_batch: int = Field(0, ge=0, description="Golden items mixed into each batch.")
    training_per_batch: int = Field(0, ge=0, description="Training items mixed into each batch.")

    @model_validator(mode="after")
    def _workload(self) -> Pulling:
        if self.max_batch_workload is not None and self.max_batch_workload < self.batch_size:
            raise ValueError(
                f"max_batch_workload ({self.max_batch_workload}) must be >= batch_size ({self.batch_size})"
            )
        return self


Distribution = Annotated[Fixed | Pulling, Field(discriminator="kind")]


class Overlap(SpecModel):
    """How many different workers answer each item, on what share of the items.

    ``fraction < 1`` is consensus on a subset: that share of items (chosen by a stable hash of the
    item key) gets ``count`` answers, the rest one answer.
    """

    count: int = Field(1, ge=1, le=1000, description=(
        "Different workers per item: more answers per item let aggregation outvote mistakes (with a fixed "
        "distribution, at most the number of assignees)."))
    fraction: float = Field(1.0, gt=0, le=1, description=(
        "Share of the items that get `count` answers (chosen by a stable hash of the item key); the rest get "
        "one. Measures agreement on a sample for less money."))

    def for_key(self, key: str) -> int:
        """The overlap an item with this key gets; stable across runs and backends."""
        if self.count == 1 or self.fraction >= 1:
            return self.count
        import hashlib

        bucket = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64
        return self.count if bucket < self.fraction else 1


class Training(SpecModel):
    """A qualification set: workers answer these items first and need ``passing_score`` percent."""

    name: str | None = Field(None, description=(
        "Name of the training on the vendor, to tell it apart from the job (default: the job's name plus "
        "\"(training)\")."))
    items: tuple[Any, ...] = Field(
        (), description="Training items (each with `inputs`, `golden` and optional `hint`): the hint explains a "
        "wrong answer to the worker, which is what makes it training rather than a test."
    )
    passing_score: float = Field(80, ge=0, le=100, description=(
        "Percent of training items a worker must answer correctly to reach the real items."))
    items_per_batch: int = Field(5, gt=0, description="Training items per training batch.")
    retry_after_days: int | None = Field(None, gt=0, description=(
        "Days before a worker who failed may retry (default: no retry), so people who misread once can come "
        "back."))
    max_duration_seconds: int | None = Field(None, gt=0, description=(
        "Time a worker has for one training batch (default: the job's `limits.assignment_max_seconds`)."))

    @model_validator(mode="after")
    def _items_are_items(self) -> Training:
        from annotate_core.items import Item

        parsed = tuple(i if isinstance(i, Item) else Item.model_validate(i) for i in self.items)
        missing = [i.key for i in parsed if i.golden is None]
        if missing:
            raise ValueError(f"training items need a `golden` answer; missing on: {missing[:5]}")
        object.__setattr__(self, "items", parsed)
        return self


class OnReject(str, Enum):
    """What a rejected answer leads to: ``requeue`` the item goes back to the queue for another worker
    (the job still gets its answers), ``discard`` the answer is dropped and the item is not redone."""

    REQUEUE = "requeue"  # the item goes back to the queue for another worker
    DISCARD = "discard"  # the answer is dropped, the item is not redone


class Review(SpecModel):
    """QA: a share of submitted work goes to reviewers, who accept or reject it."""

    fraction: float = Field(0.1, gt=0, le=1, description=(
        "Share of the submitted work that is reviewed: a sample measures quality without paying to check it all."))
    reviewers: tuple[str, ...] = Field((), description=(
        "Who reviews (e-mails or vendor user ids); empty: whoever the backend lets review (you, through "
        "`job.review(...)`, on the local backend and Toloka)."))
    on_reject: OnReject = Field(OnReject.REQUEUE, description="What a rejected answer leads to.")
    auto_accept_after_days: int | None = Field(
        None, gt=0, description="Work not reviewed by then is accepted automatically."
    )


class StageKind(str, Enum):
    """What a pipeline stage does: ``annotate`` collect answers, ``review`` check them, ``aggregate`` combine
    them into one result per item."""

    ANNOTATE = "annotate"
    REVIEW = "review"
    AGGREGATE = "aggregate"


class Stage(SpecModel):
    """One pipeline stage. Review stages take reviewers; aggregate stages take a method."""

    kind: StageKind = Field(description="What the stage does.")
    name: str | None = Field(None, description=(
        "The stage's name on the vendor (default: the job's name and the stage's kind and position)."))
    assignees: tuple[str, ...] = Field((), description=(
        "Who works on this stage (e-mails or vendor user ids); empty: the job's workforce."))
    method: str | None = Field(None, description="Aggregation method for aggregate stages (mv, ds, ...).")
    fraction: float | None = Field(None, gt=0, le=1, description="Share of items a review stage sees.")

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> Stage:
        if self.method and self.kind is not StageKind.AGGREGATE:
            raise ValueError("`method` is only allowed on aggregate stages")
        if self.fraction is not None and self.kind is not StageKind.REVIEW:
            raise ValueError("`fraction` is only allowed on review stages")
        return self


class Pipeline(SpecModel):
    """Ordered stages; the first must annotate and an aggregate stage, if any, comes last."""

    stages: tuple[Stage, ...] = Field(min_length=1, description="The stages, in the order items go through them.")

    @model_validator(mode="after")
    def _order(self) -> Pipeline:
        kinds = [s.kind for s in self.stages]
        if kinds[0] is not StageKind.ANNOTATE:
            raise ValueError("the first stage must be 'annotate'")
        if StageKind.AGGREGATE in kinds[:-1]:
            raise ValueError("an 'aggregate' stage must be the last stage")
        return self
