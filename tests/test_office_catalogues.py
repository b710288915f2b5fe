"""Each kabupaten/kota its own programme catalogue (issue 17 point 1: each office's users see and change only their
office's data). In a province's database the catalogue was one for every office, named after the first: a second
office's cycles drew on the first office's APBD budget and ranked every office's families together (found in
review). Now a programme belongs to an office: its name, amount and budget are that office's, its candidates are
that office's families, and a cycle draws on the catalogue of the office its area lies in."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.domain.regions import Level
from tepat.errors import NotFound, PermissionDenied, ValidationError
from tepat.services import auth, cycles, enrolment, programmes
from tepat.store.database import Database
from tepat.store.schema import benefit_cycles
from tepat.store.schema import programmes as programme_table
from tests.conftest import actor
from tests.factories import make_family
from tests.migration_support import migrate
from tests.test_web_support import PASSWORD, login, make_app

EVERYWHERE = actor(Role.ADMIN, area_code="")
PROVINCE = actor(Role.ADMIN, "32", "admin_provinsi")
BEKASI = actor(Role.ADMIN, "32.75", "admin_bekasi")
DEPOK = actor(Role.ADMIN, "32.76", "admin_depok")


@pytest.fixture
def seeded(two_offices: Database) -> Database:
    programmes.seed_catalogue(two_offices, BEKASI)
    programmes.seed_catalogue(two_offices, DEPOK)
    return two_offices


def _depok_kelurahan(db: Database) -> str:
    return min(r.code for r in db.regions.descendants("32.76", Level.KELURAHAN))


def test_each_office_seeds_names_and_changes_its_own_catalogue(seeded: Database) -> None:
    db = seeded
    assert programmes.get_programme(db, BEKASI, "BLT-APBD")["name"].endswith("Kota Bekasi")
    assert programmes.get_programme(db, DEPOK, "BLT-APBD")["name"].endswith("Kota Depok")
    programmes.update_programme(db, DEPOK, "BLT-APBD", 1, {"amount": 300_000})
    assert programmes.get_programme(db, DEPOK, "BLT-APBD")["amount"] == 300_000
    assert programmes.get_programme(db, BEKASI, "BLT-APBD")["amount"] == 250_000
    assert {r["office_code"] for r in programmes.list_programmes(db, DEPOK)} == {"32.76"}
    assert {r["office_code"] for r in programmes.list_programmes(db, PROVINCE)} == {"32.75", "32.76"}


def test_another_offices_catalogue_is_not_there_for_an_office(seeded: Database) -> None:
    db = seeded
    with pytest.raises(NotFound):
        programmes.get_programme(db, DEPOK, "BLT-APBD", office="32.75")
    with pytest.raises(NotFound):
        programmes.update_programme(db, DEPOK, "BLT-APBD", 1, {"amount": 1}, office="32.75")
    with pytest.raises(
        PermissionDenied
    ):  # a kecamatan's admin sees the city's catalogue, and changes none of it
        programmes.update_programme(db, actor(Role.ADMIN, "32.76.01", "kec"), "BLT-APBD", 1, {"amount": 1})
    assert programmes.get_programme(db, BEKASI, "BLT-APBD")["amount"] == 250_000


def test_an_account_above_the_offices_names_the_office(seeded: Database) -> None:
    db = seeded
    with pytest.raises(ValidationError, match="pilih kantornya"):
        programmes.get_programme(db, PROVINCE, "BLT-APBD")
    programmes.update_programme(db, PROVINCE, "BLT-APBD", 1, {"amount": 275_000}, office="32.76")
    assert programmes.get_programme(db, PROVINCE, "BLT-APBD", office="32.76")["amount"] == 275_000
    assert programmes.get_programme(db, PROVINCE, "BLT-APBD", office="32.75")["amount"] == 250_000


def test_a_cycle_draws_on_the_catalogue_and_budget_of_its_office(seeded: Database) -> None:
    db = seeded
    year = int(programmes.get_programme(db, DEPOK, "BLT-APBD")["budget_year"])
    programmes.update_programme(db, BEKASI, "BLT-APBD", 1, {"annual_budget": 9_000_000})
    programmes.update_programme(db, DEPOK, "BLT-APBD", 1, {"annual_budget": 4_000_000})
    day = date(year, 7, 1)
    cycle_id = cycles.create_cycle(
        db, DEPOK, "BLT-APBD", name="BLT Depok Juli", period_start=day, period_end=date(year, 7, 31)
    )
    with db.read() as conn:
        row = conn.execute(
            sa.select(programme_table.c.office_code, benefit_cycles.c.budget_cap)
            .join(programme_table, programme_table.c.id == benefit_cycles.c.programme_id)
            .where(benefit_cycles.c.id == cycle_id)
        ).one()
    assert tuple(row) == ("32.76", 4_000_000)
    with pytest.raises(ValidationError) as refused:  # an area over two offices: whose budget?
        cycles.create_cycle(
            db, PROVINCE, "BLT-APBD", name="BLT Jabar", period_start=day, period_end=date(year, 7, 31)
        )
    assert [e.field for e in refused.value.errors] == ["area_code"]


def test_a_programmes_candidates_are_its_offices_families(seeded: Database) -> None:
    db = seeded
    make_family(db, EVERYWHERE)  # in Kota Bekasi
    make_family(db, EVERYWHERE, kelurahan=_depok_kelurahan(db))
    for who in (BEKASI, DEPOK):
        programmes.update_programme(db, who, "BLT-APBD", 1, {"rule": 'status == "aktif"'})
    assert enrolment.candidates(db, DEPOK, "BLT-APBD", limit=0).candidates == 1
    assert enrolment.candidates(db, PROVINCE, "BLT-APBD", limit=0, office="32.75").candidates == 1


def _programme_row(code: str, at: str) -> dict[str, object]:
    return {
        "code": code,
        "name": f"{code} Kota Bekasi",
        "unit": "keluarga",
        "benefit_type": "tunai",
        "funding_source": "APBD",
        "frequency": "sekali",
        "amount": 250_000,
        "budget_year": 2025,
        "rule": 'status == "aktif"',
        "exclusions": "[]",
        "active": True,
        "version": 1,
        "created_by": "admin",
        "created_at": at,
        "updated_by": "admin",
        "updated_at": at,
    }


def test_0021_gives_a_provinces_one_catalogue_to_its_first_office(scratch: sa.Engine) -> None:
    """The programmes a database held become its first office's; then another office may hold the same codes."""
    migrate(scratch, "upgrade", "0020")
    at = "2025-01-01 00:00:00+00:00"
    office = {"province_name": "Jawa Barat", "address": None}
    with scratch.begin() as conn:
        for code, name, chosen in (
            ("32.76", "Kota Depok", "2025-01-02"),
            ("32.75", "Kota Bekasi", "2025-01-01"),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO offices (code, name, province_name, agency, short_agency, address, chosen_at) "
                    "VALUES (:code, :name, :province_name, :agency, :short, :address, :chosen)"
                ),
                {
                    **office,
                    "code": code,
                    "name": name,
                    "agency": f"Dinas Sosial {name}",
                    "short": f"Dinsos {name}",
                    "chosen": f"{chosen} 00:00:00+00:00",
                },
            )
        for code in ("BLT-APBD", "BPNT"):
            row = _programme_row(code, at)
            conn.execute(
                sa.text(
                    f"INSERT INTO programmes ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"
                ),
                row,
            )
    migrate(scratch, "upgrade", "0021")
    with scratch.begin() as conn:
        held = conn.execute(sa.text("SELECT code, office_code FROM programmes ORDER BY code")).all()
        assert [tuple(r) for r in held] == [("BLT-APBD", "32.75"), ("BPNT", "32.75")]
        conn.execute(
            sa.text(
                "INSERT INTO programmes (code, name, unit, benefit_type, funding_source, frequency, amount, "
                "budget_year, rule, exclusions, active, version, created_by, created_at, updated_by, updated_at, "
                "office_code) SELECT code, 'BLT APBD Kota Depok', unit, benefit_type, funding_source, frequency, "
                "amount, budget_year, rule, exclusions, active, version, created_by, created_at, updated_by, "
                "updated_at, '32.76' FROM programmes WHERE code = 'BLT-APBD'"
            )
        )
    with pytest.raises(sa.exc.IntegrityError), scratch.begin() as conn:  # still one code per office
        conn.execute(
            sa.text(
                "INSERT INTO programmes (code, name, unit, benefit_type, funding_source, frequency, amount, "
                "budget_year, rule, exclusions, active, version, created_by, created_at, updated_by, updated_at, "
                "office_code) SELECT code, name, unit, benefit_type, funding_source, frequency, amount, "
                "budget_year, rule, exclusions, active, version, created_by, created_at, updated_by, updated_at, "
                "office_code FROM programmes WHERE code = 'BPNT'"
            )
        )
    migrate(scratch, "upgrade", "head")


