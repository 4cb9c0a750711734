"""Checking items before anything is uploaded: every problem of every row, then the valid rows again.

Uploads are atomic by default (``Job.add_items``, ``annotate run``): a first pass reads every row and
validates it against the spec, and only when it finds nothing wrong (or the caller allows a partial
upload) does a second pass read the items again and hand the valid ones to the backend. A file is
read twice rather than held in memory, so a million-row file costs its keys, not its items; a
one-shot iterator is the only input kept whole (a list or DataFrame is simply iterated again).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from pydantic import ValidationError

from annotate_core.errors import ItemsInputError
from annotate_core.items import (
    GOLDEN_PREFIX,
    HINT_COLUMN,
    KEY_COLUMN,
    TRUTH_PREFIX,
    Item,
    ItemError,
    _row_to_item,
    validate_item,
)
from annotate_core.items_files import ItemsFile

if TYPE_CHECKING:
    import pandas as pd

    from annotate_core.model.spec import JobSpec

Source = Union[ItemsFile, Sequence[Any], "pd.DataFrame"]


@dataclass
class _Unit:
    """One row or item as read: the item when it could be made, and what went wrong reading it."""

    index: int
    item: Item | None
    problems: list[ItemError]
    truth: dict[str, Any]
    line: int | None = None
    end_line: int | None = None
    key: str = ""  # the key the row gives, even when no item could be made of it


@dataclass
class ItemsCheck:
    """The first pass over some items: how many, which were rejected and why, and the hidden truth.

    ``items()`` reads the valid items again for the upload. Pass the check itself to
    ``Job.add_items`` to upload without validating twice.
    """

    spec: JobSpec
    source: Source
    name: str
    golden_refused: str | None = None
    rows: int = 0
    golden: int = 0
    errors: list[ItemError] = field(default_factory=list)
    rejected_rows: set[int] = field(default_factory=set)
    truth: dict[str, dict[str, Any]] = field(default_factory=dict)
    stamp: tuple[int, int] | None = None
    truth_kept: bool = True  # False: ``truth`` stays empty and ``iter_truth`` reads the source again

    @property
    def rejected(self) -> int:
        return len(self.rejected_rows) if self.rows else 0

    @property
    def valid(self) -> int:
        return self.rows - self.rejected

    @property
    def ok(self) -> bool:
        return not self.errors

    def __repr__(self) -> str:
        return (f"ItemsCheck({self.name!r}, rows={self.rows}, rejected={self.rejected}, golden={self.golden}, "
                f"errors=<{len(self.errors)}>)")

    def items(self) -> Iterator[Item]:
        """The valid items, read again from the source (raises if a file changed since the check)."""
        changed = ItemsInputError(f"{self.name}: the file changed after its items were checked; run again")
        if isinstance(self.source, ItemsFile) and self.source.stamp() != self.stamp:
            raise changed
        for unit in _units(self.source, self.spec):
            if unit.index in self.rejected_rows:
                continue
            if unit.index >= self.rows or unit.item is None or unit.problems:
                raise changed
            yield unit.item

    def iter_truth(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(key, {output: true value})`` of every valid row with hidden truth, in file order.

        With ``keep_truth=False`` (``annotate run``) nothing was kept by the check: a file is read a
        third time, row by row, without building items, so a million items' truth never sits in
        memory at once.
        """
        if self.truth_kept:
            yield from self.truth.items()
            return
        if not isinstance(self.source, ItemsFile):
            for unit in _units(self.source, self.spec):
                if unit.index not in self.rejected_rows and unit.truth and unit.item is not None:
                    yield unit.item.key, unit.truth
            return
        if self.source.stamp() != self.stamp:
            raise ItemsInputError(f"{self.name}: the file changed after its items were checked; run again")
        outputs = {f.name for f in self.spec.outputs}
        for i, rec in enumerate(self.source.records()):
            if i in self.rejected_rows or rec.row is None:
                continue
            row = {str(k): v for k, v in rec.row.items()}
            truth = _row_truth(row, outputs)
            if truth:
                yield str(row[KEY_COLUMN]), truth


