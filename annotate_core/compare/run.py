"""Run the same spec on several profiles and collect each job for comparison.

A profile's ``simulate`` table (``simulate = {workers = 40, accuracy = 0.7, spammers = 0.2}``) holds
the simulated workforce of a rehearsal: it is not a backend option, so it is taken out of the
profile before connecting and passed to ``job.simulate(...)`` when ``simulate=True``. Profiles whose
backend cannot simulate are refused up front in that mode: a rehearsal must never start a paid job
on a real vendor by accident.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotate_core.capabilities import Capability
from annotate_core.client import Client, connect
from annotate_core.compare.collect import JobData, collect
from annotate_core.config import Profile, load_config
from annotate_core.errors import ConfigError
from annotate_core.model.spec import JobSpec
from annotate_core.registry import get_backend_class

log = logging.getLogger(__name__)

SIMULATE_KEY = "simulate"


@dataclass
class ProfileTarget:
    """A profile resolved for a comparison run: how to connect, and its simulated workforce."""

    name: str
    profile: Profile
    simulate: dict[str, Any] = field(default_factory=dict)

    def connect(self) -> Client:
        opts = {k: v for k, v in self.profile.options.items() if k != SIMULATE_KEY}
        opts.update({f"{k}_env": v for k, v in self.profile.secret_env.items()})
        client = connect(driver=self.profile.driver, **opts)
        client.profile = self.name
        return client


def resolve_profiles(names: Sequence[str], *, config: str | os.PathLike[str] | None = None,
                     simulate: bool = False) -> list[ProfileTarget]:
    """Look up every profile (a bare backend name works as in ``connect``) and check it can run.

    With ``simulate``, every profile's backend must have a simulated workforce.
    """
    if len(set(names)) != len(names):
        raise ConfigError(f"profiles: each profile once, got {list(names)}")
    cfg = load_config(config)
    out: list[ProfileTarget] = []
    for name in names:
        prof = cfg.profiles.get(name) or Profile(name, name)
        sim = prof.options.get(SIMULATE_KEY) or {}
        if not isinstance(sim, Mapping):
            raise ConfigError(f"profiles.{name}.{SIMULATE_KEY}: expected a table such as "
                              "{workers = 40, accuracy = 0.7}")
        if simulate:
            cls = get_backend_class(prof.driver)
            if Capability.SIMULATION not in cls.capabilities:
                raise ConfigError(
                    f"--simulate: profile {name!r} (backend {prof.driver!r}) has no simulated workforce; "
                    "compare it by job id once it has run, or drop it from a rehearsal"
                )
        out.append(ProfileTarget(name, prof, dict(sim)))
    return out


def run_profile(target: ProfileTarget, spec: JobSpec, items: str | Path | None, *, simulate: bool,
                seed: int | None = None, timeout: float | None = None, poll_interval: float = 30.0,
                progress: bool = True, sleep: Callable[[float], None] | None = None) -> JobData:
    """Create the job on one profile, add the items, start it, (simulate,) wait, and collect it."""
    client = target.connect()
    try:
        job = client.create_job(spec)
        log.info("profile %s: job %s created", target.name, job.id)
        job.add_items(items if items is not None else _items_from_spec(spec), progress=progress)
        job.start()
        summary: Mapping[str, Any] = {}
        if simulate:
            workforce = dict(target.simulate)
            if seed is not None:
                workforce.setdefault("seed", seed)
            try:
                summary = job.simulate(**workforce)
            except TypeError as exc:
                raise ConfigError(f"profiles.{target.name}.{SIMULATE_KEY}: {exc}") from None
        wait_kw: dict[str, Any] = {"timeout": timeout, "poll_interval": poll_interval, "progress": progress}
        if sleep is not None:
            wait_kw["sleep"] = sleep
        job.wait(**wait_kw)
        return collect(job, name=target.name, profile=target.name, spec=spec, simulation=summary or {})
    finally:
        client.close()


def _items_from_spec(spec: JobSpec) -> str:
    path = getattr(spec.source, "path", None)
    if not path:
        raise ConfigError("items: give --items FILE, or a spec whose source names an items file")
    return str(path)


def run_profiles(spec: JobSpec, names: Sequence[str], *, items: str | Path | None = None, simulate: bool = False,
                 config: str | os.PathLike[str] | None = None, seed: int | None = None,
                 timeout: float | None = None, poll_interval: float = 30.0, progress: bool = True) -> list[JobData]:
    """The same spec on each profile, one after the other; each job collected for comparison."""
    targets = resolve_profiles(names, config=config, simulate=simulate)
    return [run_profile(t, spec, items, simulate=simulate, seed=seed, timeout=timeout,
                        poll_interval=poll_interval, progress=progress) for t in targets]
