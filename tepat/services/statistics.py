"""Poverty statistics use cases: BPS comparisons, registry indicators, charts, the report (FGT from a survey file is
``tepat.services.survey_estimates``, the poverty line from a basket ``tepat.services.poverty_line``).

Registry indicators are aggregates only: a cell with fewer than
``Settings.min_cell_size`` families (but more than none) is suppressed, and when
exactly one cell of a table would be suppressed the next smallest is suppressed
too, so that no cell can be recovered from the total.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from tepat.charts.bars import ranking_chart
from tepat.charts.export import ReportSection, report_pdf, to_png
from tepat.charts.lines import trend_chart
from tepat.charts.maps import boundaries, boundary_file, choropleth, no_map
from tepat.charts.svg import number
from tepat.config import Settings
from tepat.domain.access import Actor
from tepat.domain.audit_actions import AuditAction
from tepat.domain.disclosure import hidden_cells, shown
from tepat.domain.households import LifeStatus, RegistryStatus, VerificationStatus
from tepat.domain.office import Office
from tepat.domain.rankings import (
    Ranking,
    RegionFigure,
    TrendPoint,
    ordinal_phrase,
    rank_regions,
    trend,
    years,
)
from tepat.domain.regions import Level, level_of
from tepat.errors import NotFound, ValidationError
from tepat.files import bps
from tepat.store import programme_reports
from tepat.store import targeting as targeting_store
from tepat.store.areas import join_on, within
from tepat.store.audit import record
from tepat.store.database import Database
from tepat.store.schema import families, members

BPS_SOURCE = "Sumber: BPS, Maret {year} (diolah tepat); batas wilayah: cahyadsn/wilayah_boundaries (MIT)"
REGISTRY_SOURCE = "Sumber: registri tepat, {agency}, {day}; sel < {k} keluarga disembunyikan"


# ----------------------------------------------------------------- BPS figures


def bps_directory(settings: Settings) -> Path:
    """Where user-imported BPS figures are kept: ``<TEPAT_UPLOAD_DIR>/bps``."""
    return settings.upload_dir / "bps"


def bps_figures(settings: Settings) -> list[RegionFigure]:
    """The shipped BPS figures followed by the user's imports (which win for the same region and year)."""
    return bps.shipped_figures() + bps.read_imported(bps_directory(settings))


def ranking(settings: Settings, office: Office, year: int | None = None) -> Ranking:
    """The kabupaten/kota of the office's province ranked by P0 (the latest year unless ``year`` is given)."""
    province_code = office.province_code
    figures = bps_figures(settings)
    known = years(figures, province_code)
    if not known:
        raise NotFound("Belum ada angka BPS kabupaten/kota untuk provinsi ini.")
    chosen = known[-1] if year is None else year
    if chosen not in known:
        raise NotFound(f"Belum ada angka BPS tahun {chosen}. Tersedia: {', '.join(map(str, known))}.")
    return rank_regions(figures, chosen, province_code)


def ranking_years(settings: Settings, office: Office) -> list[int]:
    """The years a ranking of the office's province can be shown for, oldest first."""
    return years(bps_figures(settings), office.province_code)


def city_trend(settings: Settings, office: Office) -> list[TrendPoint]:
    """The P0 series of the office's kabupaten/kota."""
    return trend(bps_figures(settings), office.code)


@dataclass(frozen=True)
class BpsImportResult:
    rows: int
    years: list[int]
    regions: int
    stored_in: Path


def import_bps(db: Database, actor: Actor, settings: Settings, path: Path) -> BpsImportResult:
    """Add newer BPS figures from a CSV (wide or long layout) to the import store; audit-logged. A region code
    that is not a known province or kabupaten/kota refuses the whole file."""
    figures = bps.read_figures(path)
    unknown = sorted(
        {
            f"{f.code} ({f.name})" if f.name else f.code
            for f in figures
            if db.regions.get(f.code) is None or level_of(f.code) not in (Level.PROVINSI, Level.KABKOTA)
        }
    )
    if unknown:
        shown = ", ".join(unknown[:10]) + (f" dan {len(unknown) - 10} lainnya" if len(unknown) > 10 else "")
        raise ValidationError(
            f"Kode wilayah tidak dikenal sebagai provinsi atau kabupaten/kota: {shown}. "
            "Tidak ada angka yang disimpan."
        )
    directory = bps_directory(settings)
    merged = {(f.code, f.year): f for f in bps.read_imported(directory)}
    merged.update({(f.code, f.year): f for f in figures})
    with db.begin() as conn:
        stored = bps.write_imported(directory, sorted(merged.values(), key=lambda f: (f.year, f.code)))
        record(
            conn,
            actor,
            AuditAction.BPS_POVERTY_IMPORT,
            "bps_kemiskinan",
            None,
            detail={"file": path.name, "rows": len(figures), "years": sorted({f.year for f in figures})},
        )
    return BpsImportResult(
        rows=len(figures),
        years=sorted({f.year for f in figures}),
        regions=len({f.code for f in figures}),
        stored_in=stored,
    )


