"""``annotate run``, ``annotate status``, ``annotate results`` and ``annotate jobs``: jobs in a backend.

``run`` creates a job from a spec, uploads its items and starts it; with ``--simulate`` a simulated
workforce does the work (a backend with the ``simulation`` capability: the local one), then the
aggregated results and the raw answers are written and summarised. Items files may carry hidden true
answers in ``truth:<output>`` columns: they are taken out before upload and only the simulator (and
the accuracy figures) use them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import click
import pandas as pd

from annotate_core.aggregation.registry import AGGREGATORS, DEFAULT_METHOD
from annotate_core.capabilities import Capability
from annotate_core.cli.keys import run_key
from annotate_core.client import Client, connect
from annotate_core.config import load_config
from annotate_core.counts import Counts, job_counts
from annotate_core.errors import SpecError
from annotate_core.items import iter_rows
from annotate_core.items import split_truth as items_split_truth
from annotate_core.job import Job
from annotate_core.model.spec import JobSpec
from annotate_core.specfile import load_spec

# ---- shared helpers (the demo uses them too) ------------------------------------------------------


def open_client(ctx: click.Context, backend: str | None, profile: str | None, db: str | None) -> Client:
    """A client from --backend / --profile, with --db as the local store (a path or a database URL).

    With neither, the config's default profile is used, or the local backend when there is none.
    """
    if backend and profile:
        raise click.UsageError("give --backend or --profile, not both")
    options: dict[str, Any] = {}
    if db:
        options["url" if "://" in db else "path"] = db
    config = ctx.obj.get("config") if ctx.obj else None
    if backend:
        return connect(driver=backend, **options)
    if profile:
        return connect(profile, config=config, **options)
    if load_config(config).chosen() is None:  # no config, or no default profile in it: the local backend
        return connect(driver="local", **options)
    return connect(None, config=config, **options)  # a broken default profile is an error, not local


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a CSV/TSV/JSONL items file as dicts, cells as written in the file."""
    try:
        return list(iter_rows(path))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--items") from None


