"""Regenerate docs/plugin-spec-mapping.md: field by field, what a backend must do with each spec field.

Run: python scripts/gen_plugin_spec_doc.py   (tests/core/test_docs.py fails when the file is stale, and
when a spec field is missing from it)

docs/spec.md says what every field means; this page says what a plugin author does with it: which
capability gates it (the core refuses it before the backend runs when the capability is undeclared),
whether values finer than the capability are refused in ``check_spec`` or run with a changed meaning
and reported by ``warnings()``, and how the three built-in vendor backends map it. Sources, all used
by code: the models (through ``gen_spec_doc.Walker``), ``required_capabilities`` on the one-capability
specs, each built-in backend's declarations, ``scripts/spec_notes.yaml``, and what the built-in
backends' own ``check_spec`` / ``plan`` / ``warnings`` return for every example spec and every
conformance spec (observed, so a new warning shows up here when it is added to a backend).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from annotate_core.backend import Backend
from annotate_core.capabilities import check
from annotate_core.errors import SpecError, UnsupportedFeatureError
from annotate_core.model.spec import JobSpec
from annotate_core.specfile import load_spec
from annotate_core.testing.specs import FRAGMENTS, spec_needing

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "plugin-spec-mapping.md"


def _spec_doc_generator() -> Any:
    spec = importlib.util.spec_from_file_location("gen_spec_doc", Path(__file__).with_name("gen_spec_doc.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_spec_doc"] = module  # dataclasses look their module up while it runs
    spec.loader.exec_module(module)
    return module


gen = _spec_doc_generator()


# ---- what the built-in backends do, observed ------------------------------------------------------


def _offline_jwt() -> str:
    """A well-formed JWT that expires in 2100: Dataloop's constructor reads the expiry, nothing is sent."""
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{enc({'alg': 'none'})}.{enc({'exp': 4102444800, 'email': 'docs@example.com'})}.unsigned"


def instances() -> dict[str, Backend]:
    """One instance of each built-in backend, built offline (no store opened, no request sent)."""
    classes = gen.backend_classes()
    options: dict[str, dict[str, Any]] = {
        "local": {"url": "sqlite:///never-opened-by-the-doc-generator.db"},
        "toloka": {"token": SecretStr("docs-generator-token")},
        "dataloop": {"token": SecretStr(_offline_jwt()), "project": "docs", "dataset": "docs"},
        "labelstudio": {"url": "http://127.0.0.1:8080", "token": SecretStr("docs-generator-token")},
    }
    return {name: cls(**options[name]) for name, cls in classes.items()}


def sample_specs() -> list[JobSpec]:
    """Every example spec and every conformance spec: the specs the backends are tested with."""
    return [load_spec(p) for p in sorted((ROOT / "examples").glob("*.yaml"))] + [spec_needing(c) for c in FRAGMENTS]


_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]]*):")


@dataclass
class Observed:
    warns: set[str] = field(default_factory=set)
    refuses: set[str] = field(default_factory=set)


def observe(paths: set[str]) -> dict[str, Observed]:
    """Per backend, the field paths its ``warnings`` and its refusals (``check_spec``, ``plan``) named."""
    out: dict[str, Observed] = {}
    for name, backend in instances().items():
        seen = out.setdefault(name, Observed())
        for spec in sample_specs():
            if check(spec, backend.name, backend.capabilities, backend.hints):
                continue  # the core refuses it first: the backend never sees it
            seen.refuses |= {field_of(u.path, paths) for u in backend.check_spec(spec)}
            try:
                seen.warns |= {field_of(w.path, paths) for w in backend.warnings(spec, 10)}
                backend.plan(spec, 10)
            except UnsupportedFeatureError as exc:
                seen.refuses |= {field_of(u.path, paths) for u in exc.unsupported}
            except SpecError as exc:
                m = _FIELD_PREFIX.match(str(exc))
                if m:
                    seen.refuses.add(field_of(m.group(1), paths))
        seen.warns.discard("")
        seen.refuses.discard("")
    return out


def field_of(path: str, paths: set[str]) -> str:
    """``quality.rules.1.then`` or ``quality.rules[1]`` -> the documented field path (``quality.rules[].then``),
    or its nearest documented ancestor."""
    p = re.sub(r"\[(\d+)\]", r".\1", path)
    p = re.sub(r"\.(\d+)(?=\.|$)", "[]", p)
    while p and p not in paths:
        p = p.removesuffix("[]") if p.endswith("[]") else p.rpartition(".")[0]
    return p


# ---- rendering ------------------------------------------------------------------------------------

HEADER = """# Mapping the spec in a backend

Generated by `python scripts/gen_plugin_spec_doc.py`; do not edit by hand (`tests/core/test_docs.py`
fails when it is stale or misses a spec field). For plugin authors: [spec.md](spec.md) says what each
field *means*; this page says, field by field, what your backend must *do* with it, and how the three
built-in backends (local, Toloka, Dataloop) do it. The guide is [plugins.md](plugins.md).

A spec reaches your backend in three steps, and each field is handled at one of them:

1. **The capability gate (the core).** A field whose use needs a capability (`gated by` below) is
   refused by the core, at `annotate plan` and before `create_job` reaches your code, when your class
   does not declare that capability; your `hints[capability]` is the advice shown. Declare a
   capability only when you map every value the model allows, or refuse the rest in step 2.
2. **`check_spec(spec)` (your backend): refuse.** Values finer than a capability that your vendor cannot
   run (one webhook event type, a batch size outside the vendor's range, an output type the vendor's
   ontology lacks) come back as `Unsupported` entries naming the path; the core asks it in both `plan`
   and `create_job`, before anything is sent. Refuse when running the spec would do something else
   than it says.
3. **`warnings(spec, n_items)` (your backend): run it and say so.** Where the vendor runs the value with
   a changed meaning or cost (a default the vendor adds, every assignment reviewed instead of a 10%
   sample), return a `PlanWarning(path, message)`; `annotate plan` shows it. Never change a meaning
   silently.

Fields with no capability (`—`) reach every backend: map them, or refuse them in `check_spec`.

Columns per backend: **refused** when the backend does not declare the gating capability (the core
stops the spec with the hint shown); otherwise the mapping note from `scripts/spec_notes.yaml`, then
**warns** / **refuses some values** when that backend's own `warnings` / `check_spec` / `plan` named
the field for one of the example or conformance specs (observed by the generator, not written by
hand). `—`: nothing backend-specific (the field is used as the model defines it, or not used).
"""


