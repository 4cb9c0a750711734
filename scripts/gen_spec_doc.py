"""Regenerate docs/spec.md: every field of the job spec, and what each built-in backend does with it.

Run: python scripts/gen_spec_doc.py   (tests/core/test_docs.py fails when the file is stale)

Everything comes from data that code already uses: the pydantic models (types, defaults,
constraints, descriptions), ``required_capabilities`` (which spec path needs which capability, fed
the one-capability specs of ``annotate_core.testing.specs.FRAGMENTS``), each backend class's
``capabilities`` and ``hints``, and the hand-written mapping notes in ``scripts/spec_notes.yaml``
(keyed by field path, then backend).
"""

from __future__ import annotations

import re
import sys
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import annotated_types
import yaml
from pydantic import AnyHttpUrl, BaseModel
from pydantic.fields import FieldInfo

from annotate_core.backend import Backend
from annotate_core.capabilities import CAPABILITY_DESCRIPTIONS, Capability, check, required_capabilities
from annotate_core.model.base import SpecModel
from annotate_core.model.spec import JobSpec
from annotate_core.registry import KNOWN_BACKENDS, get_backend_class
from annotate_core.testing.specs import FRAGMENTS, spec_data_needing, spec_needing

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "spec.md"
NOTES = Path(__file__).resolve().parent / "spec_notes.yaml"
BACKENDS = tuple(KNOWN_BACKENDS)  # local, toloka, dataloop: the built-in ones, in a stable order
DISCRIMINATORS = ("kind", "metric", "action")


# ---- the walk over the models ----------------------------------------------------------------------


@dataclass
class Row:
    """One field of one model, at its path in a spec."""

    path: str
    name: str
    type: str
    default: str
    meaning: str


@dataclass
class Section:
    """One model where it appears in a spec (a union member is its own section)."""

    model: type[SpecModel]
    path: str
    variant: str = ""  # "kind: pulling" for a member of a discriminated union
    rows: list[Row] = field(default_factory=list)
    also: list[str] = field(default_factory=list)  # other paths the same model appears at
    children: list[Section] = field(default_factory=list)  # models first met in this one's fields


def anchor(cls: type) -> str:
    return cls.__name__.lower()


def _discriminator_value(cls: type[SpecModel]) -> str:
    for name in DISCRIMINATORS:
        f = cls.model_fields.get(name)
        if f is not None and typing.get_origin(f.annotation) is typing.Literal:
            return f"{name}: {typing.get_args(f.annotation)[0]}"
    return ""


def _constraints(info: FieldInfo | None) -> list[str]:
    out: list[str] = []
    for m in info.metadata if info else ():
        if isinstance(m, annotated_types.Gt):
            out.append(f"> {m.gt}")
        elif isinstance(m, annotated_types.Ge):
            out.append(f"≥ {m.ge}")
        elif isinstance(m, annotated_types.Lt):
            out.append(f"< {m.lt}")
        elif isinstance(m, annotated_types.Le):
            out.append(f"≤ {m.le}")
        elif isinstance(m, annotated_types.MinLen):
            out.append(f"at least {m.min_length}")
        elif isinstance(m, annotated_types.MaxLen):
            out.append(f"at most {m.max_length}")
    return out


