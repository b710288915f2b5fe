"""Training programmes (BLK): a cycle is one batch of seats; each seat is enrolled, attended and finished.

When a training cycle is approved its seats are offered (``terjadwal``). Staff of the
seat's area (Admin Dinsos, operators: ``Actor.can_run_training``) then

* enrol the person (``terdaftar``) or record that they turned the seat down (``dibatalkan``, with a reason);
* record attendance per day of training (present or absent; recording a day again replaces it);
* finish each enrolled seat: ``selesai`` (completed) or ``tidak_lulus`` (with a note).

The cycle closes (``tepat.services.cycles.close``) once every seat is final. Every step is one transaction
with its audit record. Death, deactivation and the other registry reasons block a seat as they block a payment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.domain.cycles import FINAL_ENTITLEMENT_STATES, FROZEN_STATES, Cycle, CycleState
from tepat.domain.entitlements import (
    BlockReason,
    Completion,
    EntitlementState,
    check_cancel_reason,
    completion_of_cycle,
)
from tepat.domain.formatting import local_today, long_date
from tepat.domain.nik import mask_nik
from tepat.errors import FieldError, NotFound, PermissionDenied, StateError, ValidationError
from tepat.store import audit
from tepat.store import cycles as cycle_store
from tepat.store import training as store
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.families import in_area
from tepat.store.schema import entitlements

_NOT_FOUND = "Siklus pelatihan tidak ditemukan."


@dataclass(frozen=True)
class Seat:
    """One seat as the roster shows it."""

    id: int
    name: str
    nik: str  # masked: the roster is for running the class; the full NIK is on the registry page
    kelurahan_code: str
    kelurahan: str
    rt: int
    rw: int
    state: EntitlementState
    attended: int
    recorded: int
    note: str

    @property
    def state_label(self) -> str:
        return self.state.label

    @property
    def final(self) -> bool:
        return self.state.value in FINAL_ENTITLEMENT_STATES


@dataclass(frozen=True)
class Roster:
    """A training cycle's seats in the actor's area, the days recorded, and what may be done now."""

    cycle: Cycle
    seats: list[Seat]
    days: list[date]
    may_act: bool
    counts: dict[str, int] = field(default_factory=dict)
    day: date | None = None
    present: frozenset[int] = frozenset()
    """``day`` asked for, and the seats recorded present on it (to fill the attendance form)."""

    @property
    def open_seats(self) -> int:
        return sum(1 for s in self.seats if not s.final)

    def in_state(self, state: EntitlementState) -> list[Seat]:
        return [s for s in self.seats if s.state is state]


def _training_cycle(conn: Any, cycle_id: int, *, changing: bool) -> Cycle:
    cycle = cycle_store.get_cycle(conn, cycle_id, lock=changing)
    if cycle is None or completion_of_cycle(cycle.programme_snapshot) is not Completion.TRAINING:
        raise NotFound(_NOT_FOUND)
    if cycle.state not in FROZEN_STATES:
        raise StateError("Kursi pelatihan baru dapat dikelola setelah siklus disetujui.")
    if changing and cycle.state == CycleState.DITUTUP:
        raise StateError("Siklus pelatihan ini sudah ditutup: tidak ada yang dapat diubah lagi.")
    return cycle


def _require_reader(actor: Actor) -> None:
    if not actor.may(Permission.READ_PERSONAL):
        raise PermissionDenied("Daftar peserta pelatihan hanya untuk peran yang boleh membaca data pribadi.")


def check_readable(db: Database, actor: Actor, cycle_id: int) -> None:
    """Refuse now what ``roster`` would refuse (role, no such training cycle, not approved), reading no seat."""
    _require_reader(actor)
    with db.read() as conn:
        _training_cycle(conn, cycle_id, changing=False)


def roster(db: Database, actor: Actor, cycle_id: int, day: date | None = None) -> Roster:
    """The seats inside the actor's area (roles that read personal data; the reading is audited), with who was
    recorded present on ``day``."""
    found = read_roster(db, actor, cycle_id, day)
    with db.begin() as conn:
        audit.record(
            conn,
            actor,
            AuditAction.TRAINING_SEAT_LIST,
            "training_seats",
            cycle_id,
            area_code=actor.area_code,
            detail={"rows": len(found.seats)},
        )
    return found


def read_roster(db: Database, actor: Actor, cycle_id: int, day: date | None = None) -> Roster:
    """``roster`` without its audit record, for a caller that audits what it does with the names (the
    attendance sheet records its printing)."""
    _require_reader(actor)
    with db.read() as conn:
        cycle = _training_cycle(conn, cycle_id, changing=False)
        rows = store.seats(conn, cycle_id, in_area(actor.area_code, entitlements.c.kelurahan_code))
        days = store.session_dates(conn, cycle_id)
        counts = cycle_store.counts(conn, cycle_id)
        present = frozenset(store.present_on(conn, cycle_id, day)) if day else frozenset()
    seats = [
        Seat(
            id=r["id"],
            name=r["recipient_name"] or "–",
            nik=mask_nik(r["recipient_nik"] or ""),
            kelurahan_code=r["kelurahan_code"],
            kelurahan=db.regions.name(r["kelurahan_code"]),
            rt=r["rt"],
            rw=r["rw"],
            state=EntitlementState(r["state"]),
            attended=int(r["attended"]),
            recorded=int(r["recorded"]),
            note=_note(r),
        )
        for r in rows
    ]
    may_act = cycle.state != CycleState.DITUTUP and actor.may(Permission.RUN_TRAINING)
    return Roster(cycle, seats, days, may_act, counts, day, present)


def _note(row: dict[str, Any]) -> str:
    """Why a seat ended as it did: the note, the reason it was turned down, or the block reason's label."""
    if row["note"] or row["cancel_reason"]:
        return str(row["note"] or row["cancel_reason"])
    return BlockReason(row["block_reason"]).label if row["block_reason"] else ""


