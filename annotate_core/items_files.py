"""Strict reading of items files (CSV, TSV, JSONL): every row with the line it starts on.

Spreadsheet exports go wrong in ways the csv module forgives by default: a quote left open swallows
the rows after it into one field, a stray delimiter shifts the columns of a row, a file saved in a
legacy encoding decodes to garbage. Read here, such a row is a ``Record`` carrying its problem and
its line, never silently merged or dropped; a file whose structure breaks beyond one row (a quote
never closed, a header that cannot be read, no rows at all) raises ``ItemsInputError`` whole.

Lines are read as bytes and decoded one by one, so a non-UTF-8 byte is reported on its own line.
A quoted CSV field may legitimately span lines (a text input with a line break); whether the row
then makes sense is for validation against the spec to say (a URL never holds a line break).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from annotate_core.errors import ItemsInputError

DELIMITERS: dict[str, str | None] = {".csv": ",", ".tsv": "\t", ".jsonl": None, ".ndjson": None}
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Record:
    """One row of an items file: its cells, or why it could not be read, and the lines it spans."""

    line: int
    end_line: int
    row: dict[str, Any] | None
    problem: str | None = None

    @property
    def where(self) -> str:
        return f"line {self.line}" if self.end_line == self.line else f"lines {self.line}-{self.end_line}"


def short(value: Any, limit: int = 60) -> str:
    """``repr`` cut to ``limit`` characters: a swallowed file must not become a megabyte of message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


class _Lines:
    """Decoded lines of a binary file, counting them and remembering which were not UTF-8."""

    def __init__(self, fh: IO[bytes], split_cr: bool) -> None:
        self._fh = fh
        self._split_cr = split_cr
        self.count = 0
        self.not_utf8: dict[int, str] = {}
        self.exhausted = False

    def __iter__(self) -> Iterator[str]:
        for raw in self._fh:
            if self.count == 0 and raw.startswith(BOM):
                raw = raw[len(BOM):]
            # CSV: a lone CR ends a line too (old spreadsheet exports); JSON text never holds one raw
            for piece in raw.splitlines(keepends=True) if self._split_cr else [raw]:
                self.count += 1
                try:
                    yield piece.decode("utf-8")
                except UnicodeDecodeError as exc:
                    bad = piece[exc.start:exc.start + 1].hex()
                    self.not_utf8[self.count] = (f"not UTF-8 text (byte 0x{bad} at column {exc.start + 1}); "
                                                 "save the file as UTF-8")
                    yield piece.decode("utf-8", "replace")
        self.exhausted = True


