"""Vendors' JSON bodies decoded by msgspec when it is installed (the ``fast`` extra), else the standard library.

A big read spends much of its time in ``json.loads`` (Dataloop: ~1.2 kB of JSON per answer, 13 CPU s
of 3M answers); msgspec decodes the same bytes in about half the time. It is optional and never
changes a result: msgspec decodes every document it accepts to the values ``json.loads`` gives
(integers past 64 bits included: orjson makes those floats, which is why it is not the one used),
and refuses what it does not take (NaN, Infinity, floats that overflow, lone surrogates, invalid
UTF-8, a byte-order mark), which then goes to ``requests``' own decoding: the caller gets what it
would have got without msgspec, value or error. ``tests/core/test_json_bodies.py`` holds both to it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

_UNSET: Any = object()
#: msgspec's decoder, None without msgspec; looked up on first use (importing it costs startup time)
_decoder: Callable[[bytes], Any] | None = _UNSET

_UTF8 = frozenset({"utf-8", "utf8", "UTF-8", "UTF8"})


def fast_decoder() -> Callable[[bytes], Any] | None:
    """msgspec's JSON decoder if msgspec is installed, else None."""
    global _decoder
    if _decoder is _UNSET:
        try:
            import msgspec
        except ImportError:
            _decoder = None
        else:
            _decoder = msgspec.json.Decoder().decode
    return _decoder


def use_fast_decoder(enabled: bool) -> None:
    """Switch msgspec off (False) or back to "when installed" (True): for tests and comparisons."""
    global _decoder
    _decoder = _UNSET if enabled else None


_shaped: dict[Any, Callable[[bytes], Any]] = {}


def shaped_decoder(shape: Any) -> Callable[[bytes], Any] | None:
    """msgspec's decoder for ``shape`` (made once per shape), None without msgspec."""
    if fast_decoder() is None:
        return None
    if shape not in _shaped:
        import msgspec

        _shaped[shape] = msgspec.json.Decoder(shape).decode
    return _shaped[shape]


def response_json(resp: requests.Response, shape: Any = None) -> Any:
    """``resp.json()``, by msgspec when it is installed and the body is UTF-8 (what JSON is; a
    response that names another charset, or that msgspec refuses, is decoded by ``requests``).

    ``shape`` is for a caller that reads a few keys of a big body: a ``TypedDict`` (``total=False``)
    naming those keys, each typed ``Any`` (decoded whole) or as another such ``TypedDict`` (or one
    ``| None``). msgspec then builds only the named keys of those objects and skips the rest, so
    every key the caller reads holds what the whole decoding would give; a body of another shape
    (an object where the shape has none) is decoded whole. Without msgspec the body is always
    decoded whole, so the caller must read nothing outside its shape.
    """
    decode = fast_decoder()
    if decode is not None and (resp.encoding is None or resp.encoding in _UTF8 or resp.encoding.lower() in _UTF8):
        if shape is not None and (decode_shaped := shaped_decoder(shape)) is not None:
            try:
                return decode_shaped(resp.content)
            except ValueError:  # msgspec.ValidationError: not that shape; DecodeError: decoded below
                pass
        try:
            return decode(resp.content)
        except ValueError:  # msgspec.DecodeError: let requests and json decide (and word any error)
            pass
    return resp.json()
