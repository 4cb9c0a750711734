"""The hot path's prebuilt statements run straight on SQLite's cursor, compiled once.

A simulated crowd runs ~20 statements per batch it hands out and takes in; SQLAlchemy's own work
per execution (compiled-cache lookup, parameter construction, result metadata, events) cost more
than SQLite running them. Here each prebuilt Core statement (``statements.py``, the quality and
review windows) is compiled once per shape: its SQL, the order of its parameters, the values it
binds itself, its bind and result processors (JSON, booleans). Executing it is then one
``cursor.execute`` (or ``executemany``) with a tuple and, for reads, rows as named tuples that
read like SQLAlchemy's (``row.key``, unpacking). Same SQL, same types: only the bookkeeping goes.

On any other database (PostgreSQL: row locks, psycopg's own adaptation) every function here is
``conn.execute`` as before, so both stores keep running exactly the same statements.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import ClauseElement

_POSTCOMPILE = re.compile(r"__\[POSTCOMPILE_(\w+)\]")


@dataclass
class _Plan:
    sql: str
    order: tuple[str, ...]  # parameter names in placeholder order
    fixed: dict[str, Any]  # values the statement binds itself (literals in the query)
    binds: dict[str, Callable[[Any], Any]]  # bind processors by parameter name
    expanding: frozenset[str]  # IN (...) parameters: rendered per call with one ? per value
    columns: tuple[Callable[[Any], Any] | None, ...]
    row: Any  # the named tuple class of a result row, or None for a statement without rows
    #: per placeholder: name, bind processor, the statement's own value (the common case, no IN list)
    slots: tuple[tuple[str, Callable[[Any], Any] | None, Any], ...] = ()


#: by statement (held, so its identity is never reused) and INSERT column keys: prebuilt statements only
_PLANS: dict[tuple[Any, tuple[str, ...]], _Plan] = {}


def _plan(conn: Connection, stmt: ClauseElement, keys: tuple[str, ...]) -> _Plan:
    cache_key = (stmt, keys)
    plan = _PLANS.get(cache_key)
    if plan is not None:
        return plan
    dialect = conn.dialect
    compiled: Any = stmt.compile(dialect=dialect, column_keys=list(keys) if keys else None)
    if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
        raise TypeError("raw: statements with Python-side column defaults stay on conn.execute")
    order = tuple(compiled.positiontup or ())
    fixed = {name: b.value for name, b in compiled.binds.items()
             if name in order and not b.required and b.callable is None}
    expanding = frozenset(name for name, b in compiled.binds.items() if b.expanding and name in order)
    binds = dict(compiled._bind_processors)
    entries = compiled._result_columns or []
    columns = tuple(e.type._cached_result_processor(dialect, None) for e in entries)
    row = namedtuple("Row", [e.keyname for e in entries], rename=True) if entries else None
    slots = tuple((name, binds.get(name), fixed.get(name)) for name in order)
    plan = _Plan(str(compiled), order, fixed, binds, expanding, columns, row, slots)
    _PLANS[cache_key] = plan
    return plan


def _args(plan: _Plan, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
    if not plan.expanding:
        get = params.get
        return plan.sql, [get(name, own) if proc is None else proc(get(name, own)) for name, proc, own in plan.slots]
    sql = plan.sql
    out: list[Any] = []
    lengths: dict[str, int] = {}
    for name in plan.order:
        value = params[name] if name in params else plan.fixed.get(name)
        if name in plan.expanding:
            values = list(value or ())
            lengths[name] = len(values)
            out.extend(values)
            continue
        proc = plan.binds.get(name)
        out.append(value if proc is None else proc(value))  # None too: JSON stores null as SQLAlchemy does
    if lengths:  # one placeholder per value, as SQLAlchemy renders an expanding IN
        sql = _POSTCOMPILE.sub(lambda m: ", ".join("?" * lengths[m.group(1)]) or "NULL", sql)
    return sql, out


def _cursor(conn: Connection) -> Any:
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def fast(conn: Connection) -> bool:
    """Whether this connection runs statements through the cursor: SQLite's own driver, ``?`` placeholders."""
    d = conn.dialect
    return d.name == "sqlite" and d.driver == "pysqlite" and d.paramstyle == "qmark"


def _empty_in(plan: _Plan, params: Mapping[str, Any]) -> bool:
    # an empty IN list: SQLAlchemy renders it as an empty set (NOT IN () keeps every row); left to it
    return bool(plan.expanding) and any(not params.get(name) for name in plan.expanding)


def rows(conn: Connection, stmt: Any, params: Mapping[str, Any]) -> list[Any]:
    """Every row of a prebuilt SELECT (or ``... RETURNING``), as named tuples."""
    plan = _plan(conn, stmt, ()) if fast(conn) else None
    if plan is None or _empty_in(plan, params):
        return list(conn.execute(stmt, dict(params)).all())
    sql, args = _args(plan, params)
    cur = _cursor(conn)
    try:
        raw = cur.execute(sql, args).fetchall()
    finally:
        cur.close()
    make, procs = plan.row, plan.columns
    if any(p is not None for p in procs):
        return [make(*[v if p is None or v is None else p(v) for p, v in zip(procs, r, strict=True)])
                for r in raw]
    return [make(*r) for r in raw]


def first(conn: Connection, stmt: Any, params: Mapping[str, Any]) -> Any:
    """The first row, or None."""
    found = rows(conn, stmt, params)
    return found[0] if found else None


def scalar(conn: Connection, stmt: Any, params: Mapping[str, Any]) -> Any:
    """The first column of the first row, or None."""
    row = first(conn, stmt, params)
    return None if row is None else row[0]


def run(conn: Connection, stmt: Any, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> int:
    """An INSERT / UPDATE / DELETE, once or (a list of parameter sets) as one executemany; the rows changed."""
    many = not isinstance(params, Mapping)
    sets: list[Mapping[str, Any]] = [params] if isinstance(params, Mapping) else list(params)
    if not sets:
        return 0
    plan = _plan(conn, stmt, tuple(sets[0]) if stmt.is_insert else ()) if fast(conn) else None
    if plan is None or (plan.expanding and (many or _empty_in(plan, sets[0]))):
        return conn.execute(stmt, params if isinstance(params, Mapping) else list(params)).rowcount
    cur = _cursor(conn)
    try:
        if not many:
            sql, args = _args(plan, sets[0])
            cur.execute(sql, args)
        else:
            sql = _args(plan, sets[0])[0]
            cur.executemany(sql, [_args(plan, p)[1] for p in sets])
        return int(cur.rowcount)
    finally:
        cur.close()


def insert_id(conn: Connection, stmt: Any, params: Mapping[str, Any]) -> int:
    """A one-row INSERT; the new row's primary key."""
    if not fast(conn):
        key = conn.execute(stmt, dict(params)).inserted_primary_key
        assert key is not None
        return int(key[0])
    plan = _plan(conn, stmt, tuple(params))
    sql, args = _args(plan, params)
    cur = _cursor(conn)
    try:
        cur.execute(sql, args)
        return int(cur.lastrowid)  # SQLite: the INTEGER PRIMARY KEY just assigned
    finally:
        cur.close()
