"""Neutral items as Dataloop items: link items for one image/URL input, JSON items otherwise.

An item is created with ``POST /datasets/{id}/items?mode=skip`` and a multipart form — ``type``,
``path``, ``metadata``, then ``file`` last, as dtlpy's uploader sends it [K services/api_client.py
upload_file_async; O "FILE MUST BE LAST FIELD"]. A URL becomes a *link item*: a small JSON file
``{"type": "link", "shebang": "dataloop", "metadata": {"dltype": "link", "linkInfo": ...}}`` named
``<name>_link.json`` [K repositories/uploader.py:link, upload_element.py:LinkUploadElement].

The remote path is a function of the item key, so ``mode=skip`` makes a repeated upload return the
existing item instead of a copy; the neutral key and inputs ride in ``metadata.user.annotate`` so
answers can be joined back by key.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
from dataclasses import dataclass
from typing import Any

from annotate_core.items import Item
from annotate_core.model.fields import FieldType
from annotate_core.model.spec import JobSpec
from annotate_dataloop.payloads import META_KEY

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class ItemFile:
    """One item ready to upload: its remote path, user metadata and file bytes."""

    key: str
    path: str  # remote file path, e.g. /annotate/cats/item-1_link.json
    metadata: dict[str, Any]
    content: bytes
    content_type: str

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def safe_name(key: str) -> str:
    """A file name for a key: the key itself when it is tame, else a stable hash of it."""
    if _SAFE.match(key) and not key.endswith(".json"):
        return key
    return "k-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def link_input(spec: JobSpec) -> str | None:
    """The input shown by link: the only input, when it is an image or a URL."""
    if len(spec.inputs) == 1 and spec.inputs[0].type in (FieldType.IMAGE, FieldType.URL):
        return spec.inputs[0].name
    return None


def item_file(spec: JobSpec, item: Item, folder: str) -> ItemFile:
    """The upload for one neutral item."""
    meta = {"user": {META_KEY: {"key": item.key, "inputs": item.inputs}}}
    name = safe_name(item.key)
    field = link_input(spec)
    if field is not None:
        url = item.inputs[field]
        mimetype = mimetypes.guess_type(url.split("?")[0])[0] or "image"
        if spec.inputs[0].type is FieldType.IMAGE and not mimetype.startswith("image"):
            mimetype = "image"
        body = {"type": "link", "shebang": "dataloop",
                "metadata": {"dltype": "link", "linkInfo": {"type": "url", "ref": url, "mimetype": mimetype}}}
        return ItemFile(item.key, f"{folder}/{name}_link.json", meta, json.dumps(body).encode(), "application/json")
    content = json.dumps(item.inputs, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return ItemFile(item.key, f"{folder}/{name}.json", meta, content, "application/json")


def multipart(upload: ItemFile) -> tuple[bytes, str]:
    """The form body and its content type, with a boundary derived from the content.

    A fixed boundary per item keeps the body identical between a call and its retry (and between a
    recording and its replay); the hash cannot collide with the JSON inside.
    """
    from urllib3 import encode_multipart_formdata  # urllib3 loads with the first upload, not at startup

    boundary = "annotate" + hashlib.sha256(upload.path.encode() + upload.content).hexdigest()[:32]
    fields: list[tuple[str, str | tuple[str, bytes, str]]] = [
        ("type", "file"),
        ("path", upload.path),
        ("metadata", json.dumps(upload.metadata)),
        ("file", (upload.filename, upload.content, upload.content_type)),
    ]
    body, content_type = encode_multipart_formdata(fields, boundary=boundary)
    return body, content_type


def form_preview(upload: ItemFile) -> dict[str, Any]:
    """The form fields as a plan shows them (the file as text)."""
    return {
        "type": "file",
        "path": upload.path,
        "metadata": json.dumps(upload.metadata),
        "file": upload.content.decode("utf-8", errors="replace"),
    }
