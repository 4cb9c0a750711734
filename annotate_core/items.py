"""Items: units of data with a stable client-side key, their validation, and upload reports.

The key is what makes uploads idempotent on every backend: the same key twice is the same item, so
a rerun after a crash adds only what is missing. Items without an explicit key get one derived from
their inputs (a hash), so re-sending identical rows is harmless too.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from pydantic import Field, model_validator

from annotate_core.items_files import ItemsFile, iter_file_rows, short
from annotate_core.model.base import SpecModel
from annotate_core.model.fields import DataField, FieldType

if TYPE_CHECKING:
    import pandas as pd

    from annotate_core.model.spec import JobSpec

GOLDEN_PREFIX = "golden:"
TRUTH_PREFIX = "truth:"  # hidden true answers: for simulators and accuracy, never uploaded
HINT_COLUMN = "hint"
KEY_COLUMN = "key"
MAX_KEY_LENGTH = 300  # the local store's key column; longer keys are a sign of a row gone wrong anyway


def derive_key(inputs: Mapping[str, Any]) -> str:
    """A stable key from the inputs: identical inputs give the identical key, in any process."""
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return "h-" + hashlib.sha256(canonical.encode()).hexdigest()[:24]


class Item(SpecModel):
    """One unit of data. ``golden`` holds its known answer (output name -> value) when it has one."""

    key: str = Field("", description="Stable client-side id; derived from inputs when empty.")
    inputs: dict[str, Any]
    golden: dict[str, Any] | None = None
    hint: str | None = Field(None, description="Shown to a worker who gets a golden/training item wrong.")
    overlap: int | None = Field(None, ge=1, description="Overrides the spec's overlap for this item.")

    @model_validator(mode="after")
    def _key(self) -> Item:
        if not self.key:
            object.__setattr__(self, "key", derive_key(self.inputs))
        return self

    @property
    def is_golden(self) -> bool:
        return self.golden is not None


@dataclass(frozen=True)
class ItemError:
    """Why one item was rejected: its key, the field at fault, what was expected, and where it was.

    ``index`` counts items from 0 in the order given; ``line`` is the line of an items file the row
    starts on (the header is line 1), when the items came from a file.
    """

    key: str
    field: str | None
    message: str
    index: int | None = None
    line: int | None = None

    def describe(self) -> str:
        if self.line is not None:
            where = f"line {self.line}" + (f" (item {self.key!r})" if self.key else "")
        elif self.key:
            where = f"item {self.key!r}" + (f" (#{self.index})" if self.index is not None else "")
        else:
            where = f"item #{self.index}" if self.index is not None else "items"
        return f"{where}: {self.field + ': ' if self.field else ''}{self.message}"


def describe_errors(errors: list[ItemError], limit: int = 20) -> list[str]:
    """The first ``limit`` errors, one line each, and how many more there are."""
    lines = [f"  - {e.describe()}" for e in errors[:limit]]
    if len(errors) > limit:
        lines.append(f"  ... and {len(errors) - limit} more")
    return lines


@dataclass(repr=False)
class UploadReport:
    """Outcome of ``add_items``: counts, and every per-item error (never swallowed).

    ``rejected`` counts items refused (one item may have several errors); ``uploaded`` is False when
    an atomic upload refused everything because some items were invalid.
    """

    created: int = 0
    existing: int = 0
    errors: list[ItemError] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    rejected: int = 0
    uploaded: bool = True

    @property
    def ok(self) -> bool:
        return not self.errors

    def merge(self, other: UploadReport) -> None:
        self.created += other.created
        self.existing += other.existing
        self.rejected += other.rejected
        self.uploaded = self.uploaded and other.uploaded
        self.errors.extend(other.errors)
        self.keys.extend(other.keys)

    def __repr__(self) -> str:
        # short whatever the upload's size: a million keys must not become megabytes of repr
        first = ", ".join(repr(e.describe()) for e in self.errors[:3])
        more = f", ... {len(self.errors) - 3} more" if len(self.errors) > 3 else ""
        return (f"UploadReport(created={self.created}, existing={self.existing}, rejected={self.rejected}, "
                f"uploaded={self.uploaded}, keys=<{len(self.keys)}>, errors=<{len(self.errors)}>"
                + (f" [{first}{more}]" if self.errors else "") + ")")


# --- validation ------------------------------------------------------------------------------


def _check_value(f: DataField, value: Any) -> str | None:
    """None when ``value`` fits field ``f``, else what was expected."""
    t = f.type
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "is required" if f.required else None
    if t in (FieldType.URL, FieldType.IMAGE):
        if not isinstance(value, str):
            return f"expected a URL string, got {type(value).__name__}"
        if not value.isprintable() or _NOT_IN_URLS.search(value):
            # a quote left open in a CSV shows up here: the next rows glued on after a line break
            return f"expected a URL without spaces, quotes or line breaks, got {short(value)}"
        try:
            parsed = urlparse(value)
        except ValueError:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https", "s3", "gs", "file", "data") or not (
            parsed.netloc or parsed.scheme in ("file", "data")
        ):
            return f"expected an http(s) URL, got {short(value)}"
    elif t in (FieldType.TEXT, FieldType.FREE_TEXT):
        if not isinstance(value, str):
            return f"expected text, got {type(value).__name__}"
    elif t is FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected a number, got {short(value)}"
        if isinstance(value, float) and math.isinf(value):
            return f"expected a finite number, got {value!r}"  # JSON, and so every vendor API, has no infinity
    elif t is FieldType.BOOL:
        if not isinstance(value, bool):
            return f"expected true or false, got {short(value)}"
    elif t is FieldType.LABEL:
        if not _is_option(value, f.option_values):
            return f"expected one of {list(f.option_values)}, got {short(value)}"
    elif t is FieldType.LABELS:
        if not isinstance(value, list | tuple) or any(not _is_option(v, f.option_values) for v in value):
            return f"expected a list of {list(f.option_values)}, got {short(value)}"
    return None


# never unescaped in a URL, and a sign of CSV gone wrong (line breaks and tabs fail isprintable)
_NOT_IN_URLS = re.compile(r'[ "<>\\`]')


def _is_option(value: Any, options: Any) -> bool:
    try:
        return value in options
    except TypeError:  # an unhashable value (a list, a dict) is no option
        return False


def _check_key(key: str) -> str | None:
    if not key.isprintable() or '"' in key:  # a quote in a key is a CSV row gone wrong, as in a URL
        return f"expected a key without quotes, line breaks or control characters, got {short(key)}"
    if len(key) > MAX_KEY_LENGTH:
        return f"expected a key of at most {MAX_KEY_LENGTH} characters, got {len(key)}"
    return None


def validate_item(spec: JobSpec, item: Item, index: int | None = None) -> list[ItemError]:
    """Every problem of one item against the spec's inputs (and outputs, for golden answers)."""
    errors: list[ItemError] = []
    bad_key = _check_key(item.key)
    if bad_key:
        errors.append(ItemError(item.key, "key", bad_key, index))
    if item.hint is not None and _has_nul(item.hint):
        errors.append(ItemError(item.key, "hint", NUL_PROBLEM, index))
    known = {f.name for f in spec.inputs}
    for f in spec.inputs:
        value = item.inputs.get(f.name)
        problem = NUL_PROBLEM if _has_nul(value) else _check_value(f, value)
        if problem:
            errors.append(ItemError(item.key, f"inputs.{f.name}", problem, index))
    for extra in sorted(set(item.inputs) - known):
        errors.append(ItemError(item.key, f"inputs.{extra}", "is not an input field of the spec", index))
    if item.golden is not None:
        outputs = {f.name: f for f in spec.outputs}
        for name, value in item.golden.items():
            if name not in outputs:
                errors.append(ItemError(item.key, f"golden.{name}", "is not an output field", index))
                continue
            problem = NUL_PROBLEM if _has_nul(value) else _check_value(outputs[name], value)
            if problem:
                errors.append(ItemError(item.key, f"golden.{name}", problem, index))
    return errors


