"""Dry runs: what a spec would create on a backend, what it would cost, and what it cannot do."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from annotate_core.backend import Backend, PlannedOperation, PlanWarning
from annotate_core.capabilities import Unsupported, check
from annotate_core.errors import UnsupportedFeatureError
from annotate_core.model.spec import JobSpec
from annotate_core.model.workflow import Pulling


@dataclass(frozen=True)
class CostEstimate:
    """Reward paid to workers (vendor fees excluded) for ``n_items`` items."""

    n_items: int
    answers: int
    batches: int
    reward: float
    currency: str

    def describe(self) -> str:
        return (
            f"{self.reward:.2f} {self.currency} for {self.n_items} items "
            f"({self.answers} answers in {self.batches} batches, vendor fees excluded)"
        )


def expected_answers(spec: JobSpec, n_items: int, keys: list[str] | None = None) -> int:
    """Answers a job of ``n_items`` items needs, honouring partial overlap when keys are known."""
    ov = spec.overlap
    if keys is not None:
        return sum(ov.for_key(k) for k in keys)
    if ov.fraction >= 1:
        return n_items * ov.count
    return round(n_items * (ov.fraction * ov.count + (1 - ov.fraction)))


def estimate_cost(spec: JobSpec, n_items: int, keys: list[str] | None = None) -> CostEstimate | None:
    """Workers' reward for the real items; golden items ride along in the same batches."""
    if spec.pricing is None:
        return None
    answers = expected_answers(spec, n_items, keys)
    batches = math.ceil(answers / spec.batch_size) if answers else 0
    return CostEstimate(n_items, answers, batches, round(batches * spec.pricing.reward_per_batch, 4),
                        spec.pricing.currency)


@dataclass
class Plan:
    """A dry run: the operations a backend would perform, refusals, and the estimated cost."""

    backend: str
    spec_name: str
    operations: list[PlannedOperation] = field(default_factory=list)
    unsupported: list[Unsupported] = field(default_factory=list)
    cost: CostEstimate | None = None
    #: where the backend changes the spec's meaning or cost without refusing it
    warnings: list[PlanWarning] = field(default_factory=list)
    #: the spec's reward per batch (``"0.01 USD per batch of 9 items"``) when it is priced: shown when
    #: the cost cannot be estimated because the item count is unknown
    reward: str | None = None

    @property
    def ok(self) -> bool:
        return not self.unsupported

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "spec": self.spec_name,
            "ok": self.ok,
            "operations": [op.to_dict() for op in self.operations],
            "unsupported": [
                {"backend": u.backend, "capability": u.capability.value, "feature": u.feature,
                 "path": u.path, "hint": u.hint}
                for u in self.unsupported
            ],
            "estimated_cost": asdict(self.cost) if self.cost else None,
            "warnings": [asdict(w) for w in self.warnings],
        }

    def render(self) -> str:
        lines = [f"Plan for {self.spec_name!r} on backend {self.backend!r}:"]
        if self.unsupported:
            lines.append(f"  cannot run: {len(self.unsupported)} unsupported feature(s)")
            lines += [f"  - {u.describe()}" for u in self.unsupported]
            return "\n".join(lines)
        for i, op in enumerate(self.operations, 1):
            lines.append(f"  {i}. {op.action}: {op.description}")
        if self.warnings:
            lines.append(f"  warnings: {len(self.warnings)} place(s) where {self.backend} changes what the spec says")
            lines += [f"  ! {w.describe()}" for w in self.warnings]
        lines.append("  estimated cost: " + self._cost_text())
        return "\n".join(lines)

    def _cost_text(self) -> str:
        if self.cost:
            return self.cost.describe()
        if self.reward:  # priced, but how many items is not known
            return f"unknown without the number of items: pass --n-items to estimate (reward {self.reward})"
        return "no pricing in the spec"


def make_plan(backend: Backend, spec: JobSpec, n_items: int | None = None, n_golden: int = 0) -> Plan:
    """Check capabilities, then ask the backend for its operations. Sends nothing anywhere.

    ``n_items`` counts every item; ``n_golden`` of them are golden. Golden items mixed into batches
    (``golden_per_batch``) ride along with real work and add no batches of their own.
    """
    unsupported = check(spec, backend.name, backend.capabilities, backend.hints)
    if not unsupported:
        unsupported = backend.check_spec(spec)  # gaps finer than a capability (one filter attribute)
    plan = Plan(backend.name, spec.name, unsupported=unsupported)
    if spec.pricing is not None:
        golden = spec.distribution.golden_per_batch if isinstance(spec.distribution, Pulling) else 0
        plan.reward = (f"{spec.pricing.reward_per_batch:g} {spec.pricing.currency} per batch of "
                       f"{spec.batch_size} item(s)" + (f" + {golden} golden" if golden else ""))
    if unsupported:
        return plan
    try:
        plan.operations = backend.plan(spec, n_items)
    except UnsupportedFeatureError as exc:  # the same, found while building the operations
        plan.unsupported = list(exc.unsupported)
        return plan
    plan.warnings = [w if w.backend else PlanWarning(w.path, w.message, backend.name)
                     for w in backend.warnings(spec, n_items)]
    if n_items is not None:
        mixed = isinstance(spec.distribution, Pulling) and spec.distribution.golden_per_batch > 0
        plan.cost = estimate_cost(spec, n_items - n_golden if mixed else n_items)
    return plan
