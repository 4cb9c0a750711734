"""The CLI speaks with one voice: one default aggregation method, and help that names no internal seed."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import click

from annotate_core.aggregation import DEFAULT_METHOD
from annotate_core.cli.main import cli
from annotate_core.job import Job

REPO = Path(__file__).resolve().parents[2]
#: "seed 001", "Seed 004": the project's internal names for the vendor documents it started from
INTERNAL_SEED = re.compile(r"\bseed \d{3}\b", re.IGNORECASE)


def all_commands() -> dict[str, click.Command]:
    return {name: cli.get_command(click.Context(cli), name) for name in cli.list_commands(click.Context(cli))}


def test_every_command_aggregating_answers_defaults_to_the_same_method() -> None:
    defaults = {name: next(p.default for p in cmd.params if p.name == "method")
                for name, cmd in all_commands().items() if any(p.name == "method" for p in cmd.params)}
    assert set(defaults) >= {"run", "demo", "results"}
    assert set(defaults.values()) == {DEFAULT_METHOD} == {"ds"}, defaults
    assert inspect.signature(Job.results).parameters["method"].default == DEFAULT_METHOD


def test_no_help_text_or_readme_line_names_an_internal_seed() -> None:
    texts = {"README.md": (REPO / "README.md").read_text(encoding="utf-8")}
    for name, cmd in all_commands().items():
        texts[f"annotate {name} --help"] = cmd.get_help(click.Context(cmd, info_name=name))
    texts["annotate --help"] = cli.get_help(click.Context(cli, info_name="annotate"))
    for path in sorted((REPO / "examples").rglob("*.yaml")):
        texts[str(path.relative_to(REPO))] = path.read_text(encoding="utf-8")
    found = {where: INTERNAL_SEED.findall(text) for where, text in texts.items() if INTERNAL_SEED.search(text)}
    assert not found, found
    assert "cats-vs-dogs job" in texts["annotate demo --help"]
