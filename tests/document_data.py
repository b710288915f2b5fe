"""Test data for documents, coverage and hooks: families, an approved cycle, and paid payment lines."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import sqlalchemy as sa

from tepat.domain.access import Actor
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.schema import entitlements, payment_batches, payments
from tests.factories import KELURAHAN, OTHER_KELURAHAN, make_family, member_values
from tests.programme_data import approved_cycle, insert_programme


def families_in(db: Database, admin: Actor, kelurahan: str, names: list[str], **extra: Any) -> list[int]:
    """One family per name (the name is the head's), in ``kelurahan``."""
    return [make_family(db, admin, kelurahan, members=[member_values(n)], **extra) for n in names]


def blt_cycle(db: Database, admin: Actor, **cycle: Any) -> tuple[int, list[int], list[int]]:
    """BLT-APBD Juli 2025: three families in KELURAHAN, one in OTHER_KELURAHAN; returns (cycle, here, there)."""
    here = families_in(db, admin, KELURAHAN, ["Budi Santoso", "Siti Rahmawati", "Agus Salim"])
    there = families_in(db, admin, OTHER_KELURAHAN, ["Dewi Lestari"])
    programme = insert_programme(db, "BLT-APBD", name="BLT-APBD", annual_budget=1_000_000_000)
    return approved_cycle(db, programme, here + there, name="BLT-APBD Juli 2025", **cycle), here, there


def pay(
    db: Database,
    cycle_id: int,
    family_ids: list[int],
    *,
    state: str = "dibayar",
    settled_on: date = date(2025, 7, 20),
) -> None:
    """One batch paying these families' entitlements (written straight into B's tables)."""
    at = now()
    with db.begin() as conn:
        rows = (
            conn.execute(
                sa.select(entitlements).where(
                    entitlements.c.cycle_id == cycle_id, entitlements.c.family_id.in_(family_ids)
                )
            )
            .mappings()
            .all()
        )
        batch = conn.execute(
            sa.insert(payment_batches)
            .values(
                cycle_id=cycle_id,
                number=f"B-{cycle_id}-{at.timestamp()}-{state}",
                channel="bank",
                state="selesai",
                control_count=len(rows),
                control_total=sum(r["amount"] for r in rows),
                version=1,
                created_by="uji",
                created_at=at,
            )
            .returning(payment_batches.c.id)
        ).scalar_one()
        for r in rows:
            conn.execute(
                sa.insert(payments).values(
                    batch_id=batch,
                    entitlement_id=r["id"],
                    attempt=1,
                    reference=f"R{batch}-{r['id']}",
                    amount=r["amount"],
                    recipient_nik=r["recipient_nik"],
                    recipient_name=r["recipient_name"],
                    kelurahan_code=r["kelurahan_code"],
                    office_code=r["office_code"],
                    state=state,
                    settled_on=settled_on,
                    updated_at=at,
                )
            )
        entitlement_state = {"dibayar": "dibayar", "dikembalikan": "gagal"}.get(state, "diproses")
        conn.execute(
            sa.update(entitlements)
            .where(entitlements.c.id.in_([r["id"] for r in rows]))
            .values(state=entitlement_state, paid_at=at if state == "dibayar" else None)
        )


def pdf_text(content: bytes) -> str:
    """All text of a PDF, pages joined (pypdf), whitespace collapsed."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def pdf_pages(content: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(content)).pages)
