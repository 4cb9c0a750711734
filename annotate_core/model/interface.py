"""Neutral interface components: what a worker sees. Backends render them (Toloka: Template Builder)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from annotate_core.model.base import SpecModel


class ImageView(SpecModel):
    kind: Literal["image"] = "image"
    field: str
    ratio: tuple[int, int] | None = Field(None, description="Width:height, e.g. [1, 1].")
    full_height: bool = False


class TextView(SpecModel):
    kind: Literal["text"] = "text"
    field: str | None = Field(None, description="Input field to show; or use `content`.")
    content: str | None = Field(None, description="Static text (markdown) instead of a field.")
    label: str | None = None


class RadioGroup(SpecModel):
    kind: Literal["radio"] = "radio"
    field: str
    label: str | None = None
    required: bool = True


class CheckboxGroup(SpecModel):
    kind: Literal["checkbox"] = "checkbox"
    field: str
    label: str | None = None
    required: bool = True


class Dropdown(SpecModel):
    kind: Literal["dropdown"] = "dropdown"
    field: str
    label: str | None = None
    required: bool = True


class TextInput(SpecModel):
    kind: Literal["text_input"] = "text_input"
    field: str
    label: str | None = None
    placeholder: str | None = None
    required: bool = True


Component = Annotated[
    ImageView | TextView | RadioGroup | CheckboxGroup | Dropdown | TextInput,
    Field(discriminator="kind"),
]

VIEW_KINDS = frozenset({"image", "text"})
ANSWER_KINDS = frozenset({"radio", "checkbox", "dropdown", "text_input"})


class Interface(SpecModel):
    """Components shown top to bottom (a list layout), with an optional task width in pixels."""

    layout: Literal["list"] = "list"
    components: tuple[Component, ...]
    task_width: int | None = Field(None, gt=0, description="Maximum task width in pixels.")
    hotkeys: bool = True
