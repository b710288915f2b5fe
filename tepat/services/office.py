"""How pages name the office: the names ``tepat init --office`` stored, unless the settings override them."""

from __future__ import annotations

from typing import Any

from tepat.config import Settings
from tepat.domain.access import Actor
from tepat.domain.office import Office
from tepat.domain.regions import RegionCode
from tepat.errors import ConfigError, PermissionDenied, ValidationError
from tepat.store.database import Database


def office_view(
    settings: Settings | None, db: Database | None, area_code: str | None = None
) -> dict[str, Any]:
    """For every page: ``name`` and ``short_name`` (``TEPAT_OFFICE_NAME``/``_SHORT_NAME``, else the agency names of
    the office holding ``area_code`` — the signed-in user's —, or, for no one signed in and for an account above the
    offices, the deployment's: the office, or "Dinas Sosial Provinsi …" for a province's several), ``region``,
    ``code`` and whether a logo is set."""
    try:
        offices = db.offices if db is not None else None
    except ConfigError:  # a database without an office yet: pages still render, unnamed
        offices = None
    office = offices.of(area_code) if offices is not None else None
    if office is not None:  # a user inside one office: its names
        agency, short, region, code = office.agency, office.short_agency, office.name, office.code
    elif offices is not None:  # no one signed in, or an account above the offices: the deployment's
        agency, short, region, code = offices.agency, offices.short_agency, offices.region_name, offices.area
    else:
        agency = short = region = code = ""
    return {
        "name": (settings.office_name if settings else "") or agency,
        "short_name": (settings.office_short_name if settings else "") or short,
        "region": region,
        "code": code,
        "logo": settings is not None and settings.office_logo is not None,
    }


def working_area(db: Database, actor: Actor) -> str:
    """The region an actor works over: their own area, or every office the database serves for one bound to no
    area (the system, a national account). The one place pages, lists and searches start from."""
    return actor.area_code or db.offices.area


def requested_area(db: Database, actor: Actor, code: str | None) -> str:
    """A region a user asked for (``--area``, a form field), dotted as the registry writes it (``3275011001`` is
    ``32.75.01.1001``), known, and inside the actor's area; none asked for: the working area. The one check
    every command and service that takes an area makes."""
    raw = (code or "").strip()
    if not raw:
        return working_area(db, actor)
    parsed = RegionCode.parse_or_none(raw)
    area = parsed.code if parsed else raw
    if area not in db.regions:
        raise ValidationError(f"Kode wilayah {area} tidak dikenal.")
    if not actor.in_area(area):
        raise PermissionDenied(f"Wilayah {area} di luar wilayah kerja Anda.")
    return area


def office_for(db: Database, actor: Actor) -> Office:
    """The office whose names an actor's pages, charts and documents carry: the one holding their area (the first
    office for an account above the offices: a province account, the system)."""
    return db.offices.for_area(actor.area_code)
