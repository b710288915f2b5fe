"""Programme coverage in the registry statistics: per area, this year's frozen cycles, small counts suppressed."""

from __future__ import annotations

from datetime import date

from tepat.config import Settings
from tepat.domain.access import Role
from tepat.domain.regions import Level
from tepat.services.statistics import registry_indicators
from tests.conftest import actor
from tests.document_data import families_in
from tests.factories import KELURAHAN, OTHER_KELURAHAN, letters
from tests.programme_data import approved_cycle, insert_programme
from tests.test_poverty_web import client_for

TODAY = date(2025, 8, 1)


def _data(db, admin, year: int = 2025) -> None:
    here = families_in(db, admin, KELURAHAN, [f"Warga {letters(i)}" for i in range(5)])
    there = families_in(db, admin, OTHER_KELURAHAN, [f"Tetangga {letters(i)}" for i in range(3)])
    blt = insert_programme(db, "BLT-APBD", name="BLT-APBD")
    july = (date(year, 7, 1), date(year, 7, 31))
    approved_cycle(db, blt, here + there[:1], name="Juli", period=july)
    approved_cycle(
        db, blt, here[:2], name="Agustus", period=(date(year, 8, 1), date(year, 8, 31))
    )  # same families
    approved_cycle(db, blt, there, name="draf", state="draf", period=july)
    approved_cycle(db, blt, there, name="lalu", period=(date(year - 1, 7, 1), date(year - 1, 7, 31)))
    health = insert_programme(
        db, "LKM-NIK", name="Kartu Sehat", unit="orang", benefit_type="layanan", amount=0
    )
    approved_cycle(db, health, here[:3], per_person=True, period=(date(year, 1, 1), date(year, 12, 31)))
    old = insert_programme(db, "LAMA", name="Program Lama", active=False)
    approved_cycle(db, old, here, name="lama", period=july)


def test_coverage_per_kelurahan_counts_distinct_units_of_active_programmes(db, admin) -> None:
    _data(db, admin)
    cells = {
        c.code: c for c in registry_indicators(db, admin, Settings(min_cell_size=2), Level.KELURAHAN, TODAY)
    }
    assert cells[KELURAHAN].coverage == (("BLT-APBD (keluarga)", 5), ("Kartu Sehat (jiwa)", 3))
    assert dict(cells[OTHER_KELURAHAN].coverage) == {
        "BLT-APBD (keluarga)": None,
        "Kartu Sehat (jiwa)": 0,
    }  # 1 < 2
    assert cells["32.75.04.1001"].coverage == (("BLT-APBD (keluarga)", 0), ("Kartu Sehat (jiwa)", 0))
    assert cells[KELURAHAN].as_dict()["programmes"] == {"BLT-APBD (keluarga)": 5, "Kartu Sehat (jiwa)": 3}
    by_kecamatan = {
        c.code: c for c in registry_indicators(db, admin, Settings(min_cell_size=2), Level.KECAMATAN, TODAY)
    }
    assert dict(by_kecamatan["32.75.01"].coverage)["BLT-APBD (keluarga)"] == 5


def test_suppressed_cells_hide_coverage_too(db, admin) -> None:
    _data(db, admin)
    cells = {
        c.code: c for c in registry_indicators(db, admin, Settings(min_cell_size=4), Level.KELURAHAN, TODAY)
    }
    assert cells[OTHER_KELURAHAN].suppressed  # 3 families < 4
    assert cells[OTHER_KELURAHAN].coverage == (("BLT-APBD (keluarga)", None), ("Kartu Sehat (jiwa)", None))
    assert dict(cells[KELURAHAN].coverage)["Kartu Sehat (jiwa)"] == None
    mine = registry_indicators(
        db, actor(Role.ANALYST, OTHER_KELURAHAN), Settings(min_cell_size=1), Level.KELURAHAN, TODAY
    )
    assert [c.coverage for c in mine] == [(("BLT-APBD (keluarga)", 1),)]


def test_dashboard_shows_the_coverage_columns(db, admin, tmp_path) -> None:
    _data(db, admin, date.today().year)
    html = client_for(db, tmp_path, actor(Role.ANALYST, "32.75")).get("/statistik").text
    assert "Penerima BLT-APBD (keluarga)" in html and "Penerima Kartu Sehat (jiwa)" in html
    row = html.split('<tr data-kode="32.75.01.1001">')[1].split("</tr>")[0]
    assert ">5</td>" in row and "Warga" not in html


def test_the_user_picks_the_year_of_programme_coverage(db, admin, tmp_path) -> None:
    """Issue 19 point 2: a 2025 cycle shows on the 2026 dashboard when the user asks for 2025."""
    _data(db, admin, 2025)
    client = client_for(db, tmp_path, actor(Role.ANALYST, "32.75"))
    this_year = client.get("/statistik?tahun_program=2026").text
    assert "Belum ada penerima program pada tahun 2026" in this_year and "Penerima BLT-APBD" not in this_year
    last_year = client.get("/statistik?tahun_program=2025").text
    row = last_year.split('<tr data-kode="32.75.01.1001">')[1].split("</tr>")[0]
    assert "Penerima BLT-APBD (keluarga)" in last_year and ">5</td>" in row
    assert (
        '<option value="2025" selected>' in last_year.split('id="f-tahun-program"')[1].split("</select>")[0]
    )


def test_indicators_by_kecamatan_on_the_dashboard(db, admin, tmp_path) -> None:
    """Issue 19 point 2: the registry table and its map per kecamatan, for accounts above a kelurahan."""
    _data(db, admin, 2025)
    html = (
        client_for(db, tmp_path, actor(Role.ANALYST, "32.75"))
        .get("/statistik?tingkat=kecamatan&tahun_program=2025")
        .text
    )
    assert 'data-tingkat="kecamatan"' in html and 'id="grafik-peta-kecamatan"' in html
    assert 'id="grafik-peta-kelurahan"' not in html
    row = html.split('<tr data-kode="32.75.01">')[1].split("</tr>")[0]
    assert "Bekasi Timur" in row and ">5</td>" in row  # 5 BLT families in Bekasijaya, one kecamatan
    own = client_for(db, tmp_path, actor(Role.ANALYST, KELURAHAN)).get("/statistik?tingkat=kecamatan").text
    assert (
        'data-tingkat="kelurahan"' in own and 'id="f-tingkat"' not in own
    )  # one kelurahan: no kecamatan table
