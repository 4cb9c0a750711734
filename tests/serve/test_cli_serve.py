"""``annotate serve``: what it refuses before listening, and a real server started the way a user would."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from annotate_local import LocalBackend
from click.testing import CliRunner

from annotate_core.cli.main import cli

from .conftest import make_items, make_spec, open_job


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_without_the_extra_the_error_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import annotate_local.serve

    monkeypatch.setattr(annotate_local.serve, "missing_dependencies", lambda: ["starlette", "uvicorn"])
    out = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "a.db")])
    assert out.exit_code == 1
    assert out.output.count("\n") == 1  # one line
    assert "annotate-local[serve]" in out.output and "starlette, uvicorn missing" in out.output


def test_beyond_loopback_a_token_is_required(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "a.db"), "--host", "0.0.0.0"])
    assert out.exit_code == 1 and "--token-env" in out.output and "reachable from other machines" in out.output
    monkeypatch.delenv("ANNOTATE_TEST_SERVE_TOKEN", raising=False)
    out = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "a.db"), "--host", "0.0.0.0",
                                   "--token-env", "ANNOTATE_TEST_SERVE_TOKEN"])
    assert out.exit_code == 1 and "ANNOTATE_TEST_SERVE_TOKEN: the environment variable is not set" in out.output
    monkeypatch.setenv("ANNOTATE_TEST_SERVE_TOKEN", "short")
    out = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "a.db"), "--host", "0.0.0.0",
                                   "--token-env", "ANNOTATE_TEST_SERVE_TOKEN"])
    assert out.exit_code == 1 and "fewer than 16 characters" in out.output and "short" not in out.output


def test_a_mistyped_store_is_an_error_naming_it(tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "nope.db")])
    assert out.exit_code == 1 and "nope.db" in out.output
    assert not (tmp_path / "nope.db").exists()


def test_the_command_serves_the_store_until_stopped(tmp_path: Path) -> None:
    db = tmp_path / "annotate.db"
    backend = LocalBackend(path=str(db))
    job = open_job(backend, make_spec(name="Served pets"), make_items(2))
    backend.close_backend()
    port = free_port()
    token = "a-long-token-" + "q" * 20
    proc = subprocess.Popen(
        [sys.executable, "-c", "from annotate_core.cli.main import main; main()", "serve", "--db", str(db),
         "--port", str(port), "--token-env", "ANNOTATE_TEST_SERVE_TOKEN"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**__import__("os").environ, "ANNOTATE_TEST_SERVE_TOKEN": token})
    try:
        body = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
                    body = r.read().decode()
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()[0]
                time.sleep(0.2)
        assert "access token" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/jobs/{job.id}", timeout=5) as r:
            assert r.url.endswith("/login")  # nothing without the token
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert f"http://127.0.0.1:{port}/requester" in output and "1 job(s)" in output
    assert token not in output


def test_a_backend_without_a_web_ui_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "annotate.toml"
    config.write_text('[profiles.mem]\ndriver = "memory"\n')
    out = CliRunner().invoke(cli, ["--config", str(config), "serve", "--profile", "mem"])
    assert out.exit_code == 1 and "works on the local backend" in out.output and "'memory'" in out.output


def test_https_flag_reaches_the_app_and_says_how_to_open_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``--https`` is passed to the app the command serves (its session cookie comes back Secure) and the
    command tells the user to come through their HTTPS proxy."""
    import uvicorn
    from starlette.testclient import TestClient

    db = tmp_path / "annotate.db"
    backend = LocalBackend(path=str(db))
    open_job(backend, make_spec(), make_items(1))
    backend.close_backend()
    served: list = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.append((app, kwargs)))
    out = CliRunner().invoke(cli, ["serve", "--db", str(db), "--https"])
    assert out.exit_code == 0, out.output
    assert "session cookies are Secure" in out.output and "HTTPS proxy" in out.output
    (app, kwargs), = served
    assert kwargs["host"] == "127.0.0.1"
    cookie = TestClient(app, base_url="https://127.0.0.1").get("/").headers.get("set-cookie", "")
    assert "secure" in [part.strip().lower() for part in cookie.split(";")]
