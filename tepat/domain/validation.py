"""Validating one family's or one member's values against the field catalogue.

Forms, the API and single-record services use these functions; the bulk
importer applies the same catalogue and the same identifier tables in
vectorised form. Messages are in Bahasa Indonesia.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from tepat.domain import names
from tepat.domain.households import (
    FAMILY_FIELDS,
    MEMBER_FIELDS,
    FieldSpec,
    InactiveReason,
    LifeStatus,
    RegistryStatus,
    Relationship,
    Sex,
)
from tepat.domain.nik import check_kk, check_nik
from tepat.domain.regions import Level, RegionCode
from tepat.errors import FieldError

_TRUE = frozenset({"1", "ya", "y", "true", "benar", "on", "yes", "x"})
_FALSE = frozenset({"0", "tidak", "t", "n", "false", "salah", "off", "no"})
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def parse_date(value: object) -> date:
    """A date from a ``date``, ``YYYY-MM-DD``, ``DD/MM/YYYY`` (or ``-``/``.``) or a stored timestamp's text
    (``YYYY-MM-DD HH:MM:SS``, as SQLite hands it back); ``ValueError`` otherwise. The one date parser: forms, the
    CLI, the API and values read back from the database all come here (the bulk import applies the same formats
    in vectorised form, ``tepat.files.row_checks.parse_dates``)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    m = _DMY.match(text)
    if m:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    if len(text) > 10 and text[10] in " T":
        return datetime.fromisoformat(text).date()
    return date.fromisoformat(text)


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(text)


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _parse_field(
    spec: FieldSpec, raw: object, known_kelurahan: Container[str] | None
) -> tuple[Any, str | None]:
    """(value, None) or (None, message)."""
    if spec.kind in ("text", "name"):
        text = names.tidy(str(raw)) if spec.kind == "name" else " ".join(str(raw).split())
        if spec.max_length and len(text) > spec.max_length:
            return None, f"paling banyak {spec.max_length} karakter"
        if spec.kind == "name" and not names.is_valid_name(text):
            return None, names.MESSAGE
        return text, None
    if spec.kind == "int":
        try:
            number = int(str(raw).strip().removesuffix(".0"))
        except ValueError:
            return None, "harus bilangan bulat"
        if spec.min_value is not None and number < spec.min_value:
            return None, f"paling kecil {spec.min_value}"
        if spec.max_value is not None and number > spec.max_value:
            return None, f"paling besar {spec.max_value}"
        return number, None
    if spec.kind == "date":
        try:
            return parse_date(raw), None
        except ValueError:
            return None, "tanggal tidak dikenali (gunakan TTTT-BB-HH atau HH/BB/TTTT)"
    if spec.kind == "bool":
        try:
            return parse_bool(raw), None
        except ValueError:
            return None, "harus ya/tidak (1/0)"
    if spec.kind == "enum":
        assert spec.choices is not None
        choice = spec.choices.from_text(str(raw))
        if choice is not None:
            return choice.value, None
        allowed = ", ".join(c.label for c in spec.choices)
        return None, f"nilai tidak dikenal; pilihan: {allowed}"
    if spec.kind == "nik":
        result = check_nik(raw, known_regions=None)
        return (result.value, None) if result.valid else (None, "; ".join(result.errors))
    if spec.kind == "kk":
        result = check_kk(raw, known_regions=None)
        return (result.value, None) if result.valid else (None, "; ".join(result.errors))
    if spec.kind == "region":
        try:
            code = RegionCode.parse(raw, level=Level.KELURAHAN).code
        except ValueError:
            return None, "harus kode kelurahan, mis. 32.76.01.1006"
        if known_kelurahan is not None and code not in known_kelurahan:
            return None, f"kode kelurahan {code} tidak ada dalam daftar wilayah Kepmendagri 2025"
        return code, None
    raise AssertionError(spec.kind)  # pragma: no cover


def _validate(
    specs: tuple[FieldSpec, ...],
    values: Mapping[str, object],
    *,
    partial: bool,
    known_kelurahan: Container[str] | None,
) -> tuple[dict[str, Any], list[FieldError]]:
    clean: dict[str, Any] = {}
    errors: list[FieldError] = []
    for spec in specs:
        if spec.name not in values:
            if spec.required and not partial:
                errors.append(FieldError(spec.name, f"{spec.label} wajib diisi"))
            elif spec.default is not None and not partial:
                clean[spec.name] = spec.default
            continue
        raw = values[spec.name]
        if _is_empty(raw):
            if spec.required or (spec.default is not None and partial):
                errors.append(FieldError(spec.name, f"{spec.label} wajib diisi"))
            else:
                clean[spec.name] = spec.default
            continue
        value, problem = _parse_field(spec, raw, known_kelurahan)
        if problem is not None:
            errors.append(FieldError(spec.name, f"{spec.label}: {problem}", value=str(raw)))
        else:
            clean[spec.name] = value
    return clean, errors


