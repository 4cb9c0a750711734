"""``annotate serve``: the browser UI over a local store (the local backend's ``web_app``, its serve extra).

Only the command lives here: it checks what can be checked before anything listens (a non-loopback
bind has a token, the backend has a web UI and its extra is installed, the store exists), then hands
the app to uvicorn. The core names no backend: it asks the connected backend for its ``web_app``.
"""

from __future__ import annotations

import ipaddress
import os

import click

from annotate_core.cli.jobs import open_client

MIN_TOKEN = 16


def is_loopback(host: str) -> bool:
    """Whether listening on ``host`` keeps the server on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _from_env(option: str, name: str | None) -> str | None:
    if name is None:
        return None
    value = os.environ.get(name, "")
    if len(value) < MIN_TOKEN:
        state = "is not set" if not value else f"holds fewer than {MIN_TOKEN} characters"
        raise click.ClickException(f"{option} {name}: the environment variable {state}; put a long random "
                                   "value in it (e.g. python -c 'import secrets; print(secrets.token_urlsafe())')")
    from annotate_core.secrets import register_secret

    register_secret(value)
    return value


@click.command("serve")
@click.option("--profile", "-p", help="Profile of annotate.toml whose local store to serve.")
@click.option("--db", help="Local store: a SQLite file or a database URL (default ./annotate.db).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback needs --token-env.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--token-env", metavar="VAR",
              help="Environment variable holding the access token the requester signs in with (required beyond "
                   "loopback); annotators then come by their personal links.")
@click.option("--secret-env", metavar="VAR",
              help="Environment variable holding the key that signs sessions and annotator links (default: a "
                   "random one per start, so links last until a restart).")
@click.option("--links-only", is_flag=True, help="Annotators sign in only through personal links, never by name.")
@click.option("--https", "https", is_flag=True,
              help="People reach the server over HTTPS (a TLS proxy in front of it): the session cookie is marked "
                   "Secure, so browsers never send it over plain HTTP.")
@click.option("--spec", "spec_files", multiple=True, type=click.Path(dir_okay=False, exists=True),
              help="A spec file to preview live at /requester/preview (read again as it changes; repeatable).")
@click.pass_context
def serve_cmd(ctx: click.Context, profile: str | None, db: str | None, host: str, port: int, token_env: str | None,
              secret_env: str | None, links_only: bool, https: bool, spec_files: tuple[str, ...]) -> None:
    """Serve the local store in a browser: annotators label, reviewers check, the requester follows jobs.

    Needs the serve extra: pip install "annotate-local[serve]".
    """
    loopback = is_loopback(host)
    if not loopback and token_env is None:
        raise click.ClickException(f"--host {host} is reachable from other machines: give --token-env VAR with an "
                                   "access token, or listen on 127.0.0.1")
    token = _from_env("--token-env", token_env)
    secret = _from_env("--secret-env", secret_env)
    client = open_client(ctx, None, profile, db)
    backend = client.backend
    web_app = getattr(backend, "web_app", None)
    if web_app is None:
        raise click.ClickException(f"annotate serve works on the local backend; this profile uses {backend.name!r}")
    app = web_app(token=token, secret=secret, loopback=loopback, links_only=links_only, spec_files=spec_files,
                  https=https)
    jobs = backend.list_jobs()  # a missing store is an error now, naming it, not an empty page later

    import uvicorn  # the serve extra's, present once web_app was built

    shown = f"[{host}]" if ":" in host else host
    click.echo(f"annotate serve: {backend.store_description()}, {len(jobs)} job(s)")
    click.echo(f"  annotators  http://{shown}:{port}/")
    click.echo(f"  requester   http://{shown}:{port}/requester" + (" (sign in with the token)" if token else ""))
    if https:
        click.echo("  session cookies are Secure: open it through your HTTPS proxy, not these plain-HTTP addresses")
    click.echo("  Ctrl-C stops it")
    # no access log: annotator links carry their signed token in the path
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")
