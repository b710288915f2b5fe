"""Deaths and moves from the civil registry (Dukcapil): mark members, re-check families, report.

The change file is a CSV with the columns ``nik``, ``peristiwa``
(``meninggal`` or ``pindah_keluar``) and ``tanggal`` (``YYYY-MM-DD`` or
``DD-MM-YYYY``). Each matched active member is deactivated through
``registry.deactivate_member`` (so the old version is kept); a family left
with no active member is made nonaktif through ``registry.deactivate_family``.
Change files are small (a month of events for a city), so the rows go through
the normal per-record services rather than a set-based bulk path.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tepat.domain.access import Actor
from tepat.domain.audit_actions import AuditAction
from tepat.domain.households import InactiveReason, LifeStatus, RegistryStatus
from tepat.domain.nik import check_nik, mask_nik
from tepat.domain.validation import parse_date
from tepat.errors import FieldError, ValidationError
from tepat.services import registry
from tepat.store import audit
from tepat.store import families as family_store
from tepat.store import status_checks as status_store
from tepat.store.database import Database

EVENTS = {"meninggal": InactiveReason.MENINGGAL, "pindah_keluar": InactiveReason.PINDAH}
_ALIASES = {
    "nik": "nik",
    "peristiwa": "peristiwa",
    "event": "peristiwa",
    "jenis": "peristiwa",
    "tanggal": "tanggal",
    "date": "tanggal",
    "tanggal_peristiwa": "tanggal",
}


@dataclass(frozen=True)
class ChangeRow:
    row: int
    nik: str
    event: str
    on: date


@dataclass
class ChangeReport:
    """What one change file did."""

    rows_read: int = 0
    members_deactivated: list[tuple[str, str]] = field(default_factory=list)  # (masked NIK, event)
    families_deactivated: list[int] = field(default_factory=list)
    heads_gone: list[int] = field(default_factory=list)  # families that need a new head / KK
    not_found: list[tuple[int, str]] = field(default_factory=list)  # (row, masked NIK)
    already_inactive: list[tuple[int, str]] = field(default_factory=list)
    invalid: list[FieldError] = field(default_factory=list)
    payments_blocked: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "baris": self.rows_read,
            "anggota_dinonaktifkan": len(self.members_deactivated),
            "keluarga_dinonaktifkan": self.families_deactivated,
            "kepala_keluarga_hilang": self.heads_gone,
            "tidak_ditemukan": [{"baris": r, "nik": n} for r, n in self.not_found],
            "sudah_nonaktif": [{"baris": r, "nik": n} for r, n in self.already_inactive],
            "tidak_sah": [e.as_dict() for e in self.invalid],
            "pembayaran_diblokir": self.payments_blocked,
        }


def parse_change_file(text: str) -> tuple[list[ChangeRow], list[FieldError]]:
    """Rows of a change file and the problems of the rows that cannot be used."""
    reader = csv.DictReader(
        io.StringIO(text.lstrip("\ufeff")), delimiter=";" if text.count(";") > text.count(",") else ","
    )
    columns = {c: _ALIASES.get((c or "").strip().lower()) for c in reader.fieldnames or []}
    missing = {"nik", "peristiwa", "tanggal"} - set(columns.values())
    if missing:
        raise ValidationError(
            "Kolom wajib tidak ada: " + ", ".join(sorted(missing)),
            [FieldError(m, "Kolom wajib tidak ada") for m in sorted(missing)],
        )
    rows: list[ChangeRow] = []
    problems: list[FieldError] = []
    for number, raw in enumerate(reader, start=2):
        values = {columns[k]: (v or "").strip() for k, v in raw.items() if columns.get(k)}
        nik_check = check_nik(values.get("nik", ""))
        event = values.get("peristiwa", "").lower()
        try:
            on = parse_date(values.get("tanggal", ""))
        except ValueError:
            problems.append(FieldError("tanggal", "Tanggal tidak dikenali", values.get("tanggal"), number))
            continue
        if not nik_check.valid:
            problems.append(FieldError("nik", "NIK tidak sah", mask_nik(values.get("nik", "")), number))
        elif event not in EVENTS:
            problems.append(
                FieldError("peristiwa", "Peristiwa harus meninggal atau pindah_keluar", event, number)
            )
        else:
            rows.append(ChangeRow(number, nik_check.value, event, on))
    return rows, problems


def apply_changes(db: Database, actor: Actor, rows: list[ChangeRow], *, source: str = "") -> ChangeReport:
    """Deactivate the members named in the rows, then every family left without an active member."""
    report = ChangeReport(rows_read=len(rows))
    # registry.update_family reads db.regions inside its transaction; on SQLite a first load there would wait on
    # that very transaction, so load the region list first.
    db.regions  # noqa: B018
    touched: set[int] = set()
    for row in rows:
        with db.read() as conn:
            member = family_store.active_member_by_nik(conn, row.nik)
            known = member is not None or status_store.person_by_nik(conn, row.nik) is not None
        if member is None:
            (report.already_inactive if known else report.not_found).append((row.row, mask_nik(row.nik)))
            continue
        reason = EVENTS[row.event]
        note = f"Data Dukcapil ({source or 'berkas perubahan'}): {row.event} {row.on:%d-%m-%Y}"
        report.payments_blocked += registry.deactivate_member(
            db,
            actor,
            member["id"],
            reason.value,
            expected_version=member["version"],
            note=note,
            death_date=row.on if reason is InactiveReason.MENINGGAL else None,
        )
        report.members_deactivated.append((mask_nik(row.nik), row.event))
        touched.add(member["family_id"])
        if member["relationship"] == "kepala_keluarga":
            report.heads_gone.append(member["family_id"])
    for family_id in sorted(touched):
        with db.read() as conn:
            fam = family_store.get(conn, family_id)
            left = family_store.members_of(conn, family_id, include_inactive=False)
            everyone = family_store.members_of(conn, family_id)
        if fam is None or left or fam["registry_status"] != RegistryStatus.AKTIF:
            continue
        all_dead = all(m["life_status"] == LifeStatus.MENINGGAL for m in everyone)
        code = InactiveReason.MENINGGAL if all_dead else InactiveReason.PINDAH
        report.payments_blocked += registry.deactivate_family(
            db,
            actor,
            family_id,
            code.value,
            expected_version=fam["version"],
            note="Tidak ada lagi anggota aktif (data Dukcapil)",
        )
        report.families_deactivated.append(family_id)
    report.heads_gone = [f for f in report.heads_gone if f not in report.families_deactivated]
    with db.begin() as conn:
        audit.record(
            conn,
            actor,
            AuditAction.CIVIL_REGISTRY_IMPORT,
            "import",
            None,
            detail={
                "source": source,
                "rows": report.rows_read,
                "members": len(report.members_deactivated),
                "families": len(report.families_deactivated),
                "not_found": len(report.not_found),
                "payments_blocked": report.payments_blocked,
            },
        )
    return report


def import_change_file(db: Database, actor: Actor, path: Path) -> ChangeReport:
    """Read a civil-registry change file and apply it; invalid rows are reported, not applied."""
    text = path.read_text(encoding="utf-8-sig")
    rows, problems = parse_change_file(text)
    report = apply_changes(db, actor, rows, source=path.name)
    report.invalid.extend(problems)
    report.rows_read += len(problems)
    return report
