"""NIK and KK number parsing and validation (docs/registry.md).

A NIK is ``PP KK CC DDMMYY SSSS``: the kecamatan where it was first issued, the
birth date (day + 40 for women) and a serial. A KK number is the issuing
kecamatan, the issue date ``DDMMYY`` and a serial. Every place a NIK or KK
enters tepat (forms, imports, the API, the CLI) goes through this module, and
bulk code uses the same lookup tables (``NIK_DATE_CODES``, ``KK_DATE_CODES``)
so that the rule lives in one place.

Messages are in Bahasa Indonesia: they are shown to users as they are.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar, Literal, Self

from tepat.errors import FieldError, ValidationError

Kind = Literal["NIK", "KK"]

_SCIENTIFIC = re.compile(r"^[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+$")
_DIGITS_WITH_DOT_ZERO = re.compile(r"^([0-9]+)[.,]0+$")


def _date_codes(female_offset: bool) -> frozenset[str]:
    """Every ``DDMMYY`` that is a real calendar date in 19YY or 20YY."""
    codes: set[str] = set()
    for century in (1900, 2000):
        for yy in range(100):
            year = century + yy
            for month in range(1, 13):
                for day in range(1, calendar.monthrange(year, month)[1] + 1):
                    codes.add(f"{day:02d}{month:02d}{yy:02d}")
                    if female_offset:
                        codes.add(f"{day + 40:02d}{month:02d}{yy:02d}")
    return frozenset(codes)


NIK_DATE_CODES: frozenset[str] = _date_codes(female_offset=True)
"""Every valid ``DDMMYY`` block of a NIK (women: day + 40)."""

KK_DATE_CODES: frozenset[str] = _date_codes(female_offset=False)
"""Every valid ``DDMMYY`` block of a KK number."""


@dataclass(frozen=True)
class IdentifierCheck:
    """The outcome of checking one NIK or KK number."""

    kind: Kind
    value: str
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    sex: Literal["L", "P"] | None = None
    birth_date: date | None = None
    region_code: str | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, object]:
        """The JSON shape printed by ``tepat nik check --json``."""
        out: dict[str, object] = {
            "valid": self.valid,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
        }
        if self.valid:
            if self.sex is not None:
                out["sex"] = self.sex
            if self.birth_date is not None:
                out["birth_date"] = self.birth_date.isoformat()
            out["region_code"] = self.region_code
        return out


@dataclass
class _Findings:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def clean_identifier(raw: object) -> tuple[str | None, str | None]:
    """Undo what spreadsheets do to a 16-digit number.

    Returns ``(digits, None)`` or ``(None, message)``. Strips spaces and a
    leading apostrophe, drops a trailing ``.0``, and refuses numbers written in
    scientific notation (``3.27501E+15``): their last digits are gone and
    cannot be recovered.
    """
    if raw is None:
        return None, "kosong"
    if isinstance(raw, bool):
        return None, "bukan angka"
    if isinstance(raw, int):
        text = str(raw)
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            return None, "bukan angka"
        if raw.is_integer() and 1e15 <= raw < 1e16 and int(raw) % 10 != 0:
            text = str(int(raw))  # below 2**53 a double holds all 16 digits exactly
        elif raw.is_integer() and 1e15 <= raw < 1e16:
            # Excel keeps 15 significant digits: a 16th digit typed as a number becomes 0.
            return (
                None,
                "tersimpan sebagai angka di Excel dan berakhir 0; digit ke-16 mungkin hilang, ketik ulang sebagai teks",
            )
        else:
            return None, "angka desimal dari Excel; digit terakhir sudah hilang, ketik ulang sebagai teks"
    else:
        text = str(raw)
    text = text.strip().lstrip("'\u2018\u2019`").strip()
    text = text.replace(" ", "").replace("\u00a0", "")
    if not text:
        return None, "kosong"
    if _SCIENTIFIC.match(text):
        return (
            None,
            "tertulis sebagai notasi ilmiah Excel (mis. 3.27501E+15); digit terakhir sudah hilang, ketik ulang sebagai teks",
        )
    m = _DIGITS_WITH_DOT_ZERO.match(text)
    if m:
        text = m.group(1)
    return text, None


def _region_of(digits: str) -> str:
    return f"{digits[0:2]}.{digits[2:4]}.{digits[4:6]}"


def _check_shape(kind: Kind, digits: str, found: _Findings) -> bool:
    if not digits.isdigit() or not digits.isascii():
        found.errors.append(f"{kind} hanya boleh berisi angka")
        return False
    if len(digits) != 16:
        found.errors.append(f"{kind} harus 16 digit, bukan {len(digits)} digit")
        return False
    return True


def _check_region(kind: Kind, digits: str, known_regions: Container[str] | None, found: _Findings) -> str:
    region = _region_of(digits)
    if digits[0:6] == "000000":
        found.errors.append(f"Kode wilayah {kind} tidak boleh 000000")
    elif known_regions is not None and region not in known_regions:
        found.warnings.append(
            f"Kode kecamatan {region} tidak ada dalam daftar wilayah Kepmendagri 2025 "
            "(mungkin wilayah lama yang sudah dimekarkan)"
        )
    return region


def _resolve_century(dd: int, mm: int, yy: int, today: date, hint: date | None) -> date | None:
    candidates = []
    for century in (2000, 1900):
        try:
            candidates.append(date(century + yy, mm, dd))
        except ValueError:
            continue
    if hint is not None:
        for c in candidates:
            if c == hint:
                return c
    for c in candidates:  # most recent date that is not in the future
        if c <= today:
            return c
    return candidates[-1] if candidates else None


def check_nik(
    raw: object,
    *,
    known_regions: Container[str] | None = None,
    today: date | None = None,
    birth_date_hint: date | None = None,
) -> IdentifierCheck:
    """Check a NIK; ``known_regions`` holds kecamatan codes like ``32.76.01``."""
    found = _Findings()
    digits, problem = clean_identifier(raw)
    if digits is None:
        return IdentifierCheck("NIK", "" if raw is None else str(raw), errors=(f"NIK {problem}",))
    if not _check_shape("NIK", digits, found):
        return IdentifierCheck("NIK", digits, errors=tuple(found.errors))
    region = _check_region("NIK", digits, known_regions, found)
    dd, mm, yy = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    sex: Literal["L", "P"] = "P" if dd > 40 else "L"
    day = dd - 40 if dd > 40 else dd
    birth: date | None = None
    if not 1 <= mm <= 12:
        found.errors.append(f"Bulan lahir pada NIK ({digits[8:10]}) harus 01–12")
    elif not (1 <= dd <= 31 or 41 <= dd <= 71):
        found.errors.append(f"Tanggal lahir pada NIK ({digits[6:8]}) harus 01–31, atau 41–71 untuk perempuan")
    elif digits[6:12] not in NIK_DATE_CODES:
        found.errors.append(
            f"Tanggal lahir pada NIK ({day:02d}-{digits[8:10]}-{digits[10:12]}) bukan tanggal yang ada"
        )
    else:
        birth = _resolve_century(day, mm, yy, today or date.today(), birth_date_hint)
    if digits[12:16] == "0000":
        found.errors.append("Nomor urut NIK (4 digit terakhir) tidak boleh 0000")
    if found.errors:
        return IdentifierCheck("NIK", digits, errors=tuple(found.errors), warnings=tuple(found.warnings))
    return IdentifierCheck(
        "NIK", digits, warnings=tuple(found.warnings), sex=sex, birth_date=birth, region_code=region
    )


def check_kk(raw: object, *, known_regions: Container[str] | None = None) -> IdentifierCheck:
    """Check a KK (family card) number."""
    found = _Findings()
    digits, problem = clean_identifier(raw)
    if digits is None:
        return IdentifierCheck("KK", "" if raw is None else str(raw), errors=(f"Nomor KK {problem}",))
    if not _check_shape("KK", digits, found):
        return IdentifierCheck("KK", digits, errors=tuple(found.errors))
    region = _check_region("KK", digits, known_regions, found)
    if digits[6:12] not in KK_DATE_CODES:
        found.errors.append(
            f"Tanggal terbit pada nomor KK ({digits[6:8]}-{digits[8:10]}-{digits[10:12]}) bukan tanggal yang ada"
        )
    if digits[12:16] == "0000":
        found.errors.append("Nomor urut KK (4 digit terakhir) tidak boleh 0000")
    return IdentifierCheck(
        "KK",
        digits,
        errors=tuple(found.errors),
        warnings=tuple(found.warnings),
        region_code=None if found.errors else region,
    )


def mask_nik(nik: str) -> str:
    """Show the region and the last two digits only: ``3275**********01``."""
    if len(nik) != 16:
        return "*" * len(nik)
    return nik[:4] + "*" * 10 + nik[-2:]


Checker = Callable[..., IdentifierCheck]


# ----------------------------------------------------------------- value objects


_TYPED_SEPARATORS = str.maketrans("", "", " -\u00a0")


@dataclass(frozen=True, slots=True)
class _Identifier:
    """A 16-digit identifier that has been through one of the two doors below; ``str()`` gives its digits."""

    digits: str

    kind: ClassVar[Kind]
    label: ClassVar[str]  # as a sentence names it
    typed_message: ClassVar[str]  # the sentence for a malformed lookup
    typed_hint: ClassVar[str]  # where a resident finds the number
    typed_field: ClassVar[str]  # the form field it is typed in, unless told

    def __str__(self) -> str:
        return self.digits

    @property
    def region_code(self) -> str:
        """The kecamatan that issued it (``32.75.01``)."""
        return _region_of(self.digits)

    @classmethod
    def _checked(cls, found: IdentifierCheck, field: str) -> Self:
        if not found.valid:
            raise ValidationError(f"{cls.label} tidak valid", [FieldError(field, "; ".join(found.errors))])
        return cls(found.value)

    @classmethod
    def typed(cls, raw: object, *, field: str | None = None) -> Self:
        """A number typed to look someone up (status check, sanggah, facility check, a move's target): spaces,
        dashes and what spreadsheets do are undone and 16 digits are required, nothing more: the registry holds
        checked numbers only, so a malformed one simply finds nobody. ``ValidationError`` on ``field``."""
        digits, _ = clean_identifier(str(raw).translate(_TYPED_SEPARATORS) if isinstance(raw, str) else raw)
        if digits is None or len(digits) != 16 or not digits.isdigit() or not digits.isascii():
            raise ValidationError(
                cls.typed_message,
                [FieldError(field or cls.typed_field, f"{cls.typed_message} ({cls.typed_hint})")],
            )
        return cls(digits)

    @classmethod
    def typed_or_none(cls, raw: object) -> Self | None:
        """As ``typed``, for a number that may be left empty or typed wrongly without refusing the form: ``None``."""
        try:
            return cls.typed(raw)
        except ValidationError:
            return None

    @classmethod
    def looks_like(cls, text: str) -> bool:
        """Whether a search text is a whole identifier (16 digits, nothing else)."""
        return len(text) == 16 and text.isdigit() and text.isascii()


@dataclass(frozen=True, slots=True)
class Nik(_Identifier):
    """A NIK (Nomor Induk Kependudukan)."""

    kind: ClassVar[Kind] = "NIK"
    label: ClassVar[str] = "NIK"
    typed_message: ClassVar[str] = "NIK harus 16 angka"
    typed_hint: ClassVar[str] = "lihat KTP atau KK"
    typed_field: ClassVar[str] = "nik"

    @classmethod
    def parse(
        cls,
        raw: object,
        *,
        field: str = "nik",
        known_regions: Container[str] | None = None,
        today: date | None = None,
        birth_date_hint: date | None = None,
    ) -> Nik:
        """A NIK entering the registry: every rule of ``check_nik``; ``ValidationError`` on ``field`` listing them."""
        return cls._checked(
            check_nik(raw, known_regions=known_regions, today=today, birth_date_hint=birth_date_hint), field
        )

    @property
    def masked(self) -> str:
        """``3275**********01``."""
        return mask_nik(self.digits)


@dataclass(frozen=True, slots=True)
class Kk(_Identifier):
    """A KK (Kartu Keluarga) number."""

    kind: ClassVar[Kind] = "KK"
    label: ClassVar[str] = "Nomor KK"
    typed_message: ClassVar[str] = "Nomor KK harus 16 angka"
    typed_hint: ClassVar[str] = "lihat Kartu Keluarga"
    typed_field: ClassVar[str] = "nomor_kk"

    @classmethod
    def parse(
        cls, raw: object, *, field: str = "kk_number", known_regions: Container[str] | None = None
    ) -> Kk:
        """A KK number entering the registry: every rule of ``check_kk``; ``ValidationError`` on ``field``."""
        return cls._checked(check_kk(raw, known_regions=known_regions), field)
