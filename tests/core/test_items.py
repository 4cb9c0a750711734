"""Items: keys, coercion from tables and files, and validation naming the field."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from annotate_core import Item
from annotate_core.errors import ItemsInputError
from annotate_core.items import coerce_items, derive_key, items_frame, iter_rows, read_items_file, validate_items
from annotate_core.items_check import check_items

from .conftest import make_spec


def test_derived_keys_are_stable_and_input_order_independent() -> None:
    a = Item(inputs={"image": "https://x.io/1.jpg", "n": 1})
    b = Item(inputs={"n": 1, "image": "https://x.io/1.jpg"})
    assert a.key == b.key == derive_key({"image": "https://x.io/1.jpg", "n": 1})
    assert a.key != Item(inputs={"image": "https://x.io/2.jpg", "n": 1}).key
    assert Item(key="k1", inputs={}).key == "k1"


def test_validation_collects_every_problem_with_field_paths() -> None:
    spec = make_spec(inputs=[{"name": "image", "type": "image"}, {"name": "n", "type": "number"}])
    items = [
        Item(key="ok", inputs={"image": "https://x.io/1.jpg", "n": 2}),
        Item(key="bad-url", inputs={"image": "not a url", "n": 2}),
        Item(key="missing", inputs={"n": 1}),
        Item(key="extra", inputs={"image": "https://x.io/1.jpg", "n": 1, "colour": "red"}),
        Item(key="bad-gold", inputs={"image": "https://x.io/1.jpg", "n": 1}, golden={"result": "cow"}),
        Item(key="ok", inputs={"image": "https://x.io/9.jpg", "n": 3}),
    ]
    good, errors = validate_items(spec, items)
    assert [i.key for i in good] == ["ok"]
    got = {(e.key, e.field) for e in errors}
    assert got == {("bad-url", "inputs.image"), ("missing", "inputs.image"), ("extra", "inputs.colour"),
                   ("bad-gold", "golden.result"), ("ok", "key")}
    gold = next(e for e in errors if e.key == "bad-gold")
    assert "expected one of ['cat', 'dog'], got 'cow'" in gold.describe()


def test_csv_rows_become_typed_items_with_golden(tmp_path: Path) -> None:
    spec = make_spec(inputs=[{"name": "image", "type": "image"}, {"name": "n", "type": "number"},
                             {"name": "flag", "type": "bool"}])
    p = tmp_path / "items.csv"
    p.write_text("key,image,n,flag,golden:result,hint\n"
                 "a,https://x.io/a.jpg,3,true,cat,look at the ears\n"
                 "b,https://x.io/b.jpg,2.5,false,,\n")
    a, b = read_items_file(p, spec)
    assert (a.key, a.inputs, a.golden, a.hint) == ("a", {"image": "https://x.io/a.jpg", "n": 3, "flag": True},
                                                     {"result": "cat"}, "look at the ears")
    assert b.inputs["n"] == 2.5 and b.golden is None and b.hint is None


def test_jsonl_and_dataframe_round_trip(tmp_path: Path) -> None:
    spec = make_spec()
    items = [Item(key=f"k{i}", inputs={"image": f"https://x.io/{i}.jpg"}, golden={"result": "dog"} if i else None)
             for i in range(3)]
    frame = items_frame(items)
    assert list(frame.columns) == ["key", "image", "golden:result"]
    back = list(coerce_items(frame, spec))
    assert back == items
    p = tmp_path / "items.jsonl"
    p.write_text("\n".join(i.model_dump_json() for i in items) + "\n")
    assert list(coerce_items(p, spec)) == items
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"inputs": {}}\n{oops\n')
    with pytest.raises(ValueError, match="bad.jsonl:2: not valid JSON"):
        list(coerce_items(bad, spec))


def test_unsupported_inputs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"expected a \.csv, \.tsv or \.jsonl"):
        list(coerce_items(tmp_path / "x.parquet"))
    with pytest.raises(TypeError, match="cannot make an item from int"):
        list(coerce_items([1]))
    assert isinstance(pd.DataFrame(), pd.DataFrame)


def test_hidden_truth_is_split_off_and_never_uploaded(tmp_path: Path) -> None:
    from annotate_core.items import iter_rows, split_truth

    p = tmp_path / "items.csv"
    p.write_text("key,image,truth:result\na,https://x.io/a.jpg,cat\nb,https://x.io/b.jpg,\n")
    rows, truth = split_truth(iter_rows(p))
    assert truth == {"a": {"result": "cat"}}
    assert rows == [{"key": "a", "image": "https://x.io/a.jpg"}, {"key": "b", "image": "https://x.io/b.jpg"}]
    # read directly as items, the truth column is dropped rather than sent as an input
    assert [i.inputs for i in read_items_file(p, make_spec())] == [{"image": "https://x.io/a.jpg"},
                                                                  {"image": "https://x.io/b.jpg"}]
    with pytest.raises(ValueError, match="row 1 has truth:\\* columns but no `key`"):
        split_truth([{"image": "https://x.io/a.jpg", "truth:result": "cat"}])


# ---- strict reading: every bad row named by its line, nothing merged or dropped -------------------

HEADER = "key,image,golden:result\n"


def rows_csv(n: int, start: int = 0) -> str:
    return "".join(f"img-{i},https://x.example/{i}.jpg,\n" for i in range(start, start + n))


def test_a_quote_never_closed_refuses_the_file_naming_its_line(tmp_path: Path) -> None:
    p = tmp_path / "items.csv"
    p.write_text(HEADER + rows_csv(2) + 'img-2,"https://x.example/a.jpg,,dog\n' + rows_csv(5, 3))
    with pytest.raises(ItemsInputError, match=r"items.csv:4: a quote opened in this row is never closed"):
        check_items(make_spec(), p)
    with pytest.raises(ItemsInputError, match=r"items.csv:4: "):
        list(iter_rows(p))


def test_a_quote_closed_rows_later_is_a_rejected_row_not_a_merged_item(tmp_path: Path) -> None:
    p = tmp_path / "items.csv"
    p.write_text(HEADER + rows_csv(2) + 'img-2,"https://x.example/a.jpg,,dog\nimg-3,https://x.example/3.jpg",\n'
                 + rows_csv(2, 4))
    check = check_items(make_spec(), p)
    assert (check.rows, check.rejected, check.valid) == (5, 1, 4)
    described = [e.describe() for e in check.errors]
    assert described[0].startswith("line 4 (item 'img-2'): inputs.image: expected a URL without spaces, "
                                   "quotes or line breaks, got 'https://x.example/a.jpg,,dog\\nimg-3")
    assert described[1] == "line 4 (item 'img-2'): the row spans lines 4-5: is a quote left open on line 4?"
    assert [i.key for i in check.items()] == ["img-0", "img-1", "img-4", "img-5"]


def test_a_quoted_line_break_in_a_text_field_is_kept(tmp_path: Path) -> None:
    spec = make_spec(inputs=[{"name": "text", "type": "text"}])
    p = tmp_path / "items.csv"
    p.write_text('key,text\na,"first line\nsecond, with a comma"\nb,plain\n')
    check = check_items(spec, p)
    assert check.errors == []
    assert [i.inputs["text"] for i in check.items()] == ["first line\nsecond, with a comma", "plain"]


def test_rows_with_too_many_or_too_few_cells_are_rejected_with_their_line(tmp_path: Path) -> None:
    p = tmp_path / "items.tsv"
    p.write_text("key\timage\n" "a\thttps://x.io/a.jpg\textra\n" "b\n" "c\thttps://x.io/c.jpg\n")
    check = check_items(make_spec(), p)
    assert [(e.line, e.message) for e in check.errors] == [
        (2, "3 fields, more than the 2 columns of the header: an unquoted tab in a value, or a cell missing?"),
        (3, "1 fields, fewer than the 2 columns of the header: an unquoted tab in a value, or a cell missing?"),
    ]
    assert [i.key for i in check.items()] == ["c"]


def test_bytes_that_are_not_utf8_are_rejected_on_their_own_line(tmp_path: Path) -> None:
    p = tmp_path / "items.csv"
    p.write_bytes(b"\xef\xbb\xbf" + HEADER.encode() + b"a,https://x.io/caf\xe9.jpg,\nb,https://x.io/b.jpg,cat\n")
    check = check_items(make_spec(), p)  # the BOM of a spreadsheet export is not part of the first column
    assert [(e.line, e.message) for e in check.errors] == [
        (2, "not UTF-8 text (byte 0xe9 at column 19); save the file as UTF-8")]
    (item,) = check.items()
    assert (item.key, item.golden) == ("b", {"result": "cat"})


def test_every_bad_jsonl_line_is_listed(tmp_path: Path) -> None:
    p = tmp_path / "items.jsonl"
    p.write_bytes(b'{"key": "a", "image": "https://x.io/a.jpg"}\n[1, 2]\n{oops\n\n"text"\n'
                  b'{"key": "b", "image": "https://x.io/\xff.jpg"}\n{"inputs": {"image": 3}, "colour": 1}\n')
    check = check_items(make_spec(), p)
    got = [(e.line, e.field, e.message.split(" (")[0]) for e in check.errors]
    assert got == [(2, None, "expected a JSON object per line, got list"), (3, None, "not valid JSON"),
                   (5, None, "expected a JSON object per line, got str"),
                   (6, None, "not UTF-8 text"), (7, "colour", "Extra inputs are not permitted")]
    assert (check.rows, check.valid) == (6, 1)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("empty.csv", "", "the file is empty"),
    ("header.csv", "key,image\n", "the file has a header but no rows"),
    ("header-blank.csv", "key,image\n\n\n", "the file has a header but no rows"),
    ("blank.jsonl", "\n  \n", "the file has no items"),
    ("empty.jsonl", "", "the file has no items"),
])
def test_no_rows_is_an_error(tmp_path: Path, name: str, content: str, message: str) -> None:
    p = tmp_path / name
    p.write_text(content)
    with pytest.raises(ItemsInputError, match=message):
        check_items(make_spec(), p)


def test_no_items_from_code_is_an_error() -> None:
    with pytest.raises(ItemsInputError, match="items: no items"):
        check_items(make_spec(), [])


def test_wrong_columns_are_reported_once_and_reject_every_row(tmp_path: Path) -> None:
    p = tmp_path / "items.csv"
    p.write_text("key,img,golden:colour,truth:result\n" + "".join(f"k{i},https://x.io/{i}.jpg,,cat\n"
                                                                  for i in range(50)))
    check = check_items(make_spec(), p)
    assert (check.rows, check.rejected) == (50, 50)
    assert [(e.line, e.field) for e in check.errors] == [(1, "img"), (1, "golden:colour"), (1, "image")]
    assert "unknown column; the spec's inputs are image" in check.errors[0].message
    assert check.errors[2].message == "required input column is missing"
    assert list(check.items()) == []


@pytest.mark.parametrize(("header", "message"), [
    ("key,image,image", "column 'image' appears 2 times"),
    ("key,image,", "column 3 has no name"),
    ("key, image", "column 2 ' image' has spaces or line breaks around its name"),
])
def test_a_header_that_cannot_name_the_columns_refuses_the_file(tmp_path: Path, header: str, message: str) -> None:
    p = tmp_path / "items.csv"
    p.write_text(header + "\na,https://x.io/a.jpg,x\n")
    with pytest.raises(ItemsInputError, match=f"items.csv:1: {message}"):
        check_items(make_spec(), p)


def test_duplicate_keys_name_the_first_line_and_keep_the_first_row(tmp_path: Path) -> None:
    p = tmp_path / "items.csv"
    p.write_text(HEADER + rows_csv(3) + "img-1,https://x.example/other.jpg,\n")
    check = check_items(make_spec(), p)
    assert [e.describe() for e in check.errors] == ["line 5 (item 'img-1'): key: duplicate key (first on line 3)"]
    assert [i.inputs["image"] for i in check.items()][1] == "https://x.example/1.jpg"


def test_urls_and_keys_reject_what_only_a_broken_row_would_hold() -> None:
    spec = make_spec()
    rows = [{"key": "a", "image": "https://x.io/a b.jpg"}, {"key": "b", "image": "https://x.io/b.jpg\n"},
            {"key": "c", "image": 'https://x.io/"c.jpg'}, {"key": "d\ne", "image": "https://x.io/d.jpg"},
            {"key": "f", "image": "https://x.io/f.jpg?w=1,h=2"}, {"key": "g", "image": "https://x.io/" + "g" * 500}]
    rows += [{"key": "k" * 301, "image": "https://x.io/h.jpg"}]
    check = check_items(spec, rows)
    assert [(e.key, e.field) for e in check.errors] == [("a", "inputs.image"), ("b", "inputs.image"),
                                                        ("c", "inputs.image"), ("d\ne", "key"), ("k" * 301, "key")]
    assert check.errors[-1].message == "expected a key of at most 300 characters, got 301"
    assert [i.key for i in check.items()] == ["f", "g"]
    numbers = make_spec(inputs=[{"name": "n", "type": "number"}])
    assert [e.message for e in check_items(numbers, [{"n": float("inf")}, {"n": 1e308}, {"n": "one"}]).errors] == [
        "expected a finite number, got inf", "expected a number, got 'one'"]
    long = check_items(spec, [{"key": "h", "image": "x" * 10_000}]).errors[0].message
    assert len(long) < 120 and long.endswith("...'")


def test_rows_that_cannot_become_items_are_errors_not_exceptions() -> None:
    rows = [{"inputs": "not a mapping"}, {"key": "b", "image": "https://x.io/b.jpg", "hint": 3},
            {"key": "c", "image": "https://x.io/c.jpg", "truth:result": "cat", "truth:size": "big"},
            {"image": "https://x.io/d.jpg", "truth:result": "dog"}]
    check = check_items(make_spec(), rows)
    assert [(e.index, e.field) for e in check.errors] == [(0, "inputs"), (1, "hint"), (2, "truth:size"),
                                                         (3, "key")]
    assert check.valid == 0 and check.truth == {}


def test_a_file_changed_between_check_and_upload_is_not_uploaded(tmp_path: Path) -> None:
    import os

    p = tmp_path / "items.csv"
    p.write_text(HEADER + rows_csv(3))
    check = check_items(make_spec(), p)
    p.write_text(HEADER + rows_csv(3) + "img-9,not a url,\n")
    os.utime(p, ns=(1, 1))
    with pytest.raises(ItemsInputError, match="the file changed after its items were checked"):
        next(check.items())


def test_add_items_from_a_path_is_atomic_unless_partial_is_allowed(tmp_path: Path) -> None:
    from annotate_core import ItemsRejectedError, connect

    job = connect(driver="memory").create_job(make_spec())
    p = tmp_path / "items.csv"
    p.write_text(HEADER + rows_csv(3) + "img-3,https://x.example/3.jpg,cow\n" + rows_csv(2, 4))
    with pytest.raises(ItemsRejectedError, match="1 item.s. rejected, so nothing was uploaded") as err:
        job.add_items(p, progress=False)
    assert "line 5 (item 'img-3'): golden.result: expected one of ['cat', 'dog'], got 'cow'" in str(err.value)
    assert job.progress().total_items == 0
    report = job.add_items(str(p), allow_partial=True, on_error="report", progress=False)
    assert (report.created, report.rejected, report.uploaded) == (5, 1, True)
    assert job.progress().total_items == 5


def test_a_rejected_row_still_claims_its_key() -> None:
    rows = [{"key": "a", "image": "https://x.io/a.jpg", "hint": 3}, {"key": "a", "image": "https://x.io/b.jpg"}]
    check = check_items(make_spec(), rows)
    assert [(e.index, e.field, e.message) for e in check.errors] == [
        (0, "hint", "Input should be a valid string"), (1, "key", "duplicate key (first on #0)")]
    assert check.valid == 0


def test_nul_characters_never_reach_a_store() -> None:
    spec = make_spec(inputs=[{"name": "image", "type": "image"}, {"name": "text", "type": "json"}])
    rows = [{"key": "a", "image": "https://x.io/a.jpg", "text": {"note": ["x\x00"]}},
            {"key": "b", "image": "https://x.io/b.jpg", "text": "ok", "hint": "h\x00", "golden:result": "cat"},
            {"key": "c", "image": "https://x.io/c.jpg", "text": {"fine": 1}}]
    check = check_items(spec, rows)
    assert [(e.key, e.field) for e in check.errors] == [("a", "inputs.text"), ("b", "hint")]
    assert "NUL characters" in check.errors[0].message
    assert [i.key for i in check.items()] == ["c"]


def test_truth_left_in_the_file_is_read_again_for_the_valid_rows_only(tmp_path: Path) -> None:
    p = tmp_path / "items.csv"
    p.write_text("key,image,truth:result\na,https://x.io/a.jpg,cat\nb,not a url,dog\nc,https://x.io/c.jpg,\n"
                 "d,https://x.io/d.jpg,dog\n")
    kept = check_items(make_spec(), p)
    streamed = check_items(make_spec(), p, keep_truth=False)
    assert kept.truth == {"a": {"result": "cat"}, "d": {"result": "dog"}}
    assert streamed.truth == {} and streamed.rejected == kept.rejected == 1
    expected = [("a", {"result": "cat"}), ("d", {"result": "dog"})]
    assert list(streamed.iter_truth()) == list(kept.iter_truth()) == expected
    rows = [{"key": "a", "image": "https://x.io/a.jpg", "truth:result": "cat"}, {"key": "b", "image": "bad"}]
    assert list(check_items(make_spec(), rows, keep_truth=False).iter_truth()) == [("a", {"result": "cat"})]
    p.write_text("key,image,truth:result\na,https://x.io/a.jpg,dog\n")
    with pytest.raises(ItemsInputError, match="changed after"):
        list(streamed.iter_truth())
