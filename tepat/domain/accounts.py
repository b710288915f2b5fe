"""A staff account as stored: the read model of a ``users`` row.

A ``TypedDict`` (a dict at run time, checked by mypy where a field is read), its fields held equal to the table's
columns by tests/test_read_models.py. ``role`` holds a ``tepat.domain.access.Role`` code and ``area_code`` the
region the account is scoped to; ``password_hash`` and ``totp_secret`` never leave the services that check them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from tepat.domain.access import Actor, Role


class User(TypedDict):
    """One row of ``users``."""

    id: int
    username: str
    full_name: str
    password_hash: str
    role: str
    area_code: str
    active: bool
    created_at: datetime
    must_change_password: bool
    password_changed_at: datetime | None
    totp_secret: str | None
    totp_last_step: int | None


class TokenHolder(User):
    """The account holding an API token, with the token's id."""

    token_id: int


class SessionHolder(User):
    """The account of a browser session, with the session's id and when it was last seen."""

    session_id: int
    last_seen_at: datetime


def actor_of(user: User) -> Actor:
    """Who acts through this account: its username, role and area."""
    return Actor(
        username=user["username"],
        role=Role(user["role"]),
        area_code=user["area_code"],
        full_name=user["full_name"],
        user_id=user["id"],
    )
