"""Statistik: the poverty dashboard (ranking, trend, maps, registry aggregates) and its downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from tepat.config import Settings
from tepat.domain.access import Actor, Role
from tepat.domain.regions import Level
from tepat.errors import NotFound, PermissionDenied, TepatError
from tepat.services import statistics
from tepat.store.database import Database
from tepat.web.deps import current_actor, get_db
from tepat.web.templating import templates

router = APIRouter(prefix="/statistik")
DB = Annotated[Database, Depends(get_db)]
Who = Annotated[Actor, Depends(current_actor)]
Year = Annotated[int | None, Query(ge=1990, le=2100)]
MAX_BPS_UPLOAD = 2 * 1024 * 1024


def _settings(request: Request) -> Settings:
    found = getattr(request.app.state, "settings", None)
    return found if isinstance(found, Settings) else Settings.from_env()


@router.get("")
def dashboard(request: Request, db: DB, actor: Who, tahun: Year = None) -> Response:
    """The dashboard: Kota Bekasi's place in Jawa Barat, its trend, both maps and the registry table."""
    request.state.actor = actor
    settings = _settings(request)
    ranking = statistics.ranking(settings, tahun)
    cells = statistics.registry_indicators(db, actor, settings, Level.KELURAHAN)
    charts = {
        name: statistics.chart_svg(name, db, actor, settings, ranking.year)
        for name in ("peringkat", "tren", "peta-jawa-barat", "peta-kelurahan", "peta-desil")
    }
    return templates.TemplateResponse(
        request,
        "statistics/dashboard.html",
        {
            "title": "Statistik kemiskinan",
            "ranking": ranking,
            "years": statistics.ranking_years(settings),
            "place_sentence": statistics.city_place_sentence(ranking),
            "trend": statistics.city_trend(settings),
            "cells": cells,
            "charts": charts,
            "min_cell_size": settings.min_cell_size,
            "can_import": actor.role is Role.ADMIN,
            "imported": request.query_params.get("impor"),
        },
    )


@router.get("/peringkat.json")
def ranking_json(request: Request, actor: Who, tahun: Year = None) -> dict[str, object]:
    """The ranking as JSON (BPS published figures, no personal data)."""
    return statistics.ranking(_settings(request), tahun).as_dict()


@router.get("/grafik/{name}.{fmt}")
def chart(request: Request, name: str, fmt: str, db: DB, actor: Who, tahun: Year = None) -> Response:
    """One chart as a download: SVG or PNG."""
    if name not in statistics.CHARTS or fmt not in ("svg", "png"):
        raise NotFound("Grafik tidak ditemukan.")
    settings = _settings(request)
    svg = statistics.chart_svg(name, db, actor, settings, tahun)
    headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "svg":
        return Response(svg, media_type="image/svg+xml", headers=headers)
    from tepat.charts.export import to_png

    return Response(to_png(svg), media_type="image/png", headers=headers)


@router.get("/laporan.pdf")
def report(request: Request, db: DB, actor: Who, tahun: Year = None) -> Response:
    """The PDF report of the dashboard."""
    pdf = statistics.report(db, actor, _settings(request), tahun)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="statistik-kemiskinan.pdf"'},
    )


@router.post("/impor-bps")
async def import_bps(request: Request, db: DB, actor: Who, berkas: Annotated[UploadFile, File()]) -> Response:
    """Admin uploads newer BPS figures (CSV); the dashboard then offers the new year."""
    if actor.role is not Role.ADMIN:
        raise PermissionDenied("Hanya Admin Dinsos yang boleh mengimpor angka BPS.")
    content = await berkas.read(MAX_BPS_UPLOAD + 1)
    if len(content) > MAX_BPS_UPLOAD:
        raise TepatError("Berkas BPS terlalu besar (maksimal 2 MB).")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bps.csv"
        path.write_bytes(content)
        result = await run_in_threadpool(statistics.import_bps, db, actor, _settings(request), path)
    return RedirectResponse(f"/statistik?impor={result.rows}", status_code=303)
