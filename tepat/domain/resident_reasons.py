"""Why a family is not in a programme, in words a resident reads on the public status check (issue 18 point 6).

The rule's top-level conditions that the family does not meet are named as conditions -- "Desil kesejahteraan
≤ 2", "ada anggota keluarga yang umur (tahun genap) ≥ 60" -- never with another person's name or data. At most
two are given, in the rule's order. Whether the family meets the rule is decided by ``rule_explain`` (the same
evaluation the programme pages explain with), so the resident and the officer never read different answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from tepat.domain.rule_ast import And, Compare, Count, Flag, InList, Node, Not, Or, Quantifier, Rule, Value
from tepat.domain.rule_explain import SYMBOLS, Row, evaluate_rule

MAX_REASONS = 2


def _value(value: Value) -> str:
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return str(value).replace("_", " ")


def condition_words(node: Node) -> str:
    """One condition in words, with its field's label (no family's values)."""
    if isinstance(node, Compare):
        if node.field.kind == "bool":
            yes = node.value == (node.op == "==")
            phrase = node.field.phrase or node.field.label
            return phrase if yes else f"tidak {phrase}"
        return f"{node.field.label} {SYMBOLS[node.op]} {_value(node.value)}"
    if isinstance(node, InList):
        relation = "bukan" if node.negated else "salah satu dari"
        return f"{node.field.label} {relation} " + ", ".join(_value(v) for v in node.values)
    if isinstance(node, Flag):
        return node.field.phrase or node.field.label
    if isinstance(node, Not):
        return f"tidak {condition_words(node.operand)}"
    if isinstance(node, Quantifier):
        inner = condition_words(node.body)
        return (
            f"ada anggota keluarga yang {inner}" if node.kind == "any" else f"semua anggota keluarga {inner}"
        )
    if isinstance(node, Count):
        return f"jumlah anggota keluarga yang {condition_words(node.body)} {SYMBOLS[node.op]} {node.value}"
    joiner = " atau " if isinstance(node, Or) else " dan "
    return "(" + joiner.join(condition_words(child) for child in node.operands) + ")"


def unmet_conditions(rule: Rule, family: Row, members: Sequence[Row], reference_date: date) -> list[str]:
    """The rule's top-level conditions the family does not meet, in words (at most ``MAX_REASONS``); empty when
    it meets the rule."""
    parts = rule.root.operands if isinstance(rule.root, And) else (rule.root,)
    unmet = [p for p in parts if not evaluate_rule(Rule(rule.source, p), family, members, reference_date)]
    return [condition_words(p) for p in unmet[:MAX_REASONS]]
