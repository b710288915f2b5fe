"""The realisation report: planned, paid, returned and blocked money by programme, kecamatan and month of one year,
as a page, a PDF and a workbook. Aggregates only, so analysts read it too, limited to their area; its letterhead
and signatory are the office of the reader's area.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from tepat.charts import documents as printed
from tepat.domain.access import Actor
from tepat.domain.formatting import local_today, moment, month_name, number, rupiah
from tepat.domain.programmes import budget_for, programme_label
from tepat.domain.regions import Level, level_of
from tepat.errors import ValidationError
from tepat.services.documents import Document, OnPage, Signature
from tepat.store import programme_reports as store
from tepat.store.database import Database
from tepat.store.engine import now


@dataclass(frozen=True)
class RealisationLine:
    """One line of a realisation table: a label and its rupiah figures."""

    label: str
    budget: int | None
    planned_count: int
    planned: int
    paid_count: int
    paid: int
    returned: int
    blocked: int

    @property
    def share_of_plan(self) -> float | None:
        return None if not self.planned else 100.0 * self.paid / self.planned

    @property
    def share_of_budget(self) -> float | None:
        return None if not self.budget else 100.0 * self.paid / self.budget

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "pagu": self.budget,
            "kpm_rencana": self.planned_count,
            "rencana": self.planned,
            "kpm_tersalur": self.paid_count,
            "tersalur": self.paid,
            "dikembalikan": self.returned,
            "diblokir": self.blocked,
            "persen_rencana": self.share_of_plan,
            "persen_pagu": self.share_of_budget,
        }


@dataclass(frozen=True)
class Realisation:
    """Budget vs planned vs paid of one year, by programme, kecamatan and month, inside one area."""

    year: int
    area_code: str
    area_name: str
    by_programme: list[RealisationLine]
    by_kecamatan: list[RealisationLine]
    by_month: list[RealisationLine]
    total: RealisationLine

    def as_dict(self) -> dict[str, object]:
        return {
            "tahun": self.year,
            "wilayah": self.area_code,
            "nama_wilayah": self.area_name,
            "program": [x.as_dict() for x in self.by_programme],
            "kecamatan": [x.as_dict() for x in self.by_kecamatan],
            "bulan": [x.as_dict() for x in self.by_month],
            "jumlah": self.total.as_dict(),
        }


_FIGURES = ("planned_count", "planned", "paid_count", "paid", "returned", "blocked")


def _line(label: str, cells: list[dict[str, Any]], budget: int | None = None) -> RealisationLine:
    return RealisationLine(label, budget, **{f: sum(c[f] for c in cells) for f in _FIGURES})


def realisation(db: Database, actor: Actor, year: int) -> Realisation:
    """The realisation report's figures (aggregates: every role may read it, inside its own area)."""
    if not 2000 <= year <= 2100:
        raise ValidationError("Tahun tidak sah.")
    office = db.offices.for_area(actor.area_code).code
    area = (
        actor.area_code
        if actor.area_code and level_of(actor.area_code) is not Level.PROVINSI
        else db.offices.area
    )
    with db.read() as conn:
        cells = store.realisation_cells(conn, year, area)
        covered = [o.code for o in db.offices.touching(area)]
        progs = store.report_programmes(conn, year, sorted({c["programme_id"] for c in cells}), covered)
    whole_city = area == office
    groups: dict[str, dict[Any, list[dict[str, Any]]]] = {
        "p": defaultdict(list),
        "k": defaultdict(list),
        "m": defaultdict(list),
    }
    for c in cells:
        groups["p"][c["programme_id"]].append(c)
        groups["k"][c["kecamatan_code"]].append(c)
        groups["m"][c["month"]].append(c)

    def budget_of(pid: int) -> int | None:
        p = progs.get(pid)
        return budget_for(p, year) if whole_city and p else None

    by_programme = [
        _line(programme_label(p["name"], p["code"]), groups["p"].get(pid, []), budget_of(pid))
        for pid, p in sorted(progs.items(), key=lambda x: x[1]["code"])
    ]
    by_kecamatan = [_line(db.regions.name(code), rows) for code, rows in sorted(groups["k"].items())]
    by_month = [_line(f"{month_name(m)} {year}", rows) for m, rows in sorted(groups["m"].items())]
    budgets = [x.budget for x in by_programme if x.budget is not None]
    total = _line("Jumlah", cells, sum(budgets) if budgets else None)
    return Realisation(year, area, db.regions.name(area), by_programme, by_kecamatan, by_month, total)


