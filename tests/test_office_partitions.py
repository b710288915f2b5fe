"""Offices as partitions (issue 17, point 2): every large table carries its office; a NIK is active once across all
offices; a family moving to another office takes its members along; on PostgreSQL each office's rows live in its
own partition, which a query of one office reads alone, and an office added later gets its partitions; migration
0019 converts a populated database in place, and a run that fails halfway leaves it as it was."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from tepat.domain.access import Role
from tepat.domain.regions import Level
from tepat.errors import ValidationError
from tepat.services import programmes, registry
from tepat.services.imports import import_file
from tepat.services.setup import init_database
from tepat.store import audit, partitions, versioning
from tepat.store import cases as case_store
from tepat.store import targeting as targeting_store
from tepat.store.areas import join_on
from tepat.store.candidates import Scope, ranked_candidates
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.families import FAMILY_BY_NIK, in_area
from tepat.store.schema import active_niks, cases, families, family_scores, members
from tests import registry_files
from tests.conftest import actor
from tests.factories import make_family, member_values
from tests.migration_support import migrate

EVERYWHERE = actor(Role.ADMIN, area_code="")


def _depok_kelurahan(db: Database) -> str:
    return min(r.code for r in db.regions.descendants("32.76", Level.KELURAHAN))


def _offices_of(db: Database, family_id: int) -> tuple[str, set[str], set[str]]:
    with db.read() as conn:
        family = conn.execute(
            sa.select(families.c.office_code).where(families.c.id == family_id)
        ).scalar_one()
        people = set(
            conn.execute(sa.select(members.c.office_code).where(members.c.family_id == family_id)).scalars()
        )
        niks = set(
            conn.execute(
                sa.select(active_niks.c.office_code).where(
                    active_niks.c.member_id.in_(
                        sa.select(members.c.id).where(members.c.family_id == family_id)
                    )
                )
            ).scalars()
        )
    return family, people, niks


def _partition_of(db: Database, table: str, family_id: int, column: str = "id") -> str | None:
    if db.engine.dialect.name != "postgresql":
        return None
    with db.read() as conn:
        return conn.exec_driver_sql(
            f"SELECT tableoid::regclass::text FROM {table} WHERE {column} = {int(family_id)} LIMIT 1"
        ).scalar_one()


def _person(nik: str) -> dict[str, object]:
    return {**member_values(), "nik": nik, "birth_date": date(1980, 5, 17), "life_status": "hidup"}


def test_rows_carry_their_office_and_a_nik_is_active_once_across_offices(two_offices: Database) -> None:
    db = two_offices
    bekasi = make_family(db, EVERYWHERE)
    depok = make_family(db, EVERYWHERE, kelurahan=_depok_kelurahan(db))
    assert _offices_of(db, bekasi) == ("32.75", {"32.75"}, {"32.75"})
    assert _offices_of(db, depok) == ("32.76", {"32.76"}, {"32.76"})
    if db.engine.dialect.name == "postgresql":
        assert _partition_of(db, "families", bekasi) == "families_32_75"
        assert _partition_of(db, "members", depok, "family_id") == "members_32_76"
    with db.read() as conn:
        taken = conn.execute(
            sa.select(members.c.nik).where(members.c.family_id == bekasi).limit(1)
        ).scalar_one()
    # Past every check of the code: the database itself refuses a second active member with the NIK, in the
    # other office's partition.
    with pytest.raises(sa.exc.IntegrityError, match="active_niks"), db.begin() as conn:
        versioning.insert_row(
            conn,
            members,
            {**_person(taken), "family_id": depok, "status": "aktif"},
            changed_by="uji",
            reason="uji",
            at=now(),
        )
    # Inactive, the same NIK may be stored again (history): only an active NIK is unique.
    with db.begin() as conn:
        versioning.insert_row(
            conn,
            members,
            {**_person(taken), "family_id": depok, "status": "nonaktif"},
            changed_by="uji",
            reason="uji",
            at=now(),
        )
        assert conn.execute(sa.select(sa.func.count()).select_from(active_niks)).scalar_one() == 6


def test_a_family_of_a_kabupaten_kota_not_served_is_refused_with_a_reason(db: Database) -> None:
    """A Kota Bekasi database registers no Depok family (on PostgreSQL it has no partition to hold one): the user
    is told why, on both databases, as a form error on the kelurahan."""
    with pytest.raises(ValidationError) as refused:
        make_family(db, EVERYWHERE, kelurahan="32.76.01.1006")
    assert refused.value.errors[0].field == "kelurahan_code"
    assert str(refused.value) == "Kelurahan ini di luar kabupaten/kota yang dilayani (32.75)."


def _move_to_depok(db: Database, family_id: int) -> int:
    """Move the family to a Depok kelurahan through the registry service; the version it had."""
    with db.read() as conn:
        version = conn.execute(sa.select(families.c.version).where(families.c.id == family_id)).scalar_one()
    registry.update_family(
        db,
        EVERYWHERE,
        family_id,
        {"kelurahan_code": _depok_kelurahan(db)},
        expected_version=version,
        reason="pindah ke Depok",
    )
    return int(version)


def test_a_family_moving_to_another_office_takes_its_members_along(two_offices: Database) -> None:
    db = two_offices
    family_id = make_family(db, EVERYWHERE)
    version = _move_to_depok(db, family_id)
    assert _offices_of(db, family_id) == ("32.76", {"32.76"}, {"32.76"})
    if db.engine.dialect.name == "postgresql":
        assert _partition_of(db, "members", family_id, "family_id") == "members_32_76"
    with db.read() as conn:  # the old version keeps the office it had
        old = conn.exec_driver_sql(
            f"SELECT office_code FROM family_versions WHERE id = {family_id} AND version = {version}"
        ).scalar_one()
    assert old == "32.75"


def _case(family_id: int, kelurahan: str = "32.75.01.1001") -> dict[str, object]:
    at = now()
    return {
        "kind": "sanggah",
        "tracking_number": f"S-TEST-{family_id:04d}-X",
        "state": "diterima",
        "kelurahan_code": kelurahan,
        "subject_family_id": family_id,
        "description": "uji",
        "created_by": "uji",
        "created_at": at,
        "updated_at": at,
    }


def test_what_names_a_family_lives_in_its_office_and_follows_it(two_offices: Database) -> None:
    """Migration 0020: a case names its family by (id, office); a family that does not exist is refused by the
    database (on PostgreSQL too, where the family table is partitioned), and a family moving office takes its
    case along."""
    db = two_offices
    family_id = make_family(db, EVERYWHERE)
    with db.begin() as conn:
        case_id = case_store.insert_case(conn, _case(family_id))
    with pytest.raises(sa.exc.IntegrityError), db.begin() as conn:
        case_store.insert_case(conn, _case(family_id + 1000))
    _move_to_depok(db, family_id)
    with db.read() as conn:
        office = conn.execute(sa.select(cases.c.office_code).where(cases.c.id == case_id)).scalar_one()
    assert office == "32.76"


def test_one_office_reads_only_its_partition_and_a_new_office_gets_its_own(
    two_offices: Database, is_postgres: bool
) -> None:
    db = two_offices
    if not is_postgres:
        pytest.skip("partitions are PostgreSQL's")
    make_family(db, EVERYWHERE)
    with db.read() as conn:
        plan = "\n".join(
            conn.exec_driver_sql(
                "EXPLAIN SELECT count(*) FROM families f JOIN members m ON m.family_id = f.id "
                "AND m.office_code = f.office_code WHERE f.office_code = '32.75'"
            ).scalars()
        )
    assert "families_32_75" in plan and "members_32_75" in plan
    assert "32_76" not in plan
    # The area predicate every office query uses names the office, so the planner reads its partition only.
    for area in ("32.75", "32.75.01", "32.75.01.1001"):
        query = sa.select(sa.func.count()).select_from(families).where(in_area(area))
        with db.read() as conn:
            sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            plan = "\n".join(conn.exec_driver_sql("EXPLAIN " + sql).scalars())
        assert "families_32_75" in plan and "32_76" not in plan, (area, plan)
    # An audit entry of an office this database does not serve yet waits in the default partition, and moves
    # into the office's own when the office is added.
    with db.begin() as conn:
        audit.record(
            conn, EVERYWHERE, audit.AuditAction.FAMILY_CREATE, "family", 1, area_code="32.71.01.1001"
        )
    init_database(db, office="32.71")
    with db.read() as conn:
        tables = partitions.partitioned_tables(conn)
        made = [
            name
            for name in (partitions.partition_name(t, "32.71") for t in tables)
            if conn.execute(sa.text("SELECT to_regclass(:n)"), {"n": name}).scalar_one()
        ]
        where = conn.exec_driver_sql(
            "SELECT tableoid::regclass::text FROM audit_log WHERE office_code = '32.71'"
        ).scalar_one()
    assert len(made) == len(tables) == 9
    assert where == "audit_log_32_71"


# ---------------------------------------------------------------- migration 0019

_STAMP = "1, '2025-01-01', 'uji', 'uji'"
_MEMBER = (
    "INSERT INTO members (id, family_id, nik, name, sex, birth_date, relationship, life_status, status, version, "
    "valid_from, changed_by, change_reason) VALUES ({id}, {family}, '32750117058000{id:02d}', 'Orang {id}', 'L', "
    "'1980-05-17', 'kepala_keluarga', 'hidup', '{status}', " + _STAMP + ")"
)


def _registry_at_0018(engine: sa.Engine) -> None:
    """Two Bekasi families with three members (one inactive) and a score, as 0018 stored them."""
    with engine.begin() as c:
        for fid, kel in ((1, "32.75.01.1001"), (2, "32.75.02.1001")):
            c.exec_driver_sql(
                f"INSERT INTO regions (code, name, level, parent_code) VALUES ('{kel}', 'K{fid}', 'kelurahan', NULL)"
            )
            c.exec_driver_sql(
                "INSERT INTO families (id, kk_number, kelurahan_code, kecamatan_code, rw, rt, registry_status, "
                "verification_status, version, valid_from, changed_by, change_reason) VALUES "
                f"({fid}, '32750101012000{fid:02d}', '{kel}', '{kel[:8]}', 1, 1, 'aktif', 'belum', {_STAMP})"
            )
        for mid, fid, status in ((1, 1, "aktif"), (2, 1, "aktif"), (3, 2, "nonaktif")):
            c.exec_driver_sql(_MEMBER.format(id=mid, family=fid, status=status))
        c.exec_driver_sql(
            "INSERT INTO family_scores (model_id, family_id, family_version, predicted, score, desil, run_id) "
            "VALUES (1, 1, 1, 500000, 13.1, 2, 1)"
        )


def _orphan(engine: sa.Engine, *, present: bool) -> None:
    """Store (or remove) a member whose family does not exist, past the foreign key (as a damaged or hand-edited
    database may hold one): it gets no office, so migration 0019 fails on it halfway."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            raw.execute("PRAGMA foreign_keys=OFF")
            if present:
                raw.execute(_MEMBER.format(id=9, family=99, status="aktif"))
            else:
                raw.execute("DELETE FROM members WHERE id = 9")
            raw.commit()
            raw.execute("PRAGMA foreign_keys=ON")
        finally:
            raw.close()
        return
    with engine.begin() as c:
        if present:
            c.exec_driver_sql("ALTER TABLE members DROP CONSTRAINT fk_members_family_id_families")
            c.exec_driver_sql(_MEMBER.format(id=9, family=99, status="aktif"))
        else:
            c.exec_driver_sql("DELETE FROM members WHERE id = 9")
            c.exec_driver_sql(
                "ALTER TABLE members ADD CONSTRAINT fk_members_family_id_families FOREIGN KEY (family_id) "
                "REFERENCES families (id)"
            )