# ----------------------------------------------------------------- registry indicators


@dataclass(frozen=True)
class AreaIndicator:
    """Registry aggregates of one kecamatan or kelurahan; counts are None when suppressed."""

    code: str
    name: str
    families: int | None
    people: int | None
    not_verified: int | None
    suppressed: bool
    poorest_families: int | None = None  # desil 1–4 in the latest ranking (None before any ranking)
    poorest_people: int | None = None
    # (programme label, units covered this year) per active programme with a frozen cycle; a count under
    # min_cell_size is None, like a suppressed cell
    coverage: tuple[tuple[str, int | None], ...] = ()

    @property
    def poorest_share(self) -> float | None:
        """Percent of active families in desil 1–4 (``None`` when hidden or before any ranking)."""
        if self.families is None or self.poorest_families is None or self.families == 0:
            return None
        return 100.0 * self.poorest_families / self.families

    @property
    def not_verified_share(self) -> float | None:
        """Percent of families not verified in the last two years."""
        if self.families is None or self.not_verified is None or self.families == 0:
            return None
        return 100.0 * self.not_verified / self.families

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "families": self.families,
            "people": self.people,
            "not_verified": self.not_verified,
            "not_verified_share": self.not_verified_share,
            "desil_1_4_families": self.poorest_families,
            "desil_1_4_people": self.poorest_people,
            "programmes": {label: n for label, n in self.coverage},
            "suppressed": self.suppressed,
        }


POOREST_DESIL = 4
"""Desil 1–4: the families social assistance generally targets (docs/targeting.md)."""


def _two_years_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 2)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 2, day=28)


def suppress(cells: list[AreaIndicator], min_cell_size: int) -> list[AreaIndicator]:
    """Hide cells of 1..min_cell_size-1 families, and one more when a single hidden cell could be derived."""

    def hide(cell: AreaIndicator) -> AreaIndicator:
        return replace(
            cell,
            families=None,
            people=None,
            not_verified=None,
            poorest_families=None,
            poorest_people=None,
            coverage=tuple((label, None) for label, _ in cell.coverage),
            suppressed=True,
        )

    small = hidden_cells({c.code: c.families for c in cells}, min_cell_size)
    return [hide(c) if c.code in small else c for c in cells]


