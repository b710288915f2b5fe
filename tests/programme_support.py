"""Shared setup for the programme and cycle tests: a ranked registry and a brute-force candidate list."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tepat.domain.access import Actor, Role
from tepat.domain.cycles import Candidate, CutPlace, cut
from tepat.domain.programmes import amount_for, level_of, member_rule_as_rule
from tepat.domain.rule_explain import evaluate_rule
from tepat.domain.rules import parse_rule
from tepat.services import programmes, registry, registry_ranking
from tepat.store.database import Database
from tepat.store.schema import families, family_scores, members
from tests.conftest import actor
from tests.factories import KELURAHAN, make_family, member_values
from tests.targeting_data import DAY, saved_model, varied_registry

CHECKER = actor(Role.ADMIN, "32.75", "kepala.bidang")


def base_programme(code: str = "UJI", **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "code": code,
        "name": f"Program {code}",
        "unit": "keluarga",
        "benefit_type": "tunai",
        "funding_source": "APBD",
        "frequency": "sekali",
        "amount": 250_000,
        "budget_year": 2026,
        "rule": 'desil <= 6 and status == "aktif"',
    }
    values.update(extra)
    return values


def ranked_registry(db: Database, admin: Actor, tmp_path: Path) -> tuple[list[int], int]:
    """The varied registry plus edge cases (a death, an inactive member, a pupil without education), ranked."""
    ids = varied_registry(db, admin, 12)
    ids.append(
        make_family(
            db,
            admin,
            KELURAHAN,
            members=[
                member_values(
                    "Ibu Tunggal", "P", date(1985, 1, 2), "kepala_keluarga", work_status="berusaha_sendiri"
                ),
                member_values(
                    "Anak Tanpa Data", "L", date(2014, 3, 4), "anak", school_participation="masih_sekolah"
                ),
                member_values(
                    "Anak SMA",
                    "P",
                    date(2009, 8, 9),
                    "anak",
                    school_participation="masih_sekolah",
                    education="smp",
                ),
                member_values("Kakek", "L", date(1940, 1, 1), "orang_tua"),
            ],
            floor_material="tanah",
            power_va="450",
        )
    )
    with db.read() as conn:
        grandpa = conn.execute(
            sa.select(members.c.id, members.c.version).where(members.c.name == "Kakek")
        ).one()
    registry.deactivate_member(
        db,
        admin,
        grandpa.id,
        "meninggal",
        expected_version=grandpa.version,
        note="wafat",
        death_date=date(2026, 1, 5),
    )
    model_id = saved_model(db, admin, tmp_path)
    registry_ranking.rank_registry(db, admin, model_id, reference_date=DAY)
    return ids, model_id


def brute_force(
    db: Database,
    prog: dict[str, Any],
    model_id: int,
    *,
    day: date = DAY,
    quota: int | None = None,
    budget: int | None = None,
) -> list[CutPlace]:
    """The candidates evaluated family by family in Python (rule, member rule, level, order, cut)."""
    with db.read() as conn:
        fams = [dict(r) for r in conn.execute(sa.select(families)).mappings()]
        people = [dict(r) for r in conn.execute(sa.select(members)).mappings()]
        scores = {
            r.family_id: r
            for r in conn.execute(
                sa.select(family_scores.c.family_id, family_scores.c.desil, family_scores.c.score).where(
                    family_scores.c.model_id == model_id
                )
            )
        }
    rule = parse_rule(prog["rule"])
    per_person = prog["unit"] == "orang"
    person_rule = member_rule_as_rule(prog["member_rule"] or "hidup and aktif") if per_person else None
    found: list[Candidate] = []
    for fam in fams:
        s = scores.get(fam["id"])
        row = {**fam, "desil": s.desil if s else None, "skor": s.score if s else None}
        mine = [m for m in people if m["family_id"] == fam["id"]]
        if not evaluate_rule(rule, row, mine, day):
            continue
        if not per_person:
            found.append(Candidate(fam["id"], row["desil"], row["skor"], int(prog["amount"])))
            continue
        assert person_rule is not None
        for m in mine:
            if not evaluate_rule(person_rule, row, [m], day):
                continue
            level = level_of(m, day) if prog["amounts_by_level"] else None
            if prog["amounts_by_level"] and level is None:
                continue
            found.append(
                Candidate(
                    m["id"],
                    row["desil"],
                    row["skor"],
                    amount_for(prog["amount"], prog["amounts_by_level"], level),
                )
            )
    return cut(found, quota=quota, budget=budget)


def create(db: Database, admin: Actor, **values: Any) -> dict[str, Any]:
    programmes.create_programme(db, admin, base_programme(**values))
    return programmes.get_programme(db, admin, values.get("code", "UJI"))
