"""Workforce filter trees -> Toloka pool ``filter`` JSON.

Toloka filters are ``{"and": [...]}`` / ``{"or": [...]}`` trees over leaves
``{"category", "key", "operator", "value"}`` in three categories: ``profile`` (languages, country,
citizenship, gender, education, date of birth, city), ``computed`` (region by IP, client type, ...)
and ``skill``. Like toloka-kit, the top level is an ``and`` whose children are ``or`` groups, and a
neutral condition with a list of values becomes one leaf per value (Toloka leaves hold one value).

Toloka has no filter on a worker's accepted-assignment count, mean submit time or rating; specs
using them are refused here, before any request, with what to do instead.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from annotate_core.capabilities import Capability
from annotate_core.errors import SpecError
from annotate_core.model.workforce import AllOf, Attribute, Condition, Op
from annotate_toloka.context import Context, number

# ISO 3166 country -> Toloka (Yandex geobase) region id. Only ids stated in Toloka's documentation
# or long-stable geobase ids; anything else must be given as a number or in options.toloka.region_ids.
REGION_IDS = {"US": 84, "GB": 102, "UK": 102, "RU": 225, "UA": 187, "CA": 95, "DE": 96}

CLIENT_TYPES = {"browser": "BROWSER", "app": "TOLOKA_APP"}
EDUCATION_LEVELS = ("BASIC", "MIDDLE", "HIGH")

_UNSUPPORTED = {
    Attribute.ACCEPTED_COUNT: "Toloka cannot filter on a Toloker's accepted-assignment count; grant a skill "
    "to experienced Tolokers (set_user_skill) and filter on it, or cap volume with limits",
    Attribute.SUBMIT_TIME_RATE: "Toloka cannot filter on mean submit time; ban fast submitters with a "
    "fast_submits quality rule instead",
    Attribute.RATING: "Toloka exposes no rating filter; filter on a skill instead",
}

_COMPARE = {Op.EQ: "EQ", Op.NE: "NE", Op.GT: "GT", Op.GTE: "GTE", Op.LT: "LT", Op.LTE: "LTE"}

Node = dict[str, Any]


def _leaf(category: str, key: str, operator: str, value: Any) -> Node:
    return {"category": category, "key": key, "operator": operator, "value": value}


def _expand(leaves: list[Node], joiner: str) -> Node:
    return leaves[0] if len(leaves) == 1 else {joiner: leaves}


def _identity(cond: Condition, category: str, key: str, convert) -> Node:
    """EQ/NE attributes: ``in`` a list = any EQ, ``not_in`` = every NE."""
    values = [convert(v) for v in cond.values]
    if cond.op in (Op.EQ, Op.IN):
        return _expand([_leaf(category, key, "EQ", v) for v in values], "or")
    if cond.op in (Op.NE, Op.NOT_IN):
        return _expand([_leaf(category, key, "NE", v) for v in values], "and")
    raise SpecError(f"workforce.filter: {cond.attribute.value} cannot be compared with {cond.op.value!r}")


def _inclusion(cond: Condition, category: str, key: str, convert) -> Node:
    """IN/NOT_IN attributes (languages, regions): eq = in, ne = not in."""
    values = [convert(v) for v in cond.values]
    if cond.op in (Op.EQ, Op.IN):
        return _expand([_leaf(category, key, "IN", v) for v in values], "or")
    if cond.op in (Op.NE, Op.NOT_IN):
        return _expand([_leaf(category, key, "NOT_IN", v) for v in values], "and")
    raise SpecError(f"workforce.filter: {cond.attribute.value} cannot be compared with {cond.op.value!r}")


def _years_before(now: datetime, years: int) -> int:
    """Unix seconds of ``now`` minus whole years (29 Feb -> 28 Feb)."""
    year = now.year - years
    day = min(now.day, calendar.monthrange(year, now.month)[1])
    return int(now.replace(year=year, day=day).timestamp())


def _age(cond: Condition, ctx: Context) -> Node:
    """Age in whole years -> date of birth (unix seconds), fixed at compile time."""
    n = int(cond.value)
    if cond.op is Op.GTE:  # born on or before now - n years
        return _leaf("profile", "date_of_birth", "LTE", _years_before(ctx.now, n))
    if cond.op is Op.GT:
        return _leaf("profile", "date_of_birth", "LTE", _years_before(ctx.now, n + 1))
    if cond.op is Op.LT:
        return _leaf("profile", "date_of_birth", "GT", _years_before(ctx.now, n))
    if cond.op is Op.LTE:
        return _leaf("profile", "date_of_birth", "GT", _years_before(ctx.now, n + 1))
    raise SpecError(f"workforce.filter: age supports gt/gte/lt/lte, not {cond.op.value!r}")


def _education(cond: Condition) -> Node:
    if cond.op in (Op.GT, Op.GTE, Op.LT, Op.LTE):
        level = str(cond.value).upper()
        if level not in EDUCATION_LEVELS:
            raise SpecError(f"workforce.filter: education expects one of {list(EDUCATION_LEVELS)}, got {cond.value!r}")
        i = EDUCATION_LEVELS.index(level)
        chosen = {Op.GT: EDUCATION_LEVELS[i + 1:], Op.GTE: EDUCATION_LEVELS[i:],
                  Op.LT: EDUCATION_LEVELS[:i], Op.LTE: EDUCATION_LEVELS[:i + 1]}[cond.op]
        if not chosen:
            raise SpecError(f"workforce.filter: education {cond.op.value} {cond.value!r} matches nobody")
        return _expand([_leaf("profile", "education", "EQ", v) for v in chosen], "or")
    return _identity(cond, "profile", "education", _education_value)


def _education_value(v: Any) -> str:
    level = str(v).upper()
    if level not in EDUCATION_LEVELS:
        raise SpecError(f"workforce.filter: education expects one of {list(EDUCATION_LEVELS)}, got {v!r}")
    return level


def _country(v: Any) -> str:
    if not isinstance(v, str) or len(v) != 2:
        raise SpecError(f"workforce.filter: expected a two-letter country code (ISO 3166-1), got {v!r}")
    return v.upper()


def _region(ctx: Context):
    extra = ctx.options.get("region_ids") or {}
    if not isinstance(extra, dict):
        raise SpecError("options.toloka.region_ids: expected a mapping of country code -> region id")
    table = {**REGION_IDS, **{str(k).upper(): v for k, v in extra.items()}}

    def convert(v: Any) -> int:
        if isinstance(v, bool):
            raise SpecError(f"workforce.filter: region expects a country code or a region id, got {v!r}")
        if isinstance(v, int):
            return v
        if isinstance(v, str) and v.isdigit():
            return int(v)
        code = str(v).upper()
        if code not in table:
            raise SpecError(
                f"workforce.filter: no Toloka region id known for {v!r}; give the numeric region id "
                f"or add it under options.toloka.region_ids (known: {sorted(table)})"
            )
        return int(table[code])

    return convert


def _language(v: Any) -> str:
    if not isinstance(v, str) or not v:
        raise SpecError(f"workforce.filter: expected a language code (ISO 639-1), got {v!r}")
    return v.upper()


def _client_type(v: Any) -> str:
    return CLIENT_TYPES[v]


def _skill(cond: Condition, ctx: Context) -> Node:
    key = ctx.skill(cond.skill or "")
    if cond.op in (Op.IN, Op.NOT_IN):
        values = [number(v) for v in cond.values]
        if cond.op is Op.IN:
            return _expand([_leaf("skill", key, "EQ", v) for v in values], "or")
        return _expand([_leaf("skill", key, "NE", v) for v in values], "and")
    return _leaf("skill", key, _COMPARE[cond.op], number(cond.value))


def condition(cond: Condition, ctx: Context, path: str) -> Node | None:
    """One neutral condition as a Toloka leaf or a small and/or group; None when refused."""
    a = cond.attribute
    if a in _UNSUPPORTED:
        ctx.refuse(Capability.CROWD_FILTERS, f"crowd filter on {a.value}", path, _UNSUPPORTED[a])
        return None
    if a is Attribute.LANGUAGES:
        return _inclusion(cond, "profile", "languages", _language)
    if a is Attribute.REGION_BY_IP:
        return _inclusion(cond, "computed", "region_by_ip", _region(ctx))
    if a is Attribute.REGION:
        return _inclusion(cond, "profile", "city", _region(ctx))
    if a is Attribute.COUNTRY:
        return _identity(cond, "profile", "country", _country)
    if a is Attribute.CITIZENSHIP:
        return _identity(cond, "profile", "citizenship", _country)
    if a is Attribute.CLIENT_TYPE:
        return _identity(cond, "computed", "client_type", _client_type)
    if a is Attribute.GENDER:
        return _identity(cond, "profile", "gender", lambda v: str(v).upper())
    if a is Attribute.EDUCATION:
        return _education(cond)
    if a is Attribute.AGE:
        return _age(cond, ctx)
    if a is Attribute.SKILL:
        return _skill(cond, ctx)
    raise SpecError(f"{path}: attribute {a.value!r} has no Toloka filter")  # pragma: no cover


def _node(f: Any, ctx: Context, path: str) -> Node | None:
    if isinstance(f, Condition):
        return condition(f, ctx, path)
    if isinstance(f, AllOf):
        children = [_node(sub, ctx, f"{path}.all.{i}") for i, sub in enumerate(f.all)]
        return {"and": [c for c in children if c is not None]}
    children = [_node(sub, ctx, f"{path}.any.{i}") for i, sub in enumerate(f.any)]
    return {"or": [c for c in children if c is not None]}


def _is_leaf(n: Node) -> bool:
    return "category" in n


def normalize(node: Node) -> Node:
    """toloka-kit's shape: always a top-level ``and`` of ``or`` groups; nested same-kind groups flattened."""
    if _is_leaf(node):
        return {"and": [{"or": [node]}]}
    if "or" in node:
        return {"and": [{"or": _flatten(node["or"], "or")}]}
    out: list[Node] = []
    for child in _flatten(node["and"], "and"):
        out.append({"or": [child]} if _is_leaf(child) else child)
    return {"and": out}


def _flatten(children: list[Node], kind: str) -> list[Node]:
    out: list[Node] = []
    for c in children:
        if not _is_leaf(c) and kind in c:
            out.extend(_flatten(c[kind], kind))
        elif not _is_leaf(c):
            other = "and" if kind == "or" else "or"
            inner = _flatten(c[other], other)
            out.append(inner[0] if len(inner) == 1 else {other: inner})
        else:
            out.append(c)
    return out


def build_filter(ctx: Context, extra: Sequence[Node] = ()) -> Node | None:
    """The pool ``filter`` for ``ctx.spec.workforce.filter``, ANDed with ``extra`` groups."""
    parts: list[Node] = []
    if ctx.spec.workforce.filter is not None:
        root = _node(ctx.spec.workforce.filter, ctx, "workforce.filter")
        if root is not None and (_is_leaf(root) or root.get("and") or root.get("or")):
            parts.append(root)
    parts.extend(extra)
    if not parts:
        return None
    return normalize(parts[0] if len(parts) == 1 else {"and": parts})
