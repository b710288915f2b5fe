"""Statistik: the poverty dashboard (ranking, trend, maps, registry aggregates) and its downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from tepat.config import Settings
from tepat.domain.access import Actor, Permission
from tepat.domain.formatting import local_today
from tepat.domain.office import Office
from tepat.domain.poverty_line import KCAL_PER_DAY
from tepat.domain.programmes import rupiah_amount
from tepat.domain.regions import Level, level_of
from tepat.errors import FieldError, NotFound, TepatError, ValidationError
from tepat.services import poverty_line, statistics
from tepat.services.documents import Document
from tepat.services.office import office_for
from tepat.store.database import Database
from tepat.web.deps import DB, Staff
from tepat.web.forms import saved_table
from tepat.web.printing import print_in_background
from tepat.web.templating import templates

router = APIRouter(prefix="/statistik")
Year = Annotated[int | None, Query(ge=1990, le=2100)]
MAX_BPS_UPLOAD = 2 * 1024 * 1024


def _settings(request: Request) -> Settings:
    found = getattr(request.app.state, "settings", None)
    return found if isinstance(found, Settings) else Settings.from_env()


LEVELS = {"kelurahan": Level.KELURAHAN, "kecamatan": Level.KECAMATAN}


@router.get("")
def dashboard(
    request: Request,
    db: DB,
    actor: Staff,
    tahun: Year = None,
    tingkat: str = "kelurahan",
    tahun_program: Year = None,
    kantor: str = "",
) -> Response:
    """The dashboard: the office's place in its province, its trend, the maps and the registry table by kelurahan or
    kecamatan (``tingkat``), with programme coverage in the year asked (``tahun_program``, default this year). An
    account over several offices (a province's) chooses the office (``kantor``)."""
    request.state.actor = actor
    choices = _offices_seen(db, actor)
    actor = _viewer(db, actor, kantor)
    settings = _settings(request)
    office = office_for(db, actor)
    ranking = statistics.ranking(settings, office, tahun)
    level = LEVELS.get(tingkat, Level.KELURAHAN)
    one_kelurahan = bool(actor.area_code) and level_of(actor.area_code) is Level.KELURAHAN
    if one_kelurahan:
        level = Level.KELURAHAN  # a kelurahan account has no kecamatan table
    this_year = local_today().year
    coverage_year = tahun_program or this_year
    cells = statistics.registry_indicators(db, actor, settings, level, coverage_year=coverage_year)
    area_map = "peta-kecamatan" if level is Level.KECAMATAN else "peta-kelurahan"
    charts = {
        name: statistics.chart_svg(name, db, actor, settings, ranking.year)
        for name in ("peringkat", "tren", "peta-provinsi", area_map, "peta-desil")
    }
    return templates.page(
        request,
        "statistics/dashboard.html",
        {
            "title": "Statistik kemiskinan",
            "ranking": ranking,
            "years": statistics.ranking_years(settings, office),
            "place_sentence": statistics.city_place_sentence(ranking, office.code),
            "trend": statistics.city_trend(settings, office),
            "office_code": office.code,
            "office_name": office.name,
            "cells": cells,
            "charts": charts,
            "min_cell_size": settings.min_cell_size,
            "can_import": actor.may(Permission.IMPORT_BPS),
            "level": level.value,
            "levels": [] if one_kelurahan else list(LEVELS),
            "coverage_year": coverage_year,
            "coverage_years": list(range(this_year + 1, this_year - 6, -1)),
            "imported": request.query_params.get("impor"),
            "offices": choices if len(choices) > 1 else [],
            "kantor": office.code if len(choices) > 1 else "",
        },
    )


def _offices_seen(db: Database, actor: Actor) -> list[Office]:
    """The offices whose statistics this account may open (one, or a province's several)."""
    return [o for o in db.offices.all if actor.in_area(o.code)] or [office_for(db, actor)]


def _viewer(db: Database, actor: Actor, kantor: str) -> Actor:
    """The account narrowed to the office asked for (``kantor``), which must be one it sees; itself otherwise."""
    if not kantor:
        return actor
    if kantor not in db.offices.codes:
        raise NotFound("Kantor tidak dilayani di sini.")
    return actor.narrowed(kantor)


@router.get("/peringkat")
def ranking_json(
    request: Request, db: DB, actor: Staff, tahun: Year = None, kantor: str = ""
) -> dict[str, object]:
    """The ranking as JSON (BPS published figures, no personal data), linked as ``/statistik/peringkat.json`` like
    every page's JSON twin (``web.json_twin``)."""
    return statistics.ranking(_settings(request), office_for(db, _viewer(db, actor, kantor)), tahun).as_dict()


@router.get("/grafik/{name}.{fmt}")
def chart(
    request: Request, name: str, fmt: str, db: DB, actor: Staff, tahun: Year = None, kantor: str = ""
) -> Response:
    """One chart as a download: SVG or PNG."""
    if name not in statistics.CHARTS or fmt not in ("svg", "png"):
        raise NotFound("Grafik tidak ditemukan.")
    actor = _viewer(db, actor, kantor)
    settings = _settings(request)
    svg = statistics.chart_svg(name, db, actor, settings, tahun)
    headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "svg":
        return Response(svg, media_type="image/svg+xml", headers=headers)
    from tepat.charts.export import to_png

    return Response(to_png(svg), media_type="image/png", headers=headers)


@router.post("/laporan.pdf")
def report(request: Request, db: DB, actor: Staff, tahun: Year = None, kantor: str = "") -> Response:
    """The PDF report of the dashboard, laid out in the background (its maps take a while); the page that follows
    it offers the download."""
    settings = _settings(request)
    viewer = _viewer(db, actor, kantor)
    statistics.ranking(
        settings, office_for(db, viewer), tahun
    )  # an unknown year answers now, not later in the job
    return print_in_background(
        request,
        actor,
        "Laporan statistik kemiskinan (PDF)",
        lambda on_page: Document(
            "statistik-kemiskinan.pdf",
            statistics.report(db, viewer, settings, tahun, on_page=on_page),
            "application/pdf",
        ),
    )


MAX_BASKET_UPLOAD = 1024 * 1024


def _share(raw: str) -> float | None:
    """A percentage typed as people type it (``26``, ``26,5``, ``26.5 %``) as a share 0–1; ``None`` when empty."""
    text = raw.strip().rstrip("%").strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text) / 100
    except ValueError:
        raise ValidationError(
            "Porsi non-makanan harus berupa persen, mis. 26 atau 26,5.",
            [FieldError("porsi_non_makanan", "bukan persen", raw)],
        ) from None


