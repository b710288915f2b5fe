"""Cycle documents: Daftar Nominatif and BAST per kelurahan, the training attendance sheet (the realisation report
is ``tepat.services.realisation``).

Who may print what:

* the **Daftar Nominatif** carries full names and NIKs (the payer checks the
  KTP against it at handover), so only roles that read personal data, inside
  the kelurahan, may print it; every printing is written to the audit log;
* the **BAST** carries counts and sums of one kelurahan; it is printed with the
  nominatif it refers to, under the same rule, and audited too;

Documents exist only for frozen cycles (approved, paying or closed): a list
that can still change must not be signed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tepat.charts import documents as printed
from tepat.domain.access import Actor
from tepat.domain.audit_actions import AuditAction
from tepat.domain.entitlements import BlockReason, EntitlementState
from tepat.domain.formatting import local_today, long_date, moment, month_name
from tepat.domain.regions import parent_of
from tepat.domain.terbilang import date_in_words
from tepat.errors import NotFound, StateError, ValidationError
from tepat.services import training
from tepat.store import audit
from tepat.store import programme_reports as store
from tepat.store.database import Database
from tepat.store.engine import now

OnPage = Callable[[int], None]
"""Told each page laid out (the number so far), so a page can show a long document's progress."""

ENTITLEMENT_LABELS = {s.value: s.label for s in EntitlementState}
BLOCK_LABELS = {r.value: r.label for r in BlockReason}
BENEFIT_LABELS = {
    "tunai": "bantuan tunai",
    "barang": "bantuan barang",
    "layanan": "layanan",
    "pelatihan": "pelatihan",
}
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


@dataclass(frozen=True)
class Document:
    """A produced file: its name, bytes and what it covers."""

    filename: str
    content: bytes
    media_type: str
    rows: int = 0
    total: int = 0

    def summary(self) -> dict[str, object]:
        return {
            "berkas": self.filename,
            "baris": self.rows,
            "jumlah": self.total,
            "ukuran": len(self.content),
        }


@dataclass(frozen=True)
class Signature:
    caption: str
    title: str
    name: str | None = None
    id_label: str | None = "NIP"
    id_number: str | None = None


def _frozen_cycle(conn: Any, cycle_id: int) -> dict[str, Any]:
    found = store.cycle(conn, cycle_id)
    if found is None:
        raise NotFound("Siklus tidak ditemukan.")
    if found["state"] not in store.DOCUMENT_STATES:
        raise StateError(
            "Dokumen hanya dapat dicetak untuk siklus yang sudah disetujui (daftar sudah dibekukan)."
        )
    return found


def _personal_area_check(actor: Actor, kelurahan_code: str) -> None:
    if not actor.can_read_personal(kelurahan_code):
        # Outside the area (or an analyst): the same answer as a kelurahan without recipients.
        raise NotFound("Kelurahan ini tidak ada dalam siklus atau di luar wilayah Anda.")


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _unit_label(unit: str) -> str:
    return "KPM" if unit == "keluarga" else "penerima"


# ----------------------------------------------------------------- the cycle's kelurahan list


@dataclass(frozen=True)
class CycleDocuments:
    """A frozen cycle and its kelurahan inside the actor's area, with counts for the document list."""

    cycle: dict[str, Any]
    kelurahan: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(k["amount"] for k in self.kelurahan)


def cycle_documents(db: Database, actor: Actor, cycle_id: int) -> CycleDocuments:
    """The kelurahan of a frozen cycle for which the actor may print the Daftar Nominatif and BAST."""
    if not actor.sees_personal_data:
        raise NotFound("Siklus tidak ditemukan.")
    with db.read() as conn:
        found = _frozen_cycle(conn, cycle_id)
        if not actor.shares_area(found["area_code"]):
            raise NotFound("Siklus tidak ditemukan.")
        rows = [
            r for r in store.kelurahan_totals(conn, cycle_id) if actor.can_read_personal(r["kelurahan_code"])
        ]
    regions = db.regions
    for r in rows:
        r["kelurahan"] = regions.name(r["kelurahan_code"])
        r["kecamatan"] = regions.name(r["kecamatan_code"])
    return CycleDocuments(found, rows)


def check_printable(db: Database, actor: Actor, cycle_id: int, kelurahan_code: str) -> None:
    """Refuse now what printing one kelurahan's nominatif or BAST would refuse (role and area, an unfrozen cycle,
    a kelurahan without recipients), reading that kelurahan's totals only."""
    _personal_area_check(actor, kelurahan_code)
    with db.read() as conn:
        _frozen_cycle(conn, cycle_id)
        if not store.kelurahan_totals(conn, cycle_id, kelurahan_code):
            raise NotFound("Kelurahan ini tidak ada dalam siklus atau di luar wilayah Anda.")


# ----------------------------------------------------------------- Daftar Nominatif


