"""State shared while one spec is compiled into Toloka objects: refusals, skills, ids, options.

Compilation never touches the network. Ids that only exist after a create (project, training pool,
pool, skills looked up by name) are written as placeholders such as ``"<project_id>"`` or
``"<skill:custom_skill>"``; ``bind`` swaps them for real ids once they exist. ``annotate plan``
shows the placeholders, ``create_job`` sends the bound bodies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from annotate_core.capabilities import Capability, Unsupported
from annotate_core.errors import SpecError, UnsupportedFeatureError
from annotate_core.model.spec import JobSpec
from annotate_toloka.wire import BACKEND

PROJECT_ID = "<project_id>"
POOL_ID = "<pool_id>"
TRAINING_ID = "<training_id>"
_SKILL_REF = re.compile(r"^<skill:(?P<name>.+)>$")
_NUMERIC_ID = re.compile(r"^\d+$")

#: keys allowed under ``options.toloka`` of a spec
SPEC_OPTIONS = {
    "task_suites": "upload task suites of distribution.batch_size items instead of smart-mixed tasks",
    "region_ids": "extra country code -> Toloka region id pairs for region filters, e.g. {FR: 124}",
    "pool_name": "private name of the pool (default: the spec name)",
    "priority": "pool priority, 0-100",
}


def skill_ref(name: str) -> str:
    """A skill reference as sent: the id itself for a numeric id, else a placeholder resolved by name."""
    return name if _NUMERIC_ID.match(name) else f"<skill:{name}>"


def number(x: float | int) -> float | int:
    """Integral floats as ints, so ``20.0`` goes out as ``20`` the way Toloka's examples write it."""
    return int(x) if isinstance(x, float) and x.is_integer() else x


@dataclass
class Context:
    spec: JobSpec
    now: datetime
    problems: list[Unsupported] = field(default_factory=list)
    skills: dict[str, None] = field(default_factory=dict)  # skill names referenced, in order
    notes: list[str] = field(default_factory=list)  # approximations worth showing in a plan
    #: the same approximations as (spec path, message), for ``Backend.warnings``
    approximations: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        opts = self.spec.options.get(BACKEND) or {}
        if not isinstance(opts, Mapping):
            raise SpecError(f"options.{BACKEND}: expected a mapping, got {type(opts).__name__}")
        unknown = sorted(set(opts) - set(SPEC_OPTIONS))
        if unknown:
            known = ", ".join(f"{k} ({v})" for k, v in SPEC_OPTIONS.items())
            raise SpecError(f"options.{BACKEND}: unknown option(s) {unknown}; known: {known}")
        self.options: Mapping[str, Any] = opts

    @property
    def task_suites(self) -> bool:
        value = self.options.get("task_suites", False)
        if not isinstance(value, bool):
            raise SpecError(f"options.{BACKEND}.task_suites: expected true or false, got {value!r}")
        return value

    def refuse(self, capability: Capability, feature: str, path: str, hint: str) -> None:
        self.problems.append(Unsupported(BACKEND, capability, feature, path, hint))

    def skill(self, name: str) -> str:
        ref = skill_ref(name)
        if ref != name:
            self.skills.setdefault(name, None)
        return ref

    def raise_problems(self) -> None:
        if self.problems:
            raise UnsupportedFeatureError(BACKEND, self.problems)


def bind(obj: Any, ids: Mapping[str, str]) -> Any:
    """A copy of ``obj`` with every placeholder string replaced by its id from ``ids``."""
    if isinstance(obj, str):
        return ids.get(obj, obj)
    if isinstance(obj, dict):
        return {k: bind(v, ids) for k, v in obj.items()}
    if isinstance(obj, list):
        return [bind(v, ids) for v in obj]
    return obj


def skill_placeholder(name: str) -> str:
    return f"<skill:{name}>"


def skill_name(ref: str) -> str | None:
    m = _SKILL_REF.match(ref)
    return m["name"] if m else None
