"""Eligibility over the registry: a programme rule as set-based SQL, and the explanation for one family.

``eligibility`` runs ``select_eligible`` (``tepat.store.rule_sql``) joined to a
model version's stored scores (default: the latest ranking run) over every family
in the actor's area; ``explain_family`` evaluates the same rule, scores and date
for one family with ``explain_rule``. The two agree by construction and by a
property test. Analysts get counts only, and explanations without member names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from tepat.domain.access import Actor, Permission
from tepat.domain.deciles import DECILES
from tepat.domain.registry_records import Family, Member
from tepat.domain.rule_explain import Explanation, explain_rule, family_facts
from tepat.domain.rules import parse_rule
from tepat.errors import NotFound
from tepat.services import targeting
from tepat.store import families as family_store
from tepat.store import targeting as store
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.schema import families


@dataclass(frozen=True)
class EligibilityResult:
    """A rule over the registry: counts, and a page of families (none for analysts)."""

    rule: str
    model_id: int | None
    reference_date: date
    families: int
    people: int
    page: list[dict[str, Any]]
    by_desil: list[int]


def eligibility(
    db: Database,
    actor: Actor,
    rule_text: str,
    *,
    model_id: int | None = None,
    area_code: str | None = None,
    reference_date: date | None = None,
    offset: int = 0,
    limit: int = 20,
) -> EligibilityResult:
    """Run a rule over every family in the area (set-based SQL): counts, desil breakdown and a page."""
    targeting.require_targeting(actor)
    rule = parse_rule(rule_text)
    day = reference_date or now().date()
    with db.read() as conn:
        chosen, eligible = targeting.eligible_families(conn, rule, day, model_id)
        ordered = store.eligible_query(eligible, chosen, targeting.area_condition(actor, area_code))
        query = ordered.order_by(None).subquery("hasil")
        grouped = conn.execute(
            sa.select(query.c.desil, sa.func.count(), sa.func.sum(query.c.jiwa)).group_by(query.c.desil)
        ).all()
        by = {d: int(n) for d, n, _ in grouped}
        families_n, people_n = sum(by.values()), sum(int(p or 0) for _, _, p in grouped)
        page: list[dict[str, Any]] = []
        if actor.sees_personal_data:
            rows = conn.execute(ordered.offset(max(offset, 0)).limit(max(min(limit, 500), 0))).mappings()
            page = [dict(r) for r in rows]
    for r in page:
        r["kelurahan_name"] = db.regions.name(r["kelurahan_code"])
        r["kecamatan_name"] = db.regions.name(r["kecamatan_code"])
    return EligibilityResult(
        rule_text,
        chosen,
        day,
        int(families_n),
        int(people_n),
        page,
        [int(by.get(d, 0)) for d in range(1, DECILES + 1)],
    )


def sample_family_ids(
    db: Database,
    actor: Actor,
    rule_text: str,
    *,
    eligible: bool,
    count: int = 3,
    model_id: int | None = None,
    reference_date: date | None = None,
) -> list[int]:
    """A few family ids (in the area) that do or do not satisfy a rule, for sample explanations."""
    targeting.require_targeting(actor)
    rule = parse_rule(rule_text)
    day = reference_date or now().date()
    with db.read() as conn:
        _, satisfying = targeting.eligible_families(conn, rule, day, model_id)
        ids = satisfying.order_by(None).subquery()
        member = families.c.id.in_(sa.select(ids.c.id))
        q = (
            sa.select(families.c.id)
            .where(targeting.area_condition(actor), member if eligible else ~member)
            .order_by(families.c.id)
            .limit(count)
        )
        return [int(i) for i in conn.execute(q).scalars()]


def family_to_explain(conn: sa.Connection, actor: Actor, family_id: int) -> Family:
    """The family whose decision ``actor`` may read (in their area; staff with personal data, or analysts);
    404 otherwise, so that a stranger learns nothing of whether it exists."""
    fam = family_store.get(conn, family_id)
    if fam is None or not actor.in_area(fam["kelurahan_code"]):
        raise NotFound("Keluarga tidak ditemukan")
    if not (actor.may(Permission.READ_PERSONAL) or actor.may(Permission.TARGETING)):
        raise NotFound("Keluarga tidak ditemukan")
    return fam


def rule_facts(
    actor: Actor, family: Family, people: Sequence[Member], score: Mapping[str, Any] | None
) -> tuple[dict[str, object], list[dict[str, Any]]]:
    """What a rule reads of a family, as ``actor`` may see it: ``family_facts`` (with the model's score, or none),
    and its members, without name and NIK for a role that reads no personal data."""
    facts = family_facts(family, score["desil"] if score else None, score["score"] if score else None)
    if actor.sees_personal_data:
        return facts, [dict(m) for m in people]
    return facts, [{k: v for k, v in m.items() if k not in ("name", "nik")} for m in people]


def explain_family(
    db: Database,
    actor: Actor,
    rule: str,
    family_id: int,
    *,
    model_id: int | None = None,
    reference_date: date | None = None,
) -> Explanation:
    """The rule's decision for one family, clause by clause (no member names for analysts)."""
    parsed = parse_rule(rule)
    day = reference_date or now().date()
    with db.read() as conn:
        fam = family_to_explain(conn, actor, family_id)
        chosen = targeting.resolve_model(conn, model_id)
        score = store.family_score(conn, chosen, family_id) if chosen is not None else None
        people = family_store.members_of(conn, family_id)
    facts, seen = rule_facts(actor, fam, people, score)
    return explain_rule(parsed, facts, seen, day)
