"""``tepat poverty``: estimate, ranking, trend, import-bps, chart, report, with the exact user-facing text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tepat.cli import app
from tests.test_poverty_reference import REFERENCE

DATA = Path(__file__).parent / "data"
runner = CliRunner()


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TEPAT_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def run(*args: str):
    return runner.invoke(app, list(args))


def test_estimate_json_equals_r_for_a_household_file():
    result = run(
        "poverty",
        "estimate",
        str(DATA / "poverty_household.csv"),
        "--consumption",
        "pengeluaran_ruta",
        "--household-total",
        "--size",
        "art",
        "--weight",
        "bobot_ruta",
        "--strata",
        "strata",
        "--psu",
        "bs",
        "--by",
        "kelurahan",
        "--line",
        "842927",
        "--json",
    )
    assert result.exit_code == 0, result.output
    estimates = json.loads(result.output)["estimates"]
    expected = REFERENCE["household_adjust"]["by_kelurahan"]
    assert [e["domain"] for e in estimates] == [r["domain"] for r in expected]
    for got, want in zip(estimates, expected):
        for key in ("p0", "p1", "p2", "se_p0", "se_p1", "se_p2", "poor", "population", "n"):
            assert got[key] == pytest.approx(want[key], rel=1e-9, abs=1e-9)
        assert set(got) >= {"ci95_p0", "rse_p0", "deff_p0", "se_poor"}


def test_estimate_with_a_line_column_and_certainty():
    result = run(
        "poverty",
        "estimate",
        str(DATA / "poverty_person.csv"),
        "--consumption",
        "pengeluaran_kapita",
        "--weight",
        "bobot",
        "--line-col",
        "garis",
        "--strata",
        "strata",
        "--psu",
        "psu",
        "--lonely-psu",
        "certainty",
        "--json",
    )
    assert result.exit_code == 0, result.output
    (overall,) = json.loads(result.output)["estimates"]
    assert overall["se_p0"] == pytest.approx(
        REFERENCE["person_certainty"]["by_kecamatan"][0]["se_p0"], rel=1e-9
    )


def test_estimate_table_text():
    result = run(
        "poverty",
        "estimate",
        str(DATA / "poverty_person.csv"),
        "--consumption",
        "pengeluaran_kapita",
        "--weight",
        "bobot",
        "--line-col",
        "garis",
        "--strata",
        "strata",
        "--psu",
        "psu",
        "--by",
        "wilayah",
    )
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert (
        lines[1].startswith("Semua") and lines[2].startswith("perdesaan") and lines[3].startswith("perkotaan")
    )
    assert "24,48" in lines[1]
    assert (
        lines[-1]
        == "P0, P1, P2 dalam persen (x100); SE linearisasi Taylor, PSU dengan pengembalian dalam strata."
    )


def test_estimate_errors_are_one_plain_line():
    result = run(
        "poverty",
        "estimate",
        str(DATA / "poverty_person.csv"),
        "--consumption",
        "belanja",
        "--weight",
        "bobot",
        "--line",
        "5",
    )
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "Galat: Kolom tidak ada di poverty_person.csv: belanja."
    both = run(
        "poverty",
        "estimate",
        str(DATA / "poverty_person.csv"),
        "--consumption",
        "pengeluaran_kapita",
        "--weight",
        "bobot",
    )
    assert both.exit_code == 1
    assert (
        both.output.strip()
        == "Galat: Isi salah satu: --line (rupiah), --line-from (paket komoditas) atau --line-col "
        "(kolom garis kemiskinan)."
    )


def test_a_negative_weight_is_named_by_its_row(tmp_path):
    """Issue 19 point 8: the user is told which row holds the negative weight (or a zero household size)."""
    survey = tmp_path / "survei.csv"
    survey.write_text("pengeluaran,bobot,art\n500000,10,4\n300000,-2,3\n400000,5,0\n")
    result = run(
        "poverty",
        "estimate",
        str(survey),
        "--consumption",
        "pengeluaran",
        "--weight",
        "bobot",
        "--size",
        "art",
        "--line",
        "450000",
    )
    assert result.exit_code == 1
    assert result.output.splitlines()[1:] == [
        "  - baris 3, bobot: negatif",
        "  - baris 4, art: harus lebih dari nol",
    ]


def test_ranking_text_and_json(db):
    result = run("poverty", "ranking", "--year", "2024", "--db", db.url)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "P0 kabupaten/kota di Provinsi Jawa Barat, 2024 (peringkat 1 = terendah)"
    assert lines[3] == "  3. Kota Bekasi              4,01 %  (-0,09)"
    assert (
        lines[-1] == "Kota Bekasi: 4,01 %, peringkat 3 terendah dari 27 kabupaten/kota di Jawa Barat (2024)."
    )
    data = json.loads(run("poverty", "ranking", "--json", "--db", db.url).output)
    assert data["count"] == 27 and data["places"][2]["name"] == "Kota Bekasi"
    missing = run("poverty", "ranking", "--year", "2019", "--db", db.url)
    assert (
        missing.exit_code == 1
        and missing.output.strip() == "Galat: Belum ada angka BPS tahun 2019. Tersedia: 2024."
    )


def test_trend_text(db):
    result = run("poverty", "trend", "--db", db.url)
    assert result.output.splitlines() == [
        "2020    4,38 %",
        "2021    4,74 %  (+0,36)",
        "2022    4,43 %  (-0,31)",
        "2023    4,10 %  (-0,33)",
        "2024    4,01 %  (-0,09)",
    ]


def test_import_bps_adds_a_year(db, tmp_path, upload_dir):
    source = tmp_path / "bps2025.csv"
    source.write_text(
        "kode_kemendagri,kab_kota,tahun,p0_persen\n32.75,Kota Bekasi,2025,3.85\n32.76,Kota Depok,2025,2.2\n"
        "32.73,Kota Bandung,2025,3.9\n"
    )
    result = run("poverty", "import-bps", str(source), "--db", db.url)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "3 angka BPS disimpan (3 wilayah, tahun 2025)."
    assert (upload_dir / "bps" / "bps_kemiskinan_impor.csv").exists()
    data = json.loads(run("poverty", "ranking", "--json", "--db", db.url).output)
    assert data["year"] == 2025 and [p["code"] for p in data["places"]] == ["32.76", "32.75", "32.73"]
    assert data["places"][1]["change"] == -0.16
    from tepat.store.audit import entries

    with db.read() as conn:
        assert entries(conn, entity="bps_kemiskinan")[0]["action"] == "bps_poverty.import"


def test_import_bps_refuses_bad_rows(db, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text("kode_kemendagri,kab_kota,tahun,p0_persen\n32.75,Kota Bekasi,2025,x\n")
    result = run("poverty", "import-bps", str(source), "--db", db.url)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Galat: Berkas BPS punya 1 isian yang salah; tidak ada yang disimpan.",
        "  - baris 2, p0_persen: bukan angka",
    ]


def test_import_bps_refuses_an_unknown_region_code(db, tmp_path, upload_dir):
    """Issue 19 point 8: a code shaped like a kabupaten/kota but unknown to the Kepmendagri list refuses the file."""
    source = tmp_path / "bps2025.csv"
    source.write_text(
        "kode_kemendagri,kab_kota,tahun,p0_persen\n32.75,Kota Bekasi,2025,3.85\n"
        "32.99,Kota Antah,2025,2.2\n39,Provinsi Entah,2025,3.0\n"
    )
    result = run("poverty", "import-bps", str(source), "--db", db.url)
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Galat: Kode wilayah tidak dikenal sebagai provinsi atau kabupaten/kota: "
        "32.99 (Kota Antah), 39 (Provinsi Entah). Tidak ada angka yang disimpan."
    )
    assert not (upload_dir / "bps" / "bps_kemiskinan_impor.csv").exists()


def test_chart_and_report_files(db, tmp_path):
    svg = tmp_path / "peta.svg"
    assert run("poverty", "chart", "peta-provinsi", "--out", str(svg), "--db", db.url).exit_code == 0
    assert svg.read_text().count('class="wilayah"') == 27
    png = tmp_path / "tren.png"
    assert run("poverty", "chart", "tren", "--out", str(png), "--db", db.url).exit_code == 0
    assert png.read_bytes().startswith(b"\x89PNG")
    pdf = tmp_path / "laporan.pdf"
    result = run("poverty", "report", "--out", str(pdf), "--db", db.url)
    assert result.exit_code == 0 and result.output.strip() == f"Laporan ditulis ke {pdf}."
    assert pdf.read_bytes().startswith(b"%PDF-")
