"""Registry forms: which fields each form shows, reading posted values, showing stored values.

Form input names are the service field names (``kk_number``, ``members.0.nik``)
so that a ``FieldError`` from a service lands next to its input unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from starlette.datastructures import FormData, UploadFile

from tepat.domain.cases import category_label, evidence_label
from tepat.domain.entitlements import BlockReason, EntitlementState
from tepat.domain.formatting import number as angka
from tepat.domain.households import (
    ASSETS,
    FAMILY_FIELD_BY_NAME,
    FAMILY_FIELDS,
    HOUSING,
    MEMBER_FIELDS,
    FieldSpec,
)
from tepat.domain.validation import parse_date
from tepat.errors import FieldError, ValidationError
from tepat.web.templating import tanggal

_ASSET_NAMES = tuple(name for name, _, _ in ASSETS)


@dataclass(frozen=True)
class FieldGroup:
    title: str
    fields: tuple[FieldSpec, ...]


def _specs(names: tuple[str, ...]) -> tuple[FieldSpec, ...]:
    return tuple(FAMILY_FIELD_BY_NAME[n] for n in names)


FAMILY_GROUPS: tuple[FieldGroup, ...] = (
    FieldGroup("Identitas dan alamat", _specs(("kk_number", "kelurahan_code", "rw", "rt", "address"))),
    FieldGroup("Rumah", _specs(HOUSING)),
    FieldGroup("Aset", _specs(_ASSET_NAMES)),
    FieldGroup("Verifikasi", _specs(("verification_status", "verified_on"))),
)
FAMILY_FORM_FIELDS: tuple[FieldSpec, ...] = tuple(s for g in FAMILY_GROUPS for s in g.fields)
MEMBER_FORM_FIELDS: tuple[FieldSpec, ...] = tuple(s for s in MEMBER_FIELDS)
_BY_LABEL = {s.label: s for s in FAMILY_FIELDS + MEMBER_FIELDS}


def read(form: FormData, specs: tuple[FieldSpec, ...], prefix: str = "") -> dict[str, str]:
    """The posted raw strings for ``specs`` (a missing input counts as empty)."""
    return {s.name: str(form.get(prefix + s.name, "") or "").strip() for s in specs}


KEEP_WHEN_EMPTY = frozenset({"verification_status", "life_status"})
"""Optional in the catalogue but always stored: an empty choice on an edit form keeps the stored value."""


def drop_kept(values: dict[str, str]) -> dict[str, str]:
    """``values`` without empty entries for fields that always hold a value."""
    return {k: v for k, v in values.items() if v or k not in KEEP_WHEN_EMPTY}


def as_int(value: object) -> int:
    """A posted whole number (a version, a row count); 0 when missing or malformed."""
    try:
        return int(str(value))
    except ValueError:
        return 0


def is_blank(values: dict[str, str]) -> bool:
    return not any(values.values())


def as_form_values(record: Mapping[str, Any], specs: tuple[FieldSpec, ...]) -> dict[str, str]:
    """A stored record as the strings its form inputs start with."""
    out: dict[str, str] = {}
    for s in specs:
        value = record.get(s.name)
        if value is None:
            out[s.name] = ""
        elif s.kind == "bool":
            out[s.name] = "ya" if value else "tidak"
        elif isinstance(value, (date, datetime)):
            out[s.name] = value.isoformat()[:10]
        else:
            out[s.name] = str(value)
    return out


def display(spec: FieldSpec | None, value: Any) -> str:
    """A stored value as a page shows it: labels for codes, Indonesian dates and numbers."""
    if value is None or value == "":
        return "–"
    if spec is None:
        return str(value)
    if spec.kind == "enum" and spec.choices is not None:
        try:
            return spec.choices(str(value)).label
        except ValueError:
            return str(value)
    if spec.kind == "bool":
        return "Ya" if value in (True, 1, "1", "ya", "true", "True") else "Tidak"
    if spec.kind == "date":
        return tanggal(value)
    if spec.kind == "int" and spec.name not in ("rw", "rt") and isinstance(value, int):
        return angka(value)
    return str(value)


def display_change(field_label: str, value: Any) -> str:
    """A value from the history (known by its field label) as a page shows it."""
    return display(_BY_LABEL.get(field_label), value)


def _register_globals() -> None:
    from tepat.web.templating import templates

    templates.env.globals.update(
        tampil=display,
        tampil_ubah=display_change,
        status_hak=entitlement_label,
        jenis_berkas=evidence_label,
        kategori_aduan=category_label,
        alasan_blokir=block_label,
    )


def block_label(reason: str) -> str:
    """Why an entitlement was blocked, as pages name it."""
    try:
        return BlockReason(reason).label
    except ValueError:
        return reason.replace("_", " ")


def entitlement_label(state: str) -> str:
    """An entitlement's state as pages name it (``dibayar`` → "Sudah dibayar"); an unknown code as it is."""
    try:
        return EntitlementState(state).label
    except ValueError:
        return state


_register_globals()


DATE_HINT = "Gunakan format HH-BB-TTTT, mis. 06-12-2023"


def parse_form_date(raw: str, field: str) -> date:
    """A date typed in a form (``HH-BB-TTTT``, ``HH/BB/TTTT`` or a date input's ``TTTT-BB-HH``); ``ValidationError``
    naming ``field`` when empty or malformed. Every page's date field is read here."""
    try:
        return parse_date(raw)
    except ValueError:
        raise ValidationError("Tanggal tidak dikenali", [FieldError(field, DATE_HINT)]) from None


def parse_optional_date(raw: str, field: str) -> date | None:
    """As ``parse_form_date``, but an empty field is ``None``."""
    return parse_form_date(raw, field) if raw.strip() else None


TABLE_SUFFIXES = (".csv", ".xlsx", ".parquet")


async def saved_table(sent: object, folder: Path, *, what: str, max_bytes: int) -> Path | None:
    """A table file (CSV, XLSX, Parquet) uploaded with a form, saved in ``folder`` under a name of ours;
    ``None`` when none was sent. ``ValidationError`` naming ``what`` ("Berkas survei") for another kind of file or
    one over ``max_bytes``; the reader then checks the content itself."""
    if not isinstance(sent, UploadFile) or not sent.filename:
        return None
    suffix = Path(sent.filename).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ValidationError(f"{what} harus CSV, XLSX atau Parquet.")
    content = await sent.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise ValidationError(f"{what} terlalu besar (paling besar {max_bytes // (1024 * 1024)} MB).")
    path = folder / f"berkas{suffix}"
    path.write_bytes(content)
    return path
