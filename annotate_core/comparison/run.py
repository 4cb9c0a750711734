"""Run the same spec on several profiles and collect each job for comparison.

Two tables of a profile are read by the comparison, not by the backend, and are taken out of the
profile before connecting:

- ``simulate``: the simulated workforce of a rehearsal (``simulate = {workers = 40, accuracy = 0.7,
  spammers = 0.2}``), passed to ``job.simulate(...)`` when ``simulate=True``;
- ``spec_overrides``: top-level spec fields this profile runs with instead of the spec's, each one
  replaced whole (``spec_overrides = {pricing = {reward_per_batch = 0.02}}``): what differs between
  vendors for the same work, typically the price.

Profiles whose backend cannot simulate are refused up front in simulate mode: a rehearsal must never
start a paid job on a real vendor by accident.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotate_core.capabilities import Capability, check
from annotate_core.client import Client, connect
from annotate_core.comparison.collect import JobData, collect
from annotate_core.config import Profile, load_config
from annotate_core.errors import ConfigError, ItemsRejectedError, UnsupportedFeatureError
from annotate_core.items import UploadReport, iter_rows, split_truth
from annotate_core.items_check import check_items
from annotate_core.model.spec import JobSpec
from annotate_core.phases import phase
from annotate_core.registry import get_backend_class
from annotate_core.specfile import spec_from_dict

log = logging.getLogger(__name__)

SIMULATE_KEY = "simulate"
OVERRIDES_KEY = "spec_overrides"
COMPARE_KEYS = (SIMULATE_KEY, OVERRIDES_KEY)


@dataclass
class ProfileTarget:
    """A profile resolved for a comparison run: how to connect, and its simulated workforce."""

    name: str
    profile: Profile
    simulate: dict[str, Any] = field(default_factory=dict)
    spec_overrides: dict[str, Any] = field(default_factory=dict)

    def spec_for(self, spec: JobSpec) -> JobSpec:
        """The spec with this profile's overrides (validated: a bad value names the profile and field)."""
        if not self.spec_overrides:
            return spec
        data = spec.model_dump(by_alias=True, exclude_unset=True)
        data.update(self.spec_overrides)
        return spec_from_dict(data, source=f"profiles.{self.name}.{OVERRIDES_KEY}")

    def connect(self) -> Client:
        opts = {k: v for k, v in self.profile.options.items() if k not in COMPARE_KEYS}
        opts.update({f"{k}_env": v for k, v in self.profile.secret_env.items()})
        client = connect(driver=self.profile.driver, **opts)
        client.profile = self.name
        return client


def resolve_profiles(names: Sequence[str], *, config: str | os.PathLike[str] | None = None,
                     simulate: bool = False, spec: JobSpec | None = None) -> list[ProfileTarget]:
    """Look up every profile (a bare backend name works as in ``connect``) and check it can run.

    With ``simulate``, every profile's backend must have a simulated workforce. With ``spec``, each
    profile's version of it (overrides applied) must be valid and within its backend's capabilities.
    All of this is checked before the first job is created.
    """
    if len(set(names)) != len(names):
        raise ConfigError(f"profiles: each profile once, got {list(names)}")
    cfg = load_config(config)
    out: list[ProfileTarget] = []
    for name in names:
        prof = cfg.profiles[name].check() if name in cfg.profiles else Profile(name, name)
        sim = prof.options.get(SIMULATE_KEY) or {}
        if not isinstance(sim, Mapping):
            raise ConfigError(f"profiles.{name}.{SIMULATE_KEY}: expected a table such as "
                              "{workers = 40, accuracy = 0.7}")
        overrides = prof.options.get(OVERRIDES_KEY) or {}
        if not isinstance(overrides, Mapping):
            raise ConfigError(f"profiles.{name}.{OVERRIDES_KEY}: expected a table of spec fields such as "
                              "{pricing = {reward_per_batch = 0.02}}")
        if simulate:
            cls = get_backend_class(prof.driver)
            if Capability.SIMULATION not in cls.capabilities:
                raise ConfigError(
                    f"--simulate: profile {name!r} (backend {prof.driver!r}) has no simulated workforce; "
                    "compare it by job id once it has run, or drop it from a rehearsal"
                )
        target = ProfileTarget(name, prof, dict(sim), dict(overrides))
        if spec is not None:
            cls = get_backend_class(prof.driver)
            unsupported = check(target.spec_for(spec), cls.name or prof.driver, cls.capabilities, cls.hints)
            if unsupported:
                raise UnsupportedFeatureError(cls.name or prof.driver, unsupported)
        out.append(target)
    return out


