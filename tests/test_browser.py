"""A real browser (Debian's chromium through Playwright) against the app served by uvicorn."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tepat.domain.access import Role
from tepat.services import registry_reads
from tepat.store.database import Database
from tests.browser_support import log_in, serve
from tests.factories import make_family
from tests.test_web_support import add_user, make_app

pytestmark = pytest.mark.browser

KEL = "32.75.01.1001"
RT = re.compile(r"^RT\b")  # the label is "RT *" (required mark)


@pytest.fixture
def server(db: Database, tmp_path: Path) -> Iterator[str]:
    with serve(make_app(db, tmp_path)) as base:
        yield base


def test_login_search_open_and_edit_a_family(db: Database, server: str, browser, admin) -> None:
    add_user(db, "ani", Role.OPERATOR, KEL, "Ani Rahayu")
    family_id = make_family(db, admin, KEL)
    context = browser.new_context()
    page = context.new_page()
    log_in(page, server, "ani")
    assert "Ani Rahayu" in page.locator("#siapa").inner_text()
    assert "Bekasijaya" in page.locator("#siapa").inner_text()

    page.get_by_label("Cari NIK, nomor KK, atau nama").fill("santoso")
    page.get_by_role("button", name="Cari").click()
    page.get_by_role("link", name="Budi Santoso").click()
    page.wait_for_url(f"{server}/keluarga/{family_id}")
    assert "Siti Aminah" in page.locator("#anggota").inner_text()

    page.get_by_role("link", name="Ubah data keluarga").click()
    page.get_by_label(RT).fill("0")
    page.get_by_label("Alamat", exact=True).fill("Jl. Anggrek 12")
    page.get_by_label("Alasan perubahan").fill("koreksi hasil verifikasi")
    page.get_by_role("button", name="Simpan").click()
    error = page.locator("#f-rt-galat")
    assert error.is_visible() and "paling kecil 1" in error.inner_text()
    assert (
        page.get_by_label("Alamat", exact=True).input_value() == "Jl. Anggrek 12"
    )  # the user's input is kept
    assert page.get_by_label(RT).get_attribute("aria-describedby") == "f-rt-galat"

    page.get_by_label(RT).fill("6")
    page.get_by_role("button", name="Simpan").click()
    page.wait_for_url(f"{server}/keluarga/{family_id}?pesan=disimpan")
    assert "Perubahan tersimpan." in page.content()
    assert "RT 006" in page.locator("p.ringkas").inner_text()
    saved = registry_reads.get_family(db, admin, family_id).family
    assert (saved["rt"], saved["address"], saved["changed_by"]) == (6, "Jl. Anggrek 12", "ani")
    assert "koreksi hasil verifikasi" in page.locator("#riwayat").inner_text()
    context.close()


def test_pages_fit_a_phone_screen(db: Database, server: str, browser, admin) -> None:
    add_user(db, "ani", Role.OPERATOR, KEL, "Ani Rahayu")
    family_id = make_family(db, admin, KEL)
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, server, "ani")
    for path in ("/", f"/keluarga/{family_id}", f"/keluarga/{family_id}/ubah", "/cari?q=budi"):
        page.goto(server + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
    page.goto(f"{server}/keluarga/{family_id}/ubah")
    box = page.get_by_label(RT).bounding_box()
    assert box is not None and box["height"] >= 40 and box["width"] > 250  # one column, thumb-sized inputs
    context.close()


def test_statistics_charts_stay_readable_on_a_phone(db: Database, server: str, browser, admin) -> None:
    """Issue 12 point 17: at 360 px a chart keeps text of about 10 px and scrolls sideways inside its box; the page
    itself does not."""
    add_user(db, "analis", Role.ANALYST, "32.75")
    make_family(db, admin, KEL)
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, server, "analis")
    page.goto(f"{server}/statistik")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"/statistik scrolls sideways by {overflow}px"
    heights = page.evaluate("""[...document.querySelectorAll('#grafik-tren svg text')]
        .map(t => t.getBoundingClientRect().height).filter(h => h > 0)""")
    assert heights and min(heights) >= 9, heights
    scrolls = page.evaluate(
        "(() => { const box = document.querySelector('#grafik-tren .grafik-svg');"
        " return box.scrollWidth > box.clientWidth; })()"
    )
    assert scrolls
    context.close()
