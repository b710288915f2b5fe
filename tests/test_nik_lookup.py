"""The NIK lookup's hot path (one driver-level statement) and the buffered audit log of its reads."""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from tepat.domain.access import Role
from tepat.errors import NotFound, PermissionDenied
from tepat.services import registry, registry_reads
from tepat.store import audit
from tepat.store.buffered import BufferedWriter
from tepat.store.database import Database
from tepat.store.schema import audit_log
from tests.conftest import actor
from tests.factories import nik
from tests.registry_files import KELURAHAN, OTHER_KELURAHAN


def _make_family(db: Database, admin: Any, kelurahan: str = KELURAHAN) -> tuple[int, str]:
    from tests.factories import make_family

    family_id = make_family(db, admin, kelurahan)
    view = registry_reads.get_family(db, admin, family_id)
    head = next(m for m in view.members if m["relationship"] == "kepala_keluarga")
    return family_id, head["nik"]


def _nik_reads(db: Database) -> list[dict[str, Any]]:
    with db.read() as conn:
        rows = conn.execute(
            sa.select(audit_log).where(audit_log.c.action == "family.read").order_by(audit_log.c.id)
        )
        return [dict(r._mapping) for r in rows if (r.detail or {}).get("by") == "nik"]


def test_lookup_returns_the_family_exactly_as_the_family_page_reads_it(db: Database, admin: Any) -> None:
    family_id, head_nik = _make_family(db, admin)
    spouse_nik = nik(
        date(1983, 2, 3), "P"
    )  # the factory's next serial: no other member of this database has it
    spouse_id = registry.add_member(
        db,
        admin,
        family_id,
        {
            "nik": spouse_nik,
            "name": "Siti Aminah",
            "sex": "P",
            "birth_date": "1983-02-03",
            "relationship": "istri_suami",
            "pregnant": True,
        },
        reason="menikah",
    )
    registry.deactivate_member(db, admin, spouse_id, "pindah", expected_version=1, note="pindah ke luar kota")
    found = registry_reads.find_by_nik(db, admin, head_nik)
    page = registry_reads.get_family(db, admin, family_id)
    assert found.family == page.family
    assert found.members == page.members  # inactive members too, head first, ages computed
    assert (found.kelurahan_name, found.kecamatan_name) == (page.kelurahan_name, page.kecamatan_name)
    spouse = next(m for m in found.members if m["id"] == spouse_id)
    assert spouse["pregnant"] is True and spouse["status"] == "nonaktif"
    assert isinstance(spouse["birth_date"], date) and isinstance(found.family["valid_from"], datetime)
    assert found.members[0]["relationship"] == "kepala_keluarga"
    with pytest.raises(NotFound):
        registry_reads.find_by_nik(db, admin, spouse_nik)  # only an active member's NIK is found


def test_every_lookup_is_audited_once_flushed(db: Database, admin: Any) -> None:
    family_id, head_nik = _make_family(db, admin)
    op = actor(Role.OPERATOR, KELURAHAN, "ani")
    for _ in range(3):
        registry_reads.find_by_nik(db, op, head_nik)
    audit.flush_reads(db)
    reads = _nik_reads(db)
    assert [(r["actor"], r["entity"], r["entity_id"], r["area_code"]) for r in reads] == [
        ("ani", "family", str(family_id), KELURAHAN)
    ] * 3
    assert db.read_audit.pending == 0


def test_refused_lookups_are_not_logged_as_reads(db: Database, admin: Any) -> None:
    _, head_nik = _make_family(db, admin, OTHER_KELURAHAN)
    with pytest.raises(NotFound):
        registry_reads.find_by_nik(db, actor(Role.OPERATOR, KELURAHAN), head_nik)
    with pytest.raises(PermissionDenied):
        registry_reads.find_by_nik(db, actor(Role.ANALYST, "32.75"), head_nik)
    with pytest.raises(NotFound):
        registry_reads.find_by_nik(db, admin, "3275010101900001")
    audit.flush_reads(db)
    assert _nik_reads(db) == []


def test_buffered_reads_reach_the_log_without_being_asked(db: Database, admin: Any) -> None:
    _, head_nik = _make_family(db, admin)
    registry_reads.find_by_nik(db, admin, head_nik)
    deadline = time.monotonic() + 10
    while not _nik_reads(db) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_nik_reads(db)) == 1


def test_disposing_the_database_writes_the_buffered_reads(db: Database, admin: Any) -> None:
    _, head_nik = _make_family(db, admin)
    db.read_audit.max_delay = 3600  # no background write: only dispose may write them
    db.read_audit.flush()  # (what was buffered before)
    registry_reads.find_by_nik(db, admin, head_nik)
    registry_reads.find_by_nik(db, admin, head_nik)
    writer = db.read_audit
    assert writer.pending == 2 and _nik_reads(db) == []
    db.dispose()
    assert writer.pending == 0
    assert len(_nik_reads(db)) == 2


def test_a_failed_write_keeps_the_records_for_the_next_try(tmp_path: Any, admin: Any) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'kosong.sqlite'}")  # no audit_log table yet
    log = BufferedWriter(engine, audit.insert_many, name="audit-reads", batch=10, max_delay=3600)
    log.add(audit.audit_row(admin, "family.read", "family", 7, area_code=KELURAHAN, detail={"by": "nik"}))
    with pytest.raises(sa.exc.OperationalError):
        log.flush()
    assert log.pending == 1
    audit_log.create(engine)
    log.flush()
    with engine.connect() as conn:
        assert conn.execute(sa.select(audit_log.c.entity_id, audit_log.c.actor)).all() == [("7", "admin")]
    engine.dispose()


def test_a_lookup_survives_a_dropped_database_connection(db: Database, admin: Any, is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("the lookup pool without pre-ping exists on PostgreSQL only")
    _, head_nik = _make_family(db, admin)
    registry_reads.find_by_nik(db, admin, head_nik)  # the lookup pool now holds an open connection
    with db.begin() as conn:  # as a server restart would: end every other session of this database
        ended = conn.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    assert ended >= 1
    assert registry_reads.find_by_nik(db, admin, head_nik).members[0]["nik"] == head_nik


def test_stopping_the_web_app_writes_the_buffered_reads(db: Database, admin: Any, tmp_path: Any) -> None:
    from fastapi.testclient import TestClient

    from tests.test_web_support import make_app

    _, head_nik = _make_family(db, admin)
    db.read_audit.max_delay = 3600  # only the app's shutdown may write them
    db.read_audit.flush()
    with TestClient(make_app(db, tmp_path)):
        registry_reads.find_by_nik(db, admin, head_nik)
        assert db.read_audit.pending == 1
    assert len(_nik_reads(db)) == 1
