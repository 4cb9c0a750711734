"""The one exception taxonomy every backend maps its failures onto.

Callers catch these types whatever the vendor, so a script written against the local backend handles
a Toloka rate limit or a Dataloop expired token the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from annotate_core.backend import Progress
    from annotate_core.capabilities import Unsupported
    from annotate_core.items import UploadReport


class AnnotateError(Exception):
    """Base of every error this library raises on purpose."""


class SpecError(AnnotateError, ValueError):
    """A job spec (or spec file) is invalid; the message names each bad field."""


class ConfigError(AnnotateError, ValueError):
    """The configuration file or a profile is invalid or missing."""


class BackendNotInstalled(AnnotateError, LookupError):
    """The named backend has no installed plugin; the message says what to install."""


class BackendLoadError(AnnotateError, ImportError):
    """A backend plugin is installed but failed to import."""


class UnsupportedFeatureError(AnnotateError):
    """A spec needs capabilities the backend lacks. Raised before any remote call."""

    def __init__(self, backend: str, unsupported: Sequence[Unsupported]):
        self.backend = backend
        self.unsupported = list(unsupported)
        lines = [f"backend {backend!r} cannot run this spec:"]
        lines += [f"  - {u.describe()}" for u in self.unsupported]
        super().__init__("\n".join(lines))


class StoreError(AnnotateError):
    """A backend's own store (a database) cannot be opened or used: unreachable, refused credentials,
    missing permissions. The message names the store (a URL's password masked), the cause and the fix."""


class JobStateError(AnnotateError):
    """The operation is not allowed in the job's current state (e.g. adding items to a closed job)."""


class JobIdleError(JobStateError):
    """``job.wait()`` without a timeout on a job that cannot finish by itself: nobody works on it.

    Only backends that can tell say so (``Progress.idle``, e.g. the local one); a vendor's crowd works
    unseen, so waiting on a vendor job never raises this.
    """


class WaitTimeoutError(AnnotateError, TimeoutError):
    """``job.wait(timeout=...)`` ran out; ``progress`` is where the job stood. The job keeps running."""

    def __init__(self, message: str, progress: Progress | None = None):
        super().__init__(message)
        self.progress = progress


class ItemsInputError(AnnotateError, ValueError):
    """Items cannot be read at all: a missing or unreadable file, a broken structure, no rows.

    The message names the file and line. Nothing has been uploaded when this is raised.
    """


class ItemsRejectedError(AnnotateError):
    """Items were rejected; `report` says which, where and why.

    By default an upload is atomic: when any item is rejected nothing is uploaded
    (``report.uploaded`` is False). With ``allow_partial=True`` the valid items are stored and stay
    stored: rerunning the same upload after fixing the rejected items adds only those.
    """

    def __init__(self, report: UploadReport):
        from annotate_core.items import describe_errors

        self.report = report
        rejected = report.rejected or len({(e.key, e.index, e.line) for e in report.errors})
        if report.uploaded:
            head = (f"{rejected} item(s) rejected ({report.created} created, "
                    f"{report.existing} already present):")
        else:
            head = (f"{rejected} item(s) rejected, so nothing was uploaded "
                    f"(fix them, or pass allow_partial=True to upload the valid ones):")
        super().__init__("\n".join([head, *describe_errors(report.errors, limit=10)]))


# --- errors raised while talking to a vendor -------------------------------------------------


class VendorError(AnnotateError):
    """A vendor answered with an error. Carries the vendor's own code and message."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        backend: str | None = None,
        request_id: str | None = None,
        payload: Any = None,
    ):
        self.status = status
        self.code = code
        self.backend = backend
        self.request_id = request_id
        self.payload = payload
        prefix = f"[{backend}] " if backend else ""
        detail = f" (HTTP {status}" if status is not None else " ("
        detail += f", code {code})" if code else ")"
        if detail == " ()":
            detail = ""
        super().__init__(f"{prefix}{message}{detail}")


class AuthenticationError(VendorError):
    """Credentials are missing, wrong or expired."""


class PermissionDeniedError(VendorError):
    """Credentials are valid but not allowed to do this."""


class NotFoundError(VendorError):
    """The vendor object does not exist (or is not visible to these credentials)."""


class ConflictError(VendorError):
    """The object already exists or is in a state that forbids the change."""


class RateLimitError(VendorError):
    """The vendor throttled us and waiting it out is not sensible (e.g. a daily quota)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any):
        self.retry_after = retry_after
        super().__init__(message, **kw)


@dataclass(frozen=True)
class FieldProblem:
    """One field-level complaint from a vendor's validation error."""

    field: str
    message: str
    code: str | None = None


class VendorValidationError(VendorError):
    """The vendor rejected a request body; `details` lists each field it complained about."""

    def __init__(self, message: str, *, details: Sequence[FieldProblem] = (), **kw: Any):
        self.details = list(details)
        if self.details:
            message += ": " + "; ".join(f"{d.field}: {d.message}" for d in self.details)
        super().__init__(message, **kw)


class MalformedResponseError(VendorError):
    """The vendor answered 2xx with a body we cannot interpret; names the field that was wrong."""


class OperationFailedError(VendorError):
    """A long-running vendor operation (Toloka operation, Dataloop command) ended in failure."""


class TransportError(VendorError):
    """The request never got an HTTP answer (connection refused, timeout) after all retries."""


class StoreNotFoundError(StoreError, NotFoundError):
    """A read found no store where it was pointed; reads never create one (only creating a job does).

    Also a ``NotFoundError``: whatever job the read asked for is not there either.
    """


def describe_decode_error(exc: UnicodeDecodeError) -> str:
    """Where a file stopped being text in its encoding: 'line 2: byte 0xff is not utf-8'."""
    data = exc.object if isinstance(exc.object, bytes | bytearray) else b""
    line = bytes(data[: exc.start]).count(b"\n") + 1
    bad = bytes(data[exc.start : exc.start + 1]).hex() or "?"
    return f"line {line}: byte 0x{bad} is not {exc.encoding}"
