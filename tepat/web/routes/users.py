"""Admin pages for accounts in the admin's area: list, create, reset a password, sign out everywhere, revoke a
token, switch off."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from tepat.domain.access import Actor, Role
from tepat.services import auth
from tepat.store.database import Database
from tepat.web.deps import DB, Staff
from tepat.web.feedback import Feedback, act
from tepat.web.templating import templates

router = APIRouter()


def _page(
    request: Request,
    db: Database,
    actor: Actor,
    *,
    notice: str = "",
    values: dict[str, str] | None = None,
    one_time: tuple[str, str] | None = None,
    feedback: Feedback | None = None,
) -> Response:
    context: dict[str, Any] = {
        "title": "Pengguna",
        "users": auth.list_users(db, actor),
        "notice": notice,
        "values": values or {},
        "one_time": one_time,
        "roles": list(Role),
    }
    return templates.page(request, "users.html", context, feedback=feedback or Feedback())


@router.get("/pengguna")
def users(
    request: Request,
    db: DB,
    actor: Staff,
) -> Response:
    """Every account in the admin's area."""
    return _page(request, db, actor)


@router.post("/pengguna")
def create(
    request: Request,
    db: DB,
    actor: Staff,
    username: Annotated[str, Form()] = "",
    full_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    area_code: Annotated[str, Form()] = "",
) -> Response:
    """A new account with a one-time password (shown once; replaced at its first login)."""
    values = {"username": username, "full_name": full_name, "role": role, "area_code": area_code}
    password = auth.one_time_password()

    def attempt() -> Response:
        auth.create_user(
            db,
            actor,
            username=username,
            password=password,
            role=role,
            area_code=area_code,
            full_name=full_name,
            one_time=True,
        )
        made = username.strip().lower()
        return _page(request, db, actor, notice=f"Akun {made} dibuat.", one_time=(made, password))

    return act(attempt, lambda feedback: _page(request, db, actor, values=values, feedback=feedback))


@router.post("/pengguna/{username}/atur-ulang")
def reset(
    request: Request,
    username: str,
    db: DB,
    actor: Staff,
    remove_second_factor: Annotated[bool, Form()] = False,
) -> Response:
    """A one-time password for the account, shown once; its sessions end."""

    def attempt() -> Response:
        password = auth.reset_password(db, actor, username, remove_second_factor=remove_second_factor)
        notice = f"Kata sandi {username} diatur ulang; semua sesinya berakhir."
        return _page(request, db, actor, notice=notice, one_time=(username, password))

    return act(attempt, lambda feedback: _page(request, db, actor, feedback=feedback))


@router.post("/pengguna/{username}/akhiri-sesi")
def end_sessions(
    request: Request,
    username: str,
    db: DB,
    actor: Staff,
) -> Response:
    """Sign the account out everywhere at once."""
    ended = auth.end_sessions(db, actor, username)
    return _page(request, db, actor, notice=f"{ended} sesi {username} diakhiri.")


@router.post("/pengguna/{username}/nonaktifkan")
def deactivate(
    request: Request,
    username: str,
    db: DB,
    actor: Staff,
) -> Response:
    """Switch the account off: its sessions end and its API tokens are revoked."""
    auth.deactivate_user(db, actor, username)
    return _page(
        request, db, actor, notice=f"Akun {username} dinonaktifkan; sesi dan token API-nya berakhir."
    )


@router.get("/pengguna/{username}/token")
def tokens(
    request: Request,
    username: str,
    db: DB,
    actor: Staff,
) -> Response:
    """One account's API tokens, with when each was last used."""
    found = auth.tokens_of(db, actor, username)
    return templates.page(
        request, "user_tokens.html", {"title": f"Token API {username}", "username": username, "tokens": found}
    )


@router.post("/pengguna/{username}/token/{token_id}/cabut")
def revoke(
    request: Request,
    username: str,
    token_id: int,
    db: DB,
    actor: Staff,
) -> Response:
    """Revoke one API token of the account."""
    auth.revoke_token(db, actor, token_id)
    found = auth.tokens_of(db, actor, username)
    return templates.page(
        request,
        "user_tokens.html",
        {
            "title": f"Token API {username}",
            "username": username,
            "tokens": found,
            "message": f"Token {token_id} dicabut.",
        },
    )