def _snapshot(engine: sa.Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as c:
        return {
            t: [tuple(r) for r in c.exec_driver_sql(f"SELECT {cols} FROM {t} ORDER BY 1, 2")]
            for t, cols in (
                ("families", "id, kk_number, kelurahan_code"),
                ("members", "id, family_id, nik, status"),
                ("family_scores", "family_id, desil"),
            )
        }


def test_0019_converts_a_populated_database_in_place_and_a_failed_run_changes_nothing(
    scratch: sa.Engine,
) -> None:
    migrate(scratch, "upgrade", "0018")
    _registry_at_0018(scratch)
    before = _snapshot(scratch)
    _orphan(scratch, present=True)
    with pytest.raises(sa.exc.IntegrityError):  # NOT NULL office_code, after several tables were changed
        migrate(scratch, "upgrade", "0019")
    with scratch.connect() as c:
        assert c.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == "0018"
        assert "office_code" not in {col["name"] for col in sa.inspect(c).get_columns("families")}
    _orphan(scratch, present=False)
    migrate(scratch, "upgrade", "0019")  # run again: it completes
    assert _snapshot(scratch) == before
    with scratch.connect() as c:
        offices = set(
            c.exec_driver_sql(
                "SELECT office_code FROM members UNION SELECT office_code FROM families"
            ).scalars()
        )
        active = [
            tuple(r)
            for r in c.exec_driver_sql("SELECT nik, member_id, office_code FROM active_niks ORDER BY 1")
        ]
        scored = c.exec_driver_sql("SELECT office_code FROM family_scores").scalar_one()
        if scratch.dialect.name == "postgresql":
            assert c.exec_driver_sql("SELECT count(*) FROM pg_partitioned_table").scalar_one() == 9
            assert c.exec_driver_sql("SELECT count(*) FROM members_32_75").scalar_one() == 3
    assert offices == {"32.75"} and scored == "32.75"
    assert active == [("3275011705800001", 1, "32.75"), ("3275011705800002", 2, "32.75")]
    migrate(scratch, "downgrade", "0018")
    assert _snapshot(scratch) == before
    migrate(scratch, "upgrade", "head")
    assert _snapshot(scratch) == before


# ---------------------------------------------------------------- joins by the office key


def _score(db: Database, family_id: int, desil: int) -> None:
    with db.begin() as conn:
        targeting_store.insert_scores(
            conn,
            1,
            1,
            {
                "family_id": np.array([family_id]),
                "family_version": np.array([1]),
                "predicted": np.array([500_000.0]),
                "score": np.array([13.1]),
                "desil": np.array([desil]),
            },
        )


def _desil_by_office_key(db: Database, family_id: int) -> tuple[str, int | None]:
    """The score's office, and the desil a join by the office key (``areas.join_on``) finds for the family."""
    with db.read() as conn:
        office = conn.execute(
            sa.select(family_scores.c.office_code).where(family_scores.c.family_id == family_id)
        ).scalar_one()
        desil = conn.execute(
            sa.select(family_scores.c.desil)
            .select_from(families.join(family_scores, join_on(family_scores.c.family_id, families.c.id)))
            .where(families.c.id == family_id)
        ).scalar()
    return office, desil


def test_a_family_moving_office_takes_its_score_along(two_offices: Database, tmp_path: Path) -> None:
    """Scores carry no foreign key (a ranking writes a million at once), yet joins read them by the family's (id,
    office): a family moved to another office, by the registry or by an import, must find its desil there."""
    db = two_offices
    by_form = make_family(db, EVERYWHERE)
    _score(db, by_form, 2)
    _move_to_depok(db, by_form)
    assert _desil_by_office_key(db, by_form) == ("32.76", 2)

    number = registry_files.kk()
    import_file(
        db, EVERYWHERE, registry_files.write_csv(tmp_path / "bekasi.csv", registry_files.family(number))
    )
    with db.read() as conn:
        by_import = conn.execute(sa.select(families.c.id).where(families.c.kk_number == number)).scalar_one()
    _score(db, by_import, 4)
    moved = registry_files.family(number, kelurahan=_depok_kelurahan(db))
    result = import_file(db, EVERYWHERE, registry_files.write_csv(tmp_path / "depok.csv", moved))
    assert result.families_updated == 1
    assert _desil_by_office_key(db, by_import) == ("32.76", 4)


def _plan(conn: sa.Connection, query: sa.Select[Any], *, analyze: bool = False) -> str:
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    how = "ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF" if analyze else "COSTS OFF"
    return "\n".join(conn.exec_driver_sql(f"EXPLAIN ({how}) {compiled}", compiled.params).scalars())


def _read_partitions(plan: str) -> set[str]:
    """The partitions a plan reads: those it names, less those PostgreSQL pruned while running it."""
    lines = [line for line in plan.splitlines() if "never executed" not in line]
    return {m for line in lines for m in re.findall(r"\b(?:on|Scan) ([a-z_]+_\d\d_\d\d)\b", line)}


def test_one_offices_cycle_and_nik_lookup_read_only_its_partitions(
    two_offices: Database, is_postgres: bool
) -> None:
    """The candidates a cycle is generated from, and the NIK lookup, read one office's partitions of families,
    members and scores: the joins name the office (``areas.join_on``), so PostgreSQL prunes the other offices at
    planning (an area) or while running (a NIK, whose office is known once its row is found)."""
    if not is_postgres:
        pytest.skip("partitions are PostgreSQL's")
    db = two_offices
    bekasi = make_family(db, EVERYWHERE)
    make_family(db, EVERYWHERE, kelurahan=_depok_kelurahan(db))
    _score(db, bekasi, 1)
    with db.begin() as conn:  # BLT-APBD's rule: verified, desil 1–4 (the Bekasi family is a candidate)
        conn.execute(families.update().values(verification_status="terverifikasi"))
    programmes.seed_catalogue(db, EVERYWHERE, office="32.75")
    prog = programmes.get_programme(db, EVERYWHERE, "BLT-APBD", office="32.75")
    day = date(2026, 7, 1)
    scope = Scope(
        programme=prog,
        reference_date=day,
        period=(day, date(2026, 7, 31)),
        model_id=1,
        area=in_area("32.75"),
        quota=None,
        budget=None,
    )
    with db.read() as conn:
        conn.exec_driver_sql("ANALYZE")
        candidates = _plan(conn, ranked_candidates(scope, recipient=True), analyze=True)
        nik = conn.execute(
            sa.select(members.c.nik).where(members.c.family_id == bekasi).limit(1)
        ).scalar_one()
        # the plan of a real registry, where each step is an index probe (a few rows would be scanned whole)
        conn.exec_driver_sql("SET enable_seqscan = off")
        lookup = _plan(conn, FAMILY_BY_NIK.params(nik=nik), analyze=True)
        conn.exec_driver_sql("RESET enable_seqscan")
    # (A programme's exclusions read every office's entitlements, rightly: a family that moved keeps what it
    # receives from its old office's cycles.)
    registry_tables = ("families_", "members_", "family_scores_")
    for plan in (candidates, lookup):
        read = _read_partitions(plan)
        assert {p for p in read if p.endswith("_32_76") and p.startswith(registry_tables)} == set(), plan
    assert {"families_32_75", "members_32_75", "family_scores_32_75"} <= _read_partitions(candidates), (
        candidates
    )
    assert {"families_32_75", "members_32_75"} <= _read_partitions(lookup), lookup


def test_a_large_import_plans_its_head_check_on_fresh_statistics(db: Database, tmp_path: Path) -> None:
    """The import's last query (families it left without an active head) runs in its own transaction, over the rows
    it wrote: PostgreSQL, never having analysed them (autovacuum comes after the commit, and never to a partitioned
    table itself), planned it as a nested loop over every family and head — a city's import sat in it for 20 minutes
    (bench/registry_import.py). A large import analyses the tables first."""
    rows = []  # 3,400 families of three, 10,200 members: NIK serials run out at 9,999, so birth dates differ
    for i in range(3_400):
        number = registry_files.kk(serial=i + 1)
        for k, (name, sex, relationship) in enumerate(
            (("Budi", "L", "kepala_keluarga"), ("Siti", "P", "istri_suami"), ("Rizky", "L", "anak"))
        ):
            born = date(1960 + k * 20, 1, 1) + timedelta(days=i)
            person = registry_files.nik(born, sex, serial=k + 1)
            rows.append(registry_files.row(number, name, sex, born, relationship, nik=person))
    result = import_file(db, EVERYWHERE, registry_files.write_csv(tmp_path / "besar.csv", rows))
    assert result.members_created == 10_200 and result.warnings == []
    if db.engine.dialect.name != "postgresql":
        return
    with db.read() as conn:
        counted = conn.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE relname IN ('families_32_75', 'members_32_75') ORDER BY relname"
        ).scalars()
    assert [int(n) for n in counted] == [3_400, 10_200]
