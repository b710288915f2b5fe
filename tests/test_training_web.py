"""The training page (issue 18 point 4): an operator enrols, records attendance, prints the sheet and finishes
the seats of their kelurahan; the cycle then closes. Another area's seats are neither shown nor changed."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.services import cycles, programmes
from tepat.store.schema import entitlements
from tests.document_data import pdf_text
from tests.factories import KELURAHAN
from tests.programme_support import CHECKER, ranked_registry
from tests.test_web_support import add_user, finished_job, login, make_app

START, END = date(2026, 8, 3), date(2026, 8, 28)


@pytest.fixture
def batch(db, admin, tmp_path: Path) -> int:
    ranked_registry(db, admin, tmp_path)
    programmes.seed_catalogue(db, admin)
    programmes.update_programme(
        db, admin, "BLK", 1, {"rule": 'status == "aktif"', "member_rule": "umur >= 18", "quota": None}
    )
    cycle_id = cycles.create_cycle(
        db, admin, "BLK", name="BLK Angkatan I 2026", period_start=START, period_end=END
    )
    cycles.generate(db, admin, cycle_id)
    cycles.submit(db, admin, cycle_id)
    cycles.approve(db, CHECKER, cycle_id)
    return cycle_id


def _seats(db, cycle_id: int) -> list[dict]:
    with db.read() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.select(entitlements)
                .where(entitlements.c.cycle_id == cycle_id)
                .order_by(entitlements.c.rank)
            ).mappings()
        ]


def test_an_operator_runs_the_seats_of_their_kelurahan_from_the_page(
    db, admin, batch, tmp_path: Path
) -> None:
    seats = _seats(db, batch)
    mine = [s for s in seats if s["kelurahan_code"] == KELURAHAN and s["state"] == "terjadwal"]
    theirs = [s for s in seats if s["kelurahan_code"] != KELURAHAN and s["state"] == "terjadwal"]
    assert len(mine) >= 2 and theirs
    add_user(db, "ani", Role.OPERATOR, KELURAHAN, "Ani Rahayu")
    client = TestClient(make_app(db, tmp_path))
    csrf = login(client, "ani")
    cycle_page = client.get(f"/siklus/{batch}")
    assert (
        f'href="/siklus/{batch}/pelatihan"' in cycle_page.text
        and "/pembayaran?siklus=" not in cycle_page.text
    )
    page = client.get(f"/siklus/{batch}/pelatihan")
    assert page.status_code == 200 and mine[0]["recipient_name"] in page.text
    assert (
        theirs[0]["recipient_name"] not in page.text and mine[0]["recipient_nik"] not in page.text
    )  # NIK masked
    url = f"/siklus/{batch}/pelatihan"
    refused = client.post(
        url + "/kursi", data={"csrf_token": csrf, "aksi": "daftar", "kursi": [str(theirs[0]["id"])]}
    )
    assert refused.status_code == 404 and "di luar wilayah Anda" in refused.text
    enrolled = client.post(
        url + "/kursi",
        data={"csrf_token": csrf, "aksi": "daftar", "kursi": [str(mine[0]["id"]), str(mine[1]["id"])]},
    )
    assert enrolled.status_code == 200 and "Tersimpan." in enrolled.text  # followed to the page
    no_reason = client.post(
        url + "/kursi", data={"csrf_token": csrf, "aksi": "tidak_lulus", "kursi": [str(mine[1]["id"])]}
    )
    assert no_reason.status_code == 422 and "Alasan tidak lulus wajib diisi" in no_reason.text
    day = START.isoformat()
    attended = client.post(
        url + "/hadir", data={"csrf_token": csrf, "tanggal": day, "hadir": [str(mine[0]["id"])]}
    )
    assert attended.status_code == 200 and f'value="{mine[0]["id"]}" checked' in attended.text
    assert f'value="{mine[1]["id"]}" checked' not in attended.text
    future = client.post(
        url + "/hadir", data={"csrf_token": csrf, "tanggal": (date.today() + timedelta(days=400)).isoformat()}
    )
    assert future.status_code == 422
    sheet = finished_job(
        client,
        client.post(
            url + "/daftar-hadir", data={"csrf_token": csrf, "hari": [day, ""]}, follow_redirects=False
        ),
    )
    assert 'id="dokumen-siap"' in sheet.text
    pdf = client.get(sheet.text.split('<a class="tombol" href="')[1].split('"')[0])
    text = pdf_text(pdf.content)
    assert (
        mine[0]["recipient_name"] in text and "03-08-2026" in text and theirs[0]["recipient_name"] not in text
    )
    for seat, action, note in ((mine[0], "lulus", ""), (mine[1], "tidak_lulus", "pindah kerja ke luar kota")):
        done = client.post(
            url + "/kursi",
            data={"csrf_token": csrf, "aksi": action, "alasan": note, "kursi": [str(seat["id"])]},
        )
        assert done.status_code == 200 and "Tersimpan." in done.text
    states = {s["id"]: s["state"] for s in _seats(db, batch)}
    assert states[mine[0]["id"]] == "selesai" and states[mine[1]["id"]] == "tidak_lulus"
    assert states[theirs[0]["id"]] == "terjadwal"


def test_a_finished_batch_closes_and_its_page_says_so(db, admin, batch, tmp_path: Path) -> None:
    open_ = [s["id"] for s in _seats(db, batch) if s["state"] == "terjadwal"]
    from tepat.services import training

    training.decline(db, admin, batch, open_, "angkatan dibatalkan karena banjir")
    add_user(db, "dinsos", Role.ADMIN, "32.75")
    client = TestClient(make_app(db, tmp_path))
    csrf = login(client, "dinsos")
    assert "semua kursi sudah selesai" in client.get(f"/siklus/{batch}/pelatihan").text
    closed = client.post(f"/siklus/{batch}/langkah", data={"csrf_token": csrf, "langkah": "tutup"})
    assert closed.status_code == 200 and "Ditutup" in closed.text
    assert 'name="aksi"' not in client.get(f"/siklus/{batch}/pelatihan").text  # nothing left to change
