"""Programme status for the public status check (the store function the lead wires into status_check)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import sqlalchemy as sa

from tepat.store.programme_status import entries_for_person, programmes_for_person
from tepat.store.schema import benefit_cycles, entitlements, members, programmes
from tests.document_data import families_in
from tests.factories import KELURAHAN, make_family
from tests.programme_data import approved_cycle, insert_programme

TODAY = date(2025, 8, 15)


def _ids(db, family_id: int) -> list[int]:
    with db.read() as conn:
        return list(
            conn.execute(
                sa.select(members.c.id).where(members.c.family_id == family_id).order_by(members.c.id)
            ).scalars()
        )


def _status(db, family_id: int, member_id: int) -> list[dict[str, str]]:
    with db.read() as conn:
        return programmes_for_person(conn, family_id, member_id, TODAY)


def test_latest_frozen_cycle_per_programme_in_resident_words(db, admin) -> None:
    family = make_family(db, admin)  # head, spouse, child
    head, spouse, child = _ids(db, family)
    other = families_in(db, admin, KELURAHAN, ["Tetangga Sebelah"])[0]
    blt = insert_programme(db, "BLT-APBD", name="BLT-APBD")
    june = approved_cycle(
        db, blt, [family], name="Juni", state="ditutup", period=(date(2025, 6, 1), date(2025, 6, 30))
    )
    july = approved_cycle(db, blt, [family, other], name="Juli", period=(date(2025, 7, 1), date(2025, 7, 31)))
    approved_cycle(
        db, blt, [family], name="Agustus draf", state="draf", period=(date(2025, 8, 1), date(2025, 8, 31))
    )
    with db.begin() as conn:
        conn.execute(
            sa.update(entitlements)
            .where(entitlements.c.cycle_id == june)
            .values(state="dibayar", paid_at=datetime(2025, 6, 12, 3, 0, tzinfo=UTC))
        )
    sembako = insert_programme(db, "BPNT", name="Sembako")
    approved_cycle(db, sembako, [family], state="pembayaran", period=(date(2025, 7, 1), date(2025, 12, 31)))
    with db.begin() as conn:
        conn.execute(
            sa.update(entitlements)
            .where(
                entitlements.c.cycle_id != june,
                entitlements.c.cycle_id != july,
                entitlements.c.family_id == family,
            )
            .values(state="diblokir", block_reason="nonaktif")
        )
    health = insert_programme(
        db, "LKM-NIK", name="Kartu Sehat", unit="orang", benefit_type="layanan", amount=0
    )
    approved_cycle(db, health, [family], per_person=True, period=(date(2025, 1, 1), date(2025, 12, 31)))

    # the draft of August is ignored; July (waiting) is the latest frozen BLT cycle
    for person in (head, child):
        found = _status(db, family, person)
        assert found == [
            {"programme": "BLT-APBD", "status": "Terdaftar, menunggu penyaluran", "period": "Juli 2025"},
            {
                "programme": "Kartu Sehat",
                "status": "Aktif, berlaku sampai 31 Desember 2025",
                "period": "Januari–Desember 2025",
            },
            {"programme": "Sembako", "status": "Ditangguhkan", "period": "Juli–Desember 2025"},
        ]
    # Kartu Sehat is per person: a person of another family does not inherit it
    assert [p["programme"] for p in _status(db, other, _ids(db, other)[0])] == ["BLT-APBD"]
    # paid: the date in words, and per-person entitlements of the spouse are hers only
    with db.begin() as conn:
        conn.execute(
            sa.update(entitlements)
            .where(entitlements.c.cycle_id == july)
            .values(state="dibayar", paid_at=datetime(2025, 7, 12, 2, 0, tzinfo=UTC))
        )
        conn.execute(
            sa.delete(entitlements).where(
                entitlements.c.member_id == spouse, entitlements.c.unit_key == spouse
            )
        )
    assert _status(db, family, head)[0]["status"] == "Sudah disalurkan 12 Juli 2025"
    assert [p["programme"] for p in _status(db, family, spouse)] == ["BLT-APBD", "Sembako"]
    assert _status(db, 0, 0) == []


def test_every_cycle_of_a_health_programme_counts_with_its_snapshot_months(db, admin) -> None:
    family = make_family(db, admin)
    head = _ids(db, family)[0]
    health = insert_programme(
        db, "LKM-NIK", name="Kartu Sehat", unit="orang", benefit_type="layanan", amount=0, coverage_months=12
    )
    january = approved_cycle(
        db,
        health,
        [family],
        per_person=True,
        name="Januari",
        state="ditutup",
        period=(date(2025, 1, 1), date(2025, 1, 31)),
    )
    july = approved_cycle(
        db, health, [family], per_person=True, name="Juli", period=(date(2025, 7, 1), date(2025, 7, 31))
    )
    blt = insert_programme(db, "BLT-APBD", name="BLT-APBD")
    approved_cycle(db, blt, [family], name="Juni", period=(date(2025, 6, 1), date(2025, 6, 30)))
    approved_cycle(db, blt, [family], name="Juli", period=(date(2025, 7, 1), date(2025, 7, 31)))
    with db.begin() as conn:
        for cycle_id, months in ((january, 12), (july, 3)):
            snapshot = conn.execute(
                sa.select(benefit_cycles.c.programme_snapshot).where(benefit_cycles.c.id == cycle_id)
            ).scalar_one()
            conn.execute(
                sa.update(benefit_cycles)
                .where(benefit_cycles.c.id == cycle_id)
                .values(programme_snapshot={**snapshot, "coverage_months": months})
            )
        conn.execute(
            sa.update(programmes).where(programmes.c.id == health).values(coverage_months=1)
        )  # edited later
    with db.read() as conn:
        entries = entries_for_person(conn, family, head)
    assert sorted((e.programme, e.period_start.month, e.coverage_months) for e in entries) == [
        ("BLT-APBD", 7, None),
        ("Kartu Sehat", 1, 12),
        ("Kartu Sehat", 7, 3),
    ]
    # the one-month cycle of January covers a year, past July's three months
    assert _status(db, family, head)[1] == {
        "programme": "Kartu Sehat",
        "period": "Januari–Desember 2025",
        "status": "Aktif, berlaku sampai 31 Desember 2025",
    }
    with db.begin() as conn:  # blocked in January's cycle: July's three months remain
        conn.execute(
            sa.update(entitlements).where(entitlements.c.cycle_id == january).values(state="diblokir")
        )
    assert _status(db, family, head)[1] == {
        "programme": "Kartu Sehat",
        "period": "Juli–September 2025",
        "status": "Aktif, berlaku sampai 30 September 2025",
    }


def test_the_lookup_uses_the_entitlement_indexes(db) -> None:
    from tepat.store.programme_status import _STATEMENT

    q = _STATEMENT.params(family_id=1, member_id=2).compile(db.engine, compile_kwargs={"literal_binds": True})
    with db.read() as conn:
        if db.dialect == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {q}"))
            assert "ix_entitlements_family_id" in plan and "ix_entitlements_member_id" in plan
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {q}"))
            # entitlements is partitioned by office: the plan names its office's partition's index
            # (entitlements_32_75_family_id_idx, built from ix_entitlements_family_id)
            assert re.search(r"entitlements\w*_family_id", plan) and re.search(
                r"entitlements\w*_member_id", plan
            )
