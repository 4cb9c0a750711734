"""``annotate run``, ``annotate status``, ``annotate results`` and ``annotate jobs``: jobs in a backend.

``run`` creates a job from a spec, uploads its items and starts it; with ``--simulate`` a simulated
workforce does the work (a backend with the ``simulation`` capability: the local one), then the
aggregated results and the raw answers are written and summarised. Items files may carry hidden true
answers in ``truth:<output>`` columns: they are taken out before upload and only the simulator (and
the accuracy figures) use them.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd

from annotate_core.aggregation.registry import AGGREGATORS, DEFAULT_METHOD
from annotate_core.answers_stream import StreamedAnswers, release_freed_memory, stream_answers
from annotate_core.capabilities import Capability
from annotate_core.cli.keys import run_key
from annotate_core.client import Client, connect
from annotate_core.config import load_config
from annotate_core.counts import Counts, job_counts, progress_items
from annotate_core.errors import ItemsInputError, SpecError
from annotate_core.items import describe_errors
from annotate_core.items import split_truth as items_split_truth
from annotate_core.items_check import ItemsCheck, check_items
from annotate_core.job import Job
from annotate_core.model.spec import JobSpec
from annotate_core.model.workflow import Pulling
from annotate_core.phases import phase
from annotate_core.specfile import load_spec

# ---- shared helpers (the demo uses them too) ------------------------------------------------------

ERRORS_SHOWN = 20  # rejected rows listed before "... and N more"
OUTPUT_FILES = ("results.csv", "answers.csv")


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


def checked_items(spec: JobSpec, items: Any, *, allow_partial: bool, golden_refused: str | None = None,
                  keep_truth: bool = True) -> ItemsCheck:
    """Every row of ``items`` read and validated against ``spec`` before anything is created.

    Any rejected row stops here (exit 1), listing the rows with their line and field, unless
    ``allow_partial``: then the rejected rows are listed as a warning and the valid ones kept.
    """
    check = check_items(spec, items, golden_refused=golden_refused, keep_truth=keep_truth)
    if not check.errors:
        return check
    head = f"{check.name}: {check.rejected} of {check.rows} row(s) rejected"
    if not allow_partial or not check.valid:
        fix = (f"fix them, or pass --allow-partial to keep the {check.valid} valid row(s)" if check.valid
               else "no row is valid")
        raise ItemsInputError("\n".join([f"{head}; nothing was created ({fix}):",
                                          *describe_errors(check.errors, limit=ERRORS_SHOWN)]))
    click.echo("\n".join([f"warning: {head}; keeping the {check.valid} valid row(s) (--allow-partial):",
                          *describe_errors(check.errors, limit=ERRORS_SHOWN)]), err=True)
    return check


def check_out_dir(out: Path, option: str = "--out") -> None:
    """Fail now, before any job exists, when results.csv and answers.csv could not be written to ``out``.

    Writes and removes a probe file (permissions, read-only mounts, quotas all show up); directories
    created for the probe are removed again, so a failed run leaves nothing behind.
    """
    created: list[Path] = []
    try:
        if out.exists() and not out.is_dir():
            raise click.ClickException(f"{option} {out}: is a file; give a directory for results.csv and answers.csv")
        missing = []
        parent = out
        while not parent.exists() and parent != parent.parent:
            missing.append(parent)
            parent = parent.parent
        for d in reversed(missing):
            d.mkdir()
            created.append(d)
        for name in OUTPUT_FILES:
            target = out / name
            if target.is_dir() or (target.exists() and not os.access(target, os.W_OK)):
                raise click.ClickException(f"{option} {out}: {name} there cannot be overwritten; "
                                           "choose another directory")
        with tempfile.NamedTemporaryFile(dir=out, prefix=".annotate-probe-"):
            pass
    except OSError as exc:
        raise click.ClickException(f"{option} {out}: cannot write there ({exc.strerror or exc}); "
                                   "choose a writable directory") from None
    finally:
        for d in reversed(created):
            with contextlib.suppress(OSError):  # something else wrote there meanwhile: leave it
                d.rmdir()


def split_truth(rows: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """``annotate_core.items.split_truth``, with errors reported against ``--items``."""
    try:
        return items_split_truth(rows)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--items") from None


#: Hidden truth as a mapping (key -> {output: value}) or a callable giving those pairs afresh on each call
#: (``ItemsCheck.iter_truth``: a million items' truth is read again rather than held)
TruthSource = Mapping[str, Mapping[str, Any]] | Callable[[], Iterable[tuple[str, Mapping[str, Any]]]]

TRUTH_CHUNK = 5000  # hidden truths handed to the backend (and compared) at a time


def _truth_chunks(truth: TruthSource) -> Iterator[list[tuple[str, Mapping[str, Any]]]]:
    pairs = iter(truth.items() if isinstance(truth, Mapping) else truth())
    while chunk := list(itertools.islice(pairs, TRUTH_CHUNK)):
        yield chunk


def accuracy(results: pd.DataFrame, truth: TruthSource, field: str) -> tuple[float, int] | None:
    """Share of non-golden items whose aggregated label equals the true one, and how many were judged."""
    return accuracies({"": results}, truth, field)[""]


def accuracies(tables: Mapping[str, pd.DataFrame], truth: TruthSource, field: str
               ) -> dict[str, tuple[float, int] | None]:
    """``accuracy`` of several results tables (columns task, label, golden) in one pass over the truth."""
    found: dict[str, tuple[Any, list[Any]]] = {}
    for m, results in tables.items():
        rows = results[~results["golden"].fillna(False).astype(bool)] if "golden" in results else results
        tasks = rows["task"].to_numpy()
        same = next((index for index, _ in found.values()  # one index (and hash table) for tables alike
                     if len(index) == len(tasks) and np.array_equal(index.to_numpy(), tasks)), None)
        found[m] = (same if same is not None else pd.Index(tasks), rows["label"].tolist())
    return judge(found, truth, field)


def judge(found: Mapping[str, tuple[Any, list[Any]]], truth: TruthSource, field: str
          ) -> dict[str, tuple[float, int] | None]:
    """Accuracies from each table's non-golden rows: something with ``get_indexer(keys)`` (row of each
    key, -1 if absent) and the rows' labels; the judged count is the first table's."""
    right = dict.fromkeys(found, 0)
    judged = 0
    for chunk in _truth_chunks(truth):
        keys = pd.Index([k for k, v in chunk if field in v])
        values = [v[field] for _, v in chunk if field in v]
        for m, (index, labels) in found.items():
            at = index.get_indexer(keys)
            right[m] += sum(1 for i, value in zip(at, values, strict=True) if i >= 0 and labels[i] == value)
        if found:  # every table has the same tasks: the judged count is the first one's
            judged += int((next(iter(found.values()))[0].get_indexer(keys) >= 0).sum())
    return {m: (right[m] / judged, judged) if judged else None for m in found}


def results_table(job: Job, method: str, answers: pd.DataFrame | StreamedAnswers | None = None, *,
                  inputs: bool = True) -> pd.DataFrame:
    """One row per item: key, inputs, aggregated label, confidence, number of answers, golden.

    ``inputs=False`` leaves the inputs out: a table only compared with the truth needs none, and at a
    million items each table's input columns are ~20 MB of pointers more."""
    if isinstance(answers, StreamedAnswers):
        res = answers.results(method, inputs=inputs)
    else:
        res = job.results(method=method, answers=answers)
    return shaped_results(res if inputs else res.drop(columns=[c for c in res.columns if c.startswith("input:")]),
                          method)


