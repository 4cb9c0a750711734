"""The README runs as written: every code block in it is executed here, in a temporary directory.

- ``python`` blocks run in order in one namespace, as a reader pasting them into one session would
  (the second block continues after the tour, with its ``client`` and ``spec``).
- ``bash`` blocks: every ``annotate`` command runs through the CLI (``JOB`` stands for the id the
  previous ``run`` printed), ``cd`` changes directory inside the sandbox. Two kinds of lines are not
  run, on purpose: ``pip install`` (it would need the network; instead every path and extra it names
  is checked to exist) and ``pytest`` (that is this suite: ``.ci/run`` runs the README's test command).
  ``annotate serve`` runs until stopped: its options are parsed and its store checked, it is not started
  (tests/serve starts it, in a browser too).
  Any other command is an error here, so a new kind of line in the README needs a decision.
- ``toml`` blocks are loaded as an ``annotate.toml``.

The sandbox holds a copy of ``examples/``, so the README's relative paths resolve and nothing is ever
written into the repository.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from annotate_core.cli.main import cli

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the core depends on tomli before 3.11
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
NOT_RUN = {"pip", "pytest"}  # see the module docstring


def blocks(lang: str) -> list[str]:
    return [code for kind, code in FENCE.findall(README.read_text(encoding="utf-8")) if kind == lang]


def commands(code: str) -> list[list[str]]:
    """Shell commands of a block: continuation lines joined, comments dropped, ``&&`` chains split."""
    out: list[list[str]] = []
    for line in code.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        while words:
            cut = words.index("&&") if "&&" in words else len(words)
            out.append(words[:cut])
            words = words[cut + 1:]
    return out


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("report", "*.db"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_block_of_the_readme_is_covered_here() -> None:
    kinds = [kind for kind, _ in FENCE.findall(README.read_text(encoding="utf-8"))]
    assert set(kinds) <= {"python", "bash", "toml"}, f"a README block of a kind this test does not run: {kinds}"
    assert kinds.count("python") == 2 and kinds.count("bash") >= 4


def test_the_tour_and_the_in_house_block_run_as_written(sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tour, in_house = blocks("python")
    ns: dict[str, object] = {}
    exec(compile(tour, "README.md[tour]", "exec"), ns)
    assert "insert items" in capsys.readouterr().out  # the plan was printed
    results, answers, job = ns["results"], ns["answers"], ns["job"]
    assert isinstance(results, pd.DataFrame) and len(results) == 202
    assert set(results["label"]) == {"cat", "dog"}
    assert isinstance(answers, pd.DataFrame) and set(answers["status"]) >= {"submitted"}
    assert job.state().value == "completed"  # type: ignore[attr-defined]
    assert (sandbox / "annotate.db").is_file()  # the local profile's store, in the working directory

    exec(compile(in_house, "README.md[in-house]", "exec"), ns)
    people = ns["job"]
    assert people.id != job.id  # type: ignore[attr-defined]
    df = people.answers()  # type: ignore[attr-defined]
    by_ann = df[df["worker"] == "ann@example.com"]
    assert len(by_ann) == len(ns["batch"].items) == 11  # type: ignore[attr-defined] # 10 items + 1 golden
    assert set(by_ann["label"]) == {"cat"}
    assert people.state().value == "completed"  # type: ignore[attr-defined]


def test_bash_blocks_run_as_written(sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    job_id: str | None = None
    ran: list[str] = []
    for code in blocks("bash"):
        for words in commands(code):
            name = words[0]
            if name == "cd":
                target = Path(words[1]).resolve()
                assert target.is_dir() and sandbox in target.parents, f"cd {words[1]}: not a directory of the repo"
                monkeypatch.chdir(target)
                continue
            if name == "pip":
                _check_pip_install(words)
                continue
            if name in NOT_RUN:
                continue
            assert name == "annotate", f"README runs {name!r}: decide here how to test it"
            args = words[1:]
            if args[0] == "serve":  # a server runs until stopped: its options are checked, it is not started
                command = cli.get_command(click.Context(cli), "serve")
                assert command is not None
                params = command.make_context("serve", args[1:]).params
                assert Path(params["db"]).is_file(), f"{' '.join(words)}: no store to serve there"
                ran.append(" ".join(words))
                continue
            if "JOB" in args:
                assert job_id, f"{' '.join(words)}: no job was created before"
                args = [job_id if a == "JOB" else a for a in args]
            result = runner.invoke(cli, args)
            assert result.exit_code == 0, f"{' '.join(words)} exited {result.exit_code}:\n{result.output}"
            ran.append(" ".join(words))
            found = re.findall(r"\bjob ([0-9a-f]{12})\b", result.output)
            if args[0] == "run" and found:
                job_id = found[0]
    assert {c.split()[1] for c in ran} >= {"demo", "backends", "schema", "plan", "run", "status", "results",
                                            "jobs", "compare", "serve"}
    assert (Path.cwd() / "report" / "report.html").is_file()  # compare ran in examples/compare (the sandbox's copy)
    assert (sandbox / "annotate-demo" / "results.csv").is_file() and (sandbox / "results.csv").is_file()
    assert not (REPO / "annotate-demo").exists() and not (REPO / "examples" / "compare" / "report").exists()


def _check_pip_install(words: list[str]) -> None:
    """``pip install -e PATH[extra]``: every PATH is a distribution of this repo, every extra exists."""
    assert words[:2] == ["pip", "install"], words
    targets = [w for w in words[2:] if w != "-e"]
    assert targets
    for target in targets:
        path, _, extras = target.partition("[")
        pyproject = REPO / path / "pyproject.toml"
        assert pyproject.is_file(), f"pip install {target}: {path} is not a distribution in the repo"
        declared = tomllib.loads(pyproject.read_text())["project"].get("optional-dependencies", {})
        for extra in filter(None, extras.rstrip("]").split(",")):
            assert extra in declared, f"pip install {target}: {path} has no extra {extra!r}"


def test_config_block_is_a_valid_annotate_toml(sandbox: Path) -> None:
    from annotate_core.config import load_config

    (toml,) = blocks("toml")
    (sandbox / "annotate.toml").write_text(toml)
    config = load_config(sandbox / "annotate.toml")
    assert set(config.profiles) == {"local", "toloka", "dataloop", "studio", "team-db"}
    assert config.profiles["toloka"].secret_env == {"token": "TOLOKA_API_KEY"}
    assert config.profiles["studio"].secret_env == {"token": "LABEL_STUDIO_TOKEN"}
    assert config.profiles["team-db"].secret_env == {"password": "ANNOTATE_DB_PASSWORD"}


def test_the_tour_items_file_is_the_demo_items(sandbox: Path) -> None:
    """examples/cats_vs_dogs_items.csv is generated (scripts/gen_example_items.py): it must stay current."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_example_items", REPO / "scripts" / "gen_example_items.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    current = (REPO / "examples" / "cats_vs_dogs_items.csv").read_text(encoding="utf-8")
    assert current == gen.render(), "examples/cats_vs_dogs_items.csv is stale: run python scripts/gen_example_items.py"
    rows = pd.read_csv(REPO / "examples" / "cats_vs_dogs_items.csv")
    assert len(rows) == 202 and rows["golden:result"].notna().sum() == 20 and rows["key"].is_unique
