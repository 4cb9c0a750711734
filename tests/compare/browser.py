"""Headless Chromium for the report tests: find it, dump a page's DOM, take a screenshot.

In CI (``CI=true``) a missing Chromium fails the test: the report is only proven to render when a
real browser draws it. Locally it skips with the reason. ``.ci/chromium.sh`` installs Debian's
``chromium`` and exports ``ANNOTATE_CHROMIUM``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# No sandbox (tests may run as root), and nothing that would reach out to the network.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--disable-extensions", "--hide-scrollbars", "--force-device-scale-factor=1", "--mute-audio")
TIMEOUT_S = 120


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def need(module: str, hint: str) -> None:
    """Import ``module`` or fail (CI) / skip (a developer machine without it) with ``hint``."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        if in_ci():
            pytest.fail(f"CI: {module} is not installed: {hint}")
        pytest.skip(f"{module} is not installed: {hint}", allow_module_level=True)


def find_chromium() -> str:
    """Path of a Chromium binary; fails in CI and skips locally when there is none."""
    explicit = os.environ.get("ANNOTATE_CHROMIUM")
    if explicit and Path(explicit).is_file():
        return explicit
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    reason = ("headless Chromium is needed to check that the report renders; install Debian's `chromium` "
              "(bash .ci/chromium.sh) or set ANNOTATE_CHROMIUM")
    if in_ci():
        pytest.fail(f"CI: {reason}")
    pytest.skip(reason)


def run(chromium: str, url: str, *extra: str) -> subprocess.CompletedProcess[bytes]:
    with tempfile.TemporaryDirectory(prefix="annotate-chromium-") as profile:
        proc = subprocess.run(
            [chromium, *FLAGS, f"--user-data-dir={profile}", *extra, url],
            capture_output=True, timeout=TIMEOUT_S, check=False, stdin=subprocess.DEVNULL,
        )
    if proc.returncode != 0:
        raise AssertionError(f"chromium exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-2000:]}")
    return proc


def dump_dom(chromium: str, page: Path, width: int, height: int) -> str:
    return run(chromium, page.resolve().as_uri(), f"--window-size={width},{height}",
               "--virtual-time-budget=5000", "--dump-dom").stdout.decode("utf-8", errors="replace")


def screenshot(chromium: str, page: Path, out: Path, width: int, height: int) -> Path:
    run(chromium, page.resolve().as_uri(), f"--window-size={width},{height}", f"--screenshot={out}")
    if not out.is_file():
        raise AssertionError(f"chromium wrote no screenshot at {out}")
    return out