class Walker:
    """Turns the model tree under ``JobSpec`` into sections, collecting enums and every field path."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.enums: list[type[Enum]] = []
        self.paths: dict[str, Section] = {}
        self._seen: set[type] = set()

    def walk(self, cls: type[SpecModel]) -> None:
        self._seen.add(cls)
        self.sections.append(Section(cls, ""))
        self._fill(self.sections[-1])
        for section in self.ordered():  # a model met at several paths: so are the models it holds
            for alt in section.also:
                for child in section.children:
                    moved = alt + child.path[len(section.path):]
                    if moved not in child.also and moved != child.path:
                        child.also.append(moved)

    def undescribed(self) -> list[str]:
        """Paths of fields whose model gives no description (the test requires none)."""
        return [r.path for s in self.sections for r in s.rows if not r.meaning]

    def ordered(self) -> list[Section]:
        """Depth first: each model's section is followed by those of the models it holds."""
        out: list[Section] = []

        def visit(s: Section) -> None:
            out.append(s)
            for child in s.children:
                visit(child)

        visit(self.sections[0])
        return out

    def _fill(self, section: Section) -> None:
        cls, path = section.model, section.path
        nested: list[tuple[type[SpecModel], str, str]] = []
        for name, info in cls.model_fields.items():
            key = info.alias or name
            here = f"{path}.{key}" if path else key
            text = self.type_text(info.annotation, info, here, nested)
            bounds = _constraints(info)
            if bounds:
                text += f" ({', '.join(bounds)})"
            meaning = " ".join((info.description or "").split())
            if not meaning and name in DISCRIMINATORS and typing.get_origin(info.annotation) is typing.Literal:
                meaning = f"Selects this variant: `{name}: {typing.get_args(info.annotation)[0]}`."
            section.rows.append(Row(here, key, text, default_text(info), meaning))
            self.paths.setdefault(here, section)
        # claim every model met here before walking any, so a model shared by siblings (the filter
        # tree's AllOf / AnyOf / Condition) is documented at the shallowest path
        fresh = []
        for c, p, v in nested:
            if c not in self._seen:
                self._seen.add(c)
                fresh.append((c, p, v))
        for sub, sub_path, sub_variant in fresh:
            self.sections.append(Section(sub, sub_path, sub_variant))
            section.children.append(self.sections[-1])
        for c, p, _ in nested:
            known = next(s for s in self.sections if s.model is c)
            if p != known.path and p not in known.also:
                known.also.append(p)
        for sub, _, _ in fresh:
            self._fill(next(s for s in self.sections if s.model is sub))

    def type_text(self, ann: Any, info: FieldInfo | None, path: str,
                  nested: list[tuple[type[SpecModel], str, str]]) -> str:
        origin, args = typing.get_origin(ann), typing.get_args(ann)
        if origin is typing.Annotated:
            inner = next((a for a in args[1:] if isinstance(a, FieldInfo)), None)
            return self.type_text(args[0], inner or info, path, nested)
        if origin in (typing.Union, types.UnionType):
            members = [a for a in args if a is not type(None)]
            before = len(nested)
            texts = [self.type_text(a, None, path, nested) for a in members]
            if len(members) > 1:  # a member of a union is documented with what selects it
                nested[before:] = [(c, p, _discriminator_value(c)) for c, p, _ in nested[before:]]
            text = " or ".join(texts)
            disc = info.discriminator if info is not None else None
            if isinstance(disc, str):
                text = f"one of {', '.join(texts)} (chosen by `{disc}`)"
            if len(members) < len(args):
                text += ", or null"
            return text
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return f"list of {self.type_text(args[0], None, f'{path}[]', nested)}"
            return f"[{', '.join(self.type_text(a, None, path, nested) for a in args)}]"
        if origin is dict:
            return f"mapping of {self.type_text(args[0], None, path, nested)} to " \
                   f"{self.type_text(args[1], None, path, nested)}"
        if origin is typing.Literal:
            return " or ".join(f"`{a}`" for a in args)
        if isinstance(ann, type) and issubclass(ann, Enum):
            if ann not in self.enums:
                self.enums.append(ann)
            return f"[{ann.__name__}](#{anchor(ann)})"
        if isinstance(ann, type) and issubclass(ann, SpecModel):
            nested.append((ann, path, ""))
            return f"[{ann.__name__}](#{anchor(ann)})"
        if isinstance(ann, typing.ForwardRef):  # the recursive filter tree (AllOf / AnyOf hold filters)
            return "filter"
        simple = {str: "string", int: "integer", float: "number", bool: "boolean", datetime: "date-time",
                  timedelta: "duration (ISO 8601)", AnyHttpUrl: "URL", Any: "any"}
        if ann in simple:
            return simple[ann]
        raise SystemExit(f"gen_spec_doc: no rendering for type {ann!r} at {path}")


def flow(value: Any) -> str:
    """A value as YAML flow style, the way a spec file would write it."""
    return str(yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False)).strip().removesuffix(
        "\n...").strip()


