"""The public status check: NIK + a second factor → masked name, kelurahan, registry status, desil, programmes.

The second factor is what the office chooses (``TEPAT_STATUS_CHECK_FACTOR``):
the **nomor KK** (default; printed on the family card, not derivable from the
NIK) or the **name as written on the KK**. The birth date is no factor: it is
written inside the NIK. Whatever the input, the same work is done: one keyed
hash of the NIK, one lookup (person, family and desil in one statement), one
constant-time comparison, one log row; a miss — an unknown NIK or a wrong second
factor — returns an answer with exactly the same fields, all empty, and a
message that does not say which. The web layer adds a fixed minimum response
time on top.

Limits go through a ``Limiter`` (this process's memory by default, the file
shared by every worker process in the web app): a bucket for the whole service
(``TEPAT_STATUS_CHECKS_PER_MINUTE``: above it the answer is *sedang ramai*, 503),
one per client address and one per NIK. The anti-abuse question's token is spent
by any answer, a malformed one included. Programme status comes from the hook
``programmes_for`` below, called once per check.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from tepat.domain.formatting import local_time
from tepat.domain.households import RegistryStatus
from tepat.domain.masking import mask_name
from tepat.domain.nik import Kk, Nik, mask_nik
from tepat.domain.programmes import member_rule_as_rule
from tepat.domain.resident_reasons import unmet_conditions
from tepat.domain.rule_ast import Rule
from tepat.domain.rule_explain import family_facts
from tepat.domain.rules import parse_rule
from tepat.domain.throttle import Decision, Limit, Limiter, LocalLimiter, Once
from tepat.errors import Busy, FieldError, TepatError, Throttled, ValidationError
from tepat.store import families as family_store
from tepat.store import programme_status
from tepat.store import programmes as programme_store
from tepat.store import status_checks as store
from tepat.store.buffered import BufferedWriter, WhenFull
from tepat.store.database import Database
from tepat.store.engine import now

CLIENT_LIMIT = Limit.per(10, 60.0)  # a household sharing a phone can check everyone, a script cannot sweep
NIK_LIMIT = Limit.per(5, 3600.0)  # guessing one person's second factor is capped at a few tries an hour
GLOBAL_KEY = "semua"
FACTORS = ("kk", "nama")
NOT_AVAILABLE = "belum ada"
_DECOY_NAME = "XXXXXXXXXX XXXXXXX"
_DECOY_SECOND = "\x00" * 16  # matches no typed KK number or name
_DECOY_KELURAHAN = "00.00.00.0000"  # no region has it: looked up like a real one, named by its code


class TooManyAttempts(Throttled):
    """Too many status checks from one client or for one NIK: try again later."""

    def __init__(self, retry_after: float) -> None:
        minutes = max(1, round(retry_after / 60))
        super().__init__(f"Terlalu banyak percobaan. Coba lagi dalam {minutes} menit.", retry_after)


class ServiceBusy(Busy):
    """More checks this minute than the service takes (for everyone): come back in a few minutes."""

    def __init__(self, retry_after: float) -> None:
        minutes = max(1, round(retry_after / 60))
        super().__init__(
            f"Layanan cek status sedang ramai. Silakan coba lagi dalam {minutes} menit.", retry_after
        )


class ChallengeReused(TepatError):
    """The anti-abuse question of this check was already answered once (by any worker): ask a new one."""

    status_code = 400

    def __init__(self) -> None:
        super().__init__("Soal pengaman sudah dipakai. Jawab soal yang baru.")


@dataclass(frozen=True)
class ProgrammeStatus:
    """One programme as the resident sees it: name, status and period."""

    programme: str
    status: str
    period: str
    reasons: tuple[str, ...] = ()  # for a programme the family is not in: the conditions it does not meet


@dataclass(frozen=True)
class StatusAnswer:
    """The answer to one check; every field is present whether or not the person was found."""

    found: bool
    masked_name: str | None
    kelurahan: str | None
    kecamatan: str | None
    registry_status: str | None
    verification: str | None
    desil: str | None
    programmes: list[ProgrammeStatus] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    message: str = ""

    def as_public_dict(self) -> dict[str, Any]:
        """The JSON answer: the same keys in the same order for every outcome."""
        return {
            "ditemukan": self.found,
            "nama": self.masked_name,
            "kelurahan": self.kelurahan,
            "kecamatan": self.kecamatan,
            "status_registri": self.registry_status,
            "verifikasi": self.verification,
            "desil": self.desil,
            "program": [
                {"program": p.programme, "status": p.status, "periode": p.period, "alasan": list(p.reasons)}
                for p in self.programmes
            ],
            "langkah": list(self.next_steps),
            "pesan": self.message,
        }


# ----------------------------------------------------------------- desil and the programmes hook


def desil_label(desil: int | None) -> str:
    """The family's desil in the latest ranking (fetched with the person); "belum ada" before any ranking."""
    return f"Desil {desil}" if desil is not None else NOT_AVAILABLE


