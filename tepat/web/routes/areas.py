"""Beranda, search and browsing the area: kecamatan → kelurahan → RW → families."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from tepat.domain.access import Actor
from tepat.domain.regions import Level, level_of
from tepat.errors import NotFound, ValidationError
from tepat.services import registry_reads, todo
from tepat.services.office import working_area
from tepat.store.database import Database
from tepat.web.deps import DB, PersonalReader, Staff
from tepat.web.templating import templates

router = APIRouter()
PER_PAGE = 50


def _crumbs(db: Database, actor: Actor, code: str) -> list[tuple[str, str]]:
    """Links from the top of the actor's view down to ``code``."""
    parts = code.split(".")
    out = []
    for i in range(2, len(parts) + 1):
        c = ".".join(parts[:i])
        if actor.in_area(c) or c == actor.area_code or actor.area_code.startswith(c + "."):
            out.append((c, db.regions.name(c)))
    return out


def _min_cell(request: Request) -> int:
    return int(request.app.state.settings.min_cell_size)


@router.get("/")
def home(request: Request, db: DB, actor: Staff) -> Response:
    """Beranda: counts for the user's area."""
    listing = registry_reads.browse_area(db, actor, actor.area_code or None, min_cell_size=_min_cell(request))
    return templates.page(
        request,
        "home.html",
        {
            "title": "Beranda",
            "listing": listing,
            "families": listing.families,
            "members": listing.members,
            "tasks": todo.tasks_for(db, actor),
        },
    )


@router.get("/cari")
def search(
    request: Request,
    db: DB,
    actor: PersonalReader,
    q: Annotated[str, Query(max_length=120)] = "",
    hal: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> Response:
    """Search families by NIK, KK or name (every word) inside the user's area, a page at a time."""
    results, message = None, ""
    if q.strip():
        try:
            results = registry_reads.search_families(db, actor, q, limit=PER_PAGE, page=hal)
        except ValidationError as exc:
            message = exc.message
    return templates.page(
        request,
        "search.html",
        {
            "title": "Cari keluarga",
            "q": q,
            "results": results,
            "message": message,
            "page": hal,
            "has_next": results is not None and len(results) == PER_PAGE,
            "first": (hal - 1) * PER_PAGE,
        },
        status_code=422 if message else 200,
    )


@router.get("/wilayah")
def browse_top(request: Request, db: DB, actor: Staff) -> Response:
    """The user's own area."""
    return browse(request, working_area(db, actor), db, actor)


@router.get("/wilayah/{code}")
def browse(request: Request, code: str, db: DB, actor: Staff) -> Response:
    """A region's children with counts (a kelurahan lists its RWs)."""
    listing = registry_reads.browse_area(db, actor, code, min_cell_size=_min_cell(request))
    return templates.page(
        request,
        "browse.html",
        {
            "title": listing.region_name,
            "listing": listing,
            "crumbs": _crumbs(db, actor, listing.region_code),
            "is_kelurahan": listing.level == Level.KELURAHAN.value,
        },
    )


@router.get("/wilayah/{code}/keluarga")
def families_in(
    request: Request,
    code: str,
    db: DB,
    actor: PersonalReader,
    rw: Annotated[int | None, Query(ge=1, le=999)] = None,
    hal: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> Response:
    """One page of the families of a kelurahan (or one RW of it)."""
    try:
        if level_of(code) is not Level.KELURAHAN:
            raise NotFound("Wilayah tidak ditemukan")
    except ValueError:
        raise NotFound("Wilayah tidak ditemukan") from None
    rows = registry_reads.list_families(db, actor, code, rw=rw, page=hal, per_page=PER_PAGE)
    return templates.page(
        request,
        "family_list.html",
        {
            "title": f"Keluarga di {db.regions.name(code)}",
            "code": code,
            "rw": rw,
            "page": hal,
            "rows": rows,
            "has_next": len(rows) == PER_PAGE,
            "crumbs": _crumbs(db, actor, code),
        },
    )