def _percent(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else number(value, digits) + " %"


def _tables(report: Realisation) -> list[dict[str, Any]]:
    def rows(lines: list[RealisationLine], with_budget: bool) -> list[list[str]]:
        out = []
        for x in [*lines, report.total]:
            cells = [x.label] + ([rupiah(x.budget)] if with_budget else [])
            cells += [
                number(x.planned_count),
                rupiah(x.planned),
                number(x.paid_count),
                rupiah(x.paid),
                rupiah(x.returned),
                _percent(x.share_of_plan),
            ]
            if with_budget:
                cells.append(_percent(x.share_of_budget, 2))
            out.append(cells)
        return out

    figures = ["Penerima rencana", "Rencana", "Penerima tersalur", "Tersalur", "Dikembalikan", "% rencana"]
    return [
        {
            "heading": "Menurut program",
            "columns": ["Program", "Pagu", *figures, "% pagu"],
            "rows": rows(report.by_programme, True),
            "total": True,
        },
        {
            "heading": "Menurut kecamatan",
            "columns": ["Kecamatan", *figures],
            "rows": rows(report.by_kecamatan, False),
            "total": True,
        },
        {
            "heading": "Menurut bulan",
            "columns": ["Bulan", *figures],
            "rows": rows(report.by_month, False),
            "total": True,
        },
    ]


def realisation_pdf(db: Database, actor: Actor, year: int, *, on_page: OnPage | None = None) -> Document:
    """The realisation report as PDF."""
    report = realisation(db, actor, year)
    context = {
        "year": year,
        "area": report.area_name,
        "as_of": moment(now()),
        "tables": _tables(report),
        "place": db.offices.for_area(actor.area_code).place,
        "office": db.offices.for_area(actor.area_code),
        "signed_on": local_today(),
        "orientation": "landscape",
        "footer": f"Laporan realisasi {year} · {report.area_name}",
        "signatures": [
            Signature("", ""),
            Signature("", ""),
            Signature("", db.offices.for_area(actor.area_code).head_title),
        ],
    }
    return Document(
        f"realisasi-{year}.pdf",
        printed.realisation_pdf(context, on_page=on_page),
        "application/pdf",
        rows=len(report.by_programme),
        total=report.total.paid,
    )


def realisation_xlsx(db: Database, actor: Actor, year: int) -> Document:
    """The realisation report as XLSX: one sheet per table, money as numbers shown as Rupiah."""
    import xlsxwriter

    report = realisation(db, actor, year)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": '"Rp"#,##0'})
    count = book.add_format({"num_format": "#,##0"})
    pct = book.add_format({"num_format": "0.00"})
    heads = [
        "Penerima rencana",
        "Rencana (Rp)",
        "Penerima tersalur",
        "Tersalur (Rp)",
        "Dikembalikan (Rp)",
        "Diblokir (Rp)",
        "% rencana",
    ]
    for sheet_name, first, lines, with_budget in (
        ("Program", "Program", report.by_programme, True),
        ("Kecamatan", "Kecamatan", report.by_kecamatan, False),
        ("Bulan", "Bulan", report.by_month, False),
    ):
        sheet = book.add_worksheet(sheet_name)
        sheet.write_string(0, 0, f"Realisasi bantuan sosial {year} – {report.area_name}", bold)
        columns = (
            [first] + (["Pagu (Rp)"] if with_budget else []) + heads + (["% pagu"] if with_budget else [])
        )
        for i, name in enumerate(columns):
            sheet.write_string(2, i, name, bold)
        sheet.set_column(0, 0, 36)
        sheet.set_column(1, len(columns), 18)
        for r, x in enumerate([*lines, report.total], start=3):
            values: list[tuple[object, Any]] = [(x.label, bold if x is report.total else None)]
            if with_budget:
                values.append((x.budget, money))
            values += [
                (x.planned_count, count),
                (x.planned, money),
                (x.paid_count, count),
                (x.paid, money),
                (x.returned, money),
                (x.blocked, money),
                (x.share_of_plan, pct),
            ]
            if with_budget:
                values.append((x.share_of_budget, pct))
            for col, (value, fmt) in enumerate(values):
                if value is None:
                    sheet.write_blank(r, col, None)
                elif isinstance(value, str):
                    sheet.write_string(r, col, value, fmt)
                else:
                    sheet.write_number(r, col, value, fmt)
    book.close()
    return Document(
        f"realisasi-{year}.xlsx",
        buffer.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        rows=len(report.by_programme),
        total=report.total.paid,
    )
