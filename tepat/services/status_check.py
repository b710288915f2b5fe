"""The public status check: NIK + birth date → masked name, kelurahan, registry status, desil, programmes.

The birth date is the second factor (the NIK alone is printed on many
documents; the birth date is in the NIK only as day/month/two-digit year, and
the check compares the full date). Whatever the input, the same work is done:
one keyed hash of the NIK, one lookup (person, family and desil in one
statement), one constant-time comparison, one log row; a miss returns an
answer with exactly the same fields, all empty, and a message that does not
say whether the NIK exists. The web layer adds a fixed minimum response time
on top.

Rate limits go through a ``Limiter``: in this process by default, or the
file shared by every worker process (``tepat.store.rate_limits``) in the web
app. Programme status comes from the hook ``programmes_for`` below, called
once per matched check.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from tepat.domain.formatting import local_time
from tepat.domain.masking import mask_name
from tepat.domain.nik import mask_nik
from tepat.domain.throttle import Limit, Limiter, LocalLimiter
from tepat.domain.validation import parse_date
from tepat.errors import FieldError, TepatError, ValidationError
from tepat.store import programme_status
from tepat.store import status_checks as store
from tepat.store.database import Database
from tepat.store.engine import now

CLIENT_LIMIT = Limit.per(10, 60.0)  # a household sharing a phone can check everyone, a script cannot sweep
NIK_LIMIT = Limit.per(5, 3600.0)  # guessing one person's birth date is capped at a few tries an hour
NOT_AVAILABLE = "belum ada"
_DECOY_NAME = "XXXXXXXXXX XXXXXXX"
_DECOY_BIRTH = "0000-00-00"
_DECOY_KELURAHAN = "32.75.01.1001"


class TooManyAttempts(TepatError):
    """Too many status checks from one client or for one NIK: try again later."""

    status_code = 429

    def __init__(self, retry_after: float) -> None:
        minutes = max(1, round(retry_after / 60))
        super().__init__(f"Terlalu banyak percobaan. Coba lagi dalam {minutes} menit.")
        self.retry_after = retry_after


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
        return {"ditemukan": self.found, "nama": self.masked_name, "kelurahan": self.kelurahan,
                "kecamatan": self.kecamatan, "status_registri": self.registry_status,
                "verifikasi": self.verification, "desil": self.desil,
                "program": [{"program": p.programme, "status": p.status, "periode": p.period} for p in self.programmes],
                "langkah": list(self.next_steps), "pesan": self.message}


# ----------------------------------------------------------------- desil and the programmes hook


def desil_label(desil: int | None) -> str:
    """The family's desil in the latest ranking (fetched with the person); "belum ada" before any ranking."""
    return f"Desil {desil}" if desil is not None else NOT_AVAILABLE


def programmes_for(conn: sa.Connection, family_id: int, member_id: int) -> list[ProgrammeStatus]:
    """Each programme of this person or their family in a frozen cycle, latest per programme (one indexed query)."""
    today = local_time(now()).date()
    return [ProgrammeStatus(**p) for p in programme_status.programmes_for_person(conn, family_id, member_id, today)]


# ----------------------------------------------------------------- the check


