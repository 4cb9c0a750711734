"""``annotate demo``: the main job, end to end, with nothing to set up.

The cats-vs-dogs job (``examples/cats_vs_dogs.yaml``: overlap 3, batches of 10 with one golden item,
captcha and fast-submit bans, 10% QA review) on the local backend: 202 generated items with hidden
true labels, a seeded simulated crowd, then majority vote and Dawid-Skene, written to
``results.csv`` and ``answers.csv`` and summarised with their accuracy against the true labels.
"""

from __future__ import annotations

import contextlib
import importlib
import tempfile
from importlib import resources
from pathlib import Path
from types import ModuleType

import click

from annotate_core.aggregation.registry import DEFAULT_METHOD
from annotate_core.cli.jobs import (
    check_out_dir,
    open_client,
    simulate_and_report,
    simulation_flags,
    simulation_options,
    split_truth,
)
from annotate_core.model.spec import JobSpec
from annotate_core.phases import phase
from annotate_core.registry import get_backend_class
from annotate_core.specfile import load_spec

SPEC_NAME = "cats_vs_dogs.yaml"


def local_package() -> str:
    """The local backend's package, found through the plugin registry (the core imports no backend by name)."""
    return get_backend_class("local").__module__.split(".")[0]


def demo_spec() -> JobSpec:
    """The example spec from the repository, or the copy the local backend ships when installed."""
    here = Path(__file__).resolve().parents[2] / "examples" / SPEC_NAME
    if here.is_file():
        return load_spec(here)
    shipped = resources.files(local_package()) / "data" / SPEC_NAME
    with resources.as_file(shipped) as path:
        return load_spec(path)


def demo_datasets() -> ModuleType:
    """The local backend's generator of demo items (``cats_vs_dogs``)."""
    return importlib.import_module(f"{local_package()}.datasets")


@click.command("demo")
@simulation_flags
@click.option("--items", "n_items", type=click.IntRange(min=1), default=202, show_default=True,
              help="Items to generate (about a tenth golden).")
@click.option("--db", help="Store to use: a SQLite file or a database URL (default: a temporary store, "
                            "removed when the demo ends).")
@click.option("--out", type=click.Path(file_okay=False), default="annotate-demo", show_default=True,
              help="Directory for results.csv and answers.csv.")
@click.option("--method", default=DEFAULT_METHOD, show_default=True, help="Aggregation method for results.csv.")
@click.pass_context
def demo_cmd(ctx: click.Context, workers: int, seed: int, accuracy_: float | None, spammers: float,
             fast_clickers: float, no_progress: bool, n_items: int, db: str | None, out: str, method: str) -> None:
    """Run the cats-vs-dogs job (examples/cats_vs_dogs.yaml) on the local backend with a simulated crowd.

    Generates the items (deterministic image URLs, a hidden true label each, ~10% golden), runs the
    job with the spec's overlap, golden mixing, quality rules and QA review, aggregates the answers,
    and prints items, answers, workers, bans, QA rejects, cost and accuracy. Rerun freely: each run
    is a new job (the default store is a fresh temporary file, removed when the demo ends; give
    --db to keep it). --out is checked before the job is created.
    """
    cats_vs_dogs = demo_datasets().cats_vs_dogs  # BackendNotInstalled names what to install
    spec = demo_spec()
    check_out_dir(Path(out))
    with phase(f"generating {n_items} items", enabled=not no_progress):
        rows, truth = split_truth(cats_vs_dogs(n_items, seed=seed))
    with contextlib.ExitStack() as cleanup:
        temporary = db is None
        if db is None:  # a fresh store for this run only, removed when it ends (or fails)
            tmp = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="annotate-demo-",
                                                                    ignore_cleanup_errors=True))
            db = str(Path(tmp) / "annotate-demo.db")
        with open_client(ctx, "local", None, db) as client:
            job = client.create_job(spec)
            job.add_items(rows, progress=not no_progress)
            with phase(f"starting job {job.id}", enabled=not no_progress):
                job.start()
            opts = simulation_options(workers, seed, accuracy_, spammers, fast_clickers, not no_progress)
            simulate_and_report(job, spec, truth, Path(out), opts, method=method,
                                where="temporary store" if temporary
                                else client.backend.store_description())
    if temporary:
        click.echo("  the temporary store is removed; to look at the job again later, run with --db FILE")
    else:
        click.echo(f"  look again with: annotate status {job.id} --db {db}")
