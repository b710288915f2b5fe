"""Programmes and approved benefit cycles written straight into the tables, for tests of what comes after.

Payment, document and coverage tests need an approved cycle with entitlements;
building one through the enrolment and cycle services is tested on its own, so
these helpers insert the rows directly, copying each family's current data the
way a frozen cycle does.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from tepat.domain.regions import office_of
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.schema import benefit_cycles, entitlements, families, members, programmes
from tepat.synth.geography import SYNTH_CITY as CITY_CODE


def insert_programme(
    db: Database,
    code: str = "BLT-APBD",
    *,
    unit: str = "keluarga",
    benefit_type: str = "tunai",
    amount: int = 250_000,
    **extra: Any,
) -> int:
    """One catalogue row (defaults: the seed's BLT-APBD, Rp250.000 per family, one-off)."""
    at = now()
    values: dict[str, Any] = {
        "code": code,
        "name": extra.pop("name", f"Program {code}"),
        "unit": unit,
        "benefit_type": benefit_type,
        "funding_source": "APBD",
        "frequency": "sekali",
        "amount": amount,
        "budget_year": 2025,
        "annual_budget": None,
        "quota": None,
        "rule": 'status == "aktif"',
        "member_rule": None,
        "exclusions": [],
        "coverage_months": None,
        "active": True,
        "version": 1,
        "created_by": "uji",
        "created_at": at,
        "updated_by": "uji",
        "updated_at": at,
        "office_code": db.offices.primary.code,  # the catalogue of the database's (first) office
    }
    values.update(extra)
    with db.begin() as conn:
        return int(
            conn.execute(sa.insert(programmes).values(**values).returning(programmes.c.id)).scalar_one()
        )


def approved_cycle(
    db: Database,
    programme_id: int,
    family_ids: list[int],
    *,
    name: str = "Siklus uji",
    state: str = "disetujui",
    period: tuple[date, date] = (date(2025, 7, 1), date(2025, 7, 31)),
    per_person: bool = False,
) -> int:
    """A cycle in ``state`` whose entitlements are the given families (or all their living members)."""
    at = now()
    with db.begin() as conn:
        prog = conn.execute(sa.select(programmes).where(programmes.c.id == programme_id)).mappings().one()
        cycle_id = int(
            conn.execute(
                sa.insert(benefit_cycles)
                .values(
                    programme_id=programme_id,
                    name=name,
                    area_code=CITY_CODE,
                    period_start=period[0],
                    period_end=period[1],
                    reference_date=period[0],
                    state=state,
                    programme_snapshot={
                        "code": prog["code"],
                        "amount": prog["amount"],
                        "coverage_months": prog.get("coverage_months"),
                        "benefit_type": prog["benefit_type"],
                        "name": prog["name"],
                    },
                    version=1,
                    created_by="pembuat",
                    created_at=at,
                    generated_at=at,
                    submitted_by="pembuat",
                    submitted_at=at,
                    approved_by="penyetuju",
                    approved_at=at,
                )
                .returning(benefit_cycles.c.id)
            ).scalar_one()
        )
        rows = (
            conn.execute(
                sa.select(
                    families,
                    members.c.id.label("member_id"),
                    members.c.nik,
                    members.c.name,
                    members.c.relationship,
                )
                .join(members, members.c.family_id == families.c.id)
                .where(
                    families.c.id.in_(family_ids),
                    members.c.status == "aktif",
                    members.c.life_status == "hidup",
                )
                .order_by(families.c.id, members.c.id)
            )
            .mappings()
            .all()
        )
        chosen: list[dict[str, Any]] = []
        seen: set[int] = set()
        for r in rows:
            if per_person:
                chosen.append(dict(r))
            elif r["id"] not in seen and (
                r["relationship"] == "kepala_keluarga"
                or not any(x["id"] == r["id"] and x["relationship"] == "kepala_keluarga" for x in rows)
            ):
                seen.add(r["id"])
                chosen.append(dict(r))
        values = [
            {
                "cycle_id": cycle_id,
                "unit_key": r["member_id"] if per_person else r["id"],
                "family_id": r["id"],
                "member_id": r["member_id"],
                "kk_number": r["kk_number"],
                "recipient_nik": r["nik"],
                "recipient_name": r["name"],
                "kelurahan_code": r["kelurahan_code"],
                "kecamatan_code": r["kecamatan_code"],
                "rw": r["rw"],
                "rt": r["rt"],
                "address": r["address"],
                "desil": 1,
                "score": 10.0,
                "rank": i + 1,
                "level": None,
                "amount": prog["amount"],
                "source": "aturan",
                "state": "terjadwal",
                "updated_at": at,
                "office_code": office_of(r["kelurahan_code"]),
            }
            for i, r in enumerate(chosen)
        ]
        if values:
            conn.execute(sa.insert(entitlements), values)
        conn.execute(
            sa.update(benefit_cycles)
            .where(benefit_cycles.c.id == cycle_id)
            .values(entitlements=len(values), total_amount=sum(v["amount"] for v in values))
        )
    return cycle_id
