"""The national ranking (issue 17 point 4): every office's snapshot ranked together, on Polars and on Spark, and
imported back by each office."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from tepat.cli import app as cli_app
from tepat.domain.access import Role
from tepat.domain.deciles import rank_families
from tepat.domain.welfare import model_from_spec
from tepat.errors import ValidationError
from tepat.services import national_import, national_ranking, national_snapshots, registry_ranking, targeting
from tepat.services.setup import init_database
from tepat.store import pmt_features
from tepat.store import targeting as score_store
from tepat.store.database import Database
from tests.conftest import actor, own_database_url
from tests.targeting_data import DAY, fitted, survey_file, varied_registry

BEKASI, DEPOK = "32.75", "32.76"
DEPOK_KELURAHAN = ("32.76.01.1006", "32.76.01.1007")


@pytest.fixture
def depok(tmp_path: Path) -> Iterator[Database]:
    with own_database_url(tmp_path, "tepat_depok") as url:
        db = Database(url)
        try:
            init_database(db, office=DEPOK)
            yield db
        finally:
            db.dispose()


def _office(db: Database, tmp_path: Path, families: int, kelurahan: tuple[str, ...] | None = None) -> int:
    """``families`` varied families and the shared model (fitted on the same survey: the same fingerprint)."""
    admin = actor(Role.ADMIN, db.office.code)
    if kelurahan:
        varied_registry(db, admin, families, kelurahan)
    else:
        varied_registry(db, admin, families)
    path = survey_file(tmp_path)
    return targeting.save_model(db, admin, fitted(path), source=path, name="nasional")


def _expected(dbs: list[Database], model_ids: list[int]) -> dict[tuple[str, int], int]:
    """The national desil computed the long way: each office's predictions, ranked together (ties by office, id)."""
    keys, scores = [], []
    for db, model_id in zip(dbs, model_ids, strict=True):
        with db.read() as conn:
            model = model_from_spec(score_store.get_model(conn, model_id)["spec"])
            ids, _, columns = pmt_features.read_features(conn, targeting.columns_of(model), DAY)
        predicted = registry_ranking.predict_registry(model, columns).log_welfare
        keys += [(db.office.code, int(i)) for i in ids]
        scores += predicted.tolist()
    order_key = np.asarray([int(code.replace(".", "")) * 10**9 + i for code, i in keys])
    ranking = rank_families(np.asarray(scores), order_key)
    return {key: int(d) for key, d in zip(keys, ranking.decile, strict=True)}


def _stored_desil(db: Database, model_id: int) -> dict[tuple[str, int], int]:
    with db.read() as conn:
        stored = score_store.stored_scores(conn, model_id)
    return {
        (db.office.code, int(f)): int(d) for f, d in zip(stored["family_id"], stored["desil"], strict=True)
    }


def _ranked(out: Path) -> dict[tuple[str, int], int]:
    found = {}
    for folder in out.glob("office=*"):
        code = folder.name.split("=", 1)[1]
        for row in pl.read_parquet(list(folder.glob("*.parquet"))).iter_rows(named=True):
            found[(code, row["family_id"])] = row["desil"]
    return found


def test_one_office_ranked_nationally_gets_its_own_ranking(db: Database, tmp_path: Path) -> None:
    """With one office the national ranking is the office's: the same desil as ``tepat pmt rank``."""
    model_id = _office(db, tmp_path, 14)
    admin = actor(Role.ADMIN, BEKASI)
    local = registry_ranking.rank_registry(db, admin, model_id, reference_date=DAY)
    before = _stored_desil(db, model_id)
    snapshot = national_snapshots.write_snapshot(db, admin, model_id, tmp_path / "snap", reference_date=DAY)
    assert (snapshot.office, snapshot.families) == (BEKASI, 14)
    result = national_ranking.rank_nationally(tmp_path / "snap", tmp_path / "hasil")
    assert result.decile_sizes == local.decile_sizes and result.families == 14
    assert _ranked(tmp_path / "hasil") == before
    imported = national_import.import_ranks(db, admin, tmp_path / "hasil")
    assert imported.ranking.unchanged == 14 and imported.ranking.updated == 0
    assert (imported.changed_since_snapshot, imported.no_longer_active, imported.not_ranked) == (0, 0, 0)
    assert _stored_desil(db, model_id) == before


