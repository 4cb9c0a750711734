"""The backend contract: what every vendor plugin implements, and the plain data it exchanges.

The core talks to backends only through this class. A backend declares ``capabilities`` as data;
the core checks a spec against them before calling ``create_job``, so a backend never receives a
spec it said it cannot run. Optional operations (events, simulation) raise ``NotImplementedError``
by default and are gated by the matching capability; the work API (``pull`` / ``submit`` / ``skip``)
raises ``UnsupportedFeatureError`` with the backend's hint unless the backend declares
``Capability.PULL_API`` and implements it.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from pydantic import SecretStr

from annotate_core.capabilities import Capability
from annotate_core.secrets import mask_url_passwords, register_secret

if TYPE_CHECKING:
    from annotate_core.capabilities import Unsupported
    from annotate_core.errors import UnsupportedFeatureError
    from annotate_core.items import Item, UploadReport
    from annotate_core.model.spec import JobSpec


class JobState(str, Enum):
    DRAFT = "draft"  # created, items may be added, nobody works yet
    OPEN = "open"  # workers can take work
    PAUSED = "paused"
    CLOSED = "closed"  # stopped by the requester (or deadline); answers are final
    COMPLETED = "completed"  # every item has all its answers
    ARCHIVED = "archived"

    @property
    def finished(self) -> bool:
        return self in (JobState.CLOSED, JobState.COMPLETED, JobState.ARCHIVED)


@dataclass(frozen=True)
class Progress:
    """Where a job stands. ``percent`` is the backend's own measure when it has one.

    ``idle`` says why an unfinished job cannot move on by itself right now (not started, paused,
    nobody working), with what to do about it, when the backend can tell: the local backend sees
    every worker, so it can; a vendor's crowd works unseen, so vendor backends leave it None and
    ``job.wait()`` keeps waiting for them.
    """

    state: JobState
    total_items: int = 0
    completed_items: int = 0
    submitted_answers: int = 0
    expected_answers: int | None = None
    percent: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    idle: str | None = None

    @property
    def fraction(self) -> float:
        if self.percent is not None:
            return max(0.0, min(1.0, self.percent / 100))
        if self.total_items:
            return self.completed_items / self.total_items
        return 1.0 if self.state.finished else 0.0


@dataclass(frozen=True)
class PlannedOperation:
    """One vendor call (or store write) a plan would make; ``payload`` is the body it would send."""

    action: str  # e.g. "POST /v1/pools", "insert job"
    description: str
    payload: Any = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PlanWarning:
    """A place where running a spec on a backend changes its meaning or cost without refusing it: a
    default the vendor adds, a feature approximated, review sampling that becomes review-all. Plans
    list them so nothing is reinterpreted silently; ``path`` is the spec field concerned."""

    path: str
    message: str
    backend: str = ""

    def describe(self) -> str:
        return f"{self.path}: {self.message}"


@runtime_checkable
class PulledItem(Protocol):
    """One item of a pulled batch: what an annotator answers (the local backend's ``BatchItem``)."""

    @property
    def key(self) -> str: ...


@runtime_checkable
class PulledWork(Protocol):
    """What ``pull`` hands an in-house annotator: an assignment and its items, answered in this order by
    ``submit(job_id, work.assignment, answers)``. Backends return their own richer type (the local
    backend's ``Batch`` adds the interface, expiry and captcha)."""

    @property
    def assignment(self) -> str: ...

    @property
    def items(self) -> Sequence[PulledItem]: ...


#: called with the number of items just uploaded; whatever it returns is ignored (tqdm's ``update`` fits)
ProgressCallback = Callable[[int], object]


def shown_option(value: Any) -> Any:
    """An option as a repr may show it: secrets masked, and the password of a URL
    (``postgresql://user:pw@host/db``) too, since database URLs are plain options."""
    if isinstance(value, SecretStr):
        return SecretStr("x")
    if isinstance(value, str):
        return mask_url_passwords(value)
    return value


class Backend(abc.ABC):
    """Base class of every backend. Subclasses set ``name`` and ``capabilities`` and implement
    the abstract methods; ``options`` come from the profile, with secrets as ``SecretStr``.
    """

    name: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    #: capability -> advice shown when a spec needs it and this backend lacks it
    hints: ClassVar[Mapping[Capability, str]] = {}
    #: option names that carry credentials; they must come from ``<name>_env`` variables
    secret_options: ClassVar[frozenset[str]] = frozenset()
    #: True when the backend talks to a vendor service over the network (the conformance suite then
    #: runs its fault harness against a fake of that service, with job keys). A shorthand too: a class
    #: that sets ``remote`` and not the two flags below gets both equal to it, so ``remote = True``
    #: alone still means "throttled and validating" as it always did.
    remote: ClassVar[bool] = False
    #: the service answers 429 / quota errors that the backend must map to ``RateLimitError`` (a
    #: cloud vendor); a self-hosted server that never throttles sets it False
    rate_limited: ClassVar[bool] = False
    #: the service validates request bodies itself and answers 400/422 that the backend must map to
    #: ``VendorValidationError`` saying what was refused
    validates_on_server: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """``remote`` as shorthand: set in a class body without the finer flags, it sets both."""
        super().__init_subclass__(**kwargs)
        if "remote" in cls.__dict__:
            for flag in ("rate_limited", "validates_on_server"):
                if flag not in cls.__dict__:
                    setattr(cls, flag, bool(cls.remote))

    def __init__(self, **options: Any) -> None:
        self.options = options
        for value in options.values():
            if isinstance(value, SecretStr):  # however the backend was built, its secrets get scrubbed from logs
                register_secret(value.get_secret_value())

    def __repr__(self) -> str:
        shown = {k: shown_option(v) for k, v in self.options.items()}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    # ---- planning (never touches the network) -----------------------------------------------

    @abc.abstractmethod
    def plan(self, spec: JobSpec, n_items: int | None = None) -> list[PlannedOperation]:
        """The vendor operations that creating and filling this job would run, without running them."""

    def check_spec(self, spec: JobSpec) -> list[Unsupported]:
        """Refusals finer than a capability (one filter attribute, one webhook event type), as
        ``Unsupported`` entries. Called by ``plan`` and ``create_job`` after the capability check,
        before anything is sent. Default: none."""
        return []

    def warnings(self, spec: JobSpec, n_items: int | None = None) -> list[PlanWarning]:
        """Where this backend runs ``spec`` with a changed meaning or cost (see ``PlanWarning``).
        Shown by ``annotate plan`` and in ``Plan.warnings``; never sends anything. Default: none."""
        return []

    # ---- lifecycle --------------------------------------------------------------------------

    @abc.abstractmethod
    def create_job(self, spec: JobSpec, *, key: str | None = None) -> str:
        """Create the job's vendor objects (closed, no items) and return the job id.

        The core passes ``key`` only to backends that declare ``Capability.JOB_KEYS``, after
        ``find_job(key)`` found nothing. Such a backend stores the key on what it creates, and when a
        create's outcome is unknown (5xx after sending, timeout, lost reply) it looks the key up
        before retrying; a multi-object create resumes from the objects the key already names.
        """

    def find_job(self, key: str) -> str | None:
        """The id of the job created with ``key``, or None (backends declaring ``JOB_KEYS``)."""
        raise NotImplementedError(f"backend {self.name!r} has no job keys")

    def get_spec(self, job_id: str) -> JobSpec | None:
        """The spec a job was created from, when the backend stores it."""
        return None

    @abc.abstractmethod
    def add_items(
        self, job_id: str, spec: JobSpec, items: Iterable[Item], *, on_progress: ProgressCallback | None = None
    ) -> UploadReport:
        """Upload validated items, idempotently by key: items already present are counted, not re-added."""

    @abc.abstractmethod
    def start(self, job_id: str) -> None:
        """Open the job to workers (also resumes a paused job)."""

    def pause(self, job_id: str) -> None:
        raise NotImplementedError(f"backend {self.name!r} cannot pause jobs")

    @abc.abstractmethod
    def close(self, job_id: str) -> None:
        """Stop the job; answers given so far stay."""

    @abc.abstractmethod
    def progress(self, job_id: str) -> Progress: ...

    # ---- answers ----------------------------------------------------------------------------

    @abc.abstractmethod
    def iter_answers(self, job_id: str, spec: JobSpec | None) -> Iterator[Mapping[str, Any]]:
        """Every answer of the job, in every status, following pagination to its end.

        Yields records with the keys of ``annotate_core.answers.ANSWER_COLUMNS`` plus ``inputs``.
        A backend may also define ``iter_answer_frames(job_id, spec)``, yielding pandas frames of the
        same rows (object columns holding Python values, None for missing); ``job.answers()`` then
        uses it instead (see ``annotate_core.answers.job_answers``).
        """

    def review(self, job_id: str, assignment: str, *, accept: bool, comment: str | None = None) -> None:
        raise NotImplementedError(f"backend {self.name!r} has no manual review")

    def review_sample(self, job_id: str) -> list[str]:
        """The submitted assignments in the spec's review sample still awaiting a verdict. A vendor with
        no server-side sample (Toloka) accepts the submitted work outside it first, so those workers
        are paid now; with manual review declared, backends implement it."""
        raise NotImplementedError(f"backend {self.name!r} has no manual review")

    def add_source(
        self, job_id: str, spec: JobSpec, source: Any, *, assignees: tuple[str, ...] = ()
    ) -> UploadReport:
        """Add vendor-stored items (a ``DatasetSource``: filter or ids) to a running job."""
        raise NotImplementedError(f"backend {self.name!r} cannot add vendor-stored items")

    # ---- optional extras --------------------------------------------------------------------

    def iter_events(self, job_id: str, *, since: int = 0) -> Iterator[Mapping[str, Any]]:
        """Events after sequence number ``since``, oldest first: mappings with at least ``seq`` (an
        int that increases strictly) and ``type`` (a ``model.Event`` value), plus ``worker`` /
        ``assignment`` when they apply. A caller resumes with the last ``seq`` it saw."""
        raise NotImplementedError(f"backend {self.name!r} has no event stream")

    def simulate(self, job_id: str, spec: JobSpec, **workforce: Any) -> Mapping[str, Any]:
        """Answer a started job with a simulated crowd; ``workforce`` options are the backend's own
        (with none, a default crowd that finishes the job). Returns a summary mapping."""
        raise NotImplementedError(f"backend {self.name!r} cannot simulate a workforce")

    # ---- the work API: in-house annotators pull and submit (Capability.PULL_API) ----------------

    def refusal(self, capability: Capability, feature: str) -> UnsupportedFeatureError:
        """The error for an operation this backend lacks ``capability`` for, with its hint (or the
        default one): what ``Job`` raises before calling an optional operation, and what the work
        API below raises when a backend does not override it."""
        from annotate_core.capabilities import DEFAULT_HINTS, Unsupported
        from annotate_core.errors import UnsupportedFeatureError

        hint = self.hints.get(capability) or DEFAULT_HINTS.get(capability) or "use a backend that has it"
        return UnsupportedFeatureError(self.name, [Unsupported(self.name, capability, feature, "job", hint)])

    def _work_api_missing(self, method: str) -> Exception:
        if Capability.PULL_API in self.capabilities:  # declared but not written: the author's bug, said so
            return NotImplementedError(
                f"backend {self.name!r} declares {Capability.PULL_API.value} but does not implement {method}()")
        return self.refusal(Capability.PULL_API, "pull/submit")

    def pull(self, job_id: str, assignee: str, *, role: str = "work", limit: int | None = None
             ) -> PulledWork | None:
        """The next batch of work for the in-house annotator ``assignee`` (at most ``limit`` items), or
        None when nothing is left for them. ``role="review"``: the next submitted assignment to review
        (backends with ``review.manual``). With ``Capability.PULL_API``; refused with the hint otherwise."""
        raise self._work_api_missing("pull")

    def submit(self, job_id: str, assignment: str, answers: Any) -> Any:
        """The answers to a pulled assignment: one per item in the batch's order, or a mapping item key ->
        answer. Returns the backend's receipt (the local backend's ``SubmitResult``). A backend may add
        keyword-only options of its own (the local one: ``captcha``, ``worker``)."""
        raise self._work_api_missing("submit")

    def skip(self, job_id: str, assignment: str) -> Any:
        """Give a pulled assignment back unanswered: its items return to the queue for someone else."""
        raise self._work_api_missing("skip")

    def list_jobs(self) -> list[Mapping[str, Any]]:
        raise NotImplementedError(f"backend {self.name!r} cannot list jobs")

    def store_description(self) -> str:
        """Where this backend keeps its jobs, for the CLI's messages (the local backend: its database,
        password hidden); "" when there is no store of its own worth naming (a vendor's account)."""
        return ""

    def close_backend(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release sessions, connections and files."""
