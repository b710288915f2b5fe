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
    the office holding ``area_code`` — the signed-in user's —, or of the first office), ``region`` (the
    kabupaten/kota), ``code`` and whether a logo is set."""
    try:
        office = db.offices.for_area(area_code) if db is not None else None
    except ConfigError:  # a database without an office yet: pages still render, unnamed
        office = None
    return {
        "name": (settings.office_name if settings else "") or (office.agency if office else ""),
        "short_name": (settings.office_short_name if settings else "")
        or (office.short_agency if office else ""),
        "region": office.name if office else "",
        "code": office.code if office else "",
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
