"""Preparing a database: schema migrations, the region list and the office it serves."""

from __future__ import annotations

from dataclasses import dataclass

from tepat.domain.access import system_actor
from tepat.domain.office import Office
from tepat.domain.regions import Level, is_region_code, parent_of
from tepat.errors import ValidationError
from tepat.files.reference import read_regions
from tepat.services.programmes import seed_catalogue
from tepat.store import citus
from tepat.store import offices as office_store
from tepat.store import regions as region_store
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.migrate import Progress, upgrade


@dataclass(frozen=True)
class InitResult:
    regions_loaded: int
    regions_total: int
    programmes_added: tuple[str, ...] = ()
    offices: tuple[Office, ...] = ()  # every office served, in the order chosen
    added_office: Office | None = None  # the one ``--office`` named this time
    # Tables spread over a Citus cluster this time (only where the extension is installed)
    distributed: tuple[str, ...] = ()

    @property
    def office(self) -> Office | None:
        """The first office chosen (the one of a single-office database)."""
        return self.offices[0] if self.offices else None


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
    db: Database,
    *,
    office: str | None = None,
    seed_programmes: bool = False,
    progress: Progress | None = None,
    **names: str,
) -> InitResult:
    """Create or upgrade the schema, load the Kepmendagri 2025 region codes and, with ``office``, choose a
    kabupaten/kota the database serves (``names``: ``agency``, ``short_agency``, ``address``): the first makes a
    city's database, each further one adds an office to a province's. Safe to run again (naming an office again
    updates its names).

    ``seed_programmes`` also adds the seed's programme catalogue where it is missing
    (off by default so that test databases start with an empty catalogue). ``progress`` hears the migrations as
    they run (``tepat.store.migrate.upgrade``).
    """
    upgrade(db.engine, progress=progress)
    with db.begin() as conn:
        loaded = region_store.replace_all(conn, read_regions())
        total = region_store.count(conn)
    db.forget_regions()
    chosen = None
    if office is not None:
        chosen = office_of_region(db, office, **names)
        with db.begin() as conn:
            office_store.choose(conn, chosen, now())
        db.forget_office()
    with db.read() as conn:
        served = tuple(office_store.chosen(conn))
    added: tuple[str, ...] = ()
    if seed_programmes and served:  # each office's own catalogue, named after it
        added = tuple(code for o in served for code in seed_catalogue(db, system_actor(), office=o.code))
    with db.begin() as conn:  # a Citus cluster's coordinator: its tables distributed by office, once
        distributed = tuple(citus.distribute(conn))
    return InitResult(
        regions_loaded=loaded,
        regions_total=total,
        programmes_added=added,
        offices=served,
        added_office=chosen,
        distributed=distributed,
    )
