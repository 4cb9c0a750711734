"""A line on stderr for each phase that runs long, so a big job never sits silent for minutes.

Reading every answer of a job, aggregating them, writing the CSV files or checking a large items file
take a blink on the demo and minutes on a million items; nothing else shows while they run (the
upload and the simulation have their own tqdm bars). ``phase("reading answers")`` prints
``reading answers...`` once the phase has run ``NOTICE_AFTER`` seconds, and how long it took when
it ends; a phase that ends sooner prints nothing, so small jobs stay quiet. ``--no-progress``
switches the lines off, like the bars; library calls that take ``progress=`` pass it on here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import click

#: seconds a phase runs before its line is printed (0: print at once; the tests use it)
NOTICE_AFTER = 2.0


@contextmanager
def phase(what: str, *, enabled: bool = True) -> Iterator[None]:
    """Announce ``what`` on stderr if it is still running after ``NOTICE_AFTER`` seconds."""
    if not enabled:
        yield
        return
    lock = threading.Lock()
    announced = False
    finished = False

    def announce() -> None:
        nonlocal announced
        with lock:
            if not finished:
                click.echo(f"{what}...", err=True)
                announced = True

    started = time.monotonic()
    timer: threading.Timer | None = None
    if NOTICE_AFTER <= 0:
        announce()
    else:
        timer = threading.Timer(NOTICE_AFTER, announce)
        timer.daemon = True
        timer.start()
    try:
        yield
    finally:
        with lock:
            finished = True
        if timer is not None:
            timer.cancel()
    if announced:  # a phase that failed says nothing more: its error follows
        click.echo(f"{what}: done in {time.monotonic() - started:.1f}s", err=True)
