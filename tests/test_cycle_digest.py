"""The frozen list's SHA-256: the documented line format on every backend, whatever order the rows were written in."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
import sqlalchemy as sa

from tepat.services import cycles, programmes
from tepat.store import cycles as cycle_store
from tepat.store.schema import entitlements, families
from tests.programme_support import CHECKER, ranked_registry
from tests.targeting_data import DAY

PERIOD = {"period_start": DAY, "period_end": date(2026, 7, 31)}


@pytest.fixture
def generated(db, admin, tmp_path):
    """A generated (not yet approved) BLT-APBD cycle over a small ranked registry."""
    ranked_registry(db, admin, tmp_path)
    programmes.seed_catalogue(db, admin)
    with db.begin() as conn:
        conn.execute(families.update().values(verification_status="terverifikasi"))
    programmes.update_programme(db, admin, "BLT-APBD", 1, {"rule": "desil <= 8"})
    cycle_id = cycles.create_cycle(db, admin, "BLT-APBD", name="BLT-APBD Juli 2026", **PERIOD)
    assert cycles.generate(db, admin, cycle_id)["entitlements"] >= 5
    return cycle_id


def _rows(conn, cycle_id):
    q = sa.select(entitlements).where(entitlements.c.cycle_id == cycle_id).order_by(entitlements.c.id)
    return [dict(r) for r in conn.execute(q).mappings()]


def _documented(rows) -> str:
    """docs: the digest columns as text, U+001F between fields, ``\\N`` for a missing value, one line per row
    in (rank, unit key) order, each ending in a newline."""
    lines = "".join(
        "\x1f".join("\\N" if r[c] is None else str(r[c]) for c in cycle_store.DIGEST_COLUMNS) + "\n"
        for r in sorted(rows, key=lambda r: (r["rank"], r["unit_key"]))
    )
    return hashlib.sha256(lines.encode()).hexdigest()


def _rewrite(conn, rows, order) -> None:
    """Delete the rows and insert them again (new ids) in the given order."""
    conn.execute(entitlements.delete().where(entitlements.c.id.in_([r["id"] for r in rows])))
    conn.execute(entitlements.insert(), [{k: v for k, v in r.items() if k != "id"} for r in order])


def test_missing_values_are_written_as_backslash_n(db, admin, generated) -> None:
    with db.begin() as conn:  # a row with every nullable digest column empty
        first = _rows(conn, generated)[0]
        conn.execute(
            entitlements.update()
            .where(entitlements.c.id == first["id"])
            .values(
                member_id=None, recipient_nik=None, recipient_name=None, address=None, desil=None, level=None
            )
        )
    sha = cycles.approve(db, CHECKER, _submitted(db, admin, generated))["snapshot_sha256"]
    with db.read() as conn:
        rows = _rows(conn, generated)
    assert any(r["member_id"] is None and r["address"] is None for r in rows)
    assert sha == _documented(rows)
    assert cycles.verify_snapshot(db, admin, generated)


def test_rows_written_out_of_rank_order_digest_the_same(db, admin, generated) -> None:
    with db.read() as conn:
        expected = _documented(_rows(conn, generated))
    with (
        db.begin() as conn
    ):  # ids now run against the rank: the in-id-order read must notice and sort instead
        rows = _rows(conn, generated)
        _rewrite(conn, rows, sorted(rows, key=lambda r: r["rank"], reverse=True))
        reordered = _rows(conn, generated)
        assert [r["rank"] for r in reordered] == sorted((r["rank"] for r in reordered), reverse=True)
    assert cycles.approve(db, CHECKER, _submitted(db, admin, generated))["snapshot_sha256"] == expected
    assert cycles.verify_snapshot(db, admin, generated)


def test_another_cycles_rows_inside_the_id_range_are_not_digested(db, admin, generated) -> None:
    other = cycles.create_cycle(
        db,
        admin,
        "BLT-APBD",
        name="BLT-APBD Agustus 2026",
        period_start=date(2026, 8, 1),
        period_end=date(2026, 8, 31),
    )
    with (
        db.begin() as conn
    ):  # the two lists interleaved so that rank still grows along the ids: 2, 3, 4, 5, …
        rows = [{**r, "rank": 2 * r["rank"]} for r in _rows(conn, generated)]
        copies = [{**r, "cycle_id": other, "rank": r["rank"] + 1} for r in rows]
        conn.execute(entitlements.delete().where(entitlements.c.cycle_id == generated))
        conn.execute(
            entitlements.insert(),
            [
                {k: v for k, v in r.items() if k != "id"}
                for pair in zip(rows, copies, strict=True)
                for r in pair
            ],
        )
        ids = [r["id"] for r in _rows(conn, generated)]
        inside = sa.select(sa.func.count()).where(
            entitlements.c.cycle_id == other, entitlements.c.id.between(min(ids), max(ids))
        )
        assert conn.execute(inside).scalar() > 0
    expected = _documented(rows)
    assert cycles.approve(db, CHECKER, _submitted(db, admin, generated))["snapshot_sha256"] == expected


def test_the_block_check_and_the_digest_agree_after_blocking(db, admin, generated) -> None:
    """Blocking changes the payment state only, which the digest leaves out."""
    with db.read() as conn:
        rows = _rows(conn, generated)
        expected = _documented(rows)
    with db.begin() as conn:
        conn.execute(
            families.update().where(families.c.id == rows[-1]["family_id"]).values(registry_status="nonaktif")
        )
    result = cycles.approve(db, CHECKER, _submitted(db, admin, generated))
    assert result["blocked"] == 1 and result["snapshot_sha256"] == expected
    with db.read() as conn:
        last = (
            conn.execute(sa.select(entitlements).where(entitlements.c.id == rows[-1]["id"])).mappings().one()
        )
    assert (last["state"], last["block_reason"]) == ("diblokir", "nonaktif")


def _submitted(db, admin, cycle_id: int) -> int:
    cycles.submit(db, admin, cycle_id)
    return cycle_id