def registry_indicators(
    db: Database,
    actor: Actor,
    settings: Settings,
    level: Level = Level.KELURAHAN,
    today: date | None = None,
    coverage_year: int | None = None,
) -> list[AreaIndicator]:
    """Families, people and families not verified in the last two years, per area inside the actor's area, with
    programme coverage in ``coverage_year`` (default: this year)."""
    if level not in (Level.KECAMATAN, Level.KELURAHAN):
        raise ValidationError("Indikator registri tersedia per kecamatan atau per kelurahan.")
    area = (
        actor.area_code
        if actor.area_code and level_of(actor.area_code) is not Level.PROVINSI
        else db.offices.for_area(actor.area_code).code
    )
    if level_of(area) is Level.KELURAHAN and level is Level.KECAMATAN:
        raise ValidationError("Wilayah akun ini satu kelurahan: tampilkan per kelurahan.")
    own_level = level_of(area) is level
    region = db.regions.get(area)
    areas = ([region] if region else []) if own_level else db.regions.descendants(area, level)
    column = families.c.kelurahan_code if level is Level.KELURAHAN else families.c.kecamatan_code
    cutoff = _two_years_before(today or date.today())
    active = families.c.registry_status == RegistryStatus.AKTIF.value
    in_area = within(column, area)
    stale = sa.or_(
        families.c.verification_status != VerificationStatus.TERVERIFIKASI.value,
        families.c.verified_on.is_(None),
        families.c.verified_on < cutoff,
    )
    family_query = (
        sa.select(
            column.label("code"),
            sa.func.count().label("families"),
            sa.func.sum(sa.case((stale, 1), else_=0)).label("not_verified"),
        )
        .where(active, in_area)
        .group_by(column)
    )
    people_query = (
        sa.select(column.label("code"), sa.func.count().label("people"))
        .select_from(members.join(families, join_on(members.c.family_id, families.c.id)))
        .where(
            active,
            in_area,
            members.c.status == RegistryStatus.AKTIF.value,
            members.c.life_status == LifeStatus.HIDUP.value,
        )
        .group_by(column)
    )
    with db.read() as conn:
        counts = {r.code: (int(r.families), int(r.not_verified or 0)) for r in conn.execute(family_query)}
        people = {r.code: int(r.people) for r in conn.execute(people_query)}
        model_id = targeting_store.latest_ranked_model(conn)
        poorest: dict[str, tuple[int, int]] | None = None
        if model_id is not None:
            scores = targeting_store.scores_source(model_id)
            poor = sa.select(scores.c.family_id).where(scores.c.desil <= POOREST_DESIL)
            poorest_families = family_query.with_only_columns(
                column.label("code"), sa.func.count().label("n")
            ).where(families.c.id.in_(poor))
            poorest_people = people_query.with_only_columns(
                column.label("code"), sa.func.count().label("n")
            ).where(families.c.id.in_(poor))
            fam_n = {r.code: int(r.n) for r in conn.execute(poorest_families)}
            poorest = {r.code: (fam_n.get(r.code, 0), int(r.n)) for r in conn.execute(poorest_people)}
            poorest.update({code: (n, 0) for code, n in fam_n.items() if code not in poorest})
    cells = [
        AreaIndicator(
            code=r.code,
            name=r.name,
            families=counts.get(r.code, (0, 0))[0],
            people=people.get(r.code, 0),
            not_verified=counts.get(r.code, (0, 0))[1],
            suppressed=False,
            poorest_families=None if poorest is None else poorest.get(r.code, (0, 0))[0],
            poorest_people=None if poorest is None else poorest.get(r.code, (0, 0))[1],
        )
        for r in sorted(areas, key=lambda r: r.code)
    ]
    year = coverage_year or (today or date.today()).year
    cells = _with_coverage(db, cells, level, area, year, settings.min_cell_size)
    return suppress(cells, settings.min_cell_size)


def _with_coverage(
    db: Database, cells: list[AreaIndicator], level: Level, area: str, year: int, min_cell_size: int
) -> list[AreaIndicator]:
    """Add programme coverage (families or people per active programme this year) to each area's cell."""
    with db.read() as conn:
        rows = programme_reports.coverage_by_area(conn, level.value, area, year)
    labels = {
        r["programme_id"]: f"{r['name']} ({'keluarga' if r['unit'] == 'keluarga' else 'jiwa'})" for r in rows
    }
    order = sorted(labels, key=lambda pid: labels[pid])
    counts = {(r["code"], r["programme_id"]): int(r["units"]) for r in rows}

    return [
        replace(
            c,
            coverage=tuple(
                (labels[pid], shown(counts.get((c.code, pid), 0), min_cell_size)) for pid in order
            ),
        )
        for c in cells
    ]


# ----------------------------------------------------------------- charts and the report

PROVINCE_MAP = "peta-provinsi"
CHARTS = ("peringkat", "tren", PROVINCE_MAP, "peta-kelurahan", "peta-kecamatan", "peta-desil")


def chart_svg(
    name: str,
    db: Database,
    actor: Actor,
    settings: Settings,
    year: int | None = None,
    today: date | None = None,
) -> str:
    """One dashboard chart as SVG: ``peringkat``, ``tren``, ``peta-provinsi``, ``peta-kelurahan`` or ``peta-kecamatan``."""
    office = db.offices.for_area(actor.area_code)
    if name == "peringkat":
        r = ranking(settings, office, year)
        return ranking_chart(r, highlight=office.code, source=BPS_SOURCE.format(year=r.year).split(";")[0])
    if name == "tren":
        return trend_chart(city_trend(settings, office), region_name=office.name)
    if name == PROVINCE_MAP:
        r = ranking(settings, office, year)
        title = f"Persentase penduduk miskin kabupaten/kota di {office.province_name}, {r.year}"
        province_file = boundary_file(office.province_name, "kab_kota")
        if province_file is None:
            return no_map(title, office.province_name)
        return choropleth(
            boundaries(province_file),
            {p.code: p.p0 for p in r.places},
            title=title,
            unit="persen (%) penduduk",
            source=BPS_SOURCE.format(year=r.year),
            legend_title="P0 (%)",
            highlight=office.code,
        )
    if name in ("peta-kelurahan", "peta-kecamatan"):
        level = Level.KELURAHAN if name == "peta-kelurahan" else Level.KECAMATAN
        return _registry_map(
            db,
            actor,
            settings,
            office,
            level,
            today,
            title=f"Keluarga belum diverifikasi dalam 2 tahun terakhir, per {level.value}",
            share=lambda c: c.not_verified_share,
            missing="tanpa data",
        )
    if name == "peta-desil":
        return _registry_map(
            db,
            actor,
            settings,
            office,
            Level.KELURAHAN,
            today,
            title="Keluarga desil 1–4 (40% termiskin menurut peringkat PMT), per kelurahan",
            share=lambda c: c.poorest_share,
            missing="belum diperingkat",
        )
    raise NotFound("Grafik tidak dikenal.")


