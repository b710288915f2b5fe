"""Pydantic schemas of the JSON API: separate Create, Update and Public shapes.

The field lists are built from ``FAMILY_FIELDS`` / ``MEMBER_FIELDS`` so that
the API, the forms, the import and the export follow one catalogue.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

from tepat.domain.households import FAMILY_FIELDS, MEMBER_FIELDS, FieldSpec, InactiveReason
from tepat.store.schema import MAX_INTEGER

_STATUS_FIELDS = {"registry_status", "inactive_reason"}  # changed through /deactivate, not PATCH


def aware(value: datetime) -> datetime:
    # SQLite hands back UTC moments without their zone: say it (issue 13 point 14), as PostgreSQL does.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


Moment = Annotated[datetime, AfterValidator(aware)]
"""A moment in the API: always with its time zone (``...+00:00``)."""


def _type_of(spec: FieldSpec) -> Any:
    if spec.kind == "int":
        return int
    if spec.kind == "bool":
        return bool
    if spec.kind == "date":
        return date
    if spec.kind == "enum" and spec.choices is not None:
        return spec.choices
    return str


def _field(spec: FieldSpec, *, required: bool) -> tuple[Any, Any]:
    kwargs: dict[str, Any] = {"description": spec.label}
    if spec.max_length:
        kwargs["max_length"] = spec.max_length
    if spec.kind == "int":
        if spec.min_value is not None:
            kwargs["ge"] = spec.min_value
        if spec.max_value is not None:
            kwargs["le"] = spec.max_value
    if spec.kind in ("nik", "kk"):
        kwargs["examples"] = ["3275014107850003"]
    if spec.kind == "region":
        kwargs["examples"] = ["32.76.01.1006"]
    kind = _type_of(spec)
    if required:
        return kind, Field(..., **kwargs)
    return kind | None, Field(None, **kwargs)


def _fields(
    specs: tuple[FieldSpec, ...], *, create: bool, skip: AbstractSet[str] = frozenset()
) -> dict[str, Any]:
    return {s.name: _field(s, required=create and s.required) for s in specs if s.name not in skip}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Public(BaseModel):
    model_config = ConfigDict(extra="ignore")


MemberCreate = create_model(
    "MemberCreate",
    __base__=_Strict,
    __doc__="A new member (anggota keluarga).",
    **_fields(MEMBER_FIELDS, create=True),
)
_MemberChanges = create_model("_MemberChanges", __base__=_Strict, **_fields(MEMBER_FIELDS, create=False))
_FamilyFields = create_model(
    "_FamilyFields", __base__=_Strict, **_fields(FAMILY_FIELDS, create=True, skip=_STATUS_FIELDS)
)
_FamilyChanges = create_model(
    "_FamilyChanges", __base__=_Strict, **_fields(FAMILY_FIELDS, create=False, skip=_STATUS_FIELDS)
)


class FamilyCreate(_FamilyFields):  # type: ignore[misc,valid-type]
    """A new family with its members; ``reason`` is kept in the history."""

    members: list[MemberCreate] = Field(default_factory=list, description="Anggota keluarga")  # type: ignore[valid-type]
    reason: str = Field(
        ..., min_length=3, max_length=200, description="Alasan/sumber data (mis. nomor BA muskel)"
    )


class FamilyUpdate(_FamilyChanges):  # type: ignore[misc,valid-type]
    """Changes to a family: only the fields sent change; ``version`` is the one you read."""

    version: int = Field(
        ..., ge=1, le=MAX_INTEGER, description="Versi data yang Anda baca (deteksi perubahan bersamaan)"
    )
    reason: str = Field(..., min_length=3, max_length=200)


class MemberAdd(MemberCreate):  # type: ignore[misc,valid-type]
    """A member added to an existing family."""

    reason: str = Field(..., min_length=3, max_length=200)


class MemberUpdate(_MemberChanges):  # type: ignore[misc,valid-type]
    """Changes to a member: only the fields sent change."""

    version: int = Field(..., ge=1, le=MAX_INTEGER)
    reason: str = Field(..., min_length=3, max_length=200)


class MemberMove(_Strict):
    """Move a member to another family."""

    to_family_id: int = Field(..., ge=1, le=MAX_INTEGER)
    version: int = Field(..., ge=1, le=MAX_INTEGER)
    reason: str = Field(..., min_length=3, max_length=200)


class Deactivation(_Strict):
    """Switch a family or member off (the record and its history stay)."""

    reason_code: InactiveReason
    version: int = Field(..., ge=1, le=MAX_INTEGER)
    note: str = Field("", max_length=200)


MemberPublic = create_model(
    "MemberPublic",
    __base__=_Public,
    __doc__="A member as the API shows it.",
    id=(int, ...),
    family_id=(int | None, None),
    version=(int, ...),
    age=(int | None, None),
    status=(str | None, None),
    valid_from=(Moment | None, None),
    changed_by=(str | None, None),
    **_fields(MEMBER_FIELDS, create=False),
)

FamilyPublic = create_model(
    "FamilyPublic",
    __base__=_Public,
    __doc__="A family with its members as the API shows it.",
    id=(int, ...),
    version=(int, ...),
    valid_from=(Moment | None, None),
    changed_by=(str | None, None),
    change_reason=(str | None, None),
    kecamatan_code=(str | None, None),
    kelurahan_name=(str | None, None),
    kecamatan_name=(str | None, None),
    members=(list[MemberPublic], []),  # type: ignore[valid-type]
    **_fields(FAMILY_FIELDS, create=False),
)


class FamilySummaryPublic(_Public):
    """One search or list result."""

    id: int
    kk_number: str
    head_name: str | None = None
    kelurahan_code: str
    kelurahan_name: str | None = None
    rw: int | None = None
    rt: int | None = None
    member_count: int = 0
    registry_status: str | None = None
    matched_name: str | None = Field(
        None, description="Pencarian: anggota yang cocok dengan NIK atau nama yang dicari"
    )


class FieldChange(BaseModel):
    field: str
    old: str | None = None
    new: str | None = None


class HistoryEntryPublic(BaseModel):
    """One change in a family's history."""

    at: Moment
    actor: str
    reason: str | None = None
    entity: str
    entity_id: int | None = None
    entity_label: str | None = None
    version: int | None = None
    changes: list[FieldChange] = []


class AreaRow(BaseModel):
    code: str
    name: str
    families: int | None = (
        0  # null: hidden (fewer than TEPAT_MIN_CELL_SIZE families, for roles without personal data)
    )
    members: int | None = 0


class AreaListingPublic(BaseModel):
    """A region and the counts of its children (kecamatan, kelurahan or RW)."""

    region_code: str | None = None
    region_name: str | None = None
    level: str | None = None
    rows: list[AreaRow] = []


class NikCheckPublic(BaseModel):
    """The result of checking a NIK's shape, and whether it is in the registry within your area."""

    nik: str
    valid: bool
    errors: list[str] = []
    warnings: list[str] = []
    sex: str | None = None
    birth_date: date | None = None
    region_code: str | None = None
    registered: bool | None = Field(None, description="Ada anggota aktif dengan NIK ini di wilayah Anda")
    family_id: int | None = None


class Created(BaseModel):
    ok: bool = True
    id: int


class Done(BaseModel):
    ok: bool = True


class Me(BaseModel):
    username: str
    full_name: str
    role: str
    role_label: str
    area_code: str
    area_name: str


class ErrorItem(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    """Every failed call answers this shape."""

    ok: bool = False
    error: str
    errors: list[ErrorItem] = []