def _mine(conn: Any, actor: Actor, cycle_id: int, ids: Iterable[int]) -> list[int]:
    """The seats among ``ids`` this actor may act on; refuses when any is not the cycle's or outside the area."""
    wanted = sorted(set(ids))
    if not wanted:
        raise ValidationError("Pilih paling sedikit satu peserta.", [FieldError("kursi", "Pilih peserta")])
    found = store.seats_in(conn, cycle_id, wanted)
    if len(found) != len(wanted) or not all(actor.can_run_training(s["kelurahan_code"]) for s in found):
        raise NotFound("Sebagian kursi tidak ada dalam siklus ini atau di luar wilayah Anda.")
    return wanted


def _refused(asked: Sequence[int], moved: Sequence[int], what: str) -> None:
    if len(moved) != len(asked):
        raise StateError(
            f"{len(asked) - len(moved)} kursi tidak dapat {what} karena statusnya sudah berubah; "
            "tidak ada yang disimpan. Muat ulang halaman."
        )


def enrol(db: Database, actor: Actor, cycle_id: int, seat_ids: Iterable[int]) -> int:
    """Offered seats taken up: the people are enrolled."""
    with db.begin() as conn:
        _training_cycle(conn, cycle_id, changing=True)
        ids = _mine(conn, actor, cycle_id, seat_ids)
        moved = store.enrol(conn, cycle_id, ids, actor.username, now())
        _refused(ids, moved, "didaftarkan (hanya kursi yang ditawarkan)")
        audit.record(
            conn, actor, AuditAction.TRAINING_SEAT_ENROL, "benefit_cycle", cycle_id, detail={"kursi": moved}
        )
    return len(moved)


def decline(db: Database, actor: Actor, cycle_id: int, seat_ids: Iterable[int], reason: str) -> int:
    """Offered seats turned down (the person did not come, or refused), with the reason."""
    text = check_cancel_reason(reason)
    with db.begin() as conn:
        _training_cycle(conn, cycle_id, changing=True)
        ids = _mine(conn, actor, cycle_id, seat_ids)
        moved = store.decline(conn, cycle_id, ids, text, now())
        _refused(ids, moved, "dibatalkan (hanya kursi yang ditawarkan)")
        audit.record(
            conn,
            actor,
            AuditAction.TRAINING_SEAT_REFUSE,
            "benefit_cycle",
            cycle_id,
            detail={"kursi": moved, "alasan": text},
        )
    return len(moved)


