"""Evaluate a parsed rule for one family and explain the decision in Bahasa Indonesia.

The family and its members come as plain dicts keyed by database column names
(``registry_status``, ``floor_area_m2``, ``birth_date``, ``school_participation``,
…) plus ``desil`` and ``skor`` from the family's welfare score, so rows read from
the database can be passed as they are.

Semantics, shared with the SQL compiler (``tepat.store.rule_sql``):

* a comparison (``==``, ``!=``, ``<``, ``in``, ``not in``, …) with a missing value is
  **false**, and the explanation says "tidak ada data"; a yes/no field that is
  missing counts as "no"; ``not`` simply negates (so ``not sekolah`` is true when
  school participation is missing);
* ``anggota`` are the family's members that are alive (``life_status = hidup``) and
  active (``status = aktif``); ``semua_anggota`` are all its member rows;
* ``any`` over no members is false, ``all`` over no members is true, ``count`` is 0;
* ``umur`` is the age in completed years on the reference date;
* ``jumlah_anggota`` counts ``anggota``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from tepat.domain.households import age_on
from tepat.domain.regions import parent_of
from tepat.domain.rule_ast import (
    And,
    Compare,
    Count,
    Field,
    Flag,
    InList,
    Node,
    Not,
    Or,
    Quantifier,
    Rule,
    Value,
)
from tepat.domain.validation import parse_date

Row = Mapping[str, object]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
SYMBOLS = {"==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}
NO_DATA = "tidak ada data"


@dataclass(frozen=True)
class ExplainLine:
    """One clause of an explanation; ``depth`` > 0 for clauses inside another."""

    depth: int
    text: str
    passed: bool

    def render(self) -> str:
        """The clause with its ✓ or ✗, indented by depth."""
        return "  " * self.depth + self.text + (" ✓" if self.passed else " ✗")


@dataclass(frozen=True)
class Explanation:
    """The decision for one family and why, clause by clause."""

    eligible: bool
    lines: tuple[ExplainLine, ...]

    def summary(self) -> str:
        """One line: the top-level clauses and the result."""
        top = "; ".join(line.render() for line in self.lines if line.depth == 0)
        return f"{top} → {verdict(self.eligible)}"

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form for pages and the API."""
        return {
            "eligible": self.eligible,
            "verdict": verdict(self.eligible),
            "clauses": [
                {"depth": line.depth, "text": line.text, "passed": line.passed} for line in self.lines
            ],
        }

    def text(self) -> str:
        """Every clause on its own line, then the result."""
        return "\n".join([*(line.render() for line in self.lines), f"Hasil: {verdict(self.eligible)}"])


def verdict(eligible: bool) -> str:
    """ "memenuhi syarat" or "tidak memenuhi syarat"."""
    return "memenuhi syarat" if eligible else "tidak memenuhi syarat"


def family_facts(family: Row, desil: int | None, skor: float | None) -> dict[str, object]:
    """What a rule reads of a family: its stored row with the ``desil`` and ``skor`` of the ranking it is judged
    by (the fields whose source is the score, not the row; ``None`` when the family is not ranked)."""
    return {**family, "desil": desil, "skor": skor}


def evaluate_rule(rule: Rule, family: Row, members: Sequence[Row], reference_date: date) -> bool:
    """Whether the family satisfies the rule."""
    return _Context(family, members, reference_date).holds(rule.root, family)


def explain_rule(rule: Rule, family: Row, members: Sequence[Row], reference_date: date) -> Explanation:
    """The decision for one family with a clause-by-clause explanation."""
    ctx = _Context(family, members, reference_date)
    lines: list[ExplainLine] = []
    if isinstance(rule.root, And):
        results = [ctx.explain(child, 0, lines) for child in rule.root.operands]
        eligible = all(results)
    else:
        eligible = ctx.explain(rule.root, 0, lines)
    return Explanation(eligible, tuple(lines))


