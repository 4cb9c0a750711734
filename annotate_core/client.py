"""``connect()``: from a profile name (or a driver and options) to a client bound to one backend."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from annotate_core.backend import Backend
from annotate_core.capabilities import Capability, Unsupported, check
from annotate_core.config import Profile, load_config
from annotate_core.errors import ConfigError, UnsupportedFeatureError
from annotate_core.job import Job
from annotate_core.jobkeys import JobKeyConflictError, check_key, spec_differences, spec_fingerprint
from annotate_core.model.spec import JobSpec
from annotate_core.plan import Plan, make_plan
from annotate_core.registry import KNOWN_BACKENDS, get_backend_class
from annotate_core.secrets import install_log_redaction, register_secret
from annotate_core.specfile import load_spec, spec_from_dict

log = logging.getLogger(__name__)


class Client:
    """A connection to one backend. Creates jobs and re-attaches to existing ones by id."""

    def __init__(self, backend: Backend, profile: str | None = None) -> None:
        self.backend = backend
        self.profile = profile

    def __repr__(self) -> str:
        return f"Client(backend={self.backend!r}, profile={self.profile!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.backend.close_backend()

    @property
    def name(self) -> str:
        return self.backend.name

    def check(self, spec: JobSpec) -> list[Unsupported]:
        """Every feature of ``spec`` this backend lacks (empty when it can run it)."""
        return check(spec, self.backend.name, self.backend.capabilities, self.backend.hints)

    def plan(
        self, spec: JobSpec | str | Path | dict[str, Any], n_items: int | None = None, n_golden: int = 0
    ) -> Plan:
        """A dry run: operations, refusals and cost. Sends nothing."""
        return make_plan(self.backend, _as_spec(spec), n_items, n_golden)

    def create_job(self, spec: JobSpec | str | Path | dict[str, Any], *, key: str | None = None) -> Job:
        """Create a job; refuses with ``UnsupportedFeatureError`` before any remote call.

        With ``key``, create-or-attach: when the key already names a job on this backend, that job
        is returned (``job.created`` is False) if it was made from the same spec, and
        ``JobKeyConflictError`` is raised if not. Rerunning a script with the same key therefore
        resumes its job instead of making another one.
        """
        spec = _as_spec(spec)
        unsupported = self.check(spec) or self.backend.check_spec(spec)
        if key is not None:
            check_key(key)
            if Capability.JOB_KEYS not in self.backend.capabilities:
                unsupported.append(Unsupported(
                    self.backend.name, Capability.JOB_KEYS, "job keys", "create_job(key=...)",
                    "drop the key (a rerun then creates a new job), or use a backend that has job keys"))
        if unsupported:
            raise UnsupportedFeatureError(self.backend.name, unsupported)
        if key is not None:
            found = self.backend.find_job(key)
            if found is not None:
                return self._attach(found, spec, key)
            job_id = self.backend.create_job(spec, key=key)
            # a concurrent run may have created the key first, from another spec: never attach silently
            self._attach(job_id, spec, key)
        else:
            job_id = self.backend.create_job(spec)
        log.info("created job %s on %s (%s)%s", job_id, self.backend.name, spec.name,
                 f" with key {key}" if key else "")
        return Job(self.backend, job_id, spec, key=key, created=True)

    def _attach(self, job_id: str, spec: JobSpec, key: str) -> Job:
        stored = self.backend.get_spec(job_id)
        if stored is not None and spec_fingerprint(stored) != spec_fingerprint(spec):
            raise JobKeyConflictError(key, job_id, self.backend.name, spec_differences(stored, spec))
        log.info("job key %s names job %s on %s: attached", key, job_id, self.backend.name)
        return Job(self.backend, job_id, spec, key=key, created=False)

    def job(self, job_id: str, spec: JobSpec | str | Path | None = None) -> Job:
        """A handle on an existing job."""
        return Job(self.backend, str(job_id), _as_spec(spec) if spec is not None else None)

    def jobs(self) -> list[dict[str, Any]]:
        return [dict(j) for j in self.backend.list_jobs()]


def _as_spec(spec: JobSpec | str | Path | dict[str, Any]) -> JobSpec:
    if isinstance(spec, JobSpec):
        return spec
    if isinstance(spec, dict):
        return spec_from_dict(spec)
    return load_spec(spec)


def connect(
    profile: str | None = None,
    *,
    driver: str | None = None,
    config: str | os.PathLike[str] | None = None,
    **options: Any,
) -> Client:
    """A client for a profile of ``annotate.toml``, or for ``driver`` with explicit options.

    ``connect("local")`` works without a config file when no profile has that name but a backend
    does: the backend then runs with its defaults. Options ending in ``_env`` name environment
    variables holding secrets, exactly as in the config file.
    """
    install_log_redaction()
    if driver is None:
        cfg = load_config(config)
        try:
            prof = cfg.profile(profile)
        except ConfigError:
            if profile and profile not in cfg.profiles and (profile in KNOWN_BACKENDS or _installed(profile)):
                prof = Profile(profile, profile)
            else:
                raise
        if options:
            prof = _with_options(prof, options)
    else:
        if profile is not None:
            raise ConfigError("give a profile name or driver=..., not both")
        prof = _with_options(Profile(driver, driver), options)
    cls = get_backend_class(prof.driver)
    resolved = prof.resolve()
    for key, value in resolved.items():
        if key in cls.secret_options and isinstance(value, str):
            register_secret(value)
            raise ConfigError(
                f"option {key!r} of backend {prof.driver!r} is a secret: pass {key}_env='VAR_NAME' "
                "(an environment variable) instead of the value"
            )
    backend = cls(**resolved)
    return Client(backend, prof.name)


def _installed(name: str) -> bool:
    from annotate_core.registry import list_backends

    return any(b.name == name for b in list_backends())


def _with_options(prof: Profile, options: dict[str, Any]) -> Profile:
    plain = dict(prof.options)
    env = dict(prof.secret_env)
    for k, v in options.items():  # an option given here wins over the profile's, plain or from the environment
        if k.endswith("_env"):
            env[k[:-4]] = v
            plain.pop(k[:-4], None)
        else:
            plain[k] = v
            env.pop(k, None)
    return Profile(prof.name, prof.driver, plain, env, prof.problems)
