"""FastAPI dependencies shared by every router: the database, the logged-in actor, CSRF."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from tepat.domain.access import Actor, Permission
from tepat.errors import NotFound, PermissionDenied
from tepat.services import sessions
from tepat.services.jobs import JobRunner
from tepat.store.database import Database
from tepat.store.schema import MAX_INTEGER
from tepat.web.templating import CSRF_SESSION_KEY

SESSION_KEY = sessions.COOKIE_KEY
PASSWORD_PAGE = "/akun/sandi"
_OPEN_WHILE_PASSWORD_MUST_CHANGE = frozenset({PASSWORD_PAGE, "/keluar"})
_UNKNOWN = object()


class LoginRequired(Exception):
    """No one is logged in: the app answers with a redirect to the login page."""


class PasswordChangeRequired(Exception):
    """The account logged in with a one-time password: every page but the password form sends it there."""


class CsrfFailed(Exception):
    """A POST form arrived without this session's CSRF token."""


def get_db(request: Request) -> Database:
    """The application's database (set on ``app.state.db`` at start-up)."""
    db: Database = request.app.state.db
    return db


def signed_in(request: Request) -> sessions.SignedIn | None:
    """The live server-side session of this browser, or ``None`` (ended, expired, or the account switched off)."""
    known = getattr(request.state, "signed_in", _UNKNOWN)
    if known is not _UNKNOWN:
        return known  # type: ignore[return-value]  # (set below, to a SignedIn or None)
    secret = request.session.get(SESSION_KEY)
    found = sessions.signed_in(get_db(request), secret) if isinstance(secret, str) else None
    if found is None and secret is not None:
        request.session.clear()
    request.state.signed_in = found
    request.state.actor = found.actor if found else None
    return found


def optional_actor(request: Request) -> Actor | None:
    """The logged-in user, or ``None``."""
    found = signed_in(request)
    return found.actor if found else None


def current_actor(request: Request) -> Actor:
    """The logged-in user; redirects to the login page when there is none, and to the password form while a
    one-time password from an admin's reset has not been replaced."""
    found = signed_in(request)
    if found is None:
        raise LoginRequired()
    if found.must_change_password and request.url.path not in _OPEN_WHILE_PASSWORD_MUST_CHANGE:
        raise PasswordChangeRequired()
    return found.actor


def requires(permission: Permission, refusal: str | None = None) -> Callable[[Request], Actor]:
    """The one page guard: a logged-in user whose role has ``permission`` (else 403 with ``refusal``, or the
    permission's own sentence), refused before any record is looked up."""

    def guard(request: Request) -> Actor:
        found = current_actor(request)
        if not found.may(permission):
            raise PermissionDenied(refusal or permission.refusal)
        return found

    guard.__name__ = f"requires_{permission.value}"
    return guard


def personal_data_actor(request: Request) -> Actor:
    """A logged-in user whose role may read personal data (everyone but analysts)."""
    # Refused by role before any record is looked up, so the answer says nothing about whether one exists.
    return _personal_data(request)


_personal_data = requires(
    Permission.READ_PERSONAL,
    "Halaman ini memuat data pribadi; peran Anda hanya angka agregat (Beranda, Wilayah, Statistik, Sasaran).",
)


def editor_actor(request: Request) -> Actor:
    """A logged-in admin or operator (the roles that change the registry)."""
    found = personal_data_actor(request)
    if not found.may(Permission.EDIT_REGISTRY):
        raise PermissionDenied("Peran Anda tidak boleh mengubah data registri.")
    return found


DB = Annotated[Database, Depends(get_db)]
"""A route's database."""
Staff = Annotated[Actor, Depends(current_actor)]
"""Any signed-in account."""
PersonalReader = Annotated[Actor, Depends(personal_data_actor)]
"""A signed-in account whose role may read personal data (names, NIKs, addresses)."""
Editor = Annotated[Actor, Depends(editor_actor)]
"""A signed-in account whose role changes the registry."""


def ids_in_range(request: Request) -> None:
    """A record id in a page's path beyond what an id column holds names no record: 404, before any statement."""
    for name, value in request.path_params.items():
        text = str(value)
        if name.endswith("_id") and text.isdigit() and not 0 < int(text) <= MAX_INTEGER:
            raise NotFound("Data tidak ditemukan.")


async def verify_csrf(request: Request) -> None:
    """Refuse a POST whose form does not carry the session's CSRF token."""
    if request.method != "POST":
        return
    # The body's size was bounded before this reads it (tepat.web.body_limit).
    expected = request.session.get(CSRF_SESSION_KEY)
    form = await request.form()
    sent = form.get("csrf_token")
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, str(expected)):
        raise CsrfFailed()


def upload_dir(request: Request) -> Path:
    """The upload directory (made on first use): imports, error reports, exports, case files."""
    path = Path(request.app.state.settings.upload_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_runner(request: Request) -> JobRunner:
    """This process's background job runner (made on first use)."""
    runner = getattr(request.app.state, "jobs", None)
    if runner is None:
        runner = request.app.state.jobs = JobRunner(
            request.app.state.db,
            files_dir=upload_dir(request),
            retention_days=request.app.state.settings.retention_days,
        )
    return runner
