"""How pages name the office: the names ``tepat init --office`` stored, unless the settings override them."""

from __future__ import annotations

from typing import Any

from tepat.config import Settings
from tepat.domain.access import Actor
from tepat.errors import ConfigError
from tepat.store.database import Database


def office_view(settings: Settings | None, db: Database | None) -> dict[str, Any]:
    """For every page: ``name`` and ``short_name`` (``TEPAT_OFFICE_NAME``/``_SHORT_NAME``, else the office's
    agency names), ``region`` (the kabupaten/kota), ``code`` and whether a logo is set."""
    try:
        office = db.office if db is not None else None
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
    """The region an actor works over: their own area, or the whole office for one bound to no area (the system,
    a national account). The one place pages, lists and searches start from."""
    return actor.area_code or db.office.code
