"""Issue 17 point 1: several offices in one database. Kota Bekasi and Kota Depok share a province's database; each
office's staff see and change only their office's families, batches and documents, each page and document speaks
of its own office, and a province account reads both and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tepat.cli import app as cli
from tepat.domain.access import Role, system_actor
from tepat.errors import ConfigError, NotFound, PermissionDenied, ValidationError
from tepat.services import auth, documents, national_snapshots, payments, registry_reads, targeting
from tepat.services.setup import init_database
from tepat.store.database import Database
from tepat.store.schema import benefit_cycles, families
from tests.conftest import actor, own_database_url
from tests.document_data import families_in, pdf_text
from tests.programme_data import approved_cycle, insert_programme
from tests.targeting_data import DAY, fitted, survey_file, varied_registry
from tests.test_web_support import PASSWORD, login, make_app

BEKASI, DEPOK = "32.75", "32.76"
BEKASIJAYA, PANCORAN_MAS = "32.75.01.1001", "32.76.01.1006"
SECRET_DEPOK = "Rahasia Depok"


@pytest.fixture
def province(tmp_path: Path) -> Iterator[Database]:
    """A database serving Kota Bekasi, then Kota Depok added (on PostgreSQL when the suite runs there)."""
    with own_database_url(tmp_path, "tepat_provinsi") as url:
        db = Database(url)
        try:
            init_database(db, office=BEKASI)
            init_database(db, office=DEPOK, address="Jl. Margonda Raya No. 54, Depok")
            yield db
        finally:
            db.dispose()


def _user(db: Database, username: str, role: Role, area: str) -> None:
    auth.create_user(
        db,
        system_actor(),
        username=username,
        password=PASSWORD,
        role=role,
        area_code=area,
        full_name=username,
    )


def test_a_second_office_is_added_and_the_database_serves_both(province: Database, tmp_path: Path) -> None:
    offices = province.offices
    assert offices.codes == (BEKASI, DEPOK) and offices.area == "32" and not offices.single
    assert offices.of(PANCORAN_MAS).name == "Kota Depok" and offices.of("32.01") is None
    with pytest.raises(ConfigError, match="beberapa kantor"):
        _ = province.office  # no silent "the" office: code names the office of the area at hand
    result = CliRunner().invoke(cli, ["init", "--office", DEPOK, "--db", province.url, "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert [o["code"] for o in shown["offices"]] == [BEKASI, DEPOK]
    assert province.offices.codes == (BEKASI, DEPOK)  # naming an office again adds nothing


def test_accounts_belong_to_an_office_and_the_province_account_to_the_province(province: Database) -> None:
    _user(province, "dinsos.depok", Role.ADMIN, DEPOK)
    _user(province, "ani.bekasi", Role.OPERATOR, BEKASIJAYA)
    made = CliRunner().invoke(
        cli,
        [
            "user",
            "add",
            "pemantau",
            "--role",
            "provinsi",
            "--area",
            "32",
            "--password",
            PASSWORD,
            "--db",
            province.url,
        ],
    )
    assert made.exit_code == 0 and "peran Pemantau Provinsi, wilayah Jawa Barat" in made.output, made.output
    with pytest.raises(ValidationError) as outside:
        _user(province, "bogor", Role.ADMIN, "32.01")  # Kabupaten Bogor: not served here
    assert "Kota Bekasi (32.75), Kota Depok (32.76)" in str([e.message for e in outside.value.errors])
    with pytest.raises(ValidationError):
        _user(province, "pemantau.kota", Role.PROVINCE, BEKASI)  # a province account reads the province
    with pytest.raises(ValidationError):
        auth.create_user(  # a city admin cannot make an account over the province
            province,
            actor(Role.ADMIN, BEKASI),
            username="naik",
            password=PASSWORD,
            role=Role.PROVINCE,
            area_code="32",
            full_name="Naik",
        )


def test_each_office_sees_only_its_families_and_the_province_reads_both(
    province: Database, tmp_path: Path
) -> None:
    bekasi_family = families_in(province, system_actor(BEKASI), BEKASIJAYA, ["Budi Santoso"])[0]
    depok_family = families_in(province, system_actor(DEPOK), PANCORAN_MAS, [SECRET_DEPOK])[0]
    with pytest.raises(NotFound):
        registry_reads.get_family(province, actor(Role.ADMIN, BEKASI), depok_family)
    assert (
        registry_reads.get_family(province, actor(Role.ADMIN, DEPOK), depok_family).family["id"]
        == depok_family
    )
    reader = actor(Role.PROVINCE, "32")
    assert registry_reads.get_family(province, reader, bekasi_family).family["id"] == bekasi_family
    assert registry_reads.get_family(province, reader, depok_family).family["id"] == depok_family

    _user(province, "dinsos.bekasi", Role.ADMIN, BEKASI)
    _user(province, "dinsos.depok", Role.ADMIN, DEPOK)
    _user(province, "pemantau", Role.PROVINCE, "32")
    app = make_app(province, tmp_path)
    bekasi = TestClient(app, raise_server_exceptions=False)
    login(bekasi, "dinsos.bekasi")
    for path in (
        f"/keluarga/{depok_family}",
        f"/keluarga/{depok_family}.json",
        f"/keluarga/{depok_family}/riwayat",
    ):
        answer = bekasi.get(path)
        assert answer.status_code == 404 and SECRET_DEPOK not in answer.text, path
    assert SECRET_DEPOK not in bekasi.get("/cari", params={"q": "Rahasia"}).text
    home = bekasi.get("/").text
    assert "Dinas Sosial Kota Bekasi" in home and "Depok" not in home

    depok = TestClient(app, raise_server_exceptions=False)
    login(depok, "dinsos.depok")
    assert SECRET_DEPOK in depok.get(f"/keluarga/{depok_family}").text
    assert "Dinas Sosial Kota Depok" in depok.get("/").text

    watcher = TestClient(app, raise_server_exceptions=False)
    csrf = login(watcher, "pemantau")
    assert (
        "Dinas Sosial Provinsi Jawa Barat" in watcher.get("/").text
    )  # above the offices: the province speaks
    portal = TestClient(app).get("/layanan").text  # the residents' pages of a province's deployment
    assert "Dinsos Provinsi Jawa Barat" in portal and "Bekasi" not in portal
    assert SECRET_DEPOK in watcher.get(f"/keluarga/{depok_family}").text
    assert watcher.get(f"/keluarga/{bekasi_family}").status_code == 200
    assert watcher.get(f"/keluarga/{depok_family}/ubah").status_code == 403  # reads, never changes
    refused = watcher.post(
        f"/keluarga/{depok_family}/ubah", data={"csrf_token": csrf, "version": "1", "reason": "coba"}
    )
    assert refused.status_code == 403
    assert watcher.get("/pengguna").status_code == 403 and watcher.get("/pembayaran/baru").status_code == 403
    after = registry_reads.get_family(province, reader, depok_family)
    assert after.family["version"] == 1


def _office_cycle(db: Database, office: str, kelurahan: str, names: list[str]) -> int:
    ids = families_in(db, system_actor(office), kelurahan, names)
    cycle_id = approved_cycle(
        db, insert_programme(db, f"BLT-{office[-2:]}", name="BLT"), ids, name=f"BLT {office}"
    )
    with db.begin() as conn:
        conn.execute(benefit_cycles.update().where(benefit_cycles.c.id == cycle_id).values(area_code=office))
    return cycle_id


def test_batches_and_documents_belong_to_their_cycles_office(province: Database, tmp_path: Path) -> None:
    depok_cycle = _office_cycle(province, DEPOK, PANCORAN_MAS, ["Siti Rahmawati", "Rina Wati"])
    bekasi_finance, depok_finance = actor(Role.FINANCE, BEKASI), actor(Role.FINANCE, DEPOK)
    with pytest.raises(PermissionDenied):
        payments.create_batch(province, bekasi_finance, depok_cycle, "bank")
    batch = payments.create_batch(province, depok_finance, depok_cycle, "bank")
    assert payments.batch_area(province, batch) == DEPOK and batch.control_count == 2
    with pytest.raises(NotFound):
        payments.get_batch(province, bekasi_finance, batch.id)
    assert payments.list_batches(province, bekasi_finance) == []
    assert [b.id for b in payments.list_batches(province, actor(Role.PROVINCE, "32"))] == [batch.id]

    nominatif = pdf_text(
        documents.nominatif(
            province, system_actor(DEPOK), depok_cycle, PANCORAN_MAS, signed_on=date(2025, 7, 14)
        ).content
    )
    assert "PEMERINTAH KOTA DEPOK" in nominatif and "Kepala Dinas Sosial Kota Depok" in nominatif
    assert "Depok, 14 Juli 2025" in nominatif and "Bekasi" not in nominatif
    from tepat.services import cycles, reconciliation

    with pytest.raises(NotFound):  # another office's cycle is not found, as another kelurahan's family is not
        cycles.show(province, bekasi_finance, depok_cycle)
    with pytest.raises(NotFound):
        reconciliation.reconcile(province, bekasi_finance, cycle_id=depok_cycle)
    with pytest.raises(NotFound):  # nor does it tell another office whether that cycle's list is intact
        cycles.verify_snapshot(province, actor(Role.ADMIN, BEKASI), depok_cycle)
    with pytest.raises(NotFound):
        cycles.approval_review(province, actor(Role.ADMIN, BEKASI), depok_cycle)
    assert cycles.list_cycles(province, bekasi_finance) == []
    assert [c.id for c in cycles.list_cycles(province, depok_finance)] == [depok_cycle]
    assert reconciliation.reconcile(province, depok_finance, cycle_id=depok_cycle).total["planned_count"] == 2
    _user(province, "keu.bekasi", Role.FINANCE, BEKASI)
    web = TestClient(make_app(province, tmp_path), raise_server_exceptions=False)
    login(web, "keu.bekasi")
    for path in (
        f"/siklus/{depok_cycle}",
        f"/siklus/{depok_cycle}.json",
        f"/pembayaran/{batch.id}",
        f"/pembayaran/siklus/{depok_cycle}/rekonsiliasi",
        f"/pembayaran/{batch.id}/rekonsiliasi",
    ):
        assert web.get(path).status_code == 404, path
    assert "Rina Wati" not in web.get("/pembayaran/baru").text and "BLT 32.76" not in web.get("/siklus").text
    _user(province, "keu.depok", Role.FINANCE, DEPOK)
    depok_web = TestClient(make_app(province, tmp_path), raise_server_exceptions=False)
    login(depok_web, "keu.depok")
    assert (
        "Seluruh Kota Depok" in depok_web.get(f"/pembayaran/{batch.id}").text
    )  # its cycle's office, by name
    bekasi_cycle = _office_cycle(province, BEKASI, BEKASIJAYA, ["Budi Santoso"])
    bast = pdf_text(
        documents.bast(
            province, system_actor(BEKASI), bekasi_cycle, BEKASIJAYA, signed_on=date(2025, 7, 14)
        ).content
    )
    assert "Kepala Dinas Sosial Kota Bekasi" in bast and "Depok" not in bast


def test_a_national_snapshot_has_one_file_per_office_with_its_families_only(
    province: Database, tmp_path: Path
) -> None:
    system = system_actor()
    varied_registry(province, system_actor(BEKASI), 4, (BEKASIJAYA,))
    varied_registry(province, system_actor(DEPOK), 3, (PANCORAN_MAS,))
    path = survey_file(tmp_path)
    model_id = targeting.save_model(province, system, fitted(path), source=path, name="provinsi")
    written = national_snapshots.write_snapshots(
        province, system, model_id, tmp_path / "snap", reference_date=DAY
    )
    assert [(s.office, s.families) for s in written] == [(BEKASI, 4), (DEPOK, 3)]
    depok_rows = pl.read_parquet(tmp_path / "snap" / f"{DEPOK}.parquet")
    assert set(depok_rows["office"].to_list()) == {DEPOK} and depok_rows.height == 3
    with pytest.raises(ValidationError, match="tidak dilayani"):
        national_snapshots.write_snapshot(province, system, model_id, tmp_path / "x", office_code="32.01")
    with pytest.raises(PermissionDenied):  # one office's admin does not rank the province's families
        national_snapshots.write_snapshots(province, actor(Role.ADMIN, BEKASI), model_id, tmp_path / "y")


def test_synthetic_offices_are_written_apart_and_imported_into_one_database(
    province: Database, tmp_path: Path
) -> None:
    from tepat.services.imports import import_file

    out = tmp_path / "sintetis"
    made = CliRunner().invoke(
        cli, ["synth", "--out", str(out), "--families", "150", "--offices", f"{BEKASI},{DEPOK}", "--json"]
    )
    assert made.exit_code == 0, made.output
    niks = {
        code: set(pl.read_csv(out / code / "registry.csv", infer_schema=False)["nik"].to_list())
        for code in (BEKASI, DEPOK)
    }
    assert niks[BEKASI] and niks[DEPOK] and not niks[BEKASI] & niks[DEPOK]  # no NIK in both cities
    depok_rows = pl.read_csv(out / DEPOK / "registry.csv", infer_schema=False)
    assert depok_rows["kode_kelurahan"].str.starts_with(DEPOK + ".").all()
    for code in (BEKASI, DEPOK):
        result = import_file(province, system_actor(), out / code / "registry.csv")
        assert result.families_created == 150 and result.rows_rejected == 0, (code, result.as_dict())
    office = sa.func.substr(families.c.kelurahan_code, 1, 5).label("office")  # bound once: one GROUP BY key
    with province.read() as conn:
        by_office = dict(conn.execute(sa.select(office, sa.func.count()).group_by(office)).all())
    assert by_office == {BEKASI: 150, DEPOK: 150}
    depok_kelurahan = depok_rows["kode_kelurahan"][0]
    assert registry_reads.list_families(province, actor(Role.ADMIN, DEPOK), depok_kelurahan)
    with pytest.raises((NotFound, PermissionDenied)):
        registry_reads.list_families(province, actor(Role.ADMIN, BEKASI), depok_kelurahan)
    bad = CliRunner().invoke(cli, ["synth", "--out", str(tmp_path / "x"), "--offices", "32.75,32.75.01"])
    assert bad.exit_code == 1 and "bukan kode kabupaten/kota" in bad.output


def test_every_page_route_hides_another_offices_family_cycle_and_batch(
    province: Database, tmp_path: Path
) -> None:
    """Issue 17, bad input: a user of office A asking for office B's records through every route gets 404, as across
    kelurahan today, and changes nothing."""
    from tests.test_web_support import fill_path, page_routes

    depok_cycle = _office_cycle(province, DEPOK, PANCORAN_MAS, [SECRET_DEPOK])
    batch = payments.create_batch(province, actor(Role.FINANCE, DEPOK), depok_cycle, "bank")
    family_id = registry_reads.list_families(province, actor(Role.ADMIN, DEPOK), PANCORAN_MAS)[0]["id"]
    view = registry_reads.get_family(province, actor(Role.ADMIN, DEPOK), family_id)
    _user(province, "dinsos.bekasi", Role.ADMIN, BEKASI)
    _user(province, "orang.depok", Role.OPERATOR, PANCORAN_MAS)
    app = make_app(province, tmp_path)
    client = TestClient(app, raise_server_exceptions=False)
    csrf = login(client, "dinsos.bekasi")
    ids = {
        "family_id": family_id,
        "member_id": view.members[0]["id"],
        "code": PANCORAN_MAS,
        "cycle_id": depok_cycle,
        "batch_id": batch.id,
        "username": "orang.depok",
    }
    checked = 0
    for method, path in page_routes(app):
        if path in ("/masuk", "/keluar") or path.startswith(("/cek", "/layanan")) or "{" not in path:
            continue
        if not any(f"{{{key}}}" in path for key in ids):
            continue
        url = fill_path(path, **ids, name="x.csv", fmt="svg", model_id=1, program="BLT-76")
        if method == "GET":
            answers = [client.get(url), client.get(url + ".json")]
        else:
            data = {"csrf_token": csrf, "version": "1", "reason": "uji", "note": "uji", "alasan": "uji"}
            answers = [client.post(url, data=data, follow_redirects=False)]
        for answer in answers:
            assert answer.status_code == 404, f"{method} {url}: {answer.status_code}"
            assert SECRET_DEPOK not in answer.text and view.family["kk_number"] not in answer.text, url
        checked += 1
    assert checked >= 30
    assert registry_reads.get_family(province, actor(Role.ADMIN, DEPOK), family_id).family["version"] == 1
    assert payments.get_batch(province, actor(Role.FINANCE, DEPOK), batch.id).batch.state == "dibuat"


def test_the_province_account_chooses_the_office_whose_statistics_it_reads(
    province: Database, tmp_path: Path
) -> None:
    families_in(province, system_actor(DEPOK), PANCORAN_MAS, ["Siti Rahmawati", "Rina Wati"])
    _user(province, "pemantau", Role.PROVINCE, "32")
    _user(province, "dinsos.bekasi", Role.ADMIN, BEKASI)
    app = make_app(province, tmp_path)
    watcher = TestClient(app, raise_server_exceptions=False)
    login(watcher, "pemantau")
    first = watcher.get("/statistik")
    assert first.status_code == 200 and 'id="f-kantor"' in first.text and "Kota Depok" in first.text
    depok = watcher.get("/statistik", params={"kantor": DEPOK})
    assert (
        depok.status_code == 200 and "Kota Depok:" in depok.text and 'data-kode="32.76.01.1006"' in depok.text
    )
    assert 'data-kode="32.75.01.1001"' not in depok.text  # the other office's kelurahan are not on its map
    twin = watcher.get("/statistik.json", params={"kantor": DEPOK}).json()
    assert twin["office_code"] == DEPOK and twin["kantor"] == DEPOK
    svg = watcher.get("/statistik/grafik/peta-kelurahan.svg", params={"kantor": DEPOK}).text
    assert "Dinas Sosial Kota Depok" in svg
    assert watcher.get("/statistik", params={"kantor": "32.01"}).status_code == 404  # not served here
    city = TestClient(app, raise_server_exceptions=False)
    login(city, "dinsos.bekasi")
    mine = city.get("/statistik")
    assert mine.status_code == 200 and 'id="f-kantor"' not in mine.text and "Kota Bekasi:" in mine.text
    assert city.get("/statistik", params={"kantor": DEPOK}).status_code == 403  # never wider than the account
