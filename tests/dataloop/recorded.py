"""Reading a cassette back: the calls the backend made, with parsed bodies and answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # without /api/v1
    query: dict[str, str]
    body: Any  # parsed JSON, raw bytes for multipart, None when empty
    status: int
    response: Any  # parsed JSON answer
    uri: str = ""

    @property
    def line(self) -> str:
        return f"{self.method} {self.path}"


def _json(raw: Any) -> Any:
    if raw in (None, b"", ""):
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw


def calls(cassette: Any) -> list[Call]:
    """The interactions so far, in order: recorded while recording, played while replaying."""
    out = []
    replaying = getattr(cassette.record_mode, "value", cassette.record_mode) == "none"
    for index, (request, response) in enumerate(cassette.data):
        if replaying and not cassette.play_counts[index]:
            continue
        path = request.path.removeprefix("/api/v1")
        out.append(Call(request.method, path, dict(request.query), _json(request.body),
                        response["status"]["code"], _json(response["body"]["string"]), request.uri))
    return out


def lines(cassette: Any) -> list[str]:
    return [c.line for c in calls(cassette)]


def first(cassette: Any, line: str) -> Call:
    return next(c for c in calls(cassette) if c.line == line)


def all_of(cassette: Any, line: str) -> list[Call]:
    return [c for c in calls(cassette) if c.line == line]


def replayed_all(cassette: Any) -> bool:
    """Every recorded interaction was used (replay); trivially true while recording."""
    mode = getattr(cassette.record_mode, "value", cassette.record_mode)
    return cassette.all_played if mode == "none" else True
