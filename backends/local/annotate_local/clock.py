"""A clock moved by hand, for the local backend's ``clock`` option.

Time-based rules (fast-submit bans, assignment expiry, ban durations) read the backend's clock; tests
and tools that replay a scenario pass a ``ManualClock`` and advance it instead of sleeping.
"""

from __future__ import annotations


class ManualClock:
    """Epoch seconds that move only when ``advance`` is called."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