def collection(name: str, members: Sequence[Row]) -> list[Row]:
    """The members a collection (``anggota`` or ``semua_anggota``) ranges over."""
    if name == "semua_anggota":
        return list(members)
    return [m for m in members if m.get("status") == "aktif" and m.get("life_status") == "hidup"]


class _Context:
    def __init__(self, family: Row, members: Sequence[Row], reference_date: date) -> None:
        self.family = family
        self.members = members
        self.day = reference_date

    # -- values

    def value(self, field: Field, row: Row) -> Value | None:
        if field.source == "member_count":
            return len(collection("anggota", self.members))
        raw = row.get(field.column)
        if raw is None and field.column == "kecamatan_code" and row.get("kelurahan_code") is not None:
            raw = parent_of(str(row["kelurahan_code"]))
        if raw is None:
            return None
        if field.source == "age":
            return age_on(parse_date(raw), self.day)
        if field.source == "is_code":
            return str(raw) == field.code
        if field.source == "is_not_code":
            return str(raw) != field.code
        if field.kind == "bool":
            return bool(raw)
        if field.kind == "int":
            return int(raw)  # type: ignore[call-overload, no-any-return]
        if field.kind == "number":
            return float(raw)  # type: ignore[arg-type]
        return str(raw)

    # -- truth

    def holds(self, node: Node, row: Row) -> bool:
        if isinstance(node, Compare):
            value = self.value(node.field, row)
            return value is not None and _OPS[node.op](value, node.value)
        if isinstance(node, InList):
            value = self.value(node.field, row)
            return value is not None and ((value in node.values) != node.negated)
        if isinstance(node, Flag):
            return self.value(node.field, row) is True
        if isinstance(node, Quantifier):
            people = collection(node.collection, self.members)
            test = any if node.kind == "any" else all
            return test(self.holds(node.body, m) for m in people)
        if isinstance(node, Count):
            k = sum(self.holds(node.body, m) for m in collection(node.collection, self.members))
            return _OPS[node.op](k, node.value)
        if isinstance(node, Not):
            return not self.holds(node.operand, row)
        if isinstance(node, And):
            return all(self.holds(child, row) for child in node.operands)
        return any(self.holds(child, row) for child in node.operands)

    # -- explanation (family level)

    def explain(self, node: Node, depth: int, lines: list[ExplainLine]) -> bool:
        if isinstance(node, (And, Or)) or (
            isinstance(node, Not) and isinstance(node.operand, (And, Or, Not))
        ):
            header = ExplainLine(depth, "", False)
            at = len(lines)
            lines.append(header)
            if isinstance(node, Not):
                passed = not self.explain(node.operand, depth + 1, lines)
                text = "kebalikan dari syarat berikut"
            else:
                results = [self.explain(child, depth + 1, lines) for child in node.operands]
                passed = all(results) if isinstance(node, And) else any(results)
                text = "semua syarat berikut" if isinstance(node, And) else "salah satu syarat berikut"
            lines[at] = ExplainLine(depth, text, passed)
            return passed
        passed = self.holds(node, self.family)
        lines.append(ExplainLine(depth, self.leaf_text(node), passed))
        return passed

    def leaf_text(self, node: Node) -> str:
        if isinstance(node, Not) and isinstance(node.operand, Flag):
            missing = self.value(node.operand.field, self.family) is None
            return f"tidak {describe(node.operand)}" + (f" ({NO_DATA})" if missing else "")
        if isinstance(node, Not):
            return f"bukan: {self.leaf_text(node.operand)}"
        if isinstance(node, (Compare, InList, Flag)):
            return self.condition_text(node, self.value(node.field, self.family))
        if isinstance(node, Quantifier):
            people = collection(node.collection, self.members)
            scope = "" if node.collection == "anggota" else "di antara semua anggota tercatat, "
            wanted = node.kind == "any"
            hits = [_name(m, i) for i, m in enumerate(people) if self.holds(node.body, m) == wanted]
            if node.kind == "any":
                found = f" ({_names(hits)})" if hits else " (tidak ada)"
                return f"{scope}ada anggota yang {describe(node.body)}{found}"
            missed = f" (tidak: {_names(hits)})" if hits else (" (tidak ada anggota)" if not people else "")
            return f"{scope}semua anggota {describe(node.body)}{missed}"
        if isinstance(node, Count):
            k = sum(self.holds(node.body, m) for m in collection(node.collection, self.members))
            scope = "anggota" if node.collection == "anggota" else "anggota tercatat"
            return f"banyaknya {scope} yang {describe(node.body)}: {k} {SYMBOLS[node.op]} {node.value}"
        return describe(node)

    def condition_text(self, node: Compare | InList | Flag, value: Value | None) -> str:
        field = node.field
        if isinstance(node, Flag):
            return f"{field.phrase or field.name}: {NO_DATA if value is None else _show(value)}"
        if isinstance(node, Compare):
            wanted = f"{SYMBOLS[node.op]} {_show(node.value)}"
            if value is None:
                return f"{field.name}: {NO_DATA} (syarat {wanted})"
            if field.kind == "bool":
                return f"{field.phrase or field.name}: {_show(value)} (syarat {wanted})"
            return f"{field.name} {_show(value)} {wanted}"
        listed = "[" + ", ".join(_show(v) for v in node.values) + "]"
        relation = "bukan salah satu dari" if node.negated else "salah satu dari"
        if value is None:
            return f"{field.name}: {NO_DATA} (syarat {relation} {listed})"
        return f"{field.name} {_show(value)} {relation} {listed}"


