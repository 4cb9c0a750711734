"""JobSpec: the whole vendor-neutral description of an annotation job."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import Field, model_validator

from annotate_core.model.base import SpecModel
from annotate_core.model.commercial import Limits, Pricing, Webhook
from annotate_core.model.fields import CHOICE_TYPES, INPUT_TYPES, DataField, FieldType
from annotate_core.model.interface import (
    VIEW_KINDS,
    CheckboxGroup,
    Component,
    Dropdown,
    ImageView,
    Interface,
    RadioGroup,
    TextInput,
    TextView,
)
from annotate_core.model.quality import Quality
from annotate_core.model.source import ItemsSource, Source
from annotate_core.model.workflow import (
    Distribution,
    Fixed,
    Overlap,
    Pipeline,
    Pulling,
    Review,
    Training,
)
from annotate_core.model.workforce import Workforce

_ANSWER_KIND_FOR = {
    FieldType.LABEL: {"radio", "dropdown"},
    FieldType.LABELS: {"checkbox"},
    FieldType.FREE_TEXT: {"text_input"},
    FieldType.TEXT: {"text_input"},
    FieldType.NUMBER: {"text_input"},
    FieldType.JSON: {"text_input"},
    FieldType.BOOL: {"radio", "dropdown", "checkbox"},
    FieldType.URL: {"text_input"},
    FieldType.IMAGE: {"text_input"},
}


class JobSpec(SpecModel):
    """A job, independent of any vendor. Immutable: derive variants with ``model_copy(update=...)``."""

    name: str = Field(min_length=1, max_length=200, description=(
        "The job's title: how you find it in `annotate jobs` and on the vendor (Toloka: project and pool name; "
        "Dataloop: task name; local: the default project)."))
    description: str = Field("", description=(
        "A short public summary for workers choosing work (Toloka: the project description; the name when empty)."))
    instructions: str = Field("", description=(
        "What workers must do, shown alongside the items (Toloka: the project's instructions; local: returned "
        "with every pulled batch); the main lever on answer quality."))
    inputs: tuple[DataField, ...] = Field(min_length=1, description=(
        "What each item carries (image URL, text, ...): every item gives a value for each required input."))
    outputs: tuple[DataField, ...] = Field(min_length=1, description=(
        "What workers answer: the answer columns, and what aggregation (`job.results`) combines."))
    interface: Interface | None = Field(None, description=(
        "What a worker sees, when the default (view each input, answer each output) is not enough; omit to "
        "derive one from the fields."))
    source: Source = Field(ItemsSource(), description=(
        "Where the items come from: uploaded with `job.add_items` (`items`), or already in a vendor dataset "
        "(`dataset`)."))
    workforce: Workforce = Field(Workforce(), description=(
        "Who may work: named people, a filtered crowd, or (empty) anyone the backend offers."))
    distribution: Distribution = Field(Pulling(), description=(
        "How items reach workers: pulled in batches as people ask for work (`pulling`), or split up front "
        "among the named assignees (`fixed`, which needs `workforce.assignees`)."))
    overlap: Overlap = Field(Overlap(), description=(
        "How many different workers answer each item: more than one lets aggregation outvote mistakes, at "
        "that many times the cost."))
    training: Training | None = Field(None, description=(
        "A qualification workers pass before the real items, so people who misread the task never reach "
        "them."))
    quality: Quality = Field(Quality(), description=(
        "Automatic quality control: rules that ban or reject workers whose recent work looks careless, and "
        "captchas."))
    review: Review | None = Field(None, description=(
        "Human QA: a share of the submitted work is checked and accepted or rejected by reviewers."))
    pricing: Pricing | None = Field(None, description=(
        "What workers are paid per batch; needed by paid crowds (Toloka), refused by backends that do not pay "
        "per batch."))
    limits: Limits = Field(Limits(), description=(
        "Caps per worker and per assignment, so a few fast workers cannot dominate the answers and abandoned "
        "work returns to the queue."))
    deadline: datetime | timedelta | None = Field(
        None, description="When the job stops taking work: a date-time, or a duration (ISO 8601, e.g. P365D) "
        "counted from the job's creation.",
    )
    adult_content: bool = Field(False, description=(
        "The items may contain adult content: crowd platforms then show them only to workers who agreed to see "
        "it."))
    webhooks: tuple[Webhook, ...] = Field((), description=(
        "HTTPS endpoints told about job events as they happen, instead of polling `job.progress()`."))
    pipeline: Pipeline | None = Field(None, description=(
        "Several stages (annotate, review, aggregate) run as one job; omit for a single annotation stage."))
    options: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Backend-specific extras keyed by backend name; ignored by other backends.",
    )

    # ---- cross-field rules ------------------------------------------------------------------

    @model_validator(mode="after")
    def _consistent(self) -> JobSpec:
        names = [f.name for f in self.inputs] + [f.name for f in self.outputs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"field names must be unique across inputs and outputs, repeated: {dup}")
        for f in self.inputs:
            if f.type not in INPUT_TYPES:
                raise ValueError(
                    f"inputs.{f.name}: type {f.type.value!r} is an answer type; inputs take "
                    f"{sorted(t.value for t in INPUT_TYPES)}"
                )
        if self.interface is not None:
            self._check_interface(self.interface)
        if isinstance(self.distribution, Fixed) and not self.workforce.assignees:
            raise ValueError("distribution 'fixed' needs workforce.assignees to split the items among")
        n_assignees = len(self.workforce.assignees)
        if isinstance(self.distribution, Fixed) and self.overlap.count > n_assignees > 0:
            raise ValueError(
                f"overlap.count ({self.overlap.count}) exceeds the {n_assignees} "
                "assignees: each item needs that many different workers"
            )
        return self

    def _check_interface(self, interface: Interface) -> None:
        inputs = {f.name: f for f in self.inputs}
        outputs = {f.name: f for f in self.outputs}
        answered: set[str] = set()
        for i, c in enumerate(interface.components):
            where = f"interface.components.{i}"
            if c.kind in VIEW_KINDS:
                if c.field is not None and c.field not in inputs:
                    raise ValueError(f"{where}.field: {c.field!r} is not an input field")
                continue
            if c.field not in outputs:
                raise ValueError(f"{where}.field: {c.field!r} is not an output field")
            allowed = _ANSWER_KIND_FOR[outputs[c.field].type]
            if c.kind not in allowed:
                raise ValueError(
                    f"{where}.kind: {c.kind!r} cannot answer a {outputs[c.field].type.value!r} field; "
                    f"use {sorted(allowed)}"
                )
            answered.add(c.field)
        missing = [n for n in outputs if n not in answered]
        if missing:
            raise ValueError(f"interface: no component answers output field(s) {missing}")

    # ---- derived views ----------------------------------------------------------------------

    def effective_interface(self) -> Interface:
        """The spec's interface, or one derived from the fields (view each input, answer each output)."""
        if self.interface is not None:
            return self.interface
        comps: list[Component] = []
        for f in self.inputs:
            comps.append(ImageView(field=f.name) if f.type is FieldType.IMAGE else TextView(field=f.name))
        for f in self.outputs:
            if f.type is FieldType.LABEL:
                comps.append(RadioGroup(field=f.name, label=f.description))
            elif f.type is FieldType.LABELS:
                comps.append(CheckboxGroup(field=f.name, label=f.description))
            elif f.type is FieldType.BOOL:
                comps.append(Dropdown(field=f.name, label=f.description))
            else:
                comps.append(TextInput(field=f.name, label=f.description))
        return Interface(components=tuple(comps))

    def deadline_at(self, created: datetime | None = None) -> datetime | None:
        """The absolute deadline (UTC) of a job created at ``created`` (default: now)."""
        if self.deadline is None:
            return None
        if isinstance(self.deadline, timedelta):
            return (created or datetime.now(timezone.utc)) + self.deadline
        d = self.deadline
        return d if d.tzinfo else d.replace(tzinfo=timezone.utc)

    def input(self, name: str) -> DataField:
        return next(f for f in self.inputs if f.name == name)

    def output(self, name: str) -> DataField:
        return next(f for f in self.outputs if f.name == name)

    @property
    def batch_size(self) -> int:
        return self.distribution.batch_size if isinstance(self.distribution, Pulling) else 1

    @property
    def choice_outputs(self) -> tuple[DataField, ...]:
        return tuple(f for f in self.outputs if f.type in CHOICE_TYPES)


__all__ = ["JobSpec", "Pipeline", "Review", "Training"]
