"""The web UI's safety rules on their own: which URLs become images, which names sign in, annotator links."""

from __future__ import annotations

import pytest
from annotate_local.serve.security import Gate, check_name, csrf_ok, csrf_token, safe_image_url, safe_link_url

PNG = "data:image/png;base64,iVBORw0KGgo="


@pytest.mark.parametrize("url", ["https://img.example/a.jpg", "http://img.example/a.png?x=1&y=2", PNG,
                                 "/static/sample.svg"])
def test_image_urls_that_load_as_images(url: str) -> None:
    assert safe_image_url(url) == url


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JavaScript:alert(1)", "data:image/svg+xml;base64,PHN2Zz4=", "data:text/html,<b>x</b>",
    'https://img.example/a.jpg" onerror="alert(1)', "https://img.example/a b.jpg", "//img.example/a.jpg",
    "file:///etc/passwd", "s3://bucket/a.jpg", "/static/../app.py", "https://img.example/\na.jpg", "", None, 42,
])
def test_anything_else_is_never_an_image(url: object) -> None:
    assert safe_image_url(url) is None


def test_links_are_http_only() -> None:
    assert safe_link_url("https://example.com/x") == "https://example.com/x"
    assert safe_link_url(PNG) is None and safe_link_url("/static/sample.svg") is None


@pytest.mark.parametrize(("name", "ok"), [("ann@example.com", True), ("Ann Lee", True), ("", False), ("  ", False),
                                          ("<b>", False), ('a"b', False), ("a/b", False), ("x" * 121, False)])
def test_names(name: str, ok: bool) -> None:
    assert (check_name(name) is None) is ok


def test_annotator_links_are_signed_by_the_servers_secret() -> None:
    gate = Gate("one secret " * 4)
    link = gate.link_token("ann@example.com")
    assert gate.name_from_link(link) == "ann@example.com"
    assert Gate("another secret " * 4).name_from_link(link) is None
    assert gate.name_from_link(link[:-1] + ("A" if link[-1] != "A" else "B")) is None
    assert gate.name_from_link(Gate("one secret " * 4).signer.dumps("<script>")) is None  # signed, still no name


def test_csrf_tokens_belong_to_one_session() -> None:
    mine: dict[str, object] = {}
    token = csrf_token(mine)
    assert csrf_token(mine) == token and csrf_ok(mine, token)
    assert not csrf_ok(mine, token[:-1]) and not csrf_ok(mine, None) and not csrf_ok({}, token)
    assert not csrf_ok({"csrf": ""}, "")
