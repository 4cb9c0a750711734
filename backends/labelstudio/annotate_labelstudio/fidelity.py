"""Where Label Studio runs a spec with another meaning (plan warnings), and the finer refusals.

Label Studio's open-source edition is an in-house labeling tool: people in your organisation open a
project and label the task its queue (``/api/projects/{id}/next``) hands them, one at a time. Review,
roles, assignees and quality rules are Enterprise features, so specs asking for them are refused by
capability; what runs with a changed meaning is listed here so nothing is reinterpreted silently.
"""

from __future__ import annotations

from annotate_core.backend import PlanWarning
from annotate_core.capabilities import Capability, Unsupported
from annotate_core.model.commercial import Event
from annotate_core.model.interface import ImageView, TextView
from annotate_core.model.spec import JobSpec
from annotate_core.model.workflow import Pulling
from annotate_labelstudio.labeling import RESERVED_FIELDS, object_names
from annotate_labelstudio.settings import BACKEND

#: neutral events -> Label Studio webhook actions; a skip is an annotation too (``was_cancelled``)
WEBHOOK_ACTIONS: dict[Event, tuple[str, ...]] = {
    Event.SUBMITTED: ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED"),
    Event.SKIPPED: ("ANNOTATION_CREATED",),
}
TITLE_MAX = 50
TITLE_MIN = 3


def project_title(spec: JobSpec) -> str:
    """Label Studio titles hold 3-50 characters."""
    title = spec.name.strip()[:TITLE_MAX]
    return title if len(title) >= TITLE_MIN else (title + "...")[:TITLE_MIN]


def check_spec(spec: JobSpec) -> list[Unsupported]:
    out: list[Unsupported] = []
    for i, f in enumerate(spec.inputs):
        if f.name in RESERVED_FIELDS:
            out.append(Unsupported(BACKEND, Capability.UPLOAD_ITEMS, f"input named {f.name!r}", f"inputs.{i}.name",
                                   f"annotate keeps its own data under {f.name!r} in Label Studio tasks: rename "
                                   "the input"))
    if spec.interface is not None and not object_names(spec):
        out.append(Unsupported(
            BACKEND, Capability.INTERFACE, "an interface showing no input", "interface.components",
            "every Label Studio control is tied to a shown input: add an image or text component with a field"))
    for i, hook in enumerate(spec.webhooks):
        for j, event in enumerate(hook.events):
            if event not in WEBHOOK_ACTIONS:
                out.append(Unsupported(
                    BACKEND, Capability.WEBHOOKS, f"webhook event {event.value!r}", f"webhooks.{i}.events.{j}",
                    "Label Studio's webhooks report annotations (submitted, skipped), not "
                    f"{event.value!r}: poll job.progress() for it, or keep only 'submitted' and 'skipped'"))
    return out


def plan_warnings(spec: JobSpec, n_items: int | None = None) -> list[PlanWarning]:
    w: list[PlanWarning] = []

    def warn(path: str, message: str) -> None:
        w.append(PlanWarning(path, message, BACKEND))

    if len(spec.name.strip()) > TITLE_MAX or len(spec.name.strip()) < TITLE_MIN:
        warn("name", f"Label Studio titles hold 3-50 characters: the project is titled {project_title(spec)!r}")
    d = spec.distribution
    if isinstance(d, Pulling) and d.batch_size != 1:
        warn("distribution.batch_size", f"Label Studio hands out one task at a time, not batches of {d.batch_size}; "
             "answers carry one task each (assignment = the annotation)")
    warn("distribution", "any member of the Label Studio organisation can label the project (the open-source "
         "edition has no roles or assignees); the project's queue (/next) enforces overlap, but labeling a task "
         "opened directly from the Data Manager can exceed it")
    if spec.overlap.count > 1:
        warn("overlap.count", f"maximum_annotations = {spec.overlap.count}: enforced by Label Studio's labeling "
             "queue only, and skips (cancelled annotations) do not count toward it")
    warn("state", "the open-source edition has no closed projects: job.start() publishes the project and "
         "job.close() unpublishes it and marks it closed for annotate, but people who open it can still label")
    warn("golden", "golden answers are kept in each task's data (hidden field _annotate_golden), not as "
         "ground-truth annotations: in the open-source edition a ground-truth annotation by the requester takes "
         "one of the task's maximum_annotations (with overlap 1 a golden task would never reach an annotator); "
         "annotators who browse the Data Manager can see task data")
    if spec.interface is not None:
        for i, c in enumerate(spec.interface.components):
            if isinstance(c, ImageView) and c.ratio is not None:
                warn(f"interface.components.{i}.ratio", "Label Studio sizes images itself: the ratio is not applied")
            if isinstance(c, TextView) and c.content:
                warn(f"interface.components.{i}.content", "static text is shown as a header, without markdown")
        if not spec.interface.hotkeys:
            warn("interface.hotkeys", "Label Studio keeps its keyboard shortcuts (each annotator can turn them off "
                 "in their settings)")
    if spec.instructions:
        warn("instructions", "shown as the project's instructions (expert_instruction, HTML), before labeling")
    for i, hook in enumerate(spec.webhooks):
        if Event.SKIPPED in hook.events or Event.SUBMITTED in hook.events:
            warn(f"webhooks.{i}", "Label Studio sends ANNOTATION_CREATED for submits and skips alike (a skip is an "
                 "annotation with was_cancelled); it refuses URLs on loopback or private networks and ones it "
                 "cannot resolve (SSRF protection)")
    return w
