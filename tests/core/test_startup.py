"""Startup stays cheap: what `import annotate_core`, `annotate --help` and `annotate backends` load.

Not timed (benchmarks/startup.py measures); these pin the laziness that the timings rest on, each in a
fresh interpreter so nothing this test process already imported counts.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import click
import pytest

import annotate_core
import annotate_core.cli
from annotate_core.cli.main import LAZY_COMMANDS, cli

HEAVY = ("pandas", "numpy", "scipy", "matplotlib", "sqlalchemy", "requests", "urllib3")


def modules_after(code: str) -> tuple[set[str], str]:
    """(every module in sys.modules, what was printed) after running ``code`` in a fresh interpreter."""
    probe = (
        "import sys, json\n"
        "try:\n"
        + "".join(f"    {line}\n" for line in code.splitlines())
        + "except SystemExit:\n    pass\n"
        "print('\\nLOADED=' + json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    printed, _, loaded = done.stdout.rpartition("\nLOADED=")
    return set(json.loads(loaded)), printed


def loaded_after(code: str) -> set[str]:
    """The top-level packages in sys.modules after running ``code`` in a fresh interpreter."""
    return {m.split(".")[0] for m in modules_after(code)[0]}


def test_import_annotate_core_loads_no_heavy_library() -> None:
    loaded = loaded_after("import annotate_core")
    assert "annotate_core" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    assert "pydantic" not in loaded  # not even the model until a name of it is used


def test_annotate_help_loads_no_heavy_library_and_no_command_module() -> None:
    modules, printed = modules_after("from annotate_core.cli.main import cli\ncli(['--help'], prog_name='annotate')")
    assert "Commands:" in printed and "results" in printed
    loaded = {m.split(".")[0] for m in modules}
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    assert not {m for m in modules if m.startswith("annotate_core.cli.")} - {"annotate_core.cli.main",
                                                                            "annotate_core.cli.failures"}


def test_annotate_backends_imports_backend_classes_without_their_heavy_dependencies() -> None:
    code = "from annotate_core.cli.main import cli\ncli(['backends', '--json'], prog_name='annotate')"
    loaded = loaded_after(code)
    assert {"annotate_local", "annotate_toloka", "annotate_dataloop"} <= loaded  # capabilities need the classes
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_connect_and_a_job_handle_load_no_pandas(tmp_path) -> None:
    """``Job`` names the default aggregation method and counts answers: neither may import pandas (or
    the aggregation package, which loads numpy) before answers are actually read."""
    store = tmp_path / "jobs.db"
    modules, _ = modules_after(f"import annotate_core\nclient = annotate_core.connect('local', path={str(store)!r})\n"
                               "from annotate_core.job import Job\nprint(Job.results.__defaults__)")
    loaded = {m.split(".")[0] for m in modules}
    assert "annotate_core.job" in modules and "annotate_local" in loaded
    assert not loaded & {"pandas", "numpy", "scipy", "matplotlib", "tqdm"}, sorted(loaded)
    assert not {m for m in modules if m.startswith("annotate_core.aggregation")}


def test_annotate_validate_reads_a_spec_without_pandas(examples_dir) -> None:
    spec = examples_dir / "cats_vs_dogs.yaml"
    modules, printed = modules_after(f"from annotate_core.cli.main import cli\ncli(['validate', {str(spec)!r}])")
    assert ": valid ('Cat or Dog?'" in printed
    loaded = {m.split(".")[0] for m in modules}
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_every_public_name_resolves_lazily_and_star_import_works() -> None:
    import annotate_core.model as model

    assert set(annotate_core.__all__) == set(annotate_core._EXPORTS)
    assert set(model.__all__) <= set(annotate_core.__all__)
    for name in annotate_core.__all__:
        value = getattr(annotate_core, name)
        home = importlib.import_module(annotate_core._EXPORTS[name])
        assert value is getattr(home, name), name
    namespace: dict[str, object] = {}
    exec("from annotate_core import *", namespace)
    assert set(annotate_core.__all__) <= set(namespace)
    assert set(annotate_core.__all__) <= set(dir(annotate_core))
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        annotate_core.NoSuchThing  # noqa: B018


def test_lazy_command_table_lists_every_command_with_its_own_summary() -> None:
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(annotate_core.cli.__path__):
        module = importlib.import_module(f"annotate_core.cli.{info.name}")
        for attribute, value in vars(module).items():
            if isinstance(value, click.Command) and value is not cli and value.callback is not None \
                    and value.callback.__module__ == module.__name__:
                found[value.name or attribute] = f"{module.__name__}:{attribute}"
    assert found == {name: target for name, (target, _summary) in LAZY_COMMANDS.items()}
    ctx = click.Context(cli)
    for name, (_target, summary) in LAZY_COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        for limit in (45, 200):
            assert command.get_short_help_str(limit) == click.Command(name, help=summary).get_short_help_str(limit)


def test_help_lists_every_command_and_a_command_still_runs() -> None:
    from click.testing import CliRunner

    out = CliRunner().invoke(cli, ["--help"])
    assert out.exit_code == 0
    for name in LAZY_COMMANDS:
        assert f"  {name} " in out.output
    schema = CliRunner().invoke(cli, ["schema"])
    assert schema.exit_code == 0 and json.loads(schema.output)["title"] == "JobSpec"
    unknown = CliRunner().invoke(cli, ["nope"])
    assert unknown.exit_code == 2 and "No such command" in unknown.output
