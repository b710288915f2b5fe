"""A family (keluarga) and a member (anggota) as the registry stores them: the typed read models that the store
returns and the services, pages, CLI and API read.

Each is a ``TypedDict``: a plain dict at run time (a row is handed on without copying, JSON-ready through
``tepat.domain.json_values``), checked by mypy wherever a field is read. Their fields are the ``families`` and
``members`` columns, name for name and type for type (tests/test_read_models.py holds them equal to the
schema, so a new column is added here too). The coded values (``registry_status``, ``relationship``, …) are the
codes of the ``StrEnum`` vocabularies in ``tepat.domain.households``, which compare equal to them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TypedDict


class Versioned(TypedDict):
    """What every registry row carries: its version, since when, by whom and why (and the import that wrote it), and
    the office it belongs to."""

    version: int
    valid_from: datetime
    changed_by: str
    change_reason: str
    import_id: int | None
    office_code: str


class Family(Versioned):
    """One row of ``families``: the KK, its address down to RT/RW, housing, assets and registry state."""

    id: int
    kk_number: str
    kelurahan_code: str
    kecamatan_code: str
    rw: int
    rt: int
    address: str | None
    tenure: str | None
    floor_area_m2: int | None
    floor_material: str | None
    wall_material: str | None
    roof_material: str | None
    water_source: str | None
    lighting: str | None
    power_va: str | None
    cooking_fuel: str | None
    toilet: str | None
    septic: str | None
    asset_gas_cylinder: bool | None
    asset_refrigerator: bool | None
    asset_ac: bool | None
    asset_water_heater: bool | None
    asset_landline: bool | None
    asset_tv: bool | None
    asset_gold: bool | None
    asset_computer: bool | None
    asset_bicycle: bool | None
    asset_motorcycle: bool | None
    asset_car: bool | None
    asset_boat: bool | None
    asset_land: bool | None
    asset_other_house: bool | None
    asset_livestock: bool | None
    registry_status: str
    inactive_reason: str | None
    verification_status: str
    verified_on: date | None


class Member(Versioned):
    """One row of ``members``: a person (NIK) of a family, their individual indicators and registry state."""

    id: int
    family_id: int
    nik: str
    name: str
    sex: str
    birth_place: str | None
    birth_date: date
    relationship: str
    marital_status: str | None
    education: str | None
    school_participation: str | None
    work_status: str | None
    disability: str | None
    chronic_illness: str | None
    pregnant: bool | None
    life_status: str
    death_date: date | None
    status: str
    inactive_reason: str | None
