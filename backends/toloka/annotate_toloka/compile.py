"""A whole job spec compiled into the Toloka objects it needs, without any network call.

``compile_spec`` is the single place that decides what ``plan`` shows and ``create_job`` sends:
both use the same bodies, so a plan is exactly what creation would do. Everything Toloka cannot
express is collected while compiling and refused at once (``UnsupportedFeatureError``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from annotate_core.capabilities import Capability
from annotate_core.model.spec import JobSpec
from annotate_core.stored_spec import spec_to_json
from annotate_toloka.context import TRAINING_ID, Context
from annotate_toloka.pool import pool_body, training_body, webhook_bodies
from annotate_toloka.project import project_body
from annotate_toloka.tasks import TaskBuilder

Json = dict[str, Any]


@dataclass
class Compiled:
    """Request bodies with placeholders (``<project_id>``, ``<training_id>``, ``<skill:name>``)."""

    spec: JobSpec
    skills: list[str]
    project: Json
    pool: Json
    training: Json | None = None
    training_tasks: list[Json] = field(default_factory=list)
    webhooks: list[Json] = field(default_factory=list)
    task_suites: bool = False
    notes: list[str] = field(default_factory=list)
    approximations: list[tuple[str, str]] = field(default_factory=list)


def spec_json(spec: JobSpec) -> str:
    """The spec as compact JSON, stored in the pool's metadata for ``get_spec``: lossless
    (``spec_to_json``), so an explicit null such as a permanent ban reads back as written."""
    return spec_to_json(spec)


def compile_spec(spec: JobSpec, now: datetime, *, store_spec: bool = True) -> Compiled:
    """Every body creation would send; raises ``UnsupportedFeatureError`` listing all refusals."""
    ctx = Context(spec, now)
    if ctx.task_suites and spec.overlap.count > 1 and spec.overlap.fraction < 1:
        ctx.refuse(Capability.PARTIAL_OVERLAP, "overlap on a fraction of items with task suites",
                   "overlap.fraction", "task suites share one overlap: drop options.toloka.task_suites or "
                   "set overlap.fraction to 1")
    project = project_body(spec)
    training = training_body(ctx)
    pool = pool_body(ctx, spec_json(spec) if store_spec else None)
    webhooks = webhook_bodies(ctx)
    ctx.raise_problems()
    training_tasks: list[Json] = []
    if spec.training is not None:
        builder = TaskBuilder(TRAINING_ID, spec.overlap, training=True)
        training_tasks = [builder.task(item) for item in spec.training.items]
    return Compiled(spec, list(ctx.skills), project, pool, training, training_tasks, webhooks,
                    ctx.task_suites, ctx.notes, ctx.approximations)
