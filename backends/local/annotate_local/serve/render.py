"""A spec's interface as what the templates draw, and a submitted form back into answers.

Item data never reaches a page as markup: the templates escape every value (Jinja2 autoescape) and an
input becomes an ``<img src>`` only through ``safe_image_url``. The requester's instructions are the
one piece of HTML shown, cleaned by nh3 (Ammonia's allow-list: no script, no event handlers).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from annotate_core.model.fields import DataField, FieldType
from annotate_core.model.interface import CheckboxGroup, Dropdown, ImageView, RadioGroup, TextInput, TextView
from annotate_core.model.spec import JobSpec
from annotate_local.serve.security import safe_image_url, safe_link_url

SAMPLE_IMAGE = "/static/sample.svg"


@dataclass(frozen=True)
class Choice:
    value: str
    text: str
    hotkey: int | None  # 1-9: the number key that picks it


@dataclass(frozen=True)
class Widget:
    """One component of one item: ``kind`` picks the template block."""

    kind: str  # image | text | link | json | note | radio | checkbox | dropdown | text_input | number
    field: str | None = None
    label: str | None = None
    name: str = ""  # the form field an answer widget posts
    value: str = ""  # text shown, or the image/link URL
    choices: tuple[Choice, ...] = ()
    required: bool = True
    placeholder: str | None = None
    ratio: str | None = None  # "w / h" for CSS aspect-ratio, set by serve.js
    full_height: bool = False


@dataclass(frozen=True)
class ItemView:
    index: int
    key: str
    training: bool
    widgets: tuple[Widget, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ItemData:
    """What an item shows: its key, its inputs, and whether it is a training item."""

    key: str
    inputs: Mapping[str, Any]
    training: bool = False


def instructions_html(spec: JobSpec) -> str:
    """The spec's instructions as cleaned HTML (plain text stays text)."""
    import nh3

    return nh3.clean(spec.instructions or "", link_rel="noopener noreferrer nofollow")


def choices_of(f: DataField, hotkeys: bool) -> tuple[Choice, ...]:
    pairs = [("true", "Yes"), ("false", "No")] if f.type is FieldType.BOOL else [(o.value, o.text) for o in f.options]
    return tuple(Choice(v, t, i + 1 if hotkeys and i < 9 else None) for i, (v, t) in enumerate(pairs))


def _input_widget(spec: JobSpec, name: str | None, value: Any, label: str | None) -> Widget:
    """A view of an input value by its field type: an image only when its URL is safe to load."""
    ftype = next((f.type for f in spec.inputs if f.name == name), FieldType.TEXT)
    if value is None:
        return Widget("note", name, label, value="(no value)")
    if ftype is FieldType.IMAGE:
        src = safe_image_url(value)
        if src is not None:
            return Widget("image", name, label, value=src)
        return Widget("note", name, label, value=f"not shown as an image: {value}")
    if ftype is FieldType.URL:
        href = safe_link_url(value)
        return Widget("link", name, label, value=href) if href else Widget("text", name, label, value=str(value))
    if ftype is FieldType.JSON or isinstance(value, Mapping | list):
        return Widget("json", name, label, value=json.dumps(value, indent=2, ensure_ascii=False, default=str))
    return Widget("text", name, label, value=str(value))


def item_view(spec: JobSpec, index: int, item: ItemData) -> ItemView:
    interface = spec.effective_interface()
    hotkeys = interface.hotkeys
    widgets: list[Widget] = []
    first_choice = True
    for comp in interface.components:
        if isinstance(comp, ImageView):
            w = _input_widget(spec, comp.field, item.inputs.get(comp.field), None)
            if w.kind == "image" and spec.input(comp.field).type is FieldType.IMAGE:
                ratio = f"{comp.ratio[0]} / {comp.ratio[1]}" if comp.ratio else None
                w = Widget("image", comp.field, None, value=w.value, ratio=ratio, full_height=comp.full_height)
            widgets.append(w)
        elif isinstance(comp, TextView):
            if comp.field is not None:
                widgets.append(_input_widget(spec, comp.field, item.inputs.get(comp.field), comp.label))
            else:
                widgets.append(Widget("text", None, comp.label, value=comp.content or ""))
        else:
            out = spec.output(comp.field)
            name = f"a{index}.{out.name}"
            required = comp.required and out.required
            label = comp.label or out.description
            if isinstance(comp, RadioGroup | CheckboxGroup) and out.type in (FieldType.LABEL, FieldType.LABELS,
                                                                              FieldType.BOOL):
                kind = "checkbox" if out.type is FieldType.LABELS else "radio"
                widgets.append(Widget(kind, out.name, label, name, choices=choices_of(out, hotkeys and first_choice),
                                      required=required))
                first_choice = False
            elif isinstance(comp, Dropdown | RadioGroup | CheckboxGroup):
                widgets.append(Widget("dropdown", out.name, label, name, choices=choices_of(out, False),
                                      required=required))
            else:
                assert isinstance(comp, TextInput)
                kind = "number" if out.type is FieldType.NUMBER else "text_input"
                widgets.append(Widget(kind, out.name, label, name, required=required, placeholder=comp.placeholder))
    return ItemView(index, item.key, item.training, tuple(widgets))


def item_views(spec: JobSpec, items: Sequence[ItemData]) -> list[ItemView]:
    return [item_view(spec, i, it) for i, it in enumerate(items)]


def sample_items(spec: JobSpec, n: int = 2) -> list[ItemData]:
    """Made-up inputs for a preview: what each field type looks like, before any item exists."""
    out = []
    for i in range(n):
        inputs: dict[str, Any] = {}
        for f in spec.inputs:
            inputs[f.name] = {
                FieldType.IMAGE: SAMPLE_IMAGE, FieldType.URL: "https://example.com/",
                FieldType.NUMBER: 42 + i, FieldType.BOOL: True, FieldType.JSON: {"example": True, "n": i + 1},
            }.get(f.type, f"Sample {f.name} {i + 1}")
        out.append(ItemData(f"sample-{i + 1}", inputs))
    return out


def _one(f: DataField, form: Any, name: str) -> Any:
    if f.type is FieldType.LABELS:
        values = [v for v in form.getlist(name) if isinstance(v, str)]
        return values or None
    raw = form.get(name)
    if not isinstance(raw, str) or raw.strip() == "":
        return None if f.type is not FieldType.FREE_TEXT or f.required else ""
    if f.type is FieldType.BOOL:
        return {"true": True, "false": False}.get(raw, raw)
    if f.type is FieldType.NUMBER:
        try:
            number = float(raw)
        except ValueError:
            return raw  # the backend names the item and the field in its error
        if math.isfinite(number) and number.is_integer() and "." not in raw and "e" not in raw.lower():
            return int(number)
        return number
    return raw


def answers_from_form(spec: JobSpec, form: Any, n_items: int) -> list[dict[str, Any]]:
    """One ``{output: value}`` per item, in batch order, from the fields ``a<index>.<output>``."""
    return [{f.name: _one(f, form, f"a{i}.{f.name}") for f in spec.outputs} for i in range(n_items)]


def answer_text(value: Any) -> str:
    """An answer as a reviewer reads it."""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "(none)"
    if value is None:
        return "(none)"
    return str(value)
