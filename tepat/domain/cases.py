"""Citizen cases: usul (proposal), sanggah (dispute), pengaduan (complaint).

Each kind is a small state machine (``TRANSITIONS``), with deadlines measured
against a clock the caller passes in, and a public tracking number with a
check character so that a mistyped number is caught before any lookup.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from tepat.domain.records import from_columns
from tepat.domain.regions import parent_of
from tepat.domain.vocabulary import Labelled
from tepat.errors import StateError

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real clock (UTC); tests pass their own."""
    return datetime.now(UTC)


class CaseKind(Labelled):
    USUL = "usul", "Usul"
    SANGGAH = "sanggah", "Sanggah"
    PENGADUAN = "pengaduan", "Pengaduan"


class CaseState(Labelled):
    # usul
    DIAJUKAN = "diajukan", "Diajukan"
    DAFTAR_KELURAHAN = "daftar_kelurahan", "Masuk daftar kelurahan"
    MUSYAWARAH = "musyawarah", "Musyawarah kelurahan"
    VERIFIKASI = "verifikasi", "Verifikasi lapangan"
    PERSETUJUAN = "persetujuan", "Menunggu persetujuan Dinsos"
    MASUK_REGISTRI = "masuk_registri", "Masuk registri"
    DITOLAK = "ditolak", "Ditolak"
    # sanggah and pengaduan
    DITERIMA = "diterima", "Diterima"
    DITANGANI = "ditangani", "Sedang ditangani"
    SELESAI = "selesai", "Selesai"


S = CaseState
TRANSITIONS: dict[CaseKind, dict[CaseState, frozenset[CaseState]]] = {
    CaseKind.USUL: {
        S.DIAJUKAN: frozenset({S.DAFTAR_KELURAHAN, S.DITOLAK}),
        S.DAFTAR_KELURAHAN: frozenset({S.MUSYAWARAH, S.DITOLAK}),
        S.MUSYAWARAH: frozenset({S.VERIFIKASI, S.DITOLAK}),
        S.VERIFIKASI: frozenset({S.PERSETUJUAN, S.DITOLAK}),
        S.PERSETUJUAN: frozenset({S.MASUK_REGISTRI, S.DITOLAK}),
        S.MASUK_REGISTRI: frozenset(),
        S.DITOLAK: frozenset(),
    },
    CaseKind.SANGGAH: {
        S.DITERIMA: frozenset({S.VERIFIKASI, S.SELESAI}),
        S.VERIFIKASI: frozenset({S.SELESAI}),
        S.SELESAI: frozenset(),
    },
    CaseKind.PENGADUAN: {
        S.DITERIMA: frozenset({S.DITANGANI, S.SELESAI}),
        S.DITANGANI: frozenset({S.SELESAI}),
        S.SELESAI: frozenset(),
    },
}
INITIAL = {CaseKind.USUL: S.DIAJUKAN, CaseKind.SANGGAH: S.DITERIMA, CaseKind.PENGADUAN: S.DITERIMA}


class SanggahOutcome(Labelled):
    TETAP = "tetap", "Tetap (data tidak berubah)"  # the recipient stays as recorded
    DIUBAH = "diubah", "Data diubah"  # the recipient's data was corrected
    DIHAPUS = "dihapus", "Dihapus dari daftar"  # the recipient was removed


def is_final(kind: CaseKind, state: CaseState) -> bool:
    """True when no further step is possible."""
    return not TRANSITIONS[kind][state]


def next_states(kind: CaseKind, state: CaseState) -> list[CaseState]:
    """The states a case of this kind may move to from ``state``, in workflow order."""
    order = list(CaseState)
    return sorted(TRANSITIONS[kind].get(state, frozenset()), key=order.index)


def check_transition(kind: CaseKind, state: CaseState, to: CaseState, *, outcome: str | None = None) -> None:
    """Refuse a step the workflow does not allow (``StateError``); a closed sanggah needs an outcome."""
    if to not in TRANSITIONS[kind].get(state, frozenset()):
        raise StateError(f"{kind.label} berstatus '{state.label}' tidak dapat diubah menjadi '{to.label}'")
    if kind is CaseKind.SANGGAH and to is S.SELESAI and outcome not in {o.value for o in SanggahOutcome}:
        raise StateError("Sanggah hanya dapat ditutup dengan hasil: tetap, diubah, atau dihapus")


