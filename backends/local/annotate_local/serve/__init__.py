"""``annotate serve``: a browser UI over the local store for in-house annotators, reviewers and the requester.

Installed with the ``serve`` extra (``pip install "annotate-local[serve]"``): Starlette + uvicorn +
Jinja2. Importing this package loads none of them, so ``annotate serve`` can say which extra is missing
instead of failing with an ImportError; ``create_app`` (in ``app.py``) builds the ASGI app.

Every page goes through the local backend's work API (``pull`` / ``submit`` / ``skip`` / ``review``),
so overlap, golden mixing, captchas, limits, bans and timeouts apply exactly as for a script.
"""

from __future__ import annotations

import importlib.util

from annotate_core.errors import AnnotateError

#: import name -> distribution, for the modules the extra brings
NEEDED = {"starlette": "starlette", "uvicorn": "uvicorn", "jinja2": "jinja2", "multipart": "python-multipart",
          "itsdangerous": "itsdangerous", "nh3": "nh3"}
EXTRA_HINT = 'pip install "annotate-local[serve]" (from a checkout: pip install -e "backends/local[serve]")'


class ServeExtraMissing(AnnotateError, ImportError):
    """The ``serve`` extra is not installed; the message says what to install."""


def missing_dependencies() -> list[str]:
    """Distributions of the ``serve`` extra that are not installed (empty when it is)."""
    return [dist for module, dist in NEEDED.items() if importlib.util.find_spec(module) is None]


__all__ = ["EXTRA_HINT", "NEEDED", "ServeExtraMissing", "missing_dependencies"]
