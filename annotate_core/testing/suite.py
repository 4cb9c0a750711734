"""The conformance suite: one set of tests every backend runs, selected by declared capability.

A backend's test module subclasses ``BackendConformance``, names its class in ``backend_class``,
and provides fixtures:

* ``backend`` — a ready instance (for vendor backends: one whose HTTP replays cassettes);
* ``make_answers`` — a callable ``(job, items) -> None`` that makes answers exist for every item
  of a started job (the local backend has people pull work; a crowd vendor's cassette already holds
  the workers' answers, so its callable does nothing; a self-hosted vendor's posts them through the
  vendor's API, taped while ``recording`` and replayed after: see ``annotate_core.testing.recording``);
* ``paged_backend`` (optional) — a backend whose listings return at most ``page_size`` objects a
  page, for the pagination test (the default, ``backend``, suits a store with no paging);
* ``fault_backend`` — for a backend with credentials, a rate-limited service or one that validates
  on the server: a backend that meets the vendor failure named by the ``fault`` parameter (see
  ``vendor_faults``).

Tests are selected from what ``backend_class`` declares, never from its name: a declared
capability must work, an undeclared one must be refused at plan time and by ``create_job``
before any network access; credentials (``secret_options``) bring the auth and secret-hygiene
tests, ``rate_limited`` the rate-limit one, ``validates_on_server`` the validation one (``remote = True``
declares both unless overridden). Tests that do not apply are removed
from the subclass, not skipped.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import pandas as pd
import pytest
from pydantic import SecretStr

from annotate_core.answers import ANSWER_COLUMNS, INPUT_PREFIX
from annotate_core.backend import Backend, JobState
from annotate_core.capabilities import Capability
from annotate_core.client import Client
from annotate_core.errors import (
    AuthenticationError,
    NotFoundError,
    RateLimitError,
    UnsupportedFeatureError,
    VendorError,
    VendorValidationError,
)
from annotate_core.items import Item
from annotate_core.jobkeys import JobKeyConflictError
from annotate_core.secrets import RedactingFilter
from annotate_core.testing.cassettes import cassette_files, recording_config, scan_cassettes
from annotate_core.testing.faults import FaultPlan, FaultyVendor, run_with_reruns
from annotate_core.testing.recording import is_recording
from annotate_core.testing.specs import FRAGMENTS, base_spec, spec_data_needing

MakeAnswers = Callable[[Any, list[Item]], None]

#: seeds of the fault harness, and how many times it reruns a job before calling it stuck
FAULT_SEEDS = 20
MAX_RERUNS = 8


def conformance_items(n: int, *, golden: int = 0, prefix: str = "conf") -> list[Item]:
    """Deterministic items; the first ``golden`` carry a known answer."""
    return [
        Item(
            key=f"{prefix}-{i:04d}",
            inputs={"image": f"https://example.com/images/{prefix}-{i:04d}.jpg"},
            golden={"result": "cat" if i % 2 == 0 else "dog"} if i < golden else None,
        )
        for i in range(n)
    ]


class NetworkUsed(AssertionError):
    """Raised when code under a no-network guard opens a socket."""


#: the vendor failures every backend that can meet them must map onto the core's error types
FAULT_ERRORS: dict[str, type[VendorError]] = {
    "auth": AuthenticationError,
    "rate_limit": RateLimitError,
    "validation": VendorValidationError,
}


#: capabilities used through the Job API, and the call that needs each (refused when undeclared)
API_CALLS: dict[Capability, Callable[[Any], Any]] = {
    Capability.PAUSE: lambda job: job.pause(),
    Capability.MANUAL_REVIEW: lambda job: job.review("conformance-assignment", accept=True),
    Capability.EVENTS: lambda job: job.events(),
    Capability.SIMULATION: lambda job: job.simulate(),
    Capability.PULL_API: lambda job: job.pull("conformance-annotator"),
}


def vendor_faults(backend_class: type[Backend]) -> list[str]:
    """The faults of ``FAULT_ERRORS`` a backend meets, from what it declares.

    Credentials (``secret_options``) can be refused; a ``rate_limited`` service throttles; one that
    ``validates_on_server`` refuses request bodies itself (``remote = True`` sets both unless the class
    says otherwise: a self-hosted server that never throttles declares ``rate_limited = False``). A
    store in the same process meets none of them.
    """
    faults = ["auth"] if backend_class.secret_options else []
    if backend_class.rate_limited:
        faults.append("rate_limit")
    if backend_class.validates_on_server:
        faults.append("validation")
    return faults


def paged_item_count(page_size: int | None, n_items: int) -> int:
    """Items of the pagination test: enough for four pages, or twice a lifecycle job if not paged.

    Public so a cassette generator records exactly as many as the suite uploads.
    """
    return 3 * page_size + 1 if page_size else 2 * n_items


def requires(*caps: Capability) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a suite test as meaningful only for backends that declare every one of ``caps``."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__annotate_requires__ = frozenset(caps)  # type: ignore[attr-defined]
        return fn

    return mark


def applies_when(predicate: Callable[[type[Backend]], bool]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a suite test as meaningful only for backend classes ``predicate`` accepts."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__annotate_applies__ = predicate  # type: ignore[attr-defined]
        return fn

    return mark


def _secret_values(backend: Backend) -> list[str]:
    return [v.get_secret_value() for v in backend.options.values() if isinstance(v, SecretStr) and v.get_secret_value()]


def _leaks(secrets: list[str], *texts: str) -> list[str]:
    """The secrets (shown by length only) found in any of ``texts``."""
    return [f"<secret of {len(s)} chars>" for s in secrets if any(s in t for t in texts)]


class BackendConformance:
    """Subclass as ``TestMyBackend(BackendConformance)`` and provide the fixtures above."""

    backend_class: ClassVar[type[Backend]]
    #: items per lifecycle test; vendor cassettes are recorded for this many
    n_items: ClassVar[int] = 6
    #: most objects a page of the ``paged_backend`` fixture's listings holds; None: not paged
    page_size: ClassVar[int | None] = None
    #: a job id in the backend's own format that names no job
    unknown_job_id: ClassVar[str] = "conformance-no-such-job"
    #: where this backend's cassettes live, for the secrets scan; None: pytest-recording's
    #: ``vcr_cassette_dir`` fixture (the one your conftest overrides)
    cassette_dir: ClassVar[str | None] = None
    #: fake credentials your cassettes hold on purpose (a JWT whose expiry a replay reads); the
    #: scrubber leaves them and the scan allows them
    cassette_fakes: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Drop the tests that do not apply to what the backend declares: selected, not skipped."""
        super().__init_subclass__(**kwargs)
        backend_class = getattr(cls, "backend_class", None)
        if backend_class is None:
            return
        for name in dir(cls):
            fn = getattr(cls, name, None)
            if not name.startswith("test_") or fn is None:
                continue
            needed: frozenset[Capability] = getattr(fn, "__annotate_requires__", frozenset())
            applies = getattr(fn, "__annotate_applies__", None)
            if not needed <= backend_class.capabilities or (applies is not None and not applies(backend_class)):
                setattr(cls, name, None)

    @classmethod
    def paged_items(cls) -> int:
        return paged_item_count(cls.page_size, cls.n_items)

    @pytest.fixture
    def no_network(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
        """Fail the test on any attempt to open a network connection."""
        attempts: list[Any] = []

        def refuse(*args: Any, **kwargs: Any) -> None:
            attempts.append(args)
            raise NetworkUsed(f"network access attempted: {args!r}")

        monkeypatch.setattr(socket.socket, "connect", refuse)
        monkeypatch.setattr(socket.socket, "connect_ex", refuse)
        monkeypatch.setattr(socket, "create_connection", refuse)
        yield attempts

    # ---- parametrization by capability --------------------------------------------------------

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        caps = metafunc.cls.backend_class.capabilities
        if "missing_capability" in metafunc.fixturenames:
            missing = [c for c in FRAGMENTS if c not in caps]
            metafunc.parametrize("missing_capability", missing, ids=[c.value for c in missing])
        if "declared_capability" in metafunc.fixturenames:
            declared = [c for c in FRAGMENTS if c in caps]
            metafunc.parametrize("declared_capability", declared, ids=[c.value for c in declared])
        if "fault" in metafunc.fixturenames:
            metafunc.parametrize("fault", vendor_faults(metafunc.cls.backend_class))
        if "missing_api_capability" in metafunc.fixturenames:
            missing = [c for c in API_CALLS if c not in caps]
            metafunc.parametrize("missing_api_capability", missing, ids=[c.value for c in missing])

    @pytest.fixture
    def backend(self) -> Backend:  # pragma: no cover - the subclass provides it
        raise NotImplementedError("provide a `backend` fixture returning a ready instance")

    @pytest.fixture
    def make_answers(self) -> MakeAnswers:  # pragma: no cover - the subclass provides it
        raise NotImplementedError("provide a `make_answers` fixture")

    @pytest.fixture
    def paged_backend(self, backend: Backend) -> Backend:
        """A backend whose listings hold at most ``page_size`` objects a page (default: ``backend``)."""
        return backend

    @pytest.fixture
    def fault_backend(self, fault: str) -> Backend:  # pragma: no cover - the subclass provides it
        raise NotImplementedError(
            f"provide a `fault_backend` fixture: for fault={fault!r}, a backend whose next create_job meets "
            f"it ({FAULT_ERRORS[fault].__name__} expected); vendor backends replay a cassette with the "
            "vendor's answer"
        )

    @pytest.fixture
    def recording(self, request: pytest.FixtureRequest) -> bool:
        """True while requests reach a live server (recording cassettes, or none at all), False on
        replay: what a ``make_answers`` that creates answers through the vendor's API, or one whose
        answers must already sit in the cassette, needs to know (``annotate_core.testing.recording``)."""
        return is_recording(request.config)

    @pytest.fixture
    def vcr_config(self, vcr_config: dict[str, Any]) -> dict[str, Any]:
        """Your ``vcr_config`` (pytest-recording's, or your conftest's), with credential scrubbing added:
        whatever it says, the suite's cassettes are recorded without cookies, tokens or passwords."""
        return recording_config(vcr_config, fakes=self.cassette_fakes)

    @pytest.fixture
    def client(self, backend: Backend) -> Client:
        return Client(backend, profile="conformance")

    @pytest.fixture
    def debug_logs(self, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> pytest.LogCaptureFixture:
        """Every record of every logger at DEBUG, as a user who turns logging all the way up sees it.

        The core's log scrubber is switched off meanwhile: it is only installed by ``connect()`` and
        the CLI, so a script with its own logging setup sees exactly what the backend logs.
        """
        monkeypatch.setattr(RedactingFilter, "active", False)
        caplog.set_level(logging.DEBUG)
        for name in ("urllib3", "requests", "annotate_core", self.backend_class.__module__.split(".")[0]):
            caplog.set_level(logging.DEBUG, logger=name)
        return caplog

    def spec(self, **overrides: Any):
        return base_spec(self.backend_class.capabilities, **overrides)

    # ---- contract shape -----------------------------------------------------------------------

    def test_declares_a_name_and_known_capabilities(self) -> None:
        cls = self.backend_class
        assert cls.name, "set the backend's `name`"
        assert all(isinstance(c, Capability) for c in cls.capabilities)
        assert set(cls.hints) <= set(Capability)

    @applies_when(lambda cls: bool(cls.secret_options))
    def test_repr_hides_secrets(self, backend: Backend) -> None:
        secrets = _secret_values(backend)
        assert secrets, "the backend fixture should hold its credentials as SecretStr options"
        leaks = _leaks(secrets, repr(backend), repr(Client(backend)), str(backend.options), backend.store_description())
        assert not leaks, f"a credential appears in a repr or the store description: {leaks}"

    @requires(Capability.UPLOAD_ITEMS)
    def test_the_suites_base_spec_runs_here(self, client: Client) -> None:
        """The lifecycle tests start from ``base_spec``: one image input, one cat/dog label, and
        pulling if declared (else a fixed workload among named assignees). Say early what it lacks."""
        missing = client.check(self.spec())
        assert not missing, (
            "the lifecycle tests' base spec needs capabilities this backend does not declare "
            f"({', '.join(sorted(u.capability.value for u in missing))}); declare them, or override `spec()` "
            "in your suite subclass with a spec your backend runs"
        )

    # ---- refusals: nothing is sent for what the backend cannot do -----------------------------

    @applies_when(lambda cls: any(c not in cls.capabilities for c in FRAGMENTS))
    def test_missing_capability_is_refused_before_any_network(
        self, client: Client, missing_capability: Capability, no_network: list[Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from annotate_core.model.spec import JobSpec

        spec = JobSpec.model_validate(spec_data_needing(missing_capability))
        plan = client.plan(spec)
        assert not plan.ok and plan.operations == []
        assert missing_capability in {u.capability for u in plan.unsupported}
        assert all(u.hint for u in plan.unsupported)
        called: list[str] = []

        def create_job(spec: JobSpec) -> str:
            called.append("create")
            return "x"

        monkeypatch.setattr(client.backend, "create_job", create_job)
        with pytest.raises(UnsupportedFeatureError) as err:
            client.create_job(spec)
        assert called == [] and no_network == []
        assert err.value.backend == self.backend_class.name

    @applies_when(lambda cls: any(c not in cls.capabilities for c in API_CALLS))
    def test_missing_api_capability_is_refused_before_any_network(
        self, client: Client, missing_api_capability: Capability, no_network: list[Any]
    ) -> None:
        job = client.job(self.unknown_job_id, spec=self.spec())
        with pytest.raises(UnsupportedFeatureError) as err:
            API_CALLS[missing_api_capability](job)
        assert [u.capability for u in err.value.unsupported] == [missing_api_capability]
        assert err.value.unsupported[0].hint and no_network == []

    @applies_when(lambda cls: any(c in cls.capabilities for c in FRAGMENTS))
    def test_declared_capability_plans_offline(
        self, client: Client, declared_capability: Capability, no_network: list[Any]
    ) -> None:
        data = spec_data_needing(declared_capability)
        overrides = {k: v for k, v in data.items() if k not in ("name", "instructions", "inputs", "outputs")}
        if "outputs" in FRAGMENTS[declared_capability]:
            overrides["outputs"] = data["outputs"]
        spec = self.spec(**overrides)
        plan = client.plan(spec, n_items=10)
        assert plan.ok, plan.render()
        assert plan.operations, "plan() should list the operations creating the job would run"
        assert no_network == []

    def test_check_spec_refusals_stop_plan_and_create_job(
        self, client: Client, no_network: list[Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """``check_spec`` (refusals finer than a capability: one webhook event type, one filter
        attribute) is asked by both ``plan`` and ``create_job``, offline; what it returns stops both
        before ``create_job`` reaches the backend. Your own hook must accept the suite's base spec."""
        from annotate_core.capabilities import Unsupported

        spec = self.spec()
        own = client.backend.check_spec(spec)
        assert own == [], f"check_spec refuses the suite's base spec: {[u.describe() for u in own]}"
        gap = Unsupported(self.backend_class.name, Capability.WEBHOOKS, "a value the suite refuses", "name",
                          "the conformance suite's own refusal")
        asked: list[Any] = []

        def refuse(s: Any) -> list[Unsupported]:
            asked.append(s)
            return [gap]

        def create_job(*args: Any, **kwargs: Any) -> str:
            created.append("create")
            return "x"

        monkeypatch.setattr(client.backend, "check_spec", refuse)
        plan = client.plan(spec)
        assert not plan.ok and gap in plan.unsupported and plan.operations == []
        assert asked == [spec], "plan() did not ask check_spec"
        created: list[str] = []
        monkeypatch.setattr(client.backend, "create_job", create_job)
        with pytest.raises(UnsupportedFeatureError) as err:
            client.create_job(spec)
        assert asked == [spec, spec], "create_job() did not ask check_spec"
        assert gap in err.value.unsupported and created == [] and no_network == []

    # ---- job keys -----------------------------------------------------------------------------

    #: the key the job-key tests create with (vendor cassettes are recorded with it)
    job_key: ClassVar[str] = "conformance-job-key"

    @requires(Capability.JOB_KEYS)
    def test_job_key_creates_once_then_attaches(self, client: Client) -> None:
        assert client.backend.find_job(self.job_key + "-unused") is None
        first = client.create_job(self.spec(), key=self.job_key)
        assert first.created and first.key == self.job_key
        assert client.backend.find_job(self.job_key) == first.id
        again = client.create_job(self.spec(), key=self.job_key)
        assert (again.id, again.created) == (first.id, False), "the same key and spec must attach, not create"
        with pytest.raises(JobKeyConflictError) as err:
            client.create_job(self.spec(description="another job under the same key"), key=self.job_key)
        assert err.value.job_id == first.id and "description" in err.value.differences

    @applies_when(lambda cls: Capability.JOB_KEYS not in cls.capabilities)
    def test_job_key_is_refused_before_any_network(self, client: Client, no_network: list[Any],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
        called: list[str] = []

        def create_job(spec: object, *, key: str | None = None) -> str:
            called.append("create")
            return "x"

        monkeypatch.setattr(client.backend, "create_job", create_job)
        with pytest.raises(UnsupportedFeatureError) as err:
            client.create_job(self.spec(), key=self.job_key)
        assert [u.capability for u in err.value.unsupported] == [Capability.JOB_KEYS]
        assert called == [] and no_network == []

    # ---- faults, then reruns (remote backends with job keys) ----------------------------------

    @pytest.fixture
    def faulty_vendor(self) -> FaultyVendor:  # pragma: no cover - the subclass provides it
        raise NotImplementedError(
            "provide a `faulty_vendor` fixture: an annotate_core.testing.faults.FaultyVendor over a stateful "
            "fake of your vendor's API, served by FaultyServer (see docs/plugins.md)")

    @applies_when(lambda cls: cls.remote and Capability.JOB_KEYS in cls.capabilities)
    @pytest.mark.parametrize("fault_seed", range(FAULT_SEEDS))
    def test_faults_then_rerun_end_with_one_job(self, fault_seed: int, faulty_vendor: FaultyVendor) -> None:
        """Faults at random points of a whole job (create, upload, start, read answers), then the same
        code rerun until it finishes: one job, every item once, every answer read once."""
        vendor = faulty_vendor
        plan = FaultPlan.random(fault_seed, requests=vendor.expected_requests)
        items = conformance_items(self.n_items)
        run = run_with_reruns(vendor, plan, self.spec(), items, f"faults-{fault_seed}", max_runs=MAX_RERUNS)
        where = f"faults: {plan.describe()}; runs that failed: {run.failures}"
        assert run.finished, f"the job never finished in {MAX_RERUNS} runs ({where})"
        assert plan.fired, f"no planned fault fired: raise `expected_requests` ({where})"
        assert dict(vendor.objects()) == dict(vendor.one_job), f"not exactly one job on the vendor ({where})"
        copies = vendor.item_copies()
        assert {k: n for k, n in copies.items() if n != 1} == {}, f"items stored twice ({where})"
        assert set(copies) == {i.key for i in items}, f"items missing on the vendor ({where})"
        assert not run.answers.duplicated(["assignment", "task"]).any(), f"an answer was read twice ({where})"
        assert len(run.answers) == vendor.answer_count(run.job.id), f"answers read != answers held ({where})"

    # ---- lifecycle ----------------------------------------------------------------------------

    def _started_job(self, client: Client, make_answers: MakeAnswers, *, golden: int = 0, **overrides: Any):
        job = client.create_job(self.spec(**overrides))
        items = conformance_items(self.n_items, golden=golden)
        report = job.add_items(items, progress=False)
        assert report.created == len(items) and report.errors == []
        job.start()
        make_answers(job, items)
        return job, items

    @requires(Capability.UPLOAD_ITEMS)
    def test_upload_is_idempotent_by_key(self, client: Client) -> None:
        job = client.create_job(self.spec())
        items = conformance_items(self.n_items)
        first = job.add_items(items[:-2], progress=False)
        again = job.add_items(items, progress=False)
        assert (first.created, first.existing) == (len(items) - 2, 0)
        assert (again.created, again.existing) == (2, len(items) - 2)
        assert job.progress().total_items == len(items)

    @requires(Capability.UPLOAD_ITEMS)
    def test_answers_frame_schema(self, client: Client, make_answers: MakeAnswers) -> None:
        job, items = self._started_job(client, make_answers)
        df = job.answers()
        assert list(df.columns)[: len(ANSWER_COLUMNS)] == list(ANSWER_COLUMNS)
        assert f"{INPUT_PREFIX}image" in df.columns
        assert isinstance(df["submitted_at"].dtype, pd.DatetimeTZDtype)
        assert df["golden"].dtype == bool and df["duration_s"].dtype == "float64"
        assert not df.empty, "make_answers should have produced answers"
        assert set(df["task"]) <= {i.key for i in items}
        assert df["worker"].notna().all() and (df["field"] == "result").all()
        assert set(df["label"].dropna()) <= {"cat", "dog"}

    @requires(Capability.UPLOAD_ITEMS)
    def test_lifecycle_to_closed(self, client: Client, make_answers: MakeAnswers) -> None:
        job, _ = self._started_job(client, make_answers)
        assert job.progress().state in (JobState.OPEN, JobState.COMPLETED)
        job.close()
        assert job.progress().state.finished

    @requires(Capability.UPLOAD_ITEMS, Capability.OVERLAP)
    def test_overlap_never_exceeded(self, client: Client, make_answers: MakeAnswers) -> None:
        job, _ = self._started_job(client, make_answers, overlap={"count": 2})
        df = job.answers()
        per_item = df[df["status"].isin(["submitted", "accepted"])].groupby("task")["worker"]
        assert (per_item.nunique() == per_item.size()).all(), "one worker answered an item twice"
        assert per_item.size().max() <= 2

    @requires(Capability.UPLOAD_ITEMS, Capability.GOLDEN)
    def test_golden_answers_are_flagged(self, client: Client, make_answers: MakeAnswers) -> None:
        job, items = self._started_job(client, make_answers, golden=2)
        df = job.answers()
        golden_keys = {i.key for i in items if i.is_golden}
        flagged = df[df["golden"]]
        assert set(flagged["task"]) <= golden_keys and not flagged.empty
        expected = {i.key: i.golden["result"] for i in items if i.golden}
        assert all(expected[t] == g for t, g in zip(flagged["task"], flagged["golden_label"], strict=True))

    @requires(Capability.UPLOAD_ITEMS, Capability.MANUAL_REVIEW)
    def test_manual_review_changes_status(self, client: Client, make_answers: MakeAnswers) -> None:
        job, _ = self._started_job(client, make_answers)
        df = job.answers()
        submitted = df[df["status"] == "submitted"]["assignment"].unique()
        assert len(submitted) >= 2, "need two submitted assignments to review"
        job.review(submitted[0], accept=True)
        job.review(submitted[1], accept=False, comment="wrong animal")
        status = job.answers().groupby("assignment")["status"].first()
        assert status[submitted[0]] == "accepted" and status[submitted[1]] == "rejected"

    @requires(Capability.UPLOAD_ITEMS, Capability.PAUSE)
    def test_pause_and_resume(self, client: Client) -> None:
        job = client.create_job(self.spec())
        job.add_items(conformance_items(self.n_items), progress=False)
        job.start()
        job.pause()
        assert job.progress().state is JobState.PAUSED
        job.resume()
        assert job.progress().state is JobState.OPEN

    @requires(Capability.UPLOAD_ITEMS, Capability.EVENTS)
    def test_events_follow_the_work(self, client: Client, make_answers: MakeAnswers) -> None:
        """Events are mappings with an increasing ``seq`` and a ``type`` from ``model.Event``;
        ``events(since=seq)`` resumes after the last one seen."""
        from annotate_core.model.commercial import Event

        job, _ = self._started_job(client, make_answers)
        events = list(job.events())
        assert events, "answers were given but no event was recorded"
        assert {e["type"] for e in events} <= {ev.value for ev in Event}
        assert Event.SUBMITTED.value in {e["type"] for e in events}
        seqs = [e["seq"] for e in events]
        assert seqs == sorted(set(seqs)), "seq must increase strictly"
        assert list(job.events(since=seqs[-1])) == []
        assert [e["seq"] for e in job.events(since=seqs[0])] == seqs[1:]

    @requires(Capability.UPLOAD_ITEMS, Capability.PULL_API)
    def test_pull_and_submit(self, client: Client) -> None:
        """An in-house annotator pulls a batch (``.assignment``, ``.items`` with ``.key``) and submits
        one answer per item in batch order; the answers are theirs."""
        job = client.create_job(self.spec())
        items = conformance_items(self.n_items)
        job.add_items(items, progress=False)
        job.start()
        batch = job.pull("conformance-annotator", limit=2)
        assert batch is not None and 1 <= len(batch.items) <= 2
        job.submit(batch.assignment, ["dog"] * len(batch.items))
        df = job.answers()
        mine = df[df["worker"] == "conformance-annotator"]
        assert sorted(mine["task"]) == sorted(i.key for i in batch.items)
        assert (mine["label"] == "dog").all() and (mine["status"] == "submitted").all()

    @requires(Capability.UPLOAD_ITEMS, Capability.SIMULATION)
    def test_simulated_workforce_answers_every_item(self, client: Client) -> None:
        job = client.create_job(self.spec())
        items = conformance_items(self.n_items)
        job.add_items(items, progress=False)
        job.start()
        summary = job.simulate()
        assert isinstance(summary, Mapping)
        assert set(job.answers()["task"]) == {i.key for i in items}

    # ---- pagination ---------------------------------------------------------------------------

    @requires(Capability.UPLOAD_ITEMS)
    def test_listings_read_every_page(self, paged_backend: Backend, make_answers: MakeAnswers) -> None:
        """Items, existing keys and answers listed over many pages: nothing past page one is lost."""
        client = Client(paged_backend, profile="conformance")
        job = client.create_job(self.spec())
        items = conformance_items(self.paged_items(), prefix="page")
        first = job.add_items(items, progress=False)
        assert (first.created, first.errors) == (len(items), [])
        again = job.add_items(items, progress=False)
        assert (again.created, again.existing) == (0, len(items)), "existing keys past the first page were missed"
        job.start()
        make_answers(job, items)
        assert job.progress().total_items == len(items)
        df = job.answers()
        missing = sorted({i.key for i in items} - set(df["task"]))
        assert not missing, f"answers of {len(missing)} item(s) missing, e.g. {missing[:3]}"
        assert not df.duplicated(["assignment", "task", "field"]).any(), "a page was read twice"

    # ---- errors: the vendor's failures, as the core's types -----------------------------------

    def test_unknown_job_is_not_found(self, client: Client) -> None:
        with pytest.raises(NotFoundError) as err:
            client.job(self.unknown_job_id).progress()
        assert err.value.backend == self.backend_class.name

    @applies_when(lambda cls: bool(vendor_faults(cls)))
    def test_vendor_fault_is_mapped(self, fault_backend: Backend, fault: str, debug_logs: pytest.LogCaptureFixture
                                    ) -> None:
        expected = FAULT_ERRORS[fault]
        with pytest.raises(VendorError) as err:
            Client(fault_backend, profile="conformance").create_job(self.spec())
        error = err.value
        got = type(error).__name__
        assert isinstance(error, expected), f"{fault}: expected {expected.__name__}, got {got}: {error}"
        assert error.backend == self.backend_class.name
        if isinstance(error, RateLimitError):
            assert error.retry_after is None or error.retry_after > 0
        if isinstance(error, VendorValidationError):
            assert error.details or error.status in (400, 422), "say what the vendor refused"
        leaks = _leaks(_secret_values(fault_backend), str(error), repr(error.payload), debug_logs.text)
        assert not leaks, f"{fault}: a credential appears in the error or the logs: {leaks}"

    # ---- secrets --------------------------------------------------------------------------------

    @applies_when(lambda cls: bool(cls.secret_options))
    def test_cassettes_hold_no_secrets(self, backend: Backend, request: pytest.FixtureRequest) -> None:
        """No credential in any cassette of this backend: no credential header or cookie, no token or
        password field in a body or query, no value of the backend's secret options or of a
        secret-looking environment variable (the real token while re-recording), nothing token-shaped."""
        where = self.cassette_dir or request.getfixturevalue("vcr_cassette_dir")
        files = cassette_files(where)
        assert files, (f"no cassettes under {where}: point the `vcr_cassette_dir` fixture (or `cassette_dir`) "
                       "at this backend's cassettes")
        findings = scan_cassettes(files, secrets=_secret_values(backend), fakes=self.cassette_fakes)
        shown = "\n  ".join(f.describe() for f in findings[:20])
        assert not findings, f"{len(findings)} credential(s) left in cassettes under {where}:\n  {shown}"

    @applies_when(lambda cls: bool(cls.secret_options))
    @requires(Capability.UPLOAD_ITEMS)
    def test_secrets_absent_from_logs(self, client: Client, make_answers: MakeAnswers,
                                      debug_logs: pytest.LogCaptureFixture) -> None:
        secrets = _secret_values(client.backend)
        assert secrets, "the backend fixture should hold its credentials as SecretStr options"
        job, _ = self._started_job(client, make_answers)
        frame = job.answers()
        records = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in debug_logs.records)
        assert debug_logs.records, "nothing was logged at DEBUG: the test would prove nothing"
        leaks = _leaks(secrets, debug_logs.text, records, repr(job), repr(client), frame.to_csv())
        assert not leaks, f"a credential appears in the logs, a repr or the answers: {leaks}"