# ----------------------------------------------------------------- deadlines

SANGGAH_DAYS = 14  # Kemensos: the local government acts on a dispute within 14 days

# Pengaduan service levels in days per category (configurable policy, kept as data).
EVIDENCE_LABELS: dict[str, str] = {
    "foto_rumah": "Foto rumah",
    "foto_kunjungan": "Foto kunjungan",
    "berita_acara": "Berita acara",
    "bukti": "Bukti",
}
"""What an uploaded file of a case is, as pages name it (by the purpose it was uploaded for)."""


def evidence_label(purpose: str) -> str:
    return EVIDENCE_LABELS.get(purpose, purpose.replace("_", " ").capitalize())


def category_label(category: str) -> str:
    """A complaint category as pages name it (``pungutan`` → its label in ``PENGADUAN_CATEGORIES``)."""
    found = PENGADUAN_CATEGORIES.get(category)
    return found[0] if found else category.replace("_", " ")


PENGADUAN_CATEGORIES: dict[str, tuple[str, int]] = {
    "data_salah": ("Data saya salah", 14),
    "tidak_terdaftar": ("Saya layak tetapi belum terdaftar", 14),
    "bantuan_belum_diterima": ("Bantuan belum diterima", 7),
    "pungutan": ("Pungutan liar / pemotongan bantuan", 3),
    "pelayanan": ("Pelayanan petugas", 7),
    "lainnya": ("Lainnya", 14),
}
AT_RISK_SHARE = 0.75  # after three quarters of the time, a ticket is at risk


class SlaState(Labelled):
    ON_TRACK = "sesuai_jadwal", "Sesuai jadwal"
    AT_RISK = "berisiko", "Mendekati batas waktu"
    BREACHED = "terlambat", "Melewati batas waktu"


@dataclass(frozen=True)
class Case:
    """An usul, sanggah or pengaduan as stored (the read model of ``cases``)."""

    id: int
    kind: CaseKind
    tracking_number: str
    state: CaseState
    kelurahan_code: str
    description: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    category: str | None = None
    subject_family_id: int | None = None
    created_family_id: int | None = None
    reporter_name: str | None = None
    reporter_contact: str | None = None
    reporter_nik_hash: str | None = None
    payload: Mapping[str, Any] | None = None
    deadline: datetime | None = None
    assigned_team: str | None = None
    outcome: str | None = None
    resolution: str | None = None
    closed_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any], **extra: Any) -> Case:
        """The case from a row of ``cases`` (and, for a ``ListedCase``, the ``extra`` fields)."""
        return from_columns(cls, row, **extra, kind=CaseKind(row["kind"]), state=CaseState(row["state"]))

    @property
    def state_label(self) -> str:
        return self.state.label

    def as_json(self) -> dict[str, Any]:
        """The case in the vocabulary of the CLI's ``--json`` and the pages' JSON twins (the keyed hash of the
        reporter's NIK stays inside)."""
        return {
            "id": self.id,
            "nomor": self.tracking_number,
            "jenis": self.kind.value,
            "status": self.state.value,
            "kategori": self.category,
            "kode_kelurahan": self.kelurahan_code,
            "keluarga": self.subject_family_id,
            "keluarga_baru": self.created_family_id,
            "pelapor": self.reporter_name,
            "kontak": self.reporter_contact,
            "uraian": self.description,
            "rincian": dict(self.payload) if self.payload is not None else None,
            "batas_waktu": self.deadline.isoformat() if self.deadline else None,
            "tim": self.assigned_team,
            "hasil": self.outcome,
            "penyelesaian": self.resolution,
            "dibuat_oleh": self.created_by,
            "dibuat_pada": self.created_at.isoformat(),
            "ditutup_pada": self.closed_at.isoformat() if self.closed_at else None,
        }