def _needs_by_path(paths: set[str]) -> dict[str, list[Any]]:
    by_path: dict[str, list[Any]] = {}
    for n in gen.needs():
        by_path.setdefault(n.path, []).append(n)
    return by_path


def gates(path: str, by_path: dict[str, list[Any]]) -> tuple[list[Any], str]:
    """The capabilities gating ``path``: its own, else its nearest gated ancestor's (named)."""
    p = path
    while p:
        if p in by_path:
            return by_path[p], ("" if p == path else p)
        p = p.removesuffix("[]") if p.endswith("[]") else p.rpartition(".")[0]
    return [], ""


def backend_cell(name: str, cls: type[Backend], row_path: str, needs: list[Any], notes: dict[str, dict[str, str]],
                 observed: Observed, via: str = "") -> str:
    parts: list[str] = []
    refused = [n for n in needs if n.capability not in cls.capabilities]
    if needs and len(refused) == len(needs):
        return "**refused**" + (f" (as `{via}`)" if via else ": " + gen.support(cls, needs[0].capability)
                                .removeprefix("**refused**: "))
    if refused and not via:
        parts.append("refused for " + ", ".join(f"`{n.capability.value}`" for n in refused))
    note = notes.get(row_path, {}).get(name)
    if note:
        parts.append(note)
    if row_path in observed.refuses or (note and "check_spec" in note):
        parts.append("**refuses some values**")
    if row_path in observed.warns:
        parts.append("**warns**")
    return "; ".join(parts) if parts else "—"


def todo(row_path: str, needs: list[Any], via: str, observed: dict[str, Observed],
         notes: dict[str, dict[str, str]]) -> str:
    warned = sorted(b for b, o in observed.items() if row_path in o.warns)
    refused = sorted(b for b, o in observed.items() if row_path in o.refuses) or sorted(
        b for b, t in notes.get(row_path, {}).items() if "check_spec" in t)
    steps = []
    if needs and via:
        steps.append(f"as `{via}`")
    elif needs:
        caps = " or ".join(f"`{n.capability.value}`" for n in needs)
        steps.append(f"declare {caps} only if you map it")
    else:
        steps.append("map it, or refuse what you cannot in `check_spec`")
    if refused:
        steps.append("refuse values you cannot run in `check_spec` (as " + ", ".join(refused) + ")")
    if warned:
        steps.append("warn where you run it differently (as " + ", ".join(warned) + ")")
    return "; ".join(steps)


def field_rows(walker: Any) -> list[tuple[Any, list[tuple[str, Any]]]]:
    """Per section, every (path, row) of its fields: at the model's own path and at each other path
    the same model appears at (a DataField is both ``inputs[]`` and ``outputs[]``)."""
    out = []
    for section in walker.ordered():
        rows = [(row.path, row) for row in section.rows]
        for alt in section.also:
            rows += [(alt + row.path[len(section.path):], row) for row in section.rows]
        out.append((section, rows))
    return out


def all_field_paths() -> set[str]:
    """Every field path of the spec, alternates included: what the page must have a row for."""
    walker = gen.Walker()
    walker.walk(JobSpec)
    return {path for _, rows in field_rows(walker) for path, _ in rows}


def render() -> str:
    walker = gen.Walker()
    walker.walk(JobSpec)
    notes = gen.load_notes()
    paths = {path for _, rows in field_rows(walker) for path, _ in rows}
    classes = gen.backend_classes()
    by_path = _needs_by_path(paths)
    observed = observe(paths)
    out = [HEADER]
    for section, rows in field_rows(walker):
        where = ", ".join(f"`{p}`" for p in [section.path, *section.also]) if section.path else "the whole spec"
        variant = f" with `{section.variant}`" if section.variant else ""
        out += [f"## {section.model.__name__}: {where}{variant}", "",
                f"| field | gated by | your backend | {' | '.join(classes)} |",
                "|" + "---|" * (3 + len(classes))]
        for path, _row in rows:
            needs, via = gates(path, by_path)
            gate = f"as `{via}`" if via else (", ".join(f"`{n.capability.value}`" for n in needs) or "—")
            cells = [gen.cell(backend_cell(b, cls, path, needs, notes, observed[b], via)) for b, cls in classes.items()]
            out.append(f"| `{path}` | {gen.cell(gate)} | {gen.cell(todo(path, needs, via, observed, notes))} | "
                       f"{' | '.join(cells)} |")
        out.append("")
    return "\n".join(out)


def documented_paths(text: str) -> set[str]:
    """The field paths the page has a row for (what the test compares with the models)."""
    return set(re.findall(r"^\| `([^`]+)` \|", text, flags=re.MULTILINE))


def main() -> int:
    DOC.write_text(render())
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
