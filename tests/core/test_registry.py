"""Discovery: backends come from entry points (stevedore); the core names none of them."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotate_core import Backend, BackendNotInstalled, connect, list_backends, register_backend
from annotate_core.cli.main import cli
from annotate_core.registry import get_backend_class, unregister_backend

CORE = Path(__file__).resolve().parents[2] / "annotate_core"


def test_third_party_plugin_is_discovered_from_its_entry_point() -> None:
    info = {i.name: i for i in list_backends()}["memory"]
    assert info.distribution == "annotate-memory"
    assert info.version == "0.0.1"
    assert info.error is None
    assert "distribution.pulling" in info.capabilities
    cls = get_backend_class("memory")
    assert cls.__module__ == "annotate_memory"


def test_cli_lists_backends_as_json() -> None:
    result = CliRunner().invoke(cli, ["backends", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    memory = next(r for r in rows if r["name"] == "memory")
    assert set(memory) >= {"name", "distribution", "version", "capabilities"}
    assert memory["distribution"] == "annotate-memory"
    assert isinstance(memory["capabilities"], list) and "golden" in memory["capabilities"]


def test_cli_lists_backends_as_text() -> None:
    result = CliRunner().invoke(cli, ["backends"])
    assert result.exit_code == 0
    assert "memory  (annotate-memory 0.0.1)" in result.output


def test_unknown_backend_gets_an_install_hint() -> None:
    with pytest.raises(BackendNotInstalled, match="'nope' is not installed.*installed: .*memory"):
        get_backend_class("nope")


def test_known_backend_hint_names_the_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    from annotate_core import registry

    monkeypatch.setattr(registry, "KNOWN_BACKENDS", {**registry.KNOWN_BACKENDS, "acme": ("annotate-acme", "x")})
    with pytest.raises(BackendNotInstalled, match="pip install annotate-acme"):
        connect(driver="acme")


def test_runtime_registration_for_notebooks_and_tests() -> None:
    class Tiny(Backend):
        name = "tiny"
        plan = create_job = add_items = start = close = progress = iter_answers = lambda *a, **k: None

    register_backend("tiny", Tiny)
    try:
        assert get_backend_class("tiny") is Tiny
        assert "tiny" in {i.name for i in list_backends()}
    finally:
        unregister_backend("tiny")
    with pytest.raises(TypeError):
        register_backend("bad", dict)  # type: ignore[arg-type]


def test_core_never_imports_a_backend_by_name() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0].startswith("annotate_") and
                          n.split(".")[0] != "annotate_core"]
    assert offenders == []
