"""The ASGI app: routes, middleware and the small helpers every page shares.

Pages are plain HTML forms (Jinja2, autoescaped) with one static script for the keyboard flow; the
Content-Security-Policy allows scripts and styles from this server only, so even a value that slipped
past escaping could not run. Backend calls block (SQLite / PostgreSQL), so they run in Starlette's
thread pool; the store already makes concurrent pulls and submits safe across threads and processes.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from annotate_core.model.spec import JobSpec
from annotate_local.backend import LocalBackend
from annotate_local.serve.security import Gate, csrf_ok, csrf_token

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
T = TypeVar("T")

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' http: https: data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
           (b"cache-control", b"no-store")]
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]


class SecurityHeaders:
    """Adds the CSP and friends to every response (pages, downloads, static files)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *[(k, v) for k, v in HEADERS if k not in names]]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def shown(value: Any) -> str:
    """A progress detail as a person reads it: ``{'submitted': 6}`` becomes ``submitted 6``."""
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


class Site:
    """What every page handler needs: the backend, the access rules, the templates, spec files to preview."""

    def __init__(self, backend: LocalBackend, gate: Gate, spec_files: Sequence[str | Path] = ()) -> None:
        self.backend = backend
        self.gate = gate
        self.spec_files = [Path(p) for p in spec_files]
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
        self.templates = Jinja2Templates(env=env)
        env.filters["shown"] = shown

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await run_in_threadpool(fn, *args, **kwargs)

    def spec(self, job_id: str) -> JobSpec:
        spec = self.backend.get_spec(job_id)
        assert spec is not None  # the local backend stores every job's spec
        return spec

    # ---- per request ----------------------------------------------------------------------------

    def me(self, request: Request) -> str | None:
        return self.gate.worker(request.session)

    def flash(self, request: Request, text: str, level: str = "info") -> None:
        request.session.setdefault("flash", [])
        request.session["flash"] = [*request.session["flash"], [level, text]][-8:]

    def page(self, request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
        session = request.session
        messages = session.pop("flash", [])
        return self.templates.TemplateResponse(request, name, {
            "me": self.me(request), "requester": self.gate.is_requester(session), "csrf": csrf_token(session),
            "linked": bool(session.get("linked")), "messages": messages, "gate": self.gate, **context,
        }, status_code=status_code)

    async def form(self, request: Request) -> Any:
        """The posted form, after the CSRF check (403 without the session's token)."""
        origin = request.headers.get("origin")
        if origin and origin != "null" and origin.split("://", 1)[-1] != request.headers.get("host"):
            raise HTTPException(403, "cross-origin form post refused")
        form = await request.form()
        if not csrf_ok(request.session, form.get("csrf")):
            raise HTTPException(403, "the form's security token is missing or stale: reload the page and try again")
        return form

    def allowed(self, request: Request) -> bool:
        """On a server with a token: only people who gave it, or came with an annotator link."""
        s = request.session
        return self.gate.token is None or bool(s.get("auth")) or bool(s.get("linked"))

    def need_worker(self, request: Request) -> str | RedirectResponse:
        if not self.allowed(request):
            return RedirectResponse("/login", 303)
        me = self.me(request)
        if me is None:
            self.flash(request, "sign in with your name first", "error")
            return RedirectResponse("/", 303)
        return me

    def need_requester(self, request: Request) -> RedirectResponse | None:
        if self.gate.is_requester(request.session):
            return None
        if self.allowed(request):
            raise HTTPException(403, "requester pages need the server's access token")
        return RedirectResponse("/login", 303)


Handler = Callable[[Site, Request], Awaitable[Response]]


def create_app(backend: LocalBackend, *, token: str | None = None, secret: str | None = None,
               loopback: bool = True, links_only: bool = False, spec_files: Sequence[str | Path] = (),
               https: bool = False) -> Starlette:
    """The web UI over ``backend``'s store.

    ``token``: the requester's access token (required by ``annotate serve`` beyond loopback); without
    it everyone who reaches a loopback server is the requester. ``secret`` signs sessions and annotator
    links (random per start by default: links then last until a restart). ``loopback`` limits Host
    headers to loopback names (no DNS rebinding). ``links_only``: annotators come by signed link only.
    ``spec_files`` can be previewed from the requester's preview page, read again on every view.
    ``https``: people reach the app over HTTPS (a TLS proxy in front of it), so the session cookie
    is marked ``Secure``: a browser never sends it, and the session it signs in, over plain HTTP.
    """
    from annotate_local.serve import pages_requester, pages_work

    gate = Gate(secret or secrets.token_urlsafe(32), token, links_only, secret_is_stable=bool(secret))
    site = Site(backend, gate, spec_files)

    def bind(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await handler(site, request)

        endpoint.__name__ = handler.__name__
        return endpoint

    routes: list[Route | Mount] = [
        Route(path, bind(handler), methods=methods)
        for path, handler, methods in [*pages_work.ROUTES, *pages_requester.ROUTES]
    ]
    routes.append(Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"))
    middleware = [Middleware(SecurityHeaders)]
    if loopback:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=LOOPBACK_HOSTS))
    middleware.append(Middleware(SessionMiddleware, secret_key=gate.secret, session_cookie="annotate_serve",
                                 same_site="strict", max_age=14 * 24 * 3600, https_only=https))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return site.page(request, "error.html", status_code=exc.status_code, message=exc.detail)

    app = Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: http_error})
    app.state.site = site
    return app
