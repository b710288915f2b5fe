"""What-if simulation of a programme: who a rule selects, what it costs, where the aid goes.

The rule runs over the registry as set-based SQL (``tepat.services.targeting``),
the eligible families are read once, poorest first (desil, then score, then
family id), and when the budget is short the list is cut where the next family's
benefit would no longer fit. Coverage is shown by kecamatan and kelurahan as the
share of active families there that receive the benefit. Totals are sums over the
listed beneficiaries, never computed separately.

On a survey file (optional), the model version is applied to the survey
households and the errors of selecting the same share of households the
programme reaches are reported (Alatas et al. 2012): the target group is the
truly poorest share of that size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from tepat.domain.access import Actor
from tepat.domain.households import RegistryStatus
from tepat.domain.regions import parent_of
from tepat.domain.rules import parse_rule
from tepat.domain.targeting_accuracy import targeting_errors
from tepat.domain.welfare import AnyPmtModel, model_from_spec
from tepat.errors import ValidationError
from tepat.services import targeting
from tepat.store import families as family_store
from tepat.store import targeting as store
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.schema import families


class Unit(StrEnum):
    KELUARGA = "keluarga"  # the amount per family
    JIWA = "jiwa"  # the amount per person (alive, active member)


@dataclass(frozen=True)
class Scenario:
    """One what-if: a rule, a benefit amount per unit, and an optional budget."""

    rule: str
    amount: int
    unit: Unit = Unit.KELUARGA
    budget: int | None = None
    label: str = ""


@dataclass(frozen=True)
class SimulationResult:
    """The outcome of one scenario."""

    scenario: Scenario
    model_id: int | None
    reference_date: date
    eligible_families: int
    eligible_people: int
    eligible_cost: int
    families: int  # beneficiaries after the budget cut
    people: int
    total_cost: int
    budget_short: bool
    by_kecamatan: list[dict[str, Any]]
    by_kelurahan: list[dict[str, Any]]
    survey_errors: dict[str, float | int] | None = None
    beneficiaries: list[dict[str, Any]] = field(default_factory=list)  # empty for analysts

    def as_dict(self, *, with_beneficiaries: bool = False) -> dict[str, Any]:
        s = self.scenario
        out: dict[str, Any] = {
            "label": s.label,
            "rule": s.rule,
            "amount": s.amount,
            "unit": s.unit.value,
            "budget": s.budget,
            "model": self.model_id,
            "reference_date": self.reference_date.isoformat(),
            "eligible": {
                "families": self.eligible_families,
                "people": self.eligible_people,
                "cost": self.eligible_cost,
            },
            "families": self.families,
            "people": self.people,
            "total_cost": self.total_cost,
            "budget_short": self.budget_short,
            "by_kecamatan": self.by_kecamatan,
            "by_kelurahan": self.by_kelurahan,
            "survey_errors": self.survey_errors,
        }
        if with_beneficiaries:
            out["beneficiaries"] = self.beneficiaries
        return out


def simulate(
    db: Database,
    actor: Actor,
    scenario: Scenario,
    *,
    model_id: int | None = None,
    reference_date: date | None = None,
    survey: Path | None = None,
) -> SimulationResult:
    """Run one scenario over the families in the actor's area."""
    targeting.require_targeting(actor)
    if scenario.amount <= 0:
        raise ValidationError("Besaran bantuan harus lebih dari 0.")
    if scenario.budget is not None and scenario.budget < 0:
        raise ValidationError("Anggaran tidak boleh negatif.")
    rule = parse_rule(scenario.rule)
    day = reference_date or now().date()
    area = family_store.in_area(actor.area_code)
    with db.read() as conn:
        chosen, eligible = targeting.eligible_families(conn, rule, day, model_id)
        rows = conn.execute(store.eligible_query(eligible, chosen, area)).all()
        active = conn.execute(
            sa.select(families.c.kelurahan_code, sa.func.count())
            .where(families.c.registry_status == RegistryStatus.AKTIF.value, area)
            .group_by(families.c.kelurahan_code)
        ).all()
        spec = store.get_model(conn, chosen)["spec"] if chosen is not None and survey is not None else None  # type: ignore[index]
    people = np.asarray([r.jiwa for r in rows], dtype=np.int64)
    cost = (
        people * scenario.amount
        if scenario.unit is Unit.JIWA
        else np.full(len(rows), scenario.amount, np.int64)
    )
    cumulative = np.cumsum(cost)
    take = (
        len(rows)
        if scenario.budget is None
        else int(np.searchsorted(cumulative, scenario.budget, side="right"))
    )
    chosen_rows = rows[:take]
    beneficiaries = [
        {
            "family_id": r.id,
            "kecamatan_code": r.kecamatan_code,
            "kelurahan_code": r.kelurahan_code,
            "desil": r.desil,
            "score": r.score,
            "people": int(r.jiwa),
            "amount": int(c),
        }
        for r, c in zip(chosen_rows, cost[:take].tolist(), strict=True)
    ]
    total_families = {code: int(n) for code, n in active}
    by_kel = _coverage(beneficiaries, "kelurahan_code", total_families, db)
    by_kec_totals: dict[str, int] = {}
    for code, n in total_families.items():
        kecamatan = parent_of(code) or code
        by_kec_totals[kecamatan] = by_kec_totals.get(kecamatan, 0) + n
    by_kec = _coverage(beneficiaries, "kecamatan_code", by_kec_totals, db)
    share = len(beneficiaries) / max(sum(total_families.values()), 1)
    errors = (
        _survey_errors(model_from_spec(spec), survey, share)
        if spec is not None and survey is not None
        else None
    )
    return SimulationResult(
        scenario=scenario,
        model_id=chosen,
        reference_date=day,
        eligible_families=len(rows),
        eligible_people=int(people.sum()),
        eligible_cost=int(cost.sum()),
        families=len(beneficiaries),
        people=sum(b["people"] for b in beneficiaries),
        total_cost=sum(b["amount"] for b in beneficiaries),
        budget_short=take < len(rows),
        by_kecamatan=by_kec,
        by_kelurahan=by_kel,
        survey_errors=errors,
        beneficiaries=beneficiaries if actor.sees_personal_data else [],
    )


