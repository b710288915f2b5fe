"""Accounts: creating users, logging in, API tokens, deactivation.

Passwords are hashed with Argon2 (argon2-cffi); API tokens are random and only
their SHA-256 is stored, so a token is shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tepat.domain.access import SYSTEM, Actor, Role
from tepat.domain.regions import CITY_CODE, Level, contains, is_region_code, level_of
from tepat.errors import AuthenticationFailed, FieldError, NotFound, PermissionDenied, ValidationError
from tepat.store import audit
from tepat.store import users as user_store
from tepat.store.database import Database
from tepat.store.engine import as_utc, now

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("tepat-dummy-password-for-timing")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "tpt_"
LOGIN_FAILED = "Nama pengguna atau kata sandi salah."
LOCK_AFTER = 5
LOCK_MINUTES = 15
LOCKED = f"Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {LOCK_MINUTES} menit."


@dataclass(frozen=True)
class UserInfo:
    """An account as shown in lists (never the password hash)."""

    id: int
    username: str
    full_name: str
    role: Role
    area_code: str
    active: bool
    created_at: datetime | None

    def actor(self) -> Actor:
        return Actor(username=self.username, role=self.role, area_code=self.area_code,
                     full_name=self.full_name, user_id=self.id)


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: ``token`` is the only time the secret is visible."""

    token_id: int
    username: str
    label: str
    token: str


def _info(row: dict[str, Any]) -> UserInfo:
    return UserInfo(
        id=row["id"], username=row["username"], full_name=row["full_name"], role=Role(row["role"]),
        area_code=row["area_code"], active=bool(row["active"]), created_at=as_utc(row["created_at"]),
    )


def _require_admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise PermissionDenied("Hanya Admin Dinsos yang boleh mengelola akun.")


