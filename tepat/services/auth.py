"""Accounts: creating users, checking and changing passwords, API tokens, deactivation.

Passwords are hashed with Argon2 (argon2-cffi); API tokens are random and only
their SHA-256 is stored, so a token is shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tepat.domain.access import SYSTEM, Actor, Permission, Role
from tepat.domain.accounts import User, actor_of
from tepat.domain.audit_actions import AuditAction
from tepat.domain.regions import Level, is_region_code, level_of
from tepat.errors import (
    AuthenticationFailed,
    Busy,
    FieldError,
    NotFound,
    PermissionDenied,
    StateError,
    ValidationError,
)
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
TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 366
ARGON2_CHECKS_AT_ONCE = max(2, os.cpu_count() or 2)
ARGON2_WAIT_SECONDS = 10.0
_argon2_slots = threading.BoundedSemaphore(ARGON2_CHECKS_AT_ONCE)
_ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or copied from a screen


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
    second_factor: bool = False
    must_change_password: bool = False


@dataclass(frozen=True)
class SignInCandidate:
    """A correct username and password: who it is, whether a code from their app must follow, and whether the
    password was a one-time password from an admin's reset (to be replaced before anything else)."""

    actor: Actor
    needs_code: bool
    must_change_password: bool


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: ``token`` is the only time the secret is visible."""

    token_id: int
    username: str
    label: str
    token: str
    expires_at: datetime


def _info(row: User) -> UserInfo:
    return UserInfo(
        id=row["id"],
        username=row["username"],
        full_name=row["full_name"],
        role=Role(row["role"]),
        area_code=row["area_code"],
        active=bool(row["active"]),
        created_at=as_utc(row["created_at"]),
        second_factor=row.get("totp_secret") is not None,
        must_change_password=bool(row.get("must_change_password")),
    )


def _require_admin(actor: Actor) -> None:
    if not actor.may(Permission.MANAGE_USERS):
        raise PermissionDenied("Hanya Admin Dinsos yang boleh mengelola akun.")


def hash_token(token: str) -> str:
    """The stored form of an API token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_new_user(
    db: Database, actor: Actor, username: str, password: str, role: str, area_code: str
) -> tuple[Role, list[FieldError]]:
    errors: list[FieldError] = []
    if not _USERNAME.match(username):
        errors.append(
            FieldError(
                "username",
                "Nama pengguna 3–64 karakter: huruf kecil, angka, titik, garis bawah atau tanda hubung.",
                username,
            )
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("password", f"Kata sandi minimal {MIN_PASSWORD_LENGTH} karakter."))
    try:
        parsed_role = Role(role)
    except ValueError:
        parsed_role = Role.ANALYST
        choices = ", ".join(r.value for r in Role)
        errors.append(FieldError("role", f"Peran tidak dikenal; pilih salah satu: {choices}.", role))
    offices = db.offices
    province_account = parsed_role is Role.PROVINCE
    if province_account and area_code != offices.area:
        errors.append(
            FieldError(
                "area_code",
                f"Akun {Role.PROVINCE.label} membaca semua kantor: wilayahnya {offices.area or 'kosong'}.",
                area_code,
            )
        )
    elif not province_account and (
        not is_region_code(area_code) or area_code not in db.regions or offices.of(area_code) is None
    ):
        names = ", ".join(f"{o.name} ({o.code})" for o in offices.all)
        errors.append(
            FieldError(
                "area_code",
                f"Wilayah harus kode {names} atau kecamatan/kelurahan di dalamnya.",
                area_code,
            )
        )
    elif not actor.in_area(area_code):
        errors.append(FieldError("area_code", "Wilayah akun baru harus di dalam wilayah Anda.", area_code))
    elif parsed_role is Role.OPERATOR and level_of(area_code) not in (Level.KECAMATAN, Level.KELURAHAN):
        errors.append(
            FieldError("area_code", "Operator harus ditugaskan di satu kecamatan atau kelurahan.", area_code)
        )
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
    one_time: bool = False,
) -> int:
    """Create an account and return its id; a ``one_time`` password (made by an admin's page) must be replaced at
    the first login."""
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
            conn,
            username=username,
            full_name=full_name.strip() or username,
            password_hash=_hash(password),
            role=parsed_role.value,
            area_code=area_code,
            created_at=now(),
            must_change_password=one_time,
        )
        audit.record(
            conn,
            actor,
            AuditAction.USER_CREATE,
            "user",
            user_id,
            area_code=area_code,
            detail={"username": username, "role": parsed_role.value},
        )
    return user_id