def _line_page(request: Request, context: dict[str, object], status_code: int = 200) -> Response:
    return templates.page(
        request,
        "statistics/poverty_line.html",
        {
            "title": "Garis kemiskinan dari paket komoditas",
            "report": None,
            "message": "",
            "values": {"porsi_non_makanan": "", "non_makanan": "", "kalori": str(KCAL_PER_DAY)},
            **context,
        },
        status_code=status_code,
    )


@router.get("/garis-kemiskinan")
def poverty_line_form(request: Request, actor: Staff) -> Response:
    """The form: a food basket file and the non-food part."""
    return _line_page(request, {})


@router.post("/garis-kemiskinan")
async def poverty_line_compute(request: Request, actor: Staff) -> Response:
    """GK from the uploaded basket: the food line with each commodity scaled and valued, the non-food line, GK."""
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("porsi_non_makanan", "non_makanan", "kalori")}
    sent = form.get("berkas")
    try:
        share = _share(values["porsi_non_makanan"])
        non_food = rupiah_amount(values["non_makanan"]) if values["non_makanan"].strip() else None
        if values["non_makanan"].strip() and non_food is None:
            raise ValidationError("Garis non-makanan harus berupa rupiah, mis. Rp 200.000.")
        kcal = rupiah_amount(values["kalori"]) if values["kalori"].strip() else KCAL_PER_DAY  # "2.100" = 2100
        if not kcal:
            raise ValidationError(
                "Norma kalori harus bilangan bulat, mis. 2.100.",
                [FieldError("kalori", "bukan bilangan", values["kalori"])],
            )
        with tempfile.TemporaryDirectory() as folder:
            path = await saved_table(
                sent, Path(folder), what="Berkas paket komoditas", max_bytes=MAX_BASKET_UPLOAD
            )
            if path is None:
                raise ValidationError("Pilih berkas paket komoditas (CSV, XLSX atau Parquet).")
            report = poverty_line.poverty_line_from_basket(
                path, non_food_share=share, non_food=non_food, kcal_per_day=kcal
            )
    except ValidationError as exc:
        return _line_page(request, {"message": exc.message, "errors": exc.errors, "values": values}, 422)
    return _line_page(
        request, {"report": report, "values": values, "file_name": getattr(sent, "filename", "")}
    )


@router.post("/impor-bps")
async def import_bps(
    request: Request, db: DB, actor: Staff, berkas: Annotated[UploadFile, File()]
) -> Response:
    """Admin uploads newer BPS figures (CSV); the dashboard then offers the new year."""
    actor.require(Permission.IMPORT_BPS)
    content = await berkas.read(MAX_BPS_UPLOAD + 1)
    if len(content) > MAX_BPS_UPLOAD:
        raise TepatError("Berkas BPS terlalu besar (maksimal 2 MB).")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bps.csv"
        path.write_bytes(content)
        result = await run_in_threadpool(statistics.import_bps, db, actor, _settings(request), path)
    return RedirectResponse(f"/statistik?impor={result.rows}", status_code=303)
