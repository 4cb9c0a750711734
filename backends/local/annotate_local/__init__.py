"""annotate-local: the embedded backend (SQLite or PostgreSQL store) with a simulated workforce."""

from annotate_local.backend import LocalBackend
from annotate_local.errors import BannedError, InvalidAnswerError, NotAllowedError
from annotate_local.types import Batch, BatchItem, GoldenFeedback, ReviewBatch, ReviewItem, SubmitResult

__all__ = [
    "BannedError",
    "Batch",
    "BatchItem",
    "GoldenFeedback",
    "InvalidAnswerError",
    "LocalBackend",
    "NotAllowedError",
    "ReviewBatch",
    "ReviewItem",
    "SubmitResult",
]
