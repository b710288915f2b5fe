"""Logging in and out, and one's own account: password, authenticator code, API tokens, open sessions."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tepat.domain.access import Actor
from tepat.domain.throttle import Once
from tepat.errors import AuthenticationFailed, Busy, TepatError, Throttled, ValidationError
from tepat.portal import challenge
from tepat.portal.shared_state import app_state, client, rate_limits
from tepat.services import auth, second_factor, sessions
from tepat.services.login import ChallengeRequired, LoginGate
from tepat.services.status_check import keyed_hash
from tepat.store.database import Database
from tepat.web.deps import (
    DB,
    PASSWORD_PAGE,
    SESSION_KEY,
    Staff,
    optional_actor,
    signed_in,
)
from tepat.web.feedback import error_map
from tepat.web.templating import csrf_token, templates

router = APIRouter()
PENDING_KEY = "menunggu_kode"  # (user id, since) between a right password and the authenticator code
PENDING_SECONDS = 5 * 60
ENROLMENT_KEY = "rahasia_baru"  # a new authenticator secret until a code from it confirms it


def _safe_next(target: str) -> str:
    # Only paths on this site: never an open redirect to another host.
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _gate(request: Request) -> LoginGate:
    return app_state(request, "login_gate", lambda: LoginGate(request.app.state.db, rate_limits(request)))


def _client_key(request: Request) -> str:
    # The limit file holds a keyed hash of the address, never the address itself.
    return keyed_hash(str(request.app.state.settings.secret_key), "client", client(request))


def _login_page(
    request: Request,
    *,
    next_: str = "/",
    username: str = "",
    message: str = "",
    ask_question: bool = False,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    question = (
        challenge.new_challenge(str(request.app.state.settings.secret_key), time.time())
        if ask_question
        else None
    )
    return templates.page(
        request,
        "login.html",
        {"next": _safe_next(next_), "username": username, "message": message, "challenge": question},
        status_code=status_code,
        headers=headers,
    )


def _begin_session(request: Request, actor: Actor, next_: str, *, must_change_password: bool) -> Response:
    request.session.clear()  # a fresh session (and CSRF token) at every login
    request.session[SESSION_KEY] = sessions.start(request.app.state.db, actor)
    csrf_token(request)
    return RedirectResponse(PASSWORD_PAGE if must_change_password else _safe_next(next_), status_code=303)


@router.get("/masuk")
def login_page(request: Request, next: str = "/") -> Response:
    """The login form."""
    if optional_actor(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, next_=next)


def _answered(request: Request, token: str, answer: str) -> Once | None:
    """The (nonce, expiry) of a rightly answered question, to be used up by the attempt; a wrong answer spends it."""
    if not token:
        return None
    secret, at = str(request.app.state.settings.secret_key), time.time()
    if challenge.verify(secret, token, answer, at):
        return challenge.nonce_of(token)
    challenge.spend_if_genuine(secret, token, at, rate_limits(request))
    return None


@router.post("/masuk")
def login(
    request: Request,
    db: DB,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    token: Annotated[str, Form()] = "",
    jawaban: Annotated[str, Form()] = "",
) -> Response:
    """Check the password (throttled; see ``tepat.services.login``), then ask for the code or start a session."""
    try:
        found = _gate(request).password(
            username, password, client=_client_key(request), answered=_answered(request, token, jawaban)
        )
    except ChallengeRequired as exc:
        return _login_page(
            request, next_=next, username=username, message=exc.message, ask_question=True, status_code=401
        )
    except (Throttled, Busy) as exc:
        return _login_page(
            request,
            next_=next,
            username=username,
            message=exc.message,
            status_code=exc.status_code,
            headers={"Retry-After": str(max(1, round(exc.retry_after)))},
        )
    except AuthenticationFailed as exc:
        return _login_page(
            request,
            next_=next,
            username=username,
            message=exc.message,
            ask_question=bool(token),
            status_code=401,
        )
    if found.needs_code:
        request.session.clear()
        request.session[PENDING_KEY] = [found.actor.user_id, time.time(), bool(found.must_change_password)]
        return templates.page(request, "login_code.html", {"next": _safe_next(next), "message": ""})
    return _begin_session(request, found.actor, next, must_change_password=found.must_change_password)


@router.post("/masuk/kode")
def login_code(
    request: Request,
    db: DB,
    code: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """The second step for accounts with an authenticator app."""
    pending = request.session.get(PENDING_KEY)
    if not (
        isinstance(pending, list) and len(pending) == 3 and time.time() - float(pending[1]) < PENDING_SECONDS
    ):
        request.session.pop(PENDING_KEY, None)
        return _login_page(
            request, next_=next, message="Waktu memasukkan kode habis. Masuk lagi dari awal.", status_code=401
        )
    candidate = auth.actor_for_user(db, int(pending[0]))
    if candidate is None:
        request.session.clear()
        return _login_page(request, next_=next, message=auth.LOGIN_FAILED, status_code=401)
    try:
        actor = _gate(request).code(candidate, code, client=_client_key(request))
    except (AuthenticationFailed, Throttled) as exc:
        return templates.page(
            request,
            "login_code.html",
            {"next": _safe_next(next), "message": exc.message},
            status_code=exc.status_code,
        )
    return _begin_session(request, actor, next, must_change_password=bool(pending[2]))


@router.post("/keluar")
def logout(request: Request, db: DB) -> Response:
    """End the session, on the server too."""
    secret = request.session.get(SESSION_KEY)
    if isinstance(secret, str):
        sessions.end(db, secret)
    request.session.clear()
    return RedirectResponse("/masuk", status_code=303)


# ----------------------------------------------------------------- one's own account


def _account_page(
    request: Request,
    db: Database,
    actor: Actor,
    *,
    message: str = "",
    errors: dict[str, str] | None = None,
    new_token: auth.IssuedToken | None = None,
    status_code: int = 200,
) -> Response:
    enrolment = request.session.get(ENROLMENT_KEY)
    context: dict[str, Any] = {
        "title": "Akun saya",
        "info": auth.user_info(db, actor),
        "message": message,
        "errors": errors or {},
        "tokens": auth.tokens_of(db, actor, actor.username),
        "sessions": sessions.live(db, actor),
        "offer_second_factor": second_factor.offered_to(actor),
        "new_token": new_token,
        "enrolment": second_factor.enrolment_of(actor, enrolment) if isinstance(enrolment, str) else None,
        "token_days": auth.TOKEN_DAYS,
    }
    return templates.page(request, "account.html", context, status_code=status_code)


@router.get("/akun")
def account(
    request: Request,
    db: DB,
    actor: Staff,
) -> Response:
    """Who I am, my second factor, my API tokens and my open sessions."""
    return _account_page(request, db, actor)


@router.get(PASSWORD_PAGE)
def password_page(request: Request, actor: Staff) -> Response:
    """The password form (the only page open while a one-time password must be replaced)."""
    found = signed_in(request)
    return templates.page(
        request,
        "password.html",
        {
            "title": "Ganti kata sandi",
            "errors": {},
            "message": "",
            "must_change": bool(found and found.must_change_password),
        },
    )


@router.post(PASSWORD_PAGE)
def change_password(
    request: Request,
    db: DB,
    actor: Staff,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    repeat_password: Annotated[str, Form()] = "",
) -> Response:
    """Replace my password; my other sessions end, this one stays."""
    found = signed_in(request)
    try:
        ended = auth.change_password(
            db,
            actor,
            current=current_password,
            new=new_password,
            repeat=repeat_password,
            keep_session=found.session_hash if found else None,
        )
    except ValidationError as exc:
        return templates.page(
            request,
            "password.html",
            {
                "title": "Ganti kata sandi",
                "message": exc.message,
                "errors": error_map(exc.errors),
                "must_change": bool(found and found.must_change_password),
            },
            status_code=422,
        )
    request.state.signed_in = None  # read again on the next request: the one-time flag is gone
    others = f" {ended} sesi lain diakhiri." if ended else ""
    return _account_page(request, db, actor, message=f"Kata sandi sudah diganti.{others}")


@router.post("/akun/dua-langkah/mulai")
def second_factor_start(
    request: Request,
    db: DB,
    actor: Staff,
) -> Response:
    """A new secret and its QR code; kept in this session until a code confirms it."""
    request.session[ENROLMENT_KEY] = second_factor.new_enrolment(actor).secret
    return _account_page(request, db, actor)


@router.post("/akun/dua-langkah/aktifkan")
def second_factor_enable(
    request: Request,
    db: DB,
    actor: Staff,
    code: Annotated[str, Form()] = "",
) -> Response:
    """Switch the second factor on with one code from the app."""
    secret = request.session.get(ENROLMENT_KEY)
    if not isinstance(secret, str):
        return _account_page(
            request, db, actor, message="Mulai lagi: pindai kode QR yang baru.", status_code=409
        )
    try:
        second_factor.enable(db, actor, secret, code)
    except ValidationError as exc:
        return _account_page(
            request,
            db,
            actor,
            message=exc.message,
            errors=error_map(exc.errors),
            status_code=422,
        )
    request.session.pop(ENROLMENT_KEY, None)
    return _account_page(
        request, db, actor, message="Verifikasi dua langkah aktif: setiap masuk meminta kode dari aplikasi."
    )


@router.post("/akun/dua-langkah/matikan")
def second_factor_disable(
    request: Request,
    db: DB,
    actor: Staff,
    code: Annotated[str, Form()] = "",
) -> Response:
    """Switch my second factor off (with a current code)."""
    try:
        second_factor.disable(db, actor, code)
    except ValidationError as exc:
        return _account_page(
            request,
            db,
            actor,
            message=exc.message,
            errors=error_map(exc.errors),
            status_code=422,
        )
    return _account_page(request, db, actor, message="Verifikasi dua langkah dimatikan.")


@router.post("/akun/token")
def token_create(
    request: Request,
    db: DB,
    actor: Staff,
    label: Annotated[str, Form()] = "",
    days: Annotated[int, Form(ge=1, le=auth.MAX_TOKEN_DAYS)] = auth.TOKEN_DAYS,
) -> Response:
    """A new API token for me, shown once."""
    issued = auth.issue_token(db, actor, actor.username, label=label, days=days)
    return _account_page(request, db, actor, new_token=issued)


@router.post("/akun/token/{token_id}/cabut")
def token_revoke(
    request: Request,
    token_id: int,
    db: DB,
    actor: Staff,
) -> Response:
    """Revoke one of my API tokens."""
    try:
        auth.revoke_token(db, actor, token_id)
    except TepatError as exc:
        return _account_page(request, db, actor, message=exc.message, status_code=exc.status_code)
    return _account_page(request, db, actor, message=f"Token {token_id} dicabut.")


@router.post("/akun/sesi/akhiri")
def end_other_sessions(
    request: Request,
    db: DB,
    actor: Staff,
) -> Response:
    """End every session of mine except this one."""
    found = signed_in(request)
    ended = sessions.end_others(db, actor, found.session_hash) if found else 0
    return _account_page(request, db, actor, message=f"{ended} sesi lain diakhiri.")
