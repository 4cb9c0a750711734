"""Entry point of the ``annotate`` CLI: the command group, logging set-up and error handling."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from annotate_core.cli.failures import report_failure
from annotate_core.secrets import install_log_redaction


class AnnotateGroup(click.Group):
    """Turns every error a user can fix into one or two lines and exit status 1 (2 when the backend
    cannot do what was asked), not a traceback; ``-v`` shows the traceback too (``failures.py``)."""

    def invoke(self, ctx: click.Context) -> Any:
        verbose = bool(ctx.params.get("verbose"))
        # urllib3 warns at every retry; the error after the last one says it all (-v shows them)
        urllib3_log = logging.getLogger("urllib3")
        level = urllib3_log.level
        if not verbose:
            urllib3_log.setLevel(logging.ERROR)
        try:
            return super().invoke(ctx)
        except click.exceptions.UsageError:
            raise  # click prints the usage line with these
        except click.exceptions.ClickException as exc:  # a command's own refusal: like every other error
            click.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise  # click handles these itself
        except Exception as exc:
            sys.exit(report_failure(exc, verbose=verbose))
        finally:
            urllib3_log.setLevel(level)


@click.group(cls=AnnotateGroup)
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug); errors show their traceback.")
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
