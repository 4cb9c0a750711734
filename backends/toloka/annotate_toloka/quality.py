"""Quality rules, per-worker limits, review and training -> Toloka ``quality_control``.

A neutral rule is *when* (conditions on one measure of recent work) *then* (an action). Toloka
computes each measure in a *collector* and evaluates rule conditions against that collector only,
so every condition of one rule must come from the same collector. Rules with identical collectors
share one config, as in Toloka's own examples.

Three neutral ideas have no collector of their own and are mapped as Toloka documents them:

* per-worker limits: ``ANSWER_COUNT`` + ``assignments_accepted_count`` (counted in task suites) with
  a permanent pool restriction;
* "rejected work goes back to the queue": ``ASSIGNMENTS_ASSESSMENT`` on a ``REJECT`` event with
  ``CHANGE_OVERLAP`` +1 (Toloka does not reissue rejected tasks by itself);
* a rule on a skill value: Toloka has no collector for it, so the pool filter keeps out Tolokers
  whose skill meets the rule's condition for as long as it does (``skill_rule_filters``).
"""

from __future__ import annotations

import math
from typing import Any

from annotate_core.capabilities import Capability
from annotate_core.model.quality import (
    AnswerCount,
    Ban,
    BanScope,
    CaptchaFailRate,
    DurationUnit,
    FastSubmits,
    GoldenAccuracy,
    QualityRule,
    RejectAnswers,
    SetSkill,
    SkillValue,
    SkippedInRow,
    SkipRate,
)
from annotate_core.model.workflow import OnReject
from annotate_core.model.workforce import Op
from annotate_toloka.context import TRAINING_ID, Context, number

SCOPES = {BanScope.JOB: "POOL", BanScope.PROJECT: "PROJECT", BanScope.ALL: "ALL_PROJECTS"}
UNITS = {DurationUnit.MINUTES: "MINUTES", DurationUnit.HOURS: "HOURS", DurationUnit.DAYS: "DAYS",
         DurationUnit.PERMANENT: "PERMANENT"}
_NEGATE = {Op.LT: "GTE", Op.LTE: "GT", Op.GT: "LTE", Op.GTE: "LT", Op.EQ: "NE", Op.NE: "EQ"}
_RULE_CAPABILITY = {
    GoldenAccuracy: Capability.RULE_GOLDEN_ACCURACY, FastSubmits: Capability.RULE_FAST_SUBMITS,
    CaptchaFailRate: Capability.RULE_CAPTCHA, SkippedInRow: Capability.RULE_SKIPPED_IN_ROW,
    AnswerCount: Capability.RULE_ANSWER_COUNT,
}
# the measure a SET_SKILL_FROM_OUTPUT_FIELD action copies into the skill, per collector
_MEASURED = {"GOLDEN_SET": "correct_answers_rate", "CAPTCHA": "success_rate"}

Json = dict[str, Any]


def _cond(key: str, operator: str, value: Any) -> Json:
    return {"key": key, "operator": operator, "value": number(value)}


def _collector(cond: Any, ctx: Context) -> tuple[Json, list[Json]]:
    """The collector config a neutral condition needs, and its Toloka conditions."""
    if isinstance(cond, GoldenAccuracy):
        return ({"type": "GOLDEN_SET", "parameters": {"history_size": cond.window}},
                [_cond("golden_set_correct_answers_rate", "LT", cond.below),
                 _cond("golden_set_answers_count", "GTE", cond.min_answers)])
    if isinstance(cond, FastSubmits):
        params = {"fast_submit_threshold_seconds": number(cond.faster_than_seconds), "history_size": cond.window}
        return ({"type": "ASSIGNMENT_SUBMIT_TIME", "parameters": params},
                [_cond("fast_submitted_count", "GTE", cond.at_least)])
    if isinstance(cond, CaptchaFailRate):
        return ({"type": "CAPTCHA", "parameters": {"history_size": cond.window}},
                [_cond("fail_rate", "GT", cond.above)])
    if isinstance(cond, SkippedInRow):
        return {"type": "SKIPPED_IN_ROW_ASSIGNMENTS"}, [_cond("skipped_in_row_count", "GTE", cond.at_least)]
    if isinstance(cond, AnswerCount):
        # Toloka counts task suites; the neutral rule counts answers (items)
        suites = math.ceil(cond.at_least / ctx.spec.batch_size)
        return {"type": "ANSWER_COUNT"}, [_cond("assignments_accepted_count", "GTE", suites)]
    raise TypeError(cond)  # pragma: no cover - SkillValue / SkipRate are handled by the caller


