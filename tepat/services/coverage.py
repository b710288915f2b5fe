"""Health coverage for facilities: API keys for hospitals and puskesmas, and the check by NIK.

A facility (RSUD, puskesmas, klinik) is registered by an admin and receives an
API key, shown once; only its SHA-256 is stored, with the first characters to
recognise it in lists. The facility asks whether a NIK is covered by a service
(``layanan``) programme such as Kartu Sehat / LKM-NIK today. The answer says
yes or no, the programme, until when, the care class, and at most a masked
name — nothing else about the person (UU 27/2022: only what the purpose needs).
"Until when" is ``tepat.domain.coverage``'s rule (the cycle's start plus the
snapshot's ``coverage_months``), the same the resident's status check shows.
Every check is logged with a keyed hash of the NIK, never the NIK itself.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.domain.coverage import ServiceCycle, covering_cycle
from tepat.domain.formatting import TIMEZONE
from tepat.domain.masking import mask_name
from tepat.domain.nik import Nik
from tepat.domain.throttle import Limit, Limiter, LocalLimiter
from tepat.errors import (
    AuthenticationFailed,
    FieldError,
    NotFound,
    PermissionDenied,
    Throttled,
    ValidationError,
)
from tepat.services.status_check import keyed_hash
from tepat.store import audit
from tepat.store import facilities as store
from tepat.store.database import Database
from tepat.store.engine import now

KEY_PREFIX = "fas_"
KINDS = {"rsud": "RSUD", "puskesmas": "Puskesmas", "klinik": "Klinik"}
CARE_CLASS = "III"
"""Kartu Sehat Berbasis NIK pays for class-III care (docs/programmes.md)."""
KEY_LIMIT = Limit.per(120, 60.0)
"""Per key: a busy registration desk checks a patient every few seconds; a script sweeping NIKs is stopped."""
_KEY_NEEDED = "Kunci API fasilitas diperlukan: kirim header 'X-API-Key'."
_KEY_UNKNOWN = "Kunci API fasilitas tidak dikenal atau sudah dicabut."
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,19}$")


class TooManyChecks(Throttled):
    """The facility's key asked too often: try again shortly."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            f"Terlalu banyak permintaan dengan kunci ini. Coba lagi dalam {max(1, round(retry_after))} detik.",
            retry_after,
        )


def hash_key(key: str) -> str:
    """The stored form of a facility's API key."""
    return hashlib.sha256(key.strip().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    """A registered facility and its key: ``key`` is the only time the secret is visible."""

    facility_id: int
    code: str
    name: str
    key: str

    def as_dict(self) -> dict[str, object]:
        return {"id": self.facility_id, "kode": self.code, "nama": self.name, "kunci_api": self.key}


def _require_admin(actor: Actor) -> None:
    if not actor.may(Permission.MANAGE_FACILITIES):
        raise PermissionDenied("Hanya Admin Dinsos yang mengelola fasilitas kesehatan.")


def register_facility(db: Database, actor: Actor, *, code: str, name: str, kind: str) -> IssuedKey:
    """Register a facility and issue its API key (returned once, stored hashed); audited."""
    _require_admin(actor)
    code, name, kind = code.strip().upper(), " ".join(name.split()), kind.strip().lower()
    problems = []
    if not _CODE.match(code):
        problems.append(FieldError("kode", "Kode 2–20 huruf besar, angka atau tanda hubung", code))
    if not 3 <= len(name) <= 120:
        problems.append(FieldError("nama", "Nama fasilitas 3–120 huruf", name))
    if kind not in KINDS:
        problems.append(FieldError("jenis", "Jenis harus rsud, puskesmas atau klinik", kind))
    if problems:
        raise ValidationError("Data fasilitas belum benar", problems)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with db.begin() as conn:
        if store.by_code(conn, code) is not None:
            raise ValidationError(
                "Kode fasilitas sudah dipakai", [FieldError("kode", "Kode sudah dipakai", code)]
            )
        facility_id = store.insert(
            conn,
            {
                "code": code,
                "name": name,
                "kind": kind,
                "key_hash": hash_key(key),
                "key_prefix": key[:12],
                "active": True,
                "created_by": actor.username,
                "created_at": now(),
            },
        )
        audit.record(
            conn,
            actor,
            AuditAction.FACILITY_REGISTER,
            "facilities",
            facility_id,
            detail={"code": code, "name": name, "kind": kind, "key_prefix": key[:12]},
        )
    return IssuedKey(facility_id, code, name, key)


def revoke_facility(db: Database, actor: Actor, code: str) -> dict[str, Any]:
    """Switch a facility's key off for good (a new key means registering again under a new code); audited."""
    _require_admin(actor)
    with db.begin() as conn:
        found = store.by_code(conn, code.strip().upper())
        if found is None:
            raise NotFound("Fasilitas tidak ditemukan.")
        if not store.revoke(conn, found["id"], now()):
            raise ValidationError("Kunci fasilitas ini sudah dicabut.")
        audit.record(
            conn,
            actor,
            AuditAction.FACILITY_REVOKE,
            "facilities",
            found["id"],
            detail={"code": found["code"]},
        )
    return {"id": found["id"], "kode": found["code"], "nama": found["name"]}


def list_facilities(db: Database, actor: Actor, *, days: int = 30) -> list[dict[str, Any]]:
    """Every facility with its checks in the last ``days`` days (admins only)."""
    _require_admin(actor)
    with db.read() as conn:
        rows = store.list_all(conn, now() - timedelta(days=days))
    for r in rows:
        r["kind_label"] = KINDS.get(r["kind"], r["kind"])
        r["checks"], r["covered"] = int(r["checks"]), int(r["covered"] or 0)
    return rows


@dataclass(frozen=True)
class CoverageAnswer:
    """What a facility learns: covered or not, programme, until when, class, masked name."""

    covered: bool
    programme: str | None
    valid_until: date | None
    care_class: str | None
    masked_name: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "tercakup": self.covered,
            "program": self.programme,
            "berlaku_sampai": self.valid_until.isoformat() if self.valid_until else None,
            "kelas": self.care_class,
            "nama": self.masked_name,
        }


