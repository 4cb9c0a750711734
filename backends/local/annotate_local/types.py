"""What the work API hands to annotators and gives back: batches, review batches, submit results.

These are what a browser UI (or a script of in-house annotators) works with: plain frozen
dataclasses, with the interface to render and nothing that would give golden items away.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BatchItem:
    """One item to answer. ``hint`` is set on training items only (shown after a wrong answer)."""

    key: str
    inputs: Mapping[str, Any]
    training: bool = False


@dataclass(frozen=True)
class Batch:
    """A batch of work (an assignment): answer every item, then ``job.submit(batch.assignment, ...)``."""

    assignment: str
    job_id: str
    worker: str
    kind: str  # work | training
    items: tuple[BatchItem, ...]
    expires_at: float | None = None
    captcha: str | None = None  # type this text back as submit(..., captcha=...)
    instructions: str = ""
    interface: Mapping[str, Any] = field(default_factory=dict)
    adult_content: bool = False

    @property
    def keys(self) -> list[str]:
        return [i.key for i in self.items]

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class ReviewItem:
    key: str
    inputs: Mapping[str, Any]
    answer: Mapping[str, Any]


@dataclass(frozen=True)
class ReviewBatch:
    """One submitted assignment to check: accept it or reject it with ``job.review(...)``."""

    assignment: str
    job_id: str
    worker: str
    reviewer: str
    items: tuple[ReviewItem, ...]


@dataclass(frozen=True)
class GoldenFeedback:
    """A golden or training item answered wrongly: what was expected, and the hint if any."""

    key: str
    expected: Mapping[str, Any]
    given: Mapping[str, Any]
    hint: str | None = None


@dataclass(frozen=True)
class SubmitResult:
    assignment: str
    status: str  # submitted | rejected (a quality rule rejected it at once)
    answers: int
    golden_total: int = 0
    golden_correct: int = 0
    mistakes: tuple[GoldenFeedback, ...] = ()
    training_score: float | None = None
    training_passed: bool | None = None
    captcha_ok: bool | None = None
    under_review: bool = False
    actions: tuple[str, ...] = ()  # quality actions applied to this worker, e.g. "ban: Fast submits"
