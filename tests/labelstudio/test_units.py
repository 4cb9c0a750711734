"""The Label Studio backend's offline parts: settings, token types, the labeling config and its mark,
answer parsing, refusals and plan warnings. No server and no cassette: nothing here sends a request.
(That Label Studio accepts every generated config is checked against the server in test_backend.py.)"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from annotate_labelstudio import LabelStudioBackend
from annotate_labelstudio.api import parse_error
from annotate_labelstudio.auth import AccessTokens, jwt_expiry
from annotate_labelstudio.labeling import (
    GOLDEN_FIELD,
    KEY_FIELD,
    AnswerReader,
    answer_values,
    encode_mark,
    labeling_config,
    read_mark,
    result_entry,
    with_mark,
)
from annotate_labelstudio.settings import Settings, looks_like_jwt
from pydantic import SecretStr

from annotate_core import JobSpec
from annotate_core.capabilities import Capability
from annotate_core.client import Client
from annotate_core.errors import AuthenticationError, ConfigError
from annotate_core.items import Item
from annotate_core.testing import base_spec


def fake_jwt(exp: int) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'token_type': 'refresh', 'exp': exp})}.c2lnbmF0dXJl"


SPEC_VARIANTS: dict[str, dict[str, Any]] = {
    "derived": {
        "name": "cats and dogs",
        "inputs": [{"name": "image", "type": "image"}, {"name": "caption", "type": "text", "required": False}],
        "outputs": [
            {"name": "animal", "type": "label", "description": "Which animal?",
             "options": [{"value": "cat", "label": "Cat"}, "dog"]},
            {"name": "tags", "type": "labels", "options": ["indoor", "outdoor"]},
            {"name": "count", "type": "number", "required": False},
            {"name": "note", "type": "free_text", "required": False},
            {"name": "sure", "type": "bool"},
        ],
    },
    "interface": {
        "name": "custom",
        "inputs": [{"name": "text", "type": "text"}, {"name": "photo", "type": "image"}],
        "outputs": [{"name": "sentiment", "type": "label", "options": ["pos", "neg"]},
                    {"name": "topics", "type": "labels", "options": ["a", "b"]},
                    {"name": "comment", "type": "free_text", "required": False}],
        "interface": {"task_width": 800, "hotkeys": False, "components": [
            {"kind": "text", "field": "text", "label": "Read this"},
            {"kind": "text", "content": "Then answer:"},
            {"kind": "image", "field": "photo", "ratio": [1, 1], "full_height": True},
            {"kind": "dropdown", "field": "sentiment", "label": "Sentiment?"},
            {"kind": "checkbox", "field": "topics"},
            {"kind": "text_input", "field": "comment", "placeholder": "anything else", "required": False},
        ]},
    },
}


def spec_of(name: str) -> JobSpec:
    return JobSpec.model_validate(SPEC_VARIANTS[name])


def backend(**options: Any) -> LabelStudioBackend:
    options.setdefault("url", "http://labelstudio.test")
    options.setdefault("token", SecretStr("0" * 40))
    return LabelStudioBackend(**options)


# ---- settings and tokens ------------------------------------------------------------------------


@pytest.mark.parametrize(("options", "message"), [
    ({"url": "labelstudio.test"}, "option 'url'"),
    ({"url": "http://x", "token_type": "oauth"}, "option 'token_type'"),
    ({"url": "http://x", "page_size": 0}, "option 'page_size'"),
    ({"url": "http://x", "import_chunk_size": "many"}, "option 'import_chunk_size'"),
    ({"url": "http://x", "timeout": [1]}, "option 'timeout'"),
    ({"url": "http://x", "colour": "red"}, "unknown option(s) ['colour']"),
])
def test_bad_options_name_the_option(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        Settings.from_options(options)


def test_url_is_the_server_root() -> None:
    assert Settings.from_options({"url": "http://host:8080/api/"}).url == "http://host:8080"


def test_token_type_is_told_from_the_shape() -> None:
    assert looks_like_jwt(fake_jwt(4102444800)) and not looks_like_jwt("a" * 40)
    assert Settings.from_options({"url": "http://x", "token": SecretStr(fake_jwt(1))}).is_refresh_token()
    assert not Settings.from_options({"url": "http://x", "token": SecretStr("a" * 40)}).is_refresh_token()
    forced = Settings.from_options({"url": "http://x", "token": SecretStr("a" * 40), "token_type": "refresh"})
    assert forced.is_refresh_token()


def test_missing_token_is_a_config_error_naming_token_env() -> None:
    b = LabelStudioBackend(url="http://x")
    with pytest.raises(ConfigError, match="token_env"):
        b.list_jobs()


def test_planning_needs_no_server_but_requests_do(no_network_client) -> None:
    b = LabelStudioBackend()
    assert Client(b).plan(base_spec(b.capabilities), n_items=3).ok
    with pytest.raises(ConfigError, match="no server URL"):
        b.progress("1")


def test_access_tokens_are_renewed_before_they_expire() -> None:
    now = [1000.0]
    sent: list[str] = []

    def exchange(refresh: str) -> dict[str, str]:
        sent.append(refresh)
        return {"access": fake_jwt(int(now[0]) + 300)}

    tokens = AccessTokens("the-refresh-token", exchange, clock=lambda: now[0])
    first = tokens.header()
    assert first.startswith("Bearer ") and sent == ["the-refresh-token"]
    now[0] += 200  # still 100 s left: kept
    assert tokens.header() == first and len(sent) == 1
    now[0] += 80  # 20 s left, inside the margin: renewed
    assert tokens.header() != first and len(sent) == 2
    assert jwt_expiry("not-a-jwt") is None


def test_an_answer_without_access_token_is_malformed() -> None:
    from annotate_core.errors import MalformedResponseError

    with pytest.raises(MalformedResponseError, match="access"):
        AccessTokens("r", lambda r: {"detail": "?"}).header()


class _Resp:
    def __init__(self, status: int, body: Any) -> None:
        self.status_code = status
        self._body = body
        self.reason = "Reason"
        self.text = json.dumps(body) if not isinstance(body, str) else body

    def json(self) -> Any:
        if isinstance(self._body, str):
            raise ValueError
        return self._body


def test_error_bodies_are_read_with_their_fields() -> None:
    info = parse_error(_Resp(400, {"id": "e-1", "status_code": 400, "detail": "Validation error",
                                   "validation_errors": {"title": ["Ensure this field has at least 3 characters."]}}))
    assert info.message.startswith("Validation error: title: Ensure")
    assert [(p.field, p.message) for p in info.details] == [("title", "Ensure this field has at least 3 characters.")]
    assert info.request_id == "e-1"
    denied = parse_error(_Resp(403, {"detail": "Authentication credentials were not provided."}))
    assert denied.error is AuthenticationError
    assert parse_error(_Resp(404, "<!doctype html><html>...")).message == "Reason"


# ---- the labeling config ------------------------------------------------------------------------


def test_derived_config_has_one_tag_per_field() -> None:
    xml = labeling_config(spec_of("derived"), "k-1")
    assert '<Image name="image" value="$image"/>' in xml and '<Text name="caption" value="$caption"/>' in xml
    assert '<Header value="Which animal?"/>' in xml
    assert ('<Choices name="animal" toName="image" choice="single-radio" required="true">'
            '<Choice value="Cat" alias="cat"/><Choice value="dog"/></Choices>') in xml
    assert '<Choices name="tags" toName="image" choice="multiple" required="true">' in xml
    assert '<Number name="count" toName="image"/>' in xml
    assert '<TextArea name="note" toName="image" maxSubmissions="1" editable="true"/>' in xml
    assert '<Choices name="sure" toName="image" choice="single-radio" required="true"><Choice value="true"/>' in xml


def test_interface_is_rendered_in_order() -> None:
    xml = labeling_config(spec_of("interface"), None)
    order = ['<View style="max-width: 800px">', '<Header value="Read this"/>', '<Text name="text"',
             '<Header value="Then answer:"/>', '<Image name="photo" value="$photo" maxHeight="100vh"/>',
             '<Header value="Sentiment?"/>', 'layout="select"',
             '<Choices name="topics" toName="text" choice="multiple"',
             'placeholder="anything else"']
    positions = [xml.index(s) for s in order]
    assert positions == sorted(positions)


def test_the_mark_keeps_key_spec_and_state() -> None:
    spec = spec_of("derived")
    xml = labeling_config(spec, "my-key")
    mark = read_mark(xml, "project 1")
    assert mark is not None and (mark.key, mark.closed, mark.spec) == ("my-key", False, spec)
    closed = with_mark(xml, encode_mark(spec, "my-key", closed=True))
    again = read_mark(closed, "project 1")
    assert again is not None and again.closed and again.spec == spec
    assert closed.count("annotate-job") == 1
    assert read_mark("<View></View>", "project 2") is None and read_mark(None, "project 3") is None


def test_mark_survives_text_that_would_end_a_comment() -> None:
    spec = base_spec(LabelStudioBackend.capabilities, instructions="tricky --> text <!-- here")
    mark = read_mark(labeling_config(spec, "k"), "p")
    assert mark is not None and mark.spec.instructions == "tricky --> text <!-- here"


def test_results_come_back_as_answer_values() -> None:
    spec = spec_of("derived")
    outputs = {f.name: f for f in spec.outputs}
    result = [result_entry(outputs["animal"], "image", "cat"), result_entry(outputs["tags"], "image", ["indoor"]),
              result_entry(outputs["count"], "image", 3), result_entry(outputs["note"], "image", "blurry"),
              result_entry(outputs["sure"], "image", True),
              {"from_name": "unknown", "value": {"choices": ["x"]}}, "junk"]
    assert answer_values(result, spec.outputs) == {
        "animal": "cat", "tags": ["indoor"], "count": 3, "note": "blurry", "sure": True}
    assert answer_values(None, spec.outputs) == {}


def test_choices_given_as_the_text_shown_read_back_as_values() -> None:
    """``<Choice value="Cat" alias="cat"/>``: the API keeps "Cat" when a client posts it; it is read as
    "cat". Values stay values, unknown choices stay as they came, and a text that is also another
    option's value is that value (values win)."""
    spec = JobSpec.model_validate({**SPEC_VARIANTS["derived"], "outputs": [
        {"name": "animal", "type": "label", "options": [{"value": "cat", "label": "Cat"}, "dog"]},
        {"name": "tags", "type": "labels", "options": [{"value": "in", "label": "Indoor"},
                                                       {"value": "out", "label": "in"}]},
        {"name": "sure", "type": "bool"}]})
    reader = AnswerReader(spec.outputs)

    def read(animal: Any, tags: Any, sure: Any = "true") -> dict[str, Any]:
        return reader.values([{"from_name": "animal", "value": {"choices": animal}},
                              {"from_name": "tags", "value": {"choices": tags}},
                              {"from_name": "sure", "value": {"choices": [sure]}}])

    assert read(["Cat"], ["Indoor", "out"]) == {"animal": "cat", "tags": ["in", "out"], "sure": True}
    assert read(["cat"], ["in"], "false") == {"animal": "cat", "tags": ["in"], "sure": False}
    assert read(["Lion"], ["Outdoor"]) == {"animal": "Lion", "tags": ["Outdoor"], "sure": True}
    assert read(["dog"], []) == {"animal": "dog", "tags": [], "sure": True}
    assert answer_values([{"from_name": "animal", "value": {"choices": ["Cat"]}}], spec.outputs) == {"animal": "cat"}


