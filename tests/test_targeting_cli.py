"""``tepat pmt fit`` and ``tepat rules check``, driven through Typer on a small app."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from tepat.cli import targeting
from tepat.domain.welfare import fit_pmt
from tests.test_welfare import FIXED, survey

app = typer.Typer()
targeting.register(app)
runner = CliRunner()


def write_csv(path: Path, columns: dict[str, list[object]]) -> Path:
    names = list(columns)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for row in zip(*(columns[n] for n in names), strict=True):
            writer.writerow(["" if v is None else (int(v) if isinstance(v, bool) else v) for v in row])
    return path


def test_pmt_fit_json_equals_the_domain_fit(tmp_path: Path) -> None:
    data = {k: list(v) for k, v in FIXED.items()}
    data["daya_listrik"] = ["450", "900", "450", "900", "900", "900", "450", "450", "900", "900"]
    path = write_csv(tmp_path / "susenas.csv", data)
    result = runner.invoke(
        app,
        [
            "pmt",
            "fit",
            str(path),
            "--target",
            "konsumsi",
            "--weight",
            "bobot",
            "--features",
            "luas,lantai,mobil,daya_listrik",
            "--reference",
            "lantai=tanah",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    expected = fit_pmt(
        data,
        target="konsumsi",
        weight="bobot",
        features=["luas", "lantai", "mobil", "daya_listrik"],
        reference={"lantai": "tanah"},
    )
    assert list(printed["coefficients"]) == list(expected.coefficients)
    assert (
        "daya_listrik=450" in printed["coefficients"]
    )  # a code column stays categorical though it looks numeric
    for name, value in expected.coefficients.items():
        assert printed["coefficients"][name] == pytest.approx(value, abs=1e-9)
    assert printed["r2"] == pytest.approx(expected.r2, abs=1e-12)
    assert printed["n"] == 10
    assert printed["references"] == {"lantai": "tanah", "daya_listrik": "900"}


def test_pmt_fit_text_output_and_groups(tmp_path: Path) -> None:
    data = survey(400, seed=5)
    path = write_csv(tmp_path / "s.csv", {k: v.tolist() for k, v in data.items()})
    result = runner.invoke(
        app,
        [
            "pmt",
            "fit",
            str(path),
            "--target",
            "konsumsi",
            "--weight",
            "bobot",
            "--features",
            "luas,mobil",
            "--group",
            "kelompok",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert sorted(printed["groups"]) == ["selatan", "utara"]
    assert printed["groups"]["utara"]["n"] == int(np.sum(data["kelompok"] == "utara"))
    text = runner.invoke(app, ["pmt", "fit", str(path), "--target", "konsumsi", "--features", "luas"])
    assert text.exit_code == 0
    assert text.stdout.splitlines()[0].startswith("n = 400 rumah tangga (0 dilewati), R² = ")
    assert text.stdout.splitlines()[1].split()[0] == "intercept"


def test_pmt_fit_reports_bad_input_in_one_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "s.csv", {k: list(v) for k, v in FIXED.items()})
    result = runner.invoke(
        app, ["pmt", "fit", str(path), "--target", "konsumsi", "--features", "luas", "--reference", "lantai"]
    )
    assert result.exit_code == 1
    assert result.stderr == "Galat: --reference harus berbentuk fitur=level, bukan 'lantai'.\n"


def test_rules_check_valid_and_invalid() -> None:
    ok = runner.invoke(app, ["rules", "check", "desil <= 4 and any(anggota, umur < 5)"])
    assert ok.exit_code == 0
    assert ok.stdout == "Aturan valid. Data yang dipakai: desil, umur.\n"
    bad = runner.invoke(app, ["rules", "check", "desil <= "])
    assert bad.exit_code == 1
    assert bad.stderr.splitlines() == [
        "Galat: Aturan tidak valid: posisi 10: diharapkan angka atau teks setelah '<=', bukan akhir aturan.",
        "  desil <= ",
        "           ^",
    ]
    as_json = runner.invoke(app, ["rules", "check", 'status == "aktf"', "--json"])
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout) == {
        "valid": False,
        "errors": [
            {"position": 11, "message": "nilai 'aktf' tidak dikenal untuk status; pilihan: aktif, nonaktif"}
        ],
    }
