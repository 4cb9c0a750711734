"""``annotate compare``: the same job on several backends, side by side, in a table and a report."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from annotate_core.client import Client
from annotate_core.comparison.build import Comparison, build_comparison, default_methods
from annotate_core.comparison.collect import JobData, collect
from annotate_core.comparison.table import text_table
from annotate_core.comparison.truth import load_truth
from annotate_core.comparison.verdict import verdict_text
from annotate_core.errors import SpecError
from annotate_core.phases import phase
from annotate_core.specfile import load_spec


def parse_ref(ref: str) -> tuple[str, str]:
    """``PROFILE:JOB_ID`` -> (profile, job id); the id may itself contain colons."""
    profile, sep, job_id = ref.partition(":")
    if not sep or not profile or not job_id:
        raise click.BadParameter(f"{ref!r}: expected PROFILE:JOB_ID, e.g. local:3 or toloka-prod:12345",
                                 param_hint="JOBS / --job")
    return profile, job_id


def collect_refs(ctx: click.Context, refs: list[str], spec_path: str | None, *, progress: bool = True
                 ) -> list[JobData]:
    """Each finished job by reference, one client per profile (jobs of a profile share its backend).

    Profiles are resolved as for profile runs, so their ``simulate`` and ``spec_overrides`` tables
    (read by the comparison, not the backend) are left out of the backend's options.
    """
    from annotate_core.comparison.run import resolve_profiles

    spec = load_spec(spec_path) if spec_path else None
    parsed = [parse_ref(ref) for ref in refs]
    targets = resolve_profiles(list(dict.fromkeys(p for p, _ in parsed)),
                               config=ctx.obj.get("config") if ctx.obj else None)
    clients: dict[str, Client] = {}
    out: list[JobData] = []
    try:
        for target in targets:
            clients[target.name] = target.connect()
        for ref, (profile, job_id) in zip(refs, parsed, strict=True):
            job = clients[profile].job(job_id)
            try:
                stored = job.spec  # the backend's own copy wins over --spec
            except SpecError:
                stored = None
            with phase(f"reading the answers of {ref}", enabled=progress):
                out.append(collect(job, name=ref, profile=profile, spec=stored or spec))
    finally:
        for client in clients.values():
            client.close()
    return out


NEEDS_TRUTH = {"gold_mv", "goldmajorityvote", "gold_majority_vote"}


def check_methods(methods: tuple[str, ...]) -> None:
    """Refuse unknown methods before any job runs (profile runs can take a while)."""
    from annotate_core.aggregation import get_aggregator

    for name in methods:
        if name.strip().lower() in NEEDS_TRUTH:
            raise click.BadParameter(f"{name!r} needs the golden labels as input, and the comparison keeps them "
                                     "out of aggregation to measure accuracy on them", param_hint="--method")
        try:
            get_aggregator(name)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--method") from None


def echo_comparison(c: Comparison) -> None:
    click.echo(text_table(c))
    lines = verdict_text(c)
    if lines:
        click.echo("")
        for line in lines:
            click.echo("* " + line)


@click.command("compare")
@click.argument("jobs", nargs=-1)
@click.option("--job", "job_opts", multiple=True, metavar="PROFILE:ID", help="A finished job (repeatable).")
@click.option("--spec", "spec_path", type=click.Path(dir_okay=False, exists=True),
              help="Spec to run on each --profile; with job ids, the spec of jobs whose backend stores none.")
@click.option("--profile", "-p", "profiles", multiple=True, help="Run --spec on this profile (repeatable).")
@click.option("--simulate", is_flag=True,
              help="Drive each profile's job with the simulated workforce of its `simulate` table (local backend).")
@click.option("--items", "items_path", type=click.Path(dir_okay=False, exists=True),
              help="Items for the profile runs (default: the spec's source.path). `truth:<output>` columns are "
                   "hidden true answers: never uploaded, given to simulators, and used as --truth.")
@click.option("--seed", type=int, default=None, help="Seed for simulated workforces that have none.")
@click.option("--timeout", type=float, default=None, help="Seconds to wait for each profile's job.")
@click.option("--poll", "poll_interval", type=float, default=30.0, show_default=True,
              help="Seconds between progress checks while waiting.")
@click.option("--truth", "truth_path", type=click.Path(dir_okay=False, exists=True),
              help="CSV of known labels (key and label columns); golden items are always used.")
@click.option("--method", "-m", "methods", multiple=True,
              help="Aggregation method (repeatable; default: every method that needs no golden input: "
                   "mv, ds, ocds, wawa, glad, mace).")
@click.option("--field", "field_name", help="Output field to compare (default: the spec's first output).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Write metrics.csv, metrics.json and report.html into this directory.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON instead of the table.")
@click.option("--no-progress", is_flag=True, help="No progress bars, and no progress lines on stderr for long phases.")
@click.pass_context
def compare_cmd(ctx: click.Context, jobs: tuple[str, ...], job_opts: tuple[str, ...], spec_path: str | None,
                profiles: tuple[str, ...], simulate: bool, items_path: str | None, seed: int | None,
                timeout: float | None, poll_interval: float, truth_path: str | None, methods: tuple[str, ...],
                field_name: str | None, out_dir: str | None, as_json: bool, no_progress: bool) -> None:
    """Compare jobs on quality, agreement, cost and turnaround.

    \b
    Finished jobs, by profile (or backend) and id:
      annotate compare local:3 toloka-prod:12345 --truth truth.csv --out report/
    The same spec run now on several profiles (a rehearsal with simulated workforces):
      annotate compare --spec job.yaml --profile cheap --profile careful --simulate --out report/
    """
    refs = [*jobs, *job_opts]
    if profiles and not spec_path:
        raise click.UsageError("--profile runs a spec: give --spec SPEC")
    if simulate and not profiles:
        raise click.UsageError("--simulate drives the jobs of --profile runs: give --spec and --profile")
    if len(refs) + len(profiles) < 1:
        raise click.UsageError("nothing to compare: give jobs as PROFILE:ID, or --spec with --profile")
    truth: pd.Series | None = load_truth(truth_path) if truth_path else None
    chosen = tuple(methods) or default_methods()
    check_methods(chosen)

    shown = not no_progress
    data = collect_refs(ctx, refs, spec_path, progress=shown)
    if profiles and spec_path:  # always both: --profile without --spec was refused above
        from annotate_core.comparison.run import items_for, resolve_profiles, run_profile

        spec = load_spec(spec_path)
        targets = resolve_profiles(profiles, config=ctx.obj.get("config") if ctx.obj else None, simulate=simulate,
                                   spec=spec)
        items = items_for(spec, items_path)
        data += [run_profile(t, spec, items, simulate=simulate, seed=seed, timeout=timeout,
                             poll_interval=poll_interval, progress=shown and not as_json) for t in targets]
        hidden = items.labels(field_name or spec.outputs[0].name)
        if truth is None and hidden:  # the items' truth:<output> columns, never shown to workers
            truth = pd.Series(hidden, dtype="object")
    with phase(f"comparing {len(data)} job(s): aggregating with {', '.join(chosen)}", enabled=shown):
        c = build_comparison(data, truth=truth, methods=chosen, field_name=field_name)
    if as_json:
        click.echo(c.to_json())
    else:
        echo_comparison(c)
    if out_dir:
        with phase(f"writing metrics to {out_dir}", enabled=shown):
            paths = c.write(out_dir, report=False)
        try:
            with phase(f"writing {Path(out_dir) / 'report.html'}", enabled=shown):
                paths["html"] = c.write_report(Path(out_dir) / "report.html")
        except ImportError as exc:
            raise click.ClickException(f"{exc} (metrics.csv and metrics.json are written)") from None
        if not as_json:
            click.echo("")
            for p in paths.values():
                click.echo(f"wrote {p}")
        else:
            click.echo(json.dumps({k: str(v) for k, v in paths.items()}), err=True)
