"""Registry endpoints of the JSON API, over the same services and area rules as the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel

from tepat.api import schemas
from tepat.api.deps import get_db, token_actor
from tepat.domain.access import Actor
from tepat.domain.nik import check_nik
from tepat.errors import NotFound
from tepat.services import registry, registry_history, registry_reads
from tepat.store.database import Database
from tepat.store.schema import MAX_INTEGER

DB = Annotated[Database, Depends(get_db)]
Who = Annotated[Actor, Depends(token_actor)]
FamilyId = Annotated[int, Path(ge=1, le=MAX_INTEGER, description="ID keluarga")]
MemberId = Annotated[int, Path(ge=1, le=MAX_INTEGER, description="ID anggota")]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": schemas.ErrorBody, "description": text}
    for code, text in {
        401: "Token tidak ada atau tidak sah",
        403: "Peran tidak diizinkan",
        404: "Tidak ditemukan (atau di luar wilayah Anda)",
        422: "Isian tidak valid",
    }.items()
}
_WRITE_ERRORS = {
    **_ERRORS,
    409: {"model": schemas.ErrorBody, "description": "Data sudah diubah orang lain (versi lama)"},
}

router = APIRouter(responses=_ERRORS)


_ALWAYS_STORED = frozenset({"verification_status", "life_status"})  # null means "keep", not "clear"


def _payload(model: Any, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    data = model.model_dump(exclude_unset=True, mode="json")
    for key in drop:
        data.pop(key, None)
    return {k: v for k, v in data.items() if v is not None or k not in _ALWAYS_STORED}


def _family_public(view: registry_reads.FamilyView) -> dict[str, Any]:
    return {
        **view.family,
        "kelurahan_name": view.kelurahan_name,
        "kecamatan_name": view.kecamatan_name,
        "members": view.members,
    }


@router.get("/me", response_model=schemas.Me, tags=["akun"], summary="Akun pemilik token")
def me(actor: Who, db: DB) -> dict[str, Any]:
    """The account behind the token: role and area."""
    return {
        "username": actor.username,
        "full_name": actor.full_name,
        "role": actor.role.value,
        "role_label": actor.role.label,
        "area_code": actor.area_code,
        "area_name": db.regions.name(actor.area_code),
    }


@router.get(
    "/areas", response_model=schemas.AreaListingPublic, tags=["wilayah"], summary="Jumlah per wilayah"
)
def areas(
    request: Request,
    actor: Who,
    db: DB,
    code: Annotated[str | None, Query(description="Kode wilayah; kosong = wilayah Anda")] = None,
) -> Any:
    """Counts of active families and members for the children of a region in your area."""
    listing = registry_reads.browse_area(
        db, actor, code, min_cell_size=request.app.state.settings.min_cell_size
    )
    return {
        "region_code": listing.region_code,
        "region_name": listing.region_name,
        "level": listing.level,
        "rows": [{**r, "code": str(r["code"])} for r in listing.rows],
    }


@router.get(
    "/families", response_model=list[schemas.FamilySummaryPublic], tags=["keluarga"], summary="Cari keluarga"
)
def search(
    actor: Who,
    db: DB,
    q: Annotated[str | None, Query(description="NIK, nomor KK, atau bagian nama (min. 3 huruf)")] = None,
    kelurahan: Annotated[str | None, Query(description="Daftar keluarga satu kelurahan")] = None,
    rw: Annotated[int | None, Query(ge=1, le=999)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """Search by NIK, KK or name, or list one kelurahan (optionally one RW), within your area."""
    if kelurahan:
        return registry_reads.list_families(db, actor, kelurahan, rw=rw, page=page, per_page=limit)
    return registry_reads.search_families(db, actor, q or "", limit=limit, page=page)


@router.post(
    "/families",
    response_model=schemas.Created,
    status_code=201,
    tags=["keluarga"],
    responses=_WRITE_ERRORS,
    summary="Daftarkan keluarga baru",
)
def create_family(body: schemas.FamilyCreate, actor: Who, db: DB) -> Any:
    """Register a family with its members."""
    # (the member model is made by create_model from the field catalogue: a BaseModel mypy cannot see into)
    members = [cast(BaseModel, m).model_dump(exclude_unset=True, mode="json") for m in body.members]
    family_id = registry.create_family(
        db, actor, _payload(body, drop=("members", "reason")), members, reason=body.reason
    )
    return {"ok": True, "id": family_id}


@router.get(
    "/families/{family_id}", response_model=schemas.FamilyPublic, tags=["keluarga"], summary="Data keluarga"
)
def get_family(
    family_id: FamilyId,
    actor: Who,
    db: DB,
    as_of: Annotated[
        datetime | None, Query(description="Tampilkan data seperti pada waktu ini (ISO 8601)")
    ] = None,
) -> Any:
    """A family and its members, now or as they were at ``as_of``."""
    return _family_public(registry_reads.get_family(db, actor, family_id, as_of=as_of))


@router.patch(
    "/families/{family_id}",
    response_model=schemas.Done,
    tags=["keluarga"],
    responses=_WRITE_ERRORS,
    summary="Ubah data keluarga",
)
def update_family(family_id: FamilyId, body: schemas.FamilyUpdate, actor: Who, db: DB) -> Any:
    """Change the fields sent; 409 when ``version`` is not the current one."""
    registry.update_family(
        db,
        actor,
        family_id,
        _payload(body, drop=("version", "reason")),
        expected_version=body.version,
        reason=body.reason,
    )
    return {"ok": True}


@router.post(
    "/families/{family_id}/deactivate",
    response_model=schemas.Done,
    tags=["keluarga"],
    responses=_WRITE_ERRORS,
    summary="Nonaktifkan keluarga",
)
def deactivate_family(family_id: FamilyId, body: schemas.Deactivation, actor: Who, db: DB) -> Any:
    """Mark a family nonaktif with a reason (its history stays)."""
    registry.deactivate_family(
        db, actor, family_id, body.reason_code.value, expected_version=body.version, note=body.note
    )
    return {"ok": True}


@router.get(
    "/families/{family_id}/history",
    response_model=list[schemas.HistoryEntryPublic],
    tags=["keluarga"],
    summary="Riwayat perubahan",
)
def history(family_id: FamilyId, actor: Who, db: DB) -> Any:
    """Every change to the family and its members, newest first."""
    return [
        {
            "at": e.at,
            "actor": e.actor,
            "reason": e.reason,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "entity_label": e.entity_label,
            "version": e.version,
            "changes": [{"field": f, "old": _text(o), "new": _text(n)} for f, o, n in e.changes],
        }
        for e in registry_history.family_history(db, actor, family_id)
    ]


@router.post(
    "/families/{family_id}/members",
    response_model=schemas.Created,
    status_code=201,
    tags=["anggota"],
    responses=_WRITE_ERRORS,
    summary="Tambah anggota",
)
def add_member(family_id: FamilyId, body: schemas.MemberAdd, actor: Who, db: DB) -> Any:
    """Add a person to a family."""
    member_id = registry.add_member(
        db, actor, family_id, _payload(body, drop=("reason",)), reason=body.reason
    )
    return {"ok": True, "id": member_id}


@router.patch(
    "/members/{member_id}",
    response_model=schemas.Done,
    tags=["anggota"],
    responses=_WRITE_ERRORS,
    summary="Ubah data anggota",
)
def update_member(member_id: MemberId, body: schemas.MemberUpdate, actor: Who, db: DB) -> Any:
    """Change the fields sent; 409 when ``version`` is not the current one."""
    registry.update_member(
        db,
        actor,
        member_id,
        _payload(body, drop=("version", "reason")),
        expected_version=body.version,
        reason=body.reason,
    )
    return {"ok": True}


@router.post(
    "/members/{member_id}/move",
    response_model=schemas.Done,
    tags=["anggota"],
    responses=_WRITE_ERRORS,
    summary="Pindahkan anggota ke keluarga lain",
)
def move_member(member_id: MemberId, body: schemas.MemberMove, actor: Who, db: DB) -> Any:
    """Move a person to another family in your area."""
    registry.move_member(
        db, actor, member_id, body.to_family_id, expected_version=body.version, reason=body.reason
    )
    return {"ok": True}


@router.post(
    "/members/{member_id}/deactivate",
    response_model=schemas.Done,
    tags=["anggota"],
    responses=_WRITE_ERRORS,
    summary="Nonaktifkan anggota",
)
def deactivate_member(member_id: MemberId, body: schemas.Deactivation, actor: Who, db: DB) -> Any:
    """Mark a member nonaktif with a reason."""
    registry.deactivate_member(
        db, actor, member_id, body.reason_code.value, expected_version=body.version, note=body.note
    )
    return {"ok": True}


@router.get("/nik/{nik}", response_model=schemas.NikCheckPublic, tags=["NIK"], summary="Periksa NIK")
def nik(nik: Annotated[str, Path(max_length=40)], actor: Who, db: DB) -> Any:
    """Check a NIK's shape (date, serial, region) and whether it is an active member in your area."""
    result = check_nik(nik, known_regions=db.regions.kecamatan_codes())
    out: dict[str, Any] = {
        "nik": result.value,
        "valid": result.valid,
        "errors": list(result.errors),
        "warnings": list(result.warnings),
        "sex": result.sex,
        "birth_date": result.birth_date,
        "region_code": result.region_code,
    }
    if result.valid and actor.sees_personal_data:
        try:
            found = registry_reads.find_by_nik(db, actor, result.value)
        except NotFound:
            out["registered"] = False
        else:
            out["registered"], out["family_id"] = True, found.family["id"]
    return out


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return schemas.aware(value).isoformat()
    return str(value.isoformat() if hasattr(value, "isoformat") else value)
