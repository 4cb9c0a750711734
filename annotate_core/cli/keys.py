"""How ``annotate run`` names its job: the job key that lets the same command resume its job.

By default the key is derived from what the run is made of (the spec, the bytes of the items file,
and with ``--simulate`` the simulated crowd's settings), so rerunning the same command after a crash,
a Ctrl-C or a ``kill -9`` attaches to the job it started instead of making another one. ``--job-key``
names it explicitly; ``--new-job`` starts a fresh job under a new key that is printed for resuming.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from annotate_core.capabilities import Capability
from annotate_core.client import Client
from annotate_core.jobkeys import check_key, derive_key, spec_fingerprint
from annotate_core.model.spec import JobSpec


def file_digest(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run_key(client: Client, spec: JobSpec, items_path: str | Path, *, job_key: str | None, new_job: bool,
            simulation: Mapping[str, Any] | None) -> str | None:
    """The key ``annotate run`` creates or attaches with, or None when the backend has no job keys."""
    if job_key is not None and new_job:
        raise click.UsageError("give --job-key or --new-job, not both")
    if Capability.JOB_KEYS not in client.backend.capabilities:
        if job_key is not None:
            return job_key  # create_job refuses it with the backend's name and what to do instead
        return None
    if job_key is not None:
        return check_key(job_key)
    sim = "" if simulation is None else repr(sorted((k, v) for k, v in simulation.items() if k != "progress"))
    key = derive_key("run", spec_fingerprint(spec), file_digest(items_path), sim)
    return f"{key}-{secrets.token_hex(4)}" if new_job else key
