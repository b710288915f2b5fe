"""Who may change the programme catalogue: an admin whose area holds the whole office. A kecamatan's admin would
otherwise change the amount, budget or rule every other kecamatan's cycles are made from (found in review). In a
province's database each office has a catalogue of its own: tests/test_office_catalogues.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.errors import PermissionDenied
from tepat.services import programmes
from tepat.store.database import Database
from tests.conftest import actor
from tests.test_web_support import add_user, csrf_of, login, make_app

CITY_ADMIN = actor(Role.ADMIN, "32.75")
KECAMATAN_ADMIN = actor(Role.ADMIN, "32.75.01", "admin_kecamatan")


@pytest.fixture
def catalogue(db: Database) -> Database:
    programmes.seed_catalogue(db, CITY_ADMIN)
    return db


def _amount(db: Database) -> int:
    return int(programmes.get_programme(db, CITY_ADMIN, "BLT-APBD")["amount"])


def test_a_kecamatan_admin_cannot_change_the_citys_catalogue(catalogue: Database) -> None:
    db = catalogue
    with pytest.raises(PermissionDenied, match="seluruh Kota Bekasi"):
        programmes.update_programme(db, KECAMATAN_ADMIN, "BLT-APBD", 1, {"amount": 1_000_000})
    with pytest.raises(PermissionDenied):
        programmes.create_programme(db, KECAMATAN_ADMIN, {"code": "LAIN", "name": "Lain"})
    assert _amount(db) == 250_000
    programmes.update_programme(db, CITY_ADMIN, "BLT-APBD", 1, {"amount": 300_000})
    assert _amount(db) == 300_000


def test_the_page_offers_a_kecamatan_admin_no_edit_and_refuses_one(
    catalogue: Database, tmp_path: Path
) -> None:
    db = catalogue
    add_user(db, "admin.kec", Role.ADMIN, "32.75.01")
    add_user(db, "admin.kota", Role.ADMIN, "32.75")
    with TestClient(make_app(db, tmp_path)) as http:
        login(http, "admin.kec")
        page = http.get("/program/BLT-APBD")
        assert page.status_code == 200 and 'id="form-program"' not in page.text
        assert 'action="/program/baru"' not in http.get("/program").text
        form = {"csrf_token": csrf_of(page.text), "version": "1", "name": "x", "amount": "1000000"}
        refused = http.post("/program/BLT-APBD", data=form)
        assert refused.status_code == 403 and "seluruh Kota Bekasi" in refused.text
    with TestClient(make_app(db, tmp_path)) as http:
        login(http, "admin.kota")
        assert 'id="form-program"' in http.get("/program/BLT-APBD").text
    assert _amount(db) == 250_000