def compare(
    db: Database,
    actor: Actor,
    scenarios: Sequence[Scenario],
    *,
    model_id: int | None = None,
    reference_date: date | None = None,
    survey: Path | None = None,
) -> list[SimulationResult]:
    """Several scenarios on the same registry, model version and date, side by side."""
    day = reference_date or now().date()
    return [simulate(db, actor, s, model_id=model_id, reference_date=day, survey=survey) for s in scenarios]


def _coverage(
    rows: list[dict[str, Any]], key: str, totals: dict[str, int], db: Database
) -> list[dict[str, Any]]:
    grouped: dict[str, dict[str, int]] = {}
    for r in rows:
        g = grouped.setdefault(r[key], {"families": 0, "people": 0, "cost": 0})
        g["families"] += 1
        g["people"] += r["people"]
        g["cost"] += r["amount"]
    out = []
    for code in sorted(set(totals) | set(grouped)):
        g = grouped.get(code, {"families": 0, "people": 0, "cost": 0})
        active = totals.get(code, 0)
        out.append(
            {
                "code": code,
                "name": db.regions.name(code),
                **g,
                "active_families": active,
                "coverage": g["families"] / active if active else 0.0,
            }
        )
    return out


def _survey_errors(model: AnyPmtModel, survey: Path, share: float) -> dict[str, float | int] | None:
    if share <= 0:
        return None
    consumption, predicted, weights = targeting.survey_predictions(model, survey)
    result = targeting_errors(consumption, predicted, min(share, 1.0), weights)
    return {
        "coverage": result.coverage,
        "inclusion_error": result.inclusion_error,
        "exclusion_error": result.exclusion_error,
        "households": int(consumption.shape[0]),
    }
