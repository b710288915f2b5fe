"""Browser sessions kept on the server: the cookie holds a random secret, the database its hash.

A signed cookie alone cannot be taken back: logout would only forget it in
one browser, and a copy would stay valid until it expired. With a row per
session, logging out, changing the password, an admin's reset or revocation
and switching the account off end it at once, on every worker process.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tepat.domain.access import Actor
from tepat.domain.accounts import actor_of
from tepat.domain.audit_actions import AuditAction
from tepat.store import audit
from tepat.store import users as user_store
from tepat.store.database import Database
from tepat.store.engine import as_utc, now, write_if_free

SESSION_HOURS = 8  # one working day
COOKIE_KEY = (
    "sesi"  # the session cookie's entry holding the secret; its hash names a row of ``user_sessions``
)
TOUCH_EVERY = timedelta(minutes=1)  # ``last_seen_at`` is written at most this often per session


@dataclass(frozen=True)
class SignedIn:
    """The account behind a live session, and whether it must replace a one-time password first."""

    actor: Actor
    must_change_password: bool
    session_hash: str


def hash_secret(secret: str) -> str:
    """The stored form of a session's cookie secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def start(db: Database, actor: Actor) -> str:
    """Open a session for ``actor`` (already authenticated); the secret for the cookie."""
    if actor.user_id is None:
        raise ValueError("a session needs a stored account")
    secret = secrets.token_urlsafe(32)
    at = now()
    with db.begin() as conn:
        user_store.insert_session(
            conn,
            user_id=actor.user_id,
            token_hash=hash_secret(secret),
            at=at,
            expires_at=at + timedelta(hours=SESSION_HOURS),
        )
    return secret


def signed_in(db: Database, secret: str) -> SignedIn | None:
    """The account of a live session, or ``None`` (ended, expired, unknown, or the account switched off)."""
    token_hash = hash_secret(secret)
    at = now()
    with db.read() as conn:
        row = user_store.session_owner(conn, token_hash, at)
    if row is None:
        return None
    last_seen = as_utc(row["last_seen_at"])
    if last_seen is None or at - last_seen >= TOUCH_EVERY:
        # Advisory: skipped while SQLite's writer is busy (an import), so no page waits for it; tried again later.
        write_if_free(db.engine, lambda conn: user_store.touch_session(conn, row["session_id"], at))
    return SignedIn(
        actor=actor_of(row), must_change_password=bool(row["must_change_password"]), session_hash=token_hash
    )


def end(db: Database, secret: str) -> None:
    """Log out: the session ends on the server, not only in this browser."""
    with db.begin() as conn:
        user_store.end_session(conn, hash_secret(secret), now(), "keluar")


def live(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """The actor's own open sessions (started, last seen, expiry), newest first."""
    if actor.user_id is None:
        return []
    with db.read() as conn:
        return user_store.live_sessions(conn, actor.user_id, now())


def end_others(db: Database, actor: Actor, keep_hash: str) -> int:
    """End every session of the actor but the one they are using (``keep_hash``); returns how many."""
    if actor.user_id is None:
        return 0
    with db.begin() as conn:
        ended = user_store.end_sessions(conn, actor.user_id, now(), "dicabut", keep_hash=keep_hash)
        audit.record(
            conn,
            actor,
            AuditAction.USER_SESSIONS_END,
            "user",
            actor.user_id,
            area_code=actor.area_code,
            detail={"username": actor.username, "sessions_ended": ended, "own": True},
        )
    return ended