class ItemsFile:
    """An items file, read strictly; ``records()`` streams its rows and may be called again."""

    def __init__(self, path: str | Path) -> None:
        p = Path(path)
        suffix = p.suffix.lower()
        if suffix not in DELIMITERS:
            raise ItemsInputError(f"{p}: expected a .csv, .tsv or .jsonl file of items")
        if not p.exists():
            raise ItemsInputError(f"{p}: no such items file")
        if not p.is_file():
            raise ItemsInputError(f"{p}: is not a file; expected a .csv, .tsv or .jsonl file of items")
        self.path = p
        self.delimiter = DELIMITERS[suffix]
        self.columns: list[str] | None = None
        if self.delimiter is not None:
            self.columns = self._read_header()

    def stamp(self) -> tuple[int, int]:
        """Size and modification time: a file read twice must not change in between."""
        st = self.path.stat()
        return st.st_size, st.st_mtime_ns

    @property
    def is_table(self) -> bool:
        return self.delimiter is not None

    def _open(self) -> IO[bytes]:
        return self.path.open("rb")  # an OSError (permissions, ...) names the file and its cause itself

    def _reader(self, lines: _Lines) -> Any:
        return csv.reader(lines, delimiter=self.delimiter or ",", strict=True)

    def _read_header(self) -> list[str]:
        with self._open() as fh:
            lines = _Lines(fh, split_cr=True)
            reader = self._reader(lines)
            try:
                header = next((r for r in reader if r), None)
            except csv.Error as exc:
                raise ItemsInputError(f"{self.path}:{reader.line_num}: the header line is not valid CSV "
                                      f"({exc})") from None
            if header is None:
                raise ItemsInputError(f"{self.path}: the file is empty; expected a header line naming the "
                                      "columns, then one row per item")
            line = reader.line_num
            if line in lines.not_utf8:
                raise ItemsInputError(f"{self.path}:{line}: {lines.not_utf8[line]}")
        problems = []
        for n, name in enumerate(header, 1):
            if not name.strip():
                problems.append(f"column {n} has no name")
            elif name != name.strip() or any(c in name for c in "\r\n"):
                problems.append(f"column {n} {name!r} has spaces or line breaks around its name")
        dupes = sorted({c for c in header if header.count(c) > 1 and c.strip()})
        problems += [f"column {c!r} appears {header.count(c)} times" for c in dupes]
        if problems:
            raise ItemsInputError(f"{self.path}:{line}: " + "; ".join(problems))
        return header

    def records(self) -> Iterator[Record]:
        """Every data row in file order; raises ``ItemsInputError`` when the file as a whole is broken."""
        n = 0
        for rec in self._csv_records() if self.is_table else self._jsonl_records():
            n += 1
            yield rec
        if n == 0:
            what = "a header but no rows" if self.is_table else "no items (only blank lines)"
            raise ItemsInputError(f"{self.path}: the file has {what}; expected one row per item")

    def rows(self) -> Iterator[dict[str, Any]]:
        """The rows as dicts; the first one that cannot be read raises ``ItemsInputError`` naming its line."""
        for rec in self.records():
            if rec.row is None:
                raise ItemsInputError(f"{self.path}:{rec.line}: {rec.problem}")
            yield rec.row

    def _csv_records(self) -> Iterator[Record]:
        assert self.columns is not None
        width = len(self.columns)
        with self._open() as fh:
            lines = _Lines(fh, split_cr=True)
            reader = self._reader(lines)
            end = 0
            header_seen = False
            while True:
                start = end + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    end = reader.line_num
                    if lines.exhausted or "field larger than field limit" in str(exc):
                        raise ItemsInputError(
                            f"{self.path}:{start}: a quote opened in this row is never closed: everything from "
                            f"line {start} on was read as one field ({exc}); close the quote or remove it"
                        ) from None
                    yield Record(start, end, None, f"not valid CSV ({exc})")
                    continue
                end = reader.line_num
                if not cells:
                    continue  # a blank line
                if not header_seen:
                    header_seen = True
                    continue
                rec_lines = range(start, end + 1)
                bad = next((lines.not_utf8[i] for i in rec_lines if i in lines.not_utf8), None)
                if bad:
                    yield Record(start, end, None, bad)
                elif len(cells) != width:
                    more = "more" if len(cells) > width else "fewer"
                    hint = (f": the row spans lines {start}-{end}, is a quote left open?" if end > start else
                            f": an unquoted {'tab' if self.delimiter == chr(9) else 'comma'} in a value, "
                            "or a cell missing?")
                    yield Record(start, end, None, f"{len(cells)} fields, {more} than the {width} columns of "
                                                   f"the header{hint}")
                else:
                    yield Record(start, end, dict(zip(self.columns, cells, strict=True)))

    def _jsonl_records(self) -> Iterator[Record]:
        with self._open() as fh:
            lines = _Lines(fh, split_cr=False)
            for text in lines:
                n = lines.count
                if not text.strip():
                    continue
                if n in lines.not_utf8:
                    yield Record(n, n, None, lines.not_utf8[n])
                    continue
                try:
                    value = json.loads(text)
                except ValueError as exc:
                    yield Record(n, n, None, f"not valid JSON ({exc})")
                    continue
                if not isinstance(value, dict):
                    yield Record(n, n, None, f"expected a JSON object per line, got {type(value).__name__}")
                    continue
                yield Record(n, n, value)


def iter_file_rows(path: str | Path) -> Iterator[dict[str, Any]]:
    """Rows as dicts (CSV cells as text), streamed; the first row that cannot be read raises, naming its line."""
    return ItemsFile(path).rows()