def test_the_pages_show_an_offices_catalogue_and_a_province_names_the_office(
    seeded: Database, tmp_path: Path
) -> None:
    db = seeded
    programmes.update_programme(db, DEPOK, "BLT-APBD", 1, {"amount": 300_000, "rule": 'status == "aktif"'})
    for username, role, area in (("admin.depok", Role.ADMIN, "32.76"), ("pemantau", Role.PROVINCE, "32")):
        auth.create_user(
            db,
            EVERYWHERE,
            username=username,
            password=PASSWORD,
            role=role,
            area_code=area,
            full_name=username,
        )
    with TestClient(make_app(db, tmp_path)) as http:
        login(http, "admin.depok")
        own = http.get("/program/BLT-APBD")
        assert (
            own.status_code == 200
            and "Bantuan Langsung Tunai APBD Kota Depok" in own.text
            and 'id="form-program"' in own.text
        )
        assert http.get("/program/BLT-APBD?kantor=32.75").status_code == 404
        assert "Kota Bekasi" not in http.get("/program").text
    with TestClient(make_app(db, tmp_path)) as http:
        login(http, "pemantau")
        listed = http.get("/program").text
        assert "/program/BLT-APBD?kantor=32.75" in listed and "/program/BLT-APBD?kantor=32.76" in listed
        depok = http.get("/program/BLT-APBD?kantor=32.76")
        assert depok.status_code == 200 and "Bantuan Langsung Tunai APBD Kota Depok" in depok.text
        assert 'id="form-program"' not in depok.text  # the province reads, and changes nothing
        assert "/program/BLT-APBD/kandidat?kantor=32.76" in depok.text
        named = http.get("/program/BLT-APBD/kandidat?kantor=32.76")
        assert named.status_code == 200 and "kantor=32.76" in named.text