def test_two_offices_are_ranked_together_and_each_imports_its_part(
    db: Database, depok: Database, tmp_path: Path
) -> None:
    bekasi_model = _office(db, tmp_path, 12)
    depok_model = _office(depok, tmp_path, 9, DEPOK_KELURAHAN)
    for office_db, model_id in ((db, bekasi_model), (depok, depok_model)):
        admin = actor(Role.ADMIN, office_db.office.code)
        national_snapshots.write_snapshot(office_db, admin, model_id, tmp_path / "snap", reference_date=DAY)
    result = national_ranking.rank_nationally(tmp_path / "snap", tmp_path / "hasil", offices=[BEKASI, DEPOK])
    expected = _expected([db, depok], [bekasi_model, depok_model])
    assert result.offices == {BEKASI: 12, DEPOK: 9} and sum(result.decile_sizes) == 21
    assert _ranked(tmp_path / "hasil") == expected
    manifest = json.loads((tmp_path / "hasil" / "peringkat.json").read_text())
    assert manifest["method"] == "exact" and manifest["reference_date"] == DAY.isoformat()
    for office_db, model_id in ((db, bekasi_model), (depok, depok_model)):
        national_import.import_ranks(office_db, actor(Role.ADMIN, office_db.office.code), tmp_path / "hasil")
        stored = _stored_desil(office_db, model_id)
        assert stored == {k: v for k, v in expected.items() if k[0] == office_db.office.code}
    # ranked among 21 families, Bekasi's desil are not those of its own ranking of 12
    local = registry_ranking.rank_registry(db, actor(Role.ADMIN, BEKASI), bekasi_model, reference_date=DAY)
    assert local.updated > 0


@pytest.mark.slow
def test_spark_in_local_mode_ranks_as_polars_does(db: Database, depok: Database, tmp_path: Path) -> None:
    for office_db, n, kelurahan in ((db, 12, None), (depok, 9, DEPOK_KELURAHAN)):
        model_id = _office(office_db, tmp_path, n, kelurahan)
        admin = actor(Role.ADMIN, office_db.office.code)
        national_snapshots.write_snapshot(office_db, admin, model_id, tmp_path / "snap", reference_date=DAY)
    national_ranking.rank_nationally(tmp_path / "snap", tmp_path / "polars")
    spark = national_ranking.rank_nationally(tmp_path / "snap", tmp_path / "spark", engine="spark")
    assert spark.method == "exact" and _ranked(tmp_path / "spark") == _ranked(tmp_path / "polars")
    approx = national_ranking.rank_nationally(
        tmp_path / "snap", tmp_path / "kira", engine="spark", approximate=True
    )
    exact, near = _ranked(tmp_path / "polars"), _ranked(tmp_path / "kira")
    assert approx.method == "approximate" and approx.relative_error == national_ranking.APPROXIMATE_ERROR
    assert near.keys() == exact.keys() and max(abs(near[k] - exact[k]) for k in exact) <= 1
    assert not (tmp_path / "spark" / "_spark").exists()  # Spark's own layout moved into the shared one
    national_import.import_ranks(depok, actor(Role.ADMIN, DEPOK), tmp_path / "spark")


