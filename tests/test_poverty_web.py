"""The /statistik pages on a tiny app with only this router (the actor comes from a dependency override)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from tepat.config import Settings
from tepat.domain.access import Role
from tepat.errors import TepatError
from tepat.web.deps import current_actor
from tepat.web.json_twin import JsonTwin
from tepat.web.routes.statistics import router
from tests.conftest import actor
from tests.factories import KELURAHAN, make_family


def client_for(db, tmp_path, who) -> TestClient:
    app = FastAPI()
    app.state.db = db
    app.state.settings = Settings(upload_dir=tmp_path / "uploads", min_cell_size=2)
    app.include_router(router)
    app.add_middleware(JsonTwin)  # /statistik/peringkat.json, as in the whole app
    app.dependency_overrides[current_actor] = lambda: who

    @app.exception_handler(TepatError)
    async def _error(request: Request, exc: TepatError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status_code)

    return TestClient(app)


@pytest.fixture
def analyst():
    return actor(Role.ANALYST, "32.75")


def test_dashboard_shows_ranking_trend_maps_and_aggregates(db, admin, analyst, tmp_path):
    for _ in range(2):
        make_family(db, admin, KELURAHAN)
    page = client_for(db, tmp_path, analyst).get("/statistik")
    assert page.status_code == 200
    html = page.text
    assert "Kota Bekasi: 4,01 %, peringkat 3 terendah dari 27 kabupaten/kota di Jawa Barat (2024)." in html
    assert (
        html.count('class="wilayah"') == 27 + 56 + 56
    )  # the three maps inline (Jawa Barat, verification, desil 1–4)
    assert 'id="tabel-peringkat"' in html and 'id="tabel-tren"' in html
    assert '<tr data-kode="32.75.01.1001"><td>Bekasijaya</td>' in html
    assert "/statistik/grafik/peta-provinsi.png?tahun=2024" in html and "/statistik/laporan.pdf" in html
    assert "Budi Santoso" not in html  # aggregates only
    assert 'id="impor-bps"' not in html  # only an admin imports


def test_chart_downloads(db, analyst, tmp_path):
    client = client_for(db, tmp_path, analyst)
    svg = client.get("/statistik/grafik/peta-kelurahan.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.count('class="wilayah"') == 56
    assert 'attachment; filename="peta-kelurahan.svg"' == svg.headers["content-disposition"]
    png = client.get("/statistik/grafik/peringkat.png?tahun=2024")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert client.get("/statistik/grafik/rahasia.svg").status_code == 404
    assert client.get("/statistik/peringkat.json?tahun=2019").json() == {
        "error": "Belum ada angka BPS tahun 2019. Tersedia: 2024."
    }


def test_admin_imports_a_new_year(db, admin, tmp_path):
    client = client_for(db, tmp_path, admin)
    assert 'id="impor-bps"' in client.get("/statistik").text
    csv = "kode_kemendagri,kab_kota,tahun,p0_persen\n32.75,Kota Bekasi,2025,3.85\n32.76,Kota Depok,2025,2.2\n"
    response = client.post(
        "/statistik/impor-bps", files={"berkas": ("bps.csv", csv, "text/csv")}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/statistik?impor=2"
    assert client.get("/statistik/peringkat.json").json()["year"] == 2025
    page = client.get("/statistik").text
    assert (
        '<option value="2024">2024</option>' in page and '<option value="2025" selected>2025</option>' in page
    )
    assert "Kota Bekasi: 3,85 %, peringkat 2 terendah dari 2 kabupaten/kota di Jawa Barat (2025)." in page


def test_an_analyst_cannot_import(db, analyst, tmp_path):
    client = client_for(db, tmp_path, analyst)
    response = client.post("/statistik/impor-bps", files={"berkas": ("bps.csv", "x", "text/csv")})
    assert response.status_code == 403


def test_the_desil_map_shows_each_kelurahans_share_of_desil_1_to_4(db, admin, analyst, tmp_path):
    """Issue 12 point 17: a kelurahan map of the desil 1–4 share, with small cells hidden."""
    import re

    from tepat.services import statistics
    from tests.programme_support import ranked_registry

    ranked_registry(db, admin, tmp_path)
    settings = Settings(upload_dir=tmp_path / "uploads", min_cell_size=2)
    cells = {c.code: c for c in statistics.registry_indicators(db, analyst, settings)}
    svg = statistics.chart_svg("peta-desil", db, analyst, settings)
    values = dict(re.findall(r'data-kode="([^"]+)"[^>]*data-nilai="([^"]*)"', svg))
    shown = [code for code, c in cells.items() if c.poorest_share is not None]
    assert shown  # the ranked registry has desil 1–4 families
    for code in shown:
        assert float(values[code]) == pytest.approx(
            100 * cells[code].poorest_families / cells[code].families, abs=0.05
        )
    hidden = [code for code, c in cells.items() if c.suppressed]
    assert all(values.get(code, "") == "" for code in hidden)
    page = client_for(db, tmp_path, analyst).get("/statistik").text
    assert 'id="grafik-peta-desil"' in page and "Keluarga desil 1–4 per kelurahan" in page