class CoverageChecker:
    """Answers checks for facilities; holds the per-key rate limit (one per application)."""

    def __init__(
        self,
        db: Database,
        secret_key: str,
        *,
        limit: Limit = KEY_LIMIT,
        limiter: Limiter | None = None,
        clock: Callable[[], float] = time.time,
        today: Callable[[], date] | None = None,
    ) -> None:
        self.db = db
        self.secret_key = secret_key
        self.limit = limit
        # In this process by default; the web app passes the file every worker shares, so N workers
        # do not multiply a key's allowance. Wall-clock seconds: shared buckets outlive a process.
        self.limiter: Limiter = limiter or LocalLimiter()
        self.clock = clock
        self.today = today or (lambda: datetime.now(TIMEZONE).date())

    def facility_for_key(self, key: str | None, conn: Any = None) -> dict[str, Any]:
        """The active facility holding ``key``; 401 when it is missing, unknown or revoked."""
        if not key or not key.strip():
            raise AuthenticationFailed(_KEY_NEEDED)
        if conn is None:
            with self.db.read() as own:
                found = store.active_by_key_hash(own, hash_key(key))
        else:
            found = store.active_by_key_hash(conn, hash_key(key))
        if found is None:
            raise AuthenticationFailed(_KEY_UNKNOWN)
        return found

    def check(self, key: str | None, nik_raw: str) -> CoverageAnswer:
        """One check: authenticate the key, spend a token of its limit, look up, log the keyed hash.

        Key, lookup and log share one transaction (one connection, one commit):
        the log row must be written anyway, and a second round trip doubled the
        cost of a check. A key that cannot be ours never reaches the database.
        """
        if not key or not key.strip():
            raise AuthenticationFailed(_KEY_NEEDED)
        if not key.strip().startswith(KEY_PREFIX):
            raise AuthenticationFailed(_KEY_UNKNOWN)
        with self.db.begin() as conn:
            facility = self.facility_for_key(key, conn)
            decision = self.limiter.take_all([(self.limit, f"fasilitas:{facility['id']}")], self.clock())
            if decision is None or not decision.allowed:
                raise TooManyChecks(decision.retry_after if decision else 60.0)
            nik = Nik.typed(nik_raw).digits  # after the limit: a malformed NIK is an attempt too
            today = self.today()
            rows = store.service_cycles(conn, nik, today)
            cycles = [
                ServiceCycle(
                    r["programme"],
                    r["cycle_id"],
                    r["period_start"],
                    r["period_end"],
                    r["coverage_months"],
                    r["state"],
                )
                for r in rows
            ]
            found = covering_cycle(cycles, today)
            store.record_check(
                conn, facility["id"], keyed_hash(self.secret_key, "nik", nik), found is not None, now()
            )
        if found is None:
            return CoverageAnswer(False, None, None, None, None)
        name = rows[cycles.index(found)]["name"]  # the person the covering row belongs to
        return CoverageAnswer(True, found.programme, found.end, CARE_CLASS, mask_name(name))
