"""Profile options toloka-kit users carry over: the auth scheme told from the token, the API root."""

from __future__ import annotations

import pytest
import responses
from annotate_toloka import TolokaBackend
from annotate_toloka.settings import guess_auth_scheme
from pydantic import SecretStr

from annotate_core.errors import ConfigError

#: shaped like Toloka's API keys (two dots, the first after 23 characters)
API_KEY = "a1b2c3d4e5f6g7h8i9j0k1l.m2n3o4p5q6r7s8t9.u0v1w2x3y4z5"
#: a classic OAuth token (no dots)
OAUTH = "AQAAAAAgXk7aAAGBZ0dTn3oAbCdEfGhIjKlMnOp"


@pytest.mark.parametrize(("token", "scheme"), [
    (API_KEY, "ApiKey"),
    (OAUTH, "OAuth"),
    ("a" * 22 + "." + "b.c", "ApiKey"),  # first dot at index 22: toloka-kit's lower bound
    ("a" * 24 + "." + "b.c", "ApiKey"),  # index 24: its upper bound
    ("a" * 21 + "." + "b.c", "OAuth"),  # index 21: outside
    ("a" * 25 + "." + "b.c", "OAuth"),  # index 25: outside
    (API_KEY + ".d", "OAuth"),  # three dots
])
def test_scheme_is_guessed_as_toloka_kit_does(token: str, scheme: str) -> None:
    assert guess_auth_scheme(token) == scheme


@pytest.mark.parametrize(("token", "option", "sent"), [
    (API_KEY, {}, "ApiKey"),
    (OAUTH, {}, "OAuth"),
    (OAUTH, {"auth_scheme": "auto"}, "OAuth"),
    (API_KEY, {"auth_scheme": "OAuth"}, "OAuth"),  # an explicit scheme wins over the guess
    (OAUTH, {"auth_scheme": "ApiKey"}, "ApiKey"),
])
def test_the_authorization_header_carries_the_scheme(token: str, option: dict, sent: str) -> None:
    backend = TolokaBackend(token=SecretStr(token), **option)
    with responses.RequestsMock() as mock:
        mock.get("https://toloka.dev/api/v1/requester", json={"id": "6c6c", "balance": 1.5})
        backend.requester()
        assert mock.calls[0].request.headers["Authorization"] == f"{sent} {token}"
    assert token not in repr(backend)


@pytest.mark.parametrize(("given", "root"), [
    ("https://toloka.dev/api", "https://toloka.dev/api"),
    ("https://toloka.dev/api/", "https://toloka.dev/api"),
    ("https://toloka.dev", "https://toloka.dev/api"),  # toloka-kit's url: it adds /api itself
    ("https://toloka.dev/", "https://toloka.dev/api"),
    ("http://127.0.0.1:8080/proxy/toloka/api", "http://127.0.0.1:8080/proxy/toloka/api"),
])
def test_base_url_is_the_api_root(given: str, root: str) -> None:
    backend = TolokaBackend(token=SecretStr(OAUTH), base_url=given)
    assert backend.settings.base_url == root
    with responses.RequestsMock() as mock:
        mock.get(f"{root}/v1/requester", json={"id": "6c6c", "balance": 1.5})
        assert backend.requester()["balance"] == 1.5


@pytest.mark.parametrize("given", ["https://toloka.dev/api/v1", "https://toloka.dev/v1", "https://proxy.example/toloka"])
def test_base_url_off_the_api_root_is_refused_naming_the_option(given: str) -> None:
    with pytest.raises(ConfigError, match=r"option 'base_url' must be the API root ending in /api .*every call a 404"):
        TolokaBackend(base_url=given)
