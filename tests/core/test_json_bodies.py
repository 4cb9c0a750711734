"""JSON bodies decode to the same values, or the same error, with msgspec (the ``fast`` extra) and without it."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any, TypedDict

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from annotate_core import json_bodies


@pytest.fixture(autouse=True)
def _restore_decoder() -> Iterator[None]:
    yield
    json_bodies.use_fast_decoder(True)


def response(body: bytes, content_type: str | None = "application/json") -> requests.Response:
    resp = requests.Response()
    resp.status_code = 200
    resp._content = body
    if content_type is not None:
        resp.headers["Content-Type"] = content_type
    resp.encoding = requests.utils.get_encoding_from_headers(resp.headers)
    return resp


def decoded(body: bytes, fast: bool, content_type: str | None = "application/json") -> tuple[str, Any]:
    """("value", the value) or ("error", the exception's type), with msgspec on or off."""
    json_bodies.use_fast_decoder(fast)
    try:
        return "value", json_bodies.response_json(response(body, content_type))
    except ValueError as exc:
        return "error", type(exc)


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types all the way down (1 == 1.0 == True would hide a change; NaN != NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


BODIES = [
    b'{"items": [{"id": "64a", "size": 48213, "ok": true, "spec": null}], "hasNextPage": false}',
    b'{"big": 123456789012345678901234567890, "neg": -9223372036854775809, "u64": 18446744073709551615}',
    b'{"x": 1.0, "y": -0.0, "z": 1e-400, "w": 0.30000000000000004441, "v": 12345678901234567890.5}',
    b'{"a": 1, "a": 2}',  # the last duplicate wins in both
    b'{"nan": NaN}', b'{"inf": Infinity}', b'{"huge": 1E400}',  # only the standard library takes these
    b'{"lone": "\\ud800"}', b'{"pair": "\\ud83d\\ude00", "nul": "\\u0000x", "del": "\x7f"}',
    '{"text": "caf\u00e9 \u20ac \U0001f600"}'.encode(),
    b'\xef\xbb\xbf{"bom": 1}', b'{"bad": "\xff"}', b'{"tab": "a\tb"}', b'[1,]', b'{"a": 1} 2', b'  [] \n',
]


@pytest.mark.parametrize("body", BODIES)
def test_every_body_decodes_alike_with_and_without_msgspec(body: bytes) -> None:
    with_fast, without = decoded(body, True), decoded(body, False)
    assert with_fast[0] == without[0], (with_fast, without)
    if without[0] == "value":
        assert same(with_fast[1], without[1]), (with_fast, without)


def test_a_body_in_another_charset_is_decoded_by_requests() -> None:
    body = '{"name": "caf\u00e9"}'.encode("latin-1")  # not UTF-8: requests reads it as the header says
    assert decoded(body, True, "application/json; charset=ISO-8859-1") == ("value", {"name": "caf\u00e9"})
    assert decoded('{"a": "\u00e9"}'.encode("utf-16"), True, None) == ("value", {"a": "\u00e9"})
    assert decoded('{"a": "\u00e9"}'.encode(), True, "text/plain") == decoded('{"a": "\u00e9"}'.encode(), False,
                                                                              "text/plain")


def test_msgspec_is_the_decoder_when_installed() -> None:
    msgspec = pytest.importorskip("msgspec")  # the test extra installs it: CI runs both paths
    json_bodies.use_fast_decoder(True)
    decode = json_bodies.fast_decoder()
    assert decode is not None and decode(b'{"a": [1]}') == {"a": [1]}
    assert isinstance(getattr(decode, "__self__", None), msgspec.json.Decoder)
    json_bodies.use_fast_decoder(False)
    assert json_bodies.fast_decoder() is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans())
def test_any_document_decodes_alike(value: Any, ascii_only: bool) -> None:
    body = json.dumps(value, ensure_ascii=ascii_only).encode()
    with_fast, without = decoded(body, True), decoded(body, False)
    assert with_fast[0] == without[0] == "value"
    assert same(with_fast[1], without[1]) and same(without[1], value)


class _Inner(TypedDict, total=False):
    keep: Any


class _Shape(TypedDict, total=False):
    items: list[_Inner]
    more: Any


def test_a_shape_builds_only_its_keys_and_falls_back_to_the_whole_body() -> None:
    def shaped(body: bytes) -> Any:
        return json_bodies.response_json(response(body), _Shape)

    body = b'{"items": [{"keep": {"a": [1, 2]}, "skip": "x" }, {"skip": 1}], "more": true, "total": 9}'
    json_bodies.use_fast_decoder(True)
    assert shaped(body) == {"items": [{"keep": {"a": [1, 2]}}, {}], "more": True}
    odd = b'{"items": [["not", "an object"]], "more": 1}'  # not the shape: decoded whole
    assert shaped(odd) == {"items": [["not", "an object"]], "more": 1}
    assert math.isnan(shaped(b'{"items": [{"keep": NaN}]}')["items"][0]["keep"])  # only json takes NaN
    json_bodies.use_fast_decoder(False)
    assert shaped(body) == json.loads(body)  # no msgspec: every key
