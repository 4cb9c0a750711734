"""The spec as a Label Studio labeling config, and annotation results back as answer values.

Inputs become object tags named after the field (``<Image>`` for images, ``<Text>`` for the rest),
outputs become control tags named after the field and tied (``toName``) to the first object tag:
``label`` -> ``<Choices choice="single">`` (``layout="select"`` for a dropdown), ``labels`` ->
``<Choices choice="multiple">``, ``number`` -> ``<Number>``, other typed answers -> ``<TextArea>``. An
option whose text differs from its value is a ``<Choice value=text alias=value>``: the result then
holds the value when the choice is made in Label Studio's UI, and the text when an annotation is posted
with it through the API (``AnswerReader`` maps it back to the value). A custom ``interface`` is
rendered component by component, in order.

The config also carries annotate's mark, an XML comment Label Studio keeps verbatim and never shows:
the job key, the spec (lossless JSON, zlib-compressed and base64-encoded: short, and no ``--`` can end
the comment) and whether annotate closed the job. It is how a job finds its key and spec again from the project alone.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

from annotate_core.model.fields import DataField, FieldType
from annotate_core.model.interface import (
    CheckboxGroup,
    Dropdown,
    ImageView,
    RadioGroup,
    TextInput,
    TextView,
)
from annotate_core.model.spec import JobSpec
from annotate_core.stored_spec import spec_from_json, spec_to_json
from annotate_labelstudio.settings import BACKEND

#: task data fields annotate adds next to the inputs: the item key and a golden item's known answers
KEY_FIELD = "_annotate_key"
GOLDEN_FIELD = "_annotate_golden"
RESERVED_FIELDS = (KEY_FIELD, GOLDEN_FIELD)

_MARK = re.compile(r"<!-- annotate-job (\{.*?\}) -->", re.S)
BOOL_OPTIONS = ("true", "false")


@dataclass(frozen=True)
class Mark:
    """What annotate keeps in a project's labeling config."""

    spec: JobSpec
    key: str | None = None
    closed: bool = False


def encode_mark(spec: JobSpec, key: str | None, closed: bool = False) -> str:
    doc = {"v": 1, "key": key, "closed": closed,
           "spec": base64.b64encode(zlib.compress(spec_to_json(spec).encode(), 9)).decode()}
    return f"<!-- annotate-job {json.dumps(doc, separators=(',', ':'))} -->"


def read_mark(label_config: object, where: str) -> Mark | None:
    """annotate's mark in a labeling config; None for projects annotate did not make."""
    if not isinstance(label_config, str):
        return None
    found = _MARK.search(label_config)
    if found is None:
        return None
    try:
        doc = json.loads(found.group(1))
        raw = zlib.decompress(base64.b64decode(doc["spec"], validate=True))
    except (ValueError, KeyError, TypeError, binascii.Error, zlib.error):
        return None
    spec = spec_from_json(raw, where=f"{where}: the spec in the labeling config", backend=BACKEND)
    key = doc.get("key")
    return Mark(spec=spec, key=key if isinstance(key, str) else None, closed=bool(doc.get("closed")))


def with_mark(label_config: str, mark: str) -> str:
    """The config with annotate's mark replaced (or added after ``<View>``)."""
    if _MARK.search(label_config):
        return _MARK.sub(lambda _: mark, label_config, count=1)
    return label_config.replace("<View>", "<View>" + mark, 1)


# ---- the config -------------------------------------------------------------------------------


def _options(field: DataField) -> list[tuple[str, str]]:
    """(text shown, value stored) of a choice field; a bool field answers ``true`` / ``false``."""
    if field.type is FieldType.BOOL:
        return [(v, v) for v in BOOL_OPTIONS]
    return [(o.text, o.value) for o in field.options]


def _choices(field: DataField, to_name: str, *, multiple: bool, select: bool, required: bool) -> str:
    attrs = f"name={quoteattr(field.name)} toName={quoteattr(to_name)}"
    attrs += ' choice="multiple"' if multiple else ' choice="single-radio"'
    if select:
        attrs += ' layout="select"'
    if required:
        attrs += ' required="true"'
    inner = "".join(
        f"<Choice value={quoteattr(text)}" + (f" alias={quoteattr(value)}" if value != text else "") + "/>"
        for text, value in _options(field))
    return f"<Choices {attrs}>{inner}</Choices>"


def _typed(field: DataField, to_name: str, *, required: bool, placeholder: str | None = None) -> str:
    req = ' required="true"' if required else ""
    if field.type is FieldType.NUMBER:
        return f"<Number name={quoteattr(field.name)} toName={quoteattr(to_name)}{req}/>"
    ph = f" placeholder={quoteattr(placeholder)}" if placeholder else ""
    return (f'<TextArea name={quoteattr(field.name)} toName={quoteattr(to_name)} maxSubmissions="1" '
            f'editable="true"{ph}{req}/>')


def _control(field: DataField, to_name: str, kind: str | None, *, required: bool,
             placeholder: str | None = None) -> str:
    if field.type in (FieldType.LABEL, FieldType.LABELS, FieldType.BOOL) and kind != "text_input":
        multiple = field.type is FieldType.LABELS or (kind == "checkbox" and field.type is not FieldType.BOOL)
        return _choices(field, to_name, multiple=multiple, select=kind == "dropdown", required=required)
    return _typed(field, to_name, required=required, placeholder=placeholder)


