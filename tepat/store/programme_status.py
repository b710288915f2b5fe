"""Programme status for the public status check: each programme a person is in, in a resident's words.

One query per check: the person's family entitlements (unit keluarga) and own
entitlements (unit orang) come by ``ix_entitlements_family_id`` and
``ix_entitlements_member_id``; a window picks the latest frozen cycle of each
programme. Only frozen cycles count (approved, paying, closed): a draft list
may still change and must not raise a family's hopes.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from tepat.domain.formatting import long_date
from tepat.domain.formatting import month_name
from tepat.store.schema import benefit_cycles, entitlements, programmes

FROZEN = ("disetujui", "pembayaran", "ditutup")

WAITING = "Terdaftar, menunggu penyaluran"
SUSPENDED = "Ditangguhkan"
CANCELLED = "Dibatalkan"
RETRYING = "Penyaluran belum berhasil, akan disalurkan ulang"


def _query() -> sa.Select[Any]:
    """The statement, built once (building it cost more than running it): binds ``family_id``, ``member_id``."""
    e, c, p = entitlements.c, benefit_cycles.c, programmes.c
    family_id, member_id = sa.bindparam("family_id", type_=sa.Integer), sa.bindparam("member_id", type_=sa.Integer)
    latest = sa.func.row_number().over(partition_by=c.programme_id, order_by=(c.period_start.desc(), c.id.desc()))
    mine = sa.or_(sa.and_(e.family_id == family_id, p.unit == "keluarga"),
                  sa.and_(e.member_id == member_id, p.unit == "orang"))
    ranked = (
        sa.select(p.name.label("programme"), p.benefit_type, c.period_start, c.period_end, e.state, e.paid_at,
                  latest.label("n"))
        .select_from(entitlements.join(benefit_cycles, c.id == e.cycle_id).join(programmes, p.id == c.programme_id))
        .where(sa.or_(e.family_id == family_id, e.member_id == member_id), mine, c.state.in_(FROZEN))
        .subquery()
    )
    return sa.select(ranked).where(ranked.c.n == 1).order_by(ranked.c.programme)


_STATEMENT = _query()


def period_words(start: date, end: date) -> str:
    """``Juli 2025``; ``Juli–Desember 2025``; ``Juli 2025–Juni 2026``."""
    if (start.year, start.month) == (end.year, end.month):
        return f"{month_name(start.month)} {start.year}"
    if start.year == end.year:
        return f"{month_name(start.month)}–{month_name(end.month)} {end.year}"
    return f"{month_name(start.month)} {start.year}–{month_name(end.month)} {end.year}"


def status_words(row: dict[str, Any], today: date) -> str:
    """The entitlement's state as a resident reads it."""
    state = row["state"]
    if state == "diblokir":
        return SUSPENDED
    if state == "dibatalkan":
        return CANCELLED
    if row["benefit_type"] == "layanan":
        if row["period_end"] < today:
            return f"Berakhir {long_date(row['period_end'])}"
        return f"Aktif, berlaku sampai {long_date(row['period_end'])}"
    if state == "dibayar":
        return f"Sudah disalurkan {long_date(row['paid_at'])}" if row["paid_at"] else "Sudah disalurkan"
    if state == "gagal":
        return RETRYING
    return WAITING


def programmes_for_person(conn: sa.Connection, family_id: int, member_id: int, today: date) -> list[dict[str, str]]:
    """Each programme the person (or their family) is in: ``programme``, ``status`` and ``period``, by name."""
    return [{"programme": r["programme"], "status": status_words(dict(r), today),
             "period": period_words(r["period_start"], r["period_end"])}
            for r in conn.execute(_STATEMENT, {"family_id": family_id, "member_id": member_id}).mappings()]
