"""Typed input and output fields of a job."""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

from pydantic import Field, field_validator, model_validator

from annotate_core.model.base import SpecModel

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class FieldType(str, Enum):
    """What a field holds. Inputs use the data types: ``url``, ``image`` (a URL of an image, shown as a
    picture), ``text``, ``json``, ``number``, ``bool``. Outputs also use the answer types: ``label`` (one
    choice among options), ``labels`` (several choices, multi-choice) and ``free_text`` (a typed answer)."""

    URL = "url"
    IMAGE = "image"  # a URL of an image, shown as a picture
    TEXT = "text"
    JSON = "json"
    NUMBER = "number"
    BOOL = "bool"
    LABEL = "label"  # one choice among options
    LABELS = "labels"  # several choices among options (multi-choice)
    FREE_TEXT = "free_text"  # a typed answer


CHOICE_TYPES = frozenset({FieldType.LABEL, FieldType.LABELS})
INPUT_TYPES = frozenset(
    {FieldType.URL, FieldType.IMAGE, FieldType.TEXT, FieldType.JSON, FieldType.NUMBER, FieldType.BOOL}
)


class Option(SpecModel):
    """One allowed answer of a choice field: the stored value and the text a worker sees."""

    value: str = Field(description="What is stored in the answers and compared by aggregation and golden checks.")
    label: str | None = Field(None, description=(
        "What the worker sees, when it should differ from the value (e.g. a translation); defaults to the value."))

    @property
    def text(self) -> str:
        return self.label or self.value


class DataField(SpecModel):
    """A named, typed field. Choice fields (label, labels) need at least two options."""

    name: str = Field(description=(
        "Identifier (letters, digits and underscores): the item key of an input, the answer column of an "
        "output, and the name vendors use for the field."))
    type: FieldType = Field(description=(
        "What the field holds: inputs take data types, outputs also answer types (label, labels, free_text)."))
    required: bool = Field(True, description=(
        "Inputs: every item must give a value. Outputs: a worker cannot submit without answering it."))
    description: str | None = Field(None, description=(
        "For an output, the question shown above its answer component when the interface is derived from the "
        "fields; otherwise documentation for you."))
    options: tuple[Option, ...] = Field((), description=(
        "The allowed answers of a label / labels output (at least two, unique values); plain strings are "
        "shorthand for `{value: ...}`."))

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"expected letters, digits and underscores (not starting with a digit), got {v!r}")
        return v

    @field_validator("options", mode="before")
    @classmethod
    def _options_shorthand(cls, v: Any) -> Any:
        # `options: [cat, dog]` is shorthand for `[{value: cat}, {value: dog}]`
        if isinstance(v, list | tuple):
            return [{"value": o} if isinstance(o, str) else o for o in v]
        return v

    @model_validator(mode="after")
    def _options_match_type(self) -> DataField:
        if self.type in CHOICE_TYPES:
            if len(self.options) < 2:
                raise ValueError(f"a {self.type.value!r} field needs at least 2 options")
            values = [o.value for o in self.options]
            if len(set(values)) != len(values):
                raise ValueError("option values must be unique")
        elif self.options:
            raise ValueError(f"options are only allowed on label/labels fields, not {self.type.value!r}")
        return self

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(o.value for o in self.options)