NUL_PROBLEM = "expected text without NUL characters (0x00): they are a sign of a binary or broken file"


def _has_nul(value: Any) -> bool:
    """A NUL anywhere in a value: PostgreSQL (and many vendor APIs) refuse it, so it never gets that far."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def iter_valid_items(
    spec: JobSpec, items: Iterable[Item], errors: list[ItemError], *, golden_refused: str | None = None
) -> Iterator[Item]:
    """Yield the items that fit the spec, appending every problem of the others to ``errors``.

    Streams, so a 100k-row upload is never held in memory; duplicate keys within the stream are
    errors. ``golden_refused`` is the message for golden items when the backend cannot take them.
    """
    seen: set[str] = set()
    for i, item in enumerate(items):
        problems = validate_item(spec, item, i)
        if item.is_golden and golden_refused:
            problems.append(ItemError(item.key, "golden", golden_refused, i))
        if item.key in seen:
            problems.append(ItemError(item.key, "key", "duplicate key in this upload", i))
        seen.add(item.key)
        if problems:
            errors.extend(problems)
        else:
            yield item


def validate_items(spec: JobSpec, items: Iterable[Item]) -> tuple[list[Item], list[ItemError]]:
    """Split items into the valid ones and per-item errors; duplicate keys are errors too."""
    errors: list[ItemError] = []
    good = list(iter_valid_items(spec, items, errors))
    return good, errors


# --- coercion from user data -----------------------------------------------------------------


def _row_to_item(row: Mapping[str, Any], spec: JobSpec | None) -> Item:
    key = row.get(KEY_COLUMN)
    key = "" if key is None or (isinstance(key, float) and math.isnan(key)) else key
    inputs: dict[str, Any] = {}
    golden: dict[str, Any] = {}
    hint = row.get(HINT_COLUMN) or None
    if isinstance(hint, float) and math.isnan(hint):
        hint = None
    for col, value in ((str(c), v) for c, v in row.items()):
        if col in (KEY_COLUMN, HINT_COLUMN) or col.startswith(TRUTH_PREFIX):
            continue  # hidden truth is never uploaded
        if isinstance(value, float) and math.isnan(value):
            value = None
        if col.startswith(GOLDEN_PREFIX):
            if value not in (None, ""):
                golden[col[len(GOLDEN_PREFIX):]] = value
        else:
            inputs[col] = value
    if spec is not None:
        inputs = {k: _coerce_text(spec, k, v) for k, v in inputs.items()}
        golden = {k: _coerce_answer(spec, k, v) for k, v in golden.items()}
    return Item(key=str(key), inputs=inputs, golden=golden or None, hint=hint)


def _coerce_text(spec: JobSpec, name: str, value: Any) -> Any:
    """CSV cells are strings: turn them into the field's type where that is unambiguous."""
    if not isinstance(value, str):
        return value
    f = next((f for f in spec.inputs if f.name == name), None)
    return _coerce(f, value)