def default_text(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        disc = _discriminator_value(type(value))
        shown = value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        if not shown:
            return f"`{{{disc}}}`" if disc else "`{}` (every field at its default)"
        return f"`{flow(shown)}`"
    if isinstance(value, Enum):
        return f"`{value.value}`"
    if value is None:
        return "null"
    if isinstance(value, tuple):
        return f"`{flow(list(value))}`"
    return f"`{flow(value)}`"


# ---- capabilities and backends ---------------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    """A capability and the spec path (``[]`` for list elements) and example value that need it."""

    capability: Capability
    path: str
    example: str


def _doc_path(path: str) -> str:
    """``quality.rules.0.when.0`` -> ``quality.rules[].when``: the field row the requirement is on."""
    return re.sub(r"\.(\d+)", "[]", path).removesuffix("[]")


def _value_at(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[int(part)] if part.isdigit() else data[part]
    return data


def needs() -> list[Need]:
    """For every capability a spec can ask for, where its one-capability spec asks for it."""
    out: list[Need] = []
    for cap in FRAGMENTS:
        found = [r for r in required_capabilities(spec_needing(cap)) if r.capability is cap]
        if not found:
            raise SystemExit(f"gen_spec_doc: the spec fragment for {cap.value} does not need it")
        path = found[0].path
        try:
            value = _value_at(spec_data_needing(cap), path)
        except KeyError:  # the capability comes from a default (uploaded items): show the default
            value = _value_at(spec_needing(cap).model_dump(mode="json", by_alias=True, exclude_none=True), path)
        shown = re.sub(r"\.(\d+)", r"[\1]", path)
        out.append(Need(cap, _doc_path(path), f"`{shown}: {flow(value)}`"))
    return out


def backend_classes() -> dict[str, type[Backend]]:
    return {name: get_backend_class(name) for name in BACKENDS}


def support(cls: type[Backend], cap: Capability) -> str:
    """``yes``, or the refusal ``check`` gives for the capability's example spec (the hint a user sees)."""
    gaps = [u for u in check(spec_needing(cap), cls.name, cls.capabilities, cls.hints) if u.capability is cap]
    return f"**refused**: {gaps[0].hint}" if gaps else "yes"


def default_hint(cap: Capability) -> str:
    """The hint ``check`` gives when a backend declares no hint of its own for ``cap``."""
    return next(u.hint for u in check(spec_needing(cap), "", (), {}) if u.capability is cap)


#: where the capabilities no spec field needs are used
API_USES = {
    Capability.GOLDEN: "items with a `golden` answer (`job.add_items`)",
    Capability.MANUAL_REVIEW: "`job.review(assignment, accept=...)`",
    Capability.PAUSE: "`job.pause()` / `job.resume()`",
    Capability.JOB_KEYS: "`client.create_job(spec, key=...)`, `annotate run`",
    Capability.EVENTS: "`job.events()`",
    Capability.SKILLS: "the backend's skill methods (Toloka: `create_skill`, `set_user_skill`)",
    Capability.SIMULATION: "`job.simulate()`",
    Capability.PULL_API: "`job.pull` / `job.submit` / `job.skip`",
}


def load_notes() -> dict[str, dict[str, str]]:
    notes = yaml.safe_load(NOTES.read_text()) or {}
    return {path: {b: " ".join(str(t).split()) for b, t in per.items()} for path, per in notes.items()}


def cell(text: str) -> str:
    """Text safe in a markdown table cell: pipes escaped, ``<name>`` outside code spans not read as HTML."""
    parts = text.replace("|", "\\|").replace("\n", " ").split("`")
    parts[::2] = [p.replace("<", "&lt;").replace(">", "&gt;") for p in parts[::2]]
    return "`".join(parts)


# ---- rendering ---------------------------------------------------------------------------------------

HEADER = """# The job spec

Generated by `python scripts/gen_spec_doc.py` from the pydantic models in `annotate_core/model/`, the
capabilities each spec path needs (`annotate_core/capabilities.py`), the capabilities and hints each
built-in backend declares, and the mapping notes in `scripts/spec_notes.yaml`. Do not edit it by hand:
`tests/core/test_docs.py` fails when it is stale. `annotate schema` prints the same descriptions as JSON
Schema; [backends.md](backends.md) is the capability x backend matrix.

A spec is YAML, TOML or a `JobSpec` built in code. Every model is closed: an unknown key is an error
naming it, never ignored. Lists of `options` and `assignees` also take plain strings (`options: [cat,
dog]`). Paths below use `[]` for "every element of the list".

**What the backend columns mean.** `yes`: the backend declares the capability this use of the field
needs and maps it. **refused**: `annotate plan` and `create_job` stop before anything is sent, with
the hint shown. A backend may still refuse a value finer than a capability (`check_spec`, named in the
notes) and may warn where its mapping changes meaning or cost: run `annotate plan SPEC --backend NAME`
to see those warnings for your spec.
"""

PLUGINS = """## For backend authors

A backend receives a validated, frozen `JobSpec` (`from annotate_core import JobSpec`); by the time
`plan` or `create_job` runs, the core has already refused every capability the backend did not declare
(`check` in `annotate_core/capabilities.py`), so the code only meets features it said it supports.
Refuse anything finer in `check_spec(spec)` (return `Unsupported` entries naming the path, asked by
both `plan` and `create_job`) and report a mapping that changes meaning or cost through
`warnings(spec, n_items)` (`PlanWarning(path, message, backend)`).

Reading a spec:

```python
from annotate_core import DatasetSource, Fixed, JobSpec, Pulling


def read(spec: JobSpec) -> dict:
    label = spec.outputs[0]                       # DataField: name, type (FieldType), required, options
    body = {
        "question": label.description or spec.instructions,
        "choices": [(o.value, o.text) for o in label.options],  # stored value, text shown to workers
        "view": spec.effective_interface().components,  # the spec's, or derived from the fields
        "overlap": spec.overlap.count,            # spec.overlap.for_key(item.key) per item when fraction < 1
        "due": spec.deadline_at(),                # absolute UTC datetime, or None
        "extras": spec.options.get("acme", {}),   # options.<your backend name>; other backends ignore it
    }
    if isinstance(spec.distribution, Pulling):    # a discriminated union: test the class, not `kind`
        body["batch"] = spec.distribution.batch_size + spec.distribution.golden_per_batch
    elif isinstance(spec.distribution, Fixed):
        body["weights"] = {a.id: a.weight for a in spec.workforce.assignees}
    if isinstance(spec.source, DatasetSource):
        body["dataset"] = (spec.source.dataset, spec.source.filter or spec.source.item_ids)
    for rule in spec.quality.rules:               # conditions by `metric`, actions by `action`
        body.setdefault("rules", []).append(([c.metric for c in rule.when], rule.then.action))
    return body
```

Storing the spec on a vendor object, so `get_spec(job_id)` can rebuild a job handle and a job key can
be checked on attach, takes one pair: `spec_to_json(spec)` gives compact JSON text (aliases, JSON types,
nothing dropped) and `spec_from_json(text_or_dict, where=..., backend=...)` reads it back equal, raising
`MalformedResponseError` naming `where` and the first bad field. Do not use `exclude_none`: it drops an
explicit `null` the model reads back as a different default, which changes the spec's fingerprint.

```python
from annotate_core import spec_from_json, spec_to_json


def store_and_read(spec, vendor_metadata):
    vendor_metadata["annotate_spec"] = spec_to_json(spec)
    return spec_from_json(vendor_metadata["annotate_spec"], where="project 1: metadata.annotate_spec",
                          backend="acme")
```

### Which spec paths need which capability

Declare a capability in `capabilities` only when the backend maps it; otherwise the core refuses the
spec with your `hints[capability]` (or the default hint shown here). Every row is checked by the
conformance suite (`annotate_core/testing/suite.py` feeds the example spec to your backend: run it
when declared, refused up front when not).

"""


def render_capabilities() -> str:
    rows = ["| capability | meaning | spec path | example | default hint when refused |", "|---|---|---|---|---|"]
    for n in needs():
        hint = default_hint(n.capability)
        rows.append(f"| `{n.capability.value}` | {cell(CAPABILITY_DESCRIPTIONS[n.capability])} | `{n.path}` | "
                    f"{cell(n.example)} | {cell(hint)} |")
    api = [c for c in Capability if c not in FRAGMENTS]
    rows.append("")
    rows.append("Capabilities no spec field needs: the `Job` API or `create_job(key=...)` uses them, and "
                "the core refuses the call on a backend without them.")
    rows.append("")
    rows.append("| capability | meaning | used by |")
    rows.append("|---|---|---|")
    for cap in api:
        rows.append(f"| `{cap.value}` | {cell(CAPABILITY_DESCRIPTIONS[cap])} | {cell(API_USES[cap])} |")
    return "\n".join(rows) + "\n"


def render_backends_table(section: Section, by_path: dict[str, list[Need]], notes: dict[str, dict[str, str]],
                          classes: dict[str, type[Backend]]) -> str:
    lines = []
    for row in section.rows:
        for n in by_path.get(row.path, []):
            cells = [cell(support(cls, n.capability)) for cls in classes.values()]
            lines.append(f"| `{row.name}` | {cell(n.example)} | `{n.capability.value}` | {' | '.join(cells)} |")
        if row.path in notes:
            per = notes[row.path]
            cells = [cell(per.get(b, "—")) for b in classes]
            when = "how it maps" if row.path in by_path else "any value"
            lines.append(f"| `{row.name}` | {when} | — | {' | '.join(cells)} |")
    if not lines:
        return ""
    head = f"| field | when the spec has | capability | {' | '.join(classes)} |"
    return "\n".join(["What the built-in backends do with these fields:", "", head,
                      "|" + "---|" * (3 + len(classes)), *lines]) + "\n"


def render_section(section: Section, by_path: dict[str, list[Need]], notes: dict[str, dict[str, str]],
                   classes: dict[str, type[Backend]]) -> str:
    cls = section.model
    where = ", ".join(f"`{p}`" for p in [section.path, *section.also]) if section.path else "the whole spec"
    variant = f" with `{section.variant}`" if section.variant else ""
    out = [f'<a id="{anchor(cls)}"></a>', "", f"### {cls.__name__}: {where}{variant}", ""]
    doc = " ".join((cls.__doc__ or "").split())
    if doc:
        out += [doc, ""]
    out += ["| field | type | default | meaning |", "|---|---|---|---|"]
    for row in section.rows:
        out.append(f"| `{row.name}` | {cell(row.type)} | {cell(row.default)} | {cell(row.meaning)} |")
    out.append("")
    table = render_backends_table(section, by_path, notes, classes)
    if table:
        out += [table]
    return "\n".join(out)


def render_enum(e: type[Enum]) -> str:
    doc = " ".join((e.__doc__ or "").split())
    values = ", ".join(f"`{m.value}`" for m in e)  # type: ignore[var-annotated]
    return "\n".join([f'<a id="{anchor(e)}"></a>', "", f"### {e.__name__}", "", doc, "", f"Values: {values}.", ""])


def render() -> str:
    walker = Walker()
    walker.walk(JobSpec)
    notes = load_notes()
    unknown = sorted(set(notes) - set(walker.paths))
    if unknown:
        raise SystemExit(f"gen_spec_doc: {NOTES.name} has notes for paths no model has: {unknown}")
    classes = backend_classes()
    strays = sorted({b for per in notes.values() for b in per} - set(classes))
    if strays:
        raise SystemExit(f"gen_spec_doc: {NOTES.name} names backends that are not built in: {strays}")
    by_path: dict[str, list[Need]] = {}
    for n in needs():
        if n.path not in walker.paths:
            raise SystemExit(f"gen_spec_doc: capability {n.capability.value} is needed at {n.path}, not a field")
        by_path.setdefault(n.path, []).append(n)
    parts = [HEADER, "## Contents", ""]
    parts += [f"- [{s.model.__name__}](#{anchor(s.model)}): `{s.path or 'the whole spec'}`"
              f"{f' with `{s.variant}`' if s.variant else ''}" for s in walker.ordered()]
    parts += ["- [Enumerations](#enumerations)", "- [For backend authors](#for-backend-authors)", "",
              "## Fields", ""]
    parts += [render_section(s, by_path, notes, classes) for s in walker.ordered()]
    parts += ["## Enumerations", ""]
    parts += [render_enum(e) for e in walker.enums]
    parts += [PLUGINS.rstrip() + "\n", render_capabilities()]
    return "\n".join(parts)


def main() -> int:
    DOC.write_text(render())
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