def test_a_missing_stale_or_foreign_snapshot_is_refused_and_named(
    db: Database, depok: Database, tmp_path: Path
) -> None:
    bekasi_model = _office(db, tmp_path, 6)
    depok_model = _office(depok, tmp_path, 5, DEPOK_KELURAHAN)
    snap = tmp_path / "snap"
    national_snapshots.write_snapshot(db, actor(Role.ADMIN, BEKASI), bekasi_model, snap, reference_date=DAY)
    with pytest.raises(ValidationError, match="tidak ada: 32.76"):
        national_ranking.rank_nationally(snap, tmp_path / "a", offices=[BEKASI, DEPOK])
    with pytest.raises(ValidationError, match="32: harus kode kabkota"):
        national_ranking.rank_nationally(snap, tmp_path / "a", offices=[BEKASI, "32"])
    older = DAY.replace(month=DAY.month - 1)
    national_snapshots.write_snapshot(
        depok, actor(Role.ADMIN, DEPOK), depok_model, snap, reference_date=older
    )
    with pytest.raises(ValidationError, match=rf"lebih lama dari tanggal acuan {DAY.isoformat()}: 32.76"):
        national_ranking.rank_nationally(snap, tmp_path / "a")
    national_snapshots.write_snapshot(depok, actor(Role.ADMIN, DEPOK), depok_model, snap, reference_date=DAY)
    shutil.copy(snap / "32.76.parquet", tmp_path / "depok.parquet")
    pl.read_parquet(snap / "32.76.parquet").head(3).write_parquet(snap / "32.76.parquet")  # cut short
    with pytest.raises(ValidationError, match="32.76: 32.76.parquet memuat 3 keluarga, manifest menyebut 5"):
        national_ranking.rank_nationally(snap, tmp_path / "a")
    shutil.copy(tmp_path / "depok.parquet", snap / "32.76.parquet")
    manifest = json.loads((snap / "32.76.json").read_text())
    manifest["model"]["models" if "models" in manifest["model"] else "coefficients"]["intercept"] = 1.0
    (snap / "32.76.json").write_text(json.dumps(manifest))
    with pytest.raises(ValidationError, match="32.76.json: model di manifest tidak sesuai"):
        national_ranking.rank_nationally(snap, tmp_path / "a")
    assert not (tmp_path / "a").exists()  # nothing written for a refused set
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "lama.txt").write_text("x")
    with pytest.raises(ValidationError, match="sudah berisi"):
        national_ranking.rank_nationally(snap, tmp_path / "b")


def test_an_office_imports_only_its_part_of_a_ranking_of_its_own_model(
    db: Database, depok: Database, tmp_path: Path
) -> None:
    model_id = _office(db, tmp_path, 6)
    national_snapshots.write_snapshot(
        db, actor(Role.ADMIN, BEKASI), model_id, tmp_path / "snap", reference_date=DAY
    )
    national_ranking.rank_nationally(tmp_path / "snap", tmp_path / "hasil")
    with pytest.raises(ValidationError, match=r"tidak memuat kantor ini \(32.76\)"):
        national_import.import_ranks(depok, actor(Role.ADMIN, DEPOK), tmp_path / "hasil")
    depok_path = tmp_path / "hasil" / "office=32.76"
    shutil.copytree(tmp_path / "hasil" / "office=32.75", depok_path)
    with pytest.raises(ValidationError, match="Versi model PMT peringkat nasional"):
        national_import.import_ranks(depok, actor(Role.ADMIN, DEPOK), tmp_path / "hasil")
    with pytest.raises(Exception, match="seluruh kota"):
        national_import.import_ranks(db, actor(Role.ANALYST, "32.75.01"), tmp_path / "hasil")


def test_the_commands_snapshot_rank_and_import(db: Database, tmp_path: Path) -> None:
    model_id = _office(db, tmp_path, 8)
    runner = CliRunner()
    made = runner.invoke(
        cli_app,
        [
            "nasional",
            "snapshot",
            str(tmp_path / "snap"),
            "--model",
            str(model_id),
            "--date",
            DAY.isoformat(),
            "--db",
            db.url,
        ],
    )
    assert made.exit_code == 0, made.output
    assert "Snapshot 32.75 (Kota Bekasi): 8 keluarga" in made.output
    ranked = runner.invoke(
        cli_app,
        ["nasional", "rank", str(tmp_path / "snap"), "--out", str(tmp_path / "hasil"), "--offices", "32.75"],
    )
    assert ranked.exit_code == 0, ranked.output
    assert "8 keluarga dari 1 kantor diperingkat secara nasional (polars, tepat)" in ranked.output
    imported = runner.invoke(
        cli_app, ["pmt", "import-ranks", str(tmp_path / "hasil"), "--db", db.url, "--json"]
    )
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.output)["families"] == 8
    refused = runner.invoke(
        cli_app,
        ["nasional", "rank", str(tmp_path / "snap"), "--out", str(tmp_path / "x"), "--offices", "32.99"],
    )
    assert refused.exit_code != 0 and "snapshot kantor berikut tidak ada: 32.99" in refused.output


