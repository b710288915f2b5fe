"""Issue 14 point 1: the office is configuration, not code. A database initialised for Kota Depok (32.76) speaks of
Depok in its pages, documents, statistics and maps, and keeps its accounts and forms inside Depok."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tepat.domain.access import Role, system_actor
from tepat.errors import ConfigError, ValidationError
from tepat.services import auth, documents, realisation
from tepat.services.setup import init_database
from tepat.store.database import Database
from tepat.store.schema import benefit_cycles
from tests.conftest import own_database_url
from tests.document_data import families_in, pdf_text
from tests.programme_data import approved_cycle, insert_programme
from tests.test_web_support import PASSWORD, login, make_app

DEPOK = "32.76"
PANCORAN_MAS = "32.76.01.1006"  # kelurahan Depok, kecamatan Pancoran Mas


@pytest.fixture
def depok(tmp_path: Path) -> Iterator[Database]:
    """A database of its own, initialised for Kota Depok (on PostgreSQL when the suite runs there)."""
    with own_database_url(tmp_path, "tepat_depok") as url:
        db = Database(url)
        try:
            init_database(db, office=DEPOK, address="Jl. Margonda Raya No. 54, Depok")
            yield db
        finally:
            db.dispose()


def test_the_office_is_chosen_once_and_named_from_the_region_list(depok: Database, tmp_path: Path) -> None:
    office = depok.office
    assert (office.code, office.name, office.province_name) == (DEPOK, "Kota Depok", "Jawa Barat")
    assert (office.agency, office.head_title, office.place) == (
        "Dinas Sosial Kota Depok",
        "Kepala Dinas Sosial Kota Depok",
        "Depok",
    )
    with pytest.raises(ValidationError):
        init_database(depok, office="32.76.01")  # a kecamatan is no office
    bare = Database(f"sqlite:///{tmp_path / 'bare.sqlite'}")
    init_database(bare)
    with pytest.raises(ConfigError) as unchosen:
        _ = bare.office
    assert "tepat init --office" in unchosen.value.message
    bare.dispose()


def test_accounts_and_forms_stay_inside_the_office(depok: Database) -> None:
    depok_system = system_actor(DEPOK)
    with pytest.raises(ValidationError) as refused:
        auth.create_user(
            depok,
            depok_system,
            username="ani",
            password=PASSWORD,
            role=Role.OPERATOR,
            area_code="32.75.01.1001",
            full_name="Ani",
        )
    assert "Kota Depok (32.76)" in str([e.message for e in refused.value.errors])
    auth.create_user(
        depok,
        depok_system,
        username="ani",
        password=PASSWORD,
        role=Role.OPERATOR,
        area_code=PANCORAN_MAS,
        full_name="Ani",
    )


def test_pages_statistics_and_maps_speak_of_depok(depok: Database, tmp_path: Path) -> None:
    auth.create_user(
        depok,
        system_actor(DEPOK),
        username="dinsos",
        password=PASSWORD,
        role=Role.ADMIN,
        area_code=DEPOK,
        full_name="Admin Depok",
    )
    families_in(depok, system_actor(DEPOK), PANCORAN_MAS, ["Budi Santoso"])
    client = TestClient(make_app(depok, tmp_path))
    login(client, "dinsos")
    page = client.get("/statistik").text
    assert "Kota Depok:" in page and "Tren Kota Depok" in page and "Peta kelurahan Kota Depok" in page
    assert '<tr class="sorot"><td>' in page and page.split('<tr class="sorot">')[1].split("</tr>")[0].count(
        "Depok"
    )
    kelurahan_map = client.get("/statistik/grafik/peta-kelurahan.svg").text
    assert kelurahan_map.count('class="wilayah"') == 63 and 'data-kode="32.76.01.1006"' in kelurahan_map
    assert "Dinas Sosial Kota Depok" in kelurahan_map and "Bekasi" not in kelurahan_map
    kecamatan = client.get("/statistik?tingkat=kecamatan").text
    assert 'data-kode="32.76.01"' in kecamatan and "Pancoran Mas" in kecamatan
    home = client.get("/").text
    assert "Dinas Sosial Kota Depok" in home and "Bekasi" not in home
    portal = client.get("/layanan/cek").text
    assert "Depok" in portal and "Bekasi" not in portal


def test_documents_are_signed_in_depok(depok: Database) -> None:
    depok_system = system_actor(DEPOK)
    ids = families_in(depok, depok_system, PANCORAN_MAS, ["Budi Santoso", "Siti Rahmawati"])
    cycle_id = approved_cycle(
        depok, insert_programme(depok, "BLT-APBD", name="BLT-APBD"), ids, name="BLT Juli 2025"
    )
    with depok.begin() as conn:
        conn.execute(benefit_cycles.update().where(benefit_cycles.c.id == cycle_id).values(area_code=DEPOK))
    nominatif = pdf_text(
        documents.nominatif(depok, depok_system, cycle_id, PANCORAN_MAS, signed_on=date(2025, 7, 14)).content
    )
    assert "PEMERINTAH KOTA DEPOK" in nominatif and "Kepala Dinas Sosial Kota Depok" in nominatif
    assert "Depok, 14 Juli 2025" in nominatif and "Jl. Margonda Raya No. 54, Depok" in nominatif
    bast = pdf_text(
        documents.bast(depok, depok_system, cycle_id, PANCORAN_MAS, signed_on=date(2025, 7, 14)).content
    )
    assert "Kota Depok, kami yang bertanda" in bast and "Bekasi" not in bast
    report = pdf_text(realisation.realisation_pdf(depok, depok_system, 2025).content)
    assert "PEMERINTAH KOTA DEPOK" in report and "Bekasi" not in report