NOT_ASSESSED = "Belum dinilai (keluarga belum masuk peringkat kesejahteraan)"
ELIGIBLE_WAITING = "Memenuhi syarat, belum masuk daftar penerima yang disetujui"
NOT_ELIGIBLE = "Tidak memenuhi syarat"
PROGRAMMES_FOR_SECONDS = 60.0  # the open programmes and their parsed rules are read again after this


@dataclass(frozen=True)
class OpenProgramme:
    """A programme an office runs now, with its rules parsed once."""

    office_code: str  # whose catalogue: only that office's families are assessed against it
    name: str
    unit: str
    rule: Rule
    member_rule: Rule | None

    @property
    def needs_members(self) -> bool:
        return self.member_rule is not None or self.rule.uses_members()


def open_programmes(conn: sa.Connection) -> list[OpenProgramme]:
    """Every office's active programmes (those it publishes as open), rules parsed; a rule that no longer parses
    is left out (its programme page says so), never an error for a resident."""
    found = []
    for p in programme_store.list_all(conn, active_only=True):
        try:
            rule = parse_rule(p["rule"] or "true")
            member = (
                member_rule_as_rule(p["member_rule"] or "hidup and aktif") if p["unit"] == "orang" else None
            )
        except ValidationError:
            continue
        found.append(
            OpenProgramme(p["office_code"], p["name"], p["unit"], rule, member)
        )  # named as the enrolled ones are
    return found


def assessed(
    open_: list[OpenProgramme],
    enrolled: list[ProgrammeStatus],
    family: Mapping[str, Any] | None,
    people: Sequence[Mapping[str, Any]],
    member_id: int,
    today: date,
) -> list[ProgrammeStatus]:
    """The person's programmes: those they (or their family) are in, then every other open programme with
    "memenuhi syarat", "tidak memenuhi syarat" and the conditions not met, or "belum dinilai"."""
    shown = list(enrolled)
    names = {p.programme for p in enrolled}
    if family is None:
        return shown
    person = [m for m in people if int(m["id"]) == member_id]
    for programme in open_:
        if programme.name in names:
            continue
        if programme.rule.uses_scores() and family.get("desil") is None:
            shown.append(ProgrammeStatus(programme.name, NOT_ASSESSED, ""))
            continue
        reasons = unmet_conditions(programme.rule, family, people, today)
        if not reasons and programme.member_rule is not None:
            reasons = unmet_conditions(programme.member_rule, family, person, today)
        shown.append(
            ProgrammeStatus(programme.name, NOT_ELIGIBLE if reasons else ELIGIBLE_WAITING, "", tuple(reasons))
        )
    return shown


def programmes_for(conn: sa.Connection, family_id: int, member_id: int) -> list[ProgrammeStatus]:
    """Each programme of this person or their family in a frozen cycle, latest per programme (one indexed query)."""
    today = local_time(now()).date()
    return [
        ProgrammeStatus(p["programme"], p["status"], p["period"])
        for p in programme_status.programmes_for_person(conn, family_id, member_id, today)
    ]


# ----------------------------------------------------------------- the check