def _header(db: Database, cyc: dict[str, Any], kelurahan_code: str, actor: Actor) -> dict[str, Any]:
    kecamatan_code = parent_of(kelurahan_code) or kelurahan_code
    return {
        "programme": cyc["programme_name"],
        "programme_code": cyc["programme_code"],
        "funding_source": cyc["funding_source"],
        "cycle_name": cyc["name"],
        "period_start": cyc["period_start"],
        "period_end": cyc["period_end"],
        "kelurahan": db.regions.name(kelurahan_code),
        "kecamatan": db.regions.name(kecamatan_code),
        "unit_label": _unit_label(cyc["unit"]),
        "place": db.offices.for_area(kelurahan_code).place,
        "office": db.offices.for_area(kelurahan_code),
        "footer": f"{cyc['name']} · Kel. {db.regions.name(kelurahan_code)}",
        "printed_by": actor.full_name or actor.username,
        "printed_at": moment(now()),
    }


def nominatif(
    db: Database,
    actor: Actor,
    cycle_id: int,
    kelurahan_code: str,
    *,
    signed_on: date | None = None,
    on_page: OnPage | None = None,
) -> Document:
    """The Daftar Nominatif of one kelurahan as PDF: full names and NIKs, so audited and area-bound."""
    _personal_area_check(actor, kelurahan_code)
    with db.begin() as conn:
        cyc = _frozen_cycle(conn, cycle_id)
        rows = store.nominatif_rows(conn, cycle_id, kelurahan_code)
        if not rows:
            raise NotFound("Kelurahan ini tidak ada dalam siklus atau di luar wilayah Anda.")
        audit.record(
            conn,
            actor,
            AuditAction.NOMINATIF_PRINT,
            "benefit_cycles",
            cycle_id,
            area_code=kelurahan_code,
            detail={"rows": len(rows)},
        )
    handed = [r for r in rows if r["state"] not in store.NOT_HANDED_OVER]
    total = sum(r["amount"] for r in handed)
    context = _header(db, cyc, kelurahan_code, actor) | {
        "rows": [
            {
                "name": r["recipient_name"] or "–",
                "nik": r["recipient_nik"] or "–",
                "kk": r["kk_number"],
                "address": r["address"] or "",
                "rt": r["rt"],
                "rw": r["rw"],
                "desil": r["desil"],
                "level": r["level"] or "",
                "amount": r["amount"],
                "status": _status_label(r),
            }
            for r in rows
        ],
        "count": len(rows),
        "handed_over": len(handed),
        "total": total,
        "has_level": any(r["level"] for r in rows),
        "approved_at": moment(cyc["approved_at"]) if cyc["approved_at"] else "–",
        "snapshot": (cyc["snapshot_sha256"] or "–")[:16],
        "orientation": "landscape",
        "signed_on": signed_on or local_today(),
        "signatures": [
            Signature("Mengetahui,", f"Lurah {db.regions.name(kelurahan_code)}"),
            Signature("", "TKSK / Pendamping", id_label="NIK"),
            Signature("", db.offices.for_area(kelurahan_code).head_title),
        ],
    }
    pdf = printed.nominatif_pdf(context, on_page=on_page)
    name = f"daftar-nominatif-{_slug(cyc['name'])}-{kelurahan_code}.pdf"
    return Document(name, pdf, "application/pdf", rows=len(rows), total=total)


def _status_label(row: dict[str, Any]) -> str:
    label = str(ENTITLEMENT_LABELS.get(row["state"], row["state"]))
    if row["state"] == EntitlementState.DIBLOKIR and row.get("block_reason"):
        label += f" ({BLOCK_LABELS.get(row['block_reason'], row['block_reason'])})"
    return label


# ----------------------------------------------------------------- BAST


def bast_number(cyc: dict[str, Any], kelurahan_code: str, on: date) -> str:
    """The handover record's number: ``{cycle}/{kelurahan}/BAST-{programme}/{roman month}/{year}``."""
    return f"{cyc['id']:04d}/{kelurahan_code.rsplit('.', 1)[-1]}/BAST-{cyc['programme_code']}/{_ROMAN[on.month - 1]}/{on.year}"