def _action(rule: QualityRule, collector: Json, ctx: Context, path: str) -> Json | None:
    then = rule.then
    if isinstance(then, Ban):
        params: Json = {"scope": SCOPES[then.scope]}
        if then.unit is not DurationUnit.PERMANENT and then.duration is not None:
            params["duration"] = then.duration
        params["duration_unit"] = UNITS[then.unit]
        params["private_comment"] = then.reason or rule.name or "annotate quality rule"
        return {"type": "RESTRICTION_V2", "parameters": params}
    if isinstance(then, RejectAnswers):  # the pool then uses manual acceptance (see pool.pool_body)
        return {"type": "REJECT_ALL_ASSIGNMENTS", "parameters": {"public_comment": then.comment}}
    if isinstance(then, SetSkill):
        skill = ctx.skill(then.skill)
        if then.from_metric:
            field = _MEASURED.get(collector["type"])
            if field is None:
                ctx.refuse(Capability.ACTION_SET_SKILL, "set a skill from the measured metric", f"{path}.then",
                           "Toloka copies only golden accuracy or captcha success into a skill; give `value:`")
                return None
            return {"type": "SET_SKILL_FROM_OUTPUT_FIELD", "parameters": {"skill_id": skill, "from_field": field}}
        if then.value is None:
            ctx.refuse(Capability.ACTION_SET_SKILL, "set a skill without a value", f"{path}.then",
                       "give `value:` or `from_metric: true`")
            return None
        return {"type": "SET_SKILL", "parameters": {"skill_id": skill, "skill_value": number(then.value)}}
    raise TypeError(then)  # pragma: no cover


def _skill_rule(rule: QualityRule, conditions: list[SkillValue], ctx: Context, path: str) -> Json | None:
    """A rule on skill values -> an ``or`` group of negated skill leaves to AND into the pool filter.

    ``conditions`` is the rule's ``when``, each one a ``SkillValue`` (the caller checked).
    """
    if not isinstance(rule.then, Ban):
        ctx.refuse(Capability.RULE_SKILL, f"quality action {rule.then.action} on a skill value", f"{path}.then",
                   "Toloka acts on a skill value only by keeping such Tolokers out of the pool: use `then: ban`")
        return None
    leaves = []
    for j, cond in enumerate(conditions):
        if cond.op not in _NEGATE:
            ctx.refuse(Capability.RULE_SKILL, f"skill rule with op {cond.op.value!r}", f"{path}.when.{j}",
                       "use eq, ne, gt, gte, lt or lte")
            return None
        leaves.append({"category": "skill", "key": ctx.skill(cond.skill), "operator": _NEGATE[cond.op],
                       "value": number(cond.value)})
    message = ("Tolokers matching it are kept out of the pool by its filter while the skill stays there; Toloka "
               "has no timed ban on a skill value")
    ctx.notes.append(f"{path} ({rule.name or 'skill rule'}): {message}")
    ctx.approximations.append((path, message))
    return {"or": leaves}


def skill_rule_filters(ctx: Context) -> list[Json]:
    """Filter groups contributed by rules on skill values (see module docstring)."""
    out = []
    for i, rule in enumerate(ctx.spec.quality.rules):
        conditions = [c for c in rule.when if isinstance(c, SkillValue)]
        if conditions and len(conditions) == len(rule.when):
            group = _skill_rule(rule, conditions, ctx, f"quality.rules.{i}")
            if group is not None:
                out.append(group)
    return out


