"""Pages /program and /siklus: roles, names only for personal-data roles, edits with errors in place, maker-checker."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.services import programmes
from tepat.store.schema import benefit_cycles, families
from tests.programme_support import ranked_registry
from tests.test_web_support import add_user, login, make_app


@pytest.fixture
def app(db, admin, tmp_path):
    ranked_registry(db, admin, tmp_path)
    with db.begin() as conn:
        conn.execute(families.update().values(verification_status="terverifikasi"))
    return make_app(db, tmp_path)


def _client(app, db, username: str, role: Role, area: str = "32.75") -> tuple[TestClient, str]:
    add_user(db, username, role, area)
    client = TestClient(app)
    return client, login(client, username)


def test_anonymous_users_are_sent_to_login(app) -> None:
    with TestClient(app) as client:
        for path in ("/program", "/program/BLT-APBD", "/siklus", "/siklus/1"):
            r = client.get(path, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/masuk"), path


def test_admin_seeds_and_edits_the_catalogue_with_errors_in_place(app, db) -> None:
    client, csrf = _client(app, db, "admin.dinsos", Role.ADMIN)
    empty = client.get("/program")
    assert 'id="katalog-kosong"' in empty.text and "Muat katalog awal" in empty.text
    assert (
        client.post("/program/muat-katalog", data={"csrf_token": csrf}, follow_redirects=False).status_code
        == 303
    )
    listing = client.get("/program")
    assert (
        listing.text.count('data-kode="') == 6
        and "Rp250.000" in listing.text
        and "SMA Rp1.800.000" in listing.text
    )
    page = client.get("/program/BLT-APBD")
    assert 'id="form-program"' in page.text and 'id="jumlah-kandidat"' in page.text
    bad = client.post(
        "/program/BLT-APBD",
        data={
            "csrf_token": csrf,
            "version": "1",
            "name": "BLT",
            "amount": "-1",
            "rule": "desil <== 4",
            "active": "ya",
        },
    )
    assert bad.status_code == 422
    assert (
        'aria-describedby="galat-rule"' in bad.text
        and "posisi 9" in bad.text
        and "tidak boleh negatif" in bad.text
    )
    assert "desil &lt;== 4" in bad.text  # what the admin typed is kept
    ok = client.post(
        "/program/BLT-APBD",
        data={
            "csrf_token": csrf,
            "version": "1",
            "name": "BLT-APBD Kota Bekasi",
            "amount": "300.000",
            "annual_budget": "",
            "rule": 'desil <= 6 and status == "aktif"',
            "exclusions": "BPNT",
            "active": "ya",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    prog = programmes.get_programme(db, programmes.actor_by_username(db, "admin.dinsos"), "BLT-APBD")
    assert (prog["amount"], prog["annual_budget"], prog["version"]) == (300_000, None, 2)
    stale = client.post(
        "/program/BLT-APBD",
        data={
            "csrf_token": csrf,
            "version": "1",
            "name": "x",
            "amount": "1",
            "rule": "desil <= 1",
            "active": "ya",
        },
    )
    assert stale.status_code == 409 and "sudah diubah orang lain" in stale.text


def test_roles_on_catalogue_candidates_and_explanations(app, db, admin) -> None:
    programmes.seed_catalogue(db, admin)
    analyst, _ = _client(app, db, "analis", Role.ANALYST)
    page = analyst.get("/program/BANTUAN-PENDIDIKAN")
    assert page.status_code == 200 and 'id="kandidat-per-desil"' in page.text
    assert "form-program" not in page.text and "form-usulan" not in page.text
    assert analyst.get("/program/BANTUAN-PENDIDIKAN/kandidat").status_code == 403
    assert analyst.post("/program/BLT-APBD", data={"csrf_token": "x"}).status_code == 403
    operator, _ = _client(app, db, "operator", Role.OPERATOR, "32.75.01.1001")
    listed = operator.get("/program/BANTUAN-PENDIDIKAN/kandidat")
    assert listed.status_code == 200
    shown = set(re.findall(r'data-keluarga="(\d+)"', listed.text))
    with db.read() as conn:
        local = {
            str(i)
            for i in conn.execute(
                sa.select(families.c.id).where(families.c.kelurahan_code == "32.75.01.1001")
            ).scalars()
        }
    assert shown and shown <= local
    family = min(shown)
    explained = operator.get(f"/program/BANTUAN-PENDIDIKAN/keluarga?id={family}")
    assert (
        explained.status_code == 200
        and 'id="penjelasan-aturan"' in explained.text
        and 'id="penjelasan-anggota"' in explained.text
    )
    outside = next(iter({str(i) for i in range(1, 14)} - local))
    assert operator.get(f"/program/BANTUAN-PENDIDIKAN/keluarga/{outside}").status_code == 404
    assert analyst.get(f"/program/BANTUAN-PENDIDIKAN/keluarga/{family}").status_code == 200  # without names


def test_override_request_and_second_admin_decision(app, db, admin) -> None:
    programmes.seed_catalogue(db, admin)
    operator, op_csrf = _client(app, db, "operator", Role.OPERATOR, "32.75.01.1001")
    with db.read() as conn:
        family = (
            conn.execute(sa.select(families.c.id).where(families.c.kelurahan_code == "32.75.01.1001"))
            .scalars()
            .first()
        )
    missing = operator.post(
        "/program/BLT-APBD/usulan",
        data={
            "csrf_token": op_csrf,
            "family_id": str(family),
            "action": "hapus",
            "reason": "",
            "evidence": "",
        },
    )
    assert missing.status_code == 422 and "Bukti wajib diisi" in missing.text
    done = operator.post(
        "/program/BLT-APBD/usulan",
        data={
            "csrf_token": op_csrf,
            "family_id": str(family),
            "action": "hapus",
            "reason": "Keluarga sudah mampu",
            "evidence": "BA 7/2026",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    boss, boss_csrf = _client(app, db, "kepala", Role.ADMIN)
    page = boss.get("/program/BLT-APBD")
    override_id = re.search(r'data-usulan="(\d+)"', page.text).group(1)
    assert f'action="/program/BLT-APBD/usulan/{override_id}"' in page.text
    assert 'action="/program/BLT-APBD/usulan/' not in operator.get("/program/BLT-APBD").text
    refused = operator.post(
        f"/program/BLT-APBD/usulan/{override_id}", data={"csrf_token": op_csrf, "keputusan": "setujui"}
    )
    assert refused.status_code == 403
    ok = boss.post(
        f"/program/BLT-APBD/usulan/{override_id}",
        data={"csrf_token": boss_csrf, "keputusan": "setujui", "catatan": "sesuai BA"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and "kepala: sesuai BA" in boss.get("/program/BLT-APBD").text


def test_cycle_pages_walk_the_states_with_maker_checker(app, db, admin) -> None:
    programmes.seed_catalogue(db, admin)
    maker, maker_csrf = _client(app, db, "pembuat", Role.ADMIN)
    checker, checker_csrf = _client(app, db, "penyetuju", Role.ADMIN)
    bad = maker.post(
        "/siklus",
        data={
            "csrf_token": maker_csrf,
            "program": "BLT-APBD",
            "name": "",
            "period_start": "2026-07-01",
            "period_end": "2026-06-01",
        },
    )
    assert (
        bad.status_code == 422 and "Nama siklus wajib diisi" in bad.text and "tidak boleh sebelum" in bad.text
    )
    made = maker.post(
        "/siklus",
        data={
            "csrf_token": maker_csrf,
            "program": "BLT-APBD",
            "name": "BLT-APBD Juli 2026",
            "period_start": "2026-07-01",
            "period_end": "2026-07-31",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    url = made.headers["location"]
    cycle_id = int(url.rsplit("/", 1)[1])

    def step(client, csrf, name, **extra):
        return client.post(
            f"{url}/langkah", data={"csrf_token": csrf, "langkah": name, **extra}, follow_redirects=False
        )

    assert 'id="langkah-susun"' in maker.get(url).text
    assert step(maker, maker_csrf, "susun").status_code == 303
    assert step(maker, maker_csrf, "ajukan").status_code == 303
    page = maker.get(url)
    assert 'id="langkah-setujui"' not in page.text and "menunggu persetujuan Admin lain" in page.text
    refused = step(maker, maker_csrf, "setujui")
    assert refused.status_code == 403 and "maker-checker" in refused.text
    review = checker.get(url).text
    assert 'id="langkah-setujui"' in review and 'id="tinjauan-persetujuan"' in review
    shown = dict(re.findall(r'name="(jumlah|total)" value="(\d+)"', review))
    assert step(checker, checker_csrf, "setujui", konfirmasi="1", **shown).status_code == 303
    page = checker.get(url)
    assert "Disetujui (dibekukan)" in page.text and "SHA-256" in page.text
    assert (
        f'href="/siklus/{cycle_id}/dokumen"' in page.text
        and f'href="/pembayaran?siklus={cycle_id}"' in page.text
    )
    assert 'id="siklus-per-kelurahan"' in page.text
    illegal = step(checker, checker_csrf, "batalkan", catatan="terlambat")
    assert illegal.status_code == 409 and "tidak diizinkan" in illegal.text
    analyst, _ = _client(app, db, "analis", Role.ANALYST)
    assert analyst.get(url).status_code == 200 and 'id="langkah-' not in analyst.get(url).text
    assert analyst.post(f"{url}/langkah", data={"csrf_token": "x", "langkah": "tutup"}).status_code == 403
    with db.read() as conn:
        assert (
            conn.execute(
                sa.select(benefit_cycles.c.state).where(benefit_cycles.c.id == cycle_id)
            ).scalar_one()
            == "disetujui"
        )


def test_programme_page_before_any_ranking_explains_instead_of_failing(db, admin, tmp_path) -> None:
    programmes.seed_catalogue(db, admin)
    app = make_app(db, tmp_path)
    client, _ = _client(app, db, "admin.baru", Role.ADMIN)
    page = client.get("/program/BLT-APBD")
    assert page.status_code == 200 and 'id="tanpa-kandidat"' in page.text and "belum ada skor" in page.text


def test_an_admin_adds_a_programme_and_its_budget_belongs_to_a_named_year(app, db) -> None:
    """Issue 18 point 5: programmes are data an admin creates; budget and "sisa" belong to one year."""
    client, csrf = _client(app, db, "admin.dinsos", Role.ADMIN)
    form = {
        "csrf_token": csrf,
        "code": "BLT-DD",
        "name": "BLT Dana Kelurahan",
        "unit": "keluarga",
        "benefit_type": "tunai",
        "funding_source": "APBD",
        "frequency": "bulanan",
        "amount": "Rp 300.000",
        "budget_year": "2025",
        "annual_budget": "Rp 3.000.000",
        "rule": 'desil <= 3 and status == "aktif"',
    }
    bad = client.post("/program/baru", data={**form, "code": "blt dd!", "rule": "desil <="})
    assert bad.status_code == 422 and 'value="BLT Dana Kelurahan"' in bad.text and "posisi" in bad.text
    made = client.post("/program/baru", data=form, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == "/program/BLT-DD"
    page = client.get("/program/BLT-DD").text
    assert "Anggaran 2025" in page and "Rp3.000.000" in page
    assert "belum ditetapkan" in page  # today's list (2026) is not capped by 2025's budget
    again = client.post("/program/baru", data=form)
    assert again.status_code == 409 and "sudah ada" in again.text
    edit = dict(programmes.get_programme(db, programmes.actor_by_username(db, "admin.dinsos"), "BLT-DD"))
    assert (edit["budget_year"], edit["annual_budget"], edit["frequency"]) == (2025, 3_000_000, "bulanan")