def split_truth(rows: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """``annotate_core.items.split_truth``, with errors reported against ``--items``."""
    try:
        return items_split_truth(rows)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--items") from None


def accuracy(results: pd.DataFrame, truth: Mapping[str, Mapping[str, Any]], field: str) -> tuple[float, int] | None:
    """Share of non-golden items whose aggregated label equals the true one, and how many were judged."""
    rows = results[~results["golden"].fillna(False).astype(bool)] if "golden" in results else results
    judged = [(lab, truth[k][field]) for k, lab in zip(rows["task"], rows["label"], strict=True)
              if k in truth and field in truth[k]]
    if not judged:
        return None
    return sum(1 for a, b in judged if a == b) / len(judged), len(judged)


def results_table(job: Job, method: str, answers: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per item: key, inputs, aggregated label, confidence, number of answers, golden."""
    res = job.results(method=method, answers=answers)
    inputs = [c for c in res.columns if c.startswith("input:")]
    out = res[["item_key", *inputs, "label", "confidence", "n_answers", "golden"]].rename(
        columns={"item_key": "key", **{c: c.removeprefix("input:") for c in inputs}})
    out.insert(len(out.columns), "method", method)
    return out


def simulation_options(workers: int, seed: int, accuracy_: float | None, spammers: float, fast_clickers: float,
                       progress: bool) -> dict[str, Any]:
    opts: dict[str, Any] = {"workers": workers, "seed": seed, "spammers": spammers, "fast_clickers": fast_clickers,
                            "progress": progress}
    if accuracy_ is not None:
        opts["accuracy"] = accuracy_
    return opts


def simulate_and_report(job: Job, spec: JobSpec, truth: Mapping[str, Mapping[str, Any]], out: Path,
                        sim_options: dict[str, Any], *, method: str = DEFAULT_METHOD,
                        where: str = "") -> dict[str, Any]:
    """Drive a started job with the simulated workforce, write results.csv and answers.csv, print a summary."""
    if truth and hasattr(job.backend, "set_truth"):
        job.backend.set_truth(job.id, truth)
    elif truth:
        sim_options = {**sim_options, "truth": dict(truth)}
    summary = dict(job.simulate(**sim_options))
    out.mkdir(parents=True, exist_ok=True)
    answers = job.answers()
    field = spec.outputs[0].name
    counts = job_counts(job, answers, field_name=field)
    scores: dict[str, tuple[float, int] | None] = {}
    tables: dict[str, pd.DataFrame] = {}
    if counts.usable_answers:
        for m in dict.fromkeys(["mv", "ds", method]):
            tables[m] = results_table(job, m, answers)
            scores[m] = accuracy(tables[m].rename(columns={"key": "task"}), truth, field)
        table = tables[method]
    else:
        table = pd.DataFrame(columns=["key", "label", "confidence", "n_answers", "golden", "method"])
    table.to_csv(out / "results.csv", index=False)
    answers.to_csv(out / "answers.csv", index=False)
    summary["accuracy"] = {m: (None if s is None else round(s[0], 4)) for m, s in scores.items()}
    echo_summary(job, spec, summary, counts, scores, out, where)
    return summary


#: Progress.details keys the counts lines already show (annotate status prints the other details)
PROGRESS_COUNTED = ("items_to_label", "golden_items")

_METHOD_NAMES = {"mv": "majority vote", "ds": "Dawid-Skene", "ocds": "one-coin Dawid-Skene", "wawa": "Wawa",
                 "gold_mv": "gold majority vote", "glad": "GLAD", "mace": "MACE"}


def echo_counts(counts: Counts) -> None:
    """The items and answers lines, worded alike wherever a job's counts are printed (``annotate_core.counts``)."""
    for heading, text in counts.lines():
        click.echo(f"  {heading:<10} {text}")


def echo_summary(job: Job, spec: JobSpec, s: Mapping[str, Any], counts: Counts,
                 scores: Mapping[str, tuple[float, int] | None], out: Path, where: str) -> None:
    kinds = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(s.get("banned_by_kind", {}).items()))
    cost = s.get("cost")
    minutes = (s.get("simulated_seconds") or 0) / 60
    click.echo(f"{spec.name} — job {job.id} on {job.backend.name}{f' ({where})' if where else ''}: {s.get('state')}")
    echo_counts(counts)
    click.echo(f"  workers    {s.get('workers')} in {s.get('assignments')} assignments "
               f"({minutes:.0f} simulated minutes)")
    click.echo(f"  bans       {s.get('bans')}" + (f" ({kinds})" if kinds else ""))
    click.echo(f"  QA review  {s.get('qa_reviews')} reviewed, {s.get('qa_rejects')} rejected")
    if cost is not None:
        click.echo(f"  cost       {cost:.3f} {s.get('currency') or ''} (simulated)")
    judged = [f"{_METHOD_NAMES.get(m, m)} {v[0]:.1%}" for m, v in scores.items() if v is not None]
    if judged:
        n = next(v[1] for v in scores.values() if v is not None)
        click.echo(f"  accuracy   vs true labels of {n} items: " + ", ".join(judged))
    click.echo(f"  wrote      {out / 'results.csv'}, {out / 'answers.csv'}")


# ---- commands -----------------------------------------------------------------------------------

_backend_opts = [
    click.option("--backend", "-b", help="Backend name (driver with default options), e.g. local."),
    click.option("--profile", "-p", help="Profile of annotate.toml."),
    click.option("--db", help="Local store: a SQLite file or a database URL (default ./annotate.db)."),
]


def backend_options(fn: Any) -> Any:
    for opt in reversed(_backend_opts):
        fn = opt(fn)
    return fn


def simulation_flags(fn: Any) -> Any:
    for opt in reversed([
        click.option("--workers", type=click.IntRange(min=1), default=30, show_default=True,
                     help="Simulated workers."),
        click.option("--seed", type=int, default=1, show_default=True, help="Seed of the simulated workforce."),
        click.option("--accuracy", "accuracy_", type=click.FloatRange(0, 1), default=None,
                     help="Mean accuracy of honest workers (default: 0.75-0.95)."),
        click.option("--spammers", type=click.FloatRange(0, 1), default=0.1, show_default=True,
                     help="Share of spammers (random or constant answers)."),
        click.option("--fast-clickers", type=click.FloatRange(0, 1), default=0.1, show_default=True,
                     help="Share of fast, careless clickers."),
        click.option("--no-progress", is_flag=True, help="No progress bars."),
    ]):
        fn = opt(fn)
    return fn


@click.command("run")
@click.argument("spec", type=click.Path(dir_okay=False))
@backend_options
@click.option("--items", "items_path", type=click.Path(dir_okay=False),
              help="Items file (CSV/TSV/JSONL); default: the spec's source.path.")
@click.option("--simulate", is_flag=True, help="Let a simulated workforce do the job (local backend).")
@simulation_flags
@click.option("--method", default=DEFAULT_METHOD, show_default=True, help="Aggregation method for results.csv.")
@click.option("--out", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Where --simulate writes results.csv and answers.csv.")
@click.option("--wait", is_flag=True, help="Without --simulate: wait until the job is finished.")
@click.option("--job-key", help="Create the job under this key, or resume the job it already names "
              "(default: derived from the spec, the items file and the simulation settings).")
@click.option("--new-job", is_flag=True, help="Start a fresh job under a new key instead of resuming.")
@click.pass_context
def run_cmd(ctx: click.Context, spec: str, backend: str | None, profile: str | None, db: str | None,
            items_path: str | None, simulate: bool, workers: int, seed: int, accuracy_: float | None,
            spammers: float, fast_clickers: float, no_progress: bool, method: str, out: str, wait: bool,
            job_key: str | None, new_job: bool) -> None:
    """Create a job from SPEC, upload its items and start it (with --simulate: do the work too).

    Items come from --items or the spec's source.path. Columns: one per input, `key`,
    `golden:<output>` for known answers, `truth:<output>` for hidden true answers (simulation only;
    without them simulated workers answer around a stable latent answer per item).

    Rerunning the same command resumes its job (same job key): missing items are added and the work
    goes on, nothing is done twice. --new-job starts over in a new job.
    """
    s = load_spec(spec)
    path = items_path or getattr(s.source, "path", None)
    if not path:
        raise click.UsageError("no items: give --items FILE or set source.path in the spec")
    rows, truth = split_truth(read_rows(path))
    client = open_client(ctx, backend, profile, db)
    with client:
        if simulate and Capability.SIMULATION not in client.backend.capabilities:
            raise click.UsageError(
                f"--simulate: backend {client.name!r} has no simulated workforce; use --backend local")
        opts = simulation_options(workers, seed, accuracy_, spammers, fast_clickers, not no_progress)
        key = run_key(client, s, path, job_key=job_key, new_job=new_job, simulation=opts if simulate else None)
        job = client.create_job(s, key=key)
        echo_job_key(job, client)
        report = job.add_items(rows, progress=not no_progress)
        if not job.created:
            click.echo(f"  items      {report.created} added, {report.existing} already there")
        job.start()
        if simulate:
            simulate_and_report(job, s, truth, Path(out), opts, method=method, where=_where(client))
            return
        click.echo(f"job {job.id} started on {client.name} with {len(rows)} item(s)")
        if wait:
            p = job.wait(progress=not no_progress)
            click.echo(f"job {job.id}: {p.state.value}")
        else:
            click.echo(f"  follow it with: annotate status {job.id}" + _flags(backend, profile, db))


def echo_job_key(job: Job, client: Client) -> None:
    if job.key is None:
        click.echo(f"job {job.id} created on {client.name} (this backend has no job keys: a rerun makes a new job)")
    elif job.created:
        click.echo(f"job {job.id} created with job key {job.key} (rerun the same command to resume it; "
                   "--new-job to start over)")
    else:
        click.echo(f"job {job.id} resumed: job key {job.key} names it ({job.state().value})")


def _where(client: Client) -> str:
    describe = getattr(client.backend, "store_description", None)
    return describe() if callable(describe) else ""


def _flags(backend: str | None, profile: str | None, db: str | None) -> str:
    return "".join(f" --{k} {v}" for k, v in (("backend", backend), ("profile", profile), ("db", db)) if v)


@click.command("status")
@click.argument("job_id")
@backend_options
@click.option("--json", "as_json", is_flag=True, help="Print the progress as JSON.")
@click.pass_context
def status_cmd(ctx: click.Context, job_id: str, backend: str | None, profile: str | None, db: str | None,
               as_json: bool) -> None:
    """Where a job stands: state, progress, items and answers by status, and the backend's details.

    Items and answers are counted as in the run summary, answers.csv and `annotate compare`
    (docs/counts.md); reading every answer to count them can take a while on a large vendor job.
    """
    with open_client(ctx, backend, profile, db) as client:
        job = client.job(job_id)
        p = job.progress()
        try:
            name = job.spec.name
        except SpecError:
            name = "?"
        counts = job_counts(job, progress=p)
    if as_json:
        click.echo(json.dumps({"job": job_id, "name": name, "state": p.state.value, "total_items": p.total_items,
                               "completed_items": p.completed_items, "submitted_answers": p.submitted_answers,
                               "expected_answers": p.expected_answers, "percent": p.percent,
                               "counts": counts.to_dict(), "idle": p.idle, "details": dict(p.details)},
                              indent=2, default=str))
        return
    click.echo(f"job {job_id} ({name}): {p.state.value}, {p.fraction:.0%}")
    expected = f" of {p.expected_answers} expected" if p.expected_answers is not None else ""
    click.echo(f"  {'progress':<10} {p.completed_items} of {p.total_items} items complete, "
               f"{p.submitted_answers}{expected} answers counted toward completion")
    echo_counts(counts)
    if p.idle:
        click.echo(f"  {'idle':<10} {p.idle}")
    shown = set(PROGRESS_COUNTED)
    for key, value in p.details.items():
        if key not in shown and value not in (None, {}, []):
            click.echo(f"  {key.replace('_', ' '):<10} {value}")


@click.command("results")
@click.argument("job_id")
@backend_options
@click.option("-o", "--output", default="-", show_default=True, help="CSV file to write ('-': standard output).")
@click.option("--method", default=DEFAULT_METHOD, show_default=True,
              help=f"Aggregation method: {', '.join(AGGREGATORS)} (or a crowd-kit class name).")
@click.option("--answers", "answers_path", type=click.Path(dir_okay=False), help="Also write every answer here.")
@click.pass_context
def results_cmd(ctx: click.Context, job_id: str, backend: str | None, profile: str | None, db: str | None,
                output: str, method: str, answers_path: str | None) -> None:
    """Aggregated results of a job: one row per item (key, inputs, label, confidence, n_answers)."""
    with open_client(ctx, backend, profile, db) as client:
        job = client.job(job_id)
        answers = job.answers()
        try:
            table = results_table(job, method, answers)
        except ValueError as exc:  # no usable answers yet, unknown method, ...
            raise click.ClickException(str(exc)) from None
    if output == "-":
        table.to_csv(sys.stdout, index=False)
    else:
        table.to_csv(output, index=False)
        click.echo(f"wrote {len(table)} item(s) to {output} ({method})", err=True)
    if answers_path:
        answers.to_csv(answers_path, index=False)


@click.command("jobs")
@backend_options
@click.pass_context
def jobs_cmd(ctx: click.Context, backend: str | None, profile: str | None, db: str | None) -> None:
    """List the jobs a backend knows: the local store's, or those annotate created on a vendor account."""
    with open_client(ctx, backend, profile, db) as client:
        rows = client.jobs()  # a backend that cannot list jobs: exit 2, as for any feature it lacks
    if not rows:
        click.echo("no jobs")
    for r in rows:
        items = r.get("items")
        count = f"{items:>7} items" if isinstance(items, int) else f"{'-':>7} items"
        click.echo(f"{r.get('id')}  {r.get('state', ''):<10} {count}  {r.get('name', '')}")


COMMANDS = [run_cmd, status_cmd, results_cmd, jobs_cmd]
