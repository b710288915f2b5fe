"""Queries over the ``users``, ``api_tokens`` and ``user_sessions`` tables."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa

from tepat.domain.accounts import SessionHolder, TokenHolder, User
from tepat.store.schema import api_tokens, user_sessions, users


def insert_user(
    conn: sa.Connection,
    *,
    username: str,
    full_name: str,
    password_hash: str,
    role: str,
    area_code: str,
    created_at: datetime,
    must_change_password: bool = False,
) -> int:
    """Insert one account and return its id."""
    result = conn.execute(
        users.insert()
        .values(
            username=username,
            full_name=full_name,
            password_hash=password_hash,
            role=role,
            area_code=area_code,
            active=True,
            created_at=created_at,
            must_change_password=must_change_password,
        )
        .returning(users.c.id)
    )
    return int(result.scalar_one())


def user_of(row: Mapping[Any, Any]) -> User:
    """A ``users`` row (every column) as its read model."""
    return cast(User, dict(row))


def by_username(conn: sa.Connection, username: str) -> User | None:
    """The account with this username (any state), or ``None``."""
    row = conn.execute(sa.select(users).where(users.c.username == username)).mappings().first()
    return user_of(row) if row else None


def by_id(conn: sa.Connection, user_id: int) -> User | None:
    """The account with this id, or ``None``."""
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
    return user_of(row) if row else None


def all_users(conn: sa.Connection) -> list[User]:
    """Every account, by username."""
    return [user_of(r) for r in conn.execute(sa.select(users).order_by(users.c.username)).mappings()]


def set_active(conn: sa.Connection, user_id: int, active: bool) -> None:
    conn.execute(users.update().where(users.c.id == user_id).values(active=active))


def set_password_hash(conn: sa.Connection, user_id: int, password_hash: str) -> None:
    """A rehash of the same password (stronger parameters): nothing else changes."""
    conn.execute(users.update().where(users.c.id == user_id).values(password_hash=password_hash))


def replace_password(
    conn: sa.Connection, user_id: int, password_hash: str, *, at: datetime, one_time: bool
) -> None:
    """A new password: ``one_time`` (an admin's reset) must be replaced at the next login."""
    conn.execute(
        users.update()
        .where(users.c.id == user_id)
        .values(password_hash=password_hash, password_changed_at=at, must_change_password=one_time)
    )


def set_totp(conn: sa.Connection, user_id: int, secret: str | None, last_step: int | None) -> None:
    conn.execute(
        users.update().where(users.c.id == user_id).values(totp_secret=secret, totp_last_step=last_step)
    )


def use_totp_step(conn: sa.Connection, user_id: int, step: int) -> bool:
    """Record ``step`` as the last code used, unless it (or a later one) already was: one code, one login, even
    when two logins race (the condition is checked by the database in the same statement)."""
    result = conn.execute(
        users.update()
        .where(
            users.c.id == user_id,
            sa.or_(users.c.totp_last_step.is_(None), users.c.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    return bool(result.rowcount)


def insert_token(
    conn: sa.Connection,
    *,
    user_id: int,
    token_hash: str,
    label: str,
    created_at: datetime,
    expires_at: datetime,
) -> int:
    """Store one API token (its hash only) and return its id."""
    result = conn.execute(
        api_tokens.insert()
        .values(
            user_id=user_id,
            token_hash=token_hash,
            label=label,
            created_at=created_at,
            expires_at=expires_at,
        )
        .returning(api_tokens.c.id)
    )
    return int(result.scalar_one())


def token_owner(conn: sa.Connection, token_hash: str, at: datetime) -> TokenHolder | None:
    """The active account holding an unrevoked, unexpired token with this hash, plus ``token_id``."""
    row = conn.execute(
        sa.select(users, api_tokens.c.id.label("token_id"))
        .join(api_tokens, api_tokens.c.user_id == users.c.id)
        .where(
            api_tokens.c.token_hash == token_hash,
            api_tokens.c.revoked_at.is_(None),
            users.c.active.is_(True),
            sa.or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > at),
        )
    ).first()
    return cast(TokenHolder, dict(row._mapping)) if row else None


def touch_token(conn: sa.Connection, token_id: int, at: datetime) -> None:
    conn.execute(api_tokens.update().where(api_tokens.c.id == token_id).values(last_used_at=at))


def revoke_tokens(conn: sa.Connection, user_id: int, at: datetime) -> int:
    """Revoke every live token of one account; returns how many."""
    result = conn.execute(
        api_tokens.update()
        .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return int(result.rowcount or 0)


def revoke_token(conn: sa.Connection, token_id: int, at: datetime) -> bool:
    """Revoke one live token; ``False`` when it was already revoked."""
    result = conn.execute(
        api_tokens.update()
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return bool(result.rowcount)


def token_by_id(conn: sa.Connection, token_id: int) -> dict[str, Any] | None:
    """A token's row with its owner's ``username`` and ``area_code``."""
    row = conn.execute(
        sa.select(api_tokens, users.c.username, users.c.area_code)
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(api_tokens.c.id == token_id)
    ).first()
    return dict(row._mapping) if row else None


def tokens_of(conn: sa.Connection, user_id: int) -> list[dict[str, Any]]:
    """Every token of one account (never the hash), oldest first."""
    q = (
        sa.select(
            api_tokens.c.id,
            api_tokens.c.label,
            api_tokens.c.created_at,
            api_tokens.c.last_used_at,
            api_tokens.c.revoked_at,
            api_tokens.c.expires_at,
        )
        .where(api_tokens.c.user_id == user_id)
        .order_by(api_tokens.c.id)
    )
    return [dict(r._mapping) for r in conn.execute(q)]


# ----------------------------------------------------------------- sessions


def insert_session(
    conn: sa.Connection, *, user_id: int, token_hash: str, at: datetime, expires_at: datetime
) -> int:
    result = conn.execute(
        user_sessions.insert()
        .values(
            user_id=user_id,
            token_hash=token_hash,
            created_at=at,
            last_seen_at=at,
            expires_at=expires_at,
        )
        .returning(user_sessions.c.id)
    )
    return int(result.scalar_one())


def session_owner(conn: sa.Connection, token_hash: str, at: datetime) -> SessionHolder | None:
    """The active account of a live session with this hash, plus ``session_id`` and ``last_seen_at``."""
    row = conn.execute(
        sa.select(users, user_sessions.c.id.label("session_id"), user_sessions.c.last_seen_at)
        .join(user_sessions, user_sessions.c.user_id == users.c.id)
        .where(
            user_sessions.c.token_hash == token_hash,
            user_sessions.c.ended_at.is_(None),
            user_sessions.c.expires_at > at,
            users.c.active.is_(True),
        )
    ).first()
    return cast(SessionHolder, dict(row._mapping)) if row else None


def touch_session(conn: sa.Connection, session_id: int, at: datetime) -> None:
    conn.execute(user_sessions.update().where(user_sessions.c.id == session_id).values(last_seen_at=at))


def end_session(conn: sa.Connection, token_hash: str, at: datetime, reason: str) -> int | None:
    """End one live session; its owner's id, or ``None`` when there was none."""
    row = conn.execute(
        user_sessions.update()
        .where(user_sessions.c.token_hash == token_hash, user_sessions.c.ended_at.is_(None))
        .values(ended_at=at, ended_reason=reason)
        .returning(user_sessions.c.user_id)
    ).first()
    return int(row[0]) if row else None


def end_sessions(
    conn: sa.Connection, user_id: int, at: datetime, reason: str, *, keep_hash: str | None = None
) -> int:
    """End every live session of one account (but ``keep_hash``'s); returns how many."""
    q = user_sessions.update().where(user_sessions.c.user_id == user_id, user_sessions.c.ended_at.is_(None))
    if keep_hash is not None:
        q = q.where(user_sessions.c.token_hash != keep_hash)
    return int(conn.execute(q.values(ended_at=at, ended_reason=reason)).rowcount or 0)


def live_sessions(conn: sa.Connection, user_id: int, at: datetime) -> list[dict[str, Any]]:
    """One account's sessions still open (newest first), without their hashes."""
    q = (
        sa.select(
            user_sessions.c.id,
            user_sessions.c.created_at,
            user_sessions.c.last_seen_at,
            user_sessions.c.expires_at,
        )
        .where(
            user_sessions.c.user_id == user_id,
            user_sessions.c.ended_at.is_(None),
            user_sessions.c.expires_at > at,
        )
        .order_by(user_sessions.c.id.desc())
    )
    return [dict(r._mapping) for r in conn.execute(q)]
