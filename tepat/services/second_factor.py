"""A second factor for the accounts that approve and pay: a six-digit code from an authenticator app (TOTP,
RFC 6238, via ``pyotp``), shown as a QR code (``segno``) when it is switched on.

It is optional and offered to admins and keuangan (finance), whose sign-off
moves money. Switching it on takes one code from the app, so a secret that
never reached the phone cannot lock the account; each code is accepted once
(the step it belongs to is recorded in the same statement that checks it).
An admin's password reset can remove it when the phone is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.errors import FieldError, NotFound, PermissionDenied, StateError, ValidationError
from tepat.store import audit
from tepat.store import users as user_store
from tepat.store.database import Database
from tepat.store.engine import now

ISSUER = "tepat"
DRIFT_STEPS = 1  # a code from the step before or after is accepted too (phone clocks drift)
WRONG_CODE = "Kode verifikasi salah, kedaluwarsa, atau sudah dipakai."


@dataclass(frozen=True)
class Enrolment:
    """A new secret to put in an authenticator app: typed (``secret``) or scanned (``qr_data_uri``)."""

    secret: str
    uri: str
    qr_data_uri: str


def offered_to(actor: Actor) -> bool:
    """Whether the actor's role may switch the second factor on."""
    return actor.may(Permission.SECOND_FACTOR)


def new_enrolment(actor: Actor) -> Enrolment:
    """A fresh secret for ``actor`` (nothing is stored until a code from it is confirmed)."""
    if not offered_to(actor):
        raise PermissionDenied("Verifikasi dua langkah tersedia untuk Admin Dinsos dan Keuangan.")
    return enrolment_of(actor, pyotp.random_base32())


def enrolment_of(actor: Actor, secret: str) -> Enrolment:
    """The app link and QR code of a secret being set up."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=actor.username, issuer_name=ISSUER)
    return Enrolment(secret=secret, uri=uri, qr_data_uri=segno.make(uri, error="m").svg_data_uri(scale=5))


def _matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The 30-second step whose code is ``code`` (this one or a neighbour), or ``None``."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    here = totp.timecode(at)
    for step in range(here - DRIFT_STEPS, here + DRIFT_STEPS + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def enable(db: Database, actor: Actor, secret: str, code: str) -> None:
    """Switch the second factor on with the secret from ``new_enrolment`` and one code the app shows for it."""
    if not offered_to(actor) or actor.user_id is None:
        raise PermissionDenied("Verifikasi dua langkah tersedia untuk Admin Dinsos dan Keuangan.")
    step = _matching_step(secret, code, now())
    if step is None:
        raise ValidationError("Verifikasi dua langkah belum aktif.", [FieldError("code", WRONG_CODE)])
    with db.begin() as conn:
        row = user_store.by_id(conn, actor.user_id)
        if row is None:
            raise NotFound("Akun tidak ditemukan.")
        if row["totp_secret"] is not None:
            raise StateError("Verifikasi dua langkah sudah aktif.")
        user_store.set_totp(conn, actor.user_id, secret, step)
        audit.record(
            conn, actor, AuditAction.USER_SECOND_FACTOR_ON, "user", actor.user_id, area_code=actor.area_code
        )


def disable(db: Database, actor: Actor, code: str) -> None:
    """Switch one's own second factor off, with a current code (a lost phone: an admin's reset removes it)."""
    if actor.user_id is None or not check(db, actor.user_id, code):
        raise ValidationError("Verifikasi dua langkah masih aktif.", [FieldError("code", WRONG_CODE)])
    with db.begin() as conn:
        user_store.set_totp(conn, actor.user_id, None, None)
        audit.record(
            conn, actor, AuditAction.USER_SECOND_FACTOR_OFF, "user", actor.user_id, area_code=actor.area_code
        )


def check(db: Database, user_id: int, code: str) -> bool:
    """True when ``code`` is the account's current code and was not used before (it is used up now)."""
    with db.begin() as conn:
        row = user_store.by_id(conn, user_id)
        if row is None or row["totp_secret"] is None:
            return False
        step = _matching_step(row["totp_secret"], code, now())
        return step is not None and user_store.use_totp_step(conn, user_id, step)
