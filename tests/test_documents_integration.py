"""Documents, coverage and status of a cycle made through the real services (generate → submit → approve)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from tepat.services import cycles, documents, registry
from tepat.store.programme_status import programmes_for_person
from tepat.store.schema import entitlements, members
from tests.document_data import pdf_text
from tests.programme_support import CHECKER, create, ranked_registry


def test_a_generated_and_approved_cycle_prints_frozen_documents(db, admin, tmp_path: Path) -> None:
    ranked_registry(db, admin, tmp_path)
    create(db, admin, code="BLT", name="BLT-APBD")
    cycle_id = cycles.create_cycle(
        db,
        admin,
        "BLT",
        name="BLT-APBD Juli 2026",
        period_start=date(2026, 7, 1),
        period_end=date(2026, 7, 31),
    )
    cycles.generate(db, admin, cycle_id)
    cycles.submit(db, admin, cycle_id)
    cycles.approve(db, CHECKER, cycle_id)

    listing = documents.cycle_documents(db, admin, cycle_id)
    assert listing.kelurahan
    with db.read() as conn:
        cycle_total = conn.execute(
            sa.select(sa.func.sum(entitlements.c.amount)).where(
                entitlements.c.cycle_id == cycle_id, entitlements.c.state == "terjadwal"
            )
        ).scalar_one()
        first = (
            conn.execute(
                sa.select(entitlements)
                .where(entitlements.c.cycle_id == cycle_id)
                .order_by(entitlements.c.id)
                .limit(1)
            )
            .mappings()
            .one()
        )
    assert listing.total == cycle_total

    kelurahan = first["kelurahan_code"]
    before = pdf_text(documents.nominatif(db, admin, cycle_id, kelurahan).content)
    assert first["recipient_name"] in before and first["recipient_nik"] in before
    # A later registry edit does not change the frozen list.
    with db.read() as conn:
        head = conn.execute(sa.select(members).where(members.c.id == first["member_id"])).mappings().one()
    registry.update_member(
        db,
        admin,
        head["id"],
        {"name": "Nama Sesudah Diubah"},
        expected_version=head["version"],
        reason="koreksi nama",
    )
    after = pdf_text(documents.nominatif(db, admin, cycle_id, kelurahan).content)
    assert "Nama Sesudah Diubah" not in after and first["recipient_name"] in after

    bast = documents.bast(db, admin, cycle_id, kelurahan)
    here = next(k for k in listing.kelurahan if k["kelurahan_code"] == kelurahan)
    assert (bast.rows, bast.total) == (here["handed_over"], here["amount"])

    with db.read() as conn:
        status = programmes_for_person(conn, first["family_id"], first["member_id"], date(2026, 7, 15))
    assert status == [
        {"programme": "BLT-APBD", "status": "Terdaftar, menunggu penyaluran", "period": "Juli 2026"}
    ]
