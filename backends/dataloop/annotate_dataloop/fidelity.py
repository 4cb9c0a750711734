"""Where Dataloop runs a spec with another meaning than the spec's: the plan's warnings.

Each entry names the spec field and says what Dataloop does instead, and why annotate chose it:
a default the vendor (or dtlpy, Dataloop's SDK, whose defaults annotate follows) adds, or a feature
approximated. Refusals are not here: capability gaps are the core's, out-of-range values
``rules.check_spec``'s. ``docs/spec.md`` picks the decisions up from these messages.
"""

from __future__ import annotations

from annotate_core.backend import PlanWarning
from annotate_core.model.fields import FieldType
from annotate_core.model.source import DatasetSource
from annotate_core.model.spec import JobSpec
from annotate_core.model.workflow import Pulling
from annotate_dataloop.options import dataloop_options
from annotate_dataloop.rules import MIN_WORKLOAD_OVER_BATCH, consensus_settings, is_pulling
from annotate_dataloop.wire import BACKEND, DEFAULT_DUE_DAYS


def _warn(path: str, message: str) -> PlanWarning:
    return PlanWarning(path, message, BACKEND)


def plan_warnings(spec: JobSpec) -> list[PlanWarning]:
    """Every place ``spec`` changes meaning on Dataloop (no network; the spec alone decides)."""
    out: list[PlanWarning] = []
    opts = dataloop_options(spec)
    if spec.deadline is None:
        nodes = "every pipeline task node" if spec.pipeline is not None else "the task (and its QA task)"
        out.append(_warn("deadline", f"not set: {nodes} gets dueDate = creation time + {DEFAULT_DUE_DAYS} days, "
                                     "dtlpy's default (Dataloop's SDK never creates a task without a due date); "
                                     "annotate does not set metadata.system.enforceDueDate. Set deadline to "
                                     "choose the date"))
    people = spec.workforce.assignees
    if "distribution" not in spec.model_fields_set:
        if people:
            split = "by their weights" if len({a.weight for a in people}) > 1 else "equally"
            what = f"the items are split up front among workforce.assignees {split} (a fixed workload"
        else:
            what = "the task is created without a workload (no workforce.assignees to split the items among"
        out.append(_warn("distribution", f"not set: {what}, dtlpy's default) instead of the model's default, "
                                         "pulling batches; set distribution {kind: pulling, ...} to pull"))
    if is_pulling(spec):
        d = spec.distribution
        assert isinstance(d, Pulling)
        if len({a.weight for a in people}) > 1:
            out.append(_warn("workforce.assignees", "weights are ignored: a Dataloop pulling task has no "
                                                    "workload; every assignee (allowedAssignees) pulls "
                                                    f"{d.batch_size} items at a time"))
        if d.max_batch_workload is None:
            out.append(_warn("distribution.max_batch_workload",
                             f"not set: annotate sends maxBatchWorkload = batch_size + {MIN_WORKLOAD_OVER_BATCH} = "
                             f"{d.batch_size + MIN_WORKLOAD_OVER_BATCH}, the smallest Dataloop allows"))
    consensus = consensus_settings(spec)
    if consensus is not None and spec.overlap.fraction < 1:
        out.append(_warn("overlap.fraction", f"Dataloop picks which {consensus.percentage}% of the items get "
                                             f"{consensus.assignees} annotators (consensusPercentage), not "
                                             "annotate's stable hash of the item key: which items differs "
                                             "from other backends"))
    if spec.review is not None and spec.review.fraction < 1 and spec.pipeline is None:
        out.append(_warn("review.fraction", "the QA task takes at most ceil(fraction x the task's items) items "
                                            "(its limit), the first ones the gate takes in, not a random sample"))
    if spec.pipeline is not None and spec.review is not None and spec.review.fraction < 1:
        out.append(_warn("review.fraction", "a pipeline's QA node reviews every item that reaches it: the "
                                            "fraction is not applied"))
    for i, f in enumerate(spec.outputs):
        if f.type is FieldType.BOOL:
            out.append(_warn(f"outputs.{i}.type", "bool becomes two labels of the recipe, 'true' and 'false' "
                                                  "(Dataloop classifies with labels); answers come back as booleans"))
    if opts.recipe_id is None:
        out.append(_warn("outputs", "if the dataset's recipe lacks one of the labels, the job uses a recipe of its "
                                    f"own ('{spec.name} (annotate)': an existing one with that title and the "
                                    "labels, else a new ontology and recipe) and makes it the dataset's recipe "
                                    "(PATCH /datasets/{id}?system=true, as dtlpy's dataset.recipes.create does): "
                                    "the dataset's studio then offers the job's labels"))
    if spec.pipeline is None:
        when = ("takes its items and opens to its assignees when it is created" if isinstance(spec.source,
                DatasetSource) else "opens to its assignees when it is created, and items join it as they are "
                                    "added")
        out.append(_warn("source", f"a Dataloop task {when} (tasks have no draft state): work can begin before "
                                   "job.start(), which only reopens a closed task"))
    return out
