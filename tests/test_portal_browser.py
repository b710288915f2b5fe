"""The public pages in a real browser (Debian's chromium through Playwright), on a phone-sized screen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tepat.store.database import Database
from tests.browser_support import serve
from tests.factories import kk, make_family, member_values
from tests.test_portal_support import citizen_app, solve

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 640}  # a cheap Android phone


@pytest.fixture
def server(db: Database, tmp_path: Path) -> Iterator[str]:
    with serve(citizen_app(db, tmp_path)) as base:
        yield base


@pytest.fixture
def phone(browser) -> Iterator[object]:
    # No JavaScript at all: the pages must work without it.
    context = browser.new_context(
        viewport=PHONE, java_script_enabled=False, is_mobile=True, device_scale_factor=2
    )
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.requests = requests
    try:
        yield page
    finally:
        context.close()


def _answer(page) -> None:
    label = page.locator("label[for=jawaban]").inner_text()
    page.get_by_label(re.compile("Soal pengaman")).fill(solve(label.replace("Soal pengaman: ", "")))


def test_status_check_on_a_phone_without_javascript(db: Database, admin, server: str, phone) -> None:
    head = member_values("Alexander Zulkarnain", "L", date(1980, 5, 17))
    number = kk()
    make_family(db, admin, members=[head], kk_number=number)
    phone.goto(f"{server}/cek")
    phone.get_by_label("NIK (16 angka)").fill(head["nik"])
    phone.get_by_label(re.compile("Nomor Kartu Keluarga")).fill(number)
    _answer(phone)
    phone.get_by_role("button", name="Cek").click()
    phone.wait_for_url(f"{server}/cek")
    result = phone.locator("#hasil")
    assert "AL******R Z********N" in result.inner_text()
    assert "Bekasijaya" in result.inner_text()
    assert phone.locator("form").count() == 0  # the answer page asks nothing more
    # everything came from our own server: no CDN, no fonts, no scripts
    assert phone.requests and all(u.startswith(server) for u in phone.requests)
    assert phone.locator("main").bounding_box()["width"] <= PHONE["width"]
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling

    phone.goto(f"{server}/cek")
    phone.get_by_label("NIK (16 angka)").fill("3275011705809999")
    phone.get_by_label(re.compile("Nomor Kartu Keluarga")).fill(number)
    _answer(phone)
    phone.get_by_role("button", name="Cek").click()
    assert "Data tidak ditemukan" in phone.locator("#pesan").inner_text()


def test_pengaduan_then_tracking_on_a_phone(server: str, phone) -> None:
    phone.goto(f"{server}/layanan/pengaduan")
    phone.get_by_label("Kategori").select_option("bantuan_belum_diterima")
    phone.get_by_label("Kelurahan").select_option("32.75.01.1001")
    phone.get_by_label("Uraian pengaduan").fill("BPNT bulan ini belum masuk ke kartu")
    _answer(phone)
    for field in phone.locator("input:visible, select:visible, textarea:visible, button:visible").all():
        box = field.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1
    phone.get_by_role("button", name="Kirim pengaduan").click()
    number = phone.locator("#nomor").inner_text()
    assert re.fullmatch(r"P-[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]", number)
    phone.get_by_role("link", name="Lacak sekarang").click()
    assert "Diterima" in phone.locator("#lacak").inner_text()
    assert "belum masuk" not in phone.content()  # the complaint text is not public


def test_verifier_visit_on_a_phone(db: Database, admin, server: str, browser) -> None:
    from tepat.domain.access import Role
    from tepat.services import registry_reads
    from tests.test_web_support import PASSWORD, add_user

    family_id = make_family(db, admin, floor_material="keramik")
    add_user(db, "vera", Role.VERIFIER, "32.75.01.1001", "Vera Verifikator")
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(f"{server}/verifikasi")
        page.get_by_label("Nama pengguna").fill("vera")
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.wait_for_url(f"{server}/verifikasi")
        page.locator(f'a[href="/verifikasi/keluarga/{family_id}"]').click()
        page.get_by_label("Jenis lantai terluas").select_option("tanah")
        page.get_by_label("Hasil kunjungan").select_option("layak")
        page.get_by_label("Catatan").fill("Lantai tanah di dapur dan kamar")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_role("button", name="Simpan kunjungan").click()
        page.wait_for_url(re.compile(r"/verifikasi\?ok=1$"))
        assert "Kunjungan tersimpan" in page.content()
    finally:
        context.close()
    family = registry_reads.get_family(db, admin, family_id).family
    assert family["floor_material"] == "tanah" and family["verification_status"] == "terverifikasi"
