"""Client-side checks of what Dataloop accepts, run at plan time and before any request.

dtlpy documents the pulling limits but never enforces them (reference §3.6, §6.10), and the gate's
own reaction is unknown, so annotate refuses out-of-range values itself with the limits in the
message. Capability gaps are not checked here: the core refuses those from ``capabilities``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from annotate_core.errors import SpecError
from annotate_core.model.fields import FieldType
from annotate_core.model.spec import JobSpec
from annotate_core.model.workflow import Pulling

#: batch size limits of a pulling task [K repositories/tasks.py docstrings; seed 004]
MIN_BATCH_SIZE = 3
MAX_BATCH_SIZE = 100
#: max_batch_workload is at least batch_size + 2 and at most 2 x batch_size [same sources]
MIN_WORKLOAD_OVER_BATCH = 2
MAX_WORKLOAD_FACTOR = 2


@dataclass(frozen=True)
class PullingSettings:
    batch_size: int
    max_batch_workload: int


@dataclass(frozen=True)
class ConsensusSettings:
    percentage: int  # share of the task's items copied to several annotators, 0-100
    assignees: int  # annotators per consensus item, >= 2


def is_pulling(spec: JobSpec) -> bool:
    """Whether the task is a pulling task: only when the spec says ``distribution: {kind: pulling}``.

    ``Pulling`` is the neutral model's default distribution, but a spec that does not choose one gets
    dtlpy's default instead: a fixed workload split among ``workforce.assignees`` (equal weights give
    dtlpy's equal split, ``Workload.generate``) [K repositories/tasks.py:create]. The plan warns about
    it (``fidelity.plan_warnings``, path ``distribution``).
    """
    return isinstance(spec.distribution, Pulling) and "distribution" in spec.model_fields_set


def pulling_settings(spec: JobSpec) -> PullingSettings | None:
    """batchSize and maxBatchWorkload, validated against Dataloop's limits."""
    if not is_pulling(spec):
        return None
    d = spec.distribution
    assert isinstance(d, Pulling)
    b = d.batch_size
    if not MIN_BATCH_SIZE <= b <= MAX_BATCH_SIZE:
        raise SpecError(
            f"distribution.batch_size: Dataloop pulling batches hold {MIN_BATCH_SIZE} to {MAX_BATCH_SIZE} "
            f"items, got {b}"
        )
    low, high = b + MIN_WORKLOAD_OVER_BATCH, b * MAX_WORKLOAD_FACTOR
    workload = d.max_batch_workload if d.max_batch_workload is not None else low
    if not low <= workload <= high:
        raise SpecError(
            f"distribution.max_batch_workload: with batch_size {b} Dataloop allows {low} to {high} "
            f"(batch_size + {MIN_WORKLOAD_OVER_BATCH} .. {MAX_WORKLOAD_FACTOR} x batch_size), got {workload}"
        )
    return PullingSettings(b, workload)


def consensus_settings(spec: JobSpec) -> ConsensusSettings | None:
    """consensusPercentage / consensusAssignees from ``overlap``; None without overlap."""
    ov = spec.overlap
    if ov.count < 2:
        return None
    if isinstance(spec.distribution, Pulling) and "distribution" in spec.model_fields_set:
        raise SpecError(
            "overlap: Dataloop cannot run consensus as a pulling task (the gate answers "
            "'Consensus can not work as a pulling task'); set distribution kind 'fixed'"
        )
    percentage = max(1, min(100, math.floor(ov.fraction * 100 + 0.5)))
    return ConsensusSettings(percentage, ov.count)


def check_outputs(spec: JobSpec) -> None:
    """Labels are classification annotations: the output needs a finite set of values."""
    for i, f in enumerate(spec.outputs):
        if f.type not in (FieldType.LABEL, FieldType.LABELS, FieldType.BOOL):
            raise SpecError(
                f"outputs.{i}.type: Dataloop tasks collect classification labels; expected label, labels "
                f"or bool, got {f.type.value!r}"
            )


def check_statuses(spec: JobSpec) -> None:
    """Custom statuses are a task-create setting; a pipeline's task nodes have no place for them.

    ``dl.TaskNode`` carries only action *names* on its output port (``outputs[0].actions``), which
    annotate uses to connect the nodes; display names and colours have no field in the node JSON and
    whether the gate gives the node's task those names as statuses is unverified (reference §3.14).
    """
    from annotate_dataloop.options import dataloop_options

    if spec.pipeline is not None and dataloop_options(spec).statuses:
        raise SpecError(
            "options.dataloop.statuses: custom statuses apply to the annotation task annotate creates, but this "
            "spec has a pipeline; Dataloop pipeline task nodes take no availableActions (only action names on "
            "the node's output port, used for its connections). Remove options.dataloop.statuses or the pipeline"
        )


def check_spec(spec: JobSpec) -> None:
    """Every Dataloop-specific limit, raised as one SpecError naming the field (no network)."""
    from annotate_dataloop.options import dataloop_options

    check_outputs(spec)
    dataloop_options(spec)
    check_statuses(spec)
    pulling_settings(spec)
    consensus_settings(spec)
