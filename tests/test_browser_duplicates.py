"""The *Duplikat* page in a real browser (Debian's chromium through Playwright): an outside list linked to the
registry of the user's area."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tepat.domain.access import Role
from tepat.store.database import Database
from tests.browser_support import log_in, serve
from tests.factories import KELURAHAN, make_family, member_values
from tests.test_web_support import add_user, make_app

pytestmark = pytest.mark.browser


@pytest.fixture
def server(db: Database, tmp_path: Path) -> Iterator[str]:
    with serve(make_app(db, tmp_path)) as base:
        yield base


def test_an_outside_list_is_linked_from_the_duplicates_page(
    db: Database, server: str, browser, admin, tmp_path: Path
) -> None:
    people = [
        ("Budi Santoso", "L", date(1980, 5, 17)),
        ("Rina Lestari", "P", date(1991, 2, 3)),
        ("Agus Salim", "L", date(1975, 8, 9)),
        ("Dewi Kartika", "P", date(2001, 12, 24)),
    ]
    for name, sex, born in people:
        make_family(db, admin, KELURAHAN, members=[member_values(name, sex, born)])
    add_user(db, "ani", Role.OPERATOR, KELURAHAN, "Ani Rahayu")
    listed = tmp_path / "kip.csv"
    listed.write_text("no,nama,tanggal_lahir\nA1,RINA LESTARI,03/02/1991\nA2,Joko Widodo,21/06/1961\n")
    page = browser.new_context().new_page()
    log_in(page, server, "ani")
    page.goto(f"{server}/duplikat")
    page.get_by_label("Berkas daftar (.csv atau .xlsx)").set_input_files(str(listed))
    page.get_by_label("Kolom id di daftar").fill("no")
    page.get_by_role("button", name="Tautkan ke registri").click()
    page.wait_for_selector("#tautan-siap", timeout=60_000)
    table = page.locator("#hasil-tautan").inner_text()
    assert "A1\tcocok" in table and "Rina Lestari" in table
    assert "A2\ttidak ada" in table
    assert page.get_by_role("link", name="Unduh tautan-kip.csv").is_visible()