def test_the_status_check_does_the_same_work_whichever_office_holds_the_nik(two_offices: Database) -> None:
    """The public check reads the same statements for a NIK of an office without open programmes, a NIK of one
    with them, and a number that is nobody's: a stranger timing the answers cannot learn that a number exists, nor
    in which office (found in review: a Depok NIK skipped the family and member reads that the decoy made)."""
    from tepat.services.status_check import StatusChecker
    from tests.factories import kk, member_values

    db = two_offices
    programmes.seed_catalogue(db, BEKASI)  # only Kota Bekasi has open programmes; the decoy is Bekasi's
    people = {}
    for office, kelurahan, name in (
        ("32.75", "32.75.01.1001", "Budi Santoso"),
        ("32.76", _depok_kelurahan(db), "Joko Widodo"),
    ):
        head = member_values(name, "L", date(1980, 5, 17))
        number = kk()
        make_family(db, EVERYWHERE, kelurahan=kelurahan, members=[head], kk_number=number)
        people[office] = (head["nik"], number)
    checker = StatusChecker(db, "rahasia-uji-" * 4)
    statements: list[str] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    def counted(nik: str, second: str, client: str) -> int:
        statements.clear()
        checker.check(nik, second, client=client)
        return len(statements)

    counted(*people["32.75"], client="10.0.0.9")  # the open programmes are read once and kept a while
    sa.event.listen(db.read_only, "before_cursor_execute", keep)
    try:
        depok = counted(*people["32.76"], client="10.0.0.1")
        bekasi = counted(*people["32.75"], client="10.0.0.2")
        stranger = counted("3275015705809999", people["32.75"][1], client="10.0.0.3")
        wrong_kk = counted(people["32.76"][0], people["32.75"][1], client="10.0.0.4")
    finally:
        sa.event.remove(db.read_only, "before_cursor_execute", keep)
    assert depok == bekasi == stranger == wrong_kk, (depok, bekasi, stranger, wrong_kk)