def test_a_ranking_that_fails_halfway_leaves_no_folder_to_import(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_id = _office(db, tmp_path, 6)
    national_snapshots.write_snapshot(
        db, actor(Role.ADMIN, BEKASI), model_id, tmp_path / "snap", reference_date=DAY
    )
    written = national_ranking._rank_with_polars

    def fails_after_writing(paths, model, out_dir):  # type: ignore[no-untyped-def]
        written(paths, model, out_dir)
        raise MemoryError("the machine ran out of memory")

    monkeypatch.setattr(national_ranking, "_rank_with_polars", fails_after_writing)
    with pytest.raises(MemoryError):
        national_ranking.rank_nationally(tmp_path / "snap", tmp_path / "hasil")
    assert not (tmp_path / "hasil").exists()
    monkeypatch.undo()
    national_ranking.rank_nationally(tmp_path / "snap", tmp_path / "hasil")  # the rerun completes it
    assert (tmp_path / "hasil" / "peringkat.json").exists()


def test_spark_not_installed_is_said_plainly_not_a_traceback(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    from tepat.files.person_lists import PersonList
    from tepat.services import record_linkage, spark_session

    model_id = _office(db, tmp_path, 4)
    national_snapshots.write_snapshot(
        db, actor(Role.ADMIN, BEKASI), model_id, tmp_path / "snap", reference_date=DAY
    )
    found = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyspark" else found(name, *a)
    )
    ranked = CliRunner().invoke(
        cli_app,
        ["nasional", "rank", str(tmp_path / "snap"), "--out", str(tmp_path / "hasil"), "--engine", "spark"],
    )
    assert (
        ranked.exit_code == 1
        and "Mesin spark belum terpasang" in ranked.output
        and "Traceback" not in ranked.output
    )
    assert not (tmp_path / "hasil").exists()
    people = PersonList("x", pl.DataFrame({"id": ["1", "2"], "nama": ["Siti", "Siti"]}), 0)
    with pytest.raises(ValidationError, match="pip install 'tepat\\[spark\\]'"):
        record_linkage.deduplicate(people, engine="spark")
    assert spark_session.NOT_INSTALLED.startswith("Mesin spark")


def test_an_import_counts_the_families_edited_and_left_since_the_snapshot(
    db: Database, tmp_path: Path
) -> None:
    from tepat.services import registry

    model_id = _office(db, tmp_path, 6)
    admin = actor(Role.ADMIN, BEKASI)
    national_snapshots.write_snapshot(db, admin, model_id, tmp_path / "snap", reference_date=DAY)
    national_ranking.rank_nationally(tmp_path / "snap", tmp_path / "hasil")
    with db.read() as conn:
        ids, versions, _ = pmt_features.read_features(conn, [], DAY)
    edited, left = int(ids[1]), int(ids[4])
    registry.update_family(
        db, admin, edited, {"rt": 9}, expected_version=int(versions[1]), reason="pindah RT"
    )
    registry.deactivate_family(
        db, admin, left, "pindah", expected_version=int(versions[4]), note="pindah kota"
    )
    imported = national_import.import_ranks(db, admin, tmp_path / "hasil")
    assert (imported.changed_since_snapshot, imported.no_longer_active, imported.not_ranked) == (1, 1, 0)
    assert imported.ranking.families == 5
