"""Member pages: add, edit, move to another family, deactivate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from tepat.domain.access import Actor
from tepat.domain.households import InactiveReason, RegistryStatus
from tepat.domain.nik import Kk
from tepat.errors import ConflictError, FieldError, NotFound, ValidationError
from tepat.services import registry, registry_reads
from tepat.store.database import Database
from tepat.web import forms
from tepat.web.deps import editor_actor, get_db
from tepat.web.templating import templates

router = APIRouter()
DB = Annotated[Database, Depends(get_db)]
Editor = Annotated[Actor, Depends(editor_actor)]


def _member(
    db: Database, actor: Actor, family_id: int, member_id: int
) -> tuple[registry_reads.FamilyView, dict[str, Any]]:
    view = registry_reads.get_family(db, actor, family_id)
    for m in view.members:
        if m["id"] == member_id:
            return view, m
    raise NotFound("Anggota tidak ditemukan")


def _form(
    request: Request,
    view: registry_reads.FamilyView,
    values: dict[str, str],
    *,
    action: str,
    title: str,
    version: int | None,
    reason: str = "",
    errors: dict[str, str] | None = None,
    message: str = "",
    conflict: str = "",
    status_code: int = 200,
) -> Response:
    return templates.page(
        request,
        "member_form.html",
        {
            "title": title,
            "fields": forms.MEMBER_FORM_FIELDS,
            "values": values,
            "errors": errors or {},
            "reason": reason,
            "message": message,
            "conflict": conflict,
            "action": action,
            "version": version,
            "family_id": view.family["id"],
            "kk_number": view.family["kk_number"],
        },
        status_code=status_code,
    )


@router.get("/keluarga/{family_id}/anggota/baru")
def add_member_page(request: Request, family_id: int, db: DB, actor: Editor) -> Response:
    """The form to add a person to a family."""
    view = registry_reads.get_family(db, actor, family_id)
    return _form(
        request, view, {}, action=f"/keluarga/{family_id}/anggota/baru", title="Tambah anggota", version=None
    )


@router.post("/keluarga/{family_id}/anggota/baru")
async def add_member(request: Request, family_id: int, db: DB, actor: Editor) -> Response:
    """Add the person, or show the form again with messages next to the fields."""
    view = registry_reads.get_family(db, actor, family_id)
    form = await request.form()
    values = forms.read(form, forms.MEMBER_FORM_FIELDS)
    reason = str(form.get("reason", "")).strip()
    try:
        registry.add_member(db, actor, family_id, values, reason=reason)
    except ValidationError as exc:
        return _form(
            request,
            view,
            values,
            action=f"/keluarga/{family_id}/anggota/baru",
            title="Tambah anggota",
            version=None,
            reason=reason,
            errors=forms.error_map(exc.errors),
            message=exc.message,
            status_code=422,
        )
    return RedirectResponse(f"/keluarga/{family_id}?pesan=anggota", status_code=303)


@router.get("/keluarga/{family_id}/anggota/{member_id}/ubah")
def edit_member_page(request: Request, family_id: int, member_id: int, db: DB, actor: Editor) -> Response:
    """The edit form of one member, carrying the version read."""
    view, member = _member(db, actor, family_id, member_id)
    return _form(
        request,
        view,
        forms.as_form_values(member, forms.MEMBER_FORM_FIELDS),
        action=f"/keluarga/{family_id}/anggota/{member_id}/ubah",
        title=f"Ubah anggota: {member['name']}",
        version=member["version"],
    )


@router.post("/keluarga/{family_id}/anggota/{member_id}/ubah")
async def edit_member(request: Request, family_id: int, member_id: int, db: DB, actor: Editor) -> Response:
    """Save the member, unless someone changed it since the form was opened."""
    view, member = _member(db, actor, family_id, member_id)
    form = await request.form()
    values = forms.drop_kept(forms.read(form, forms.MEMBER_FORM_FIELDS))
    reason, version = str(form.get("reason", "")).strip(), forms.as_int(form.get("version"))
    action, title = f"/keluarga/{family_id}/anggota/{member_id}/ubah", f"Ubah anggota: {member['name']}"
    try:
        registry.update_member(db, actor, member_id, values, expected_version=version, reason=reason)
    except ValidationError as exc:
        return _form(
            request,
            view,
            values,
            action=action,
            title=title,
            version=version,
            reason=reason,
            errors=forms.error_map(exc.errors),
            message=exc.message,
            status_code=422,
        )
    except ConflictError as exc:
        _, fresh = _member(db, actor, family_id, member_id)
        return _form(
            request,
            view,
            values,
            action=action,
            title=title,
            version=fresh["version"],
            reason=reason,
            conflict=exc.message,
            status_code=409,
        )
    return RedirectResponse(f"/keluarga/{family_id}?pesan=anggota", status_code=303)


@router.get("/keluarga/{family_id}/anggota/{member_id}/pindah")
def move_member_page(request: Request, family_id: int, member_id: int, db: DB, actor: Editor) -> Response:
    """The form to move a member to another family (by its KK number)."""
    _, member = _member(db, actor, family_id, member_id)
    return _move_form(request, family_id, member, version=member["version"])


@router.post("/keluarga/{family_id}/anggota/{member_id}/pindah")
async def move_member(request: Request, family_id: int, member_id: int, db: DB, actor: Editor) -> Response:
    """Move the member to the active family with the KK number given."""
    _, member = _member(db, actor, family_id, member_id)
    form = await request.form()
    kk, reason, version = (
        str(form.get("to_kk", "")).strip(),
        str(form.get("reason", "")).strip(),
        forms.as_int(form.get("version")),
    )
    try:
        target = _active_family_by_kk(db, actor, kk)
        registry.move_member(db, actor, member_id, target, expected_version=version, reason=reason)
    except ValidationError as exc:
        errors = forms.error_map(exc.errors)
        if "to_family_id" in errors:
            errors["to_kk"] = errors.pop("to_family_id")
        return _move_form(
            request,
            family_id,
            member,
            version=version,
            kk=kk,
            reason=reason,
            errors=errors,
            message=exc.message,
            status_code=422,
        )
    except ConflictError as exc:
        _, fresh = _member(db, actor, family_id, member_id)
        return _move_form(
            request,
            family_id,
            fresh,
            version=fresh["version"],
            kk=kk,
            reason=reason,
            conflict=exc.message,
            status_code=409,
        )
    return RedirectResponse(f"/keluarga/{target}?pesan=anggota", status_code=303)


def _active_family_by_kk(db: Database, actor: Actor, kk: str) -> int:
    digits = Kk.typed(kk, field="to_kk").digits
    for row in registry_reads.search_families(db, actor, digits):
        if row["kk_number"] == digits and row["registry_status"] == RegistryStatus.AKTIF:
            return int(row["id"])
    raise ValidationError(
        "Keluarga tujuan tidak ditemukan",
        [FieldError("to_kk", "Tidak ada keluarga aktif dengan nomor KK ini di wilayah Anda")],
    )


def _move_form(
    request: Request,
    family_id: int,
    member: dict[str, Any],
    *,
    version: int,
    kk: str = "",
    reason: str = "",
    errors: dict[str, str] | None = None,
    message: str = "",
    conflict: str = "",
    status_code: int = 200,
) -> Response:
    return templates.page(
        request,
        "move.html",
        {
            "title": f"Pindahkan {member['name']}",
            "member": member,
            "family_id": family_id,
            "version": version,
            "kk": kk,
            "reason": reason,
            "errors": errors or {},
            "message": message,
            "conflict": conflict,
        },
        status_code=status_code,
    )


@router.get("/keluarga/{family_id}/anggota/{member_id}/nonaktif")
def deactivate_member_page(
    request: Request, family_id: int, member_id: int, db: DB, actor: Editor
) -> Response:
    """The form to switch a member off (death, moved away, duplicate…)."""
    _, member = _member(db, actor, family_id, member_id)
    return _deactivate_form(request, family_id, member, version=member["version"])


@router.post("/keluarga/{family_id}/anggota/{member_id}/nonaktif")
async def deactivate_member(
    request: Request, family_id: int, member_id: int, db: DB, actor: Editor
) -> Response:
    """Switch the member off."""
    _, member = _member(db, actor, family_id, member_id)
    form = await request.form()
    code, note, version = (
        str(form.get("reason_code", "")),
        str(form.get("note", "")).strip(),
        forms.as_int(form.get("version")),
    )
    death_raw = str(form.get("death_date", "")).strip()
    try:
        death = forms.parse_optional_date(death_raw, "death_date")
        registry.deactivate_member(
            db, actor, member_id, code, expected_version=version, note=note, death_date=death
        )
    except ValidationError as exc:
        errors = forms.error_map(exc.errors)
        for old, new in (("inactive_reason", "reason_code"), ("reason", "note")):
            if old in errors:
                errors[new] = errors.pop(old)
        return _deactivate_form(
            request,
            family_id,
            member,
            version=version,
            code=code,
            note=note,
            death=death_raw,
            errors=errors,
            message=exc.message,
            status_code=422,
        )
    except ConflictError as exc:
        _, fresh = _member(db, actor, family_id, member_id)
        return _deactivate_form(
            request,
            family_id,
            fresh,
            version=fresh["version"],
            code=code,
            note=note,
            death=death_raw,
            conflict=exc.message,
            status_code=409,
        )
    return RedirectResponse(f"/keluarga/{family_id}?pesan=anggota", status_code=303)


def _deactivate_form(
    request: Request,
    family_id: int,
    member: dict[str, Any],
    *,
    version: int,
    code: str = "",
    note: str = "",
    death: str = "",
    errors: dict[str, str] | None = None,
    message: str = "",
    conflict: str = "",
    status_code: int = 200,
) -> Response:
    return templates.page(
        request,
        "deactivate.html",
        {
            "title": f"Nonaktifkan anggota {member['name']}",
            "what": f"anggota {member['name']}",
            "action": f"/keluarga/{family_id}/anggota/{member['id']}/nonaktif",
            "back": f"/keluarga/{family_id}",
            "version": version,
            "reasons": list(InactiveReason),
            "code": code,
            "note": note,
            "errors": errors or {},
            "message": message,
            "conflict": conflict,
            "with_death_date": True,
            "death_date": death,
        },
        status_code=status_code,
    )
