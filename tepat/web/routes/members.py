"""Member pages: add, edit, move to another family, deactivate."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tepat.domain.access import Actor
from tepat.domain.households import RegistryStatus
from tepat.domain.nik import Kk
from tepat.domain.registry_records import Member
from tepat.errors import FieldError, NotFound, ValidationError
from tepat.services import registry, registry_reads
from tepat.store.database import Database
from tepat.web import deactivation, forms
from tepat.web.deps import DB, Editor
from tepat.web.feedback import Feedback, answer
from tepat.web.templating import templates

router = APIRouter()


def _member(
    db: Database, actor: Actor, family_id: int, member_id: int
) -> tuple[registry_reads.FamilyView, registry_reads.MemberView]:
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
    feedback: Feedback | None = None,
) -> Response:
    return templates.page(
        request,
        "member_form.html",
        {
            "title": title,
            "fields": forms.MEMBER_FORM_FIELDS,
            "values": values,
            "reason": reason,
            "action": action,
            "version": version,
            "family_id": view.family["id"],
            "kk_number": view.family["kk_number"],
        },
        feedback=feedback or Feedback(),
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

    def attempt() -> str:
        registry.add_member(db, actor, family_id, values, reason=reason)
        return f"/keluarga/{family_id}?pesan=anggota"

    def show(feedback: Feedback) -> Response:
        action = f"/keluarga/{family_id}/anggota/baru"
        return _form(
            request,
            view,
            values,
            action=action,
            title="Tambah anggota",
            version=None,
            reason=reason,
            feedback=feedback,
        )

    return answer(attempt, show)


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

    def attempt() -> str:
        registry.update_member(db, actor, member_id, values, expected_version=version, reason=reason)
        return f"/keluarga/{family_id}?pesan=anggota"

    def show(feedback: Feedback) -> Response:
        current = _member(db, actor, family_id, member_id)[1]["version"] if feedback.conflict else version
        return _form(
            request,
            view,
            values,
            action=f"/keluarga/{family_id}/anggota/{member_id}/ubah",
            title=f"Ubah anggota: {member['name']}",
            version=current,
            reason=reason,
            feedback=feedback,
        )

    return answer(attempt, show)


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

    def attempt() -> str:
        target = _active_family_by_kk(db, actor, kk)
        registry.move_member(db, actor, member_id, target, expected_version=version, reason=reason)
        return f"/keluarga/{target}?pesan=anggota"

    def show(feedback: Feedback) -> Response:
        if not feedback.conflict:
            return _move_form(
                request, family_id, member, version=version, kk=kk, reason=reason, feedback=feedback
            )
        _, fresh = _member(db, actor, family_id, member_id)
        return _move_form(
            request, family_id, fresh, version=fresh["version"], kk=kk, reason=reason, feedback=feedback
        )

    return answer(attempt, show, rename={"to_family_id": "to_kk"})


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
    member: Member,
    *,
    version: int,
    kk: str = "",
    reason: str = "",
    feedback: Feedback | None = None,
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
        },
        feedback=feedback or Feedback(),
    )


@router.get("/keluarga/{family_id}/anggota/{member_id}/nonaktif")
def deactivate_member_page(
    request: Request, family_id: int, member_id: int, db: DB, actor: Editor
) -> Response:
    """The form to switch a member off (death, moved away, duplicate…)."""
    _, member = _member(db, actor, family_id, member_id)
    return deactivation.page(
        request, _deactivation(family_id, member), deactivation.Entry(version=member["version"])
    )


@router.post("/keluarga/{family_id}/anggota/{member_id}/nonaktif")
async def deactivate_member(
    request: Request, family_id: int, member_id: int, db: DB, actor: Editor
) -> Response:
    """Switch the member off."""

    def current() -> tuple[deactivation.Target, int]:
        _, member = _member(db, actor, family_id, member_id)
        return _deactivation(family_id, member), member["version"]

    def apply(entry: deactivation.Entry) -> None:
        death = forms.parse_optional_date(entry.death_date, "death_date")
        registry.deactivate_member(
            db,
            actor,
            member_id,
            entry.code,
            expected_version=entry.version,
            note=entry.note,
            death_date=death,
        )

    target, _ = current()
    return await deactivation.submit(
        request, target, apply, current=current, done=f"/keluarga/{family_id}?pesan=anggota"
    )


def _deactivation(family_id: int, member: Member) -> deactivation.Target:
    return deactivation.Target(
        title=f"Nonaktifkan anggota {member['name']}",
        what=f"anggota {member['name']}",
        action=f"/keluarga/{family_id}/anggota/{member['id']}/nonaktif",
        back=f"/keluarga/{family_id}",
        with_death_date=True,
    )
