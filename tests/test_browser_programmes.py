"""The operator pages of programmes, benefit cycles, payments and documents in a real browser (Debian's chromium
through Playwright), clicked through as the users would: Admin Dinsos, a second admin, Keuangan and operators."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tepat.domain.access import Role
from tepat.files.payment_files import result_file_bytes
from tepat.services import payments, programmes
from tepat.store.database import Database
from tepat.store.schema import benefit_cycles, entitlements
from tests.browser_programme_support import (
    HERE,
    THERE,
    csv_rows,
    download_bytes,
    logged_in,
    ranked_registry,
    small_registry,
)
from tests.browser_support import serve
from tests.conftest import actor
from tests.document_data import pdf_text
from tests.factories import KELURAHAN, OTHER_KELURAHAN, letters
from tests.programme_data import approved_cycle, insert_programme
from tests.test_web_support import add_user, make_app

pytestmark = pytest.mark.browser

AMOUNT = re.compile(r"^Besaran per satuan")
DESIL_RULE = 'desil <= 10 and status == "aktif"'  # every ranked family, through the desil join


@pytest.fixture
def server(db: Database, tmp_path: Path) -> Iterator[str]:
    with serve(make_app(db, tmp_path)) as base:
        yield base


def _rp(amount: int) -> str:
    """Rupiah as the pages write it: Rp3.000.000."""
    return "Rp" + f"{amount:,}".replace(",", ".")


def _color(locator) -> str:
    return str(locator.evaluate("e => getComputedStyle(e).color"))


def _cycle_state(db: Database, cycle_id: int) -> str:
    with db.read() as conn:
        return str(
            conn.execute(
                sa.select(benefit_cycles.c.state).where(benefit_cycles.c.id == cycle_id)
            ).scalar_one()
        )


def test_admin_edits_a_programme_amount_and_sees_errors_in_place(
    db: Database, server: str, browser, admin, tmp_path: Path
) -> None:
    ranked_registry(db, admin, tmp_path)
    insert_programme(db, "BLT-APBD", name="BLT-APBD", amount=250_000, rule=DESIL_RULE)
    add_user(db, "kabid", Role.ADMIN, "32.75", "Kepala Bidang")
    with logged_in(browser, server, "kabid") as page:
        page.goto(f"{server}/program")
        row = page.locator('#tabel-program tr[data-kode="BLT-APBD"]')
        assert "Rp250.000" in row.inner_text()
        row.get_by_role("link", name="BLT-APBD").click()
        page.wait_for_url(f"{server}/program/BLT-APBD")

        page.get_by_label("Nama program").fill("BLT-APBD Kota Bekasi")
        page.get_by_label(AMOUNT).fill("dua ratus ribu")
        page.get_by_role("button", name="Simpan").click()
        error = page.locator("#galat-amount")
        assert error.is_visible() and "harus bilangan bulat rupiah" in error.inner_text()
        assert "belum benar" in page.get_by_role("alert").inner_text()
        assert page.get_by_label(AMOUNT).input_value() == "dua ratus ribu"  # what the admin typed is kept
        assert page.get_by_label("Nama program").input_value() == "BLT-APBD Kota Bekasi"
        assert page.get_by_label(AMOUNT).get_attribute("aria-describedby") == "galat-amount"
        assert _color(error) == _color(
            page.get_by_role("alert")
        )  # shown in the error colour, like the summary
        assert programmes.get_programme(db, admin, "BLT-APBD")["amount"] == 250_000  # nothing saved

        page.get_by_label(AMOUNT).fill("-5000")
        page.get_by_role("button", name="Simpan").click()
        assert "tidak boleh negatif" in page.locator("#galat-amount").inner_text()

        page.get_by_label(AMOUNT).fill("300.000")
        page.get_by_role("button", name="Simpan").click()
        page.wait_for_url(f"{server}/program/BLT-APBD?ok=1")
        assert "Perubahan tersimpan." in page.get_by_role("status").inner_text()
        assert page.get_by_label(AMOUNT).input_value() == "300000"
        page.get_by_role("link", name="Semua program").click()
        page.wait_for_url(f"{server}/program")
        row = page.locator('#tabel-program tr[data-kode="BLT-APBD"]')
        assert "Rp300.000" in row.inner_text() and "BLT-APBD Kota Bekasi" in row.inner_text()
    saved = programmes.get_programme(db, admin, "BLT-APBD")
    assert (saved["amount"], saved["name"], saved["version"]) == (300_000, "BLT-APBD Kota Bekasi", 2)
    assert saved["updated_by"] == "kabid"


def test_cycle_is_made_by_one_admin_and_approved_by_another(
    db: Database, server: str, browser, admin, tmp_path: Path
) -> None:
    here, there = ranked_registry(db, admin, tmp_path)
    insert_programme(db, "BLT-APBD", name="BLT-APBD", amount=250_000, rule=DESIL_RULE)
    add_user(db, "pembuat", Role.ADMIN, "32.75", "Admin Pembuat")
    add_user(db, "penyetuju", Role.ADMIN, "32.75", "Admin Penyetuju")
    with logged_in(browser, server, "pembuat") as page:
        page.goto(f"{server}/siklus")
        assert "Belum ada siklus." in page.locator("#tabel-siklus").inner_text()
        page.get_by_label("Program").select_option("BLT-APBD")
        page.get_by_label(re.compile("^Nama")).fill("BLT-APBD Juli 2025")
        page.get_by_label("Awal periode").fill("2025-07-01")
        page.get_by_label("Akhir periode").fill("2025-07-31")
        page.get_by_label(re.compile("^Pagu siklus")).fill("lima ratus juta")
        page.get_by_role("button", name="Buat siklus").click()
        assert "Pagu harus bilangan bulat rupiah" in page.locator("#galat-pagu").inner_text()  # not dropped
        assert page.get_by_label(re.compile("^Nama")).input_value() == "BLT-APBD Juli 2025"
        assert page.get_by_label("Awal periode").input_value() == "2025-07-01"
        assert "Belum ada siklus." in page.locator("#tabel-siklus").inner_text()
        page.get_by_label(re.compile("^Pagu siklus")).fill("")
        page.get_by_role("button", name="Buat siklus").click()
        page.wait_for_url(re.compile(r"/siklus/\d+$"))
        cycle_id = int(page.url.rsplit("/", 1)[1])
        assert page.locator("#status-siklus").inner_text() == "Draf"

        page.get_by_role("button", name="Susun daftar penerima").click()
        page.wait_for_url(f"{server}/siklus/{cycle_id}?ok=1")
        assert page.locator("#jumlah-penerima").inner_text().startswith(f"{HERE + THERE} ")
        page.get_by_role("button", name="Ajukan untuk ditinjau").click()
        page.wait_for_url(f"{server}/siklus/{cycle_id}?ok=1")
        assert page.locator("#status-siklus").inner_text() == "Ditinjau"
        assert page.get_by_role("button", name="Setujui dan bekukan").count() == 0
        assert "menunggu persetujuan Admin lain" in page.locator("#menunggu-persetujuan").inner_text()

        # A form from a stale or tampered page still cannot approve: the server refuses the maker.
        step = page.locator("form.langkah").first
        step.locator("input[name=langkah]").evaluate("el => el.value = 'setujui'")
        step.get_by_role("button").click()
        page.wait_for_url(f"{server}/siklus/{cycle_id}/langkah")
        refusal = page.get_by_role("alert").inner_text()
        assert "Penyetuju harus orang lain" in refusal and "maker-checker" in refusal
        assert page.locator("#status-siklus").inner_text() == "Ditinjau"
    assert _cycle_state(db, cycle_id) == "ditinjau"

    with logged_in(browser, server, "penyetuju") as page:
        page.goto(f"{server}/siklus")
        page.get_by_role("link", name="BLT-APBD Juli 2025").click()
        page.wait_for_url(f"{server}/siklus/{cycle_id}")
        assert page.locator("#menunggu-persetujuan").count() == 0
        assert page.locator("#tinjauan-persetujuan").is_visible()
        page.get_by_role("checkbox", name=re.compile("Saya telah memeriksa")).check()
        page.get_by_role("button", name="Setujui dan bekukan").click()
        page.wait_for_url(f"{server}/siklus/{cycle_id}?ok=1")
        assert "Langkah tersimpan." in page.get_by_role("status").inner_text()
        assert page.locator("#status-siklus").inner_text() == "Disetujui (dibekukan)"
        details = page.locator("dl").inner_text()
        assert "oleh penyetuju" in details and re.search(r"SHA-256 daftar beku\s+[0-9a-f]{64}", details)
        assert (
            page.get_by_role("button", name="Susun daftar penerima").count() == 0
        )  # frozen: no more rebuilding
        assert page.get_by_role("link", name="Daftar Nominatif dan BAST").is_visible()
        table = page.locator("#siklus-per-kelurahan").inner_text()
        assert "Bekasijaya" in table and str(HERE) in table
        page.get_by_role("link", name="Semua siklus").click()
        assert (
            "Disetujui (dibekukan)"
            in page.locator(f'#tabel-siklus tr[data-siklus="{cycle_id}"]').inner_text()
        )
    assert _cycle_state(db, cycle_id) == "disetujui"
    with db.read() as conn:
        frozen = (
            conn.execute(sa.select(entitlements.c.family_id).where(entitlements.c.cycle_id == cycle_id))
            .scalars()
            .all()
        )
    assert sorted(frozen) == sorted(here + there)


def test_finance_pays_an_approved_cycle_and_reconciles(
    db: Database, server: str, browser, admin, tmp_path: Path
) -> None:
    here, there = small_registry(db, admin)
    cycle_id = approved_cycle(
        db, insert_programme(db, amount=250_000), here + there, name="BLT-APBD Juli 2025"
    )
    add_user(db, "siti", Role.FINANCE, "32.75", "Siti Keuangan")
    with logged_in(browser, server, "siti") as page:
        page.goto(f"{server}/pembayaran")
        assert "Belum ada batch pembayaran." in page.locator("#batch").inner_text()
        page.get_by_role("link", name="Buat batch pembayaran").click()
        page.wait_for_url(f"{server}/pembayaran/baru")
        page.get_by_label("Siklus").select_option(label="BLT-APBD Juli 2025 (disetujui)")
        page.get_by_label("Kanal").select_option("bank")
        page.get_by_role("button", name="Buat batch").click()
        page.wait_for_url(re.compile(r"/pembayaran/\d+\?ok=dibuat$"))
        batch_id = int(re.search(r"/pembayaran/(\d+)", page.url).group(1))
        assert "Batch dibuat." in page.get_by_role("status").inner_text()
        count = HERE + THERE
        assert f"{count} baris · {_rp(count * 250_000)}" in page.locator("dl").inner_text()

        name, content = download_bytes(
            page, page.get_by_role("button", name="Unduh berkas pembayaran (CSV)").click
        )
        assert name.startswith("BYR-") and name.endswith(".csv")
        rows, trailer = csv_rows(content)
        assert trailer.startswith("#KONTROL") and len(rows) == count
        assert {r[1] for r in rows} == set(_recipient_niks(db, cycle_id))

        failed = rows[0]
        result = [(failed[0], failed[1], failed[-1], "GAGAL", "Rekening tidak aktif", "", "")]
        result += [(r[0], r[1], r[-1], "SUKSES", "", f"TRX{i}", "2025-07-15") for i, r in enumerate(rows[1:])]
        upload = tmp_path / "hasil-bank.csv"
        upload.write_bytes(result_file_bytes(result))
        # The import form is there right after the download, without reloading the page.
        page.get_by_label(re.compile("^Berkas hasil")).set_input_files(upload)
        page.get_by_role("button", name="Impor hasil").click()
        page.wait_for_url(f"{server}/pembayaran/{batch_id}/hasil")
        assert page.locator("#status-batch").inner_text() == "Selesai"
        outcome = page.locator("#hasil-impor").inner_text()
        assert f"{count} baris dibaca." in outcome and f"Diterapkan: {count}" in outcome
        assert f"Dibayar {count - 1}" in page.get_by_text("Status baris:").inner_text()
        assert "Gagal 1" in page.get_by_text("Status baris:").inner_text()
        assert "Rekening tidak aktif" in page.locator("#gagal").inner_text()
        assert "hasil-bank.csv" in page.locator("#impor").inner_text()

        page.get_by_label(re.compile("^Berkas hasil")).set_input_files(upload)
        page.get_by_role("button", name="Impor hasil").click()
        assert "sudah pernah diimpor" in page.locator("#hasil-impor").inner_text()
        assert (
            f"Dibayar {count - 1}" in page.get_by_text("Status baris:").inner_text()
        )  # nothing applied twice

        page.get_by_role("link", name="Rekonsiliasi", exact=True).click()
        page.wait_for_url(f"{server}/pembayaran/{batch_id}/rekonsiliasi")
        total = page.locator("#per-kelurahan tr.jumlah").inner_text()
        paid = f"{count - 1} · {_rp((count - 1) * 250_000)}"
        assert paid in total, total
        first_sum = page.locator("#per-kelurahan tr.jumlah td").first
        assert first_sum.evaluate("e => getComputedStyle(e).textAlign") == "right"  # figures line up
        bekasijaya = page.locator("#per-kelurahan tr", has_text="Bekasijaya").inner_text()
        assert f"{HERE} · {_rp(HERE * 250_000)}" in bekasijaya
    states = payments.get_batch(db, actor(Role.FINANCE), batch_id).states
    assert states == {"dibayar": count - 1, "gagal": 1}


def _recipient_niks(db: Database, cycle_id: int) -> list[str]:
    with db.read() as conn:
        q = sa.select(entitlements.c.recipient_nik).where(entitlements.c.cycle_id == cycle_id)
        return list(conn.execute(q).scalars())


def test_kecamatan_users_do_not_see_another_areas_batch_or_cycle_details(
    db: Database, server: str, browser, admin
) -> None:
    here, there = small_registry(db, admin)
    cycle_id = approved_cycle(
        db, insert_programme(db, amount=250_000), here + there, name="BLT-APBD Juli 2025"
    )
    city = actor(Role.FINANCE, "32.75", "keuangan-kota")
    elsewhere = payments.create_batch(db, city, cycle_id, "bank", kelurahan_code=KELURAHAN).id
    own = payments.create_batch(db, city, cycle_id, "pos", kelurahan_code=OTHER_KELURAHAN).id
    add_user(db, "keulokal", Role.FINANCE, "32.75.02", "Keuangan Bekasi Barat")
    add_user(db, "opi", Role.OPERATOR, "32.75.02", "Operator Bekasi Barat")
    with logged_in(browser, server, "keulokal") as page:
        page.goto(f"{server}/pembayaran")
        listed = page.locator("#batch").inner_text()
        assert "Bintara" in listed and "Bekasijaya" not in listed
        page.get_by_role("link", name=re.compile("^BYR-")).click()
        page.wait_for_url(f"{server}/pembayaran/{own}")
        assert "Bintara" in page.locator("dl").inner_text()
        for path in (f"/pembayaran/{elsewhere}", f"/pembayaran/{elsewhere}/rekonsiliasi"):
            answer = page.goto(server + path)
            assert answer.status == 404, path
            assert page.locator("h1").inner_text() == "Tidak ditemukan"
            assert "Bekasijaya" not in page.locator("main").inner_text()
    with logged_in(browser, server, "opi") as page:
        answer = page.goto(f"{server}/pembayaran/{own}")
        assert answer.status == 403 and page.locator("h1").inner_text() == "Akses ditolak"
        assert "hanya untuk Keuangan dan Admin Dinsos" in page.get_by_role("alert").inner_text()
        page.goto(f"{server}/siklus/{cycle_id}")
        table = page.locator("#siklus-per-kelurahan").inner_text()
        assert "Bintara" in table and "Bekasijaya" not in table
        page.get_by_role("link", name="Daftar Nominatif dan BAST").click()
        page.wait_for_url(f"{server}/siklus/{cycle_id}/dokumen")
        rows = page.locator("#dokumen-kelurahan tbody tr")
        assert rows.count() == 1 and rows.first.get_attribute("data-kode") == OTHER_KELURAHAN
        csrf = page.locator('input[name="csrf_token"]').first.get_attribute("value")
        answer = page.request.post(
            f"{server}/siklus/{cycle_id}/dokumen/{KELURAHAN}/nominatif",
            form={"csrf_token": csrf},
            max_redirects=0,
        )
        assert answer.status == 404 and not answer.body().startswith(b"%PDF")
        assert "Tidak ditemukan" in answer.text()


def test_documents_page_offers_the_nominatif_and_bast_pdfs(db: Database, server: str, browser, admin) -> None:
    here, there = small_registry(db, admin)
    cycle_id = approved_cycle(
        db, insert_programme(db, amount=250_000), here + there, name="BLT-APBD Juli 2025"
    )
    add_user(db, "ani", Role.OPERATOR, KELURAHAN, "Ani Rahayu")
    with logged_in(browser, server, "ani") as page:
        page.goto(f"{server}/siklus")
        page.get_by_role("link", name="BLT-APBD Juli 2025").click()
        page.get_by_role("link", name="Daftar Nominatif dan BAST").click()
        page.wait_for_url(f"{server}/siklus/{cycle_id}/dokumen")
        page.get_by_label("Tanggal penandatanganan").fill("2025-07-14")
        page.get_by_role("button", name="Pakai tanggal ini").click()
        page.wait_for_url(f"{server}/siklus/{cycle_id}/dokumen?tanggal=2025-07-14")
        row = page.locator(f'#dokumen-kelurahan tr[data-kode="{KELURAHAN}"]')
        assert "Bekasijaya" in row.inner_text() and f"{HERE}" in row.inner_text()
        assert page.locator(f'#dokumen-kelurahan tr[data-kode="{OTHER_KELURAHAN}"]').count() == 0
        row.get_by_role("button", name="Daftar Nominatif (PDF)").click()
        page.wait_for_url(f"{server}/dokumen/*")
        expect(page.locator("#dokumen-siap")).to_be_visible(
            timeout=20_000
        )  # the page reloads itself until then
        name, content = download_bytes(page, page.get_by_role("link", name="Unduh").click)
        assert name.endswith(".pdf") and content.startswith(b"%PDF")
        text = pdf_text(content)
        assert all(f"Warga Bekasijaya {letters(i)}" in text for i in range(HERE)) and "Warga Lain" not in text
        assert "14 Juli 2025" in text
        page.goto(f"{server}/siklus/{cycle_id}/dokumen?tanggal=2025-07-14")
        page.locator(f'#dokumen-kelurahan tr[data-kode="{KELURAHAN}"]').get_by_role(
            "button", name="BAST (PDF)"
        ).click()
        page.wait_for_url(f"{server}/dokumen/*")
        expect(page.locator("#dokumen-siap")).to_be_visible(timeout=20_000)
        name, content = download_bytes(page, page.get_by_role("link", name="Unduh").click)
        assert name.endswith(".pdf") and content.startswith(b"%PDF")
        assert "empat belas bulan Juli" in pdf_text(content)


def test_programme_page_and_cycle_before_any_ranking(db: Database, server: str, browser, admin) -> None:
    small_registry(db, admin)
    insert_programme(db, "BLT-APBD", name="BLT-APBD", amount=250_000)  # status == "aktif": no desil needed
    add_user(db, "pembuat", Role.ADMIN, "32.75", "Admin Pembuat")
    with logged_in(browser, server, "pembuat") as page:
        page.goto(f"{server}/program/BLT-APBD")
        assert page.locator("#jumlah-kandidat").inner_text() == str(HERE + THERE)
        page.get_by_role("link", name="Semua program").click()
        page.get_by_role("link", name="Siklus bantuan").first.click()
        page.get_by_label(re.compile("^Nama")).fill("BLT-APBD Agustus 2025")
        page.get_by_label("Awal periode").fill("2025-08-01")
        page.get_by_label("Akhir periode").fill("2025-08-31")
        page.get_by_role("button", name="Buat siklus").click()
        page.wait_for_url(re.compile(r"/siklus/\d+$"))
        page.get_by_role("button", name="Susun daftar penerima").click()
        assert page.locator("#jumlah-penerima").inner_text().startswith(f"{HERE + THERE} ")
