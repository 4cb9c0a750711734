"""Recording or replaying, and the answers a conformance run gives: what a ``make_answers`` fixture needs.

Two patterns of ``make_answers`` (the suite fixture that makes every item of a started job answered):

* **answers already in the cassette** — a crowd vendor (Toloka): nobody answers within a test run,
  so the cassettes are written by a generator (or recorded after a crowd finished) and
  ``make_answers`` does nothing; while *recording* it has nothing honest to do, so it fails with
  the generator's name.
* **answers created by the test** — a self-hosted vendor (Label Studio, CVAT): the test creates
  annotator users and posts their answers through the vendor's API. While recording these requests
  reach the live server and are taped; on replay the same requests, with the same bodies, are
  answered from the cassette. ``planned_answers`` makes the bodies the same in both runs (which
  worker gives which label to which item, from the items alone), and ``recording`` tells the fixture
  what differs between the runs: the annotators' real credentials, real waits, a fault injected
  into a live fake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from annotate_core.items import Item


def is_recording(config: pytest.Config) -> bool:
    """True while requests reach a live server: pytest-recording's ``--record-mode`` is anything but
    ``none`` (``once``, ``new_episodes``, ``all``, ``rewrite``), or recording is disabled altogether
    (``--disable-recording``: no cassette, every request live). False when cassettes replay."""
    if config.getoption("--disable-recording", default=False):
        return True
    mode = config.getoption("--record-mode", default=None) or "none"
    return mode != "none"


@dataclass(frozen=True)
class PlannedAnswer:
    """One answer a conformance run gives: ``worker`` answers ``item_key`` with ``label``."""

    item_key: str
    worker: str
    label: str


def planned_answers(items: Sequence[Item], *, overlap: int, workers: Sequence[str],
                    labels: Sequence[str] = ("cat", "dog")) -> list[PlannedAnswer]:
    """``overlap`` answers per item by distinct workers, deterministic in the items alone.

    Item ``n`` is answered by workers ``n, n+1, ... n+overlap-1`` (modulo their number) with labels
    alternating along the same index, so a recording and its replay send the same bodies in the same
    order, and no worker answers an item twice.
    """
    if overlap > len(workers):
        raise ValueError(f"overlap {overlap} needs at least {overlap} workers, got {len(workers)}")
    return [
        PlannedAnswer(item.key, workers[(n + w) % len(workers)], labels[(n + w) % len(labels)])
        for n, item in enumerate(items)
        for w in range(overlap)
    ]
