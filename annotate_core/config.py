"""``annotate.toml``: named profiles that bind a name to a backend driver and its options.

Switching vendors is switching profiles. Secrets never live in the file: a profile names the
environment variable that holds each one (``token_env = "TOLOKA_API_KEY"``), and the value is read
at connect time into a ``SecretStr``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from annotate_core.errors import ConfigError, describe_decode_error
from annotate_core.secrets import looks_secret, mask_url_passwords, register_secret

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_ENV = "ANNOTATE_CONFIG"
PROFILE_ENV = "ANNOTATE_PROFILE"
FILE_NAME = "annotate.toml"
ENV_SUFFIX = "_env"
#: profile keys read by the core itself (comparison runs), never passed to the backend
CORE_PROFILE_KEYS = frozenset({"simulate", "spec_overrides"})


def user_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("annotate")) / FILE_NAME


def config_search_path(explicit: str | os.PathLike[str] | None = None) -> list[Path]:
    """Where a config is looked for, in order: explicit, $ANNOTATE_CONFIG, ./annotate.toml, user dir."""
    paths: list[Path] = []
    if explicit:
        paths.append(Path(explicit))
    if os.environ.get(CONFIG_ENV):
        paths.append(Path(os.environ[CONFIG_ENV]))
    paths.append(Path.cwd() / FILE_NAME)
    paths.append(user_config_path())
    return paths


@dataclass(frozen=True)
class Profile:
    """A named backend configuration. ``options`` hold plain values; ``secret_env`` maps an option
    name to the environment variable that holds its value."""

    name: str
    driver: str
    options: dict[str, Any] = field(default_factory=dict)
    secret_env: dict[str, str] = field(default_factory=dict)
    #: why this profile cannot be used (a secret written in the file); raised when it is chosen, so one
    #: bad profile does not make the others in the file unusable. The secret values are not kept.
    problems: tuple[str, ...] = ()

    def __repr__(self) -> str:  # options hold no secrets by construction; env var names are not secret
        return (
            f"Profile(name={self.name!r}, driver={self.driver!r}, options={self.options!r}, "
            f"secret_env={self.secret_env!r})"
        )

    def check(self) -> Profile:
        """This profile, if it can be used; a ``ConfigError`` naming it (and only it) otherwise."""
        if self.problems:
            raise ConfigError("\n".join(self.problems))
        return self

    def resolve(self, environ: dict[str, str] | None = None) -> dict[str, Any]:
        """Options for the backend, with secrets read from the environment as ``SecretStr``."""
        self.check()
        env = os.environ if environ is None else environ
        out = {k: v for k, v in self.options.items() if k not in CORE_PROFILE_KEYS}
        for option, var in self.secret_env.items():
            value = env.get(var)
            if not value:
                raise ConfigError(
                    f"profile {self.name!r}: option {option!r} reads environment variable {var!r}, "
                    "which is not set"
                )
            register_secret(value)
            out[option] = SecretStr(value)
        return out


@dataclass(frozen=True)
class Config:
    path: Path | None
    profiles: dict[str, Profile]
    default: str | None = None

    def chosen(self, name: str | None = None) -> str | None:
        """The profile name a lookup would use: ``name``, $ANNOTATE_PROFILE, the file's ``default``, or
        the only profile; None when the config names none."""
        name = name or os.environ.get(PROFILE_ENV) or self.default
        if name is None and len(self.profiles) == 1:
            return next(iter(self.profiles))
        return name

    def profile(self, name: str | None = None) -> Profile:
        """The named profile; with no name, $ANNOTATE_PROFILE, then the file's ``default``."""
        name = self.chosen(name)
        if name is None:
            raise ConfigError(
                "no profile given and no `default` in the config"
                + (f" ({self.path})" if self.path else "")
                + f"; profiles: {sorted(self.profiles) or 'none'}"
            )
        if name not in self.profiles:
            raise ConfigError(
                f"profile {name!r} not found"
                + (f" in {self.path}" if self.path else " (no annotate.toml found)")
                + f"; profiles: {sorted(self.profiles) or 'none'}"
            )
        return self.profiles[name].check()


def parse_profile(name: str, table: Any, where: str) -> Profile:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: profiles.{name} must be a table")
    driver = table.get("driver")
    if not isinstance(driver, str) or not driver:
        raise ConfigError(f"{where}: profiles.{name}.driver: expected a backend name such as \"local\"")
    options: dict[str, Any] = {}
    secret_env: dict[str, str] = {}
    problems: list[str] = []
    for key, value in table.items():
        if key == "driver":
            continue
        if key.endswith(ENV_SUFFIX):
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{where}: profiles.{name}.{key}: expected an environment variable name")
            secret_env[key[: -len(ENV_SUFFIX)]] = value
        elif looks_secret(key):
            if isinstance(value, str):
                register_secret(value)
            problems.append(
                f"{where}: profiles.{name}.{key}: secrets must not be written in the config file; "
                f"put the value in an environment variable and set {key}{ENV_SUFFIX} = \"VAR_NAME\""
            )
        elif isinstance(value, str) and mask_url_passwords(value) != value:
            register_secret(value)
            problems.append(
                f"{where}: profiles.{name}.{key}: the URL holds a password, and secrets must not be written in "
                f"the config file; put the whole URL in an environment variable ({key}{ENV_SUFFIX} = \"VAR_NAME\") "
                "or, for the local backend, only the password (password_env = \"VAR_NAME\")"
            )
        else:
            options[key] = value
    return Profile(name, driver, options, secret_env, tuple(problems))


def parse_config(data: dict[str, Any], path: Path | None = None) -> Config:
    where = str(path) if path else "config"
    profiles_table = data.get("profiles", {})
    if not isinstance(profiles_table, dict):
        raise ConfigError(f"{where}: `profiles` must be a table of [profiles.NAME] sections")
    unknown = sorted(set(data) - {"profiles", "default"})
    if unknown:
        raise ConfigError(f"{where}: unknown top-level key(s) {unknown}; expected `default` and [profiles.NAME]")
    profiles = {n: parse_profile(n, t, where) for n, t in profiles_table.items()}
    default = data.get("default")
    if default is not None and default not in profiles:
        raise ConfigError(f"{where}: default: profile {default!r} is not defined; profiles: {sorted(profiles)}")
    return Config(path, profiles, default)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """The first config on the search path; an empty config when there is none.

    An explicitly named file (argument or $ANNOTATE_CONFIG) must exist.
    """
    explicit = [p for p in (path, os.environ.get(CONFIG_ENV)) if p]
    for candidate in config_search_path(path):
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{candidate}: not valid TOML: {exc}") from None
            except UnicodeDecodeError as exc:
                raise ConfigError(f"{candidate}: not UTF-8 text ({describe_decode_error(exc)}); "
                                  "save the file as UTF-8") from None
            except OSError as exc:
                raise ConfigError(f"{candidate}: cannot read the config file ({exc.strerror or exc}); "
                                  "check its permissions") from None
            return parse_config(data, candidate)
        if explicit and candidate == Path(explicit[0]):
            raise ConfigError(f"config file {candidate} does not exist")
    return Config(None, {})