def record_attendance(
    db: Database,
    actor: Actor,
    cycle_id: int,
    day: date,
    present_ids: Iterable[int],
    *,
    today: date | None = None,
) -> tuple[int, int]:
    """Attendance on ``day``: the listed enrolled seats present, every other enrolled seat in the actor's area
    absent. Returns (present, absent)."""
    today = today or local_today()
    present = set(present_ids)
    with db.begin() as conn:
        cycle = _training_cycle(conn, cycle_id, changing=True)
        if not cycle.period_start <= day <= cycle.period_end:
            raise ValidationError(
                f"Tanggal di luar periode pelatihan ({long_date(cycle.period_start)} s.d. "
                f"{long_date(cycle.period_end)}).",
                [FieldError("tanggal", "Di luar periode pelatihan")],
            )
        if day > today:
            raise ValidationError(
                "Kehadiran tidak dapat dicatat untuk hari yang belum tiba.",
                [FieldError("tanggal", "Tanggal belum tiba")],
            )
        enrolled = [
            r
            for r in store.seats(conn, cycle_id, in_area(actor.area_code, entitlements.c.kelurahan_code))
            if r["state"] == EntitlementState.TERDAFTAR and actor.can_run_training(r["kelurahan_code"])
        ]
        enrolled_ids = {r["id"] for r in enrolled}
        if present - enrolled_ids:
            raise ValidationError(
                "Kehadiran hanya dicatat untuk peserta terdaftar di wilayah Anda.",
                [FieldError("hadir", "Bukan peserta terdaftar")],
            )
        if not enrolled_ids:
            raise StateError("Belum ada peserta terdaftar di wilayah Anda untuk dicatat kehadirannya.")
        absent = enrolled_ids - present
        store.record_attendance(conn, cycle_id, day, sorted(present), sorted(absent), actor.username, now())
        audit.record(
            conn,
            actor,
            AuditAction.TRAINING_SEAT_ATTEND,
            "benefit_cycle",
            cycle_id,
            detail={"tanggal": day.isoformat(), "hadir": len(present), "absen": len(absent)},
        )
    return len(present), len(absent)


def finish(
    db: Database, actor: Actor, cycle_id: int, seat_ids: Iterable[int], *, completed: bool, note: str = ""
) -> int:
    """Enrolled seats ended: completed, or not (dropped out, failed: the note says why)."""
    text = None if completed else check_cancel_reason(note, "tidak lulus")
    target = EntitlementState.SELESAI if completed else EntitlementState.TIDAK_LULUS
    with db.begin() as conn:
        _training_cycle(conn, cycle_id, changing=True)
        ids = _mine(conn, actor, cycle_id, seat_ids)
        moved = store.finish(conn, cycle_id, ids, target, text, actor.username, now())
        _refused(ids, moved, "diselesaikan (hanya peserta terdaftar)")
        audit.record(
            conn,
            actor,
            AuditAction.TRAINING_SEAT_COMPLETE if completed else AuditAction.TRAINING_SEAT_FAIL,
            "benefit_cycle",
            cycle_id,
            detail={"kursi": moved, **({"catatan": text} if text else {})},
        )
    return len(moved)


def seats_of_niks(db: Database, actor: Actor, cycle_id: int, niks: Iterable[str]) -> list[int]:
    """The seats held by these NIKs (the command line names people by NIK); refuses a NIK without a seat."""
    wanted = [n.strip() for n in niks if n.strip()]
    with db.read() as conn:
        _training_cycle(conn, cycle_id, changing=False)
        found = store.seats_of_niks(conn, cycle_id, wanted)
    missing = [mask_nik(n) for n in wanted if n not in found]
    if missing:
        raise NotFound(f"NIK tanpa kursi dalam siklus ini: {', '.join(missing)}.")
    return [found[n] for n in wanted]
