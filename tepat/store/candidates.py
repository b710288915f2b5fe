"""The candidates of a programme as one set-based query: rule, exclusions, overrides, then the cut from the poorest.

``ranked_candidates`` returns a SELECT with one row per unit (a family, or a
person for ``unit = orang``) and the columns ``unit_key, family_id, member_id,
kelurahan_code, desil, score, level, amount, source, rank, running_total, kept``
(plus the family's ``kecamatan_code, office_code, kk_number, rw, rt, address``, carried along
so that generation reads ``families`` once). It is what the candidates page
counts and lists, what one family's explanation reads its rank from, and what cycle generation copies into ``entitlements`` with
one ``INSERT … SELECT`` — so all three agree by construction.

Order and cut follow ``tepat.domain.cycles.cut``: poorest first (desil, then
score, then id; missing last), kept while ``rank <= quota`` and the running total
``<= budget``. Approved *tambah* overrides join the candidates whatever the rule
and the exclusions say (and are cut like everyone else); approved *hapus*
overrides leave them. Exclusions: units already receiving one of the listed
programmes in a frozen cycle (approved, paying or closed) whose period overlaps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.util import ClauseAdapter

from tepat.domain.cycles import FROZEN_STATES
from tepat.domain.entitlements import EntitlementState
from tepat.domain.households import LifeStatus, RegistryStatus, VerificationStatus
from tepat.domain.programmes import Programme, member_rule_as_rule
from tepat.domain.rules import parse_rule
from tepat.store import programmes as programme_store
from tepat.store.areas import join_on
from tepat.store.rule_sql import birth_date_cut, compile_member_condition, compile_rule
from tepat.store.schema import benefit_cycles, entitlements, families, members, programmes
from tepat.store.targeting import scores_source

PERSON = members.alias("orang")
"""The person a unit-``orang`` candidate is (aliased: the rule's own member subqueries use ``members``)."""
RECIPIENT = members.alias("penerima")
"""Who a unit-``keluarga`` entitlement is paid to (``recipient_of_family``)."""
LAST_SCORE = 1e300


@dataclass(frozen=True)
class Scope:
    """What the candidates are computed for: the programme row, the day, the scores, the area, the cut."""

    programme: Programme
    reference_date: date
    period: tuple[date, date]
    model_id: int | None
    area: sa.ColumnElement[bool]
    quota: int | None
    budget: int | None
    # which approved override actions exist (``tambah``, ``hapus``): a query without an
    # unneeded ``OR id IN (…)`` keeps SQLite's plan on the desil index
    overrides: frozenset[str] = frozenset({"tambah", "hapus"})


def ranked_candidates(scope: Scope, *, running_total: bool = True, recipient: bool = False) -> sa.Select[Any]:
    """Every candidate unit in the area with its rank, running total and whether the cut keeps it.

    ``running_total=False`` leaves the running-total window out (the column is then NULL) unless the cut has a
    budget: a second window over every candidate costs a pass. ``recipient=True`` adds ``recipient_id,
    recipient_nik, recipient_name`` (``recipient_of_family``, or the person), looked up in the candidates' own
    pass over the registry — in registry order, where one lookup after the sort would land on a random page.
    """
    prog = scope.programme
    per_person = prog["unit"] == "orang"
    scores = scores_source(scope.model_id) if scope.model_id is not None else None
    rule = compile_rule(parse_rule(prog["rule"]), reference_date=scope.reference_date, scores=scores)
    source: sa.FromClause = families
    if per_person:
        source = source.join(PERSON, join_on(PERSON.c.family_id, families.c.id))
    if scores is not None:
        source = source.outerjoin(scores, join_on(scores.c.family_id, families.c.id))
    unit_column = PERSON.c.id if per_person else families.c.id
    key_name = "member_id" if per_person else "family_id"
    added: sa.ColumnElement[bool] = sa.false()
    if "tambah" in scope.overrides:
        added = unit_column.in_(programme_store.approved_keys(prog["id"], "tambah", key_name))
    passes: list[sa.ColumnElement[bool]] = [rule]
    if per_person:
        person_rule = member_rule_as_rule(prog["member_rule"] or "hidup and aktif")
        passes.append(
            ClauseAdapter(PERSON).traverse(
                compile_member_condition(person_rule, reference_date=scope.reference_date)
            )
        )
    excluded = _excluded(prog, scope.period, per_person)
    if excluded is not None:
        passes.append(sa.not_(excluded))
    level, amount = _level_and_amount(prog, scope.reference_date)
    # A family found not eligible (a verification visit, an upheld sanggah) is nobody's candidate, whatever the rule.
    where: list[sa.ColumnElement[bool]] = [
        scope.area,
        families.c.verification_status != VerificationStatus.DITOLAK.value,
    ]
    where.append(sa.or_(sa.and_(*passes), added) if "tambah" in scope.overrides else sa.and_(*passes))
    if "hapus" in scope.overrides:
        where.append(unit_column.not_in(programme_store.approved_keys(prog["id"], "hapus", key_name)))
    if per_person:
        # an added person must still be someone the programme can pay: alive and active
        where += [
            PERSON.c.status == RegistryStatus.AKTIF.value,
            PERSON.c.life_status == LifeStatus.HIDUP.value,
        ]
    else:
        # a family without an active head is kept out until the registry is fixed (its import warned of it)
        where.append(
            sa.select(members.c.id)
            .where(
                join_on(members.c.family_id, families.c.id),
                members.c.relationship == "kepala_keluarga",
                members.c.status == RegistryStatus.AKTIF.value,
            )
            .exists()
        )
    if prog.get("amounts_by_level"):
        where.append(level.is_not(None))
    desil = scores.c.desil if scores is not None else sa.cast(sa.null(), sa.Integer)
    score = scores.c.skor if scores is not None else sa.cast(sa.null(), sa.Float)
    payee: list[sa.ColumnElement[Any]] = []
    if recipient:
        person = PERSON if per_person else RECIPIENT
        if not per_person:
            source = source.outerjoin(
                RECIPIENT,
                sa.and_(
                    join_on(RECIPIENT.c.family_id, families.c.id), RECIPIENT.c.id == recipient_of_family()
                ),
            )
        payee = [
            person.c.id.label("recipient_id"),
            person.c.nik.label("recipient_nik"),
            person.c.name.label("recipient_name"),
        ]
    candidates = (
        sa.select(
            unit_column.label("unit_key"),
            families.c.id.label("family_id"),
            (PERSON.c.id if per_person else sa.cast(sa.null(), sa.Integer)).label("member_id"),
            families.c.kelurahan_code,
            families.c.kecamatan_code,
            families.c.office_code,
            families.c.kk_number,
            families.c.rw,
            families.c.rt,
            families.c.address,
            desil.label("desil"),
            score.label("score"),
            level.label("level"),
            amount.label("amount"),
            (
                sa.case((added, "tambahan"), else_="aturan")
                if "tambah" in scope.overrides
                else sa.literal("aturan", sa.String)
            ).label("source"),
            *payee,
        )
        .select_from(source)
        .where(*where)
        .subquery("kandidat")
    )
    c = candidates.c
    order = [sa.func.coalesce(c.desil, 99), sa.func.coalesce(c.score, LAST_SCORE), c.unit_key]
    rank = sa.func.row_number().over(order_by=order)
    running: sa.ColumnElement[Any] = sa.cast(sa.null(), sa.BigInteger)
    if running_total or scope.budget is not None:
        running = sa.func.sum(c.amount).over(order_by=order, rows=(None, 0))
    ranked = sa.select(*c, rank.label("rank"), running.label("running_total")).subquery("urutan")
    kept = kept_filter(scope, ranked)
    kept_expr = sa.case((sa.and_(*kept), True), else_=False) if kept else sa.true()
    return sa.select(ranked, kept_expr.label("kept"))


def recipient_of_family(family_id: sa.ColumnElement[Any] | None = None) -> sa.ScalarSelect[Any]:
    """The family's living, active head, else its oldest living, active member.

    Correlated to ``family_id`` (default ``families.id`` of the enclosing query), and to the office beside it when
    its table has one (``areas.join_on``).
    """
    fid = families.c.id if family_id is None else family_id
    return (
        sa.select(members.c.id)
        .where(
            join_on(members.c.family_id, fid),
            members.c.status == RegistryStatus.AKTIF.value,
            members.c.life_status == LifeStatus.HIDUP.value,
        )
        .order_by(
            sa.case((members.c.relationship == "kepala_keluarga", 0), else_=1),
            members.c.birth_date,
            members.c.id,
        )
        .limit(1)
        .correlate_except(members)
        .scalar_subquery()
    )


def kept_filter(scope: Scope, ranked: sa.Subquery) -> list[sa.ColumnElement[bool]]:
    """The cut as WHERE conditions on a ranked subquery (the same test as its ``kept`` column)."""
    where: list[sa.ColumnElement[bool]] = []
    if scope.quota is not None:
        where.append(ranked.c.rank <= scope.quota)
    if scope.budget is not None:
        where.append(ranked.c.running_total <= scope.budget)
    return where


def fixed_amount(prog: Programme) -> int | None:
    """The one amount every candidate of the programme gets, or None when it depends on the person's school level."""
    if prog["unit"] == "orang" and prog.get("amounts_by_level"):
        return None
    return int(prog["amount"])


def receiving(codes: Sequence[str], period: tuple[date, date]) -> sa.Select[Any]:
    """The entitlements of programmes ``codes`` in frozen cycles whose period overlaps ``period``, neither cancelled
    nor blocked — who already receives what a programme's exclusions name (its candidates leave them out, and a
    family's explanation names them) — with ``family_id``, ``member_id``, the programme's ``unit`` and ``code``
    and the cycle's ``name``."""
    return (
        sa.select(
            entitlements.c.family_id,
            entitlements.c.member_id,
            programmes.c.unit,
            programmes.c.code,
            benefit_cycles.c.name,
        )
        .join(benefit_cycles, benefit_cycles.c.id == entitlements.c.cycle_id)
        .join(programmes, programmes.c.id == benefit_cycles.c.programme_id)
        .where(
            programmes.c.code.in_(list(codes)),
            benefit_cycles.c.state.in_([s.value for s in FROZEN_STATES]),
            benefit_cycles.c.period_start <= period[1],
            benefit_cycles.c.period_end >= period[0],
            entitlements.c.state.not_in((EntitlementState.DIBATALKAN.value, EntitlementState.DIBLOKIR.value)),
        )
    )


def _excluded(prog: Programme, period: tuple[date, date], per_person: bool) -> sa.ColumnElement[bool] | None:
    codes = list(prog.get("exclusions") or [])
    if not codes:
        return None
    receiving_now = receiving(codes, period)
    if not per_person:
        return families.c.id.in_(receiving_now.with_only_columns(entitlements.c.family_id))
    by_person = receiving_now.with_only_columns(entitlements.c.member_id).where(programmes.c.unit == "orang")
    by_family = receiving_now.with_only_columns(entitlements.c.family_id).where(
        programmes.c.unit == "keluarga"
    )
    return sa.or_(PERSON.c.id.in_(by_person), families.c.id.in_(by_family))


def level_expression(person: sa.FromClause, day: date) -> sa.ColumnElement[Any]:
    """``tepat.domain.programmes.school_level`` in SQL: from the highest level finished, else from the age."""
    edu, birth = person.c.education, person.c.birth_date

    def age_between(low: int, high: int) -> sa.ColumnElement[bool]:
        return sa.and_(birth <= birth_date_cut(day, low), birth > birth_date_cut(day, high + 1))

    return sa.case(
        (edu == "tidak_belum_sekolah", "SD"),
        (edu == "sd", "SMP"),
        (edu == "smp", "SMA"),
        (edu.is_not(None), sa.null()),
        (age_between(6, 12), "SD"),
        (age_between(13, 15), "SMP"),
        (age_between(16, 18), "SMA"),
        else_=sa.null(),
    )


def _level_and_amount(prog: Programme, day: date) -> tuple[sa.ColumnElement[Any], sa.ColumnElement[Any]]:
    fixed = fixed_amount(prog)
    if fixed is None:  # amounts by school level (``fixed_amount``)
        level = level_expression(PERSON, day)
        by_level = prog["amounts_by_level"] or {}
        amount = sa.case(*((level == k, int(v)) for k, v in by_level.items()), else_=0)
        return level, sa.cast(amount, sa.BigInteger)
    return sa.cast(sa.null(), sa.String), sa.literal(fixed, sa.BigInteger)
