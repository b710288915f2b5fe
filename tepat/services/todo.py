"""The Beranda's to-do list: what is waiting for this user, by role, inside their area."""

from __future__ import annotations

from dataclasses import dataclass

from tepat.domain.access import Actor, Role
from tepat.domain.cases import CaseKind, CaseState, Clock, system_clock
from tepat.domain.cycles import CycleState
from tepat.domain.verification import due_before
from tepat.store import cases as case_store
from tepat.store import cycles as cycle_store
from tepat.store import move_requests as move_store
from tepat.store.database import Database


@dataclass(frozen=True)
class Task:
    """One line of the to-do list: how many things wait, and the page that lists them."""

    key: str
    label: str
    count: int
    link: str


def tasks_for(db: Database, actor: Actor, *, clock: Clock = system_clock) -> list[Task]:
    """The waiting work this user's role acts on (analysts have none); lines with nothing waiting are left out."""
    at = clock()
    area = actor.area_code
    tasks: list[Task] = []
    with db.read() as conn:
        if actor.role is Role.ADMIN:
            tasks.append(
                Task(
                    "siklus-persetujuan",
                    "Siklus menunggu persetujuan Anda",
                    cycle_store.count_in_state(
                        conn, CycleState.DITINJAU.value, within=area, not_submitted_by=actor.username
                    ),
                    "/siklus",
                )
            )
        if actor.role is Role.FINANCE:
            tasks.append(
                Task(
                    "siklus-pembayaran",
                    "Siklus disetujui, menunggu berkas pembayaran",
                    cycle_store.count_in_state(
                        conn, CycleState.DISETUJUI.value, within=area, overlapping=True
                    ),
                    "/pembayaran",
                )
            )
        if actor.role in (Role.ADMIN, Role.OPERATOR):
            tasks.append(
                Task(
                    "kasus-terlambat",
                    "Kasus warga melewati batas waktu",
                    case_store.count_open(conn, area, overdue_at=at),
                    "/kasus?terlambat=1",
                )
            )
            tasks.append(
                Task(
                    "usul-baru",
                    "Usul baru belum diproses",
                    case_store.count_open(
                        conn, area, kind=CaseKind.USUL.value, states=[CaseState.DIAJUKAN.value]
                    ),
                    "/kasus?jenis=usul&status=diajukan",
                )
            )
            tasks.append(
                Task(
                    "perpindahan-masuk",
                    "Permintaan perpindahan dari wilayah lain",
                    move_store.count_waiting_from(conn, area),
                    "/perpindahan",
                )
            )
        if actor.role is Role.VERIFIER:
            tasks.append(
                Task(
                    "usul-verifikasi",
                    "Usul menunggu verifikasi lapangan",
                    case_store.count_open(
                        conn, area, kind=CaseKind.USUL.value, states=[CaseState.VERIFIKASI.value]
                    ),
                    "/verifikasi",
                )
            )
            tasks.append(
                Task(
                    "sanggah-terbuka",
                    "Sanggah terbuka",
                    case_store.count_open(conn, area, kind=CaseKind.SANGGAH.value),
                    "/verifikasi",
                )
            )
            tasks.append(
                Task(
                    "keluarga-jatuh-tempo",
                    "Keluarga perlu diverifikasi (lebih dari 2 tahun)",
                    case_store.count_families_due(conn, area, due_before(at.date())),
                    "/verifikasi",
                )
            )
    return [t for t in tasks if t.count]