def _object(field: DataField, *, max_height: str | None = None) -> str:
    value = quoteattr("$" + field.name)
    if field.type is FieldType.IMAGE:
        extra = f" maxHeight={quoteattr(max_height)}" if max_height else ""
        return f"<Image name={quoteattr(field.name)} value={value}{extra}/>"
    return f"<Text name={quoteattr(field.name)} value={value}/>"


def _header(text: str) -> str:
    return f"<Header value={quoteattr(text)}/>"


def object_names(spec: JobSpec) -> list[str]:
    """The inputs shown as object tags, in order: what controls can point at."""
    if spec.interface is None:
        return [f.name for f in spec.inputs]
    return [c.field for c in spec.interface.components
            if isinstance(c, ImageView | TextView) and c.field is not None]


def labeling_config(spec: JobSpec, key: str | None, *, closed: bool = False) -> str:
    """The labeling config of a job (``check_spec`` has refused what it cannot express)."""
    inputs = {f.name: f for f in spec.inputs}
    outputs = {f.name: f for f in spec.outputs}
    objects = object_names(spec)
    to_name = objects[0] if objects else spec.inputs[0].name
    parts: list[str] = []
    if spec.interface is None:
        parts += [_object(f) for f in spec.inputs]
        for f in spec.outputs:
            if f.description:
                parts.append(_header(f.description))
            parts.append(_control(f, to_name, None, required=f.required))
    else:
        for c in spec.interface.components:
            if isinstance(c, ImageView):
                parts.append(_object(inputs[c.field], max_height="100vh" if c.full_height else None))
            elif isinstance(c, TextView):
                if c.label:
                    parts.append(_header(c.label))
                if c.field is not None:
                    parts.append(_object(inputs[c.field]))
                if c.content:
                    parts.append(_header(c.content))
            elif isinstance(c, RadioGroup | CheckboxGroup | Dropdown | TextInput):
                if c.label:
                    parts.append(_header(c.label))
                parts.append(_control(outputs[c.field], to_name, c.kind, required=c.required,
                                      placeholder=c.placeholder if isinstance(c, TextInput) else None))
    style = ""
    if spec.interface is not None and spec.interface.task_width:
        style = f' style="max-width: {spec.interface.task_width}px"'
    return f"<View{style}>{encode_mark(spec, key, closed)}{''.join(parts)}</View>"


# ---- results ----------------------------------------------------------------------------------


def result_entry(field: DataField, to_name: str, value: Any) -> dict[str, Any]:
    """One ``result`` entry answering ``field`` with ``value`` (tests and ground truth use it)."""
    if field.type is FieldType.NUMBER:
        return {"from_name": field.name, "to_name": to_name, "type": "number", "value": {"number": value}}
    if field.type in (FieldType.LABEL, FieldType.LABELS, FieldType.BOOL):
        values = list(value) if isinstance(value, list | tuple) else [value]
        if field.type is FieldType.BOOL:
            values = ["true" if v else "false" for v in values]
        return {"from_name": field.name, "to_name": to_name, "type": "choices", "value": {"choices": values}}
    return {"from_name": field.name, "to_name": to_name, "type": "textarea", "value": {"text": [str(value)]}}


class AnswerReader:
    """Annotation results back as answer values, for one spec's outputs (built once per read).

    A ``<Choice value=text alias=value>`` is stored as its alias when an annotator picks it in Label
    Studio's UI, but an annotation posted through the API with the text shown (``"Cat"``) keeps that
    text. A choice that is an option's text and no option's value is mapped to that option's value;
    anything else (a value, or a value the spec does not know) is kept as it came, as the other
    backends keep a vendor's labels.
    """

    __slots__ = ("_by_name", "_to_value")

    def __init__(self, outputs: Sequence[DataField]) -> None:
        self._by_name = {f.name: f for f in outputs}
        self._to_value: dict[str, dict[str, str]] = {}
        for f in outputs:
            options = _options(f) if f.type in (FieldType.LABEL, FieldType.LABELS, FieldType.BOOL) else []
            values = {value for _, value in options}
            mapping = {text: value for text, value in options if text != value and text not in values}
            if mapping:
                self._to_value[f.name] = mapping

    def values(self, result: object) -> dict[str, Any]:
        """Output field -> the answer a ``result`` list holds for it (absent: not answered)."""
        values: dict[str, Any] = {}
        for entry in result if isinstance(result, list) else []:
            if not isinstance(entry, Mapping):
                continue
            field = self._by_name.get(str(entry.get("from_name")))
            value = entry.get("value")
            if field is None or not isinstance(value, Mapping):
                continue
            if "choices" in value and isinstance(value["choices"], list):
                choices = [str(c) for c in value["choices"]]
                mapping = self._to_value.get(field.name)
                if mapping:
                    choices = [mapping.get(c, c) for c in choices]
                if field.type is FieldType.LABELS:
                    values[field.name] = choices
                elif field.type is FieldType.BOOL:
                    values[field.name] = bool(choices) and choices[0] == "true"
                else:
                    values[field.name] = choices[0] if choices else None
            elif "number" in value:
                values[field.name] = value["number"]
            elif "text" in value:
                text = value["text"]
                values[field.name] = "\n".join(str(t) for t in text) if isinstance(text, list) else str(text)
        return values


def answer_values(result: object, outputs: Sequence[DataField]) -> dict[str, Any]:
    """Output field -> the answer a ``result`` list holds for it (``AnswerReader`` for many results)."""
    return AnswerReader(outputs).values(result)