def describe(node: Node, nested: bool = False) -> str:
    """A condition in words, without a family's values (used for member conditions)."""
    if isinstance(node, Compare):
        if node.field.kind == "bool":
            yes = node.value == (node.op == "==")
            phrase = node.field.phrase or node.field.name
            return phrase if yes else f"tidak {phrase}"
        return f"{node.field.name} {SYMBOLS[node.op]} {_show(node.value)}"
    if isinstance(node, InList):
        relation = "bukan salah satu dari" if node.negated else "salah satu dari"
        return f"{node.field.name} {relation} [" + ", ".join(_show(v) for v in node.values) + "]"
    if isinstance(node, Flag):
        return node.field.phrase or node.field.name
    if isinstance(node, Not):
        if isinstance(node.operand, Flag):
            return f"tidak {describe(node.operand)}"
        return f"bukan ({describe(node.operand)})"
    if isinstance(node, (Quantifier, Count)):
        return node.kind if isinstance(node, Quantifier) else "count"  # not reachable: no nesting
    if isinstance(node, Or):
        text = " atau ".join(describe(child, True) for child in node.operands)
        return f"({text})" if nested else text
    return " dan ".join(_age_range(list(node.operands)))


def _age_range(parts: list[Node]) -> list[str]:
    """Words for an ``and`` chain, with ``umur >= a and umur <= b`` read as "berusia a–b tahun"."""
    low = next(
        (p for p in parts if isinstance(p, Compare) and p.field.source == "age" and p.op == ">="), None
    )
    high = next(
        (p for p in parts if isinstance(p, Compare) and p.field.source == "age" and p.op == "<="), None
    )
    words: list[str] = []
    for part in parts:
        if low is not None and high is not None and part is low:
            words.append(f"berusia {low.value}–{high.value} tahun")
        elif low is not None and high is not None and part is high:
            continue
        else:
            words.append(describe(part, True))
    return words


def _show(value: Value) -> str:
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return str(value)


def _name(member: Row, index: int) -> str:
    name = member.get("name")
    return str(name) if name else f"anggota ke-{index + 1}"


def _names(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" dan {len(names) - 3} lainnya" if len(names) > 3 else "")