def hash_token(token: str) -> str:
    """The stored form of an API token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_new_user(db: Database, actor: Actor, username: str, password: str, role: str,
                    area_code: str) -> tuple[Role, list[FieldError]]:
    errors: list[FieldError] = []
    if not _USERNAME.match(username):
        errors.append(FieldError("username", "Nama pengguna 3–64 karakter: huruf kecil, angka, titik, garis bawah atau tanda hubung.", username))
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("password", f"Kata sandi minimal {MIN_PASSWORD_LENGTH} karakter."))
    try:
        parsed_role = Role(role)
    except ValueError:
        parsed_role = Role.ANALYST
        choices = ", ".join(r.value for r in Role)
        errors.append(FieldError("role", f"Peran tidak dikenal; pilih salah satu: {choices}.", role))
    if not is_region_code(area_code) or area_code not in db.regions or not contains(CITY_CODE, area_code):
        errors.append(FieldError("area_code", f"Wilayah harus kode Kota Bekasi ({CITY_CODE}) atau kecamatan/kelurahan di dalamnya.", area_code))
    elif not actor.in_area(area_code):
        errors.append(FieldError("area_code", "Wilayah akun baru harus di dalam wilayah Anda.", area_code))
    elif parsed_role is Role.OPERATOR and level_of(area_code) not in (Level.KECAMATAN, Level.KELURAHAN):
        errors.append(FieldError("area_code", "Operator harus ditugaskan di satu kecamatan atau kelurahan.", area_code))
    return parsed_role, errors


def create_user(
    db: Database,
    actor: Actor,
    *,
    username: str,
    password: str,
    role: str | Role,
    area_code: str,
    full_name: str = "",
) -> int:
    """Create an account and return its id."""
    _require_admin(actor)
    username = username.strip().lower()
    area_code = area_code.strip()
    parsed_role, errors = _check_new_user(db, actor, username, password, str(role), area_code)
    with db.begin() as conn:
        if not errors and user_store.by_username(conn, username) is not None:
            errors.append(FieldError("username", "Nama pengguna sudah dipakai.", username))
        if errors:
            raise ValidationError("Akun tidak dapat dibuat.", errors)
        user_id = user_store.insert_user(
            conn, username=username, full_name=full_name.strip() or username, password_hash=_hasher.hash(password),
            role=parsed_role.value, area_code=area_code, created_at=now(),
        )
        audit.record(conn, actor, "user.create", "user", user_id, area_code=area_code,
                     detail={"username": username, "role": parsed_role.value})
    return user_id


def _locked(db: Database, name: str) -> bool:
    """True after ``LOCK_AFTER`` failed logins in a row within ``LOCK_MINUTES``."""
    with db.read() as conn:
        recent = audit.entries(conn, entity="login", entity_id=name, limit=LOCK_AFTER)
    if len(recent) < LOCK_AFTER:
        return False
    cutoff = now() - timedelta(minutes=LOCK_MINUTES)
    return all(e["action"] == "login.failed" and (as_utc(e["at"]) or cutoff) > cutoff for e in recent)


def _log_attempt(db: Database, name: str, ok: bool) -> None:
    with db.begin() as conn:
        audit.record(conn, SYSTEM, "login" if ok else "login.failed", "login", name)


def authenticate(db: Database, username: str, password: str) -> Actor:
    """The actor for a correct username and password; ``AuthenticationFailed`` otherwise."""
    name = username.strip().lower()[:40]
    if _locked(db, name):
        raise AuthenticationFailed(LOCKED)
    with db.read() as conn:
        row = user_store.by_username(conn, username.strip().lower())
    if row is None or not row["active"]:
        # Spend the same time as a real check so that response time does not reveal which usernames exist.
        try:
            _hasher.verify(_DUMMY_HASH, password + "x")
        except VerificationError:
            pass
        _log_attempt(db, name, ok=False)
        raise AuthenticationFailed(LOGIN_FAILED)
    try:
        _hasher.verify(row["password_hash"], password)
    except (VerificationError, InvalidHashError):
        _log_attempt(db, name, ok=False)
        raise AuthenticationFailed(LOGIN_FAILED) from None
    if _hasher.check_needs_rehash(row["password_hash"]):
        with db.begin() as conn:
            user_store.set_password_hash(conn, row["id"], _hasher.hash(password))
    _log_attempt(db, name, ok=True)
    return _info(row).actor()


def actor_for_user(db: Database, user_id: int) -> Actor | None:
    """The actor of an active account (for a session), or ``None``."""
    with db.read() as conn:
        row = user_store.by_id(conn, user_id)
    if row is None or not row["active"]:
        return None
    return _info(row).actor()


def issue_token(db: Database, actor: Actor, username: str, *, label: str = "") -> IssuedToken:
    """Make a new API token for ``username``; the secret is returned once and stored hashed."""
    if actor.role is not Role.ADMIN and actor.username != username:
        raise PermissionDenied("Anda hanya boleh membuat token untuk akun Anda sendiri.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    label = (label.strip() or "api")[:80]
    with db.begin() as conn:
        row = user_store.by_username(conn, username.strip().lower())
        if row is None or not row["active"] or not actor.in_area(row["area_code"]):
            raise NotFound(f"Akun {username!r} tidak ditemukan atau tidak aktif.")
        token_id = user_store.insert_token(conn, user_id=row["id"], token_hash=hash_token(token), label=label,
                                           created_at=now())
        audit.record(conn, actor, "token.create", "user", row["id"], area_code=row["area_code"],
                     detail={"username": row["username"], "label": label, "token_id": token_id})
    return IssuedToken(token_id=token_id, username=row["username"], label=label, token=token)


def actor_for_token(db: Database, token: str) -> Actor:
    """The actor holding an API token; ``AuthenticationFailed`` when it is unknown or revoked."""
    with db.begin() as conn:
        row = user_store.token_owner(conn, hash_token(token.strip()))
        if row is None:
            raise AuthenticationFailed("Token API tidak dikenal atau sudah dicabut.")
        user_store.touch_token(conn, row["token_id"], now())
    return _info(row).actor()


def deactivate_user(db: Database, actor: Actor, username: str) -> None:
    """Switch an account off and revoke its API tokens (the row stays for the audit trail)."""
    _require_admin(actor)
    with db.begin() as conn:
        row = user_store.by_username(conn, username.strip().lower())
        if row is None or not actor.in_area(row["area_code"]):
            raise NotFound(f"Akun {username!r} tidak ditemukan.")
        user_store.set_active(conn, row["id"], False)
        revoked = user_store.revoke_tokens(conn, row["id"], now())
        audit.record(conn, actor, "user.deactivate", "user", row["id"], area_code=row["area_code"],
                     detail={"username": row["username"], "tokens_revoked": revoked})


def list_users(db: Database, actor: Actor) -> list[UserInfo]:
    """Accounts inside the actor's area (admins only)."""
    _require_admin(actor)
    with db.read() as conn:
        return [_info(r) for r in user_store.all_users(conn) if actor.in_area(r["area_code"])]
