"""Who may work on a job: named assignees, or a crowd selected by an and/or tree of filters."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal, Union

from pydantic import Field, model_validator

from annotate_core.model.base import SpecModel


class Op(str, Enum):
    """How a worker's attribute is compared: ``eq`` ``ne`` ``gt`` ``gte`` ``lt`` ``lte`` with one value,
    ``in`` / ``not_in`` with a list."""

    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    IN = "in"
    NOT_IN = "not_in"


class Attribute(str, Enum):
    """Worker attributes a crowd filter can test: ``languages`` (ISO 639-1 codes, e.g. EN),
    ``region_by_ip`` (ISO 3166 country codes, e.g. US), ``region`` (from the worker's profile), ``country``,
    ``citizenship``, ``skill`` (needs ``skill``), ``client_type`` (``browser`` or ``app``), ``accepted_count``
    (accepted assignments over the worker's history), ``submit_time_rate`` (mean seconds per assignment),
    ``rating``, ``gender``, ``age``, ``education``."""

    LANGUAGES = "languages"  # ISO 639-1 codes, e.g. EN
    REGION_BY_IP = "region_by_ip"  # ISO 3166 country codes, e.g. US
    REGION = "region"  # from the worker's profile
    COUNTRY = "country"
    CITIZENSHIP = "citizenship"
    SKILL = "skill"  # needs `skill`
    CLIENT_TYPE = "client_type"  # browser | app
    ACCEPTED_COUNT = "accepted_count"  # accepted assignments over the worker's history
    SUBMIT_TIME_RATE = "submit_time_rate"  # mean seconds per assignment
    RATING = "rating"
    GENDER = "gender"
    AGE = "age"
    EDUCATION = "education"


_SET_ATTRIBUTES = {
    Attribute.LANGUAGES, Attribute.REGION_BY_IP, Attribute.REGION, Attribute.COUNTRY,
    Attribute.CITIZENSHIP, Attribute.CLIENT_TYPE, Attribute.GENDER, Attribute.EDUCATION,
}
_NUMERIC_ATTRIBUTES = {
    Attribute.SKILL, Attribute.ACCEPTED_COUNT, Attribute.SUBMIT_TIME_RATE, Attribute.RATING,
    Attribute.AGE,
}


class Condition(SpecModel):
    """One test on a worker attribute, e.g. ``{attribute: skill, skill: s1, op: gt, value: 80}``."""

    attribute: Attribute = Field(description="The worker attribute tested.")
    op: Op = Field(description="How it is compared with `value`: order ops on numbers, `in` / `not_in` with lists.")
    value: Any = Field(description="A scalar, or a list with `in` / `not_in`.")
    skill: str | None = Field(None, description="Skill name or id, for attribute `skill`.")

    @model_validator(mode="after")
    def _consistent(self) -> Condition:
        a, op, v = self.attribute, self.op, self.value
        if a is Attribute.SKILL and not self.skill:
            raise ValueError("attribute 'skill' needs `skill` (the skill's name or id)")
        if a is not Attribute.SKILL and self.skill:
            raise ValueError("`skill` is only allowed with attribute 'skill'")
        if op in (Op.IN, Op.NOT_IN):
            if not isinstance(v, list | tuple) or not v:
                raise ValueError(f"op {op.value!r} expects a non-empty list of values")
        elif isinstance(v, list | tuple):
            raise ValueError(f"op {op.value!r} expects a single value, not a list")
        if a in _NUMERIC_ATTRIBUTES and op not in (Op.IN, Op.NOT_IN) and not isinstance(v, int | float):
            raise ValueError(f"attribute {a.value!r} expects a number, got {v!r}")
        if a in _SET_ATTRIBUTES and op in (Op.GT, Op.GTE, Op.LT, Op.LTE) and a is not Attribute.EDUCATION:
            raise ValueError(f"attribute {a.value!r} cannot be compared with {op.value!r}")
        if a is Attribute.CLIENT_TYPE:
            values = v if isinstance(v, list | tuple) else [v]
            bad = [x for x in values if x not in ("browser", "app")]
            if bad:
                raise ValueError(f"client_type expects 'browser' or 'app', got {bad}")
        return self

    @property
    def values(self) -> tuple[Any, ...]:
        return tuple(self.value) if isinstance(self.value, list | tuple) else (self.value,)


class AllOf(SpecModel):
    """Every sub-filter must hold (logical and)."""

    all: tuple[Filter, ...] = Field(min_length=1, description=(
        "Sub-filters (conditions, `all` or `any`) that must all hold."))


class AnyOf(SpecModel):
    """At least one sub-filter must hold (logical or)."""

    any: tuple[Filter, ...] = Field(min_length=1, description="Sub-filters of which at least one must hold.")


Filter = Annotated[Union[AllOf, AnyOf, Condition], Field(union_mode="smart")]  # noqa: UP007
AllOf.model_rebuild()
AnyOf.model_rebuild()


def iter_conditions(f: Filter | None):
    """Every leaf condition of a filter tree, depth first."""
    if f is None:
        return
    if isinstance(f, Condition):
        yield f
    else:
        for sub in f.all if isinstance(f, AllOf) else f.any:
            yield from iter_conditions(sub)


class Assignee(SpecModel):
    """A named worker (email or vendor user id) and their share of a fixed workload."""

    id: str = Field(min_length=1, description="E-mail or vendor user id of the person.")
    weight: float = Field(1.0, gt=0, description=(
        "Relative share of a fixed workload (weights 2 and 1: two thirds and one third of the items)."))


class Workforce(SpecModel):
    """Named assignees, crowd filters, or both (filters then narrow a vendor's crowd).

    An empty workforce means "anyone the backend offers": the crowd on Toloka, any project member on
    Dataloop, any caller of ``job.pull`` on the local backend.
    """

    kind: Literal["workforce"] = Field("workforce", description="Always 'workforce' (reserved for other kinds).")
    assignees: tuple[Assignee, ...] = Field((), description=(
        "Named people (plain strings are shorthand for `{id: ...}`): in-house teams and vendors without a crowd "
        "work this way."))
    filter: Filter | None = Field(None, description=(
        "Which crowd workers may take the job: a condition, or an `all` / `any` tree of them."))

    @model_validator(mode="before")
    @classmethod
    def _assignee_shorthand(cls, data: Any) -> Any:
        # `assignees: [a@x, b@x]` is shorthand for `[{id: a@x}, {id: b@x}]`
        if isinstance(data, dict) and isinstance(data.get("assignees"), list):
            data = {**data, "assignees": [{"id": a} if isinstance(a, str) else a for a in data["assignees"]]}
        return data

    @model_validator(mode="after")
    def _unique(self) -> Workforce:
        ids = [a.id for a in self.assignees]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"assignees must be unique, repeated: {dup}")
        return self