@dataclass
class ItemsWithTruth:
    """Items to upload, and the hidden true answers taken out of their ``truth:<output>`` columns.

    The true answers never reach a backend's workers: a simulator gets them (``set_truth`` or the
    ``truth=`` workforce setting) and the comparison measures accuracy against them.
    """

    rows: list[dict[str, Any]]
    truth: dict[str, dict[str, Any]]

    def labels(self, output: str) -> dict[str, Any]:
        return {k: v[output] for k, v in self.truth.items() if output in v}


def read_items(path: str | Path) -> ItemsWithTruth:
    """Rows of a CSV/TSV/JSONL items file (cells as text), with ``truth:*`` columns split off."""
    try:
        rows, truth = split_truth(iter_rows(path))
    except ValueError as exc:
        raise ConfigError(f"items: {exc}") from None
    return ItemsWithTruth(rows, truth)


def items_for(spec: JobSpec, items: str | Path | ItemsWithTruth | None) -> ItemsWithTruth:
    if isinstance(items, ItemsWithTruth):
        return items
    path = items if items is not None else getattr(spec.source, "path", None)
    if not path:
        raise ConfigError("items: give --items FILE, or a spec whose source names an items file")
    return read_items(path)


def run_profile(target: ProfileTarget, spec: JobSpec, items: str | Path | ItemsWithTruth | None, *,
                simulate: bool, seed: int | None = None, timeout: float | None = None, poll_interval: float = 30.0,
                progress: bool = True, sleep: Callable[[float], None] | None = None) -> JobData:
    """Create the job on one profile, add the items, start it, (simulate,) wait, and collect it."""
    data = items_for(spec, items)
    spec = target.spec_for(spec)
    checked = check_items(spec, data.rows)  # every row valid before a job exists on any vendor
    if checked.errors:
        raise ItemsRejectedError(UploadReport(errors=checked.errors, rejected=checked.rejected, uploaded=False))
    client = target.connect()
    try:
        job = client.create_job(spec)
        log.info("profile %s: job %s created", target.name, job.id)
        job.add_items(checked, progress=progress)
        with phase(f"{target.name}: starting job {job.id}", enabled=progress):
            job.start()
        summary: Mapping[str, Any] = {}
        if simulate:
            workforce = dict(target.simulate)
            if seed is not None:
                workforce.setdefault("seed", seed)
            if data.truth:
                set_truth = getattr(client.backend, "set_truth", None)
                if callable(set_truth):
                    set_truth(job.id, data.truth)
                else:
                    workforce.setdefault("truth", data.truth)
            try:
                summary = job.simulate(**workforce)
            except TypeError as exc:
                raise ConfigError(f"profiles.{target.name}.{SIMULATE_KEY}: {exc}") from None
        wait_kw: dict[str, Any] = {"timeout": timeout, "poll_interval": poll_interval, "progress": progress}
        if sleep is not None:
            wait_kw["sleep"] = sleep
        job.wait(**wait_kw)
        with phase(f"{target.name}: reading the answers of job {job.id}", enabled=progress):
            return collect(job, name=target.name, profile=target.name, spec=spec, simulation=summary or {})
    finally:
        client.close()


def run_profiles(spec: JobSpec, names: Sequence[str], *, items: str | Path | ItemsWithTruth | None = None,
                 simulate: bool = False,
                 config: str | os.PathLike[str] | None = None, seed: int | None = None,
                 timeout: float | None = None, poll_interval: float = 30.0, progress: bool = True) -> list[JobData]:
    """The same spec on each profile, one after the other; each job collected for comparison."""
    targets = resolve_profiles(names, config=config, simulate=simulate, spec=spec)
    data = items_for(spec, items)
    return [run_profile(t, spec, data, simulate=simulate, seed=seed, timeout=timeout,
                        poll_interval=poll_interval, progress=progress) for t in targets]
