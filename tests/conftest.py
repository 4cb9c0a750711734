"""Fixtures shared by every test package: paths, and isolation from the user's own config."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads the developer's annotate.toml or profile choice."""
    monkeypatch.delenv("ANNOTATE_CONFIG", raising=False)
    monkeypatch.delenv("ANNOTATE_PROFILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES
