"""The programme catalogue: what a programme gives, to whom, from which budget, under which rule.

Amounts, budgets and rules are data (an admin edits them); this module only says
what a valid programme looks like and holds the seed catalogue (docs/programmes.md).
A programme for people (``unit = orang``) may carry a ``member_rule``: a condition
on one member, written as it would be inside ``any(anggota, …)`` (e.g.
``umur >= 6 and umur <= 18 and sekolah``). It is parsed by wrapping it that way,
so it uses exactly the rule language's member fields and semantics.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict, cast

from tepat.domain.households import age_on
from tepat.domain.rule_ast import Rule
from tepat.domain.rules import RuleError, parse_rule
from tepat.domain.vocabulary import Labelled
from tepat.errors import FieldError, ValidationError


class Unit(Labelled):
    KELUARGA = "keluarga", "Keluarga (KPM)"
    ORANG = "orang", "Orang"


class BenefitType(Labelled):
    TUNAI = "tunai", "Uang tunai"
    BARANG = "barang", "Barang/nontunai"
    LAYANAN = "layanan", "Layanan"
    PELATIHAN = "pelatihan", "Pelatihan"


class FundingSource(Labelled):
    APBD = "APBD", "APBD"
    APBN = "APBN", "APBN"


class Frequency(Labelled):
    SEKALI = "sekali", "Sekali"
    BULANAN = "bulanan", "Per bulan"
    TAHUNAN = "tahunan", "Per tahun"
    ANGKATAN = "angkatan", "Per angkatan"


class OverrideState(Labelled):
    """A maker-checker request to add a family to (or remove it from) a programme's list."""

    DIAJUKAN = "diajukan", "Diajukan"
    DISETUJUI = "disetujui", "Disetujui"
    DITOLAK = "ditolak", "Ditolak"
    DICABUT = "dicabut", "Dicabut"


SCHOOL_LEVELS = ("SD", "SMP", "SMA")
"""Keys of ``amounts_by_level`` (education aid)."""

MEMBER_RULE_PREFIX = "any(anggota, "
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,23}$")
MAX_AMOUNT = 10**12


@dataclass(frozen=True)
class ProgrammeSpec:
    """One catalogue entry as stored (``programmes`` row without bookkeeping columns).

    ``amount`` is rupiah per unit per cycle (a monthly programme's cycle is a month);
    ``quota`` is units per cycle (seats of a BLK batch); ``coverage_months`` is how
    long an approved cycle of a service programme (health coverage) covers a person.
    """

    code: str
    name: str
    unit: str
    benefit_type: str
    funding_source: str
    frequency: str
    amount: int
    budget_year: int
    rule: str
    description: str | None = None
    amounts_by_level: dict[str, int] | None = None
    annual_budget: int | None = None
    quota: int | None = None
    member_rule: str | None = None
    exclusions: tuple[str, ...] = field(default=())
    coverage_months: int | None = None
    active: bool = True

    def as_row(self) -> dict[str, Any]:
        """The columns to store (exclusions as a list, for JSON)."""
        row = asdict(self)
        row["exclusions"] = list(self.exclusions)
        return row


class Programme(TypedDict):
    """A catalogue entry as stored (a ``programmes`` row): the read model the store returns and services, pages and
    the CLI read (a dict at run time; tests/test_read_models.py holds its fields equal to the table's
    columns). ``unit``, ``benefit_type``, ``funding_source`` and ``frequency`` hold the codes of ``Unit``,
    ``BenefitType``, ``FundingSource`` and ``Frequency``."""

    id: int
    code: str
    name: str
    description: str | None
    unit: str
    benefit_type: str
    funding_source: str
    frequency: str
    amount: int
    amounts_by_level: dict[str, int] | None
    budget_year: int
    annual_budget: int | None
    quota: int | None
    rule: str
    member_rule: str | None
    exclusions: list[str]
    coverage_months: int | None
    active: bool
    version: int
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    office_code: str


def budget_for(programme: Mapping[str, Any], year: int) -> int | None:
    """The programme's budget for ``year``: its annual budget when that is the year it was set for, else ``None``
    (no budget set for that year). A budget and what is left of it always belong to one named year."""
    annual, budget_year = programme.get("annual_budget"), programme.get("budget_year")
    return int(annual) if annual is not None and budget_year == year else None


TERMS = (
    "unit",
    "benefit_type",
    "funding_source",
    "frequency",
    "amount",
    "amounts_by_level",
    "budget_year",
    "annual_budget",
    "quota",
    "rule",
    "member_rule",
    "exclusions",
    "coverage_months",
)
"""What a programme gives, to whom, how often and within which limits: with its code, name and version, what a
cycle freezes on approval."""

EDITABLE = (
    "name",
    "description",
    "amount",
    "amounts_by_level",
    "annual_budget",
    "quota",
    "budget_year",
    "rule",
    "member_rule",
    "exclusions",
    "coverage_months",
    "active",
    "frequency",
    "funding_source",
)
"""What an admin may change after creation (code, unit and benefit type stay: cycles refer to them)."""


def validate_programme(
    values: Mapping[str, Any], *, known_codes: frozenset[str] | None = None
) -> ProgrammeSpec:
    """A valid ``ProgrammeSpec`` from raw values, or ``ValidationError`` listing every problem (in Indonesian)."""
    errors: list[FieldError] = []

    def text(name: str, label: str, limit: int, required: bool = True) -> str | None:
        raw = values.get(name)
        value = str(raw).strip() if raw is not None else ""
        if not value:
            if required:
                errors.append(FieldError(name, f"{label} wajib diisi"))
            return None
        if len(value) > limit:
            errors.append(FieldError(name, f"{label} paling panjang {limit} karakter"))
        return value

    def choice(name: str, label: str, enum: type[StrEnum]) -> str:
        raw = str(values.get(name) or "").strip()
        allowed = [e.value for e in enum]
        if raw not in allowed:
            errors.append(
                FieldError(name, f"{label} harus salah satu dari: {', '.join(allowed)}", raw or None)
            )
        return raw

    def money(name: str, label: str, required: bool) -> int | None:
        raw = values.get(name)
        if raw is None or raw == "":
            if required:
                errors.append(FieldError(name, f"{label} wajib diisi"))
            return None
        amount = rupiah_amount(raw)
        if amount is None:
            errors.append(FieldError(name, f"{label} harus bilangan bulat rupiah", str(raw)))
            return None
        if amount < 0:
            errors.append(FieldError(name, f"{label} tidak boleh negatif", str(raw)))
        elif amount > MAX_AMOUNT:
            errors.append(FieldError(name, f"{label} terlalu besar", str(raw)))
        return amount

    code = (text("code", "Kode program", 24) or "").upper()
    if code and not _CODE.match(code):
        errors.append(
            FieldError("code", "Kode program hanya huruf besar, angka dan tanda '-' (2–24 karakter)", code)
        )
    name = text("name", "Nama program", 120) or ""
    description = text("description", "Uraian", 1000, required=False)
    unit = choice("unit", "Satuan penerima", Unit)
    benefit_type = choice("benefit_type", "Jenis manfaat", BenefitType)
    funding_source = choice("funding_source", "Sumber dana", FundingSource)
    frequency = choice("frequency", "Frekuensi", Frequency)
    amount = money("amount", "Besaran bantuan", required=True) or 0
    annual_budget = money("annual_budget", "Anggaran tahunan", required=False)
    quota = _positive(values.get("quota"), "quota", "Kuota", errors)
    coverage_months = _positive(
        values.get("coverage_months"), "coverage_months", "Lama jaminan (bulan)", errors
    )
    budget_year = whole_number(values.get("budget_year"))
    if budget_year is None or not 2000 <= budget_year <= 2100:
        errors.append(
            FieldError(
                "budget_year",
                "Tahun anggaran harus tahun antara 2000 dan 2100",
                None if values.get("budget_year") is None else str(values.get("budget_year")),
            )
        )
        budget_year = 0
    levels = _levels(values.get("amounts_by_level"), errors)
    if levels is not None and unit != Unit.ORANG:
        errors.append(
            FieldError("amounts_by_level", "Besaran per jenjang hanya untuk program dengan satuan orang")
        )
    if benefit_type == BenefitType.LAYANAN and coverage_months is None:
        errors.append(
            FieldError(
                "coverage_months", "Program layanan (jaminan kesehatan) wajib punya lama jaminan dalam bulan"
            )
        )
    rule = str(values.get("rule") or "")
    _check_rule(rule, "rule", errors)
    member_rule = str(values.get("member_rule") or "").strip() or None
    if member_rule is not None:
        if unit != Unit.ORANG:
            errors.append(FieldError("member_rule", "Syarat anggota hanya untuk program dengan satuan orang"))
        else:
            try:
                member_rule_as_rule(member_rule)
            except RuleError as exc:
                errors.append(FieldError("member_rule", f"posisi {exc.position}: {exc.reason}"))
    exclusions = _exclusions(values.get("exclusions"), code, known_codes, errors)
    if errors:
        raise ValidationError("Data program belum benar.", errors)
    return ProgrammeSpec(
        code=code,
        name=name,
        description=description,
        unit=unit,
        benefit_type=benefit_type,
        funding_source=funding_source,
        frequency=frequency,
        amount=amount,
        amounts_by_level=levels,
        budget_year=budget_year,
        annual_budget=annual_budget,
        quota=quota,
        rule=rule,
        member_rule=member_rule,
        exclusions=exclusions,
        coverage_months=coverage_months,
        active=bool(values.get("active", True)),
    )


def member_rule_as_rule(member_rule: str) -> Rule:
    """A member rule parsed as ``any(anggota, <member_rule>)``; error positions refer to ``member_rule`` itself."""
    try:
        return parse_rule(f"{MEMBER_RULE_PREFIX}{member_rule})")
    except RuleError as exc:
        position = min(max(exc.position - len(MEMBER_RULE_PREFIX), 1), len(member_rule) + 1)
        raise RuleError(position, exc.reason) from None


def school_level(education: str | None, age: int) -> str | None:
    """The school level a pupil is in now: from the highest level finished, else from the age.

    ``pendidikan`` in the registry is the highest level *finished* (the synthetic
    registry and DTKS exports agree): nothing yet → SD, SD → SMP, SMP → SMA; a
    pupil who finished SMA or more is not in school education. Without that field
    the age decides: 6–12 SD, 13–15 SMP, 16–18 SMA. ``tepat.store.candidates.level_expression`` computes
    the same in SQL.
    """
    by_finished = {"tidak_belum_sekolah": "SD", "sd": "SMP", "smp": "SMA"}
    if education:
        return by_finished.get(education)
    if 6 <= age <= 12:
        return "SD"
    if 13 <= age <= 15:
        return "SMP"
    if 16 <= age <= 18:
        return "SMA"
    return None


def level_of(member: Mapping[str, Any], reference_date: Any) -> str | None:
    """``school_level`` of a member row (``education``, ``birth_date``) on a day."""
    return school_level(member.get("education"), age_on(member["birth_date"], reference_date))


def amount_for(spec_amount: int, amounts_by_level: Mapping[str, int] | None, level: str | None) -> int:
    """Rupiah for one unit: by school level when the programme has levels, else the flat amount."""
    if amounts_by_level:
        return int(amounts_by_level.get(level or "", 0))
    return spec_amount


def whole_number(raw: object) -> int | None:
    """A whole number as people type it (``500.000.000``, ``-5``, ``2025``); ``None`` when it is not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    text = str(raw).strip().replace(".", "").replace(" ", "") if raw is not None else ""
    if text.startswith("-") and text[1:].isdigit():
        return -int(text[1:])
    return int(text) if text.isdigit() else None


_RP_PREFIX = re.compile(r"^rp\.?\s*", re.IGNORECASE)
_GROUPED = re.compile(r"\d{1,3}(?:[.,]\d{3})+|\d+")


def rupiah_amount(raw: object) -> int | None:
    """Whole rupiah as people type or paste it; ``None`` when it is not one.

    ``Rp 300.000``, ``Rp300.000``, ``RP 300.000``, ``300000``, ``1.000.000`` and ``1,000,000`` (thousands),
    ``Rp 250.000,-``, and cents that are zero (``300.000,00``, ``13000.00`` as Excel writes it). A separator
    followed by one or two digits is a decimal part: anything but zero there (``12.5``) is not whole rupiah.
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else None
    if raw is None:
        return None
    text = _RP_PREFIX.sub("", str(raw).strip()).removesuffix(",-").removesuffix(".-")
    text = text.replace(" ", "").replace("\u00a0", "")
    negative = text.startswith("-")
    text = text.removeprefix("-")
    cents = re.search(r"[.,](\d{1,2})$", text)
    if cents:
        if int(cents.group(1)) != 0:
            return None
        text = text[: cents.start()]
    if not _GROUPED.fullmatch(text):
        return None
    value = int(text.replace(".", "").replace(",", ""))
    return -value if negative else value


def _positive(raw: object, name: str, label: str, errors: list[FieldError]) -> int | None:
    if raw is None or raw == "":
        return None
    value = whole_number(raw)
    if value is None or value < 1:
        errors.append(FieldError(name, f"{label} harus bilangan bulat lebih dari 0", str(raw)))
        return None
    return value


def _levels(raw: object, errors: list[FieldError]) -> dict[str, int] | None:
    if raw is None or raw == "" or raw == {}:
        return None
    if not isinstance(raw, Mapping):
        errors.append(FieldError("amounts_by_level", "Besaran per jenjang harus berisi SD, SMP dan SMA"))
        return None
    out: dict[str, int] = {}
    for key, value in raw.items():
        if key not in SCHOOL_LEVELS:
            errors.append(
                FieldError("amounts_by_level", f"Jenjang '{key}' tidak dikenal; pilihan: SD, SMP, SMA")
            )
            continue
        amount = rupiah_amount(value)
        if amount is None or amount < 0:
            errors.append(
                FieldError("amounts_by_level", f"Besaran {key} harus bilangan bulat rupiah, tidak negatif")
            )
            continue
        out[str(key)] = amount
    missing = [k for k in SCHOOL_LEVELS if k not in raw]
    if missing:
        errors.append(
            FieldError("amounts_by_level", f"Besaran per jenjang belum lengkap: {', '.join(missing)}")
        )
    return out


def _check_rule(rule: str, name: str, errors: list[FieldError]) -> None:
    try:
        parse_rule(rule)
    except RuleError as exc:
        errors.append(FieldError(name, f"posisi {exc.position}: {exc.reason}"))
    except ValidationError as exc:
        errors.append(FieldError(name, exc.message))


def _exclusions(
    raw: object, code: str, known: frozenset[str] | None, errors: list[FieldError]
) -> tuple[str, ...]:
    if raw is None or raw == "":
        return ()
    parts: Iterable[object] = raw.split(",") if isinstance(raw, str) else cast("Iterable[object]", raw)
    items = [str(p).strip().upper() for p in parts]
    out: list[str] = []
    for item in items:
        if not item:
            continue
        if item == code:
            errors.append(FieldError("exclusions", "Program tidak dapat mengecualikan dirinya sendiri"))
        elif known is not None and item not in known:
            errors.append(FieldError("exclusions", f"Program '{item}' tidak ada di katalog", item))
        elif item not in out:
            out.append(item)
    return tuple(out)


# ----------------------------------------------------------------- the seed catalogue (docs/programmes.md)

ACTIVE_FAMILY = 'status == "aktif"'
SEED_YEAR = 2025


