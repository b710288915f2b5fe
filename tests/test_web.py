"""Operator pages through the real app: login, search, browse, family pages, edits, conflicts, errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.domain.formatting import local_time
from tepat.services import registry, registry_history, registry_reads
from tepat.store.database import Database
from tests.factories import OTHER_KELURAHAN, kk, letters, make_family, member_values
from tests.test_web_support import SYSTEM_ADMIN, add_user, csrf_of, form_data, login, make_app, page_routes

KEL = "32.75.01.1001"


@pytest.fixture
def client(db: Database, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(make_app(db, tmp_path), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def operator(db: Database, client: TestClient) -> str:
    add_user(db, "ani", Role.OPERATOR, KEL, "Ani Rahayu")
    return login(client, "ani")


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _error_next_to(html: str, field: str) -> str:
    """The message rendered right under the input named ``field``."""
    fid = "f-" + field.replace(".", "-")
    found = re.search(rf'id="{re.escape(fid)}-galat">([^<]+)<', html)
    assert found, f"no error shown for {field}"
    return found.group(1)


def _input_value(html: str, field: str) -> str:
    found = re.search(rf'name="{re.escape(field)}" value="([^"]*)"', html)
    assert found, f"no input {field}"
    return found.group(1)


# ----------------------------------------------------------------- sessions


def test_pages_need_login_and_redirect_back_after(db: Database, client: TestClient) -> None:
    add_user(db, "ani", Role.OPERATOR, KEL)
    response = client.get("/cari?q=budi", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/masuk?next=%2Fcari%3Fq%3Dbudi"
    page = client.get(response.headers["location"])
    done = client.post(
        "/masuk",
        data={
            "username": "ani",
            "password": "rahasia-sekali-123",
            "next": "/cari?q=budi",
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/cari?q=budi"


def test_wrong_password_shows_the_message_and_keeps_the_username(db: Database, client: TestClient) -> None:
    add_user(db, "ani", Role.OPERATOR, KEL)
    page = client.get("/masuk")
    response = client.post(
        "/masuk", data={"username": "ani", "password": "keliru-sandi", "csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in response.text and 'value="ani"' in response.text


def test_login_never_redirects_off_site(db: Database, client: TestClient) -> None:
    add_user(db, "ani", Role.OPERATOR, KEL)
    page = client.get("/masuk")
    response = client.post(
        "/masuk",
        data={
            "username": "ani",
            "password": "rahasia-sekali-123",
            "next": "//jahat.example/x",
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_header_shows_who_is_logged_in(client: TestClient, operator: str) -> None:
    header = _text(client.get("/").text.split('id="siapa"')[1].split("</div>")[0])
    assert "Ani Rahayu" in header and "Operator · Bekasijaya" in header


def test_session_cookie_is_httponly_and_samesite_lax(db: Database, client: TestClient) -> None:
    add_user(db, "ani", Role.OPERATOR, KEL)
    page = client.get("/masuk")
    response = client.post(
        "/masuk",
        data={"username": "ani", "password": "rahasia-sekali-123", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert "tepat_sesi=" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_security_headers(client: TestClient, operator: str) -> None:
    headers = client.get("/").headers
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert (
        "default-src 'self'" in headers["content-security-policy"] and headers["cache-control"] == "no-store"
    )


def test_post_without_csrf_token_is_refused(db: Database, client: TestClient, operator: str, admin) -> None:
    family_id = make_family(db, admin, KEL)
    response = client.post(f"/keluarga/{family_id}/ubah", data={"rw": "9", "reason": "uji", "version": "1"})
    assert response.status_code == 403 and "Formulir kedaluwarsa atau tidak sah" in response.text
    assert registry_reads.get_family(db, admin, family_id).family["rw"] == 3


def test_logout_ends_the_session(client: TestClient, operator: str) -> None:
    assert client.post("/keluar", data={"csrf_token": operator}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_deactivated_account_is_logged_out(db: Database, client: TestClient, operator: str) -> None:
    from tepat.services import auth

    auth.deactivate_user(db, SYSTEM_ADMIN, "ani")
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/masuk")


# ----------------------------------------------------------------- reading


def test_beranda_counts_only_the_users_area(db: Database, client: TestClient, operator: str, admin) -> None:
    make_family(db, admin, KEL)
    make_family(db, admin, KEL, members=[member_values("Joko", "L", date(1970, 1, 2))])
    make_family(db, admin, OTHER_KELURAHAN)
    html = client.get("/").text
    assert 'id="jumlah-keluarga">2<' in html and 'id="jumlah-anggota">4<' in html
    assert "RW 03" in html


def test_search_by_nik_kk_and_name_stays_inside_the_area(
    db: Database, client: TestClient, operator: str, admin
) -> None:
    head = member_values("Sutarman Wijaya", "L", date(1975, 3, 4))
    family_id = make_family(db, admin, KEL, members=[head])
    make_family(db, admin, OTHER_KELURAHAN, members=[member_values("Sutarman Lain", "L", date(1976, 3, 4))])
    kk_number = registry_reads.get_family(db, admin, family_id).family["kk_number"]
    for query in (head["nik"], kk_number, "tarman"):
        html = client.get("/cari", params={"q": query}).text
        assert f'href="/keluarga/{family_id}"' in html and "Sutarman Wijaya" in html
        assert "Sutarman Lain" not in html
    short = client.get("/cari", params={"q": "ab"})
    assert short.status_code == 422 and "paling sedikit 3 huruf" in short.text


def test_browse_shows_names_not_codes(db: Database, client: TestClient, admin) -> None:
    add_user(db, "dinsos", Role.ADMIN, "32.75", "Admin Dinsos")
    login(client, "dinsos")
    make_family(db, admin, KEL)
    city = client.get("/wilayah").text
    assert "Bekasi Timur" in city and 'href="/wilayah/32.75.01"' in city
    kecamatan = client.get("/wilayah/32.75.01").text
    assert "Bekasijaya" in kecamatan and 'href="/wilayah/32.75.01.1001"' in kecamatan
    kelurahan = client.get("/wilayah/32.75.01.1001").text
    assert "RW 03" in kelurahan and 'href="/wilayah/32.75.01.1001/keluarga?rw=3"' in kelurahan
    families = client.get("/wilayah/32.75.01.1001/keluarga?rw=3").text
    assert "Budi Santoso" in families and "003/005" in families


def test_family_page_shows_members_labels_status_and_history(
    db: Database, client: TestClient, operator: str, admin
) -> None:
    family_id = make_family(db, admin, KEL)
    view = registry_reads.get_family(db, admin, family_id)
    registry.update_family(
        db, admin, family_id, {"power_va": "1300"}, expected_version=1, reason="verifikasi lapangan"
    )
    html = client.get(f"/keluarga/{family_id}").text
    text = _text(html)
    assert "Budi Santoso" in text and "Siti Aminah" in text and "Kepala keluarga" in text
    assert "Bekasijaya, Kec. Bekasi Timur" in text
    assert "Daya listrik PLN 1.300 VA" in text and "Belum diverifikasi" in text
    history = _text(html.split('id="riwayat"')[1])
    assert (
        "admin" in history
        and "verifikasi lapangan" in history
        and "Daya listrik PLN: 900 VA → 1.300 VA" in history
    )
    assert view.family["kk_number"] in text


def test_family_page_as_of_a_date_shows_the_old_values(
    db: Database, client: TestClient, operator: str, admin
) -> None:
    family_id = make_family(db, admin, KEL)
    with db.begin() as conn:  # pretend the family was registered last year
        conn.exec_driver_sql(
            f"UPDATE families SET valid_from = '2024-01-10 03:00:00' WHERE id = {family_id:d}"
        )
        conn.exec_driver_sql(
            f"UPDATE members SET valid_from = '2024-01-10 03:00:00' WHERE family_id = {family_id:d}"
        )
    registry.update_family(db, admin, family_id, {"rt": "9"}, expected_version=1, reason="pindah RT")
    old = client.get(f"/keluarga/{family_id}", params={"tanggal": "2024-06-01"})
    assert old.status_code == 200 and "RT 005" in old.text and "1 Juni 2024" in old.text
    assert "RT 009" in client.get(f"/keluarga/{family_id}").text
    before = client.get(f"/keluarga/{family_id}", params={"tanggal": "2023-01-01"})
    assert before.status_code == 404 and "belum terdaftar" in before.text


# ----------------------------------------------------------------- changes


def _family_form(client: TestClient, csrf: str, **overrides: str) -> dict[str, str]:
    head = member_values("Dewi Lestari", "P", date(1990, 8, 21))
    data = {
        "csrf_token": csrf,
        "kk_number": kk(),
        "kelurahan_code": KEL,
        "rw": "4",
        "rt": "2",
        "address": "Gg. Melati 3",
        "member_rows": "1",
        "reason": "BA muskel 12/2025",
        **{f"members.0.{k}": v for k, v in head.items()},
    }
    data.update(overrides)
    return data


def test_register_a_family_through_the_form(db: Database, client: TestClient, operator: str, admin) -> None:
    data = _family_form(client, operator)
    response = client.post("/keluarga/baru", data=data, follow_redirects=False)
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "Keluarga berhasil didaftarkan." in page and "Dewi Lestari" in page


def test_register_form_shows_errors_next_to_fields_and_keeps_input(client: TestClient, operator: str) -> None:
    data = _family_form(client, operator, rw="abc", **{"members.0.nik": "3275011234"})
    response = client.post("/keluarga/baru", data=data)
    assert response.status_code == 422
    assert "bilangan bulat" in _error_next_to(response.text, "rw")
    assert "NIK" in _error_next_to(response.text, "members.0.nik")
    assert _input_value(response.text, "members.0.name") == "Dewi Lestari"
    assert _input_value(response.text, "address") == "Gg. Melati 3"


def test_add_member_row_keeps_what_was_typed(client: TestClient, operator: str) -> None:
    data = _family_form(client, operator, aksi="tambah_baris")
    response = client.post("/keluarga/baru", data=data)
    assert response.status_code == 200 and 'name="members.1.nik"' in response.text
    assert _input_value(response.text, "members.0.name") == "Dewi Lestari"


def test_edit_family_saves_and_keeps_history(db: Database, client: TestClient, operator: str, admin) -> None:
    family_id = make_family(db, admin, KEL)
    form = client.get(f"/keluarga/{family_id}/ubah").text
    assert _input_value(form, "version") == "1" and _input_value(form, "rt") == "5"
    data = {**form_data(form, f"/keluarga/{family_id}/ubah"), "rt": "6", "reason": "koreksi RT"}
    assert data["power_va"] == "900" and data["csrf_token"] == operator
    response = client.post(f"/keluarga/{family_id}/ubah", data=data, follow_redirects=False)
    assert response.status_code == 303
    current = registry_reads.get_family(db, admin, family_id).family
    assert (current["rt"], current["version"], current["changed_by"]) == (6, 2, "ani")
    assert (current["power_va"], current["address"], current["floor_material"]) == (
        "900",
        "Jl. Mawar No. 7",
        "keramik",
    )
    history = registry_history.family_history(db, admin, family_id)
    assert history[0].changes == [("RT", 5, 6)] and history[0].reason == "koreksi RT"


def test_edit_validation_error_is_shown_next_to_the_field(
    db: Database, client: TestClient, operator: str, admin
) -> None:
    family_id = make_family(db, admin, KEL)
    data = form_data(client.get(f"/keluarga/{family_id}/ubah").text, f"/keluarga/{family_id}/ubah")
    response = client.post(
        f"/keluarga/{family_id}/ubah", data={**data, "rt": "0", "address": "Jl. Baru", "reason": "koreksi"}
    )
    assert response.status_code == 422
    assert "paling kecil 1" in _error_next_to(response.text, "rt")
    assert _input_value(response.text, "address") == "Jl. Baru"
    assert registry_reads.get_family(db, admin, family_id).family["version"] == 1


def test_stale_edit_is_refused_with_the_users_input_kept(
    db: Database, client: TestClient, operator: str, admin
) -> None:
    family_id = make_family(db, admin, KEL)
    form = client.get(f"/keluarga/{family_id}/ubah").text  # the operator opens the form at version 1
    registry.update_family(
        db, admin, family_id, {"rt": "7"}, expected_version=1, reason="verifikasi"
    )  # someone saves first
    data = form_data(form, f"/keluarga/{family_id}/ubah")
    response = client.post(
        f"/keluarga/{family_id}/ubah",
        data={**data, "address": "Alamat dari operator", "reason": "koreksi alamat"},
    )
    assert response.status_code == 409
    text = _text(response.text)
    assert re.search(
        r"Data ini sudah diubah oleh admin pada \d+ \w+ \d{4} \d\d\.\d\d WIB; perubahan Anda belum disimpan",
        text,
    )
    assert _input_value(response.text, "address") == "Alamat dari operator"
    assert _input_value(response.text, "version") == "2"
    assert registry_reads.get_family(db, admin, family_id).family["address"] == "Jl. Mawar No. 7"


def test_member_add_edit_move_and_deactivate(db: Database, client: TestClient, operator: str, admin) -> None:
    family_id = make_family(db, admin, KEL)
    other_id = make_family(db, admin, KEL, members=[member_values("Kepala Lain", "L", date(1960, 6, 6))])
    child = member_values("Putri Kecil", "P", date(2015, 4, 9), "anak")
    response = client.post(
        f"/keluarga/{family_id}/anggota/baru",
        data={"csrf_token": operator, "reason": "kelahiran", **child},
        follow_redirects=False,
    )
    assert response.status_code == 303
    members = {m["name"]: m for m in registry_reads.get_family(db, admin, family_id).members}
    putri = members["Putri Kecil"]

    bad = client.post(
        f"/keluarga/{family_id}/anggota/{putri['id']}/ubah",
        data={"csrf_token": operator, "version": "1", "reason": "koreksi", **child, "sex": "L"},
    )
    assert bad.status_code == 422 and "tidak sesuai NIK" in _error_next_to(bad.text, "sex")

    ok = client.post(
        f"/keluarga/{family_id}/anggota/{putri['id']}/ubah",
        data={"csrf_token": operator, "version": "1", "reason": "koreksi nama", **child, "name": "Putri Ayu"},
        follow_redirects=False,
    )
    assert ok.status_code == 303

    other_kk = registry_reads.get_family(db, admin, other_id).family["kk_number"]
    moved = client.post(
        f"/keluarga/{family_id}/anggota/{putri['id']}/pindah",
        data={"csrf_token": operator, "version": "2", "to_kk": other_kk, "reason": "ikut nenek"},
        follow_redirects=False,
    )
    assert moved.status_code == 303 and moved.headers["location"].startswith(f"/keluarga/{other_id}")
    assert "Putri Ayu" in [m["name"] for m in registry_reads.get_family(db, admin, other_id).members]

    stale = client.post(
        f"/keluarga/{other_id}/anggota/{putri['id']}/nonaktif",
        data={"csrf_token": operator, "version": "2", "reason_code": "pindah", "note": "pindah kota"},
    )
    assert stale.status_code == 409 and "perubahan Anda belum disimpan" in stale.text
    gone = client.post(
        f"/keluarga/{other_id}/anggota/{putri['id']}/nonaktif",
        data={"csrf_token": operator, "version": "3", "reason_code": "pindah", "note": "pindah kota"},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    status = {m["name"]: m["status"] for m in registry_reads.get_family(db, admin, other_id).members}
    assert status["Putri Ayu"] == "nonaktif"


def test_move_to_unknown_kk_is_shown_next_to_the_field(
    db: Database, client: TestClient, operator: str, admin
) -> None:
    family_id = make_family(db, admin, KEL)
    member = registry_reads.get_family(db, admin, family_id).members[0]
    response = client.post(
        f"/keluarga/{family_id}/anggota/{member['id']}/pindah",
        data={"csrf_token": operator, "version": "1", "to_kk": "123", "reason": "uji"},
    )
    assert response.status_code == 422 and "16 angka" in _error_next_to(response.text, "to_kk")
    assert form_data(response.text, f"/keluarga/{family_id}/anggota/{member['id']}/pindah")["to_kk"] == "123"


def test_deactivate_family_needs_a_reason(db: Database, client: TestClient, operator: str, admin) -> None:
    family_id = make_family(db, admin, KEL)
    missing = client.post(
        f"/keluarga/{family_id}/nonaktif",
        data={"csrf_token": operator, "version": "1", "reason_code": "", "note": "BA 3"},
    )
    assert missing.status_code == 422 and "Pilih alasan nonaktif" in _error_next_to(
        missing.text, "reason_code"
    )
    done = client.post(
        f"/keluarga/{family_id}/nonaktif",
        data={"csrf_token": operator, "version": "1", "reason_code": "mampu", "note": "BA 3"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = _text(client.get(done.headers["location"]).text)
    assert "Nonaktif (Mampu)" in page


# ----------------------------------------------------------------- roles and errors


def test_analyst_sees_aggregates_but_no_personal_pages(db: Database, client: TestClient, admin) -> None:
    add_user(db, "rina", Role.ANALYST, "32.75")
    login(client, "rina")
    family_id = make_family(db, admin, KEL)
    assert 'id="jumlah-keluarga">disembunyikan<' in client.get("/").text  # one family: a small cell
    kelurahan = client.get("/wilayah/32.75.01.1001").text
    assert "RW 03" in kelurahan and "/keluarga?rw=" not in kelurahan
    for path in (
        f"/keluarga/{family_id}",
        "/cari?q=budi",
        "/wilayah/32.75.01.1001/keluarga",
        "/ekspor",
        "/impor",
    ):
        response = client.get(path)
        assert response.status_code == 403, (
            path
        )  # the role lacks the permission: said so, whatever the record
        assert "peran Anda hanya angka agregat" in response.text and "Budi" not in response.text


def test_verifier_reads_but_cannot_edit(db: Database, client: TestClient, admin) -> None:
    add_user(db, "vera", Role.VERIFIER, "32.75.01")
    login(client, "vera")
    family_id = make_family(db, admin, KEL)
    page = client.get(f"/keluarga/{family_id}")
    assert page.status_code == 200 and "Ubah data keluarga" not in page.text
    assert client.get(f"/keluarga/{family_id}/ubah").status_code == 403


def test_unknown_page_and_unexpected_error_show_indonesian_pages(db: Database, tmp_path: Path) -> None:
    app = make_app(db, tmp_path)

    @app.get("/meledak")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    with TestClient(app, raise_server_exceptions=False) as c:
        missing = c.get("/tidak-ada")
        assert missing.status_code == 404 and "Halaman yang Anda cari tidak ada." in missing.text
        crash = c.get("/meledak")
        assert crash.status_code == 500 and "Terjadi kesalahan pada sistem" in crash.text
        assert "secret internal detail" not in crash.text and "Traceback" not in crash.text


def test_static_css_is_served_without_cdn(client: TestClient) -> None:
    css = client.get("/static/tepat.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    page = client.get("/masuk").text
    assert "http://" not in page and "https://" not in page


def test_statistics_router_is_included_when_present(db: Database, tmp_path: Path) -> None:
    import importlib.util

    from tests.test_web_support import page_routes

    paths = {p for _, p in page_routes(make_app(db, tmp_path))}
    has_module = importlib.util.find_spec("tepat.web.routes.statistics") is not None
    if not has_module:
        pytest.skip("tepat/web/routes/statistics.py is not written yet")
    from tepat.web.routes import statistics

    assert {r.path for r in statistics.router.routes} <= paths
    add_user(db, "dinsos", Role.ADMIN, "32.75")
    with TestClient(make_app(db, tmp_path), raise_server_exceptions=False) as c:
        login(c, "dinsos")
        page = c.get("/statistik")
        assert page.status_code == 200 and 'href="/statistik"' in page.text and 'id="siapa"' in page.text


def test_name_search_shows_the_matching_member_and_pages_beyond_fifty(
    db: Database, client: TestClient, operator: str, admin
) -> None:
    head = member_values("Kepala Rumah", "L", date(1975, 3, 4))
    wife = member_values("Ratna Sari Dewi", "P", date(1978, 3, 4), "istri_suami")
    family_id = make_family(db, admin, KEL, members=[head, wife])
    html = client.get("/cari", params={"q": "dewi ratna"}).text
    assert f'href="/keluarga/{family_id}"' in html and "Ratna Sari Dewi" in html
    for i in range(51):
        make_family(
            db,
            admin,
            KEL,
            members=[member_values(f"Banyak Nama {letters(i)}", "L", date(1960, 1, 1) + timedelta(days=i))],
        )
    first = client.get("/cari", params={"q": "nama banyak"}).text
    assert "hal=2" in first
    second = client.get("/cari", params={"q": "nama banyak", "hal": 2}).text
    assert len(re.findall(r'href="/keluarga/\d+"', second)) == 1 and "hal=1" in second


def test_a_role_without_the_permission_gets_403_with_a_reason_on_every_page(db: Database, tmp_path) -> None:
    app = make_app(db, tmp_path)
    for role in Role:
        add_user(db, f"user-{role.value}", role, db.offices.area if role is Role.PROVINCE else KEL)
        client = TestClient(app, raise_server_exceptions=False)
        login(client, f"user-{role.value}")
        for method, path in page_routes(app):
            public = ("/cek", "/layanan", "/masuk", "/keluar", "/favicon", "/logo")
            if method != "GET" or "{" in path or path.startswith(public):
                continue
            response = client.get(path, follow_redirects=False)
            assert response.status_code in (200, 403), f"{role.value} GET {path}: {response.status_code}"
            if response.status_code == 403:
                assert "Akses ditolak" in response.text and 'id="peran-anda"' in response.text, (
                    f"{role.value} GET {path}"
                )


def test_page_dates_are_typed_as_day_month_year_and_shown_in_words(
    db: Database, client: TestClient, admin
) -> None:
    add_user(db, "dinsos", Role.ADMIN, "32.75", "Admin Dinsos")
    login(client, "dinsos")
    family_id = make_family(db, admin, KEL)
    today = local_time(datetime.now(UTC)).date()
    typed = client.get(f"/keluarga/{family_id}", params={"tanggal": today.strftime("%d-%m-%Y")})
    assert typed.status_code == 200 and f'value="{today.isoformat()}"' in typed.text
    wrong = client.get(f"/keluarga/{family_id}", params={"tanggal": "31-31-2024"})
    assert wrong.status_code == 422 and "HH-BB-TTTT" in wrong.text
