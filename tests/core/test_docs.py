"""Generated docs stay current: the capability matrix is derived from the backends' declarations."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def _generator(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    sys.modules[name] = gen  # dataclasses look their module up while the script runs
    spec.loader.exec_module(gen)
    return gen


def test_backends_doc_matches_declared_capabilities() -> None:
    gen = _generator("gen_backends_doc")
    current = (REPO / "docs" / "backends.md").read_text()
    assert current == gen.render(), "docs/backends.md is stale: run python scripts/gen_backends_doc.py"


def test_spec_doc_matches_the_models_and_capabilities() -> None:
    gen = _generator("gen_spec_doc")
    current = (REPO / "docs" / "spec.md").read_text()
    assert current == gen.render(), "docs/spec.md is stale: run python scripts/gen_spec_doc.py"


def test_every_spec_field_is_described_and_documented() -> None:
    """A field added without a description (what it is for) fails here, not in a user's spec."""
    gen = _generator("gen_spec_doc")
    walker = gen.Walker()
    walker.walk(gen.JobSpec)
    assert walker.undescribed() == []
    doc = (REPO / "docs" / "spec.md").read_text()
    for section in walker.sections:
        assert f'<a id="{gen.anchor(section.model)}"></a>' in doc
        for row in section.rows:
            assert f"| `{row.name}` | " in doc
    for enum in walker.enums:
        assert all(f"`{member.value}`" in doc for member in enum)


def test_plugin_spec_mapping_is_current_and_covers_every_field() -> None:
    """docs/plugin-spec-mapping.md: regenerated from the models, capabilities, notes and what the built-in
    backends' own check_spec / plan / warnings return; a spec field without a row fails here."""
    from annotate_core.testing.specs import FRAGMENTS

    gen = _generator("gen_plugin_spec_doc")
    current = (REPO / "docs" / "plugin-spec-mapping.md").read_text()
    assert current == gen.render(), "docs/plugin-spec-mapping.md is stale: run python scripts/gen_plugin_spec_doc.py"
    rows, fields = gen.documented_paths(current), gen.all_field_paths()
    assert rows == fields, f"missing: {fields - rows}, extra: {rows - fields}"
    assert {"name", "outputs[].options[].value", "quality.rules[].when", "webhooks[].events"} <= rows
    assert all(f"`{cap.value}`" in current for cap in FRAGMENTS)
    assert "plugin-spec-mapping.md" in (REPO / "docs" / "plugins.md").read_text()


def test_plugin_spec_mapping_reports_what_the_backends_really_do() -> None:
    """The refuse / warn markers come from running the built-in backends, not from prose."""
    gen = _generator("gen_plugin_spec_doc")
    observed = gen.observe(gen.all_field_paths())
    assert "review.fraction" in observed["toloka"].warns  # Toloka reviews every assignment, says its plan
    assert "pricing" in observed["toloka"].refuses  # a pool needs a reward: Toloka's check_spec
    assert observed["local"].warns == set()  # the reference backend runs every spec as written
    line = next(x for x in (REPO / "docs" / "plugin-spec-mapping.md").read_text().splitlines()
                if x.startswith("| `review.fraction` |"))
    assert line.count("**warns**") == len([b for b, o in observed.items() if "review.fraction" in o.warns])
    assert gen.field_of("quality.rules.1.then", gen.all_field_paths()) == "quality.rules[].then"
    assert gen.field_of("webhooks[0].events", gen.all_field_paths()) == "webhooks[].events"


def test_spec_doc_shows_each_backends_verdict_for_each_capability() -> None:
    """Each spec-driven capability has a row whose cells are the backend's declaration or its hint."""
    from annotate_core.capabilities import Capability
    from annotate_core.testing.specs import FRAGMENTS

    gen = _generator("gen_spec_doc")
    doc = (REPO / "docs" / "spec.md").read_text()
    classes = gen.backend_classes()
    rows = [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in doc.splitlines()
            if line.startswith("| `")]
    for need in gen.needs():
        field = need.path.split(".")[-1].removesuffix("[]")
        row = next(r for r in rows if len(r) == 3 + len(classes) and r[0] == f"`{field}`"
                   and r[2] == f"`{need.capability.value}`")
        for cls, verdict in zip(classes.values(), row[3:], strict=True):
            expected = "yes" if need.capability in cls.capabilities else "**refused**"
            assert verdict.startswith(expected), (need.capability, cls.name, verdict)
    assert {n.capability for n in gen.needs()} == set(FRAGMENTS)
    assert Capability.PAUSE.value in doc  # capabilities of the Job API are listed too


@pytest.mark.parametrize("bad, message", [
    ({"overlap.cuont": {"toloka": "x"}}, "paths no model has"),
    ({"overlap.count": {"tolokka": "x"}}, "not built in"),
])
def test_spec_notes_cannot_drift_from_the_model(tmp_path: Path, bad: dict[str, Any], message: str) -> None:
    import yaml

    gen = _generator("gen_spec_doc")
    gen.NOTES = tmp_path / "notes.yaml"
    gen.NOTES.write_text(yaml.safe_dump(bad))
    with pytest.raises(SystemExit, match=message):
        gen.render()


def test_python_examples_in_the_docs_compile() -> None:
    """A guide whose snippets do not even parse sends a newcomer off on the wrong foot."""
    blocks = 0
    for doc in [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md"]:
        for n, code in enumerate(re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S)):
            compile(code, f"{doc.name}[python block {n}]", "exec")
            blocks += 1
    assert blocks >= 5


def test_the_spec_docs_plugin_examples_run_on_every_example_spec() -> None:
    """The "For backend authors" snippets are code a plugin copies: they must work, not only parse."""
    from annotate_core import load_spec

    doc = (REPO / "docs" / "spec.md").read_text()
    namespace: dict[str, Any] = {}
    for code in re.findall(r"```python\n(.*?)```", doc, flags=re.S):
        exec(compile(code, "spec.md", "exec"), namespace)
    for path in sorted((REPO / "examples").glob("*.yaml")):
        spec = load_spec(path)
        read = namespace["read"](spec)
        assert read["choices"] == [(o.value, o.text) for o in spec.outputs[0].options]
        metadata: dict[str, Any] = {}
        assert namespace["store_and_read"](spec, metadata) == spec
        assert isinstance(metadata["annotate_spec"], str)


def test_spec_notes_name_every_option_a_builtin_backend_reads() -> None:
    """The hand-written `options` notes list each backend's option names: a new option must join them."""
    from annotate_dataloop.options import DataloopOptions
    from annotate_toloka.context import SPEC_OPTIONS

    notes = _generator("gen_spec_doc").load_notes()["options"]
    words = {backend: set(re.findall(r"\w+", text)) for backend, text in notes.items()}
    assert set(SPEC_OPTIONS) <= words["toloka"]
    assert {f.alias or name for name, f in DataloopOptions.model_fields.items()} <= words["dataloop"]
