"""Items: keys, coercion from tables and files, and validation naming the field."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from annotate_core import Item
from annotate_core.items import coerce_items, derive_key, items_frame, read_items_file, validate_items

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
