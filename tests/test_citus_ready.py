"""Citus-ready (issue 17, point 3), checked on plain PostgreSQL (Citus cannot be installed here): the migrated
schema obeys Citus's rules for the tables ``tepat.store.citus`` distributes, a schema that breaks them is named,
``tepat init`` distributes nothing without the extension, and docs/scaling.md shows the exact statements."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tepat.services.setup import init_database
from tepat.store import citus
from tepat.store.database import Database

DOCS = Path(__file__).resolve().parent.parent / "docs" / "scaling.md"


def test_the_migrated_schema_obeys_citus_rules(db: Database, is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("Citus runs on PostgreSQL")
    with db.read() as conn:
        assert citus.problems(conn) == []


def test_a_schema_that_breaks_the_rules_is_named(
    db: Database, is_postgres: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not is_postgres:
        pytest.skip("Citus runs on PostgreSQL")
    # A partitioned table cannot hold a unique key without its office: a new distributed table, not partitioned.
    monkeypatch.setattr(citus, "DISTRIBUTED", (*citus.DISTRIBUTED, "bad_office_table"))
    with db.engine.connect() as conn, conn.begin() as transaction:
        conn.exec_driver_sql("CREATE TABLE bad_office_table (id integer PRIMARY KEY, office_code varchar(5))")
        conn.exec_driver_sql(
            "ALTER TABLE cases ADD CONSTRAINT fk_bad_case_family FOREIGN KEY (subject_family_id, kelurahan_code) "
            "REFERENCES families (id, office_code)"
        )
        conn.exec_driver_sql("ALTER TABLE members ADD COLUMN other_family integer")
        conn.exec_driver_sql(
            "ALTER TABLE families ADD CONSTRAINT uq_bad_family UNIQUE (id, kk_number, office_code)"
        )
        conn.exec_driver_sql(
            "ALTER TABLE members ADD CONSTRAINT fk_bad_member_family FOREIGN KEY (other_family, office_code, nik) "
            "REFERENCES families (id, kk_number, office_code)"
        )
        found = citus.problems(conn)
        transaction.rollback()
    assert sorted(found) == sorted(
        [
            "bad_office_table: kolom office_code tidak ada atau boleh kosong",
            "bad_office_table: kunci unik (id) tanpa office_code",
            "cases.fk_bad_case_family → families: tabel local tidak boleh merujuk tabel terdistribusi",
            "members.fk_bad_member_family → families: office_code tidak di tempat yang sama di kedua sisi",
        ]
    )


def test_init_distributes_nothing_without_citus(db: Database) -> None:
    result = init_database(db)
    assert result.distributed == ()
    with db.read() as conn:
        assert not citus.available(conn)


def test_the_docs_show_the_exact_statements() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## The nation on Citus") :]
    block = section[section.index("```sql\n") + 7 : section.index("```", section.index("```sql\n") + 7)]
    assert block.splitlines() == [statement + ";" for statement in citus.statements()]


def test_every_table_is_classified_once() -> None:
    from tepat.store.schema import metadata

    kinds = [*citus.DISTRIBUTED, *citus.OWN_KEY, *citus.REFERENCE]
    assert len(kinds) == len(set(kinds))
    assert set(kinds) <= set(metadata.tables)
    with sa.create_engine("sqlite://").connect() as conn:
        assert citus.distribute(conn) == []  # SQLite: nothing to distribute
