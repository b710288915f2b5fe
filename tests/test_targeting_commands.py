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
    from tepat.domain.access import Role
    from tests.test_web_support import add_user

    ids = varied_registry(db, admin, 10)
    add_user(db, "rina", Role.ANALYST, "32.75")
    path = survey_file(tmp_path)
    fitted = run(
        "pmt",
        "fit",
        str(path),
        "--target",
        "pengeluaran_per_kapita",
        "--weight",
        "bobot",
        "--features",
        "jumlah_art,jenis_lantai,aset_mobil,umur_kepala",
        "--save",
        "--name",
        "PMT A",
        "--as",
        "rina",
        "--db",
        db.url,
    )
    version = fitted["version"]
    assert "jenis_lantai=tanah" in fitted["coefficients"] or "jenis_lantai=keramik" in fitted["coefficients"]
    listed = run("pmt", "list", "--db", db.url)
    assert [v["name"] for v in listed] == ["PMT A"] and listed[0]["used"] is False
    shown = run("pmt", "show", str(version), "--db", db.url)
    assert shown["coefficients"] == fitted["coefficients"] and shown["source_file"] == path.name
    assert shown["features"] == ["jumlah_art", "jenis_lantai", "aset_mobil", "umur_kepala"]
    evaluated = run(
        "pmt",
        "evaluate",
        str(version),
        str(survey_file(tmp_path, 300, 4)),
        "--coverage",
        "10,20,40",
        "--db",
        db.url,
    )
    assert [c["coverage"] for c in evaluated["coverages"]] == [0.1, 0.2, 0.4]
    ranked = run("pmt", "rank", str(version), "--date", "2026-07-01", "--db", db.url)
    assert ranked["families"] == 10 and ranked["inserted"] == 10 and sum(ranked["decile_sizes"]) == 10
    assert run("pmt", "show", str(version), "--db", db.url)["used"] is True
    eligible = run("rules", "run", "desil <= 3", "--date", "2026-07-01", "--db", db.url)
    assert eligible["families"] == 3 and len(eligible["page"]) == 3
    explained = run("rules", "explain", "desil <= 3", str(eligible["page"][0]["id"]), "--db", db.url)
    assert explained["eligible"] is True
    sim = run(
        "simulate",
        "--rule",
        "desil <= 3",
        "--amount",
        "250000",
        "--list",
        "--date",
        "2026-07-01",
        "--db",
        db.url,
    )
    assert sim["families"] == 3 and sim["total_cost"] == 750_000
    assert sim["total_cost"] == sum(b["amount"] for b in sim["beneficiaries"])
    both = run(
        "simulate",
        "--rule",
        "desil <= 3",
        "--rule",
        "desil <= 5",
        "--amount",
        "1000",
        "--unit",
        "jiwa",
        "--budget",
        "5000",
        "--db",
        db.url,
    )
    assert [s["total_cost"] <= 5000 for s in both["scenarios"]] == [True, True]
    assert {r["id"] for r in eligible["page"]} <= set(ids)


def test_bad_input_is_one_plain_line(db, tmp_path):
    result = runner.invoke(app, ["pmt", "show", "99", "--db", db.url])
    assert result.exit_code != 0
    result = runner.invoke(
        app, ["pmt", "evaluate", "1", str(tmp_path / "x.csv"), "--coverage", "abc", "--db", db.url]
    )
    assert result.exit_code == 1 and "Galat: --coverage" in result.output


def test_a_model_per_group_is_stored_named_by_its_fitter_and_applied_per_group(db, admin, tmp_path):
    """Issue 19 point 4: ``pmt fit --group --save --as`` stores one model per kecamatan; ranking scores each family
    with its own kecamatan's model; the version records who fitted it."""
    from datetime import date

    import numpy as np
    import pytest
    import sqlalchemy as sa

    from tepat.cli import app as tepat_app
    from tepat.domain.access import Role
    from tepat.domain.welfare import GroupedPmtModel
    from tepat.services import targeting as service
    from tepat.store import pmt_features
    from tepat.store.schema import families
    from tests.test_web_support import add_user

    varied_registry(db, admin, 10)
    add_user(db, "rina", Role.ANALYST, "32.75")
    path = survey_file(tmp_path, 1200, 5)
    features = "jumlah_art,aset_mobil,umur_kepala"
    unsigned = runner.invoke(
        tepat_app,
        [
            "pmt",
            "fit",
            str(path),
            "--target",
            "pengeluaran_per_kapita",
            "--weight",
            "bobot",
            "--features",
            features,
            "--group",
            "kode_kecamatan",
            "--save",
            "--db",
            db.url,
        ],
    )
    assert unsigned.exit_code == 1 and "--as" in unsigned.output
    fitted = run(
        "pmt",
        "fit",
        str(path),
        "--target",
        "pengeluaran_per_kapita",
        "--weight",
        "bobot",
        "--features",
        features,
        "--group",
        "kode_kecamatan",
        "--save",
        "--as",
        "rina",
        "--db",
        db.url,
    )
    version = fitted["version"]
    assert fitted["group_column"] == "kode_kecamatan" and len(fitted["groups"]) == 12
    shown = run("pmt", "show", str(version), "--db", db.url)
    assert shown["created_by"] == "rina" and set(shown["groups"]) == set(fitted["groups"])
    text = runner.invoke(app, ["pmt", "show", str(version), "--db", db.url]).output
    assert "Satu model per kelompok 'kode_kecamatan':" in text and text.count("Kelompok 32.75.") == 12
    run("pmt", "rank", str(version), "--date", "2026-07-01", "--db", db.url)
    model = service.get_model(db, admin, version).model
    assert isinstance(model, GroupedPmtModel)
    with db.read() as conn:
        ids, _, columns = pmt_features.read_features(
            conn, [f.name for f in model.features] + ["kode_kecamatan"], date(2026, 7, 1)
        )
        kecamatan = dict(conn.execute(sa.select(families.c.id, families.c.kecamatan_code)).all())
    for i, family_id in enumerate(ids[:5]):
        own = model.model_for(kecamatan[int(family_id)])
        expected = own.predict({k: np.asarray(v)[i : i + 1] for k, v in columns.items()}).log_welfare[0]
        assert service.family_targeting(db, admin, int(family_id), version).score == pytest.approx(expected)
