"""Errors of the local backend's work API, on top of the core's taxonomy."""

from __future__ import annotations

from annotate_core.errors import AnnotateError


class NotAllowedError(AnnotateError):
    """This worker may not take work in this job (not an assignee, filtered out, failed training)."""

    def __init__(self, worker: str, reason: str) -> None:
        self.worker = worker
        self.reason = reason
        super().__init__(f"worker {worker!r} may not take work: {reason}")


class BannedError(NotAllowedError):
    """The worker is banned; ``until`` is the epoch second the ban ends (None: permanent)."""

    def __init__(self, worker: str, reason: str, until: float | None) -> None:
        self.until = until
        super().__init__(worker, reason)


class InvalidAnswerError(AnnotateError, ValueError):
    """A submitted answer does not fit the job's output fields; names the item and the field."""
