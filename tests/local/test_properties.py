"""Random specs, item rows and CSV bytes thrown at ``validate``, ``plan`` and ``add_items`` (local backend).

Two properties: only the project's own errors (``AnnotateError`` subclasses) ever escape, and no item
the store accepted differs from the row it came from (read back from the store and compared with
the inputs). Deterministic (``derandomize``) and small, so it runs in a few seconds in CI.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from annotate_local import LocalBackend
from annotate_local import schema as t
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select, text

from annotate_core import AnnotateError, JobSpec
from annotate_core.client import Client
from annotate_core.items import derive_key
from annotate_core.specfile import spec_from_dict

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def mostly(good: Any, bad: Any = junk, one_in: int = 8) -> Any:
    """``good`` most of the time, ``bad`` one time in ``one_in``: valid enough to get past the first check."""
    return st.integers(1, one_in).flatmap(lambda i: bad if i == 1 else good)


INPUT_TYPES = ["url", "image", "text", "json", "number", "bool"]
OUTPUT_TYPES = ["label", "labels", "free_text", "number", "bool", "text"]
INPUT_NAMES = ["image", "text", "n", "flag"]
OUTPUT_NAMES = ["result", "tags"]
BAD_NAMES = st.sampled_from(["1bad", "with space", "", "key", "golden:x"])


def rarely_bad(good: Any, bad: Any = junk) -> Any:
    """A spec has many parts: each one must rarely be bad for a fair share of specs to be valid."""
    return mostly(good, bad, one_in=30)


@st.composite
def field_dicts(draw: Any, output: bool) -> Any:
    f: dict[str, Any] = {"name": draw(rarely_bad(st.sampled_from(OUTPUT_NAMES if output else INPUT_NAMES),
                                                 BAD_NAMES | st.sampled_from(INPUT_NAMES + OUTPUT_NAMES))),
                         "type": draw(rarely_bad(st.sampled_from(OUTPUT_TYPES if output else INPUT_TYPES),
                                             st.sampled_from(["video", "label" if not output else "url", 3]) | junk))}
    if draw(st.booleans()):
        f["required"] = draw(rarely_bad(st.booleans()))
    if f["type"] in ("label", "labels") or draw(st.integers(0, 29)) == 0:
        f["options"] = draw(rarely_bad(st.lists(st.sampled_from(["cat", "dog", "cow"]), min_size=2,
                                                max_size=3, unique=True),
                                       st.lists(st.sampled_from(["cat", "", "cat"]), max_size=3)))
    if draw(st.integers(0, 29)) == 0:
        f[draw(st.sampled_from(["colour", "descripton"]))] = draw(junk)
    return draw(rarely_bad(st.just(f)))


def _name(f: Any) -> str:
    return repr(f.get("name")) if isinstance(f, dict) else repr(f)


@st.composite
def spec_dicts(draw: Any) -> Any:
    data: dict[str, Any] = {"name": draw(rarely_bad(st.text(min_size=1, max_size=12))),
                            "inputs": draw(rarely_bad(st.lists(field_dicts(False), min_size=1, max_size=3,
                                                               unique_by=_name))),
                            "outputs": draw(rarely_bad(st.lists(field_dicts(True), min_size=1, max_size=2,
                                                                unique_by=_name)))}
    optional = {
        "overlap": st.fixed_dictionaries({"count": rarely_bad(st.integers(0, 5))}),
        "distribution": rarely_bad(st.fixed_dictionaries({"kind": st.just("pulling"),
                                                          "batch_size": rarely_bad(st.integers(-1, 50))})),
        "pricing": st.fixed_dictionaries({"reward_per_batch": rarely_bad(st.floats(-1, 2))}),
        "quality": junk,
        "nonsense": junk,
    }
    for key, value in optional.items():
        if draw(st.integers(0, 3)) == 0 and (key not in ("quality", "nonsense") or draw(st.integers(0, 3)) == 0):
            data[key] = draw(value)
    return draw(rarely_bad(st.just(data)))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def local(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """The local backend on SQLite, and on PostgreSQL (stricter: no NUL in text, typed columns) when the
    test server is there (``ANNOTATE_TEST_POSTGRES_URL``, set by ``.ci/postgres.sh``)."""
    if request.param == "sqlite":
        backend = LocalBackend(path=str(tmp_path_factory.mktemp("props") / "annotate.db"))
        yield Client(backend, profile="properties")
        backend.close_backend()
        return
    server = os.environ.get("ANNOTATE_TEST_POSTGRES_URL")
    if not server:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("ANNOTATE_TEST_POSTGRES_URL is not set in CI: .ci/postgres.sh must start PostgreSQL")
        pytest.skip("ANNOTATE_TEST_POSTGRES_URL is not set (run `. .ci/postgres.sh` to start a local server)")
    schema = f"annotate_props_{uuid.uuid4().hex[:10]}"  # a fresh schema, dropped afterwards
    admin = create_engine(server)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in server else "?"
    backend = LocalBackend(url=f"{server}{sep}options=-csearch_path%3D{schema}")
    try:
        yield Client(backend, profile="properties")
    finally:
        backend.close_backend()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@SETTINGS
@given(data=spec_dicts(), n_items=st.integers(-5, 10**7) | st.none(), n_golden=st.integers(-5, 1000))
def test_validate_and_plan_raise_only_our_errors(local: Client, data: Any, n_items: int | None,
                                                 n_golden: int) -> None:
    try:
        spec = spec_from_dict(data)
    except AnnotateError:
        event("spec refused")
        return
    try:
        plan = local.plan(spec, n_items=n_items, n_golden=n_golden)
    except AnnotateError:
        event("plan refused")
        return
    event("planned")
    assert plan.render()


# ---- items: a fixed spec with every input type, random rows -----------------------------------------

SPEC = JobSpec.model_validate({
    "name": "props",
    "inputs": [{"name": "image", "type": "image"}, {"name": "text", "type": "text", "required": False},
               {"name": "n", "type": "number", "required": False}, {"name": "flag", "type": "bool", "required": False}],
    "outputs": [{"name": "result", "type": "label", "options": ["cat", "dog"]}],
})

good_urls = st.sampled_from(["https://x.io/a.jpg", "https://x.io/b.png?w=1,h=2", "s3://bucket/k.jpg",
                             "https://x.io/caf\u00e9.jpg", "data:image/png;base64,AAAA"])
bad_urls = st.sampled_from(["https://x.io/c d.jpg", "https://x.io/e.jpg\nk9,https://x.io/f.jpg",
                            'https://x.io/"g.jpg', "nope", "", "http://[::1"]) | st.text(max_size=6) | junk
good_keys = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_.:/", min_size=1, max_size=8) | st.integers(0, 999)
GOOD = {
    "text": st.text(max_size=10) | st.none(),
    "n": st.integers() | st.floats(allow_nan=False) | st.none(),
    "flag": st.booleans() | st.none(),
    "golden:result": st.sampled_from(["cat", "dog", "", None]),
    "hint": st.none() | st.text(max_size=5),
}
BAD = {
    "image": bad_urls,
    "key": st.sampled_from(["k 4", "k\n5", "k\t6", "x" * 400, "\x00"]),
    "text": junk.filter(lambda v: not isinstance(v, str | None)) | st.sampled_from(["a\x00b", "\x00"]),
    # text that is no number or bool (text that is one is read as it, as from a CSV cell)
    "n": junk.filter(lambda v: not isinstance(v, int | float | str | None)) | st.sampled_from(["one", "1,5", "0x1"]),
    "flag": junk.filter(lambda v: not isinstance(v, bool | str | None)) | st.sampled_from(["yes", "t", "2"]),
    "golden:result": st.sampled_from(["cow", "Cat", " cat"]) | junk,
    "hint": junk.filter(lambda v: not isinstance(v, str | None)) | st.just("nul\x00"),
    "colour": junk,
}


@st.composite
def rows(draw: Any) -> dict[str, Any]:
    """A row that is fine, or (one time in four) has one accident: a bad value, a stray column, no image."""
    row: dict[str, Any] = {"image": draw(good_urls)}
    if draw(st.integers(0, 4)):
        row["key"] = draw(good_keys)
    for col, strategy in GOOD.items():
        if draw(st.booleans()):
            row[col] = draw(strategy)
    if draw(st.integers(0, 3)) == 0:
        col = draw(st.sampled_from([*BAD, "no image"]))
        if col == "no image":
            del row["image"]
        else:
            row[col] = draw(BAD[col])
    return row


def stored_items(client: Client, job_id: str) -> dict[str, tuple[Any, Any, Any]]:
    store = client.backend.store  # type: ignore[attr-defined]
    with store.read() as conn:
        found = conn.execute(select(t.items.c.key, t.items.c.inputs, t.items.c.golden, t.items.c.hint)
                             .where(t.items.c.job_id == job_id)).all()
    return {k: (inputs, golden, hint) for k, inputs, golden, hint in found}


def expected_from_row(row: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any] | None, Any]:
    """What a row means, written independently of the code under test (dict rows: typed values as given;
    an empty string or a float NaN, pandas' missing value, is no value)."""
    inputs = {c: (None if absent(v) else v) for c, v in row.items()
              if c not in ("key", "hint") and not c.startswith("golden:")}
    gold = row.get("golden:result")
    golden = None if absent(gold) else {"result": gold}
    key = row.get("key")
    key = derive_key(inputs) if absent(key) else str(key)
    hint = row.get("hint")
    return key, inputs, golden, None if absent(hint) or not hint else hint


def absent(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "") or (
        isinstance(value, float) and math.isnan(value))


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and type(a) is type(b) if not isinstance(a, dict | list) else a == b


@SETTINGS
@given(batch=st.lists(rows(), max_size=6), allow_partial=st.booleans(), on_error=st.sampled_from(["raise", "report"]))
def test_add_items_raises_only_our_errors_and_stores_rows_unchanged(local: Client, batch: list[dict[str, Any]],
                                                                    allow_partial: bool, on_error: str) -> None:
    job = local.create_job(SPEC)
    report = None
    try:
        report = job.add_items(batch, allow_partial=allow_partial, on_error=on_error, progress=False)
    except AnnotateError as exc:
        report = getattr(exc, "report", None)
    stored = stored_items(local, job.id)
    event(f"stored {min(len(stored), 2)}+ item(s)")
    if report is None or (report.errors and not allow_partial):
        assert stored == {}, "an upload with rejected items stored something"
        return
    assert len(stored) == report.created
    expected: dict[str, tuple[Any, Any, Any]] = {}
    for row in batch:
        key, inputs, golden, hint = expected_from_row(row)
        expected.setdefault(key, (inputs, golden, hint))  # the first row of a key is the one kept
    for key, (inputs, golden, hint) in stored.items():
        assert key in expected, f"stored item {key!r} matches no row"
        want_inputs, want_golden, want_hint = expected[key]
        assert set(inputs) == set(want_inputs) and all(same(inputs[c], want_inputs[c]) for c in inputs), key
        assert golden == want_golden and hint == want_hint, key


# ---- raw CSV bytes: well-formed rows, then one structural accident ------------------------------------

safe_keys = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=6)
csv_rows = st.lists(st.tuples(safe_keys, st.sampled_from(["https://x.io/a.jpg", "https://x.io/b.jpg?s=1,2", "gs://b/c"]),
                              st.sampled_from(["", "cat", "dog"]), st.integers(-5, 5) | st.just("")),
                    min_size=1, max_size=6, unique_by=lambda r: r[0])