def keyed_hash(secret_key: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of a value under the secret key (hex): stored instead of the value itself."""
    return hmac.new(secret_key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _clean_nik(raw: str) -> str:
    nik = "".join(raw.split())
    if len(nik) != 16 or not nik.isdigit():
        raise ValidationError("NIK harus 16 angka", [FieldError("nik", "NIK harus 16 angka (lihat KTP atau KK)")])
    return nik


def _clean_birth(raw: str | date) -> str:
    if isinstance(raw, date):
        return raw.isoformat()
    try:
        return parse_date(raw.strip()).isoformat()
    except (ValueError, AttributeError):
        raise ValidationError("Tanggal lahir tidak dikenali",
                              [FieldError("tanggal_lahir", "Tulis tanggal lahir seperti 17-08-1980")]) from None


_REGISTRY_LABELS = {"aktif": "Terdaftar (aktif)", "nonaktif": "Tidak aktif"}
_VERIFICATION_LABELS = {"belum": "Belum diverifikasi", "terverifikasi": "Terverifikasi", "ditolak": "Tidak lolos verifikasi"}


_GENERAL_STEP = ("Informasi program bantuan dan jadwal penyalurannya diumumkan Dinas Sosial Kota Bekasi; "
                 "petugas tidak pernah meminta bayaran.")


def _steps(active: bool, kelurahan: str) -> list[str]:
    # Always three steps, like the not-found answer: the page has the same structure for every outcome.
    if active:
        return [
            (f"Bila data Anda tidak sesuai (alamat, anggota keluarga, kondisi rumah), datangi Kantor Kelurahan {kelurahan} "
             "dengan membawa KK dan KTP, atau sampaikan pengaduan di /layanan/pengaduan."),
            "Bila Anda mengetahui penerima bantuan di kelurahan Anda yang tidak layak, ajukan sanggah di /layanan/sanggah.",
            _GENERAL_STEP,
        ]
    return [
        (f"Data Anda tidak aktif. Bila keluarga Anda layak dibantu, ajukan usul melalui Ketua RT/RW, "
         f"Kantor Kelurahan {kelurahan}, atau di /layanan/usul."),
        "Bila menurut Anda status ini keliru, sampaikan pengaduan di /layanan/pengaduan.",
        _GENERAL_STEP,
    ]


_NOT_FOUND_STEPS = [
    ("Bila keluarga Anda layak dibantu tetapi belum terdaftar, ajukan usul melalui Ketua RT/RW, kantor kelurahan, "
     "atau di /layanan/usul."),
    "Untuk bantuan lain, datangi kantor kelurahan atau Dinas Sosial Kota Bekasi, atau sampaikan pengaduan di /layanan/pengaduan.",
    "Periksa kembali NIK dan tanggal lahir sesuai KTP atau KK.",
]
_NOT_FOUND_MESSAGE = "Data tidak ditemukan, atau tanggal lahir tidak cocok dengan NIK tersebut."


class StatusChecker:
    """Answers status checks over one database; rate limits through ``limiter`` (this process's memory by default).

    ``runs_inline`` tells the web layer that a check may run on its event loop:
    on SQLite the lookup is a local B-tree probe of a few microseconds, cheaper
    than handing the call to a thread; on PostgreSQL it is a network round
    trip, so it goes to the thread pool.
    """

    def __init__(self, db: Database, secret_key: str, *, clock: Callable[[], float] = time.time,
                 client_limit: Limit = CLIENT_LIMIT, nik_limit: Limit = NIK_LIMIT, limiter: Limiter | None = None,
                 log_batch: int = 1, log_max_delay: float = 0.5, log_in_background: bool = False) -> None:
        self.db = db
        self.secret_key = secret_key
        self.clock = clock  # wall-clock seconds: buckets in a shared file outlive one process's monotonic clock
        self.client_limit = client_limit
        self.nik_limit = nik_limit
        self.limiter: Limiter = limiter if limiter is not None else LocalLimiter()
        self.reader = store.lookup_engine(db.engine)
        self.lookup = store.PersonLookup(self.reader.dialect)
        self.runs_inline = db.dialect == "sqlite"
        # Under load the log is written in small batches (at most ``log_max_delay`` late) instead of one
        # write transaction per check: on SQLite, one writer at a time would otherwise queue every check.
        # ``log_in_background``: the caller never waits for the writer lock (the web app's event loop): a full
        # batch is written at once only if the lock is free (SQLite), otherwise by the flusher thread.
        self.log_batch = log_batch
        self.log_max_delay = log_max_delay
        self._pending: list[dict[str, Any]] = []
        self._pending_since = 0.0
        self._log_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event() if log_in_background else None
        self._flusher: threading.Thread | None = None
        if log_batch > 1 or log_in_background:
            self._flusher = threading.Thread(target=_flush_periodically, args=(weakref.ref(self),), daemon=True,
                                             name="status-check-log")
            self._flusher.start()

    def _log(self, nik: str, nik_hash: str, client_hash: str, channel: str, outcome: str) -> None:
        row = {"at": now(), "nik_hash": nik_hash, "nik_masked": mask_nik(nik), "client_hash": client_hash,
               "channel": channel, "outcome": outcome}
        with self._log_lock:
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.append(row)
            due = len(self._pending) >= self.log_batch
        if due:
            if self._wake is None:
                self.flush()
            elif not (self.runs_inline and self._flush_without_waiting()):
                self._wake.set()

    def _flush_without_waiting(self) -> bool:
        """On the event loop (SQLite): write the batch now if the writer lock is free, else leave it to the thread.

        Writing here costs about 10 µs a row; handing every batch to the
        flusher thread costs more, because the thread and the event loop then
        pass the interpreter lock back and forth for every row.
        """
        if not self._flush_lock.acquire(blocking=False):
            return False
        try:
            with self._log_lock:
                rows, self._pending = self._pending, []
            try:
                if not rows or store.insert_many_if_free(self.db.engine, rows):
                    return True
            except Exception:  # noqa: BLE001 -- a log write never fails a check: the thread retries
                pass
            with self._log_lock:
                self._pending[:0] = rows  # back in front, in order: the thread writes them when it can
            return False
        finally:
            self._flush_lock.release()

    def flush(self) -> None:
        """Write the buffered log rows now."""
        with self._flush_lock:  # batches reach the table in the order they were taken
            with self._log_lock:
                rows, self._pending = self._pending, []
            if rows:
                with self.db.begin() as conn:
                    store.insert_many(conn, rows)

    def _flush_if_due(self) -> None:
        with self._log_lock:
            due = bool(self._pending) and (len(self._pending) >= self.log_batch
                                           or time.monotonic() - self._pending_since >= self.log_max_delay)
        if due:
            self.flush()

    def check(self, nik_raw: str, birth_raw: str | date, *, client: str, channel: str = "web",
              once: tuple[str, float] | None = None) -> StatusAnswer:
        """One status check; raises ``ValidationError`` for a malformed NIK or date, ``TooManyAttempts`` when throttled.

        ``once``: the (nonce, expiry) of the check's anti-abuse question, used up
        in the same step as the rate limits (``ChallengeReused`` the second time).
        """
        nik = _clean_nik(nik_raw)
        birth = _clean_birth(birth_raw)
        nik_hash = keyed_hash(self.secret_key, "nik", nik)
        client_hash = keyed_hash(self.secret_key, "client", client)
        decision = self.limiter.take_all([(self.client_limit, f"klien:{client_hash}"), (self.nik_limit, f"nik:{nik_hash}")],
                                         self.clock(), once)
        if decision is None:
            raise ChallengeReused()
        if not decision.allowed:
            self._log(nik, nik_hash, client_hash, channel, "dibatasi")
            raise TooManyAttempts(decision.retry_after)
        with self.reader.connect() as conn:
            row = self.lookup(conn, nik)
            expected = row["birth_date"].isoformat() if row is not None else _DECOY_BIRTH
            # Constant-time comparison, and the decoy path does the same formatting work as a hit.
            matched = hmac.compare_digest(expected.encode(), birth.encode()) and row is not None
            source = row if row is not None else _DECOY
            answer = self._answer(conn, source, matched)
        self._log(nik, nik_hash, client_hash, channel, "cocok" if matched else "tidak_cocok")
        return answer

    def _answer(self, conn: sa.Connection, row: dict[str, Any], matched: bool) -> StatusAnswer:
        masked = mask_name(row["name"])
        kelurahan = self.db.regions.name(row["kelurahan_code"])
        kecamatan = self.db.regions.name(row["kecamatan_code"])
        programmes = programmes_for(conn, row["family_id"], row["member_id"])  # the same work whatever the outcome
        if not matched:
            return StatusAnswer(found=False, masked_name=None, kelurahan=None, kecamatan=None, registry_status=None,
                                verification=None, desil=None, programmes=[], next_steps=list(_NOT_FOUND_STEPS),
                                message=_NOT_FOUND_MESSAGE)
        active = row["member_status"] == "aktif" and row["registry_status"] == "aktif"
        verification = _VERIFICATION_LABELS.get(row["verification_status"], row["verification_status"])
        if row.get("verified_on"):
            verification += f" ({row['verified_on']:%d-%m-%Y})"
        return StatusAnswer(
            found=True, masked_name=masked, kelurahan=kelurahan, kecamatan=kecamatan,
            registry_status=_REGISTRY_LABELS["aktif" if active else "nonaktif"], verification=verification,
            desil=desil_label(row["desil"]), programmes=programmes, next_steps=_steps(active, kelurahan),
            message="Data ditemukan." if active else "Data ditemukan, tetapi tidak aktif dalam registri.",
        )


_DECOY = {"name": _DECOY_NAME, "kelurahan_code": _DECOY_KELURAHAN, "kecamatan_code": _DECOY_KELURAHAN[:8],
          "family_id": 0, "member_id": 0, "desil": None}


def _flush_periodically(ref: weakref.ref[StatusChecker]) -> None:
    """The flusher thread: writes a batch when it is full or ``log_max_delay`` old; ends with its checker."""
    while (checker := ref()) is not None:
        wake, delay = checker._wake, checker.log_max_delay / 2
        try:
            checker._flush_if_due()
        except Exception:  # noqa: BLE001 -- keep flushing; the next batch retries the database
            time.sleep(checker.log_max_delay)
        del checker
        if wake is not None:
            wake.wait(delay)
            wake.clear()
        else:
            time.sleep(delay)