def _add(configs: list[Json], collector: Json, rule: Json) -> None:
    for cfg in configs:
        if cfg["collector_config"] == collector:
            cfg["rules"].append(rule)
            return
    configs.append({"collector_config": collector, "rules": [rule]})


def rule_configs(ctx: Context) -> list[Json]:
    """``quality_control.configs``: the spec's rules, per-worker limits and the requeue rule."""
    spec = ctx.spec
    configs: list[Json] = []
    for i, rule in enumerate(spec.quality.rules):
        path = f"quality.rules.{i}"
        if any(isinstance(c, SkillValue) for c in rule.when):
            if not all(isinstance(c, SkillValue) for c in rule.when):
                ctx.refuse(Capability.RULE_SKILL, "skill condition mixed with other measures", f"{path}.when",
                           "Toloka evaluates a rule on one measure: put the skill condition in a rule of its own")
            continue  # handled by skill_rule_filters
        if any(isinstance(c, SkipRate) for c in rule.when):
            ctx.refuse(Capability.RULE_SKIP_RATE, "quality rule on skip_rate", f"{path}.when",
                       "Toloka counts skips in a row: use metric 'skipped_in_row'")
            continue
        collector: Json | None = None
        conditions: list[Json] = []
        for j, cond in enumerate(rule.when):
            c, conds = _collector(cond, ctx)
            if collector is not None and c != collector:
                ctx.refuse(_RULE_CAPABILITY[type(cond)], f"quality rule combining {collector['type']} and "
                           f"{c['type']}", f"{path}.when.{j}",
                           "Toloka evaluates each rule on one measure: split it into one rule per measure")
                collector = None
                break
            collector = c
            conditions.extend(x for x in conds if x not in conditions)
        if collector is None:
            continue
        action = _action(rule, collector, ctx, path)
        if action is not None:
            _add(configs, collector, {"conditions": conditions, "action": action})
    limit = _suite_limit(ctx)
    if limit is not None:
        _add(configs, {"type": "ANSWER_COUNT"}, {
            "conditions": [_cond("assignments_accepted_count", "GTE", limit)],
            "action": {"type": "RESTRICTION_V2",
                       "parameters": {"scope": "POOL", "duration_unit": "PERMANENT",
                                      "private_comment": "Per-user limit"}},
        })
    if spec.review is not None and spec.review.on_reject is OnReject.REQUEUE:
        _add(configs, {"type": "ASSIGNMENTS_ASSESSMENT"}, {
            "conditions": [{"key": "assessment_event", "operator": "EQ", "value": "REJECT"}],
            "action": {"type": "CHANGE_OVERLAP", "parameters": {"delta": 1, "open_pool": True}},
        })
    return configs


def _suite_limit(ctx: Context) -> int | None:
    """Most task suites one Toloker may do in the pool, from ``limits`` (items are rounded up to suites)."""
    lim = ctx.spec.limits
    caps = []
    if lim.max_batches_per_worker:
        caps.append(lim.max_batches_per_worker)
    if lim.max_items_per_worker:
        caps.append(math.ceil(lim.max_items_per_worker / ctx.spec.batch_size))
    return min(caps) if caps else None


def quality_control(ctx: Context) -> Json:
    """The pool's ``quality_control`` object (toloka-kit always sends one, with ``configs``)."""
    qc: Json = {}
    if ctx.spec.training is not None:
        qc["training_requirement"] = {"training_pool_id": TRAINING_ID,
                                      "training_passing_skill_value": number(ctx.spec.training.passing_score)}
    if ctx.spec.quality.captcha_frequency:
        qc["captcha_frequency"] = ctx.spec.quality.captcha_frequency.upper()
    qc["configs"] = rule_configs(ctx)
    return qc
