"""Job ids: a readable string naming the Dataloop objects a job is made of.

``task:<taskId>`` for a task, ``task:<taskId>,qa:<qaTaskId>`` when a QA task reviews it, and
``pipeline:<pipelineId>`` for a pipeline whose task nodes create the tasks. Everything else about a
job (dataset, project, spec) is read from these objects, so the id alone finds the job again.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotate_core.errors import NotFoundError
from annotate_dataloop.wire import BACKEND, is_object_id


@dataclass(frozen=True)
class JobRef:
    task: str | None = None
    qa: str | None = None
    pipeline: str | None = None

    def __str__(self) -> str:
        if self.pipeline:
            return f"pipeline:{self.pipeline}"
        return f"task:{self.task}" + (f",qa:{self.qa}" if self.qa else "")

    @classmethod
    def parse(cls, job_id: str) -> JobRef:
        """Parse a job id; a malformed one is a NotFoundError raised without any request."""
        parts: dict[str, str] = {}
        for chunk in str(job_id).split(","):
            kind, _, value = chunk.partition(":")
            if kind not in ("task", "qa", "pipeline") or kind in parts or not is_object_id(value):
                raise NotFoundError(
                    f"{job_id!r} is not a Dataloop job id: expected 'task:<24-hex id>', "
                    "'task:<id>,qa:<id>' or 'pipeline:<id>'",
                    backend=BACKEND,
                )
            parts[kind] = value
        ref = cls(parts.get("task"), parts.get("qa"), parts.get("pipeline"))
        if bool(ref.pipeline) == bool(ref.task) or (ref.qa and not ref.task):
            raise NotFoundError(f"{job_id!r} is not a Dataloop job id: give a task or a pipeline", backend=BACKEND)
        return ref
