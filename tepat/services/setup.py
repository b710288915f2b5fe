"""Preparing a database: schema migrations, the region list and the office it serves."""

from __future__ import annotations

from dataclasses import dataclass

from tepat.domain.access import system_actor
from tepat.domain.office import Office
from tepat.domain.regions import Level, is_region_code, parent_of
from tepat.errors import ValidationError
from tepat.files.reference import read_regions
from tepat.services.programmes import seed_catalogue
from tepat.store import offices as office_store
from tepat.store import regions as region_store
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.migrate import upgrade


@dataclass(frozen=True)
class InitResult:
    regions_loaded: int
    regions_total: int
    programmes_added: tuple[str, ...] = ()
    office: Office | None = None


def office_of_region(
    db: Database, code: str, *, agency: str = "", short_agency: str = "", address: str = ""
) -> Office:
    """The office of kabupaten/kota ``code``, named as the Kepmendagri list names it."""
    code = code.strip()
    region = db.regions.get(code) if is_region_code(code) else None
    if region is None or region.level is not Level.KABKOTA:
        raise ValidationError(
            f"Kode kantor harus kode kabupaten/kota Kepmendagri 2025, bukan {code!r} "
            "(mis. kode dua bagian seperti 32.01)."
        )
    province = db.regions.name(parent_of(code) or code)
    return Office(
        code=code,
        name=region.name,
        province_name=province,
        agency=agency.strip(),
        short_agency=short_agency.strip(),
        address=address.strip(),
    )


def init_database(
    db: Database, *, office: str | None = None, seed_programmes: bool = False, **names: str
) -> InitResult:
    """Create or upgrade the schema, load the Kepmendagri 2025 region codes and, with ``office``, choose the
    kabupaten/kota the database serves (``names``: ``agency``, ``short_agency``, ``address``). Safe to run again.

    ``seed_programmes`` also adds the seed's programme catalogue where it is missing
    (off by default so that test databases start with an empty catalogue).
    """
    upgrade(db.engine)
    with db.begin() as conn:
        loaded = region_store.replace_all(conn, read_regions())
        total = region_store.count(conn)
    db.forget_regions()
    if office is not None:
        chosen = office_of_region(db, office, **names)
        with db.begin() as conn:
            office_store.choose(conn, chosen, now())
        db.forget_office()
    with db.read() as conn:
        current = office_store.current(conn)
    added: tuple[str, ...] = ()
    if seed_programmes and current is not None:
        added = tuple(seed_catalogue(db, system_actor()))
    return InitResult(regions_loaded=loaded, regions_total=total, programmes_added=added, office=current)