def keyed_hash(secret_key: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of a value under the secret key (hex): stored instead of the value itself."""
    return hmac.new(secret_key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def name_key(raw: str) -> str:
    """A name as compared by the check: case, punctuation and spacing do not matter ("Siti  Aminah," = "SITI AMINAH")."""
    return " ".join("".join(ch if ch.isalpha() else " " for ch in raw.casefold()).split())


def _clean_name(raw: str) -> str:
    name = name_key(str(raw))
    if len(name) < 2:
        raise ValidationError(
            "Nama belum diisi", [FieldError("nama", "Tulis nama lengkap seperti tertulis di Kartu Keluarga")]
        )
    return name


def clean_second_factor(factor: str, raw: str) -> str:
    """The typed second factor in the form it is compared in (``ValidationError`` when malformed)."""
    return Kk.typed(raw).digits if factor == "kk" else _clean_name(raw)


def second_factor_of(factor: str, row: dict[str, Any]) -> str:
    """The stored value the typed second factor must equal."""
    return row["kk_number"] if factor == "kk" else name_key(row["name"])


_REGISTRY_LABELS = {RegistryStatus.AKTIF: "Terdaftar (aktif)", RegistryStatus.NONAKTIF: "Tidak aktif"}
_VERIFICATION_LABELS = {
    "belum": "Belum diverifikasi",
    "terverifikasi": "Terverifikasi",
    "ditolak": "Tidak lolos verifikasi",
}


def _general_step(agency: str) -> str:
    return f"Informasi program bantuan dan jadwal penyalurannya diumumkan {agency}; petugas tidak pernah meminta bayaran."


def _steps(active: bool, kelurahan: str, agency: str) -> list[str]:
    # Always three steps, like the not-found answer: the page has the same structure for every outcome.
    if active:
        return [
            (
                f"Bila data Anda tidak sesuai (alamat, anggota keluarga, kondisi rumah), datangi Kantor Kelurahan {kelurahan} "
                "dengan membawa KK dan KTP, atau sampaikan pengaduan di /layanan/pengaduan."
            ),
            "Bila Anda mengetahui penerima bantuan di kelurahan Anda yang tidak layak, ajukan sanggah di /layanan/sanggah.",
            _general_step(agency),
        ]
    return [
        (
            f"Data Anda tidak aktif. Bila keluarga Anda layak dibantu, ajukan usul melalui Ketua RT/RW, "
            f"Kantor Kelurahan {kelurahan}, atau di /layanan/usul."
        ),
        "Bila menurut Anda status ini keliru, sampaikan pengaduan di /layanan/pengaduan.",
        _general_step(agency),
    ]


def _not_found_steps(agency: str) -> list[str]:
    return [
        (
            "Bila keluarga Anda layak dibantu tetapi belum terdaftar, ajukan usul melalui Ketua RT/RW, kantor kelurahan, "
            "atau di /layanan/usul."
        ),
        f"Untuk bantuan lain, datangi kantor kelurahan atau {agency}, atau sampaikan pengaduan di /layanan/pengaduan.",
        "Periksa kembali NIK dan isian kedua sesuai Kartu Keluarga (KK).",
    ]


_NOT_FOUND_MESSAGE = "Data tidak ditemukan, atau isian kedua tidak cocok dengan NIK tersebut."


class StatusChecker:
    """Answers status checks over one database; rate limits through ``limiter`` (this process's memory by default).

    ``runs_inline`` tells the web layer that a check may run on its event loop
    (``check_async``): on SQLite the lookup is a local B-tree probe of a few
    microseconds, cheaper than handing the call to a thread, and the limits are
    awaited (a limiter in Redis through its asyncio client: a Redis that has
    gone away makes that check wait, never the loop). On PostgreSQL the lookup
    is a network round trip, so the whole ``check`` goes to the thread pool.
    """

    def __init__(
        self,
        db: Database,
        secret_key: str,
        *,
        factor: str = "kk",
        clock: Callable[[], float] = time.time,
        client_limit: Limit = CLIENT_LIMIT,
        nik_limit: Limit = NIK_LIMIT,
        per_minute: int = 600,
        limiter: Limiter | None = None,
        log_batch: int = 1,
        log_max_delay: float = 0.5,
        log_in_background: bool = False,
    ) -> None:
        if factor not in FACTORS:
            raise ValueError(f"factor must be one of {FACTORS}")
        self.db = db
        self.secret_key = secret_key
        self._open: tuple[float, list[OpenProgramme]] = (float("-inf"), [])
        self.factor = factor
        self.global_limit = Limit.per(per_minute, 60.0)
        self.clock = (
            clock  # wall-clock seconds: buckets in a shared file outlive one process's monotonic clock
        )
        self.client_limit = client_limit
        self.nik_limit = nik_limit
        self.limiter: Limiter = limiter if limiter is not None else LocalLimiter()
        self.reader = db.read_only
        self.lookup = store.person_for_check
        self.runs_inline = db.dialect == "sqlite"  # the lookup is microseconds; the limits are awaited
        # Under load the log is written in small batches (at most ``log_max_delay`` late) instead of one
        # write transaction per check: on SQLite, one writer at a time would otherwise queue every check.
        # ``log_in_background``: the caller never waits for the writer lock (the web app's event loop): a full
        # batch is written at once only if the lock is free (SQLite), otherwise by the writer's thread.
        if log_in_background:
            when_full = WhenFull.WRITE_IF_FREE if self.runs_inline else WhenFull.LEAVE
        else:
            when_full = WhenFull.WRITE
        self.log_writer = db.own(
            BufferedWriter(
                db.engine,
                store.insert_many,
                name="status-check-log",
                batch=log_batch,
                max_delay=log_max_delay,
                when_full=when_full,
            )
        )

    def _log(self, nik: str, nik_hash: str, client_hash: str, channel: str, outcome: str) -> None:
        self.log_writer.add(
            {
                "at": now(),
                "nik_hash": nik_hash,
                "nik_masked": mask_nik(nik),
                "client_hash": client_hash,
                "channel": channel,
                "outcome": outcome,
            }
        )

    def flush(self) -> None:
        """Write the buffered log rows now."""
        self.log_writer.flush()

    def take(self, client: str, nik_hash: str | None, once: Once | None) -> None:
        """Spend one attempt for the service, the client and (when known) the NIK, and the question's token;
        ``ServiceBusy``, ``TooManyAttempts`` or ``ChallengeReused`` when refused. Every public form that takes a
        NIK goes through here."""
        wanted = self._buckets(client, nik_hash)
        # The service's bucket is spent only by attempts their own buckets allow: one client cannot use it up.
        self._judge(wanted, self.limiter.take_all(wanted, self.clock(), once, then=self._service))

    async def take_async(self, client: str, nik_hash: str | None, once: Once | None) -> None:
        """``take`` awaited on an event loop (the limiter's network round trips do not block it)."""
        wanted = self._buckets(client, nik_hash)
        self._judge(wanted, await self.limiter.take_all_async(wanted, self.clock(), once, then=self._service))

    @property
    def _service(self) -> list[tuple[Limit, str]]:
        return [(self.global_limit, GLOBAL_KEY)]

    def _buckets(self, client: str, nik_hash: str | None) -> list[tuple[Limit, str]]:
        wanted = [(self.client_limit, f"klien:{keyed_hash(self.secret_key, 'client', client)}")]
        if nik_hash is not None:
            wanted.append((self.nik_limit, f"nik:{nik_hash}"))
        return wanted

    @staticmethod
    def _judge(wanted: list[tuple[Limit, str]], decision: Decision | None) -> None:
        if decision is None:
            raise ChallengeReused()
        if not decision.allowed:
            if len(wanted) in decision.refused:
                raise ServiceBusy(decision.retry_after)
            raise TooManyAttempts(decision.retry_after)

    def check(
        self, nik_raw: str, second_raw: str, *, client: str, channel: str = "web", once: Once | None = None
    ) -> StatusAnswer:
        """One status check; raises ``ValidationError`` for a malformed NIK or second factor, ``TooManyAttempts``
        or ``ServiceBusy`` when throttled.

        ``once``: the (nonce, expiry) of the check's anti-abuse question, used up
        in the same step as the rate limits (``ChallengeReused`` the second time) —
        by a malformed answer too.
        """
        try:
            nik, second = self._typed(nik_raw, second_raw)
        except ValidationError:
            self.take(client, None, once)  # the token and the client's budget are spent by any answer
            raise
        nik_hash = keyed_hash(self.secret_key, "nik", nik)
        try:
            self.take(client, nik_hash, once)
        except (TooManyAttempts, ServiceBusy):
            self._log(nik, nik_hash, keyed_hash(self.secret_key, "client", client), channel, "dibatasi")
            raise
        return self._answer_for(nik, nik_hash, second, client, channel)

    async def check_async(
        self, nik_raw: str, second_raw: str, *, client: str, channel: str = "web", once: Once | None = None
    ) -> StatusAnswer:
        """``check`` on an event loop: the limits awaited, the lookup inline (for SQLite, microseconds)."""
        try:
            nik, second = self._typed(nik_raw, second_raw)
        except ValidationError:
            await self.take_async(client, None, once)
            raise
        nik_hash = keyed_hash(self.secret_key, "nik", nik)
        try:
            await self.take_async(client, nik_hash, once)
        except (TooManyAttempts, ServiceBusy):
            self._log(nik, nik_hash, keyed_hash(self.secret_key, "client", client), channel, "dibatasi")
            raise
        return self._answer_for(nik, nik_hash, second, client, channel)

    def _typed(self, nik_raw: str, second_raw: str) -> tuple[str, str]:
        return Nik.typed(nik_raw).digits, clean_second_factor(self.factor, second_raw)

    def _answer_for(self, nik: str, nik_hash: str, second: str, client: str, channel: str) -> StatusAnswer:
        """Look the NIK up and answer, the same work whatever the outcome, and log it."""
        with self.reader.connect() as conn:
            row = self.lookup(conn, nik)
            expected = second_factor_of(self.factor, row) if row is not None else _DECOY_SECOND
            # Constant-time comparison, and the decoy path does the same work as a hit.
            matched = hmac.compare_digest(expected.encode(), second.encode()) and row is not None
            source = row if row is not None else _DECOY
            answer = self._answer(conn, source, matched)
        client_hash = keyed_hash(self.secret_key, "client", client)
        self._log(nik, nik_hash, client_hash, channel, "cocok" if matched else "tidak_cocok")
        return answer

    def _open_programmes(self, conn: sa.Connection) -> list[OpenProgramme]:
        read_at, found = self._open
        if self.clock() - read_at > PROGRAMMES_FOR_SECONDS:
            found = open_programmes(conn)
            self._open = (self.clock(), found)
        return found

    def _answer(self, conn: sa.Connection, row: dict[str, Any], matched: bool) -> StatusAnswer:
        masked = mask_name(row["name"])
        kelurahan = self.db.regions.name(row["kelurahan_code"])
        kecamatan = self.db.regions.name(row["kecamatan_code"])
        programmes = programmes_for(
            conn, row["family_id"], row["member_id"]
        )  # the same work whatever the outcome
        # What the open programmes' rules need, read for every outcome: whether the family and its members are
        # read is decided by every office's open programmes, never by the row's office, so that a NIK of an office
        # without open programmes, one of an office with them, and a number that is nobody's (the decoy) cost the
        # same statements (a stranger timing the answers learns neither that a number exists nor where).
        every_open = self._open_programmes(conn)
        office = self.db.offices.for_area(row["kelurahan_code"])  # the decoy's: the first office
        open_ = [p for p in every_open if p.office_code == office.code]
        family = family_store.get(conn, row["family_id"]) if every_open else None
        needs_members = any(p.needs_members for p in every_open)
        people = (
            family_store.members_of(conn, row["family_id"], include_inactive=False) if needs_members else []
        )
        if not matched:
            return StatusAnswer(
                found=False,
                masked_name=None,
                kelurahan=None,
                kecamatan=None,
                registry_status=None,
                verification=None,
                desil=None,
                programmes=[],
                next_steps=_not_found_steps(self.db.offices.agency),  # the same for every stranger
                message=_NOT_FOUND_MESSAGE,
            )
        active = (
            row["member_status"] == RegistryStatus.AKTIF and row["registry_status"] == RegistryStatus.AKTIF
        )
        if active and family is not None:
            facts = family_facts(family, row.get("desil"), row.get("skor"))
            programmes = assessed(
                open_, programmes, facts, people, int(row["member_id"]), local_time(now()).date()
            )
        verification = _VERIFICATION_LABELS.get(row["verification_status"], row["verification_status"])
        if row.get("verified_on"):
            verification += f" ({row['verified_on']:%d-%m-%Y})"
        return StatusAnswer(
            found=True,
            masked_name=masked,
            kelurahan=kelurahan,
            kecamatan=kecamatan,
            registry_status=_REGISTRY_LABELS[RegistryStatus.AKTIF if active else RegistryStatus.NONAKTIF],
            verification=verification,
            desil=desil_label(row["desil"]),
            programmes=programmes,
            next_steps=_steps(active, kelurahan, self.db.offices.for_area(row["kelurahan_code"]).agency),
            message="Data ditemukan." if active else "Data ditemukan, tetapi tidak aktif dalam registri.",
        )


_DECOY = {
    "name": _DECOY_NAME,
    "kk_number": _DECOY_SECOND,
    "kelurahan_code": _DECOY_KELURAHAN,
    "kecamatan_code": _DECOY_KELURAHAN[:8],
    "family_id": 0,
    "member_id": 0,
    "desil": None,
}