def _coerce_answer(spec: JobSpec, name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    f = next((f for f in spec.outputs if f.name == name), None)
    return _coerce(f, value)


def _coerce(f: DataField | None, value: str) -> Any:
    if f is None:
        return value
    if value == "":
        return None
    if f.type is FieldType.NUMBER:
        try:
            return float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            return value
    if f.type is FieldType.BOOL and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    if f.type is FieldType.JSON or f.type is FieldType.LABELS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def coerce_items(data: Any, spec: JobSpec | None = None) -> Iterator[Item]:
    """Items from a list of Items/dicts, a DataFrame, or a CSV/JSONL path.

    Table rows use one column per input, ``key`` for the key, ``golden:<output>`` for known
    answers and ``hint`` for a hint. Dict rows may also be full items (``{"inputs": {...}}``).
    """
    if isinstance(data, str | Path):
        yield from read_items_file(Path(data), spec)
        return
    import pandas as pd  # a core dependency, imported late because most callers never need it

    if isinstance(data, pd.DataFrame):
        for row in data.to_dict(orient="records"):
            yield _row_to_item({str(k): v for k, v in row.items()}, spec)
        return
    for entry in data:
        if isinstance(entry, Item):
            yield entry
        elif isinstance(entry, Mapping) and "inputs" in entry:
            yield Item.model_validate(entry)
        elif isinstance(entry, Mapping):
            yield _row_to_item(entry, spec)
        else:
            raise TypeError(f"cannot make an item from {type(entry).__name__}; pass Item, dict or DataFrame")


def iter_rows(path: str | Path) -> Iterator[dict[str, Any]]:
    """Rows of a CSV/TSV/JSONL items file as dicts (CSV cells as text), streamed and read strictly.

    The first row that cannot be read raises ``ItemsInputError`` (a ``ValueError``) naming its line;
    ``annotate_core.items_check.check_items`` lists every bad row instead.
    """
    return iter_file_rows(path)


def split_truth(rows: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Rows without their ``truth:<output>`` columns, and the truth as ``{key: {output: value}}``.

    True answers are for a simulator and for measuring accuracy; they must never reach a vendor's
    workers, so they are taken out before upload. Rows carrying truth need a ``key`` to attach it to.
    """
    clean: list[dict[str, Any]] = []
    truth: dict[str, dict[str, Any]] = {}
    for n, row in enumerate(rows):
        known = {str(k)[len(TRUTH_PREFIX):]: v for k, v in row.items()
                 if str(k).startswith(TRUTH_PREFIX) and v not in (None, "")}
        if known:
            if not row.get(KEY_COLUMN):
                raise ValueError(f"row {n + 1} has truth:* columns but no `key` column to attach them to")
            truth[str(row[KEY_COLUMN])] = known
        clean.append({k: v for k, v in row.items() if not str(k).startswith(TRUTH_PREFIX)})
    return clean, truth


def read_items_file(path: str | Path, spec: JobSpec | None = None) -> Iterator[Item]:
    """Stream items from CSV/TSV or JSONL without loading the whole file (rows read strictly)."""
    f = ItemsFile(path)
    for row in f.rows():
        yield from coerce_items([row], spec) if not f.is_table else [_row_to_item(row, spec)]


def items_frame(items: Iterable[Item]) -> pd.DataFrame:
    """Items as a table in the same column convention that ``coerce_items`` reads."""
    import pandas as pd

    rows = []
    for it in items:
        row: dict[str, Any] = {KEY_COLUMN: it.key, **it.inputs}
        for k, v in (it.golden or {}).items():
            row[GOLDEN_PREFIX + k] = v
        rows.append(row)
    return pd.DataFrame(rows)
