"""The Label Studio server the tests run against, and its real annotators.

``.ci/labelstudio.sh`` starts a real server and exports ``ANNOTATE_TEST_LABELSTUDIO_URL`` and
``ANNOTATE_TEST_LABELSTUDIO_TOKEN`` (the admin's legacy token). Annotators are real users: each signs
up through the organisation's invite link as a person would (Label Studio's API creates users without
a password or token), reads their own API token (``GET /api/current-user/token``) and labels through
the project's queue (``GET /api/projects/{id}/next/``, then ``POST /api/tasks/{id}/annotations/``),
which is where ``maximum_annotations`` is enforced.

In replay no server runs: the annotators' requests come back from the cassette, so their tokens are
placeholders (tokens never reach a cassette, and replay does not match on headers).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

URL_ENV = "ANNOTATE_TEST_LABELSTUDIO_URL"
TOKEN_ENV = "ANNOTATE_TEST_LABELSTUDIO_TOKEN"
#: the host cassettes are stored under (recording rewrites the live server's URL to it)
REPLAY_URL = "http://labelstudio.test"
REPLAY_TOKEN = "0" * 40


def live_url() -> str | None:
    """The live server's URL; while recording, reached as ``localhost``: the cassettes' settings
    ignore 127.0.0.1, where the fault harness's own proxy listens, so only named hosts are recorded."""
    url = os.environ.get(URL_ENV) or None
    if url and os.environ.get("ANNOTATE_LS_RECORD") == "1":
        url = url.replace("://127.0.0.1:", "://localhost:")
    return url


def live_token() -> str:
    return os.environ.get(TOKEN_ENV, "")


@dataclass
class Annotator:
    """One real Label Studio user labeling through the queue."""

    email: str
    token: str
    url: str
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    def _h(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}

    def next_task(self, project: str) -> dict[str, Any] | None:
        resp = self.session.get(f"{self.url}/api/projects/{project}/next/", headers=self._h(), timeout=30)
        self.session.cookies.clear()
        if resp.status_code == 404:  # "There are no tasks for ..." (or none left for this user)
            return None
        resp.raise_for_status()
        return resp.json()

    def annotate(self, task_id: int, result: list[dict[str, Any]], *, lead_time: float,
                 skip: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {"result": [] if skip else result, "lead_time": lead_time}
        if skip:
            body["was_cancelled"] = True
        resp = self.session.post(f"{self.url}/api/tasks/{task_id}/annotations/", json=body, headers=self._h(),
                                 timeout=30)
        self.session.cookies.clear()
        resp.raise_for_status()
        return resp.json()


def sign_up(url: str, admin_token: str, n: int) -> list[Annotator]:
    """``n`` new users of the admin's organisation, each with their own API token."""
    admin = {"Authorization": f"Token {admin_token}"}
    invite = requests.get(f"{url}/api/invite", headers=admin, timeout=30)
    invite.raise_for_status()
    org_token = invite.json()["token"]
    run = uuid.uuid4().hex[:8]
    people = []
    for i in range(n):
        email = f"annotator{i + 1}-{run}@annotate.test"
        with requests.Session() as s:
            signup = f"{url}/user/signup/?token={org_token}"
            s.get(signup, timeout=30).raise_for_status()  # sets the csrftoken cookie the form needs
            resp = s.post(signup, data={"email": email, "password": secrets.token_urlsafe(16),
                                        "csrfmiddlewaretoken": s.cookies.get("csrftoken", "")},
                          allow_redirects=False, timeout=30)
            if resp.status_code != 302:
                raise RuntimeError(f"signing up {email} failed: HTTP {resp.status_code}")
            token = s.get(f"{url}/api/current-user/token", timeout=30).json()["token"]
        people.append(Annotator(email, token, url))
    return people


def replay_annotators(n: int) -> list[Annotator]:
    return [Annotator(f"annotator{i + 1}@annotate.test", REPLAY_TOKEN, REPLAY_URL) for i in range(n)]


def pick(key: str, who: str, options: tuple[str, ...] = ("cat", "dog")) -> str:
    """An annotator's (deterministic) answer to an item: the same in recording and replay."""
    return options[hashlib.sha256(f"{key}/{who}".encode()).digest()[0] % len(options)]


def personal_access_token(url: str, person: Annotator) -> str:
    """A new personal access token (a JWT refresh token) of ``person``: ``POST /api/token/`` as they
    would under Account & Settings (one per user; a second is refused while the first is valid)."""
    resp = requests.post(f"{url}/api/token/", headers={"Authorization": f"Token {person.token}"}, timeout=30)
    resp.raise_for_status()
    return str(resp.json()["token"])


def replay_refresh_token() -> str:
    """A JWT-shaped stand-in (the backend tells token types by shape), expiring in 2100."""
    import base64
    import json

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'token_type': 'refresh', 'exp': 4102444800})}.cmVwbGF5"
