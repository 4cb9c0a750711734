"""The hot path's prebuilt statements run straight on the driver's cursor, compiled once.

A simulated crowd runs ~20 statements per batch it hands out and takes in; SQLAlchemy's own work
per execution (compiled-cache lookup, parameter construction, result metadata, events) cost more
than the database running them. Here each prebuilt Core statement (``statements.py``, the quality
and review windows) is compiled once per shape: its SQL, the order of its parameters, the values it
binds itself, its bind and result processors (JSON, booleans). Executing it is then one
``cursor.execute`` (or ``executemany``) with a tuple and, for reads, rows as named tuples that
read like SQLAlchemy's (``row.key``, unpacking). Same SQL, same types: only the bookkeeping goes.

Two drivers take this path: SQLite's own (``?`` placeholders) and psycopg 3 on PostgreSQL, where
the statement is compiled by the connection's own dialect with positional ``%s`` placeholders, so
the text is what SQLAlchemy sends, bind casts (``%s::VARCHAR``) and row locks (``FOR UPDATE SKIP
LOCKED``) included: the same statements take the same locks. psycopg prepares a statement on the
server once it has run it a few times (its ``prepare_threshold``), and runs an ``executemany`` in
one pipeline. Result processors that depend on the column's server type (PostgreSQL's numeric
ones) are looked up from the first result's description. Any other driver runs ``conn.execute``.
"""

from __future__ import annotations

import copy
import re
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

_POSTCOMPILE = re.compile(r"__\[POSTCOMPILE_(\w+)\]")


@dataclass
class _Plan:
    sql: str
    order: tuple[str, ...]  # parameter names in placeholder order
    fixed: dict[str, Any]  # values the statement binds itself (literals in the query)
    binds: dict[str, Callable[[Any], Any]]  # bind processors by parameter name
    expanding: dict[str, str]  # IN (...) parameters: the placeholder of one value, repeated per value per call
    types: tuple[Any, ...]  # the result columns' SQLAlchemy types
    row: Any  # the named tuple class of a result row, or None for a statement without rows
    #: per placeholder: name, bind processor, the statement's own value (the common case, no IN list)
    slots: tuple[tuple[str, Callable[[Any], Any] | None, Any], ...] = ()
    #: result processors, from the first result's column types (None: not looked up yet)
    columns: tuple[Callable[[Any], Any] | None, ...] | None = None


@dataclass(frozen=True)
class _Driver:
    dialect: Dialect  # what the statements compile with: the connection's dialect, positional
    mark: str  # the placeholder of one value
    returning_id: bool  # a one-row INSERT reports its key by RETURNING (else the cursor's lastrowid)
    #: one cursor kept per driver connection (psycopg: making one per statement cost more than a
    #: prepared statement's round trip; SQLite's are cheap, and a cursor per call stays safe with an
    #: in-memory store's one connection shared between threads)
    held_cursor: bool
    joins: bool  # takes several statements without parameters in one execute (psycopg)


#: by statement (held, so its identity is never reused), INSERT column keys, whether for executemany
#: and the dialect's name: prebuilt statements only
_PLANS: dict[tuple[Any, tuple[str, ...], bool, str], _Plan] = {}
_UNSET = object()


def _driver(dialect: Dialect) -> _Driver | None:
    """The driver this dialect runs on, or None for one that stays on conn.execute (kept on the dialect)."""
    known = dialect.__dict__.get("_annotate_raw_driver", _UNSET)
    if known is not _UNSET:
        return known
    driver: _Driver | None = None
    if dialect.name == "sqlite" and dialect.driver == "pysqlite" and dialect.paramstyle == "qmark":
        driver = _Driver(dialect, "?", returning_id=False, held_cursor=False, joins=False)
    elif dialect.name == "postgresql" and dialect.driver == "psycopg":
        positional = copy.copy(dialect)  # the same dialect (server version, casts), with %s placeholders
        positional.paramstyle = "format"
        positional.positional = True
        driver = _Driver(positional, "%s", returning_id=True, held_cursor=True, joins=True)
    dialect.__dict__["_annotate_raw_driver"] = driver
    return driver


def _plan(conn: Connection, driver: _Driver, stmt: ClauseElement, keys: tuple[str, ...], *,
          many: bool = False) -> _Plan:
    dialect = driver.dialect
    cache_key = (stmt, keys, many, dialect.name)
    plan = _PLANS.get(cache_key)
    if plan is not None:
        return plan
    # for_executemany: an INSERT run for its rows only (``run``) has no RETURNING of its new keys
    compiled: Any = stmt.compile(dialect=dialect, column_keys=list(keys) if keys else None, for_executemany=many)
    if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
        raise TypeError("raw: statements with Python-side column defaults stay on conn.execute")
    order = tuple(compiled.positiontup or ())
    fixed = {name: b.value for name, b in compiled.binds.items()
             if name in order and not b.required and b.callable is None}
    expanding = {name: _element(compiled, dialect, b, driver.mark)
                 for name, b in compiled.binds.items() if b.expanding and name in order}
    binds = dict(compiled._bind_processors)
    entries = compiled._result_columns or []
    row = namedtuple("Row", [e.keyname for e in entries], rename=True) if entries else None
    slots = tuple((name, binds.get(name), fixed.get(name)) for name in order)
    plan = _Plan(str(compiled), order, fixed, binds, expanding, tuple(e.type for e in entries), row, slots)
    _PLANS[cache_key] = plan
    return plan


