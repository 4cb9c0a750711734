"""Profiles: lookup order, secrets only from the environment, clear errors."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from annotate_core import ConfigError, connect, load_config

CONFIG = """
default = "mem"

[profiles.mem]
driver = "memory"
region = "eu"

[profiles.vendor]
driver = "memory"
token_env = "ANNOTATE_TEST_TOKEN"
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    p = tmp_path / "annotate.toml"
    p.write_text(CONFIG)
    return p


def test_lookup_order(tmp_path: Path, config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other.toml"
    other.write_text('[profiles.x]\ndriver = "memory"\n')
    monkeypatch.chdir(tmp_path)
    assert load_config().path == config_file  # ./annotate.toml
    monkeypatch.setenv("ANNOTATE_CONFIG", str(other))
    assert load_config().path == other  # $ANNOTATE_CONFIG beats ./annotate.toml
    assert load_config(config_file).path == config_file  # explicit beats both


def test_user_config_dir_is_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from annotate_core.config import user_config_path

    monkeypatch.chdir(tmp_path)
    assert load_config().profiles == {}
    user = user_config_path()
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text('[profiles.u]\ndriver = "memory"\n')
    assert set(load_config().profiles) == {"u"}


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_default_and_named_profiles(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(config_file)
    assert cfg.profile().name == "mem"
    assert cfg.profile("mem").options == {"region": "eu"}
    monkeypatch.setenv("ANNOTATE_PROFILE", "vendor")
    assert cfg.profile().name == "vendor"
    with pytest.raises(ConfigError, match="profile 'ghost' not found.*profiles: \\['mem', 'vendor'\\]"):
        cfg.profile("ghost")


def test_secret_comes_from_the_environment(config_file: Path, monkeypatch: pytest.MonkeyPatch,
                                           caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("ANNOTATE_TEST_TOKEN", "s3cr3t-token-value")
    client = connect("vendor", config=config_file)
    token = client.backend.options["token"]
    assert isinstance(token, SecretStr) and token.get_secret_value() == "s3cr3t-token-value"
    assert "s3cr3t" not in repr(client) and "s3cr3t" not in repr(client.backend)
    with caplog.at_level(logging.INFO):
        logging.getLogger("annotate_core.test").info("token is %s", "s3cr3t-token-value")
    assert "s3cr3t-token-value" not in caplog.text


def test_missing_secret_names_the_variable_not_a_value(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANNOTATE_TEST_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="'ANNOTATE_TEST_TOKEN', which is not set"):
        connect("vendor", config=config_file)


def test_literal_secrets_in_the_file_are_refused(tmp_path: Path) -> None:
    p = tmp_path / "a.toml"
    p.write_text('[profiles.t]\ndriver = "toloka"\ntoken = "y0_AgAAAA-real"\n')
    with pytest.raises(ConfigError) as err:
        load_config(p).profile("t")
    assert "profiles.t.token" in str(err.value) and "token_env" in str(err.value)
    assert "y0_AgAAAA-real" not in str(err.value)
    with pytest.raises(ConfigError, match="profiles.t.token"):
        connect("t", config=p)


def test_a_literal_secret_spoils_only_its_own_profile(tmp_path: Path) -> None:
    p = tmp_path / "a.toml"
    p.write_text('default = "mem"\n[profiles.mem]\ndriver = "memory"\nregion = "eu"\n'
                 '[profiles.t]\ndriver = "toloka"\ntoken = "y0_AgAAAA-real"\n'
                 '[profiles.pg]\ndriver = "local"\nurl = "postgresql://annotate:Lit3ral-Pw-x@db.example/annotate"\n')
    assert connect(None, config=p).backend.options == {"region": "eu"}  # the default profile is fine
    assert connect("mem", config=p).name == "memory"
    with pytest.raises(ConfigError) as err:
        connect("pg", config=p)
    message = str(err.value)
    assert "profiles.pg.url" in message and "url_env" in message and "password_env" in message
    assert "profiles.t" not in message and "Lit3ral-Pw-x" not in message


def test_unreadable_or_non_utf8_config_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "a.toml"
    p.write_bytes(b'[profiles.t]\ndriver = "memory"\n# caf\xe9\n')
    with pytest.raises(ConfigError, match=r"a.toml: not UTF-8 text \(line 3: byte 0xe9 is not utf-8\)"):
        load_config(p)
    p.write_text('[profiles.t]\ndriver = "memory"\n')
    p.chmod(0)
    if os.geteuid() == 0:  # root reads any file: make the read fail the way it does for everyone else
        real = Path.read_text

        def denied(self: Path, *a: object, **kw: object) -> str:
            if self == p:
                raise PermissionError(13, "Permission denied", str(self))
            return real(self, *a, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(ConfigError, match="a.toml: cannot read the config file \\(Permission denied\\)"):
        load_config(p)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[profiles.t]\nregion = "x"\n', "profiles.t.driver"),
        ('default = "z"\n[profiles.t]\ndriver = "memory"\n', "default: profile 'z'"),
        ('colour = 1\n', "unknown top-level key"),
        ('[profiles.t\n', "not valid TOML"),
        ('[profiles.t]\ndriver = "memory"\ntoken_env = ""\n', "expected an environment variable name"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, needle: str) -> None:
    p = tmp_path / "a.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=needle.replace("[", "\\[").replace("(", "\\(")):
        load_config(p)


def test_connect_by_driver_name_without_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert connect("memory").name == "memory"
    assert connect(driver="memory", region="us").backend.options == {"region": "us"}
    with pytest.raises(ConfigError, match="not both"):
        connect("memory", driver="memory")


def test_core_profile_keys_are_not_passed_to_the_backend(tmp_path: Path) -> None:
    p = tmp_path / "a.toml"
    p.write_text('[profiles.cheap]\ndriver = "memory"\nregion = "eu"\nsimulate = {workers = 40}\n'
                 'spec_overrides = {pricing = {reward_per_batch = 0.01}}\n')
    prof = load_config(p).profile("cheap")
    assert prof.options["simulate"] == {"workers": 40}  # still readable by the core (annotate compare)
    assert connect("cheap", config=p).backend.options == {"region": "eu"}


def test_secrets_handed_straight_to_a_backend_are_scrubbed_from_logs_too() -> None:
    """Not only ``<name>_env`` values: a SecretStr option however it arrives is registered."""
    from annotate_memory import MemoryBackend
    from pydantic import SecretStr

    from annotate_core.secrets import redact

    MemoryBackend(token=SecretStr("handed-in-directly-4711"))
    assert redact("sent handed-in-directly-4711 to the vendor") == "sent *** to the vendor"
