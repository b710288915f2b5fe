"""Nobody who should not be paid is paid: every path that makes a person or family ineligible blocks their unpaid
entitlements at once, with the reason, and batch creation re-checks every line (issue 18 points 1 and 2)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from tepat.domain.access import Role
from tepat.services import (
    case_submissions,
    cases,
    enrolment,
    moves,
    payments,
    registry,
    registry_reads,
    verification,
)
from tepat.services.imports import import_file
from tepat.store.schema import entitlements, families, members
from tepat.store.schema import payments as payment_lines
from tests.conftest import actor
from tests.factories import KELURAHAN, make_family, member_values
from tests.programme_data import approved_cycle, insert_programme
from tests.registry_files import write_csv

FINANCE = actor(Role.FINANCE, "32.75", "bendahara")
OPERATOR = actor(Role.OPERATOR, "32.75.01", "ani")
VERIFIER = actor(Role.VERIFIER, "32.75.01", "vera")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200 + b"\xff\xd9"


@pytest.fixture
def cycle(db, admin):
    heads = [
        member_values(name, "L", date(1970 + i, 1, 2))
        for i, name in enumerate(["Ahmad", "Budi", "Cahyo", "Dodi"])
    ]
    ids = [
        make_family(
            db,
            admin,
            KELURAHAN,
            members=[h, member_values(f"Istri {h['name']}", "P", date(1975, 3, 4), "istri_suami")],
        )
        for h in heads
    ]
    programme = insert_programme(db)
    return approved_cycle(db, programme, ids), ids


def _state(db, cycle_id: int, family_id: int) -> tuple[str, str | None]:
    with db.read() as conn:
        row = conn.execute(
            sa.select(entitlements.c.state, entitlements.c.block_reason).where(
                entitlements.c.cycle_id == cycle_id, entitlements.c.family_id == family_id
            )
        ).one()
    return row.state, row.block_reason


def _head(db, family_id: int) -> dict:
    with db.read() as conn:
        return dict(
            conn.execute(
                sa.select(members).where(members.c.family_id == family_id).order_by(members.c.id).limit(1)
            )
            .mappings()
            .one()
        )


def test_a_death_recorded_on_the_page_after_approval_blocks_at_once(db, admin, cycle) -> None:
    cycle_id, ids = cycle
    head = _head(db, ids[0])
    registry.deactivate_member(
        db,
        OPERATOR,
        head["id"],
        "meninggal",
        expected_version=head["version"],
        note="wafat",
        death_date=date(2026, 1, 3),
    )
    assert _state(db, cycle_id, ids[0]) == ("diblokir", "meninggal")
    assert _state(db, cycle_id, ids[1]) == ("terjadwal", None)
    batch = payments.create_batch(db, FINANCE, cycle_id, "bank")
    with db.read() as conn:
        paid_families = set(
            conn.execute(
                sa.select(entitlements.c.family_id)
                .join(payment_lines, payment_lines.c.entitlement_id == entitlements.c.id)
                .where(payment_lines.c.batch_id == batch.id)
            ).scalars()
        )
    assert paid_families == set(ids[1:])


def test_a_deactivated_family_or_a_rejected_visit_blocks(db, admin, cycle) -> None:
    cycle_id, ids = cycle
    registry.deactivate_family(db, OPERATOR, ids[0], "mampu", expected_version=1, note="sudah mampu")
    assert _state(db, cycle_id, ids[0]) == ("diblokir", "nonaktif")
    verification.record_visit(
        db,
        VERIFIER,
        ids[1],
        observed={},
        decision="tidak_layak",
        expected_version=1,
        note="rumah bagus, punya mobil",
    )
    assert _state(db, cycle_id, ids[1]) == ("diblokir", "tidak_layak")


def test_an_import_that_records_a_death_blocks(db, admin, cycle, tmp_path: Path) -> None:
    import polars as pl

    from tepat.services.exports import export_registry

    cycle_id, ids = cycle
    out = tmp_path / "ekspor.csv"
    export_registry(db, admin, out)
    head = _head(db, ids[2])
    rows = (
        pl.read_csv(out, infer_schema=False)
        .filter(pl.col("nik") == head["nik"])
        .with_columns(pl.lit("meninggal").alias("status_hidup"))
        .to_dicts()
    )
    result = import_file(db, OPERATOR, write_csv(tmp_path / "mati.csv", rows))
    assert result.members_updated == 1, result.errors
    assert _state(db, cycle_id, ids[2]) == ("diblokir", "meninggal")


def test_batch_creation_rechecks_every_line(db, admin, cycle) -> None:
    cycle_id, ids = cycle
    with db.begin() as conn:  # a change that reached the registry behind the services' back
        conn.execute(families.update().where(families.c.id == ids[3]).values(registry_status="nonaktif"))
    batch = payments.create_batch(db, FINANCE, cycle_id, "bank")
    assert batch.control_count == 3
    assert _state(db, cycle_id, ids[3]) == ("diblokir", "nonaktif")


def test_an_upheld_sanggah_removes_the_family_from_payments_and_candidates(
    db, admin, cycle, tmp_path: Path
) -> None:
    cycle_id, ids = cycle
    disputer = _head(db, ids[1])
    target = _head(db, ids[0])
    number = case_submissions.submit_sanggah(
        db,
        tmp_path / "u",
        "uji-" + "k" * 40,
        disputer_nik=disputer["nik"],
        disputer_proof=disputer["name"],
        factor="nama",
        target_nik=target["nik"],
        target_description="Pak Ahmad",
        reason="Punya toko besar",
        evidence=[case_submissions.Evidence(io.BytesIO(JPEG), "bukti")],
    )
    case_id = next(c.id for c in cases.list_cases(db, admin, kind="sanggah") if c.tracking_number == number)
    cases.advance(db, OPERATOR, case_id, "selesai", note="Terbukti punya toko", outcome="dihapus")
    assert _state(db, cycle_id, ids[0]) == ("diblokir", "tidak_layak")
    with db.read() as conn:
        assert (
            conn.execute(
                sa.select(families.c.verification_status).where(families.c.id == ids[0])
            ).scalar_one()
            == "ditolak"
        )
    listed = {
        r["family_id"]
        for r in enrolment.candidates(db, admin, "BLT-APBD", reference_date=date(2025, 7, 1), limit=500).page
    }
    assert ids[0] not in listed and ids[1] in listed  # a cycle generated now leaves the family out


def test_a_move_accepted_by_the_area_blocks(db, admin, cycle, tmp_path: Path) -> None:
    from tests.registry_files import row

    cycle_id, ids = cycle
    family = registry_reads.get_family(db, admin, ids[0]).family
    other_operator = actor(Role.OPERATOR, "32.75.02", "budi")
    refused = import_file(
        db,
        other_operator,
        write_csv(
            tmp_path / "pindah.csv",
            [
                row(
                    family["kk_number"],
                    kelurahan="32.75.02.1001",
                    nik=_head(db, ids[0])["nik"],
                    name="Ahmad",
                    birth=date(1970, 1, 2),
                )
            ],
        ),
    )
    assert refused.rows_rejected == 1
    [request] = moves.incoming(db, OPERATOR)
    moves.decide(db, OPERATOR, request["id"], accept=True, note="Pindah ke Bekasi Utara")
    assert _state(db, cycle_id, ids[0]) == ("diblokir", "pindah")
