"""Payment pages: roles and areas, CSRF, batch form, file download, result upload with outcome and mismatches."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.files.payment_files import result_file_bytes
from tepat.services import payments
from tepat.store.database import Database
from tests.payment_support import FINANCE, KELURAHAN, paying_cycle
from tests.test_web_support import add_user, fill_path, login, make_app, page_routes


@pytest.fixture
def web(db: Database, tmp_path: Path, admin):
    cycle = paying_cycle(db, admin, here=2, there=1)
    add_user(db, "siti", Role.FINANCE, "32.75")
    add_user(db, "keulokal", Role.FINANCE, "32.75.02")
    add_user(db, "ana", Role.ANALYST, "32.75")
    add_user(db, "opi", Role.OPERATOR, KELURAHAN)
    app = make_app(db, tmp_path)
    return app, cycle


def client_for(app, username: str) -> tuple[TestClient, str]:
    client = TestClient(app, raise_server_exceptions=False)
    return client, login(client, username)


def _make_batch(client: TestClient, csrf: str, cycle: int, **extra: str):
    return client.post(
        "/pembayaran/baru",
        data={"csrf_token": csrf, "siklus": str(cycle), "kanal": "bank", **extra},
        follow_redirects=False,
    )


def test_finance_creates_exports_and_imports_through_the_pages(db: Database, web) -> None:
    app, cycle = web
    client, csrf = client_for(app, "siti")
    form = client.get(f"/pembayaran/baru?siklus={cycle}")
    assert form.status_code == 200 and "Siklus uji" in form.text
    made = _make_batch(client, csrf, cycle)
    assert made.status_code == 303 and made.headers["location"] == "/pembayaran/1?ok=dibuat"
    page = client.get(made.headers["location"])
    assert "Batch dibuat." in page.text and "3 baris · Rp750.000" in page.text
    download = client.post("/pembayaran/1/ekspor", data={"csrf_token": csrf})
    assert download.status_code == 200 and 'filename="BYR-' in download.headers["content-disposition"]
    assert download.content.splitlines()[-1].startswith(b"#KONTROL;batch=BYR-")
    assert client.post("/pembayaran/1/ekspor", data={"csrf_token": csrf}).content == download.content
    assert payments.get_batch(db, FINANCE, 1).batch.file_name == "BYR-00001-001.csv"
    rows = list(csv.reader(io.StringIO(download.text)))[1:-1]
    result = result_file_bytes(
        [
            (rows[0][0], rows[0][1], 250000, "SUKSES", "", "", ""),
            (rows[1][0], rows[1][1], 250000, "GAGAL", "Rekening tutup", "", ""),
            (rows[2][0], rows[2][1], 100000, "SUKSES", "", "", ""),
        ]
    )
    uploaded = client.post(
        "/pembayaran/1/hasil", data={"csrf_token": csrf}, files={"berkas": ("hasil.csv", result, "text/csv")}
    )
    assert uploaded.status_code == 200
    assert (
        "3 baris dibaca." in uploaded.text
        and "Diterapkan: 2" in uploaded.text
        and "Tidak cocok: 1" in uploaded.text
    )
    assert 'id="selisih"' in uploaded.text and "jumlah kami 250000, berkas 100000" in uploaded.text
    assert 'id="gagal"' in uploaded.text and "Rekening tutup" in uploaded.text
    again = client.post(
        "/pembayaran/1/hasil", data={"csrf_token": csrf}, files={"berkas": ("hasil.csv", result, "text/csv")}
    )
    assert "sudah pernah diimpor" in again.text
    recon = client.get("/pembayaran/1/rekonsiliasi")
    assert recon.status_code == 200 and "Bekasijaya" in recon.text and "Belum seimbang" in recon.text
    assert rows[2][0] in recon.text  # the mismatching reference, for finance
    # Retry the failed one in a new batch; cancel the other entitlement afterwards is refused (it is on its way).
    retry = client.post(
        "/pembayaran/1/ulang", data={"csrf_token": csrf, "kanal": "pos"}, follow_redirects=False
    )
    assert retry.status_code == 303 and retry.headers["location"] == "/pembayaran/2?ok=dibuat"
    assert "Tunai melalui PT Pos" in client.get("/pembayaran/2").text
    listing = client.get(f"/pembayaran?siklus={cycle}")
    assert "BYR-" in listing.text and listing.text.count('href="/pembayaran/1"') == 1


def test_tampered_upload_is_rejected_with_the_reason(db: Database, web) -> None:
    app, cycle = web
    client, csrf = client_for(app, "siti")
    _make_batch(client, csrf, cycle)
    rows = list(csv.reader(io.StringIO(client.post("/pembayaran/1/ekspor", data={"csrf_token": csrf}).text)))[
        1:-1
    ]
    result = result_file_bytes([(r[0], r[1], 250000, "SUKSES", "", "", "") for r in rows]).replace(
        b"SUKSES", b"GAGAL", 1
    )
    page = client.post(
        "/pembayaran/1/hasil", data={"csrf_token": csrf}, files={"berkas": ("hasil.csv", result, "text/csv")}
    )
    assert (
        page.status_code == 422
        and "checksum tidak cocok" in page.text
        and "Checksum SHA-256 tidak sama" in page.text
    )
    assert payments.get_batch(db, FINANCE, 1).states == {"dikirim": 3}
    wrong_type = client.post(
        "/pembayaran/1/hasil",
        data={"csrf_token": csrf},
        files={"berkas": ("hasil.pdf", b"%PDF", "application/pdf")},
    )
    assert wrong_type.status_code == 422 and "Pilih berkas hasil .csv atau .xlsx" in wrong_type.text


def test_cancel_needs_a_reason_and_csrf(db: Database, web) -> None:
    app, cycle = web
    client, csrf = client_for(app, "siti")
    _make_batch(client, csrf, cycle)
    assert client.post("/pembayaran/1/batal", data={"alasan": "tanpa token"}).status_code == 403
    empty = client.post("/pembayaran/1/batal", data={"csrf_token": csrf, "alasan": ""})
    assert empty.status_code == 422 and "Alasan pembatalan wajib diisi" in empty.text
    done = client.post(
        "/pembayaran/1/batal", data={"csrf_token": csrf, "alasan": "Salah kanal"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert "Batch dibatalkan" in client.get(done.headers["location"]).text
    assert payments.get_batch(db, FINANCE, 1).states == {"dibatalkan": 3}


def test_roles_and_areas_on_the_pages(db: Database, web) -> None:
    app, cycle = web
    siti, csrf = client_for(app, "siti")
    _make_batch(siti, csrf, cycle)
    operator, op_csrf = client_for(app, "opi")
    assert operator.get("/pembayaran").status_code == 403
    assert _make_batch(operator, op_csrf, cycle).status_code == 403
    assert operator.get("/pembayaran/1/rekonsiliasi").status_code == 403
    for method, path in page_routes(app):  # every payment page refuses an operator, without crashing
        if path.startswith("/pembayaran"):
            url = fill_path(path, batch_id=1, cycle_id=cycle)
            answer = (
                operator.get(url)
                if method == "GET"
                else operator.post(url, data={"csrf_token": op_csrf, "alasan": "uji akses"})
            )
            assert answer.status_code == 403, (method, path, answer.status_code)
    assert payments.get_batch(db, FINANCE, 1).states == {"dikirim": 3}
    local, local_csrf = client_for(
        app, "keulokal"
    )  # finance of another kecamatan: a city-wide batch is not theirs
    assert local.get("/pembayaran/1").status_code == 404
    assert local.post("/pembayaran/1/ekspor", data={"csrf_token": local_csrf}).status_code == 404
    assert "BYR-" not in local.get("/pembayaran").text
    analyst, _ = client_for(app, "ana")
    assert analyst.get("/pembayaran").status_code == 200
    assert analyst.get("/pembayaran/1").status_code == 403
    recon = analyst.get("/pembayaran/1/rekonsiliasi")
    assert recon.status_code == 200 and "Analis melihat jumlah selisih saja" in recon.text
    assert (
        "Budi Santoso" not in recon.text and re.search(r"\b\d{16}\b", recon.text) is None
    )  # no name, no NIK
    assert "P1-" not in recon.text  # no reference either
    cycle_page = analyst.get(f"/pembayaran/siklus/{cycle}/rekonsiliasi")
    assert cycle_page.status_code == 200 and "Dibayar lebih dari sekali: 0" in cycle_page.text
