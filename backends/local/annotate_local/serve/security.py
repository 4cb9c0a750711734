"""Who is asking and whether to believe them: sessions, the access token, annotator links, CSRF, safe URLs.

The session is Starlette's signed cookie (itsdangerous), so its content cannot be forged without the
server's secret. It holds who the person is (``worker``), whether they proved the requester's token
(``auth``), whether their name came from a signed annotator link (``linked``) and their CSRF token.
Every form carries that CSRF token in a hidden field and every POST must send it back (a signed
double-submit: a page of another site can neither read the cookie nor the token).
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeSerializer

#: the only image data URLs shown (raster types: an SVG could carry script)
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$")
#: a person's name: what ``job.pull(name)`` takes, printable and short
_NAME = re.compile(r"^[^\s<>\"'`\\/][^<>\"'`\\/]{0,119}$")
LINK_SALT = "annotate-serve annotator link"


def check_name(name: str) -> str | None:
    """None when ``name`` can identify an annotator, else what is wrong with it."""
    name = name.strip()
    if not name:
        return "enter your name (or e-mail) to take work"
    if not _NAME.match(name):
        return "a name has at most 120 characters, without quotes, slashes, < or >"
    return None


def safe_image_url(url: Any) -> str | None:
    """``url`` when a browser may load it as an image here (http(s), raster data URLs, our static
    files), else None: the page then shows it as text, never as a link or script."""
    if not isinstance(url, str) or not url.isprintable() or len(url) > 100_000:
        return None
    if url.startswith("/static/") and ".." not in url:
        return url
    if _DATA_IMAGE.match(url):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme in ("http", "https") and parts.netloc and not re.search(r"[\s\"'<>`\\]", url):
        return url
    return None


def safe_link_url(url: Any) -> str | None:
    """``url`` when it may be a link (http or https only), else None."""
    ok = safe_image_url(url)
    return ok if ok is not None and ok.startswith(("http://", "https://")) else None


@dataclass(frozen=True)
class Gate:
    """The server's access rules: the requester's token (None on a loopback server without one), the
    signer of annotator links, and whether annotators may only come through links."""

    secret: str
    token: str | None = None
    links_only: bool = False
    secret_is_stable: bool = False  # given by the operator (links survive a restart), not made at start

    @property
    def signer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt=LINK_SALT)

    def link_token(self, name: str) -> str:
        return self.signer.dumps(name)

    def name_from_link(self, token: str) -> str | None:
        try:
            name = self.signer.loads(token)
        except BadSignature:
            return None
        return name if isinstance(name, str) and check_name(name) is None else None

    def token_matches(self, given: str) -> bool:
        return self.token is not None and hmac.compare_digest(given.encode(), self.token.encode())

    # ---- what a session may do ----------------------------------------------------------------

    def is_requester(self, session: dict[str, Any]) -> bool:
        """Requester pages: everyone on a token-less loopback server, else whoever gave the token."""
        return self.token is None or bool(session.get("auth"))

    def may_choose_name(self, session: dict[str, Any]) -> bool:
        """Signing in by name: the requester always; others unless only annotator links are allowed."""
        if session.get("linked"):
            return False  # a link names its person: sign out first
        if self.token is not None:
            return bool(session.get("auth"))
        return not self.links_only or bool(session.get("auth"))

    def worker(self, session: dict[str, Any]) -> str | None:
        name = session.get("worker")
        return name if isinstance(name, str) and name else None


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok(session: dict[str, Any], given: Any) -> bool:
    expected = session.get("csrf")
    return (isinstance(expected, str) and isinstance(given, str) and len(expected) >= 32
            and hmac.compare_digest(expected.encode(), given.encode()))
