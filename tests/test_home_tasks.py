"""The Beranda's to-do list per role, the current page marked in the menu, and the favicon."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.services import case_submissions, cycles, programmes, todo
from tests.conftest import actor
from tests.factories import KELURAHAN, family_values, make_family, member_values
from tests.programme_support import CHECKER, ranked_registry
from tests.targeting_data import DAY
from tests.test_portal_support import citizen_app
from tests.test_web_support import add_user, login

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def app(db, tmp_path: Path):
    return citizen_app(db, tmp_path)


def _client(app, db, username: str, role: Role, area: str) -> TestClient:
    add_user(db, username, role, area)
    client = TestClient(app)
    login(client, username)
    return client


def _task(html: str, key: str) -> int | None:
    found = re.search(rf'id="tugas-{key}">.*?<strong>([\d.]+)</strong>', html)
    return int(found.group(1).replace(".", "")) if found else None


def test_each_role_sees_what_waits_for_it(app, db, admin) -> None:
    for _ in range(3):
        make_family(db, admin)
    head = member_values("Joko Susilo", "L", date(1975, 1, 9))
    case_submissions.submit_usul(
        db,
        Path(app.state.settings.upload_dir),
        family=family_values(),
        members=[head],
        proposer_name="Joko",
        proposer_contact="0812",
        reason="PHK",
        evidence=[case_submissions.Evidence(io.BytesIO(JPEG), "foto_rumah")],
    )
    verifier = _client(app, db, "vera", Role.VERIFIER, KELURAHAN).get("/").text
    assert _task(verifier, "keluarga-jatuh-tempo") == 3
    operator = _client(app, db, "ani", Role.OPERATOR, KELURAHAN).get("/").text
    assert _task(operator, "usul-baru") == 1 and _task(operator, "keluarga-jatuh-tempo") is None
    analyst = _client(app, db, "ana", Role.ANALYST, KELURAHAN).get("/").text
    assert "Tugas Anda" not in analyst
    finance = _client(app, db, "keu", Role.FINANCE, "32.75").get("/").text
    assert "Tidak ada yang menunggu Anda." in finance


def test_a_submitted_cycle_waits_for_the_other_admin(db, admin, tmp_path) -> None:
    ranked_registry(db, admin, tmp_path)
    programmes.seed_catalogue(db, admin)
    cycle_id = cycles.create_cycle(
        db, admin, "BPNT", name="BPNT Juli 2026", period_start=DAY, period_end=date(2026, 7, 31)
    )
    cycles.generate(db, admin, cycle_id)
    cycles.submit(db, admin, cycle_id)
    assert [t.key for t in todo.tasks_for(db, admin)].count(
        "siklus-persetujuan"
    ) == 0  # the maker cannot approve
    assert {t.key: t.count for t in todo.tasks_for(db, CHECKER)}["siklus-persetujuan"] == 1
    cycles.approve(db, CHECKER, cycle_id)
    finance = actor(Role.FINANCE, "32.75", "keu")
    assert {t.key: t.count for t in todo.tasks_for(db, finance)}["siklus-pembayaran"] == 1


def test_the_menu_marks_the_current_page_and_the_favicon_is_served(app, db) -> None:
    client = _client(app, db, "ani", Role.OPERATOR, KELURAHAN)
    home = client.get("/").text
    assert re.search(r'<a href="/"[^>]*aria-current="page"', home)
    assert not re.search(r'<a href="/cari"[^>]*aria-current="page"', home)
    search = client.get("/cari").text
    assert re.search(r'<a href="/cari"[^>]*aria-current="page"', search)
    assert not re.search(r'<a href="/"[^>]*aria-current="page"', search)
    assert 'rel="icon" href="/static/favicon.svg"' in home
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg")
