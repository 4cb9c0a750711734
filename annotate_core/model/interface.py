"""Neutral interface components: what a worker sees. Backends render them (Toloka: Template Builder)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from annotate_core.model.base import SpecModel


class ImageView(SpecModel):
    kind: Literal["image"] = "image"
    field: str = Field(description="The input field holding the image URL.")
    ratio: tuple[int, int] | None = Field(None, description=(
        "Width:height the image is shown at, e.g. [1, 1], so layouts do not jump while images load."))
    full_height: bool = Field(False, description="Let the image take the full height of the worker's screen.")


class TextView(SpecModel):
    kind: Literal["text"] = "text"
    field: str | None = Field(None, description="Input field to show; or use `content`.")
    content: str | None = Field(None, description="Static text (markdown) instead of a field.")
    label: str | None = Field(None, description="A caption shown above the text.")


class RadioGroup(SpecModel):
    kind: Literal["radio"] = "radio"
    field: str = Field(description="The output field this component answers.")
    label: str | None = Field(None, description="The question shown above it (default: none).")
    required: bool = Field(True, description="A worker cannot submit without answering it.")


class CheckboxGroup(SpecModel):
    kind: Literal["checkbox"] = "checkbox"
    field: str = Field(description="The output field this component answers.")
    label: str | None = Field(None, description="The question shown above it (default: none).")
    required: bool = Field(True, description="A worker cannot submit without answering it.")


class Dropdown(SpecModel):
    kind: Literal["dropdown"] = "dropdown"
    field: str = Field(description="The output field this component answers.")
    label: str | None = Field(None, description="The question shown above it (default: none).")
    required: bool = Field(True, description="A worker cannot submit without answering it.")


class TextInput(SpecModel):
    kind: Literal["text_input"] = "text_input"
    field: str = Field(description="The output field this component answers.")
    label: str | None = Field(None, description="The question shown above it (default: none).")
    placeholder: str | None = Field(None, description="Grey hint text inside the empty input.")
    required: bool = Field(True, description="A worker cannot submit without answering it.")


Component = Annotated[
    ImageView | TextView | RadioGroup | CheckboxGroup | Dropdown | TextInput,
    Field(discriminator="kind"),
]

VIEW_KINDS = frozenset({"image", "text"})
ANSWER_KINDS = frozenset({"radio", "checkbox", "dropdown", "text_input"})


class Interface(SpecModel):
    """Components shown top to bottom (a list layout), with an optional task width in pixels."""

    layout: Literal["list"] = Field("list", description="Components are stacked top to bottom (the only layout).")
    components: tuple[Component, ...] = Field(description=(
        "Views of inputs and answer components; every output needs one component that answers it."))
    task_width: int | None = Field(None, gt=0, description=(
        "Maximum task width in pixels, so wide screens do not stretch images and text."))
    hotkeys: bool = Field(True, description="Workers may answer with keyboard shortcuts (faster on large jobs).")
