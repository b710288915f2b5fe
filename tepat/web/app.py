"""The application factory: operator pages, the JSON API under ``/api/v1``, static files."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tepat.api.app import create_api
from tepat.config import Settings
from tepat.dci.app import DeliveryWorker, create_dci_app
from tepat.domain.access import Permission
from tepat.errors import PermissionDenied, TepatError, ValidationError
from tepat.portal import routes as portal_routes
from tepat.portal.shared_state import rate_limits
from tepat.services.sessions import SESSION_HOURS, signed_in
from tepat.store.database import Database
from tepat.web.access_log import AccessLog
from tepat.web.body_limit import BodyLimit
from tepat.web.deps import (
    PASSWORD_PAGE,
    SESSION_KEY,
    CsrfFailed,
    LoginRequired,
    PasswordChangeRequired,
    ids_in_range,
    verify_csrf,
)
from tepat.web.input_guard import RejectNul
from tepat.web.json_twin import JsonTwin
from tepat.web.routes import (
    accounts,
    areas,
    cases,
    dci_clients,
    documents,
    duplicates,
    exports,
    families,
    imports,
    members,
    moves,
    payments,
    programmes,
    registry_links,
    statistics,
    targeting,
    training,
    users,
)
from tepat.web.routes import (
    audit as audit_routes,
)
from tepat.web.templating import templates

log = logging.getLogger("tepat.web")
STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "tepat_sesi"
SESSION_MAX_AGE = SESSION_HOURS * 60 * 60  # the cookie lives as long as its server-side session

MENU: tuple[tuple[str, str, Permission | None], ...] = (
    ("/statistik", "Statistik", None),
    ("/sasaran", "Sasaran", Permission.TARGETING),
    ("/kasus", "Kasus", Permission.HANDLE_CASES),
    ("/verifikasi", "Verifikasi", Permission.VERIFY),
    ("/duplikat", "Duplikat", Permission.EDIT_REGISTRY),
    ("/program", "Program", Permission.READ_PROGRAMMES),
    ("/siklus", "Siklus", Permission.READ_CYCLES),
    ("/pembayaran", "Pembayaran", Permission.READ_PAYMENTS),
    ("/laporan", "Laporan", Permission.READ_PAYMENTS),
    ("/audit", "Audit", Permission.READ_AUDIT),
    ("/pengguna", "Pengguna", Permission.MANAGE_USERS),
    ("/klien-dci", "Klien DCI", Permission.MANAGE_USERS),
)
"""Menu links after the registry's own: (link, label, the permission that shows it or ``None`` for everyone)."""

_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds security headers to every response; pages with personal data are never cached."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = [*_HEADERS, (b"content-security-policy", _CSP.encode())]
                if not scope["path"].startswith("/static/"):
                    extra.append((b"cache-control", b"no-store"))
                if self.https:
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                headers.extend((k, v) for k, v in extra if k not in names)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    """Build the whole web application over one database."""
    database = db if db is not None else Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = dci.state.delivery_worker = DeliveryWorker(database, retention_days=settings.retention_days)
        worker.start()  # the callbacks owed to DCI clients
        yield
        worker.stop()
        runner = getattr(app.state, "jobs", None)
        if runner is not None:
            runner.shutdown()  # let a running import finish (or be rolled back by the process ending)
        database.flush()  # the read audit and the status check's log are written in batches: write the last
        limits = getattr(app.state, "rate_limits", None)
        if limits is not None:  # made on the first public check or login (``tepat.portal.shared_state``)
            await limits.aclose()
            app.state.rate_limits = None  # an app started again opens them anew

    app = FastAPI(title="tepat", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.db = database

    page_deps = [Depends(ids_in_range), Depends(verify_csrf)]
    for module in (
        accounts,
        users,
        areas,
        audit_routes,
        families,
        members,
        moves,
        registry_links,  # before duplicates: /duplikat/tautkan is not a pair's number
        duplicates,
        dci_clients,
        imports,
        exports,
        statistics,
        targeting,
        cases,
        programmes,
        training,
        payments,
        documents,
    ):
        app.include_router(module.router, dependencies=page_deps)
    templates.env.globals["extra_menu"] = MENU
    # Public pages for residents: no login, no session CSRF (their forms carry their own signed challenge).
    app.include_router(portal_routes.router)

    app.mount("/api/v1", create_api(settings, database))
    dci = create_dci_app(settings, database)
    app.mount("/dci", dci)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.add_api_route("/healthz", _alive, include_in_schema=False)
    app.add_api_route("/readyz", _ready, include_in_schema=False)
    app.add_api_route("/logo", lambda: office_logo(settings), include_in_schema=False)
    app.add_api_route(
        "/favicon.ico",
        lambda: RedirectResponse("/static/favicon.svg", status_code=301),
        include_in_schema=False,
    )
    _install_page_errors(app)

    production = settings.environment == "production"
    # Outermost last: the session is read first, then the body's size is bounded, then its content checked.
    app.add_middleware(JsonTwin)  # innermost: the routes see the page's path, marked as asking for JSON
    app.add_middleware(RejectNul)
    app.add_middleware(BodyLimit, logged_in=lambda scope: _logged_in(database, scope))
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=production,
    )
    app.add_middleware(SecurityHeaders, https=production)
    app.add_middleware(AccessLog)
    return app


