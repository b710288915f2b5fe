"""Eligibility rules: a small, safe language, parsed (never ``eval``-ed) into a tree.

A CEL-like subset, e.g.::

    desil <= 4 and status == "aktif" and any(anggota, umur >= 6 and umur <= 18 and sekolah)

Grammar (``docs/targeting.md`` is the reference for users)::

    rule       := or EOF
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | primary
    primary    := "(" or ")" | quantifier | count | condition
    quantifier := ("any" | "all") "(" collection "," or ")"
    count      := "count" "(" collection "," or ")" compare-op integer
    condition  := field compare-op literal | field ["not"] "in" "[" literal ("," literal)* "]" | yes/no-field
    literal    := integer | decimal | "text" | 'text' | true | false

Errors are ``ValidationError`` with a Bahasa Indonesia message that names the
1-based position (column) in the rule and what was expected there.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal, NoReturn

from tepat.domain.rule_ast import (
    COLLECTIONS,
    COMPARISONS,
    FIELDS,
    KEYWORDS,
    MAX_AGE,
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
    Scope,
    Value,
)
from tepat.errors import FieldError, ValidationError

TokenKind = Literal["name", "int", "number", "text", "op", "punct", "end"]
MAX_RULE_LENGTH = 4000
MAX_NESTING = 40  # brackets inside brackets; a rule an office writes needs a handful
MAX_DIGITS = 15  # every whole number a rule compares (rupiah, counts, ages) fits; the databases' integers too

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>\d+\.\d+)
  | (?P<int>\d+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<punct>[()\[\],])
  | (?P<text>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    """,
    re.VERBOSE,
)
_HINTS = {
    "&": "gunakan 'and'",
    "|": "gunakan 'or'",
    "!": "gunakan 'not' atau '!='",
    "=": "gunakan '==' untuk membandingkan",
    "≤": "gunakan '<='",
    "≥": "gunakan '>='",
    "≠": "gunakan '!='",
    "“": 'gunakan tanda kutip biasa "',
    "”": 'gunakan tanda kutip biasa "',
    "‘": "gunakan tanda kutip biasa '",
    "’": "gunakan tanda kutip biasa '",
}
_WORD_HINTS = {
    "dan": "and",
    "atau": "or",
    "bukan": "not",
    "tidak": "not",
    "benar": "true",
    "salah": "false",
    "ya": "true",
    "AND": "and",
    "OR": "or",
    "NOT": "not",
    "True": "true",
    "False": "false",
}
_LITERAL = "angka atau teks"


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str
    pos: int  # 1-based column
    value: Value | None = None

    def shown(self) -> str:
        return "akhir aturan" if self.kind == "end" else f"'{self.text}'"


def parse_rule(source: str) -> Rule:
    """Parse and type-check a rule; raise ``ValidationError`` pointing at the first problem."""
    if not source.strip():
        _fail(1, "aturan kosong")
    if len(source) > MAX_RULE_LENGTH:
        _fail(MAX_RULE_LENGTH, f"aturan terlalu panjang (paling banyak {MAX_RULE_LENGTH} karakter)")
    tokens = tokenize(source)
    depth = 0
    for token in tokens:
        depth += (token.text == "(") - (token.text == ")")
        if depth > MAX_NESTING:
            _fail(token.pos, f"terlalu banyak tanda kurung bersarang (paling banyak {MAX_NESTING})")
    try:
        return Rule(source, _Parser(tokens).rule())
    except RecursionError:  # e.g. hundreds of 'not' in a row
        _fail(1, "aturan terlalu dalam bersarang; sederhanakan aturan")
        raise  # pragma: no cover -- _fail raises


def check_rule(source: str) -> list[FieldError]:
    """The problems of a rule (empty when it is valid)."""
    try:
        parse_rule(source)
    except ValidationError as exc:
        return exc.errors
    return []


def tokenize(source: str) -> list[Token]:
    """Split a rule into tokens, each with its 1-based column."""
    tokens: list[Token] = []
    at = 0
    while at < len(source):
        match = _TOKEN.match(source, at)
        if match is None:
            char = source[at]
            hint = _HINTS.get(char)
            if char in "\"'":
                _fail(at + 1, "teks belum ditutup dengan tanda kutip")
            _fail(at + 1, f"karakter '{char}' tidak dikenal" + (f"; {hint}" if hint else ""))
        kind = match.lastgroup
        text = match.group()
        if kind != "space":
            value: Value | None = None
            if kind in ("int", "number") and len(text.replace(".", "")) > MAX_DIGITS:
                _fail(at + 1, f"angka terlalu panjang (paling banyak {MAX_DIGITS} angka)")
            if kind == "int":
                value = int(text)
            elif kind == "number":
                value = float(text)
            elif kind == "text":
                value = re.sub(r"\\(.)", r"\1", text[1:-1])
            elif kind == "name" and text in ("true", "false"):
                value = text == "true"
            tokens.append(Token(kind, text, at + 1, value))  # type: ignore[arg-type]
        at = match.end()
    tokens.append(Token("end", "", len(source) + 1))
    return tokens