def test_task_body_keeps_key_and_golden_apart_from_inputs() -> None:
    body = backend().task_body(Item(key="k1", inputs={"image": "u"}, golden={"result": "cat"}))
    assert body == {"data": {"image": "u", KEY_FIELD: "k1", GOLDEN_FIELD: {"result": "cat"}}}


# ---- refusals and warnings ----------------------------------------------------------------------


def test_reserved_input_names_and_unsupported_webhook_events_are_refused(no_network_client) -> None:
    spec = JobSpec.model_validate({
        "name": "x", "inputs": [{"name": KEY_FIELD, "type": "text"}],
        "outputs": [{"name": "result", "type": "label", "options": ["a", "b"]}],
        "webhooks": [{"url": "https://example.com/h", "events": ["submitted", "accepted"]}],
    })
    plan = no_network_client.plan(spec)
    assert not plan.ok
    paths = {u.path for u in plan.unsupported}
    assert {"inputs.0.name", "webhooks.0.events.1"} <= paths
    assert all(u.hint for u in plan.unsupported)


def test_interface_without_a_shown_input_is_refused(no_network_client) -> None:
    spec = JobSpec.model_validate({
        "name": "x", "inputs": [{"name": "image", "type": "image"}],
        "outputs": [{"name": "result", "type": "label", "options": ["a", "b"]}],
        "interface": {"components": [{"kind": "radio", "field": "result"}]},
    })
    assert [u.path for u in no_network_client.plan(spec).unsupported] == ["interface.components"]


