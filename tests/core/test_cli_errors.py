"""User errors in the CLI: one or two lines naming the thing, the cause and the fix, never a traceback
(unless -v), exit 1 (2 when the backend cannot do it), and no secret in any of it."""

from __future__ import annotations

import builtins
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from annotate_memory import MemoryBackend
from click.testing import CliRunner

from annotate_core.cli.failures import EXIT_UNSUPPORTED, describe_failure
from annotate_core.cli.main import cli
from annotate_core.errors import TransportError, VendorError
from annotate_core.registry import register_backend, unregister_backend

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TOKEN = "tok-Vendor-S3cret-0815"


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def assert_one_clean_error(result: Any, *needles: str, code: int = 1) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    errors = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, result.output
    assert len(result.output.strip().splitlines()) <= 2, result.output
    for needle in needles:
        assert needle in result.output, result.output


@pytest.fixture
def deny_read(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """Make a file unreadable: chmod 0, and as root (who reads anything) refuse opening it as the OS would."""

    def deny(path: Path) -> None:
        path.chmod(0)
        if os.geteuid() != 0:
            return
        real_open = io.open

        def refusing(file: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(file, str | os.PathLike) and Path(file) == path:
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(io, "open", refusing)
        monkeypatch.setattr(builtins, "open", refusing)

    return deny


def test_a_non_utf8_spec_is_one_line_naming_the_file_and_line(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(b"name: caf\xe9\ninputs: []\n")
    for command in (["validate", str(spec)], ["plan", str(spec), "--backend", "memory"]):
        result = run(*command)
        assert_one_clean_error(result, "spec.yaml: not UTF-8 text (line 1: byte 0xe9 is not utf-8)",
                               "save the file as UTF-8")


def test_verbose_shows_the_traceback_as_well(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(b"name: caf\xe9\n")
    result = run("-v", "validate", str(spec))
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.output
    assert result.output.strip().splitlines()[-1].startswith("error: ")


def test_an_unreadable_spec_or_items_file_names_the_file(tmp_path: Path, deny_read) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text((EXAMPLES / "cats_vs_dogs.yaml").read_text())
    items = tmp_path / "items.csv"
    items.write_text("key,image\na,https://e.com/a.jpg\n")
    deny_read(items)
    result = run("plan", str(spec), "--backend", "memory", "--items", str(items))
    assert_one_clean_error(result, f"{items}: Permission denied", "check the permissions")
    deny_read(spec)
    assert_one_clean_error(run("validate", str(spec)), f"{spec}: cannot read the spec file (Permission denied)",
                           "check its permissions")


def test_unsupported_operation_exits_2_like_plan() -> None:
    assert_one_clean_error(run("jobs", "--backend", "memory"), "backend 'memory' cannot list jobs",
                           code=EXIT_UNSUPPORTED)


def test_an_unknown_backend_prints_no_stevedore_warning() -> None:
    # a subprocess: the logging set-up is the real one, not pytest's capture
    proc = subprocess.run([sys.executable, "-m", "annotate_core.cli.main", "plan", str(EXAMPLES / "cats_vs_dogs.yaml"),
                           "--backend", "acme"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [proc.stderr.strip()]  # one line
    assert proc.stderr.startswith("error: backend 'acme' is not installed") and "WARNING" not in proc.stderr


def test_a_vendor_that_cannot_be_reached_is_one_line_without_the_token(tmp_path: Path) -> None:
    config = tmp_path / "annotate.toml"
    config.write_text('[profiles.t]\ndriver = "toloka"\ntoken_env = "T_TOKEN"\n'
                      'base_url = "http://127.0.0.1:1"\nretries = 1\n')
    env = {"T_TOKEN": TOKEN}
    result = run("--config", str(config), "jobs", "--profile", "t", env=env)
    assert_one_clean_error(result, "[toloka] GET http://127.0.0.1:1/", "Connection refused",
                           "could not be reached: check the network")
    assert TOKEN not in result.output and "Retrying" not in result.output
    verbose = run("-v", "--config", str(config), "jobs", "--profile", "t", env=env)
    assert verbose.exit_code == 1 and "Traceback" in verbose.output and TOKEN not in verbose.output


def test_vendor_failures_get_the_fix_their_message_cannot_know() -> None:
    down = describe_failure(VendorError("GET /v1/pools: Service Unavailable", status=503, backend="toloka"))
    assert down == ("[toloka] GET /v1/pools: Service Unavailable (HTTP 503)\n"
                    "  the vendor's service failed (after retries): try again later", 1)
    gone = describe_failure(TransportError("GET /v1/pools: Connection refused", backend="toloka"))
    assert gone is not None and gone[1] == 1 and "check the network" in gone[0]
    assert describe_failure(NotImplementedError("backend 'x' cannot pause jobs")) == (
        "backend 'x' cannot pause jobs", EXIT_UNSUPPORTED)
    assert describe_failure(ZeroDivisionError("bug")) is None


class _Broken(MemoryBackend):
    name = "broken"

    def list_jobs(self) -> list[Any]:
        raise KeyError("a bug, with a secret in it: " + TOKEN)


def test_an_internal_bug_is_one_line_asking_for_a_report(tmp_path: Path) -> None:
    from annotate_core.secrets import register_secret

    register_secret(TOKEN)
    register_backend("broken", _Broken)
    try:
        result = run("jobs", "--backend", "broken")
        assert_one_clean_error(result, "internal error (KeyError", "rerun with -v", "please report it")
        assert TOKEN not in result.output
        verbose = run("-v", "jobs", "--backend", "broken")
        assert verbose.exit_code == 1 and "Traceback" in verbose.output and TOKEN not in verbose.output
    finally:
        unregister_backend("broken")


def test_a_literal_secret_in_another_profile_does_not_block_this_one(tmp_path: Path) -> None:
    config = tmp_path / "annotate.toml"
    config.write_text('default = "mem"\n[profiles.mem]\ndriver = "memory"\n'
                      f'[profiles.t]\ndriver = "toloka"\ntoken = "{TOKEN}"\n')
    ok = run("--config", str(config), "plan", str(EXAMPLES / "cats_vs_dogs.yaml"), "--n-items", "10")
    assert ok.exit_code in (0, EXIT_UNSUPPORTED) and "error" not in ok.output.lower(), ok.output
    bad = run("--config", str(config), "plan", str(EXAMPLES / "cats_vs_dogs.yaml"), "--profile", "t")
    assert_one_clean_error(bad, "profiles.t.token: secrets must not be written in the config file", "token_env")
    assert TOKEN not in bad.output and "profiles.mem" not in bad.output