@contextmanager
def _argon2_slot() -> Iterator[None]:
    """One of the few Argon2 checks allowed at once (each takes 64 MiB): a flood of logins queues here briefly,
    then is told the server is busy, instead of exhausting memory."""
    if not _argon2_slots.acquire(timeout=ARGON2_WAIT_SECONDS):
        raise Busy("Server sedang sibuk memeriksa kata sandi. Coba lagi sebentar lagi.", ARGON2_WAIT_SECONDS)
    try:
        yield
    finally:
        _argon2_slots.release()


def _verify(password_hash: str, password: str) -> bool:
    with _argon2_slot():
        try:
            return bool(_hasher.verify(password_hash, password))
        except (VerificationError, InvalidHashError):
            return False


def _hash(password: str) -> str:
    with _argon2_slot():
        return _hasher.hash(password)


def _log_attempt(db: Database, name: str, ok: bool, *, code_follows: bool = False) -> None:
    """A login attempt in the audit log: ``login`` only once the account is in (after its code, if it has one)."""
    action = (
        (AuditAction.LOGIN_ACCEPT_PASSWORD if code_follows else AuditAction.LOGIN_SUCCEED)
        if ok
        else AuditAction.LOGIN_FAIL
    )
    with db.begin() as conn:
        audit.record(conn, SYSTEM, action, "login", name)


def check_password(db: Database, username: str, password: str) -> SignInCandidate:
    """The account behind a correct username and password; ``AuthenticationFailed`` otherwise. Attempts are not
    throttled here: the login page does that (``tepat.services.login``), the CLI runs on the server itself."""
    name = username.strip().lower()[:64]
    with db.read() as conn:
        row = user_store.by_username(conn, name)
    if row is None or not row["active"]:
        # Spend the same time as a real check so that response time does not reveal which usernames exist.
        _verify(_DUMMY_HASH, password + "x")
        _log_attempt(db, name, ok=False)
        raise AuthenticationFailed(LOGIN_FAILED)
    if not _verify(row["password_hash"], password):
        _log_attempt(db, name, ok=False)
        raise AuthenticationFailed(LOGIN_FAILED)
    if _hasher.check_needs_rehash(row["password_hash"]):
        with db.begin() as conn:
            user_store.set_password_hash(conn, row["id"], _hash(password))
    _log_attempt(db, name, ok=True, code_follows=row["totp_secret"] is not None)
    return SignInCandidate(
        actor=actor_of(row),
        needs_code=row["totp_secret"] is not None,
        must_change_password=bool(row["must_change_password"]),
    )


def authenticate(db: Database, username: str, password: str) -> Actor:
    """The actor for a correct username and password (scripts and tests; pages add throttling and the code)."""
    return check_password(db, username, password).actor


def user_info(db: Database, actor: Actor) -> UserInfo:
    """The actor's own account as listed (second factor on, one-time password pending)."""
    with db.read() as conn:
        row = user_store.by_username(conn, actor.username)
    if row is None:
        raise NotFound("Akun tidak ditemukan.")
    return _info(row)


def actor_for_user(db: Database, user_id: int) -> Actor | None:
    """The actor of an active account (for a session), or ``None``."""
    with db.read() as conn:
        row = user_store.by_id(conn, user_id)
    if row is None or not row["active"]:
        return None
    return actor_of(row)