def seed_catalogue(office_name: str) -> tuple[ProgrammeSpec, ...]:
    """The seed article's programmes with the seed's amounts, named for the office's kabupaten/kota; all of it
    editable afterwards."""
    return (
        ProgrammeSpec(
            code="BLT-APBD",
            name=f"Bantuan Langsung Tunai APBD {office_name}",
            description="Uang tunai sekali bayar untuk keluarga miskin yang terverifikasi di DTKS.",
            unit="keluarga",
            benefit_type="tunai",
            funding_source="APBD",
            frequency="sekali",
            amount=250_000,
            budget_year=SEED_YEAR,
            annual_budget=75_000_000_000,
            rule=f'desil <= 4 and {ACTIVE_FAMILY} and status_verifikasi == "terverifikasi"',
            exclusions=("BPNT",),
        ),
        ProgrammeSpec(
            code="BPNT",
            name="BPNT / Program Sembako",
            description="Bantuan pangan nontunai per bulan, disalurkan ke kartu KKS atau melalui PT Pos.",
            unit="keluarga",
            benefit_type="barang",
            funding_source="APBN",
            frequency="bulanan",
            amount=200_000,
            budget_year=SEED_YEAR,
            annual_budget=None,
            rule=f"desil <= 4 and {ACTIVE_FAMILY}",
        ),
        ProgrammeSpec(
            code="LKM-NIK",
            name="Kartu Sehat Berbasis NIK (LKM-NIK)",
            description=(
                f"Layanan kesehatan kelas III gratis di RSUD {office_name}, diperiksa per NIK. Untuk warga tanpa "
                "BPJS: registri belum mencatat kepesertaan BPJS, sehingga syaratnya desil dan status aktif."
            ),
            unit="orang",
            benefit_type="layanan",
            funding_source="APBD",
            frequency="tahunan",
            amount=0,
            budget_year=SEED_YEAR,
            rule=f"desil <= 5 and {ACTIVE_FAMILY}",
            member_rule="hidup and aktif",
            coverage_months=12,
        ),
        ProgrammeSpec(
            code="BANTUAN-PENDIDIKAN",
            name="Bantuan Pendidikan Anak Keluarga Miskin",
            description="Bantuan biaya sekolah per tahun menurut jenjang (acuan KIP: SD, SMP, SMA/SMK).",
            unit="orang",
            benefit_type="tunai",
            funding_source="APBD",
            frequency="tahunan",
            amount=0,
            amounts_by_level={"SD": 450_000, "SMP": 750_000, "SMA": 1_800_000},
            budget_year=SEED_YEAR,
            annual_budget=40_000_000_000,
            rule=f"desil <= 4 and {ACTIVE_FAMILY}",
            member_rule="umur >= 6 and umur <= 18 and sekolah",
        ),
        ProgrammeSpec(
            code="BLK",
            name="Pelatihan Balai Latihan Kerja (BLK)",
            description="Kursi pelatihan keterampilan per angkatan untuk warga usia kerja dari keluarga miskin.",
            unit="orang",
            benefit_type="pelatihan",
            funding_source="APBD",
            frequency="angkatan",
            amount=0,
            budget_year=SEED_YEAR,
            quota=40,
            rule=f"desil <= 4 and {ACTIVE_FAMILY}",
            member_rule='umur >= 18 and umur <= 45 and not sekolah and status_pekerjaan in ["tidak_bekerja", "pekerja_bebas"]',
        ),
        ProgrammeSpec(
            code="UMKM",
            name="Bantuan Modal Usaha UMKM",
            description="Hibah modal usaha untuk keluarga miskin yang sudah berusaha sendiri.",
            unit="keluarga",
            benefit_type="tunai",
            funding_source="APBD",
            frequency="sekali",
            amount=2_500_000,
            budget_year=SEED_YEAR,
            annual_budget=2_500_000_000,
            rule=(
                f"desil <= 5 and {ACTIVE_FAMILY} and any(anggota, status_pekerjaan in "
                '["berusaha_sendiri", "berusaha_dibantu_buruh"])'
            ),
        ),
    )


def programme_label(name: str, code: str) -> str:
    """``Name (CODE)`` for lists, without doubling a code the name already shows ("… Kerja (BLK)")."""
    return name if code.casefold() in name.casefold() else f"{name} ({code})"


def as_aid(name: str) -> str:
    """The programme as the object of a sentence ("bantuan …"), without "Bantuan Bantuan …"."""
    return name if name.casefold().startswith("bantuan") else f"bantuan {name}"