def shaped_results(res: pd.DataFrame, method: str) -> pd.DataFrame:
    """``Job.results``' table as results.csv holds it: key, inputs (by name), label, confidence,
    n_answers, golden, method."""
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


def simulate_and_report(job: Job, spec: JobSpec, truth: TruthSource, out: Path,
                        sim_options: dict[str, Any], *, method: str = DEFAULT_METHOD,
                        where: str = "") -> dict[str, Any]:
    """Drive a started job with the simulated workforce, write results.csv and answers.csv, print a summary."""
    if hasattr(job.backend, "set_truth"):  # chunk by chunk: never every item's truth at once
        for chunk in _truth_chunks(truth):
            job.backend.set_truth(job.id, dict(chunk))
    else:
        held = {k: v for chunk in _truth_chunks(truth) for k, v in chunk}
        if held:
            sim_options = {**sim_options, "truth": held}
    summary = dict(job.simulate(**sim_options))
    shown = bool(sim_options.get("progress", True))
    out.mkdir(parents=True, exist_ok=True)
    field = spec.outputs[0].name
    with phase(f"reading answers into {out / 'answers.csv'}", enabled=shown):  # page by page when it can
        streamed = stream_answers(job, out / "answers.csv", field)
    answers: pd.DataFrame | None = None
    if streamed is None:
        with phase("reading answers", enabled=shown):
            answers = job.answers()
    with phase("counting items and answers", enabled=shown):
        counts = (streamed.counts(*progress_items(job.progress())) if streamed
                  else job_counts(job, answers, field_name=field))
    scores: dict[str, tuple[float, int] | None] = {}
    tables: dict[str, pd.DataFrame] = {}
    if counts.usable_answers and streamed is not None:  # compact all through: keys become strings per chunk
        aggs: dict[str, pd.DataFrame] = {}
        for m in dict.fromkeys(["mv", "ds", method]):
            with phase(f"aggregating with {_METHOD_NAMES.get(m, m)}", enabled=shown):
                agg = streamed.aggregate(m)
                if m != method:  # only compared with the truth: its tasks and labels, the labels as codes
                    agg = pd.DataFrame({"task": agg["task"], "label": agg["label"].astype("category")})
                aggs[m] = agg
                del agg
                release_freed_memory()  # the method's working arrays, before the next one
        with phase("comparing with the hidden truth", enabled=shown):
            scores = judge({m: streamed.positions(a) for m, a in aggs.items()}, truth, field)
        with phase(f"writing {out / 'results.csv'}", enabled=shown):
            streamed.write_results(aggs[method], method, out / "results.csv", shaped_results)
        del aggs
    elif counts.usable_answers:
        for m in dict.fromkeys(["mv", "ds", method]):
            with phase(f"aggregating with {_METHOD_NAMES.get(m, m)}", enabled=shown):
                tables[m] = results_table(job, m, answers, inputs=m == method)  # only it is written
        with phase("comparing with the hidden truth", enabled=shown):
            scores = accuracies({m: t.rename(columns={"key": "task"}) for m, t in tables.items()}, truth, field)
        table = tables[method]
        with phase(f"writing {out / 'results.csv'}", enabled=shown):
            table.to_csv(out / "results.csv", index=False)
        del tables, table
    else:
        with phase(f"writing {out / 'results.csv'}", enabled=shown):
            pd.DataFrame(columns=["key", "label", "confidence", "n_answers", "golden", "method"]).to_csv(
                out / "results.csv", index=False)
    if answers is not None:
        with phase(f"writing {out / 'answers.csv'}", enabled=shown):
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
@click.option("--allow-partial", is_flag=True,
              help="Upload the valid rows of an items file that has rejected rows (listed as a warning). "
                   "Without it any rejected row stops the run before a job is created.")