def issue_token(
    db: Database, actor: Actor, username: str, *, label: str = "", days: int = TOKEN_DAYS
) -> IssuedToken:
    """Make a new API token for ``username``, valid ``days`` days; the secret is returned once and stored hashed."""
    if not actor.may(Permission.MANAGE_USERS) and actor.username != username:
        raise PermissionDenied("Anda hanya boleh membuat token untuk akun Anda sendiri.")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationError(
            "Token tidak dapat dibuat.",
            [FieldError("days", f"Masa berlaku token 1–{MAX_TOKEN_DAYS} hari.", str(days))],
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    label = (label.strip() or "api")[:80]
    at = now()
    expires_at = at + timedelta(days=days)
    with db.begin() as conn:
        row = user_store.by_username(conn, username.strip().lower())
        if row is None or not row["active"] or not actor.in_area(row["area_code"]):
            raise NotFound(f"Akun {username!r} tidak ditemukan atau tidak aktif.")
        token_id = user_store.insert_token(
            conn,
            user_id=row["id"],
            token_hash=hash_token(token),
            label=label,
            created_at=at,
            expires_at=expires_at,
        )
        audit.record(
            conn,
            actor,
            AuditAction.TOKEN_CREATE,
            "user",
            row["id"],
            area_code=row["area_code"],
            detail={"username": row["username"], "label": label, "token_id": token_id, "days": days},
        )
    return IssuedToken(
        token_id=token_id, username=row["username"], label=label, token=token, expires_at=expires_at
    )


def actor_for_token(db: Database, token: str) -> Actor:
    """The actor holding an API token; ``AuthenticationFailed`` when it is unknown, expired or revoked."""
    at = now()
    with db.begin() as conn:
        row = user_store.token_owner(conn, hash_token(token.strip()), at)
        if row is None:
            raise AuthenticationFailed("Token API tidak dikenal, sudah kedaluwarsa, atau sudah dicabut.")
        user_store.touch_token(conn, row["token_id"], at)
    return actor_of(row)


def revoke_token(db: Database, actor: Actor, token_id: int) -> None:
    """Revoke one API token: its owner, or an admin whose area holds the owner."""
    with db.begin() as conn:
        row = user_store.token_by_id(conn, token_id)
        mine = row is not None and row["username"] == actor.username
        if row is None or not (mine or actor.may(Permission.MANAGE_USERS, row["area_code"])):
            raise NotFound(f"Token {token_id} tidak ditemukan.")
        if not user_store.revoke_token(conn, token_id, now()):
            raise StateError(f"Token {token_id} sudah dicabut.")
        audit.record(
            conn,
            actor,
            AuditAction.TOKEN_REVOKE,
            "user",
            row["user_id"],
            area_code=row["area_code"],
            detail={"username": row["username"], "token_id": token_id, "label": row["label"]},
        )


def tokens_of(db: Database, actor: Actor, username: str) -> list[dict[str, Any]]:
    """One account's API tokens (label, made, last used, expiry, revoked; never the secret): its owner or an
    admin whose area holds it."""
    with db.read() as conn:
        row = _visible_account(conn, actor, username, own_allowed=True)
        found = user_store.tokens_of(conn, row["id"])
    stamps = ("created_at", "last_used_at", "revoked_at", "expires_at")
    return [{**t, **{k: as_utc(t[k]) for k in stamps}} for t in found]


def _visible_account(conn: Any, actor: Actor, username: str, *, own_allowed: bool = False) -> User:
    """The account ``actor`` may manage: their own (when ``own_allowed``) or, for an admin, one in their area."""
    row = user_store.by_username(conn, username.strip().lower())
    if row is not None and own_allowed and row["username"] == actor.username:
        return row
    _require_admin(actor)
    if row is None or not actor.in_area(row["area_code"]):
        raise NotFound(f"Akun {username!r} tidak ditemukan.")
    return row


def _password_errors(password: str, repeat: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("new_password", f"Kata sandi minimal {MIN_PASSWORD_LENGTH} karakter."))
    if password != repeat:
        errors.append(FieldError("repeat_password", "Ulangan kata sandi baru tidak sama."))
    return errors


def change_password(
    db: Database, actor: Actor, *, current: str, new: str, repeat: str, keep_session: str | None = None
) -> int:
    """The user replaces their own password (the current one, then the new one twice). Every other session of
    theirs ends; ``keep_session`` (the hash of the one they are using) stays. Returns how many ended."""
    errors = _password_errors(new, repeat)
    if not errors and new == current:
        errors.append(FieldError("new_password", "Kata sandi baru harus berbeda dari yang sekarang."))
    with db.read() as conn:
        row = user_store.by_username(conn, actor.username)
    if row is None or not row["active"]:
        raise NotFound("Akun tidak ditemukan.")
    if not _verify(row["password_hash"], current):
        errors.insert(0, FieldError("current_password", "Kata sandi sekarang salah."))
    if errors:
        raise ValidationError("Kata sandi belum diganti.", errors)
    new_hash = _hash(new)
    with db.begin() as conn:
        at = now()
        user_store.replace_password(conn, row["id"], new_hash, at=at, one_time=False)
        ended = user_store.end_sessions(conn, row["id"], at, "sandi_diganti", keep_hash=keep_session)
        audit.record(
            conn,
            actor,
            AuditAction.USER_PASSWORD_CHANGE,
            "user",
            row["id"],
            area_code=row["area_code"],
            detail={"sessions_ended": ended},
        )
    return ended


def set_password(db: Database, actor: Actor, username: str, new: str, repeat: str) -> None:
    """Whoever runs the server sets an account's password (``tepat user passwd``); every session of it ends."""
    _require_admin(actor)
    errors = _password_errors(new, repeat)
    if errors:
        raise ValidationError("Kata sandi belum diganti.", errors)
    new_hash = _hash(new)
    with db.begin() as conn:
        row = _visible_account(conn, actor, username)
        at = now()
        user_store.replace_password(conn, row["id"], new_hash, at=at, one_time=False)
        ended = user_store.end_sessions(conn, row["id"], at, "sandi_diganti")
        audit.record(
            conn,
            actor,
            AuditAction.USER_PASSWORD_SET,
            "user",
            row["id"],
            area_code=row["area_code"],
            detail={"username": row["username"], "sessions_ended": ended},
        )


def one_time_password() -> str:
    """Twelve letters and digits in three groups, easy to read out: ``k7mq-2xra-9fpt``."""
    chars = "".join(secrets.choice(_ONE_TIME_ALPHABET) for _ in range(12))
    return "-".join(chars[i : i + 4] for i in range(0, 12, 4))


def reset_password(db: Database, actor: Actor, username: str, *, remove_second_factor: bool = False) -> str:
    """An admin gives an account a one-time password (returned once, stored hashed) that must be replaced at the
    next login; every session of the account ends. ``remove_second_factor`` also switches off its authenticator
    code (a lost phone)."""
    if actor.may(Permission.MANAGE_USERS) and actor.username == username.strip().lower():
        raise PermissionDenied("Ganti kata sandi Anda sendiri di halaman Akun.")
    password = one_time_password()
    new_hash = _hash(password)
    with db.begin() as conn:
        row = _visible_account(conn, actor, username)
        if not row["active"]:
            raise StateError(f"Akun {row['username']} nonaktif.")
        at = now()
        user_store.replace_password(conn, row["id"], new_hash, at=at, one_time=True)
        if remove_second_factor:
            user_store.set_totp(conn, row["id"], None, None)
        ended = user_store.end_sessions(conn, row["id"], at, "sandi_direset")
        audit.record(
            conn,
            actor,
            AuditAction.USER_PASSWORD_RESET,
            "user",
            row["id"],
            area_code=row["area_code"],
            detail={
                "username": row["username"],
                "sessions_ended": ended,
                "second_factor_removed": remove_second_factor,
            },
        )
    return password


def end_sessions(db: Database, actor: Actor, username: str) -> int:
    """An admin signs an account out everywhere at once (a lost laptop, a suspicious login); returns how many."""
    with db.begin() as conn:
        row = _visible_account(conn, actor, username)
        ended = user_store.end_sessions(conn, row["id"], now(), "dicabut")
        audit.record(
            conn,
            actor,
            AuditAction.USER_SESSIONS_END,
            "user",
            row["id"],
            area_code=row["area_code"],
            detail={"username": row["username"], "sessions_ended": ended},
        )
    return ended


def deactivate_user(db: Database, actor: Actor, username: str) -> None:
    """Switch an account off, end its sessions and revoke its API tokens (the row stays for the audit trail)."""
    _require_admin(actor)
    with db.begin() as conn:
        row = user_store.by_username(conn, username.strip().lower())
        if row is None or not actor.in_area(row["area_code"]):
            raise NotFound(f"Akun {username!r} tidak ditemukan.")
        at = now()
        user_store.set_active(conn, row["id"], False)
        revoked = user_store.revoke_tokens(conn, row["id"], at)
        ended = user_store.end_sessions(conn, row["id"], at, "akun_nonaktif")
        audit.record(
            conn,
            actor,
            AuditAction.USER_DEACTIVATE,
            "user",
            row["id"],
            area_code=row["area_code"],
            detail={"username": row["username"], "tokens_revoked": revoked, "sessions_ended": ended},
        )


def list_users(db: Database, actor: Actor) -> list[UserInfo]:
    """Accounts inside the actor's area (admins only)."""
    _require_admin(actor)
    with db.read() as conn:
        return [_info(r) for r in user_store.all_users(conn) if actor.in_area(r["area_code"])]