def bast(
    db: Database,
    actor: Actor,
    cycle_id: int,
    kelurahan_code: str,
    *,
    signed_on: date | None = None,
    on_page: OnPage | None = None,
) -> Document:
    """The Berita Acara Serah Terima of one kelurahan as PDF (date, count and total spelled out)."""
    _personal_area_check(actor, kelurahan_code)
    on = signed_on or local_today()
    with db.begin() as conn:
        cyc = _frozen_cycle(conn, cycle_id)
        totals = next(iter(store.kelurahan_totals(conn, cycle_id, kelurahan_code)), None)
        if totals is None:
            raise NotFound("Kelurahan ini tidak ada dalam siklus atau di luar wilayah Anda.")
        by_rw = store.rw_totals(conn, cycle_id, kelurahan_code)
        audit.record(
            conn,
            actor,
            AuditAction.BAST_PRINT,
            "benefit_cycles",
            cycle_id,
            area_code=kelurahan_code,
            detail={"kpm": totals["handed_over"], "amount": totals["amount"]},
        )
    kelurahan = db.regions.name(kelurahan_code)
    period = month_name(cyc["period_start"].month) + f" {cyc['period_start'].year}"
    if (cyc["period_start"].year, cyc["period_start"].month) != (
        cyc["period_end"].year,
        cyc["period_end"].month,
    ):
        period = f"{long_date(cyc['period_start'])} s.d. {long_date(cyc['period_end'])}"
    context = _header(db, cyc, kelurahan_code, actor) | {
        "number": bast_number(cyc, kelurahan_code, on),
        "date_words": date_in_words(on),
        "signed_on": on,
        "period": period,
        "benefit_label": BENEFIT_LABELS.get(cyc["benefit_type"], cyc["benefit_type"]),
        "count": totals["handed_over"],
        "total": totals["amount"],
        "by_rw": by_rw,
        "excluded": totals["entitlements"] - totals["handed_over"],
        "first_party": {"name": None, "title": db.offices.for_area(kelurahan_code).head_title},
        "second_party": {"name": None, "title": f"Lurah {kelurahan}, atas nama para KPM"},
        "signatures": [
            Signature("PIHAK KEDUA,", f"Lurah {kelurahan}"),
            Signature("Saksi,", "TKSK / Pendamping", id_label="NIK"),
            Signature("PIHAK PERTAMA,", db.offices.for_area(kelurahan_code).head_title),
        ],
    }
    pdf = printed.bast_pdf(context, on_page=on_page)
    name = f"bast-{_slug(cyc['name'])}-{kelurahan_code}.pdf"
    return Document(name, pdf, "application/pdf", rows=totals["handed_over"], total=totals["amount"])


# ----------------------------------------------------------------- training attendance sheet

ATTENDANCE_DAYS = 6
"""Day columns on one attendance sheet (A4 landscape); a longer training prints one sheet per week or so."""


def check_attendance_days(days: Sequence[date]) -> None:
    """At most ``ATTENDANCE_DAYS`` day columns fit on a sheet."""
    if len(days) > ATTENDANCE_DAYS:
        raise ValidationError(f"Paling banyak {ATTENDANCE_DAYS} tanggal per lembar daftar hadir.")


def attendance_sheet(
    db: Database,
    actor: Actor,
    cycle_id: int,
    days: Sequence[date] = (),
    *,
    signed_on: date | None = None,
    on_page: OnPage | None = None,
) -> Document:
    """The Daftar Hadir of a training batch: its enrolled participants in the actor's area (the offered seats
    while nobody is enrolled yet), with a column to sign for each of ``days`` (blank dated columns without them)."""
    check_attendance_days(days)
    found = training.read_roster(db, actor, cycle_id)  # the printing below is the audit record
    people = found.in_state(EntitlementState.TERDAFTAR) or found.in_state(EntitlementState.TERJADWAL)
    if not people:
        raise NotFound("Tidak ada peserta pelatihan di wilayah Anda dalam siklus ini.")
    cyc = found.cycle
    with db.begin() as conn:
        audit.record(
            conn,
            actor,
            AuditAction.ATTENDANCE_SHEET_PRINT,
            "benefit_cycles",
            cycle_id,
            area_code=actor.area_code,
            detail={"rows": len(people)},
        )
    context = {
        "programme": cyc.programme_snapshot["name"],
        "programme_code": cyc.programme_snapshot["code"],
        "cycle_name": cyc.name,
        "period_start": cyc.period_start,
        "period_end": cyc.period_end,
        "days": list[date | None](days) or [None] * (ATTENDANCE_DAYS - 1),
        "rows": [{"name": p.name, "kelurahan": p.kelurahan, "rt": p.rt, "rw": p.rw} for p in people],
        "place": db.offices.for_area(cyc.area_code).place,
        "office": db.offices.for_area(cyc.area_code),
        "signed_on": signed_on or local_today(),
        "orientation": "landscape",
        "printed_by": actor.full_name or actor.username,
        "printed_at": moment(now()),
        "footer": f"Daftar hadir {cyc.name}",
        "signatures": [
            Signature("", ""),
            Signature("Instruktur,", "Instruktur / Pengajar", id_label=None),
            Signature("Mengetahui,", db.offices.for_area(cyc.area_code).head_title),
        ],
    }
    pdf = printed.attendance_pdf(context, on_page=on_page)
    return Document(f"daftar-hadir-{_slug(cyc.name)}.pdf", pdf, "application/pdf", rows=len(people))
