"""``annotate_core.phases.phase``: a line on stderr for a phase that runs long, nothing for a short one."""

from __future__ import annotations

import time

import pytest

from annotate_core import phases
from annotate_core.phases import phase


def test_a_long_phase_is_announced_and_timed(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setattr(phases, "NOTICE_AFTER", 0.05)
    with phase("reading answers"):
        time.sleep(0.4)
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0] == "reading answers..."
    assert lines[1].startswith("reading answers: done in ") and lines[1].endswith("s")
    assert float(lines[1].split("done in ")[1].rstrip("s")) >= 0.4


def test_a_short_phase_prints_nothing(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setattr(phases, "NOTICE_AFTER", 5.0)
    with phase("aggregating"):
        pass
    time.sleep(0.05)
    assert capsys.readouterr().err == ""


def test_disabled_prints_nothing_even_when_long(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setattr(phases, "NOTICE_AFTER", 0)
    with phase("writing results.csv", enabled=False):
        time.sleep(0.05)
    assert capsys.readouterr().err == ""


def test_a_failed_phase_is_not_reported_done(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setattr(phases, "NOTICE_AFTER", 0)
    with pytest.raises(RuntimeError), phase("starting job"):
        raise RuntimeError("boom")
    assert capsys.readouterr().err.splitlines() == ["starting job..."]