def check_items(spec: JobSpec, data: Any, *, golden_refused: str | None = None,
                keep_truth: bool = True) -> ItemsCheck:
    """Read and validate every item of ``data`` (a path, DataFrame, or iterable of Items/dicts).

    Every problem is collected with the row's line (files) or index, the field and what was
    expected: bad cells, unknown or missing columns, duplicate keys (the first occurrence is the
    valid one), rows that cannot be read. A file that cannot be read at all, or no items, raises
    ``ItemsInputError``. ``golden_refused`` rejects golden items (a backend without them).
    ``keep_truth=False`` keeps no hidden truth in ``check.truth``: ``check.iter_truth()`` reads it again.
    """
    source, name = _source(data)
    check = ItemsCheck(spec, source, name, golden_refused, truth_kept=keep_truth)
    if isinstance(source, ItemsFile):
        check.stamp = source.stamp()
    header: set[str] = set()
    columns = _columns(source)
    if columns is not None:
        line = 1 if isinstance(source, ItemsFile) else None
        check.errors, header = _check_columns(spec, columns, line)
    seen: dict[str, int] = {}
    for unit in _units(source, spec):
        check.rows += 1
        problems = list(unit.problems)
        item = unit.item
        if item is not None:
            problems += validate_item(spec, item, unit.index)
            if item.is_golden:
                check.golden += 1
                if golden_refused:
                    problems.append(ItemError(item.key, "golden", golden_refused, unit.index))
        key = item.key if item is not None else unit.key
        if key:  # a rejected row claims its key too: a later row never silently takes its place
            where = unit.line if unit.line is not None else unit.index  # an int: a million keys stay cheap
            first = seen.setdefault(key, where)
            if first != where:
                shown = f"line {first}" if unit.line is not None else f"#{first}"
                problems.append(ItemError(key, "key", f"duplicate key (first on {shown})", unit.index))
        if not problems:
            if keep_truth and unit.truth and item is not None:
                check.truth[item.key] = unit.truth
            continue
        check.rejected_rows.add(unit.index)
        listed = [replace(p, line=unit.line) for p in problems if p.field not in header]
        if listed and unit.line is not None and unit.end_line is not None and unit.end_line > unit.line:
            listed.append(ItemError(listed[0].key, None, f"the row spans lines {unit.line}-{unit.end_line}: "
                                                         f"is a quote left open on line {unit.line}?",
                                    unit.index, unit.line))
        check.errors.extend(listed)
    if check.rows == 0:
        raise ItemsInputError(f"{name}: no items")
    return check


# ---- sources ------------------------------------------------------------------------------------


def _source(data: Any) -> tuple[Source, str]:
    if isinstance(data, ItemsCheck):
        return data.source, data.name
    if isinstance(data, ItemsFile):
        return data, str(data.path)
    if isinstance(data, str | Path):
        f = ItemsFile(data)
        return f, str(f.path)
    import pandas as pd  # a core dependency, imported late because most callers never need it

    if isinstance(data, pd.DataFrame):
        return data, "items"
    if isinstance(data, Mapping):
        raise TypeError("items: expected a file path, a DataFrame or an iterable of items, got one mapping")
    if isinstance(data, Sequence):
        return data, "items"
    if isinstance(data, Iterable):
        return list(data), "items"  # a one-shot iterator: kept for the second pass
    raise TypeError(f"items: expected a file path, a DataFrame or an iterable of items, got {type(data).__name__}")


def _columns(source: Source) -> list[str] | None:
    if isinstance(source, ItemsFile):
        return source.columns
    if hasattr(source, "columns") and not isinstance(source, Sequence):
        return [str(c) for c in source.columns]
    return None


def _units(source: Source, spec: JobSpec) -> Iterator[_Unit]:
    if isinstance(source, ItemsFile):
        for i, rec in enumerate(source.records()):
            if rec.row is None:
                yield _Unit(i, None, [ItemError("", None, rec.problem or "cannot be read", i)], {},
                            rec.line, rec.end_line)
            else:
                unit = _from_row(rec.row, spec, i, full_items=not source.is_table)
                unit.line, unit.end_line = rec.line, rec.end_line
                yield unit
        return
    if not isinstance(source, Sequence):  # a DataFrame
        for i, row in enumerate(source.to_dict(orient="records")):
            yield _from_row(row, spec, i, full_items=False)
        return
    for i, entry in enumerate(source):
        if isinstance(entry, Item):
            yield _Unit(i, entry, [], {})
        elif isinstance(entry, Mapping):
            yield _from_row(entry, spec, i, full_items=True)
        else:
            raise TypeError(f"cannot make an item from {type(entry).__name__}; pass Item, dict or DataFrame")


def _blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _row_truth(row: Mapping[str, Any], outputs: set[str]) -> dict[str, Any]:
    """The row's non-blank ``truth:<output>`` cells of known outputs (a valid row has no others)."""
    truth: dict[str, Any] = {}
    for col, value in row.items():
        if col.startswith(TRUTH_PREFIX) and col[len(TRUTH_PREFIX):] in outputs and not _blank(value):
            truth[col[len(TRUTH_PREFIX):]] = value
    return truth


def _from_row(row: Mapping[Any, Any], spec: JobSpec, index: int, *, full_items: bool) -> _Unit:
    """An item from one row (table columns, or a full item's fields), with the row's hidden truth."""
    row = {str(k): v for k, v in row.items()}
    raw_key = row.get(KEY_COLUMN)
    key = "" if _blank(raw_key) else str(raw_key)
    problems: list[ItemError] = []
    outputs = {f.name for f in spec.outputs}
    truth: dict[str, Any] = {}
    for col in [c for c in row if c.startswith(TRUTH_PREFIX)]:
        value = row.pop(col)
        name = col[len(TRUTH_PREFIX):]
        if name not in outputs:
            problems.append(ItemError(key, col, f"{name!r} is not an output of the spec", index))
        elif not _blank(value):
            truth[name] = value
    if truth and not key:
        problems.append(ItemError(key, KEY_COLUMN, "a row with truth:* columns needs a key to attach them to",
                                  index))
    try:
        item = Item.model_validate(row) if full_items and "inputs" in row else _row_to_item(row, spec)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in err["loc"]) or None
            problems.append(ItemError(key, loc, err["msg"].removeprefix("Value error, "), index))
        return _Unit(index, None, problems, {}, key=key)
    return _Unit(index, item, problems, truth, key=item.key)


def _check_columns(spec: JobSpec, columns: list[str], line: int | None) -> tuple[list[ItemError], set[str]]:
    """Problems of a table's columns, once each, and the fields whose per-row errors they stand for."""
    inputs = {f.name: f for f in spec.inputs}
    outputs = {f.name for f in spec.outputs}
    errors: list[ItemError] = []
    covered: set[str] = set()
    allowed = (f"the spec's inputs are {', '.join(inputs) or '(none)'}; other columns: {KEY_COLUMN}, {HINT_COLUMN}, "
               f"{GOLDEN_PREFIX}<output>, {TRUTH_PREFIX}<output> for outputs {', '.join(sorted(outputs))}")
    for col in columns:
        if col in (KEY_COLUMN, HINT_COLUMN) or col in inputs:
            continue
        for prefix, field_prefix in ((GOLDEN_PREFIX, "golden."), (TRUTH_PREFIX, "")):
            if col.startswith(prefix):
                name = col[len(prefix):]
                if name not in outputs:
                    errors.append(ItemError("", col, f"{name!r} is not an output; {allowed}",
                                            None, line))
                    covered.add(f"{field_prefix}{name}" if field_prefix else col)
                break
        else:
            errors.append(ItemError("", col, f"unknown column; {allowed}", None, line))
            covered.add(f"inputs.{col}")
    for name, f in inputs.items():
        if f.required and name not in columns:
            errors.append(ItemError("", name, "required input column is missing", None, line))
            covered.add(f"inputs.{name}")
    return errors, covered
