"""What the CLI prints when a command fails: one or two lines naming the thing, the cause and the fix.

The library raises its own error types (``errors.py``) with messages written for people; this module
decides the exit status (1, or 2 when the backend cannot do what was asked, as ``annotate plan``
does), adds the usual fix for errors whose message cannot know it (a vendor that is down), turns the
operating system's errors (a file that cannot be read or written) into the same kind of line, and
keeps tracebacks for ``-v`` and for real bugs. Everything printed is scrubbed of secrets first.
"""

from __future__ import annotations

import errno
import traceback

import click

from annotate_core.errors import (
    AnnotateError,
    AuthenticationError,
    RateLimitError,
    TransportError,
    UnsupportedFeatureError,
    VendorError,
    describe_decode_error,
)
from annotate_core.secrets import scrub

EXIT_ERROR = 1
#: the backend cannot do this (a capability it lacks); ``annotate plan`` uses it for refused specs
EXIT_UNSUPPORTED = 2

_OS_FIXES = {
    errno.EACCES: "check the permissions of {name} and of its folder",
    errno.EPERM: "check the permissions of {name} and of its folder",
    errno.EROFS: "the file system is read-only: choose a folder you may write to",
    errno.ENOENT: "check the path",
    errno.ENOTDIR: "a part of the path is a file, not a folder: check the path",
    errno.EISDIR: "{name} is a folder: give a file",
    errno.ENOSPC: "free some disk space and rerun",
}


def describe_failure(exc: BaseException) -> tuple[str, int] | None:
    """The message and exit status for an error the user can fix; None for a bug."""
    if isinstance(exc, UnsupportedFeatureError):
        return str(exc), EXIT_UNSUPPORTED
    if isinstance(exc, NotImplementedError):  # an optional operation this backend does not have
        return str(exc) or "the backend cannot do this", EXIT_UNSUPPORTED
    if isinstance(exc, AnnotateError):
        return str(exc) + _vendor_fix(exc), EXIT_ERROR
    if isinstance(exc, UnicodeDecodeError):
        return (f"a file is not UTF-8 text ({describe_decode_error(exc)}); save it as UTF-8 (rerun with -v to "
                "see which file)"), EXIT_ERROR
    if isinstance(exc, OSError):
        return _os_message(exc), EXIT_ERROR
    return None


def _vendor_fix(exc: AnnotateError) -> str:
    if not isinstance(exc, VendorError) or isinstance(exc, RateLimitError):
        return ""
    if isinstance(exc, TransportError):
        return "\n  the service could not be reached: check the network and the vendor's status, then rerun"
    if isinstance(exc, AuthenticationError):
        return "\n  check the credentials: the profile's *_env variables must hold a valid, unexpired token"
    if exc.status is not None and exc.status >= 500:
        return "\n  the vendor's service failed (after retries): try again later"
    return ""


def _os_message(exc: OSError) -> str:
    name = exc.filename if exc.filename is not None else None
    what = f"{name}: " if name is not None else ""
    cause = exc.strerror or str(exc) or type(exc).__name__
    fix = _OS_FIXES.get(exc.errno or -1, "")
    if isinstance(exc, ConnectionError):
        fix = "check that the service is running and reachable"
    line = f"{what}{cause}"
    return f"{line}; {fix.format(name=name or 'the file')}" if fix else line


def report_failure(exc: Exception, *, verbose: bool) -> int:
    """Print ``exc`` for a person (with the traceback when ``verbose``); returns the exit status."""
    described = describe_failure(exc)
    if verbose:
        shown = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        click.echo(scrub(shown.rstrip()), err=True)
    if described is None:
        click.echo(scrub(f"error: internal error ({type(exc).__name__}: {exc}); this is a bug in annotate: "
                         "rerun with -v to see the traceback and please report it"), err=True)
        return EXIT_ERROR
    message, status = described
    click.echo(scrub(f"error: {message}"), err=True)
    return status
