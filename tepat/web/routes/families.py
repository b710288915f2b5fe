"""Family pages: view (now or on a date), register, edit, deactivate."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from tepat.domain.access import Actor
from tepat.domain.formatting import TIMEZONE
from tepat.domain.registry_records import Family
from tepat.services import registry, registry_history, registry_reads, targeting
from tepat.store.database import Database
from tepat.web import deactivation, forms
from tepat.web.choices import kelurahan_options
from tepat.web.deps import DB, Editor, PersonalReader
from tepat.web.feedback import Feedback, answer
from tepat.web.templating import templates

router = APIRouter()
MAX_MEMBER_ROWS = 20


def _as_of(tanggal: str | None) -> tuple[datetime | None, str]:
    if not tanggal:
        return None, ""
    day = forms.parse_form_date(tanggal, "tanggal")
    # "As it was on that date" means at the end of that day in Jakarta.
    return datetime.combine(day, time.max, tzinfo=TIMEZONE).astimezone(UTC), day.isoformat()


@router.get("/keluarga/baru")
def new_family_page(request: Request, db: DB, actor: Editor) -> Response:
    """The form to register a family with its members."""
    options = kelurahan_options(db, actor, with_kecamatan=True)
    start = {"kelurahan_code": options[0][0]} if len(options) == 1 else {}
    return _family_form(request, db, actor, values=start, member_rows=[{}])


@router.post("/keluarga/baru")
async def new_family(request: Request, db: DB, actor: Editor) -> Response:
    """Register the family, or show the form again with messages next to the fields."""
    form = await request.form()
    values = forms.read(form, forms.FAMILY_FORM_FIELDS)
    count = min(max(forms.as_int(form.get("member_rows", "1")), 1), MAX_MEMBER_ROWS)
    rows = [forms.read(form, forms.MEMBER_FORM_FIELDS, f"members.{i}.") for i in range(count)]
    reason = str(form.get("reason", "")).strip()
    if form.get("aksi") == "tambah_baris":
        rows.append({})
        return _family_form(
            request, db, actor, values=values, member_rows=rows[:MAX_MEMBER_ROWS], reason=reason
        )
    filled = [r for r in rows if not forms.is_blank(r)]

    def attempt() -> str:
        family_id = registry.create_family(db, actor, values, filled, reason=reason)
        return f"/keluarga/{family_id}?pesan=dibuat"

    def show(feedback: Feedback) -> Response:
        # Error fields say members.<i> over the filled rows: show the filled rows in that order.
        rows = filled or [{}]
        return _family_form(
            request, db, actor, values=values, member_rows=rows, reason=reason, feedback=feedback
        )

    return answer(attempt, show)


def _family_form(
    request: Request,
    db: Database,
    actor: Actor,
    *,
    values: dict[str, str],
    member_rows: list[dict[str, str]],
    reason: str = "",
    feedback: Feedback | None = None,
) -> Response:
    return templates.page(
        request,
        "family_form.html",
        {
            "title": "Daftarkan keluarga baru",
            "groups": forms.FAMILY_GROUPS,
            "member_fields": forms.MEMBER_FORM_FIELDS,
            "values": values,
            "member_rows": member_rows,
            "reason": reason,
            "kelurahan_options": kelurahan_options(db, actor, with_kecamatan=True),
            "action": "/keluarga/baru",
            "creating": True,
            "version": None,
        },
        feedback=feedback or Feedback(),
    )


@router.get("/keluarga/{family_id}")
def family_page(
    request: Request,
    family_id: int,
    db: DB,
    actor: PersonalReader,
    tanggal: Annotated[str | None, Query(max_length=10)] = None,
    pesan: str = "",
) -> Response:
    """A family: members, indicators, status, history; optionally as it was on a date."""
    as_of, day = _as_of(tanggal)
    view = registry_reads.get_family(db, actor, family_id, as_of=as_of)
    history = registry_history.family_history(db, actor, family_id) if as_of is None else []
    notes = {
        "dibuat": "Keluarga berhasil didaftarkan.",
        "disimpan": "Perubahan tersimpan.",
        "nonaktif": "Keluarga dinonaktifkan.",
        "anggota": "Data anggota tersimpan.",
    }
    return templates.page(
        request,
        "family.html",
        {
            "title": f"Keluarga {view.family['kk_number']}",
            "view": view,
            "f": view.family,
            "history": history,
            "groups": forms.FAMILY_GROUPS,
            "member_fields": forms.MEMBER_FORM_FIELDS,
            "day": day,
            "can_edit": actor.can_edit_registry(view.family["kelurahan_code"]) and as_of is None,
            "notice": notes.get(pesan, ""),
            "sasaran": targeting.family_targeting(db, actor, family_id) if as_of is None else None,
        },
    )


@router.get("/keluarga/{family_id}/ubah")
def edit_family_page(request: Request, family_id: int, db: DB, actor: Editor) -> Response:
    """The edit form, filled with the current values and carrying the version read."""
    view = registry_reads.get_family(db, actor, family_id)
    return _edit_form(
        request,
        db,
        actor,
        view,
        forms.as_form_values(view.family, forms.FAMILY_FORM_FIELDS),
        version=view.family["version"],
    )


@router.post("/keluarga/{family_id}/ubah")
async def edit_family(request: Request, family_id: int, db: DB, actor: Editor) -> Response:
    """Save the changes, unless the record changed since the form was opened."""
    view = registry_reads.get_family(db, actor, family_id)
    form = await request.form()
    values = forms.drop_kept(forms.read(form, forms.FAMILY_FORM_FIELDS))
    reason = str(form.get("reason", "")).strip()
    version = forms.as_int(form.get("version"))

    def attempt() -> str:
        registry.update_family(db, actor, family_id, values, expected_version=version, reason=reason)
        return f"/keluarga/{family_id}?pesan=disimpan"

    def show(feedback: Feedback) -> Response:
        if not feedback.conflict:
            return _edit_form(
                request, db, actor, view, values, version=version, reason=reason, feedback=feedback
            )
        fresh = registry_reads.get_family(db, actor, family_id)
        stored = forms.as_form_values(fresh.family, forms.FAMILY_FORM_FIELDS)
        differs = [
            s.label for s in forms.FAMILY_FORM_FIELDS if stored[s.name] != values.get(s.name, stored[s.name])
        ]
        return _edit_form(
            request,
            db,
            actor,
            fresh,
            values,
            version=fresh.family["version"],
            reason=reason,
            differs=differs,
            feedback=feedback,
        )

    return answer(attempt, show)


def _edit_form(
    request: Request,
    db: Database,
    actor: Actor,
    view: registry_reads.FamilyView,
    values: dict[str, str],
    *,
    version: int,
    reason: str = "",
    differs: list[str] | None = None,
    feedback: Feedback | None = None,
) -> Response:
    return templates.page(
        request,
        "family_form.html",
        {
            "title": f"Ubah keluarga {view.family['kk_number']}",
            "groups": forms.FAMILY_GROUPS,
            "values": values,
            "reason": reason,
            "differs": differs or [],
            "kelurahan_options": kelurahan_options(db, actor, with_kecamatan=True),
            "action": f"/keluarga/{view.family['id']}/ubah",
            "creating": False,
            "version": version,
            "family_id": view.family["id"],
        },
        feedback=feedback or Feedback(),
    )


@router.get("/keluarga/{family_id}/nonaktif")
def deactivate_family_page(request: Request, family_id: int, db: DB, actor: Editor) -> Response:
    """The form to switch a family off with a reason."""
    family = registry_reads.get_family(db, actor, family_id).family
    return deactivation.page(request, _deactivation(family), deactivation.Entry(version=family["version"]))


@router.post("/keluarga/{family_id}/nonaktif")
async def deactivate_family(request: Request, family_id: int, db: DB, actor: Editor) -> Response:
    """Switch the family off."""

    def current() -> tuple[deactivation.Target, int]:
        family = registry_reads.get_family(db, actor, family_id).family
        return _deactivation(family), family["version"]

    target, _ = current()
    return await deactivation.submit(
        request,
        target,
        lambda e: registry.deactivate_family(
            db, actor, family_id, e.code, expected_version=e.version, note=e.note
        ),
        current=current,
        done=f"/keluarga/{family_id}?pesan=nonaktif",
    )


def _deactivation(family: Family) -> deactivation.Target:
    return deactivation.Target(
        title=f"Nonaktifkan keluarga {family['kk_number']}",
        what=f"keluarga dengan KK {family['kk_number']}",
        action=f"/keluarga/{family['id']}/nonaktif",
        back=f"/keluarga/{family['id']}",
    )