class RuleError(ValidationError):
    """A rule that does not parse or type-check; ``position`` is the 1-based column of the problem."""

    def __init__(self, position: int, message: str) -> None:
        text = f"posisi {position}: {message}"
        super().__init__(f"Aturan tidak valid: {text}.", [FieldError("aturan", text)])
        self.position = position
        self.reason = message


def _fail(pos: int, message: str) -> NoReturn:
    raise RuleError(pos, message)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.at = 0

    # -- token helpers

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.at + offset, len(self.tokens) - 1)]

    def is_(self, text: str) -> bool:
        return self.token.kind in ("name", "op", "punct") and self.token.text == text

    def take(self) -> Token:
        token = self.token
        self.at = min(self.at + 1, len(self.tokens) - 1)
        return token

    def expect(self, text: str, after: str) -> Token:
        if not self.is_(text):
            _fail(
                self.token.pos,
                f"diharapkan '{text}' setelah {after}, bukan {self.token.shown()}{self.hint()}",
            )
        return self.take()

    def hint(self) -> str:
        token = self.token
        if token.kind == "name" and token.text in _WORD_HINTS:
            return f"; gunakan '{_WORD_HINTS[token.text]}'"
        if token.text == "," and self.at > 0 and self.tokens[self.at - 1].kind in ("int", "number"):
            return "; angka desimal ditulis dengan titik, mis. 2.5"
        return ""

    # -- grammar

    def rule(self) -> Node:
        node = self.or_("family")
        if self.token.kind != "end":
            if self.is_(")"):
                _fail(self.token.pos, "')' tanpa '(' pasangannya")
            _fail(
                self.token.pos,
                f"diharapkan 'and', 'or' atau akhir aturan, bukan {self.token.shown()}{self.hint()}",
            )
        return node

    def or_(self, scope: Scope) -> Node:
        parts = [self.and_(scope)]
        while self.is_("or"):
            self.take()
            parts.append(self.and_(scope))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_(self, scope: Scope) -> Node:
        parts = [self.not_(scope)]
        while self.is_("and"):
            self.take()
            parts.append(self.not_(scope))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def not_(self, scope: Scope) -> Node:
        if self.is_("not"):
            pos = self.take().pos
            return Not(self.not_(scope), pos)
        return self.primary(scope)

    def primary(self, scope: Scope) -> Node:
        token = self.token
        if self.is_("("):
            self.take()
            node = self.or_(scope)
            self.expect(")", "kondisi di dalam kurung")
            return node
        if token.kind == "name" and token.text in ("any", "all", "count"):
            return self.quantifier(scope)
        if token.kind == "name" and token.text not in KEYWORDS:
            return self.condition(scope)
        if token.kind == "end":
            _fail(token.pos, "aturan berakhir terlalu cepat; diharapkan sebuah kondisi, mis. desil <= 4")
        _fail(token.pos, f"diharapkan nama data (mis. desil), 'not' atau '(', bukan {token.shown()}")

    def quantifier(self, scope: Scope) -> Node:
        head = self.take()
        if scope == "member":
            _fail(head.pos, f"'{head.text}' tidak boleh dipakai di dalam any/all/count lain")
        self.expect("(", f"'{head.text}'")
        collection = self.token
        if collection.kind != "name" or collection.text not in COLLECTIONS:
            _fail(
                collection.pos,
                f"diharapkan 'anggota' atau 'semua_anggota' setelah '{head.text}(', "
                f"bukan {collection.shown()}",
            )
        self.take()
        self.expect(",", f"'{collection.text}'")
        body = self.or_("member")
        self.expect(")", f"kondisi di dalam {head.text}(…)")
        if head.text != "count":
            return Quantifier(head.text, collection.text, body, head.pos)  # type: ignore[arg-type]
        op = self.token
        if op.kind != "op":
            _fail(op.pos, f"diharapkan perbandingan (mis. >= 1) setelah count(…), bukan {op.shown()}")
        self.take()
        number = self.token
        if number.kind != "int":
            _fail(number.pos, f"diharapkan bilangan bulat setelah '{op.text}', bukan {number.shown()}")
        self.take()
        return Count(collection.text, body, op.text, int(number.text), head.pos)

    def condition(self, scope: Scope) -> Node:
        token = self.take()
        field = FIELDS.get(token.text)
        if field is None:
            _fail(token.pos, f"nama data '{token.text}' tidak dikenal{_suggestion(token.text)}")
        if field.scope != scope:
            if field.scope == "member":
                _fail(
                    token.pos,
                    f"'{field.name}' adalah data anggota; pakai di dalam any(anggota, …), "
                    "all(anggota, …) atau count(anggota, …)",
                )
            _fail(
                token.pos,
                f"'{field.name}' adalah data keluarga dan tidak dapat dipakai di dalam any/all/count",
            )
        if self.token.kind == "op":
            op = self.take()
            literal = self.token
            if literal.value is None:
                _fail(literal.pos, f"diharapkan {_LITERAL} setelah '{op.text}', bukan {literal.shown()}")
            self.take()
            return Compare(field, op.text, _checked(field, op, literal), token.pos)
        if self.is_("in") or (self.is_("not") and self.peek().kind == "name" and self.peek().text == "in"):
            negated = self.is_("not")
            if negated:
                self.take()
            keyword = self.take()
            if field.kind == "bool":
                _fail(
                    keyword.pos,
                    f"'in' tidak dapat dipakai untuk {field.name} (ya/tidak); gunakan == true atau == false",
                )
            self.expect("[", "'in'")
            values = [self.list_item(field, keyword)]
            while self.is_(","):
                self.take()
                values.append(self.list_item(field, keyword))
            self.expect("]", "daftar nilai")
            return InList(field, tuple(values), negated, token.pos)
        if field.kind != "bool":
            _fail(
                self.token.pos,
                f"diharapkan perbandingan (==, !=, <, <=, >, >=) atau 'in' setelah "
                f"'{field.name}', bukan {self.token.shown()}",
            )
        return Flag(field, token.pos)

    def list_item(self, field: Field, keyword: Token) -> Value:
        literal = self.token
        if literal.value is None:
            _fail(literal.pos, f"diharapkan {_LITERAL} di dalam daftar, bukan {literal.shown()}")
        self.take()
        return _checked(field, keyword, literal)