def _registry_map(
    db: Database,
    actor: Actor,
    settings: Settings,
    office: Office,
    level: Level,
    today: date | None,
    *,
    title: str,
    share: Callable[[AreaIndicator], float | None],
    missing: str,
) -> str:
    """A map of one share of the registry's active families per area of ``level`` (small cells hidden)."""
    area_file = boundary_file(office.name, level.value)
    if area_file is None:
        return no_map(title, office.name)
    cells = registry_indicators(db, actor, settings, level, today)
    day = today or date.today()
    return choropleth(
        boundaries(area_file),
        {c.code: share(c) for c in cells},
        title=title,
        unit="persen keluarga aktif di registri",
        source=REGISTRY_SOURCE.format(
            agency=office.agency, day=day.strftime("%d-%m-%Y"), k=settings.min_cell_size
        ),
        legend_title="Persen keluarga",
        digits=1,
        missing_label=f"Disembunyikan (< {settings.min_cell_size} keluarga) / {missing}",
    )


def chart_png(name: str, db: Database, actor: Actor, settings: Settings, year: int | None = None) -> bytes:
    """One dashboard chart as PNG."""
    return to_png(chart_svg(name, db, actor, settings, year))


def city_place_sentence(r: Ranking, code: str) -> str:
    """'<kabupaten/kota>: 4,01 %, peringkat 3 terendah dari 27 kabupaten/kota di <provinsi> (2024).'"""
    place = r.place_of(code)
    if place is None:
        return f"Belum ada angka {code} tahun {r.year}."
    return f"{place.name}: {number(place.p0)} %, {ordinal_phrase(place, len(r.places))} di {r.province_name.replace('Provinsi ', '')} ({r.year})."


def report(
    db: Database,
    actor: Actor,
    settings: Settings,
    year: int | None = None,
    today: date | None = None,
    on_page: Callable[[int], None] | None = None,
) -> bytes:
    """The PDF report: ranking, trend, both maps and the registry table (aggregates only); ``on_page(n)`` is told
    each page laid out."""
    office = db.offices.for_area(actor.area_code)
    r = ranking(settings, office, year)
    points = city_trend(settings, office)
    cells = registry_indicators(db, actor, settings, Level.KELURAHAN, today)
    day = today or date.today()
    sections = [
        ReportSection(
            "Peringkat kabupaten/kota",
            [city_place_sentence(r, office.code)],
            ranking_chart(r, highlight=office.code),
            ["Peringkat", "Kabupaten/kota", "P0 (%)", "Penduduk miskin (ribu)"],
            [
                [
                    str(p.rank),
                    p.name,
                    number(p.p0),
                    "" if p.poor_thousands is None else number(p.poor_thousands),
                ]
                for p in r.places
            ],
        ),
        ReportSection(
            f"Tren {office.name}",
            [],
            trend_chart(points, region_name=office.name),
            ["Tahun", "P0 (%)", "Perubahan (poin)"],
            [[str(p.year), number(p.p0), "" if p.change is None else number(p.change)] for p in points],
        ),
        ReportSection(
            f"Peta {office.province_name}", [], chart_svg(PROVINCE_MAP, db, actor, settings, r.year)
        ),
        ReportSection(
            "Registri per kelurahan",
            [
                f"Sel dengan kurang dari {settings.min_cell_size} keluarga disembunyikan agar tidak ada keluarga yang dapat dikenali."
            ],
            chart_svg("peta-kelurahan", db, actor, settings, today=today),
            ["Kelurahan", "Keluarga", "Jiwa", "Belum diverifikasi 2 th (%)"],
            [
                [
                    c.name,
                    _count(c.families),
                    _count(c.people),
                    "–" if c.not_verified_share is None else number(c.not_verified_share, 1),
                ]
                for c in cells
            ],
        ),
    ]
    return report_pdf(
        f"Statistik kemiskinan {office.name}",
        f"Disusun oleh tepat pada {day.strftime('%d-%m-%Y')} untuk {actor.full_name or actor.username}",
        sections,
        on_page=on_page,
    )


def _count(value: int | None) -> str:
    return "disembunyikan" if value is None else number(value, 0)
