"""The neutral interface as a Toloka Template Builder ``view_spec``.

Each neutral component becomes one Template Builder component inside a ``view.list`` (the neutral
layout is a list), and the task width becomes the ``plugin.toloka`` layout. Template Builder wants
the config as a JSON *string* inside the project JSON, with a ``lock`` pinning every component
version; toloka-kit sends that string indented by 4, which is what production has seen, so we do too.
"""

from __future__ import annotations

import json
from typing import Any

from annotate_core.model.fields import DataField, FieldType
from annotate_core.model.interface import (
    CheckboxGroup,
    Component,
    Dropdown,
    ImageView,
    Interface,
    RadioGroup,
    TextInput,
    TextView,
)
from annotate_core.model.spec import JobSpec

TB_VERSION = "1.0.0"
REQUIRED = {"type": "condition.required"}
_BOOL_OPTIONS = ({"value": True, "label": "Yes"}, {"value": False, "label": "No"})


def _input(path: str) -> dict[str, str]:
    return {"type": "data.input", "path": path}


def _output(path: str) -> dict[str, str]:
    return {"type": "data.output", "path": path}


def _options(field: DataField) -> list[dict[str, Any]]:
    if field.type is FieldType.BOOL:
        return [dict(o) for o in _BOOL_OPTIONS]
    return [{"value": o.value, "label": o.text} for o in field.options]


def _component(c: Component, outputs: dict[str, DataField]) -> dict[str, Any]:
    """One Template Builder component; answer components write to ``data.output:<field>``."""
    if isinstance(c, ImageView):
        out: dict[str, Any] = {"type": "view.image", "url": _input(c.field)}
        if c.ratio:
            out["ratio"] = list(c.ratio)
        if c.full_height:
            out["fullHeight"] = True
        return out
    if isinstance(c, TextView):
        if c.field is not None:
            out = {"type": "view.text", "content": _input(c.field)}
        else:
            out = {"type": "view.markdown", "content": c.content or ""}
        if c.label:
            out["label"] = c.label
        return out
    field = outputs[c.field]
    if isinstance(c, RadioGroup | Dropdown):
        kind = "field.radio-group" if isinstance(c, RadioGroup) else "field.select"
        out = {"type": kind, "data": _output(c.field), "options": _options(field)}
    elif isinstance(c, CheckboxGroup):
        if field.type is FieldType.BOOL:  # one box, true when ticked; "required" would force a tick
            out = {"type": "field.checkbox", "data": _output(c.field)}
            if c.label:
                out["label"] = c.label
            return out
        out = {"type": "field.checkbox-group", "data": _output(c.field), "options": _options(field)}
    elif isinstance(c, TextInput):
        kind = "field.number" if field.type is FieldType.NUMBER else "field.text"
        out = {"type": kind, "data": _output(c.field)}
        if c.placeholder:
            out["placeholder"] = c.placeholder
    else:  # pragma: no cover - the Component union is closed
        raise TypeError(f"unknown interface component {c!r}")
    if c.label:
        out["label"] = c.label
    if c.required:
        out["validation"] = dict(REQUIRED)
    return out


def _collect_types(node: Any, seen: dict[str, None]) -> None:
    """Every Template Builder component type used, in document order (for the ``lock``)."""
    if isinstance(node, dict):
        t = node.get("type")
        if isinstance(t, str) and not t.startswith("data."):
            seen.setdefault(t, None)
        for v in node.values():
            _collect_types(v, seen)
    elif isinstance(node, list):
        for v in node:
            _collect_types(v, seen)


def template_config(interface: Interface, outputs: dict[str, DataField]) -> dict[str, Any]:
    """The Template Builder config object (before it is encoded as a string)."""
    layout: dict[str, Any] = {"kind": "scroll"}
    if interface.task_width:
        layout["taskWidth"] = interface.task_width
    return {
        "view": {"type": "view.list", "items": [_component(c, outputs) for c in interface.components]},
        "plugins": [{"type": "plugin.toloka", "layout": layout}],
    }


def view_spec(spec: JobSpec) -> dict[str, Any]:
    """``task_spec.view_spec`` for a spec: ``{"type": "tb", "config": "<json>", "lock": {...}}``."""
    config = template_config(spec.effective_interface(), {f.name: f for f in spec.outputs})
    types: dict[str, None] = {}
    _collect_types(config, types)
    lock = {"core": TB_VERSION, **{t: TB_VERSION for t in types}}
    return {"type": "tb", "inferDataSpec": False, "config": json.dumps(config, indent=4), "lock": lock}
