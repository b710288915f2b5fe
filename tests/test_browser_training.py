"""The training page in a real browser (issue 18 point 4): an operator enrols two participants, records a day's
attendance, prints the attendance sheet, passes one and fails the other with a note."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tepat.domain.access import Role
from tepat.store.database import Database
from tepat.store.schema import entitlements
from tests.browser_programme_support import download_bytes, logged_in
from tests.browser_support import serve
from tests.document_data import pdf_text
from tests.factories import KELURAHAN
from tests.test_programme_completion import START, batch, ranked  # noqa: F401 (fixtures)
from tests.test_web_support import add_user, make_app

pytestmark = pytest.mark.browser


@pytest.fixture
def server(db: Database, tmp_path: Path) -> Iterator[str]:
    with serve(make_app(db, tmp_path)) as base:
        yield base


def test_an_operator_runs_a_training_batch_in_the_browser(db: Database, server: str, browser, batch) -> None:  # noqa: F811
    with db.read() as conn:
        first, second = [
            dict(r)
            for r in conn.execute(
                sa.select(entitlements.c.id, entitlements.c.recipient_name)
                .where(
                    entitlements.c.cycle_id == batch,
                    entitlements.c.kelurahan_code == KELURAHAN,
                    entitlements.c.state == "terjadwal",
                )
                .order_by(entitlements.c.rank)
                .limit(2)
            ).mappings()
        ]
    add_user(db, "ani", Role.OPERATOR, KELURAHAN, "Ani Rahayu")
    with logged_in(browser, server, "ani") as page:
        page.goto(f"{server}/siklus/{batch}")
        page.get_by_role("link", name="Peserta pelatihan (pendaftaran, kehadiran, kelulusan)").click()
        page.wait_for_url(f"{server}/siklus/{batch}/pelatihan")
        for seat in (first, second):
            page.get_by_label(f"Pilih {seat['recipient_name']}").check()
        page.get_by_role("button", name="Daftarkan").click()
        expect(page.get_by_role("status")).to_have_text("Tersimpan.")
        for seat in (first, second):
            row = page.locator(f'#kursi-pelatihan tr[data-kursi="{seat["id"]}"]')
            expect(row).to_contain_text("Terdaftar (peserta)")
        page.get_by_label("Tanggal pelatihan").fill(START.isoformat())
        page.locator("#form-hadir").get_by_label(first["recipient_name"]).check()
        page.get_by_role("button", name="Simpan kehadiran").click()
        expect(page.locator(f'#kursi-pelatihan tr[data-kursi="{first["id"]}"]')).to_contain_text("1 / 1")
        expect(page.locator(f'#kursi-pelatihan tr[data-kursi="{second["id"]}"]')).to_contain_text("0 / 1")
        page.get_by_label("Hari 1").fill(START.isoformat())
        page.get_by_role("button", name="Cetak daftar hadir (PDF)").click()
        expect(page.locator("#dokumen-siap")).to_be_visible(timeout=20_000)
        name, content = download_bytes(page, page.get_by_role("link", name="Unduh").click)
        assert name.endswith(".pdf") and first["recipient_name"] in pdf_text(content)
        page.goto(f"{server}/siklus/{batch}/pelatihan")
        page.get_by_label(f"Pilih {first['recipient_name']}").check()
        page.get_by_role("button", name="Lulus (selesai)").click()
        expect(page.get_by_role("status")).to_have_text("Tersimpan.")
        page.get_by_label(f"Pilih {second['recipient_name']}").check()
        page.get_by_role("button", name="Tidak lulus / berhenti").click()
        expect(page.get_by_role("alert")).to_contain_text("Alasan tidak lulus wajib diisi")
        page.get_by_label(f"Pilih {second['recipient_name']}").check()
        page.get_by_label("Alasan / catatan").fill("berhenti, bekerja di pabrik")
        page.get_by_role("button", name="Tidak lulus / berhenti").click()
        expect(page.locator(f'#kursi-pelatihan tr[data-kursi="{second["id"]}"]')).to_contain_text(
            "Tidak lulus / berhenti"
        )
        expect(page.locator(f'#kursi-pelatihan tr[data-kursi="{first["id"]}"]')).to_contain_text("Selesai")
