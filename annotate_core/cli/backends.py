"""``annotate backends``: what is installed, and what each backend can do."""

from __future__ import annotations

import json

import click

from annotate_core.capabilities import CAPABILITY_DESCRIPTIONS, Capability
from annotate_core.registry import BackendInfo, list_backends


def capability_matrix(infos: list[BackendInfo]) -> list[list[str]]:
    """Rows of capability x backend ("yes" / "-"), header first; the same table docs/backends.md holds."""
    names = [i.name for i in infos if not i.error]
    rows = [["capability", "meaning", *names]]
    have = {i.name: set(i.capabilities) for i in infos}
    for cap in Capability:
        rows.append([cap.value, CAPABILITY_DESCRIPTIONS[cap], *("yes" if cap.value in have[n] else "-" for n in names)])
    return rows


def markdown_table(rows: list[list[str]]) -> str:
    head, *body = rows
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(out)


@click.command("backends")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of objects.")
@click.option("--matrix", is_flag=True, help="Print the capability x backend table (markdown).")
def backends_cmd(as_json: bool, matrix: bool) -> None:
    """List installed backends with distribution, version and capabilities."""
    infos = list_backends()
    if as_json:
        click.echo(json.dumps([i.to_dict() for i in infos], indent=2))
        return
    if matrix:
        click.echo(markdown_table(capability_matrix(infos)))
        return
    if not infos:
        click.echo("no backends installed (pip install annotate-local)")
        return
    for i in infos:
        where = f"{i.distribution or '?'} {i.version or ''}".strip()
        click.echo(f"{i.name}  ({where})")
        if i.error:
            click.echo(f"    error: {i.error}")
        else:
            caps = ", ".join(i.capabilities) or "none declared yet"
            click.echo(f"    capabilities: {caps}")