def _element(compiled: Any, dialect: Dialect, bind: Any, mark: str) -> str:
    """One value's placeholder in an expanding IN, as SQLAlchemy renders it (with its cast on PostgreSQL)."""
    impl = bind.type._unwrapped_dialect_impl(dialect)
    if getattr(dialect, "_bind_typing_render_casts", False) and impl.render_bind_cast:
        return str(compiled.render_bind_cast(bind.type, impl, mark))
    return mark


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
        sql = _POSTCOMPILE.sub(lambda m: ", ".join([plan.expanding[m.group(1)]] * lengths[m.group(1)]) or "NULL",
                               sql)
    return sql, out


def _columns(plan: _Plan, conn: Connection, description: Any) -> tuple[Callable[[Any], Any] | None, ...]:
    if plan.columns is None:  # once per statement: by the server's type of each column where it matters
        dialect = conn.dialect
        plan.columns = tuple(t._cached_result_processor(dialect, d[1]) for t, d in
                             zip(plan.types, description, strict=True))
    return plan.columns


def _cursor(conn: Connection, driver: _Driver | None) -> Any:
    """A cursor of the driver connection: on psycopg its own, made once and kept with the pool's entry
    (every result is read in full, so a held cursor never carries one over); else a new one."""
    fairy = conn.connection
    dbapi = fairy.dbapi_connection
    if driver is None or not driver.held_cursor:
        return dbapi.cursor()  # type: ignore[union-attr]
    held = fairy.info.get("annotate_raw_cursor")
    if held is None or held[0] is not dbapi:  # a new driver connection behind the pool's entry
        held = (dbapi, dbapi.cursor())  # type: ignore[union-attr]
        fairy.info["annotate_raw_cursor"] = held
    return held[1]


def _execute(conn: Connection, cur: Any, sql: str, args: Any, *, many: bool = False) -> None:
    """``cur.execute`` (or ``executemany``), with the driver's errors raised as SQLAlchemy raises them
    (``IntegrityError``, ``OperationalError``, ... wrapping the driver's): what ``store.retryable`` and
    the callers' ``except`` clauses look for (a unique-key race, a deadlock on PostgreSQL)."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        if many:
            cur.executemany(sql, args)
        elif args is None:
            cur.execute(sql)
        else:
            cur.execute(sql, args)
    except dbapi.Error as exc:
        raise DBAPIError.instance(sql, args, exc, dbapi.Error, dialect=conn.dialect, ismulti=many) from exc


def plain(conn: Connection, *statements: str) -> None:
    """Statements without parameters or rows (SAVEPOINT, RELEASE) on the driver's cursor: in one
    round trip where the driver takes several at once (psycopg, with no parameters), else in turn."""
    driver = _driver(conn.dialect)
    cur = _cursor(conn, driver)
    if driver is not None and driver.joins:
        _execute(conn, cur, "; ".join(statements), None)
        return
    for statement in statements:
        _execute(conn, cur, statement, None)


def joins_statements(conn: Connection) -> bool:
    """Does ``plain`` send several statements in one round trip on this connection (psycopg)?"""
    driver = _driver(conn.dialect)
    return driver is not None and driver.joins


def fast(conn: Connection) -> bool:
    """Whether this connection runs statements through the cursor: SQLite's own driver or psycopg 3."""
    return _driver(conn.dialect) is not None


def _empty_in(plan: _Plan, params: Mapping[str, Any]) -> bool:
    # an empty IN list: SQLAlchemy renders it as an empty set (NOT IN () keeps every row); left to it
    return bool(plan.expanding) and any(not params.get(name) for name in plan.expanding)


def rows(conn: Connection, stmt: Any, params: Mapping[str, Any]) -> list[Any]:
    """Every row of a prebuilt SELECT (or ``... RETURNING``), as named tuples."""
    driver = _driver(conn.dialect)
    plan = _plan(conn, driver, stmt, ()) if driver is not None else None
    if plan is None or _empty_in(plan, params):
        return list(conn.execute(stmt, dict(params)).all())
    sql, args = _args(plan, params)
    cur = _cursor(conn, driver)
    _execute(conn, cur, sql, args)
    raw = cur.fetchall()
    procs = _columns(plan, conn, cur.description) if plan.columns is None else plan.columns
    make = plan.row
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
    driver = _driver(conn.dialect)
    insert = bool(stmt.is_insert)
    plan = _plan(conn, driver, stmt, tuple(sets[0]) if insert else (), many=insert) if driver is not None else None
    if plan is None or (plan.expanding and (many or _empty_in(plan, sets[0]))):
        return conn.execute(stmt, params if isinstance(params, Mapping) else list(params)).rowcount
    cur = _cursor(conn, driver)
    if not many:
        sql, args = _args(plan, sets[0])
        _execute(conn, cur, sql, args)
    else:
        sql = _args(plan, sets[0])[0]
        _execute(conn, cur, sql, [_args(plan, p)[1] for p in sets], many=True)
    return int(cur.rowcount)


def insert_id(conn: Connection, stmt: Any, params: Mapping[str, Any]) -> int:
    """A one-row INSERT; the new row's primary key."""
    driver = _driver(conn.dialect)
    if driver is None:
        key = conn.execute(stmt, dict(params)).inserted_primary_key
        assert key is not None
        return int(key[0])
    plan = _plan(conn, driver, stmt, tuple(params))
    sql, args = _args(plan, params)
    cur = _cursor(conn, driver)
    _execute(conn, cur, sql, args)
    if driver.returning_id:  # PostgreSQL: the statement compiled with RETURNING its key
        return int(cur.fetchall()[0][0])
    return int(cur.lastrowid)  # SQLite: the INTEGER PRIMARY KEY just assigned