def _alive() -> JSONResponse:
    """For a load balancer: the process answers (it may still be unable to serve: see ``/readyz``)."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


def _ready(request: Request) -> JSONResponse:
    """For a load balancer: the process can serve, its database answers, and so does Redis when the rate limits
    live there (503 otherwise; nothing of the configuration is told)."""
    state = request.app.state
    checks = {"database": "ok" if state.db.ping() else "unreachable"}
    if state.settings.redis_url:
        checks["rate_limits"] = "ok" if rate_limits(request).ping() else "unreachable"
    if all(found == "ok" for found in checks.values()):
        return JSONResponse({"status": "ready", **checks}, headers={"Cache-Control": "no-store"})
    log.warning("readiness: %s", ", ".join(f"{name} {found}" for name, found in checks.items()))
    return JSONResponse(
        {"status": "not ready", **checks},
        status_code=503,
        headers={"Cache-Control": "no-store"},
    )


def _logged_in(database: Database, scope: Scope) -> bool:
    """Whether the request carries a live session (for the large upload allowances)."""
    secret = scope.get("session", {}).get(SESSION_KEY)
    found = signed_in(database, secret) if isinstance(secret, str) else None
    # Kept for the page's own dependencies (tepat.web.deps.signed_in): one session read per request, not two.
    scope.setdefault("state", {}).update(signed_in=found, actor=found.actor if found else None)
    return found is not None


_LOGO_TYPES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"<svg", "image/svg+xml"),
    (b"<?xml", "image/svg+xml"),
)


def office_logo(settings: Settings) -> Response:
    """The office's logo (``TEPAT_OFFICE_LOGO``), for the header of every page; 404 when none is set."""
    if settings.office_logo is None or not settings.office_logo.is_file():
        raise StarletteHTTPException(404)
    head = settings.office_logo.read_bytes()[:64].lstrip()
    kind = next((k for magic, k in _LOGO_TYPES if head.startswith(magic)), None)
    if kind is None:
        raise StarletteHTTPException(404)
    # An SVG logo is an image, never a document: no script runs (the page's CSP allows none anyway).
    return FileResponse(
        settings.office_logo,
        media_type=kind,
        headers={
            "cache-control": "public, max-age=86400",
            "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )


def error_page(
    request: Request,
    message: str,
    status_code: int,
    *,
    title: str = "Terjadi kesalahan",
    errors: list[Any] | None = None,
    role_refused: bool = False,
) -> Response:
    """A page in Bahasa Indonesia explaining what went wrong (never a traceback); ``role_refused`` adds who the user
    is signed in as and whom to ask, when their role lacks the permission."""
    return templates.page(
        request,
        "error.html",
        {"title": title, "message": message, "errors": errors or [], "role_refused": role_refused},
        status_code=status_code,
    )


_TITLES = {
    401: "Belum masuk",
    403: "Akses ditolak",
    404: "Tidak ditemukan",
    409: "Data sudah berubah",
    422: "Isian belum benar",
}


def _install_page_errors(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/masuk?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def _password(request: Request, exc: PasswordChangeRequired) -> Response:
        return RedirectResponse(PASSWORD_PAGE, status_code=303)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        return error_page(
            request,
            "Formulir kedaluwarsa atau tidak sah. Muat ulang halaman lalu coba lagi.",
            403,
            title="Formulir tidak sah",
        )

    @app.exception_handler(TepatError)
    async def _tepat(request: Request, exc: TepatError) -> Response:
        errors = exc.errors if isinstance(exc, ValidationError) else []
        return error_page(
            request,
            exc.message,
            exc.status_code,
            title=_TITLES.get(exc.status_code, "Terjadi kesalahan"),
            errors=errors,
            role_refused=isinstance(exc, PermissionDenied),
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_page(request, "Alamat atau isian formulir tidak sah.", 422, title=_TITLES[422])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: "Halaman yang Anda cari tidak ada.", 405: "Cara membuka halaman ini tidak didukung."}
        return error_page(
            request,
            messages.get(exc.status_code, "Permintaan tidak dapat diproses."),
            exc.status_code,
            title=_TITLES.get(exc.status_code, "Terjadi kesalahan"),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_page(
            request, "Terjadi kesalahan pada sistem. Coba lagi nanti atau hubungi admin Dinsos.", 500
        )
