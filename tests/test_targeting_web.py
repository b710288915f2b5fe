"""The /sasaran pages on a tiny app with only this router (the actor comes from a dependency override)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.errors import TepatError
from tepat.services import registry_ranking, targeting
from tepat.web.deps import current_actor
from tepat.web.routes.targeting import router
from tests.conftest import actor
from tests.factories import KELURAHAN
from tests.targeting_data import saved_model, survey_file, varied_registry


def client_for(db, who) -> TestClient:
    app = FastAPI()
    app.state.db = db
    app.include_router(router)
    app.dependency_overrides[current_actor] = lambda: who

    @app.exception_handler(TepatError)
    async def _error(request: Request, exc: TepatError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status_code)

    return TestClient(app)


def setup_ranked(db, admin, tmp_path):
    varied_registry(db, admin, 10)
    model_id = saved_model(db, admin, tmp_path, "PMT uji")
    targeting.evaluate_model(db, admin, model_id, survey_file(tmp_path, 300, seed=3))
    registry_ranking.rank_registry(db, admin, model_id)
    return model_id


def test_pages_for_an_admin(db, admin, tmp_path):
    model_id = setup_ranked(db, admin, tmp_path)
    client = client_for(db, admin)
    page = client.get("/sasaran")
    assert page.status_code == 200 and 'id="tabel-model"' in page.text and "PMT uji" in page.text
    assert "termiskin" in page.text and "dipakai (tidak dapat diubah)" in page.text
    detail = client.get(f"/sasaran/model/{model_id}")
    assert detail.status_code == 200 and "<svg" in detail.text and "Koefisien" in detail.text
    deciles = client.get("/sasaran/desil")
    assert (
        deciles.status_code == 200 and 'id="tabel-desil"' in deciles.text and "Bekasi Timur" in deciles.text
    )
    assert deciles.text.count("<svg") == 1
    rules = client.post("/sasaran/aturan", data={"aturan": "desil <= 10 and any(anggota, umur >= 0)"})
    assert rules.status_code == 200
    assert '<strong id="jumlah-keluarga">10</strong>' in rules.text
    assert "Kepala" in rules.text and "/keluarga/" in rules.text  # admins see names and links
    sim = client.post(
        "/sasaran/simulasi",
        data={
            "aturan_1": "desil <= 3",
            "aturan_2": "desil <= 5",
            "besaran": "250.000",
            "satuan": "keluarga",
            "anggaran": "",
        },
    )
    assert sim.status_code == 200 and 'id="tabel-skenario"' in sim.text
    assert "Rp750.000" in sim.text and "Rp1.250.000" in sim.text and "Bekasijaya" in sim.text


def test_analyst_sees_aggregates_only(db, admin, tmp_path):
    setup_ranked(db, admin, tmp_path)
    client = client_for(db, actor(Role.ANALYST, "32.75"))
    assert client.get("/sasaran").status_code == 200
    assert client.get("/sasaran/desil").status_code == 200
    rules = client.post("/sasaran/aturan", data={"aturan": "desil <= 10 and any(anggota, umur >= 0)"})
    assert rules.status_code == 200 and '<strong id="jumlah-keluarga">10</strong>' in rules.text
    assert "Kepala" not in rules.text and "Anak" not in rules.text and "/keluarga/" not in rules.text
    assert "Keluarga contoh 1" in rules.text and "anggota ke-1" in rules.text
    sim = client.post(
        "/sasaran/simulasi", data={"aturan_1": "desil <= 3", "besaran": "100000", "satuan": "jiwa"}
    )
    assert sim.status_code == 200 and "Kepala" not in sim.text


def test_rule_errors_point_at_the_position(db, admin):
    page = client_for(db, admin).post("/sasaran/aturan", data={"aturan": "desil <= "})
    assert page.status_code == 200 and 'role="alert"' in page.text and "posisi 10" in page.text
    sim = client_for(db, admin).post("/sasaran/simulasi", data={"aturan_1": "desil = 4", "besaran": "x"})
    assert "Besaran bantuan harus berupa bilangan bulat rupiah, mis. Rp 300.000." in sim.text


def test_other_roles_are_refused(db):
    for role in (Role.OPERATOR, Role.VERIFIER, Role.FINANCE):
        client = client_for(db, actor(role, KELURAHAN))
        for path in ("/sasaran", "/sasaran/desil", "/sasaran/aturan", "/sasaran/simulasi"):
            assert client.get(path).status_code == 403
        assert (
            client.post("/sasaran/simulasi", data={"aturan_1": "desil <= 3", "besaran": "1"}).status_code
            == 403
        )


def test_pages_without_models(db, admin):
    client = client_for(db, admin)
    assert 'id="tanpa-model"' in client.get("/sasaran").text
    assert 'id="belum-diperingkat"' in client.get("/sasaran/desil").text
    assert client.get("/sasaran/aturan").status_code == 200


def test_family_panel_partial_renders(db, admin, tmp_path):
    from tepat.web.templating import templates

    ids = varied_registry(db, admin, 4)
    assert "belum diperingkat" in templates.get_template("targeting/_family_panel.html").render(sasaran=None)
    setup_model = saved_model(db, admin, tmp_path)
    registry_ranking.rank_registry(db, admin, setup_model)
    info = targeting.family_targeting(db, admin, ids[0])
    html = templates.get_template("targeting/_family_panel.html").render(sasaran=info)
    assert f"Desil {info.desil}</strong>" in html and 'id="tabel-pengaruh"' in html and "Mobil" in html


def test_the_operator_family_page_shows_the_desil(db, admin, tmp_path):
    from tests.test_web_support import add_user, login, make_app

    ids = varied_registry(db, admin, 4)
    client = TestClient(make_app(db, tmp_path))
    add_user(db, "ani", Role.OPERATOR, KELURAHAN)
    login(client, "ani")
    mine = ids[1]  # odd families live in KELURAHAN
    assert "belum diperingkat" in client.get(f"/keluarga/{mine}").text
    registry_ranking.rank_registry(db, admin, saved_model(db, admin, tmp_path))
    info = targeting.family_targeting(db, admin, mine)
    page = client.get(f"/keluarga/{mine}").text
    assert f"Desil {info.desil}</strong>" in page and 'id="tabel-pengaruh"' in page


def test_the_simulation_page_shows_survey_errors_as_the_cli_computes_them(db, admin, tmp_path):
    """Issue 19 point 3: with a survey file the page shows each scenario's inclusion and exclusion errors, the
    figures ``tepat simulate --survey`` prints."""
    from tepat.domain.formatting import number
    from tepat.services import simulation

    setup_ranked(db, admin, tmp_path)
    survey = survey_file(tmp_path, 300, 4)
    expected = simulation.simulate(
        db,
        admin,
        simulation.Scenario("desil <= 5", 250_000, simulation.Unit("keluarga"), None, label="Skenario 1"),
        survey=survey,
    )
    assert expected.survey_errors is not None
    page = client_for(db, admin).post(
        "/sasaran/simulasi",
        data={"aturan_1": "desil <= 5", "besaran": "Rp 250.000", "satuan": "keluarga"},
        files={"survei": ("survei.csv", survey.read_bytes(), "text/csv")},
    )
    assert page.status_code == 200 and 'id="arti-galat"' in page.text
    inclusion = page.text.split('class="kanan galat-inklusi">')[1].split("</td>")[0]
    exclusion = page.text.split('class="kanan galat-eksklusi">')[1].split("</td>")[0]
    assert inclusion == f"{number(100 * expected.survey_errors['inclusion_error'], 1)}&nbsp;%"
    assert exclusion == f"{number(100 * expected.survey_errors['exclusion_error'], 1)}&nbsp;%"
    without = client_for(db, admin).post(
        "/sasaran/simulasi", data={"aturan_1": "desil <= 5", "besaran": "250000"}
    )
    assert "galat-inklusi" not in without.text
    wrong = client_for(db, admin).post(
        "/sasaran/simulasi",
        data={"aturan_1": "desil <= 5", "besaran": "250000"},
        files={"survei": ("survei.txt", b"x", "text/plain")},
    )
    assert "Berkas survei harus CSV, XLSX atau Parquet." in wrong.text


def test_a_grouped_model_page_lists_each_groups_coefficients(db, admin, tmp_path):
    from tepat.domain.welfare import fit_pmt_by_group
    from tepat.files.survey_frames import read_survey_columns

    path = survey_file(tmp_path, 1200, 5)
    columns = read_survey_columns(
        path,
        ["pengeluaran_per_kapita", "bobot", "jumlah_art", "kode_kecamatan"],
        text_columns=["kode_kecamatan"],
    )
    model = fit_pmt_by_group(
        columns,
        group_column="kode_kecamatan",
        target="pengeluaran_per_kapita",
        features=["jumlah_art"],
        weight="bobot",
    )
    version = targeting.save_model(db, admin, model, source=path, name="PMT per kecamatan")
    page = client_for(db, admin).get(f"/sasaran/model/{version}")
    assert page.status_code == 200 and page.text.count('<h3 id="kelompok-') == 12
    assert "Satu model per kelompok <code>kode_kecamatan</code>" in page.text