@dataclass(frozen=True)
class ListedCase(Case):
    """A case in a list: with its SLA state as of the listing, whether it is overdue, and its kelurahan's name."""

    sla: SlaState | None = None
    overdue: bool = False
    kelurahan_name: str = ""

    @classmethod
    def of(cls, case: Case, *, sla: SlaState | None, overdue: bool, kelurahan_name: str) -> ListedCase:
        values = {f.name: getattr(case, f.name) for f in fields(Case)}
        return cls(**values, sla=sla, overdue=overdue, kelurahan_name=kelurahan_name)

    def as_json(self) -> dict[str, Any]:
        return {
            **super().as_json(),
            "kelurahan": self.kelurahan_name,
            "sla": self.sla.value if self.sla else None,
            "terlambat": self.overdue,
        }


def deadline_for(kind: CaseKind, opened_at: datetime, category: str | None = None) -> datetime | None:
    """When a case must be closed: 14 days for a sanggah, the category's SLA for a pengaduan, none for usul."""
    if kind is CaseKind.SANGGAH:
        return opened_at + timedelta(days=SANGGAH_DAYS)
    if kind is CaseKind.PENGADUAN:
        days = PENGADUAN_CATEGORIES.get(category or "lainnya", PENGADUAN_CATEGORIES["lainnya"])[1]
        return opened_at + timedelta(days=days)
    return None


def sla_state(
    opened_at: datetime, deadline: datetime | None, at: datetime, closed_at: datetime | None = None
) -> SlaState:
    """On track, at risk (three quarters of the time used) or breached, as of ``at`` (or when it closed)."""
    if deadline is None:
        return SlaState.ON_TRACK
    moment = closed_at if closed_at is not None else at
    if moment > deadline:
        return SlaState.BREACHED
    if closed_at is not None:
        return SlaState.ON_TRACK
    total = (deadline - opened_at).total_seconds()
    used = (moment - opened_at).total_seconds()
    return SlaState.AT_RISK if total > 0 and used / total >= AT_RISK_SHARE else SlaState.ON_TRACK


def is_overdue(deadline: datetime | None, at: datetime, closed: bool) -> bool:
    """An open case past its deadline."""
    return deadline is not None and not closed and at > deadline


def assign_team(category: str | None, kelurahan_code: str) -> str:
    """The team that handles a ticket: money matters go to finance, the rest to the kecamatan's team."""
    if category in ("bantuan_belum_diterima", "pungutan"):
        return "keuangan"
    return "kec-" + (parent_of(kelurahan_code) or kelurahan_code)


# ----------------------------------------------------------------- tracking numbers

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud over the phone
_PREFIX = {CaseKind.USUL: "U", CaseKind.SANGGAH: "S", CaseKind.PENGADUAN: "P"}
_BODY = 8


def check_character(body: str) -> str:
    """Luhn mod 32 over ``ALPHABET``: catches every single wrong character and most swaps of neighbours."""
    n = len(ALPHABET)
    total, factor = 0, 2
    for char in reversed(body):
        addend = factor * ALPHABET.index(char)
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return ALPHABET[(n - total % n) % n]


def new_tracking_number(kind: CaseKind, token: Callable[[int], int] = secrets.randbelow) -> str:
    """A fresh number like ``S-7K3M-9QXP-4`` (random, not sequential: numbers cannot be guessed in order)."""
    body = "".join(ALPHABET[token(len(ALPHABET))] for _ in range(_BODY))
    prefix = _PREFIX[kind]
    return f"{prefix}-{body[:4]}-{body[4:]}-{check_character(prefix + body)}"


def parse_tracking_number(text: str) -> str | None:
    """The canonical form of a typed tracking number, or ``None`` when it cannot be one."""
    raw = "".join(c for c in text.upper() if c.isalnum())
    if len(raw) != 2 + _BODY or raw[0] not in _PREFIX.values():
        return None
    prefix, body, check = raw[0], raw[1:-1], raw[-1]
    if any(c not in ALPHABET for c in body + check) or check_character(prefix + body) != check:
        return None
    return f"{prefix}-{body[:4]}-{body[4:]}-{check}"


def kind_of_tracking_number(number: str) -> CaseKind:
    """Which kind of case a (parsed) tracking number belongs to."""
    return {v: k for k, v in _PREFIX.items()}[number[0]]


@dataclass(frozen=True)
class CaseStep:
    """One state a case went through, for the public tracking page (no names, no notes)."""

    state: CaseState
    at: datetime