@click.pass_context
def run_cmd(ctx: click.Context, spec: str, backend: str | None, profile: str | None, db: str | None,
            items_path: str | None, simulate: bool, workers: int, seed: int, accuracy_: float | None,
            spammers: float, fast_clickers: float, no_progress: bool, method: str, out: str, wait: bool,
            job_key: str | None, new_job: bool, allow_partial: bool) -> None:
    """Create a job from SPEC, upload its items and start it (with --simulate: do the work too).

    Items come from --items or the spec's source.path. Columns: one per input, `key`,
    `golden:<output>` for known answers, `truth:<output>` for hidden true answers (simulation only;
    without them simulated workers answer around a stable latent answer per item).

    Before anything is created the spec, every row of the items file and (with --simulate) --out are
    checked. The file is read strictly: a quote left open, a row with too many or too few cells,
    bytes that are not UTF-8, a URL with spaces or line breaks, an unknown column, a duplicate key
    or an empty file stops the run (exit 1) with each bad row's line and field, and no job is
    created. --allow-partial keeps the valid rows instead.

    Rerunning the same command resumes its job (same job key): missing items are added and the work
    goes on, nothing is done twice. --new-job starts over in a new job.
    """
    s = load_spec(spec)
    path = items_path or getattr(s.source, "path", None)
    if not path:
        raise click.UsageError("no items: give --items FILE or set source.path in the spec")
    with phase(f"checking {path}", enabled=not no_progress):
        check = checked_items(s, path, allow_partial=allow_partial, keep_truth=False)
    mixed = s.distribution.golden_per_batch if isinstance(s.distribution, Pulling) else 0
    if mixed and not check.golden:  # every batch would promise a golden item that does not exist
        raise ItemsInputError(
            f"{check.name}: distribution.golden_per_batch is {mixed} but the file has no golden items; add "
            "rows with a golden:<output> answer, or set golden_per_batch to 0 in the spec")
    if simulate:
        check_out_dir(Path(out))
    client = open_client(ctx, backend, profile, db)
    with client:
        if simulate and Capability.SIMULATION not in client.backend.capabilities:
            raise click.UsageError(
                f"--simulate: backend {client.name!r} has no simulated workforce; use --backend local")
        if check.golden and Capability.GOLDEN not in client.backend.capabilities:
            check = checked_items(s, check, allow_partial=allow_partial, keep_truth=False,
                                  golden_refused=f"backend {client.name!r} has no golden items")
        opts = simulation_options(workers, seed, accuracy_, spammers, fast_clickers, not no_progress)
        key = run_key(client, s, path, job_key=job_key, new_job=new_job, simulation=opts if simulate else None)
        job = client.create_job(s, key=key)
        with resume_hint(job, _flags(backend, profile, db)):
            echo_job_key(job, client)
            _drive(job, s, check, client, opts, allow_partial=allow_partial, progress=not no_progress,
                   simulate=simulate, out=Path(out), method=method, wait=wait, flags=_flags(backend, profile, db))