def _suggestion(word: str) -> str:
    if word in _WORD_HINTS:
        return f"; gunakan '{_WORD_HINTS[word]}'"
    if word in COLLECTIONS:
        return f"; pakai {word} di dalam any({word}, …), all({word}, …) atau count({word}, …)"
    close = difflib.get_close_matches(word.lower(), FIELDS, n=1, cutoff=0.75)
    return f"; mungkin maksudnya '{close[0]}'" if close else ""


def _checked(field: Field, op: Token, literal: Token) -> Value:
    """The literal's value if it suits the field and the operator; else a positioned error."""
    value = literal.value
    assert value is not None
    ordering = op.text in ("<", "<=", ">", ">=")
    where = literal.pos
    if field.kind in ("category", "text", "bool") and ordering:
        _fail(op.pos, f"operator '{op.text}' tidak dapat dipakai untuk {field.name}; gunakan ==, != atau in")
    if field.kind == "bool":
        if not isinstance(value, bool):
            _fail(
                where, f"{field.name} bernilai ya/tidak; diharapkan true atau false, bukan {literal.shown()}"
            )
        return value
    if field.kind in ("int", "number"):
        if isinstance(value, (bool, str)):
            _fail(
                where,
                f"{field.name} adalah angka; diharapkan angka setelah '{op.text}', bukan {literal.shown()}",
            )
        if field.kind == "int" and isinstance(value, float):
            _fail(
                where,
                f"{field.name} adalah bilangan bulat; diharapkan bilangan bulat, bukan {literal.shown()}",
            )
        if field.source == "age" and not 0 <= value <= MAX_AGE:
            _fail(where, f"umur harus antara 0 dan {MAX_AGE}")
        return value
    if not isinstance(value, str):
        hint = f'; tulis sebagai teks, mis. "{literal.text}"' if literal.kind in ("int", "number") else ""
        _fail(
            where,
            f"{field.name} berisi teks (kode); diharapkan teks dalam tanda kutip, "
            f"bukan {literal.shown()}{hint}",
        )
    if field.kind == "category" and value not in field.choices:
        _fail(where, f"nilai '{value}' tidak dikenal untuk {field.name}; pilihan: {', '.join(field.choices)}")
    return value


__all__ = ["COMPARISONS", "Rule", "RuleError", "Token", "check_rule", "parse_rule", "tokenize"]
