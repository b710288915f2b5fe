"""The canonical registry file layout and column-mapping files for other layouts.

The canonical layout has one row per member with the family columns repeated
(as DTKS exports are); its columns are ``CANONICAL_COLUMNS`` in that order.
Every cell is text: dates ``YYYY-MM-DD``, booleans ``1``/``0``, enum codes as in
``tepat.domain.households``, ``kode_kelurahan`` dotted (``32.76.01.1006``).

A mapping file renames another layout's columns to canonical ones and may
translate values. TOML (or the same shape in JSON)::

    [columns]
    "No KK" = "nomor_kk"
    "NIK" = "nik"
    "Jenis Kelamin" = "jenis_kelamin"

    [values.jenis_kelamin]
    "Laki-laki" = "L"
    "Perempuan" = "P"

Two more tables build a field from several source columns and read dates
written in a file's own way::

    [combine]            # canonical field = source columns, joined with a space
    nama = ["given_name", "surname"]
    [formats]            # canonical field = strptime format of its dates
    tanggal_lahir = "%Y%m%d"

or CSV with the header ``kolom_sumber,kolom_kanonik`` (columns only). The same
file maps an outside person list for record linkage (``tepat dedup``, ``tepat
link``), whose fields are ``tepat.domain.linkage.LINK_FIELDS``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tepat.domain.households import CANONICAL_COLUMNS, FAMILY_FIELDS, MEMBER_FIELDS, FieldSpec
from tepat.errors import ValidationError

FIELD_BY_COLUMN: dict[str, FieldSpec] = {f.column: f for f in FAMILY_FIELDS + MEMBER_FIELDS}
FAMILY_COLUMNS: tuple[str, ...] = tuple(f.column for f in FAMILY_FIELDS)
MEMBER_COLUMNS: tuple[str, ...] = tuple(f.column for f in MEMBER_FIELDS)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(f.column for f in FAMILY_FIELDS + MEMBER_FIELDS if f.required)

__all__ = [
    "CANONICAL_COLUMNS",
    "FAMILY_COLUMNS",
    "FIELD_BY_COLUMN",
    "MEMBER_COLUMNS",
    "REQUIRED_COLUMNS",
    "ColumnMapping",
    "load_mapping",
    "normalise_header",
    "parse_mapping",
]

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalise_header(name: object) -> str:
    """``' No. KK '`` → ``'no_kk'``: how header cells are compared."""
    text = str(name or "").replace("\ufeff", "").replace("\u00a0", " ").strip().lower()
    return _NON_WORD.sub("_", text).strip("_")


REGISTRY_FIELDS: frozenset[str] = frozenset(FIELD_BY_COLUMN)


@dataclass(frozen=True)
class ColumnMapping:
    """Source column → canonical column, per canonical column source value → canonical value, canonical column →
    the source columns joined (with a space) to build it, and canonical column → the strptime format of its dates.
    ``fields`` are the canonical columns a file may have (the registry's, or the linkage fields)."""

    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    combine: dict[str, tuple[str, ...]] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    fields: frozenset[str] = REGISTRY_FIELDS

    def canonical_name(self, header: object) -> str | None:
        """The canonical column a file's header cell stands for, or ``None``."""
        key = normalise_header(header)
        for source, target in self.columns.items():
            if normalise_header(source) == key:
                return target
        if key in self.fields and key not in self.combine:
            return key
        return None

    def with_fields(self, fields: frozenset[str]) -> ColumnMapping:
        """The same mapping over another vocabulary (an identity mapping for a person list)."""
        return ColumnMapping(self.columns, self.values, self.combine, self.formats, fields)


IDENTITY = ColumnMapping()


def _text_table(data: dict[str, Any], table: str, path: Path) -> dict[str, Any]:
    found = data.get(table, {})
    if not isinstance(found, dict):
        raise ValidationError(f"Berkas pemetaan {path.name}: [{table}] harus berupa tabel")
    return found


def _check(data: dict[str, Any], path: Path, fields: frozenset[str]) -> ColumnMapping:
    columns = _text_table(data, "columns", path)
    values = _text_table(data, "values", path)
    combine = _text_table(data, "combine", path)
    formats = _text_table(data, "formats", path)
    if not all(isinstance(v, dict) for v in values.values()):
        raise ValidationError(
            f"Berkas pemetaan {path.name} harus berisi tabel [columns] dan [values.<kolom>]"
        )
    if not all(
        isinstance(v, list) and v and all(isinstance(c, str) and c.strip() for c in v)
        for v in combine.values()
    ):
        raise ValidationError(
            f'Berkas pemetaan {path.name}: setiap baris [combine] berupa daftar kolom sumber, mis. nama = ["nama_depan", "nama_belakang"]'
        )
    if not all(isinstance(v, str) and "%" in v for v in formats.values()):
        raise ValidationError(
            f'Berkas pemetaan {path.name}: setiap baris [formats] berupa format tanggal, mis. tanggal_lahir = "%Y%m%d"'
        )
    unknown = sorted(
        {str(t) for t in columns.values() if t not in fields}
        | {c for c in (*values, *combine, *formats) if c not in fields}
    )
    if unknown:
        raise ValidationError(
            f"Berkas pemetaan {path.name} menyebut kolom kanonik yang tidak ada: {', '.join(unknown)}"
        )
    twice = sorted(set(combine) & {str(t) for t in columns.values()})
    if twice:
        raise ValidationError(
            f"Berkas pemetaan {path.name}: {', '.join(twice)} ada di [columns] dan [combine]; pilih salah satu"
        )
    return ColumnMapping(
        {str(k): str(v) for k, v in columns.items()},
        {str(c): {str(k): str(v) for k, v in m.items()} for c, m in values.items()},
        {str(c): tuple(str(x) for x in v) for c, v in combine.items()},
        {str(c): str(v) for c, v in formats.items()},
        fields,
    )


def load_mapping(path: str | Path, fields: frozenset[str] = REGISTRY_FIELDS) -> ColumnMapping:
    """Read a mapping file (``.toml``, ``.json`` or ``.csv``) whose canonical columns are among ``fields``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"Berkas pemetaan {path.name} tidak dapat dibaca") from exc
    return parse_mapping(text, path.name, fields)


def parse_mapping(text: str, name: str, fields: frozenset[str] = REGISTRY_FIELDS) -> ColumnMapping:
    """A mapping from the text of a file named ``name`` (its suffix says the format: ``.csv`` with the columns
    ``kolom_sumber`` and ``kolom_kanonik``, ``.json``, or else TOML); ``ValidationError`` when it is not one."""
    path = Path(name)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
            if rows and not {"kolom_sumber", "kolom_kanonik"} <= set(rows[0]):
                raise ValidationError(
                    f"Berkas pemetaan {path.name} harus punya kolom kolom_sumber dan kolom_kanonik"
                )
            return _check({"columns": {r["kolom_sumber"]: r["kolom_kanonik"] for r in rows}}, path, fields)
        data = json.loads(text) if suffix == ".json" else tomllib.loads(text.lstrip("\ufeff"))
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, csv.Error) as exc:
        raise ValidationError(f"Berkas pemetaan {path.name} tidak sah: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationError(
            f"Berkas pemetaan {path.name} harus berisi tabel [columns] dan [values.<kolom>]"
        )
    return _check(data, path, fields)


def _allowed(spec: FieldSpec) -> str:
    if spec.kind == "enum" and spec.choices is not None:
        return ", ".join(f"`{c.value}` ({c.label})" for c in spec.choices)
    if spec.kind == "int":
        return f"whole number {spec.min_value}–{spec.max_value}"
    if spec.kind == "bool":
        return "`1` / `0` (also `ya`/`tidak`, `y`/`t`, `true`/`false`)"
    if spec.kind == "date":
        return "`YYYY-MM-DD` (also `DD/MM/YYYY`, `DD-MM-YYYY`, an Excel date cell or serial number)"
    if spec.kind == "nik":
        return "16 digits: region, birth date (day + 40 for women), serial ≠ 0000"
    if spec.kind == "kk":
        return "16 digits: region, issue date, serial ≠ 0000"
    if spec.kind == "region":
        return "a Kepmendagri 2025 kelurahan/desa code, `32.76.01.1006` or `3276011006`"
    if spec.kind == "name":
        return f"a name, at most {spec.max_length} characters: letters, spaces and ' . , - (titles such as Hj., S.Pd.)"
    return f"text, at most {spec.max_length} characters" if spec.max_length else "text"


def layout_markdown() -> str:
    """The canonical layout as a Markdown table (the one in ``docs/import-export.md``)."""
    lines = ["| # | column | meaning | required | allowed values |", "|---|---|---|---|---|"]
    for i, spec in enumerate(FAMILY_FIELDS + MEMBER_FIELDS, start=1):
        lines.append(
            f"| {i} | `{spec.column}` | {spec.label} | {'yes' if spec.required else ''} | {_allowed(spec)} |"
        )
    return "\n".join(lines) + "\n"
