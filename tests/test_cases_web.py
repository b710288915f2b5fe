"""Operator pages for cases: lists, overdue flag, steps with the BA upload, evidence files, verification visits."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.services import case_submissions, cases, registry_reads
from tests.factories import KELURAHAN, OTHER_KELURAHAN, family_values, make_family, member_values
from tests.test_portal_support import citizen_app
from tests.test_web_support import add_user, login

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 300
PDF = b"%PDF-1.4\n" + b"x" * 300


@pytest.fixture
def app(db, tmp_path: Path):
    return citizen_app(db, tmp_path)


def _client(app, db, username: str, role: Role, area: str) -> tuple[TestClient, str]:
    add_user(db, username, role, area)
    client = TestClient(app)
    return client, login(client, username)


def _usul(db, app) -> str:
    head = member_values("Joko Susilo", "L", date(1975, 1, 9))
    return case_submissions.submit_usul(
        db,
        Path(app.state.settings.upload_dir),
        family=family_values(),
        members=[head],
        proposer_name="Joko",
        proposer_contact="0812",
        reason="PHK",
        evidence=[case_submissions.Evidence(io.BytesIO(JPEG), "foto_rumah")],
    )


def _id(db, admin, number: str) -> int:
    return next(c.id for c in cases.list_cases(db, admin) if c.tracking_number == number)


def test_anonymous_users_are_sent_to_login(app) -> None:
    with TestClient(app) as client:
        for path in ("/kasus", "/verifikasi", "/kasus/1", "/kasus/berkas/1"):
            r = client.get(path, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/masuk"), path


def test_operator_moves_an_usul_and_needs_the_ba(app, db, admin) -> None:
    number = _usul(db, app)
    case_id = _id(db, admin, number)
    client, csrf = _client(app, db, "ani", Role.OPERATOR, KELURAHAN)
    listing = client.get("/kasus?jenis=usul")
    assert number in listing.text
    page = client.get(f"/kasus/{case_id}")
    assert "Joko Susilo" in page.text and "Masuk daftar kelurahan" in page.text
    for step in ("daftar_kelurahan", "musyawarah"):
        r = client.post(
            f"/kasus/{case_id}/langkah",
            data={"csrf_token": csrf, "ke": step, "jenis": "usul"},
            follow_redirects=False,
        )
        assert r.status_code == 303
    missing = client.post(
        f"/kasus/{case_id}/langkah", data={"csrf_token": csrf, "ke": "verifikasi", "jenis": "usul"}
    )
    assert missing.status_code == 422 and "Berita Acara" in missing.text
    done = client.post(
        f"/kasus/{case_id}/langkah",
        data={"csrf_token": csrf, "ke": "verifikasi", "jenis": "usul", "catatan": "BA 12/III/2026"},
        files={"berkas": ("ba.pdf", io.BytesIO(PDF), "application/pdf")},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get(f"/kasus/{case_id}")
    assert "Verifikasi lapangan" in page.text and "BA 12/III/2026" in page.text
    link = re.findall(r'href="/kasus/berkas/(\d+)"', page.text)
    assert len(link) == 2
    files = [client.get(f"/kasus/berkas/{i}") for i in link]
    assert {f.headers["content-type"] for f in files} == {"image/jpeg", "application/pdf"}
    assert files[1].content == PDF and "attachment" in files[1].headers["content-disposition"]
    # no CSRF token, no step
    r = client.post(f"/kasus/{case_id}/langkah", data={"ke": "persetujuan"})
    assert r.status_code == 403

    outsider, _ = _client(app, db, "budi", Role.OPERATOR, OTHER_KELURAHAN)
    assert outsider.get(f"/kasus/{case_id}").status_code == 404
    assert outsider.get(f"/kasus/berkas/{link[0]}").status_code == 404
    assert number not in outsider.get("/kasus").text
    analyst, _ = _client(app, db, "ana", Role.ANALYST, "32.75")
    assert (
        analyst.get(f"/kasus/berkas/{link[0]}").status_code == 403
    )  # refused by role, before the file is looked up


def test_admin_sees_overdue_sanggah_flagged(app, db, admin) -> None:
    disputer = member_values("Dewi", "P", date(1990, 6, 12))
    make_family(db, admin, members=[disputer])
    long_ago = datetime.now(UTC) - timedelta(days=20)
    number = case_submissions.submit_sanggah(
        db,
        Path(app.state.settings.upload_dir),
        app.state.settings.secret_key,
        disputer_nik=disputer["nik"],
        disputer_proof="Dewi",
        factor="nama",
        target_description="Pak X",
        reason="mampu",
        clock=lambda: long_ago,
        evidence=[case_submissions.Evidence(io.BytesIO(b"\xff\xd8\xff\xe0" + b"\x00" * 64), "bukti")],
    )
    client, _ = _client(app, db, "kadis", Role.ADMIN, "32.75")
    page = client.get("/kasus")
    assert (
        'id="sanggah-terlambat"' in page.text
        and number in page.text
        and "1 sanggah melewati batas 14 hari" in page.text
    )
    operator, _ = _client(app, db, "ani", Role.OPERATOR, KELURAHAN)
    assert 'id="sanggah-terlambat"' not in operator.get("/kasus").text
    assert number in operator.get("/kasus?terlambat=1").text


def test_verifier_work_list_and_visit_on_a_phone_form(app, db, admin) -> None:
    family_id = make_family(db, admin, floor_material="keramik")
    client, csrf = _client(app, db, "vera", Role.VERIFIER, KELURAHAN)
    work = client.get("/verifikasi")
    assert f'href="/verifikasi/keluarga/{family_id}"' in work.text
    form = client.get(f"/verifikasi/keluarga/{family_id}")
    assert form.status_code == 200 and 'capture="environment"' in form.text
    version = re.search(r'name="versi" value="(\d+)"', form.text).group(1)
    bad = client.post(
        f"/verifikasi/keluarga/{family_id}",
        data={"csrf_token": csrf, "versi": version, "keputusan": "layak", "lintang": "999", "bujur": "1"},
    )
    assert bad.status_code == 422 and "GPS" in bad.text
    r = client.post(
        f"/verifikasi/keluarga/{family_id}",
        data={
            "csrf_token": csrf,
            "versi": version,
            "keputusan": "layak",
            "floor_material": "tanah",
            "asset_tv": "1",
            "catatan": "Lantai tanah",
            "lintang": "-6.24",
            "bujur": "106.99",
        },
        files={"foto": ("r.jpg", io.BytesIO(JPEG), "image/jpeg")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    fam = registry_reads.get_family(db, admin, family_id).family
    assert (
        fam["floor_material"] == "tanah"
        and fam["verification_status"] == "terverifikasi"
        and fam["asset_tv"] is True
    )
    assert f'href="/verifikasi/keluarga/{family_id}"' not in client.get("/verifikasi").text


def test_operator_enters_an_usul_and_finds_it_by_number(app, db, admin) -> None:
    client, csrf = _client(app, db, "ani", Role.OPERATOR, KELURAHAN)
    form = client.get("/kasus/usul/baru")
    assert (
        form.status_code == 200 and 'value="32.75.01.1001"' in form.text and "32.75.02.1001" not in form.text
    )
    head = member_values("Sari Dewi", "P", date(1985, 3, 8))
    data = {
        "csrf_token": csrf,
        "nama": "Ketua RT 05",
        "kelurahan_code": KELURAHAN,
        "kk_number": family_values()["kk_number"],
        "rw": "3",
        "rt": "5",
        "nama_0": head["name"],
        "nik_0": head["nik"],
        "lahir_0": "08-03-1985",
        "jk_0": "P",
        "hubungan_0": "kepala_keluarga",
        "alasan": "Janda, tiga anak",
    }
    missing = client.post("/kasus/usul/baru", data=data)
    assert (
        missing.status_code == 422 and "foto" in missing.text.lower() and 'value="Sari Dewi"' in missing.text
    )
    saved = client.post(
        "/kasus/usul/baru",
        data=data,
        files={"foto": ("r.jpg", io.BytesIO(JPEG), "image/jpeg")},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = client.get(saved.headers["location"])
    assert "Sari Dewi" in page.text and "Langkah tersimpan" in page.text
    number = re.search(r"<h1>Usul ([A-Z0-9-]+)</h1>", page.text).group(1)
    found = client.get(f"/kasus?nomor={number.lower()}", follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == saved.headers["location"].split("?")[0]
    detail = cases.get_case(db, admin, int(found.headers["location"].rsplit("/", 1)[1]))
    assert detail.case.created_by == "ani"
    verifier, _ = _client(app, db, "vera", Role.VERIFIER, KELURAHAN)
    assert verifier.get("/kasus/usul/baru").status_code == 403


def test_verifier_work_list_counts_all_pages_filters_prints_and_downloads(app, db, admin) -> None:
    due = [make_family(db, admin, rw=1 + i % 3) for i in range(55)]
    client, _ = _client(app, db, "vera", Role.VERIFIER, KELURAHAN)
    first = client.get("/verifikasi")
    assert 'id="jumlah-jatuh-tempo">55<' in first.text and "hal=2" in first.text
    second = client.get("/verifikasi?hal=2")
    assert len(re.findall(r'href="/verifikasi/keluarga/\d+"', second.text)) == 5
    rw2 = client.get("/verifikasi?rw=2&urut=wilayah")
    assert 'id="jumlah-jatuh-tempo">18<' in rw2.text
    printed = client.get("/verifikasi?rw=2&cetak=1")
    assert (
        printed.status_code == 200
        and "Hasil kunjungan" in printed.text
        and printed.text.count("<tr>") == 18 + 1
    )
    csv = client.get("/verifikasi/daftar.csv?rw=2")
    assert csv.headers["content-type"].startswith("text/csv") and len(csv.text.strip().splitlines()) == 18 + 1
    assert csv.text.splitlines()[0] == "kelurahan,rw,rt,alamat,kepala_keluarga,terakhir_diverifikasi"
    assert len(due) == 55


def test_the_usul_page_names_relationships_by_their_label_not_their_code(app, db, admin) -> None:
    """Issue 12 point 11: no raw codes on pages."""
    head = member_values("Joko Susilo", "L", date(1975, 1, 9))
    wife = member_values("Sri Wahyuni", "P", date(1978, 4, 2), "istri_suami")
    number = case_submissions.submit_usul(
        db,
        Path(app.state.settings.upload_dir),
        family=family_values(),
        members=[head, wife],
        proposer_name="Joko",
        proposer_contact="0812",
        reason="PHK",
        evidence=[case_submissions.Evidence(io.BytesIO(JPEG), "foto_rumah")],
    )
    client, _ = _client(app, db, "ani", Role.OPERATOR, KELURAHAN)
    page = client.get(f"/kasus/{_id(db, admin, number)}").text
    assert (
        "Istri/suami" in page
        and "Kepala keluarga" in page
        and "istri suami" not in page
        and "istri_suami" not in page
    )


def test_case_pages_name_categories_and_files_by_their_labels(app, db, admin) -> None:
    """Issue 12 point 11: "Data saya salah", "Foto rumah" -- not data salah, foto rumah."""
    case_submissions.submit_pengaduan(
        db,
        Path(app.state.settings.upload_dir),
        category="data_salah",
        kelurahan_code=KELURAHAN,
        description="Umur saya salah",
    )
    number = _usul(db, app)
    client, _ = _client(app, db, "ani", Role.OPERATOR, KELURAHAN)
    listing = client.get("/kasus").text
    assert "Data saya salah" in listing and "data salah" not in listing
    page = client.get(f"/kasus/{_id(db, admin, number)}").text
    assert "Foto rumah" in page and "foto rumah" not in page
