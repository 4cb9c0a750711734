"""The self-hosted ``make_answers`` pattern, end to end: the conformance suite records against a live
server (``http_vendor.LabelServer`` on loopback), annotators' answers posted through its API with
their own tokens, then replays the same tests from those cassettes with the server gone and the
network blocked. The cassettes come out free of credentials and cookies (the kit's recording
settings), and the plugin never sent a cookie back (``HttpClient``'s default)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotate_core.testing import scan_cassettes

from . import http_vendor

pytest_plugins = ("pytester",)

CONFTEST = '''
import pytest
from annotate_core.testing import recording_config


@pytest.fixture(scope="module")
def vcr_config():
    return recording_config(match_on=["method", "path", "query", "body"])


@pytest.fixture(scope="module")
def vcr_cassette_dir():
    return "cassettes"
'''

PLUGIN_TESTS = '''
import json

import pytest
from pydantic import SecretStr

from annotate_core.testing import BackendConformance, is_recording, planned_answers
from http_vendor import ADMIN_TOKEN, ANNOTATORS, LabelBackend, LabelServer

REPLAY_URL = "http://127.0.0.1:9"  # never reached: every request replays from a cassette


@pytest.fixture(scope="session")
def live(request):
    """The live server while recording (a self-hosted vendor you start in CI), None on replay."""
    if not is_recording(request.config):
        yield None
        return
    server = LabelServer()
    httpd, server.url = server.serve()
    yield server
    httpd.shutdown()
    httpd.server_close()
    with open("cookies_received.json", "w") as f:
        json.dump(server.cookies_received, f)


def make(live, token=None, **options):
    token = token or (ADMIN_TOKEN if live else "replay-admin-token")
    return LabelBackend(url=live.url if live else REPLAY_URL, token=SecretStr(token), **options)


@pytest.mark.vcr
class TestLabelServer(BackendConformance):
    backend_class = LabelBackend
    page_size = 2
    unknown_job_id = "999999"

    @pytest.fixture
    def backend(self, live):
        return make(live)

    @pytest.fixture
    def paged_backend(self, live):
        return make(live, page_size=self.page_size)

    @pytest.fixture
    def fault_backend(self, fault, live, recording):
        if fault == "auth":
            return make(live, token="revoked-token-0123456789")
        if recording:  # the live fake refuses the next create; the cassette keeps its answer for replay
            live.fail_next("POST", r"/api/projects$", 400,
                           {"detail": "Validation error", "validation_errors": {"title": ["may not be blank"]}})
        return make(live)

    @pytest.fixture
    def make_answers(self, recording):
        # the annotators' real tokens exist only on the live server; replay sends the same requests
        # (same bodies, from planned_answers) with stand-ins, and the cassette answers them
        tokens = ANNOTATORS if recording else {name: f"replay-{name}-token" for name in ANNOTATORS}

        def answer(job, items):
            task_ids = job.backend.task_ids(job.id)
            for a in planned_answers(items, overlap=job.spec.overlap.count, workers=sorted(tokens)):
                job.backend.annotate(job.id, task_ids[a.item_key], a.label,
                                     annotator_token=SecretStr(tokens[a.worker]))

        return answer

    @pytest.fixture(autouse=True)
    def whole_cassette_replayed(self, vcr, recording):
        yield
        if not recording:
            assert vcr.all_played, "a recorded request was never made on replay"
'''


@pytest.fixture
def plugin_dir(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(http_vendor=Path(http_vendor.__file__).read_text(), test_label_plugin=PLUGIN_TESTS)
    return pytester


def test_record_live_then_replay_offline(plugin_dir: pytest.Pytester) -> None:
    recorded = plugin_dir.runpytest_inprocess("-q", "-p", "no:cacheprovider", "--record-mode=rewrite")
    assert recorded.ret == 0, recorded.stdout.str()[-3000:]
    assert recorded.parseoutcomes()["passed"] >= 50  # the whole suite, the secrets scan included
    cassettes = plugin_dir.path / "cassettes"
    answers = (cassettes / "TestLabelServer.test_answers_frame_schema.yaml").read_text()
    assert answers.count("/annotations") >= 6, "make_answers posted the annotators' answers while recording"
    assert json.loads((plugin_dir.path / "cookies_received.json").read_text()) == []  # no sessionid sent back

    replayed = plugin_dir.runpytest_inprocess("-q", "-p", "no:cacheprovider", "--record-mode=none",
                                              "--block-network")
    assert replayed.ret == 0, replayed.stdout.str()[-3000:]
    assert replayed.parseoutcomes()["passed"] == recorded.parseoutcomes()["passed"]

    text = "".join(p.read_text() for p in cassettes.glob("*.yaml"))
    assert "sessionid" not in text and http_vendor.ADMIN_TOKEN not in text
    assert not any(token in text for token in http_vendor.ANNOTATORS.values())
    assert scan_cassettes(cassettes, secrets=[http_vendor.ADMIN_TOKEN, *http_vendor.ANNOTATORS.values()]) == []


def test_planned_answers_are_deterministic_and_never_repeat_a_worker_on_an_item() -> None:
    from annotate_core.testing import conformance_items, planned_answers

    items = conformance_items(7)
    plan = planned_answers(items, overlap=2, workers=["a", "b", "c"])
    assert plan == planned_answers(items, overlap=2, workers=["a", "b", "c"])
    assert len(plan) == 14 and {p.label for p in plan} == {"cat", "dog"}
    per_item: dict[str, list[str]] = {}
    for p in plan:
        per_item.setdefault(p.item_key, []).append(p.worker)
    assert all(len(set(w)) == 2 for w in per_item.values())
    with pytest.raises(ValueError, match="overlap 3 needs at least 3 workers"):
        planned_answers(items, overlap=3, workers=["a", "b"])
