"""Job spec -> Toloka project: public texts, input/output field specs and the Template Builder view.

The item key travels on every task in a hidden input field (``_key``). Toloka tasks have no
external-id field (toloka-kit's ``__item_idx`` is a private trick the server merely echoes into
operation logs, never stored), and Toloka's documentation names hidden input fields as the place for
requester-side ids: they are stored with the task, returned with every assignment and never shown
to Tolokers. Declaring the field in ``input_spec`` keeps the task valid against the project.
"""

from __future__ import annotations

from typing import Any

from annotate_core.errors import SpecError
from annotate_core.model.fields import DataField, FieldType
from annotate_core.model.spec import JobSpec
from annotate_toloka.view import view_spec
from annotate_toloka.wire import KEY_FIELD

# neutral type -> Toloka field spec type
INPUT_TYPES = {
    FieldType.URL: "url",
    FieldType.IMAGE: "url",
    FieldType.TEXT: "string",
    FieldType.JSON: "json",
    FieldType.NUMBER: "float",
    FieldType.BOOL: "boolean",
}
OUTPUT_TYPES = {
    FieldType.LABEL: "string",
    FieldType.LABELS: "array_string",
    FieldType.FREE_TEXT: "string",
    FieldType.TEXT: "string",
    FieldType.NUMBER: "float",
    FieldType.BOOL: "boolean",
    FieldType.URL: "url",
    FieldType.IMAGE: "url",
    FieldType.JSON: "json",
}


def field_spec(f: DataField, types: dict[FieldType, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": types[f.type], "required": f.required, "hidden": False}
    if f.options:
        out["allowed_values"] = list(f.option_values)
    return out


def input_spec(spec: JobSpec) -> dict[str, Any]:
    if any(f.name == KEY_FIELD for f in spec.inputs):
        raise SpecError(
            f"inputs.{KEY_FIELD}: this name is reserved by the Toloka backend for the item key; rename the input"
        )
    out = {f.name: field_spec(f, INPUT_TYPES) for f in spec.inputs}
    out[KEY_FIELD] = {"type": "string", "required": False, "hidden": True}
    return out


def output_spec(spec: JobSpec) -> dict[str, Any]:
    return {f.name: field_spec(f, OUTPUT_TYPES) for f in spec.outputs}


def project_body(spec: JobSpec) -> dict[str, Any]:
    """``POST /v1/projects`` body."""
    # Toloka requires a public description; the name stands in when the spec has none
    body: dict[str, Any] = {"public_name": spec.name, "public_description": spec.description or spec.name}
    if spec.instructions:
        body["public_instructions"] = spec.instructions
    body["task_spec"] = {"input_spec": input_spec(spec), "output_spec": output_spec(spec), "view_spec": view_spec(spec)}
    body["assignments_issuing_type"] = "AUTOMATED"
    return body
