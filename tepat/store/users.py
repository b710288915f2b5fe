"""Queries over the ``users`` and ``api_tokens`` tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tepat.store.schema import api_tokens, users


def insert_user(
    conn: sa.Connection,
    *,
    username: str,
    full_name: str,
    password_hash: str,
    role: str,
    area_code: str,
    created_at: datetime,
) -> int:
    """Insert one account and return its id."""
    result = conn.execute(
        users.insert().values(
            username=username,
            full_name=full_name,
            password_hash=password_hash,
            role=role,
            area_code=area_code,
            active=True,
            created_at=created_at,
        )
    )
    return int(result.inserted_primary_key[0])


def by_username(conn: sa.Connection, username: str) -> dict[str, Any] | None:
    """The account with this username (any state), or ``None``."""
    row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    return dict(row._mapping) if row else None


def by_id(conn: sa.Connection, user_id: int) -> dict[str, Any] | None:
    """The account with this id, or ``None``."""
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
    return dict(row._mapping) if row else None


def all_users(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every account, by username."""
    return [dict(r._mapping) for r in conn.execute(sa.select(users).order_by(users.c.username))]


def set_active(conn: sa.Connection, user_id: int, active: bool) -> None:
    conn.execute(users.update().where(users.c.id == user_id).values(active=active))


def set_password_hash(conn: sa.Connection, user_id: int, password_hash: str) -> None:
    conn.execute(users.update().where(users.c.id == user_id).values(password_hash=password_hash))


def insert_token(conn: sa.Connection, *, user_id: int, token_hash: str, label: str, created_at: datetime) -> int:
    """Store one API token (its hash only) and return its id."""
    result = conn.execute(
        api_tokens.insert().values(user_id=user_id, token_hash=token_hash, label=label, created_at=created_at)
    )
    return int(result.inserted_primary_key[0])


def token_owner(conn: sa.Connection, token_hash: str) -> dict[str, Any] | None:
    """The active account holding an unrevoked token with this hash, plus ``token_id``."""
    row = conn.execute(
        sa.select(users, api_tokens.c.id.label("token_id"))
        .join(api_tokens, api_tokens.c.user_id == users.c.id)
        .where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None), users.c.active.is_(True))
    ).first()
    return dict(row._mapping) if row else None


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


def tokens_of(conn: sa.Connection, user_id: int) -> list[dict[str, Any]]:
    q = sa.select(api_tokens.c.id, api_tokens.c.label, api_tokens.c.created_at, api_tokens.c.last_used_at,
                  api_tokens.c.revoked_at).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id)
    return [dict(r._mapping) for r in conn.execute(q)]
