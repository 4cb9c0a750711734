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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from annotate_local import LocalBackend
from annotate_local import schema as t
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

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


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    backend = LocalBackend(path=str(tmp_path_factory.mktemp("props") / "annotate.db"))
    yield Client(backend, profile="properties")
    backend.close_backend()


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
    "text": junk.filter(lambda v: not isinstance(v, str | None)),
    "n": junk.filter(lambda v: not isinstance(v, int | float | None)) | st.text(max_size=4),
    "flag": junk.filter(lambda v: not isinstance(v, bool | None)),
    "golden:result": st.sampled_from(["cow", "Cat", " cat"]) | junk,
    "hint": junk.filter(lambda v: not isinstance(v, str | None)),
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
    """What a row means, written independently of the code under test (dict rows: typed values as given)."""
    inputs = {c: (None if v == "" else v) for c, v in row.items()
              if c not in ("key", "hint") and not c.startswith("golden:")}
    gold = row.get("golden:result")
    golden = None if gold in (None, "") else {"result": gold}
    key = row.get("key")
    key = derive_key(inputs) if key in (None, "") else str(key)
    return key, inputs, golden, row.get("hint") or None


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


@st.composite
def broken_csv(draw: Any) -> tuple[list[tuple[str, str, str, Any]], bytes]:
    table = draw(csv_rows)
    raw = csv_bytes(table)
    kind = draw(st.sampled_from(["none", "insert", "quote-at-field-start", "drop-structure"]))
    if kind == "insert":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from(ACCIDENTS)) + raw[at:]
    elif kind == "quote-at-field-start":
        starts = [0] + [i + 1 for i, b in enumerate(raw[:-1]) if raw[i:i + 1] in (b",", b"\n")]
        at = draw(st.sampled_from(starts))
        raw = raw[:at] + b'"' + raw[at:]
    elif kind == "drop-structure":
        spots = [i for i, b in enumerate(raw) if raw[i:i + 1] in (b",", b"\n", b'"')]
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
    for key, (inputs, golden, _) in stored.items():
        assert key in original, f"stored key {key!r} is no row's key"
        assert (inputs, golden) == original[key], key
    if raw == csv_bytes(table):  # nothing broken: everything is stored
        assert set(stored) == set(original) and report.errors == []
