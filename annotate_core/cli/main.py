"""Entry point of the ``annotate`` CLI: the command group, logging set-up and error handling."""

from __future__ import annotations

import importlib
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



#: command name -> ("module:attribute" of the click command, the summary ``annotate --help`` lists). A command's
#: module (and whatever it imports: pandas, the client, a backend) loads only when that command runs or
#: shows its own help; test_cli_startup.py keeps each summary equal to the command's docstring.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "backends": ("annotate_core.cli.backends:backends_cmd",
                 "List installed backends with distribution, version and capabilities."),
    "compare": ("annotate_core.cli.compare:compare_cmd", "Compare jobs on quality, agreement, cost and turnaround."),
    "demo": ("annotate_core.cli.demo:demo_cmd",
             "Run the cats-vs-dogs job (examples/cats_vs_dogs.yaml) on the local backend with a simulated crowd."),
    "jobs": ("annotate_core.cli.jobs:jobs_cmd",
             "List the jobs a backend knows: the local store's, or those annotate created on a vendor account."),
    "plan": ("annotate_core.cli.specs:plan_cmd",
             "Show what SPEC would create on a backend and what it would cost, without sending anything."),
    "results": ("annotate_core.cli.jobs:results_cmd",
                "Aggregated results of a job: one row per item (key, inputs, label, confidence, n_answers)."),
    "run": ("annotate_core.cli.jobs:run_cmd",
            "Create a job from SPEC, upload its items and start it (with --simulate: do the work too)."),
    "schema": ("annotate_core.cli.specs:schema_cmd",
               "Print the JSON Schema of a job spec (the contract for spec files)."),
    "serve": ("annotate_core.cli.serve:serve_cmd",
              "Serve the local store in a browser: annotators label, reviewers check, the requester follows jobs."),
    "status": ("annotate_core.cli.jobs:status_cmd",
               "Where a job stands: state, progress, items and answers by status, and the backend's details."),
    "validate": ("annotate_core.cli.specs:validate_cmd", "Validate a spec file; errors name each bad field."),
}


class LazyAnnotateGroup(AnnotateGroup):
    """The group knows its commands' names and summaries and imports a command's module only when the
    command is looked up to run (click's documented lazy-loading pattern), so ``annotate --help`` and
    a command that needs little never pay for pandas and the rest."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in LAZY_COMMANDS:
            return command
        module_name, attribute = LAZY_COMMANDS[cmd_name][0].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):  # pragma: no cover - a wrong table entry
            raise TypeError(f"{module_name}:{attribute} is not a click command")
        self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the summaries above: listing commands imports none of them."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.commands or name not in LAZY_COMMANDS:
                command = self.get_command(ctx, name)
            else:  # a stand-in with the summary as its help: click shortens it as it would the real one
                command = click.Command(name, help=LAZY_COMMANDS[name][1])
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyAnnotateGroup)
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


def main() -> None:
    cli(prog_name="annotate")


if __name__ == "__main__":  # pragma: no cover
    main()