def test_plan_warns_where_the_meaning_changes(no_network_client) -> None:
    spec = base_spec(LabelStudioBackend.capabilities, name="x" * 60, overlap={"count": 3},
                     distribution={"kind": "pulling", "batch_size": 5})
    plan = no_network_client.plan(spec, n_items=1200)
    warned = {w.path for w in plan.warnings}
    assert {"name", "distribution.batch_size", "overlap.count", "golden", "state"} <= warned
    imports = [op for op in plan.operations if op.action.endswith("/import")]
    assert [op.payload["tasks"] for op in imports] == [500, 500, 200]
    assert plan.operations[0].payload["title"] == "x" * 50
    assert plan.operations[0].payload["maximum_annotations"] == 3


def test_every_undeclared_capability_has_a_hint() -> None:
    from annotate_core.testing.specs import API_CAPABILITIES, FRAGMENTS

    undeclared = (set(FRAGMENTS) | API_CAPABILITIES) - LabelStudioBackend.capabilities
    assert undeclared - set(LabelStudioBackend.hints) == set()
    assert Capability.JOB_KEYS in LabelStudioBackend.capabilities


@pytest.fixture
def no_network_client(monkeypatch: pytest.MonkeyPatch) -> Client:
    import socket

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network used")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return Client(backend(), profile="studio")
