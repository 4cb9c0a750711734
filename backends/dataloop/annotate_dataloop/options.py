"""Dataloop-specific extras a spec may carry under ``options: {dataloop: {...}}``.

Closed like every spec model: a typo (``task_ower``) is an error naming the field, not a silently
ignored setting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from annotate_core.errors import SpecError

if TYPE_CHECKING:
    from annotate_core.model.spec import JobSpec


class DataloopOptions(BaseModel):
    """Vendor settings with no neutral equivalent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_owner: str | None = Field(None, description="E-mail of the task owner (default: the token's user).")
    priority: int = Field(2, ge=1, le=3, description="1 low, 2 medium, 3 high [K TaskPriority].")
    task_name: str | None = Field(None, description="Task name (default: the spec's name).")
    qa_task_name: str | None = Field(None, description="QA task name (default: '<task name>_qa', as dtlpy).")
    recipe_id: str | None = Field(None, description="Use this recipe instead of the dataset's or a new one.")
    folder: str | None = Field(None, description="Dataset folder for uploaded items (default /annotate/<name>).")
    pipeline_name: str | None = Field(None, description="Pipeline name (default: the spec's name).")
    position: tuple[float, float] = Field((1, 1), description="Canvas position (column, row) of the first node.")


def dataloop_options(spec: JobSpec) -> DataloopOptions:
    raw = spec.options.get("dataloop", {})
    try:
        return DataloopOptions.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"options.dataloop.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
        ]
        raise SpecError("; ".join(problems)) from None
