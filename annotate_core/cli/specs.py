"""``annotate schema``, ``annotate validate`` and ``annotate plan``: specs without sending anything."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from annotate_core.cli.failures import EXIT_UNSUPPORTED
from annotate_core.items import read_items_file
from annotate_core.model.spec import JobSpec
from annotate_core.specfile import load_spec

if TYPE_CHECKING:
    from annotate_core.client import Client


@click.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of a job spec (the contract for spec files)."""
    click.echo(json.dumps(JobSpec.model_json_schema(), indent=2))


@click.command("validate")
@click.argument("spec", type=click.Path(dir_okay=False))
def validate_cmd(spec: str) -> None:
    """Validate a spec file; errors name each bad field."""
    s = load_spec(spec)
    click.echo(f"{spec}: valid ({s.name!r}, {len(s.inputs)} input(s), {len(s.outputs)} output(s))")


def client_for(ctx: click.Context, backend: str | None, profile: str | None) -> Client:
    """A client from --backend (a driver with defaults) or --profile (annotate.toml)."""
    from annotate_core.client import connect  # the Job handle and pandas behind it: plan only, not validate

    if backend and profile:
        raise click.UsageError("give --backend or --profile, not both")
    if backend:
        return connect(driver=backend)
    return connect(profile, config=ctx.obj.get("config") if ctx.obj else None)


@click.command("plan")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--backend", "-b", help="Backend name (driver with default options).")
@click.option("--profile", "-p", help="Profile of annotate.toml.")
@click.option("--items", "items_path", type=click.Path(dir_okay=False), help="Items file, to estimate cost.")
@click.option("--n-items", type=int, help="Number of items, to estimate cost.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON, with request bodies.")
@click.pass_context
def plan_cmd(ctx: click.Context, spec: str, backend: str | None, profile: str | None,
             items_path: str | None, n_items: int | None, as_json: bool) -> None:
    """Show what SPEC would create on a backend and what it would cost, without sending anything.

    Exits 0 when the backend can run the spec, 2 when it cannot (every unsupported feature listed).
    """
    s = load_spec(spec)
    items_path = items_path or getattr(s.source, "path", None)
    n_golden = 0
    if n_items is None and items_path:
        n_items = 0
        for item in read_items_file(Path(items_path), s):
            n_items += 1
            n_golden += item.is_golden
    client = client_for(ctx, backend, profile)
    plan = client.plan(s, n_items, n_golden)
    if as_json:
        click.echo(json.dumps(plan.to_dict(), indent=2, default=str))
    else:
        click.echo(plan.render())
    if not plan.ok:
        sys.exit(EXIT_UNSUPPORTED)
