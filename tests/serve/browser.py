"""A real browser for the web UI's tests: the app served by uvicorn on a free loopback port, and headless
Chromium (Debian's, from ``.ci/chromium.sh``) driven through Playwright.

In CI (``CI=true``) a missing Chromium or Playwright fails the tests; on a developer machine they skip
with the reason. Chromium never reaches the network: every request that is not for the test server is
answered here (item images get a small generated PNG) or aborted.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions", "--mute-audio",
         "--force-device-scale-factor=1", "--hide-scrollbars"]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def _unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"CI: {reason}")
    pytest.skip(reason)


def find_chromium() -> str:
    explicit = os.environ.get("ANNOTATE_CHROMIUM")
    if explicit and Path(explicit).is_file():
        return explicit
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    _unavailable("headless Chromium drives the web UI's browser tests; install Debian's `chromium` "
                 "(bash .ci/chromium.sh) or set ANNOTATE_CHROMIUM")
    raise AssertionError("unreachable")


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a free loopback port; yields its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def png(color: tuple[int, int, int] = (200, 120, 60), size: tuple[int, int] = (120, 90)) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, color)
    ImageDraw.Draw(image).ellipse((20, 15, 100, 75), fill=(250, 240, 220))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


@contextmanager
def chromium() -> Iterator[Any]:
    """A Playwright Browser on Debian's Chromium; open pages with ``new_context(browser, base_url)``."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed: pip install -e '.[test]'")
    executable = find_chromium()
    with sync_playwright() as pw:  # each launch gets a fresh temporary profile
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def new_context(browser: Any, base_url: str, *, width: int = 1100, height: int = 900) -> Any:
    """A fresh browser profile (its own cookies: one person), offline except for the test server."""
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height},
                                  accept_downloads=True)
    image = png()

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(base_url) or url.startswith("data:"):
            r.continue_()
        elif r.request.resource_type == "image":
            r.fulfill(status=200, content_type="image/png", body=image)
        else:
            r.abort()

    context.route("**/*", route)
    # a guard against a hung page, not a speed check: CI shares two cores with the whole suite (a busy
    # moment took longer than 20 s to serve one navigation)
    context.set_default_timeout(60_000)
    return context
