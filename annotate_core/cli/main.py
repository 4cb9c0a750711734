"""Entry point of the ``annotate`` CLI: the command group, logging set-up and error handling."""

from __future__ import annotations

import logging
import sys

import click

from annotate_core.errors import AnnotateError
from annotate_core.secrets import install_log_redaction


class AnnotateGroup(click.Group):
    """Turns our own errors into a one-line message and exit status 1, not a traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except AnnotateError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=AnnotateGroup)
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="annotate.toml to use (default: $ANNOTATE_CONFIG, ./annotate.toml, user config dir).")
@click.version_option(package_name="annotate-core", prog_name="annotate")
@click.pass_context
def cli(ctx: click.Context, verbose: int, config_path: str | None) -> None:
    """Run data-annotation jobs on any backend: local, Toloka, Dataloop, or a plugin."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    install_log_redaction()
    ctx.ensure_object(dict)
    ctx.obj["config"] = config_path


def _register() -> None:
    from annotate_core.cli import backends, specs

    for module in (backends, specs):
        for command in module.COMMANDS:
            cli.add_command(command)
    # command modules that arrive with later features register themselves the same way
    import importlib

    for name in ("jobs", "demo", "compare"):
        try:
            module = importlib.import_module(f"annotate_core.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"annotate_core.cli.{name}":
                raise
            continue
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="annotate")


if __name__ == "__main__":  # pragma: no cover
    main()
