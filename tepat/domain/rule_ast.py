"""The eligibility rule language: its vocabulary (identifiers) and its syntax tree.

The parser (``rules.py``) builds these nodes, the explainer (``rule_explain.py``)
evaluates them for one family, and ``tepat.store.rule_sql`` compiles them to SQL.
Every identifier a rule may use is listed here, with the data it reads: a rule
cannot reach anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tepat.domain.households import ASSETS, FAMILY_FIELDS, MEMBER_FIELDS, Coded

Scope = Literal["family", "member"]
Kind = Literal["int", "number", "text", "category", "bool"]
# how a value is obtained: a stored column, or computed from one
Source = Literal["column", "score", "member_count", "age", "is_code", "is_not_code"]
Value = int | float | str | bool


@dataclass(frozen=True)
class Field:
    """One identifier of the rule language and the data behind it."""

    name: str  # as written in a rule
    scope: Scope
    kind: Kind
    column: str  # database column (and key of the dicts given to the explainer)
    label: str  # Indonesian label
    choices: tuple[str, ...] = ()  # allowed values of a category
    source: Source = "column"
    code: str | None = None  # the code tested by an ``is_code`` / ``is_not_code`` flag
    phrase: str | None = None  # how a yes/no field reads in an explanation ("masih sekolah")


def _codes(choices: type[Coded] | None) -> tuple[str, ...]:
    return tuple(c.value for c in choices) if choices else ()


def _catalogue() -> dict[str, Field]:
    fields: list[Field] = [
        Field("desil", "family", "int", "desil", "Desil kesejahteraan", source="score"),
        Field("skor", "family", "number", "skor", "Skor kesejahteraan", source="score"),
        Field(
            "jumlah_anggota", "family", "int", "id", "Jumlah anggota hidup dan aktif", source="member_count"
        ),
        Field("kelurahan", "family", "text", "kelurahan_code", "Kode kelurahan"),
        Field("kecamatan", "family", "text", "kecamatan_code", "Kode kecamatan"),
    ]
    renamed = {"registry_status": "status", "verification_status": "status_verifikasi"}
    skip = {"kk_number", "kelurahan_code", "address", "verified_on"}
    asset_names = {name for name, _, _ in ASSETS}
    for spec in FAMILY_FIELDS:
        if spec.name in skip:
            continue
        name = renamed.get(spec.name, spec.column)
        if spec.kind == "enum":
            fields.append(Field(name, "family", "category", spec.name, spec.label, _codes(spec.choices)))
        elif spec.kind == "bool":
            phrase = f"memiliki {spec.label[0].lower()}{spec.label[1:]}" if spec.name in asset_names else None
            fields.append(Field(name, "family", "bool", spec.name, spec.label, phrase=phrase))
        else:
            fields.append(Field(name, "family", "int", spec.name, spec.label))
    member = {f.name: f for f in MEMBER_FIELDS}
    fields += [
        Field("umur", "member", "int", "birth_date", "Umur (tahun genap)", source="age"),
        Field("jenis_kelamin", "member", "category", "sex", "Jenis kelamin", _codes(member["sex"].choices)),
        Field(
            "hubungan",
            "member",
            "category",
            "relationship",
            "Hubungan dengan kepala keluarga",
            _codes(member["relationship"].choices),
        ),
        Field(
            "status_kawin",
            "member",
            "category",
            "marital_status",
            "Status perkawinan",
            _codes(member["marital_status"].choices),
        ),
        Field(
            "pendidikan",
            "member",
            "category",
            "education",
            "Pendidikan tertinggi",
            _codes(member["education"].choices),
        ),
        Field(
            "partisipasi_sekolah",
            "member",
            "category",
            "school_participation",
            "Partisipasi sekolah",
            _codes(member["school_participation"].choices),
        ),
        Field(
            "status_pekerjaan",
            "member",
            "category",
            "work_status",
            "Status pekerjaan",
            _codes(member["work_status"].choices),
        ),
        Field(
            "jenis_disabilitas",
            "member",
            "category",
            "disability",
            "Jenis disabilitas",
            _codes(member["disability"].choices),
        ),
        Field(
            "jenis_penyakit_kronis",
            "member",
            "category",
            "chronic_illness",
            "Penyakit kronis",
            _codes(member["chronic_illness"].choices),
        ),
        Field(
            "sekolah",
            "member",
            "bool",
            "school_participation",
            "Masih sekolah",
            source="is_code",
            code="masih_sekolah",
            phrase="masih sekolah",
        ),
        Field(
            "disabilitas",
            "member",
            "bool",
            "disability",
            "Penyandang disabilitas",
            source="is_not_code",
            code="tidak_ada",
            phrase="penyandang disabilitas",
        ),
        Field(
            "penyakit_kronis",
            "member",
            "bool",
            "chronic_illness",
            "Berpenyakit kronis",
            source="is_not_code",
            code="tidak_ada",
            phrase="berpenyakit kronis",
        ),
        Field("hamil", "member", "bool", "pregnant", "Sedang hamil", phrase="sedang hamil"),
        Field(
            "hidup",
            "member",
            "bool",
            "life_status",
            "Masih hidup",
            source="is_code",
            code="hidup",
            phrase="masih hidup",
        ),
        Field(
            "aktif",
            "member",
            "bool",
            "status",
            "Anggota aktif di registri",
            source="is_code",
            code="aktif",
            phrase="aktif di registri",
        ),
    ]
    return {f.name: f for f in fields}


FIELDS: dict[str, Field] = _catalogue()
"""Every identifier a rule may use, by name."""

COLLECTIONS: dict[str, str] = {
    "anggota": "anggota keluarga yang hidup dan aktif",
    "semua_anggota": "semua anggota keluarga yang tercatat, termasuk yang meninggal atau nonaktif",
}
"""What ``any``/``all``/``count`` may range over."""

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "any", "all", "count"})
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
MAX_AGE = 150


# ----------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Compare:
    """``field op literal``, e.g. ``desil <= 4``."""

    field: Field
    op: str
    value: Value
    pos: int


@dataclass(frozen=True)
class InList:
    """``field in [..]`` or ``field not in [..]``."""

    field: Field
    values: tuple[Value, ...]
    negated: bool
    pos: int


@dataclass(frozen=True)
class Flag:
    """A yes/no field used as a condition, e.g. ``sekolah``."""

    field: Field
    pos: int


@dataclass(frozen=True)
class Quantifier:
    """``any(anggota, …)`` or ``all(anggota, …)``."""

    kind: Literal["any", "all"]
    collection: str
    body: Node
    pos: int


@dataclass(frozen=True)
class Count:
    """``count(anggota, …) op integer``."""

    collection: str
    body: Node
    op: str
    value: int
    pos: int


@dataclass(frozen=True)
class Not:
    operand: Node
    pos: int


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = Compare | InList | Flag | Quantifier | Count | Not | And | Or


@dataclass(frozen=True)
class Rule:
    """A parsed rule: its source text and its syntax tree."""

    source: str
    root: Node

    def fields(self) -> set[str]:
        """Names of the identifiers the rule uses."""
        return {f.name for f in _walk_fields(self.root)}

    def uses_members(self) -> bool:
        """Whether the rule reads the family's members (a member condition, or their count)."""
        return any(f.scope == "member" or f.source == "member_count" for f in _walk_fields(self.root))

    def uses_scores(self) -> bool:
        """Whether the rule needs ``desil`` or ``skor``."""
        return any(f.source == "score" for f in _walk_fields(self.root))


def _walk_fields(node: Node) -> list[Field]:
    if isinstance(node, (Compare, InList, Flag)):
        return [node.field]
    if isinstance(node, (Quantifier, Count)):
        return _walk_fields(node.body)
    if isinstance(node, Not):
        return _walk_fields(node.operand)
    return [f for child in node.operands for f in _walk_fields(child)]