def _drive(job: Job, s: JobSpec, check: ItemsCheck, client: Client, opts: dict[str, Any], *, allow_partial: bool,
           progress: bool, simulate: bool, out: Path, method: str, wait: bool, flags: str) -> None:
    """What ``annotate run`` does once its job exists: upload, start, and simulate or wait."""
    report = job.add_items(check, allow_partial=allow_partial, on_error="report" if allow_partial else "raise",
                           progress=progress)
    if not job.created:
        click.echo(f"  items      {report.created} added, {report.existing} already there")
    if report.rejected > check.rejected:  # refused by the backend itself while uploading
        click.echo("\n".join([f"warning: the backend refused {report.rejected - check.rejected} item(s):",
                              *describe_errors(report.errors[len(check.errors):], limit=ERRORS_SHOWN)]),
                   err=True)
    report.keys.clear()  # every item's key (a million: ~75 MB); only the counts are used from here
    with phase(f"starting job {job.id}", enabled=progress):
        job.start()
    if simulate:
        simulate_and_report(job, s, check.iter_truth, out, opts, method=method, where=_where(client))
        return
    click.echo(f"job {job.id} started on {client.name} with {report.created + report.existing} item(s)")
    if wait:
        p = job.wait(progress=progress)
        click.echo(f"job {job.id}: {p.state.value}")
    else:
        click.echo(f"  follow it with: annotate status {job.id}" + flags)


@contextmanager
def resume_hint(job: Job, flags: str) -> Iterator[None]:
    """Ctrl-C after the job exists: say what was left and how to go on, instead of click's 'Aborted!'."""
    try:
        yield
    except KeyboardInterrupt:
        how = ("rerun the same command to resume it" if job.key else
               f"see where it stands with: annotate status {job.id}{flags}")
        click.echo(f"\ninterrupted: job {job.id} keeps what was done so far; {how}", err=True)
        raise click.exceptions.Exit(130) from None


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
@click.option("--no-progress", is_flag=True, help="No progress line on stderr while the answers are counted.")
@click.pass_context
def status_cmd(ctx: click.Context, job_id: str, backend: str | None, profile: str | None, db: str | None,
               as_json: bool, no_progress: bool) -> None:
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
        # reads every answer: minutes on a big vendor job
        with phase("counting items and answers", enabled=not no_progress):
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
@click.option("--no-progress", is_flag=True, help="No progress lines on stderr for long phases.")
@click.pass_context
def results_cmd(ctx: click.Context, job_id: str, backend: str | None, profile: str | None, db: str | None,
                output: str, method: str, answers_path: str | None, no_progress: bool) -> None:
    """Aggregated results of a job: one row per item (key, inputs, label, confidence, n_answers)."""
    shown = not no_progress
    with open_client(ctx, backend, profile, db) as client:
        job = client.job(job_id)
        with phase("reading answers", enabled=shown):
            answers = job.answers()
        try:
            with phase(f"aggregating with {_METHOD_NAMES.get(method, method)}", enabled=shown):
                table = results_table(job, method, answers)
        except ValueError as exc:  # no usable answers yet, unknown method, ...
            raise click.ClickException(str(exc)) from None
    with phase(f"writing {'results' if output == '-' else output}", enabled=shown):
        table.to_csv(sys.stdout if output == "-" else output, index=False)
    if output != "-":
        click.echo(f"wrote {len(table)} item(s) to {output} ({method})", err=True)
    if answers_path:
        with phase(f"writing {answers_path}", enabled=shown):
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