ACCIDENTS = [b'"', b",", b"\n", b"\r", b"\xff", b"\xe9", b"\t", b"\x00"]


def csv_bytes(table: list[tuple[str, str, str, Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["key", "image", "golden:result", "n"])
    w.writerows(table)
    return buf.getvalue().encode()


def outside_quotes(raw: bytes) -> list[int]:
    """Offsets between bytes that lie outside a quoted field: a comma there is structure, not data."""
    spots, quoted = [], False
    for i in range(len(raw) + 1):
        if not quoted:
            spots.append(i)
        if i < len(raw) and raw[i:i + 1] == b'"':
            quoted = not quoted
    return spots


@st.composite
def broken_csv(draw: Any) -> tuple[list[tuple[str, str, str, Any]], bytes]:
    """A well-formed file, or one accident that can only break structure (a comma inside a quoted URL
    would be a different, valid URL, so commas go in or out only where they are structure)."""
    table = draw(csv_rows)
    raw = csv_bytes(table)
    kind = draw(st.sampled_from(["none", "insert", "quote-at-field-start", "drop-structure"]))
    free = outside_quotes(raw)
    if kind == "insert":
        accident = draw(st.sampled_from(ACCIDENTS))
        at = draw(st.sampled_from(free) if accident == b"," else st.integers(0, len(raw)))
        raw = raw[:at] + accident + raw[at:]
    elif kind == "quote-at-field-start":
        starts = [0] + [i + 1 for i, b in enumerate(raw[:-1]) if raw[i:i + 1] in (b",", b"\n")]
        at = draw(st.sampled_from(starts))
        raw = raw[:at] + b'"' + raw[at:]
    elif kind == "drop-structure":
        spots = [i for i in range(len(raw)) if raw[i:i + 1] == b'"'
                 or (raw[i:i + 1] in (b",", b"\n") and i in free)]
        at = draw(st.sampled_from(spots))
        raw = raw[:at] + raw[at + 1:]
    return table, raw


@SETTINGS
@given(case=broken_csv(), allow_partial=st.booleans())
def test_csv_bytes_never_become_items_other_than_their_rows(local: Client, tmp_path_factory: pytest.TempPathFactory,
                                                            case: tuple[list[Any], bytes], allow_partial: bool) -> None:
    table, raw = case
    path: Path = tmp_path_factory.mktemp("csv") / "items.csv"
    path.write_bytes(raw)
    spec = JobSpec.model_validate({**SPEC.model_dump(exclude_unset=True),
                                   "inputs": [{"name": "image", "type": "image"},
                                              {"name": "n", "type": "number", "required": False}]})
    job = local.create_job(spec)
    report = None
    with contextlib.suppress(AnnotateError):
        report = job.add_items(path, allow_partial=allow_partial, on_error="report", progress=False)
    stored = stored_items(local, job.id)
    event(f"csv: stored {min(len(stored), 2)}+ item(s)")
    if report is None or (report.errors and not allow_partial):
        assert stored == {}
        return
    original = {k: ({"image": url, "n": None if n == "" else n}, {"result": g} if g else None)
                for k, url, g, n in table}
    if not allow_partial:  # all or nothing: whatever was stored is exactly the rows meant
        for key, (inputs, golden, _) in stored.items():
            assert key in original, f"stored key {key!r} is no row's key"
            assert (inputs, golden) == original[key], key
    else:  # the valid rows: each stored item is a whole, well-formed row of the file as written
        written = rows_as_written(raw)
        for key, (inputs, golden, _) in stored.items():
            assert (inputs, golden) in written.get(key, []), f"stored item {key!r} is no row of the file"
    if raw == csv_bytes(table):  # nothing broken: everything is stored
        assert set(stored) == set(original) and report.errors == []


def rows_as_written(raw: bytes) -> dict[str, list[tuple[dict[str, Any], dict[str, Any] | None]]]:
    """Each complete row of the file as the lenient csv module reads it: what a row literally says.

    A line break that splits a row whose last cell is empty leaves a complete row before it: with
    ``allow_partial`` that row is legitimately kept (as written), its broken remainder rejected.
    """
    found: dict[str, list[tuple[dict[str, Any], dict[str, Any] | None]]] = {}
    reader = csv.reader(io.StringIO(raw.decode("utf-8", "replace"), newline=""))
    next(reader, None)
    for cells in reader:
        if len(cells) != 4:
            continue
        key, url, gold, n = cells
        n = n.strip()  # int() reads " 3" as 3, as a spreadsheet does
        inputs = {"image": url, "n": int(n) if n.lstrip("-").isdigit() else (None if n == "" else n)}
        found.setdefault(key or derive_key(inputs), []).append((inputs, {"result": gold} if gold else None))
    return found