def validate_family(
    values: Mapping[str, object],
    *,
    partial: bool = False,
    known_kelurahan: Container[str] | None = None,
    current: Mapping[str, object] | None = None,
) -> tuple[dict[str, Any], list[FieldError]]:
    """Clean a family's values; ``partial`` checks only the fields given (an edit)."""
    clean, errors = _validate(FAMILY_FIELDS, values, partial=partial, known_kelurahan=known_kelurahan)
    merged = {**(current or {}), **clean}
    if merged.get("registry_status") == RegistryStatus.NONAKTIF and not merged.get("inactive_reason"):
        errors.append(
            FieldError("inactive_reason", "Alasan nonaktif wajib diisi bila status keluarga nonaktif")
        )
    if merged.get("registry_status") == RegistryStatus.AKTIF and "registry_status" in clean:
        clean["inactive_reason"] = None
    if merged.get("inactive_reason") and merged.get("inactive_reason") not in {
        r.value for r in InactiveReason
    }:
        errors.append(FieldError("inactive_reason", "Alasan nonaktif tidak dikenal"))
    return clean, errors


def validate_member(
    values: Mapping[str, object],
    *,
    partial: bool = False,
    current: Mapping[str, object] | None = None,
    today: date | None = None,
) -> tuple[dict[str, Any], list[FieldError]]:
    """Clean a member's values and check them against the NIK (sex and birth date)."""
    clean, errors = _validate(MEMBER_FIELDS, values, partial=partial, known_kelurahan=None)
    merged = {**(current or {}), **clean}
    failed = {e.field for e in errors}
    nik, sex, birth = merged.get("nik"), merged.get("sex"), merged.get("birth_date")
    if isinstance(nik, str) and "nik" not in failed:
        parsed = check_nik(nik, birth_date_hint=birth if isinstance(birth, date) else None, today=today)
        if sex and "sex" not in failed and parsed.sex and parsed.sex != sex:
            errors.append(
                FieldError(
                    "sex",
                    f"Jenis kelamin tidak sesuai NIK (menurut NIK: {Sex(parsed.sex).label})",
                    value=str(sex),
                )
            )
        if (
            isinstance(birth, date)
            and "birth_date" not in failed
            and parsed.birth_date
            and parsed.birth_date != birth
        ):
            errors.append(
                FieldError(
                    "birth_date",
                    f"Tanggal lahir tidak sesuai NIK (menurut NIK: {parsed.birth_date.isoformat()})",
                    value=birth.isoformat(),
                )
            )
    if merged.get("pregnant") and merged.get("sex") == Sex.LAKI_LAKI:
        errors.append(FieldError("pregnant", "Anggota laki-laki tidak dapat berstatus hamil"))
    death = merged.get("death_date")
    if death and merged.get("life_status") != LifeStatus.MENINGGAL:
        errors.append(FieldError("death_date", "Tanggal meninggal hanya diisi bila status hidup 'meninggal'"))
    if isinstance(death, date) and isinstance(birth, date) and death < birth:
        errors.append(FieldError("death_date", "Tanggal meninggal sebelum tanggal lahir"))
    if isinstance(birth, date) and birth > (today or date.today()):
        errors.append(FieldError("birth_date", "Tanggal lahir tidak boleh di masa depan"))
    return clean, errors


def validate_household(
    family: Mapping[str, object],
    members: Sequence[Mapping[str, object]],
    *,
    known_kelurahan: Container[str] | None = None,
    require_head: bool = False,
    today: date | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[FieldError]]:
    """A new family with its members, as every entry point registers or proposes one (the registry's page, API and
    CLI, a resident's usul): the family's fields, each member's (errors named ``members.{i}.{field}``, ``i`` the
    row as given), at least one member, no NIK twice, and with ``require_head`` one of them the head of the family
    (a resident's proposal must name one; the registry takes a family as the office's records have it: a head who
    died leaves a family without one until its KK is renewed). A member row left wholly empty (a form's spare row)
    is no member. Returns the cleaned family, the cleaned members and the errors."""
    clean, errors = validate_family(family, known_kelurahan=known_kelurahan)
    rows = [
        (i, m)
        for i, m in enumerate(members)
        if any(str(v if v is not None else "").strip() for v in m.values())
    ]
    if not rows:
        errors.append(FieldError("members", "Keluarga harus punya paling sedikit satu anggota"))
    cleaned = []
    for i, values in rows:
        m, m_errors = validate_member(values, today=today)
        errors.extend(FieldError(f"members.{i}.{e.field}", e.message, e.value) for e in m_errors)
        cleaned.append(m)
    if (
        require_head
        and rows
        and not any(m.get("relationship") == Relationship.KEPALA_KELUARGA for m in cleaned)
    ):
        errors.append(FieldError("members", "Salah satu anggota harus kepala keluarga"))
    niks = [m["nik"] for m in cleaned if m.get("nik")]
    if len(set(niks)) != len(niks):
        errors.append(FieldError("members", "Ada NIK yang sama dua kali dalam keluarga ini"))
    return clean, cleaned, errors
