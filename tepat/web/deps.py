"""FastAPI dependencies shared by every router: the database, the logged-in actor, CSRF."""

from __future__ import annotations

import secrets

from fastapi import Request

from tepat.domain.access import Actor, Role
from tepat.errors import FieldError, PermissionDenied, ValidationError
from tepat.services import auth
from tepat.store.database import Database
from tepat.web.templating import CSRF_SESSION_KEY

SESSION_USER_KEY = "user_id"
MAX_FORM_BYTES = 210 * 1024 * 1024  # the largest import upload plus the form around it


class LoginRequired(Exception):
    """No one is logged in: the app answers with a redirect to the login page."""


class CsrfFailed(Exception):
    """A POST form arrived without this session's CSRF token."""


def get_db(request: Request) -> Database:
    """The application's database (set on ``app.state.db`` at start-up)."""
    return request.app.state.db


def optional_actor(request: Request) -> Actor | None:
    """The logged-in user, or ``None``."""
    if getattr(request.state, "actor", None) is not None:
        return request.state.actor
    user_id = request.session.get(SESSION_USER_KEY)
    if not isinstance(user_id, int):
        return None
    found = auth.actor_for_user(get_db(request), user_id)
    if found is None:  # account switched off since login
        request.session.clear()
        return None
    request.state.actor = found
    return found


def current_actor(request: Request) -> Actor:
    """The logged-in user; redirects to the login page when there is none."""
    found = optional_actor(request)
    if found is None:
        raise LoginRequired()
    return found


def personal_data_actor(request: Request) -> Actor:
    """A logged-in user whose role may read personal data (everyone but analysts)."""
    found = current_actor(request)
    if not found.sees_personal_data:
        # Refused by role before any record is looked up, so the answer says nothing about whether one exists.
        raise PermissionDenied("Halaman ini memuat data pribadi; peran Anda hanya angka agregat (Beranda, Wilayah, "
                               "Statistik, Sasaran).")
    return found


def editor_actor(request: Request) -> Actor:
    """A logged-in admin or operator (the roles that change the registry)."""
    found = personal_data_actor(request)
    if found.role not in (Role.ADMIN, Role.OPERATOR):
        raise PermissionDenied("Peran Anda tidak boleh mengubah data registri.")
    return found


async def verify_csrf(request: Request) -> None:
    """Refuse a POST whose form does not carry the session's CSRF token."""
    if request.method != "POST":
        return
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        # Refuse before reading: the body would otherwise be spooled to disk first.
        raise ValidationError("Berkas terlalu besar", [FieldError("file", "Ukuran berkas melebihi batas")])
    expected = request.session.get(CSRF_SESSION_KEY)
    form = await request.form()
    sent = form.get("csrf_token")
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, str(expected)):
        raise CsrfFailed()
