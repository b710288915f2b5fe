"""Logging in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from tepat.errors import AuthenticationFailed
from tepat.services import auth
from tepat.store.database import Database
from tepat.web.deps import SESSION_USER_KEY, get_db, optional_actor
from tepat.web.templating import csrf_token, templates

router = APIRouter()


def _safe_next(target: str) -> str:
    # Only paths on this site: never an open redirect to another host.
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/masuk")
def login_page(request: Request, next: str = "/") -> Response:
    """The login form."""
    if optional_actor(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return templates.TemplateResponse(request, "login.html", {"next": _safe_next(next), "username": "", "message": ""})


@router.post("/masuk")
def login(
    request: Request,
    db: Annotated[Database, Depends(get_db)],
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password and start a session."""
    try:
        actor = auth.authenticate(db, username, password)
    except AuthenticationFailed as exc:
        return templates.TemplateResponse(
            request, "login.html", {"next": _safe_next(next), "username": username, "message": exc.message},
            status_code=401,
        )
    request.session.clear()  # a fresh session (and CSRF token) at every login
    request.session[SESSION_USER_KEY] = actor.user_id
    csrf_token(request)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/keluar")
def logout(request: Request) -> Response:
    """End the session."""
    request.session.clear()
    return RedirectResponse("/masuk", status_code=303)
