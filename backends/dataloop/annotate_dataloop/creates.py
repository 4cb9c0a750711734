"""Creates that happen once: look the object up before sending a create whose outcome is unknown.

``POST /annotationtasks``, ``addToTask``, ``POST /pipelines`` and ``/execute`` are not idempotent,
and the gate's ``checkIfExist`` dedupe is dtlpy's client-side convention whose server behaviour is
not documented [K repositories/tasks.py:919] — so nothing relies on it. These requests are sent on
the HTTP client's strict session (urllib3 never repeats them blindly); when one fails in a way that
leaves its outcome unknown (a 5xx, a timeout, a dropped connection), the caller's ``find`` looks for
what it would have made (by job key or create id, ``metadata.user.annotate``) and only when nothing
turns up is it sent again. Creates run as asynchronous commands on the gate, so the lookup is
repeated a few times with the command-polling backoff before the object is taken to be missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from annotate_core.errors import OperationFailedError, TransportError, VendorError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: how many times a create is sent at most (429 waits are the HTTP layer's and do not count)
SENDS = 3
#: lookups after an unknown outcome before the create counts as not done
LOOKUPS = 4


def unknown_outcome(exc: BaseException) -> bool:
    """True when the gate may have acted on the request although the client saw a failure.

    A transport failure (timeout, connection dropped after sending) or a 5xx. A failed command is a
    definite answer, and 4xx answers mean the request was refused.
    """
    if isinstance(exc, OperationFailedError):
        return False
    if isinstance(exc, TransportError):
        return True
    return isinstance(exc, VendorError) and exc.status is not None and exc.status >= 500


def create_once(
    what: str,
    send: Callable[[], T],
    find: Callable[[], T | None],
    *,
    sleep: Callable[[float], None],
    interval: float,
    max_interval: float,
    sends: int = SENDS,
    lookups: int = LOOKUPS,
) -> T:
    """``send()``; when its outcome is unknown, ``find()`` what it made before sending it again.

    ``find`` returns the object when the earlier attempt made it (or None); the lookups are spaced
    like command polls (``interval * 2**n``, capped) so an asynchronous create can finish first.
    """
    for attempt in range(1, sends + 1):
        try:
            return send()
        except VendorError as exc:
            if not unknown_outcome(exc) or attempt == sends:
                raise
            log.warning("%s: outcome unknown (%s); looking it up before sending again", what, exc)
            for n in range(lookups):
                found = find()
                if found is not None:
                    log.info("%s: the earlier attempt had done it", what)
                    return found
                if n < lookups - 1:
                    sleep(min(interval * 2 ** (n + 1), max_interval))
            log.info("%s: not done by the earlier attempt; sending again (attempt %d)", what, attempt + 1)
    raise AssertionError("unreachable")  # pragma: no cover
