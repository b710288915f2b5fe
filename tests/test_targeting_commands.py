"""``tepat pmt fit --save``, ``pmt list/show/evaluate/rank``, ``rules run/explain`` and ``tepat simulate``."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from tepat.cli import targeting
from tests.targeting_data import survey_file, varied_registry

app = typer.Typer()
targeting.register(app)
runner = CliRunner()


def run(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_save_list_show_evaluate_rank_and_simulate(db, admin, tmp_path):
    ids = varied_registry(db, admin, 10)
    path = survey_file(tmp_path)
    fitted = run("pmt", "fit", str(path), "--target", "pengeluaran_per_kapita", "--weight", "bobot",
                 "--features", "jumlah_art,jenis_lantai,aset_mobil,umur_kepala", "--save", "--name", "PMT A",
                 "--db", db.url)
    version = fitted["version"]
    assert "jenis_lantai=tanah" in fitted["coefficients"] or "jenis_lantai=keramik" in fitted["coefficients"]
    listed = run("pmt", "list", "--db", db.url)
    assert [v["name"] for v in listed] == ["PMT A"] and listed[0]["used"] is False
    shown = run("pmt", "show", str(version), "--db", db.url)
    assert shown["coefficients"] == fitted["coefficients"] and shown["source_file"] == path.name
    assert shown["features"] == ["jumlah_art", "jenis_lantai", "aset_mobil", "umur_kepala"]
    evaluated = run("pmt", "evaluate", str(version), str(survey_file(tmp_path, 300, 4)), "--coverage", "10,20,40",
                    "--db", db.url)
    assert [c["coverage"] for c in evaluated["coverages"]] == [0.1, 0.2, 0.4]
    ranked = run("pmt", "rank", str(version), "--date", "2026-07-01", "--db", db.url)
    assert ranked["families"] == 10 and ranked["inserted"] == 10 and sum(ranked["decile_sizes"]) == 10
    assert run("pmt", "show", str(version), "--db", db.url)["used"] is True
    eligible = run("rules", "run", "desil <= 3", "--date", "2026-07-01", "--db", db.url)
    assert eligible["families"] == 3 and len(eligible["page"]) == 3
    explained = run("rules", "explain", "desil <= 3", str(eligible["page"][0]["id"]), "--db", db.url)
    assert explained["eligible"] is True
    sim = run("simulate", "--rule", "desil <= 3", "--amount", "250000", "--list", "--date", "2026-07-01", "--db", db.url)
    assert sim["families"] == 3 and sim["total_cost"] == 750_000
    assert sim["total_cost"] == sum(b["amount"] for b in sim["beneficiaries"])
    both = run("simulate", "--rule", "desil <= 3", "--rule", "desil <= 5", "--amount", "1000", "--unit", "jiwa",
               "--budget", "5000", "--db", db.url)
    assert [s["total_cost"] <= 5000 for s in both["scenarios"]] == [True, True]
    assert {r["id"] for r in eligible["page"]} <= set(ids)


def test_bad_input_is_one_plain_line(db, tmp_path):
    result = runner.invoke(app, ["pmt", "show", "99", "--db", db.url])
    assert result.exit_code != 0
    result = runner.invoke(app, ["pmt", "evaluate", "1", str(tmp_path / "x.csv"), "--coverage", "abc", "--db", db.url])
    assert result.exit_code == 1 and "Galat: --coverage" in result.output
