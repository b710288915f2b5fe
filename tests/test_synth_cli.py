"""``tepat synth``: files written and the Indonesian summary."""

from __future__ import annotations

import json

import polars as pl
from typer.testing import CliRunner

from tepat.cli import app
from tepat.domain.households import CANONICAL_COLUMNS

runner = CliRunner()


def test_synth_writes_registry_truth_and_survey_and_prints_a_summary(tmp_path):
    out = tmp_path / "kota"
    result = runner.invoke(
        app, ["synth", "--families", "60", "--seed", "7", "--out", str(out), "--survey-households", "300"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Kota Bekasi sintetis (seed 7):"
    assert lines[1] == "  keluarga: 60"
    assert lines[2].startswith("  jiwa: ")
    assert lines[3].startswith("  rata-rata anggota keluarga: ") and "," in lines[3]
    assert lines[4].startswith("  penduduk di bawah garis kemiskinan (Rp842.927): ") and lines[4].endswith(
        " %"
    )
    assert lines[5] == "  rumah tangga survei: 300"
    registry = pl.read_csv(out / "registry.csv", infer_schema_length=0)
    assert tuple(registry.columns) == CANONICAL_COLUMNS
    assert pl.read_parquet(out / "truth.parquet").height == 60
    survey = pl.read_csv(out / "survey.csv")
    assert survey.height == 300 and {"bobot", "strata", "psu", "pengeluaran_per_kapita"} <= set(
        survey.columns
    )
    assert not (out / "messy").exists()


def test_synth_json_parquet_and_messy(tmp_path):
    out = tmp_path / "kota"
    result = runner.invoke(
        app,
        [
            "synth",
            "--families",
            "40",
            "--seed",
            "2",
            "--out",
            str(out),
            "--format",
            "parquet",
            "--survey-households",
            "10",
            "--messy",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    # At least 2 PSUs in each of the 12 kecamatan strata: a city sample has at least 240 households.
    assert summary["keluarga"] == 40 and summary["rumah_tangga_survei"] == 240
    assert summary["jiwa"] == pl.read_parquet(out / "registry.parquet").height
    assert 2.5 < summary["rata_rata_anggota"] < 4.5 and 0 <= summary["persen_miskin"] <= 100
    assert {p.rsplit("/", 1)[-1] for p in summary["berkas"]} == {
        "registry.parquet",
        "truth.parquet",
        "survey.csv",
        "registri_kotor.csv",
        "registri_kotor.xlsx",
        "manifest.json",
    }
    assert (out / "messy" / "manifest.json").exists()


def test_synth_refuses_an_unknown_format(tmp_path):
    result = runner.invoke(app, ["synth", "--out", str(tmp_path), "--format", "ods"])
    assert result.exit_code == 2
