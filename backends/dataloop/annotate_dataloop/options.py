"""Dataloop-specific extras a spec may carry under ``options: {dataloop: {...}}``.

Closed like every spec model: a typo (``task_ower``) is an error naming the field, not a silently
ignored setting.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from annotate_core.errors import SpecError

if TYPE_CHECKING:
    from annotate_core.model.spec import JobSpec


_HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


class StatusAction(BaseModel):
    """One item status a task offers: ``dl.ItemAction(action, display_name=None, color='#FFFFFF')``.

    The action is what the item's status becomes (and what answers report); display name and colour
    are only how the annotation studio shows the button. A bare string is shorthand for the action.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: str = Field(description="The status set on the item, e.g. 'completed', 'discard', 'unclear'.")
    display_name: str | None = Field(None, description="Button label (default: the action, as dtlpy).")
    color: str = Field("#FFFFFF", description="Button colour as #RRGGBB (default #FFFFFF, as dtlpy).")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"action": value}
        if not isinstance(value, dict | StatusAction):
            raise PydanticCustomError(
                "status_entry", "expected an action name or {action, display_name?, color?}, got {value}",
                {"value": repr(value)})
        return value

    @field_validator("action")
    @classmethod
    def _action(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("blank_action", "expected a non-empty action name")
        if value != value.strip():
            raise PydanticCustomError("padded_action", "action {value} has leading or trailing spaces",
                                      {"value": repr(value)})
        return value

    @field_validator("color")
    @classmethod
    def _color(cls, value: str) -> str:
        if not _HEX_COLOR.match(value):
            raise PydanticCustomError("hex_color", "expected a #RRGGBB hex colour, got {value}",
                                      {"value": repr(value)})
        return value

    def to_wire(self) -> dict[str, Any]:
        """``ItemAction.to_json()``: ``{"action", "displayName", "color"}`` [W reference §3.5.1]."""
        return {"action": self.action, "displayName": self.display_name or self.action, "color": self.color}


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
    statuses: tuple[StatusAction, ...] = Field(
        (), description="Custom item statuses of the annotation task (availableActions); empty = Dataloop's "
                        "defaults, completed and discard.")

    @field_validator("statuses")
    @classmethod
    def _unique(cls, value: tuple[StatusAction, ...]) -> tuple[StatusAction, ...]:
        seen: set[str] = set()
        for s in value:
            if s.action in seen:
                raise PydanticCustomError("duplicate_action", "action {action} is listed twice; actions must be "
                                          "unique", {"action": repr(s.action)})
            seen.add(s.action)
        return value

    def available_actions(self) -> list[dict[str, Any]] | None:
        """The task body's ``availableActions``, or None to send nothing (Dataloop's defaults)."""
        return [s.to_wire() for s in self.statuses] or None


def dataloop_options(spec: JobSpec) -> DataloopOptions:
    raw = spec.options.get("dataloop", {})
    try:
        return DataloopOptions.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"options.dataloop.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
        ]
        raise SpecError("; ".join(problems)) from None
