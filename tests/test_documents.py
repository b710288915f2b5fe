"""Daftar Nominatif, BAST and the realisation report: produced, readable (text extracted), area-bound, audited."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from tepat.domain.access import Role
from tepat.errors import NotFound, StateError, ValidationError
from tepat.services import documents, realisation
from tepat.store.schema import audit_log, entitlements
from tests.conftest import actor
from tests.document_data import blt_cycle, families_in, pay, pdf_pages, pdf_text
from tests.factories import KELURAHAN, OTHER_KELURAHAN, letters
from tests.programme_data import approved_cycle, insert_programme


def _audits(db, action: str) -> list[dict]:
    with db.read() as conn:
        return [
            dict(r) for r in conn.execute(sa.select(audit_log).where(audit_log.c.action == action)).mappings()
        ]


def test_nominatif_lists_the_frozen_recipients_with_full_nik_and_is_audited(db, admin) -> None:
    cycle_id, here, _ = blt_cycle(db, admin)
    pay(db, cycle_id, here[:1])
    with db.begin() as conn:
        conn.execute(
            sa.update(entitlements)
            .where(entitlements.c.family_id == here[2])
            .values(state="diblokir", block_reason="meninggal")
        )
        niks = dict(
            conn.execute(sa.select(entitlements.c.recipient_name, entitlements.c.recipient_nik)).all()
        )
    operator = actor(Role.OPERATOR, KELURAHAN, "ani")
    doc = documents.nominatif(db, operator, cycle_id, KELURAHAN, signed_on=date(2025, 7, 14))
    text = pdf_text(doc.content)
    assert doc.content.startswith(b"%PDF") and doc.filename.endswith(f"{KELURAHAN}.pdf")
    assert "DAFTAR NOMINATIF" in text and "BLT-APBD Juli 2025" in text
    assert "Kelurahan : Bekasijaya" in text and "Kecamatan : Bekasi Timur" in text
    assert "1 Juli 2025 s.d. 31 Juli 2025" in text
    for name in ("Budi Santoso", "Siti Rahmawati", "Agus Salim"):
        assert name in text and niks[name] in text  # full NIK: needed to check the KTP at handover
    assert "Dewi Lestari" not in text  # another kelurahan
    assert "Dibayar" in text and "Diblokir (meninggal)" in text and "Terjadwal" in text
    assert (
        "Rp250.000" in text and "Jumlah (2 KPM diserahkan) Rp500.000" in text
    )  # the blocked one is left out
    assert (
        "Lurah Bekasijaya" in text
        and "TKSK / Pendamping" in text
        and "Kepala Dinas Sosial Kota Bekasi" in text
    )
    assert "Bekasi, 14 Juli 2025" in text and "Halaman 1 dari 1" in text
    assert (doc.rows, doc.total) == (3, 500_000)
    from pypdf import PdfReader

    box = PdfReader(io.BytesIO(doc.content)).pages[0].mediabox
    assert box.width > box.height  # A4 landscape: the by-name table has eleven columns
    logged = _audits(db, "nominatif.print")
    assert [(a["actor"], a["entity_id"], a["area_code"], a["detail"]["rows"]) for a in logged] == [
        ("ani", str(cycle_id), KELURAHAN, 3)
    ]


def test_a_long_list_runs_over_pages_numbered_x_of_y(db, admin) -> None:
    ids = families_in(db, admin, KELURAHAN, [f"Warga Nomor {letters(i)}" for i in range(60)])
    cycle_id = approved_cycle(db, insert_programme(db), ids)
    doc = documents.nominatif(db, admin, cycle_id, KELURAHAN)
    pages = pdf_pages(doc.content)
    text = pdf_text(doc.content)
    assert pages >= 2 and f"Halaman {pages} dari {pages}" in text
    assert f"Warga Nomor {letters(0)}" in text and f"Warga Nomor {letters(59)}" in text
    assert "Jumlah (60 KPM diserahkan) Rp15.000.000" in text


def test_personal_documents_are_refused_outside_the_area_and_to_analysts(db, admin) -> None:
    cycle_id, _, _ = blt_cycle(db, admin)
    for who in (
        actor(Role.OPERATOR, OTHER_KELURAHAN),
        actor(Role.ANALYST, "32.75"),
        actor(Role.OPERATOR, "32.75.02"),
    ):
        with pytest.raises(NotFound):
            documents.nominatif(db, who, cycle_id, KELURAHAN)
        with pytest.raises(NotFound):
            documents.bast(db, who, cycle_id, KELURAHAN)
    with pytest.raises(NotFound):
        documents.cycle_documents(db, actor(Role.ANALYST, "32.75"), cycle_id)
    assert _audits(db, "nominatif.print") == []
    with pytest.raises(NotFound):  # a kelurahan with no recipients in the cycle
        documents.nominatif(db, admin, cycle_id, "32.75.01.1002")


def test_documents_need_a_frozen_cycle(db, admin) -> None:
    ids = families_in(db, admin, KELURAHAN, ["Budi Santoso"])
    cycle_id = approved_cycle(db, insert_programme(db), ids, state="ditinjau")
    with pytest.raises(StateError):
        documents.nominatif(db, admin, cycle_id, KELURAHAN)
    with pytest.raises(StateError):
        documents.bast(db, admin, cycle_id, KELURAHAN)
    with pytest.raises(NotFound):
        documents.cycle_documents(db, admin, 999)


def test_cycle_documents_lists_the_kelurahan_in_the_area(db, admin) -> None:
    cycle_id, _, _ = blt_cycle(db, admin)
    everything = documents.cycle_documents(db, admin, cycle_id)
    assert [(k["kelurahan"], k["handed_over"], k["amount"]) for k in everything.kelurahan] == [
        ("Bekasijaya", 3, 750_000),
        (everything.kelurahan[1]["kelurahan"], 1, 250_000),
    ]
    assert everything.total == 1_000_000
    mine = documents.cycle_documents(db, actor(Role.FINANCE, KELURAHAN), cycle_id)
    assert [k["kelurahan_code"] for k in mine.kelurahan] == [KELURAHAN]


def test_bast_spells_out_date_count_and_amount(db, admin) -> None:
    cycle_id, here, _ = blt_cycle(db, admin)
    with db.begin() as conn:
        conn.execute(
            sa.update(entitlements)
            .where(entitlements.c.family_id == here[0])
            .values(state="dibatalkan", cancel_reason="ganda")
        )
    doc = documents.bast(db, admin, cycle_id, KELURAHAN, signed_on=date(2025, 7, 14))
    text = pdf_text(doc.content)
    assert "BERITA ACARA SERAH TERIMA" in text
    assert "Pada hari Senin tanggal empat belas bulan Juli tahun dua ribu dua puluh lima (14-07-2025)" in text
    assert "Jumlah KPM : 2 (dua) KPM" in text and "Jumlah bantuan : Rp500.000" in text
    assert "Terbilang : Lima Ratus Ribu Rupiah" in text
    assert "PIHAK PERTAMA" in text and "PIHAK KEDUA" in text and "Lurah Bekasijaya" in text
    assert f"Nomor: {cycle_id:04d}/1001/BAST-BLT-APBD/VII/2025" in text
    assert "003 2 Rp500.000" in text  # the attached summary per RW
    assert "Tidak termasuk 1 penerima" in text
    assert "Budi Santoso" not in text  # the BAST itself carries no names
    assert (doc.rows, doc.total) == (2, 500_000)
    assert len(_audits(db, "bast.print")) == 1


def _report_data(db, admin) -> int:
    cycle_id, here, there = blt_cycle(db, admin)
    pay(db, cycle_id, here[:2])
    pay(db, cycle_id, there, state="dikembalikan")
    sembako = insert_programme(db, "BPNT", name="Sembako", amount=200_000, annual_budget=2_400_000)
    approved_cycle(
        db,
        sembako,
        here[:1],
        name="Sembako Agustus 2025",
        state="pembayaran",
        period=(date(2025, 8, 1), date(2025, 8, 31)),
    )
    approved_cycle(
        db, sembako, here, name="Sembako draf", state="draf", period=(date(2025, 9, 1), date(2025, 9, 30))
    )
    approved_cycle(db, sembako, here, name="Sembako 2024", period=(date(2024, 9, 1), date(2024, 9, 30)))
    return cycle_id


def test_realisation_figures_by_programme_kecamatan_and_month(db, admin) -> None:
    _report_data(db, admin)
    report = realisation.realisation(db, actor(Role.ANALYST, "32.75"), 2025)
    blt, sembako = report.by_programme
    assert (
        blt.label,
        blt.budget,
        blt.planned_count,
        blt.planned,
        blt.paid_count,
        blt.paid,
        blt.returned,
    ) == ("BLT-APBD", 1_000_000_000, 4, 1_000_000, 2, 500_000, 250_000)
    assert (sembako.planned, sembako.paid, sembako.budget) == (
        200_000,
        0,
        2_400_000,
    )  # draf and 2024 left out
    assert [(m.label, m.planned) for m in report.by_month] == [
        ("Juli 2025", 1_000_000),
        ("Agustus 2025", 200_000),
    ]
    assert [(k.label, k.planned, k.paid) for k in report.by_kecamatan] == [
        ("Bekasi Timur", 950_000, 500_000),
        (report.by_kecamatan[1].label, 250_000, 0),
    ]
    assert (report.total.planned, report.total.paid, report.total.budget) == (
        1_200_000,
        500_000,
        1_002_400_000,
    )
    assert blt.share_of_plan == 50.0
    # A kecamatan account sees its own kecamatan only, and no city budget.
    own = realisation.realisation(db, actor(Role.ANALYST, "32.75.01"), 2025)
    assert [k.label for k in own.by_kecamatan] == ["Bekasi Timur"] and own.total.planned == 950_000
    assert all(p.budget is None for p in own.by_programme)
    with pytest.raises(ValidationError):
        realisation.realisation(db, admin, 1800)


def test_realisation_pdf_and_xlsx_are_readable(db, admin) -> None:
    _report_data(db, admin)
    analyst = actor(Role.ANALYST, "32.75")
    text = pdf_text(realisation.realisation_pdf(db, analyst, 2025).content)
    assert "LAPORAN REALISASI BANTUAN SOSIAL TAHUN 2025" in text
    assert "BLT-APBD Rp1.000.000.000 4 Rp1.000.000 2 Rp500.000 Rp250.000 50,0 %" in text
    assert "Agustus 2025" in text and "Bekasi Timur" in text
    assert "Budi Santoso" not in text
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(realisation.realisation_xlsx(db, analyst, 2025).content))
    assert book.sheetnames == ["Program", "Kecamatan", "Bulan"]
    rows = [[c.value for c in row] for row in book["Program"].iter_rows(min_row=3)]
    assert rows[0][:3] == ["Program", "Pagu (Rp)", "Penerima rencana"]
    assert rows[1][:7] == ["BLT-APBD", 1_000_000_000, 4, 1_000_000, 2, 500_000, 250_000]
    assert rows[-1][0] == "Jumlah" and rows[-1][3] == 1_200_000
    assert book["Program"]["D4"].number_format == '"Rp"#,##0'


def test_education_aid_lists_the_school_level(db, admin) -> None:
    ids = families_in(db, admin, KELURAHAN, ["Rizky Pratama"])
    cycle_id = approved_cycle(
        db, insert_programme(db, "BEA", unit="orang", amount=750_000), ids, per_person=True
    )
    with db.begin() as conn:
        conn.execute(sa.update(entitlements).where(entitlements.c.cycle_id == cycle_id).values(level="SMP"))
    text = pdf_text(documents.nominatif(db, admin, cycle_id, KELURAHAN).content)
    assert (
        "Jenjang" in text and "SMP Rp750.000" in text and "Jumlah (1 penerima diserahkan) Rp750.000" in text
    )
    without = pdf_text(
        documents.nominatif(
            db, admin, approved_cycle(db, insert_programme(db, "BLT"), ids), KELURAHAN
        ).content
    )
    assert "Jenjang" not in without


def test_a_service_bast_names_no_rupiah(db, admin) -> None:
    families = families_in(db, admin, KELURAHAN, ["Ani Lestari", "Bayu Putra"])
    programme = insert_programme(db, "LKM-NIK", unit="orang", benefit_type="layanan", amount=0)
    cycle_id = approved_cycle(db, programme, families, per_person=True)
    text = pdf_text(documents.bast(db, admin, cycle_id, KELURAHAN, signed_on=date(2025, 7, 14)).content)
    assert "Jumlah KPM" in text
    assert "Rp0" not in text and "Nol Rupiah" not in text


def test_the_signatures_never_stand_on_a_page_without_rows_of_the_list(db, admin, monkeypatch) -> None:
    """Issue 18 point 7: whatever the length of the list, the page with the signatures also holds its last rows."""
    import pypdf

    from tepat.charts import documents as printed

    captured = {}
    real = printed.nominatif_pdf
    monkeypatch.setattr(
        printed,
        "nominatif_pdf",
        lambda context, **kw: captured.setdefault("c", context) and real(context, **kw),
    )
    ids = families_in(db, admin, KELURAHAN, ["Warga Contoh"])
    documents.nominatif(db, admin, approved_cycle(db, insert_programme(db), ids), KELURAHAN)
    base = captured["c"]
    detached = []
    for count in range(1, 40):
        rows = [{**base["rows"][0], "name": f"Warga {letters(i)}"} for i in range(count)]
        pdf = real({**base, "rows": rows, "count": count, "handed_over": count})
        pages = [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]
        signed = [p for p in pages if "Mengetahui" in p]
        assert len(signed) == 1
        if f"Warga {letters(count - 1)}" not in signed[0]:
            detached.append(count)
    assert detached == []
