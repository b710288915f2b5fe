"""Compile a parsed eligibility rule to one set-based SQL condition (SQLite and PostgreSQL).

The condition is over ``families``, joined (outer) to a *scores source*: any
selectable with columns ``family_id``, ``desil``, ``skor`` (a model version's
stored scores, or a subquery). Member conditions become correlated ``EXISTS`` /
``NOT EXISTS`` / ``COUNT(*)`` subqueries over ``members``: ``anggota`` are the
family's members with ``status = 'aktif'`` and ``life_status = 'hidup'``;
``semua_anggota`` are all its member rows.

Semantics match ``tepat.domain.rule_explain`` exactly (the property test holds
them together): every comparison is guarded by ``IS NOT NULL`` so that a missing
value makes it false rather than SQL's unknown, which keeps ``NOT`` two-valued.
Age is never computed in SQL: ``umur >= a`` on reference date ``d`` is the same as
``birth_date <= d − a years`` (with 29 February falling back to 28 February in a
common year), so the comparison is on the stored date, agrees with Python's
completed-years age on both backends, and can use an index.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from tepat.domain.households import LifeStatus, RegistryStatus
from tepat.domain.rule_ast import And, Compare, Count, Field, Flag, InList, Node, Not, Or, Quantifier, Rule
from tepat.errors import ValidationError
from tepat.store.areas import join_on
from tepat.store.schema import families, members

Condition = sa.ColumnElement[bool]


def compile_rule(rule: Rule, *, reference_date: date, scores: sa.FromClause | None = None) -> Condition:
    """The rule as a boolean SQL expression over ``families`` (and ``scores`` if it uses desil/skor)."""
    if rule.uses_scores() and scores is None:
        raise ValidationError(
            "Aturan memakai desil atau skor, tetapi belum ada skor kesejahteraan untuk dipakai."
        )
    return _Compiler(reference_date, scores).node(rule.root, None)


def select_eligible(
    rule: Rule, *, reference_date: date, scores: sa.FromClause | None = None
) -> sa.Select[Any]:
    """``SELECT families.id`` of every family (any status) that satisfies the rule, ordered by id."""
    condition = compile_rule(rule, reference_date=reference_date, scores=scores)
    source: sa.FromClause = families
    if scores is not None:
        source = families.outerjoin(scores, join_on(scores.c.family_id, families.c.id))
    return sa.select(families.c.id).select_from(source).where(condition).order_by(families.c.id)


def compile_member_condition(rule: Rule, *, reference_date: date) -> Condition:
    """A member rule (parsed as ``any(anggota, …)``) as a condition on one row of ``members``.

    Used for programmes whose unit is a person: the row must also be one of
    ``anggota`` (alive and active), exactly as inside ``any(anggota, …)``.
    """
    root = rule.root
    if not isinstance(root, Quantifier) or root.kind != "any" or root.collection != "anggota":
        raise ValidationError("Syarat anggota harus berbentuk any(anggota, …).")
    body = _Compiler(reference_date, None).node(root.body, members)
    return sa.and_(
        members.c.status == RegistryStatus.AKTIF.value, members.c.life_status == LifeStatus.HIDUP.value, body
    )


def birth_date_cut(reference_date: date, age: int) -> date:
    """The latest birth date of someone at least ``age`` completed years old on ``reference_date``."""
    year = reference_date.year - age
    if reference_date.month == 2 and reference_date.day == 29:
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 2, 28)
    return reference_date.replace(year=year)


class _Compiler:
    def __init__(self, reference_date: date, scores: sa.FromClause | None) -> None:
        self.day = reference_date
        self.scores = scores

    def node(self, node: Node, people: sa.FromClause | None) -> Condition:
        if isinstance(node, And):
            return sa.and_(*(self.node(child, people) for child in node.operands))
        if isinstance(node, Or):
            return sa.or_(*(self.node(child, people) for child in node.operands))
        if isinstance(node, Not):
            return sa.not_(self.node(node.operand, people))
        if isinstance(node, Quantifier):
            body = self.node(node.body, members)
            if node.kind == "any":
                return sa.exists().where(*self.domain(node.collection), body)
            return ~sa.exists().where(*self.domain(node.collection), sa.not_(body))
        if isinstance(node, Count):
            counted = self.count(node.collection, self.node(node.body, members))
            return _compare(counted, node.op, node.value)
        if node.field.source == "age":
            return self.age(node)
        column = self.column(node.field)
        if isinstance(node, Flag):
            return self.flag(node.field, column)
        source = node.field.source
        nullable = source != "member_count" and (
            source != "column" or bool(getattr(column, "nullable", True))
        )
        guard = [column.is_not(None)] if nullable else []
        if isinstance(node, InList):
            test = column.not_in(node.values) if node.negated else column.in_(node.values)
            return sa.and_(*guard, test)
        if node.field.kind == "bool":
            wanted = (node.op == "==") == node.value
            flag = self.flag(node.field, column)
            return sa.and_(*guard, flag if wanted else sa.not_(flag))
        return sa.and_(*guard, _compare(column, node.op, node.value))

    def column(self, field: Field) -> sa.ColumnElement[Any]:
        if field.source == "score":
            assert self.scores is not None
            return self.scores.c[field.column]
        if field.source == "member_count":
            return self.count("anggota", None)
        table = members if field.scope == "member" else families
        return table.c[field.column]

    def flag(self, field: Field, column: sa.ColumnElement[Any]) -> Condition:
        if field.source == "is_code":
            return sa.and_(column.is_not(None), column == field.code)
        if field.source == "is_not_code":
            return sa.and_(column.is_not(None), column != field.code)
        return sa.and_(column.is_not(None), column == sa.true())

    def domain(self, collection: str) -> list[Condition]:
        where: list[Condition] = [join_on(members.c.family_id, families.c.id)]
        if collection == "anggota":
            where += [
                members.c.status == RegistryStatus.AKTIF.value,
                members.c.life_status == LifeStatus.HIDUP.value,
            ]
        return where

    def count(self, collection: str, body: Condition | None) -> sa.ColumnElement[Any]:
        where = self.domain(collection) + ([body] if body is not None else [])
        return sa.select(sa.func.count()).select_from(members).where(*where).scalar_subquery()

    def age(self, node: Compare | InList | Flag) -> Condition:
        birth = members.c.birth_date

        def at_least(age: int) -> Condition:
            return birth <= birth_date_cut(self.day, age)

        def exactly(age: int) -> Condition:
            return sa.and_(at_least(age), sa.not_(at_least(age + 1)))

        if isinstance(node, InList):
            test = sa.or_(*(exactly(int(v)) for v in node.values))
            return sa.not_(test) if node.negated else test
        assert isinstance(node, Compare)
        age = int(node.value)
        tests = {
            ">=": at_least(age),
            ">": at_least(age + 1),
            "<": sa.not_(at_least(age)),
            "<=": sa.not_(at_least(age + 1)),
            "==": exactly(age),
            "!=": sa.not_(exactly(age)),
        }
        return tests[node.op]


def _compare(left: sa.ColumnElement[Any], op: str, value: object) -> Condition:
    if op == "==":
        return left == value
    if op == "!=":
        return left != value
    if op == "<":
        return left < value
    if op == "<=":
        return left <= value
    if op == ">":
        return left > value
    return left >= value
