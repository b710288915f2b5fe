"""The programme catalogue: list, read, create and edit (admin, version-checked, audited), and the seed.

Each kabupaten/kota office has its own catalogue (in a province's database, one per office). Every staff role
reads their office's; only Admin Dinsos of the whole office changes it. An edit names
the version it was made on, so two admins never overwrite each other silently,
and the audit record keeps the values before and after.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.domain.office import Office
from tepat.domain.programmes import EDITABLE, Programme, ProgrammeSpec, validate_programme
from tepat.domain.programmes import seed_catalogue as seed_specs
from tepat.errors import ConflictError, FieldError, NotFound, PermissionDenied, ValidationError
from tepat.services import auth
from tepat.store import audit
from tepat.store import programmes as store
from tepat.store import users as user_store
from tepat.store.database import Database
from tepat.store.engine import now

_NOT_FOUND = "Program tidak ditemukan"


def require_admin(actor: Actor) -> None:
    if not actor.may(Permission.MANAGE_PROGRAMMES):
        raise PermissionDenied("Hanya Admin Dinsos yang dapat mengubah katalog program.")


def catalogue_office(db: Database, actor: Actor, office: str | None = None) -> Office:
    """The office whose catalogue ``actor`` works in: the one named (``--office``, ``?kantor=``), if the actor may
    see it; else the office holding the actor's area; else, for an account above the offices (a province's, the
    system), the only one — with several, ``ValidationError`` asking which. Each kabupaten/kota has its own
    catalogue: its amounts, its budget, its families."""
    offices = db.offices
    if office:
        named = next((o for o in offices.touching(actor.area_code) if o.code == office.strip()), None)
        if named is None:
            raise NotFound(f"Kantor {office.strip()[:13]} tidak ditemukan di wilayah Anda.")
        return named
    own = offices.holding(actor.area_code)
    if own is not None:
        return own
    raise ValidationError(
        "Setiap kabupaten/kota punya katalog programnya sendiri; pilih kantornya.",
        [FieldError("office", f"Pilih salah satu: {', '.join(offices.codes)}")],
    )


def may_edit_catalogue(db: Database, actor: Actor, office: str | None = None) -> bool:
    """Whether ``actor`` may add to or change an office's catalogue: an admin whose area holds that office (the
    city's, not a kecamatan's, whose edit would change the amount, budget or rule every other kecamatan's cycles
    are made from)."""
    try:
        return actor.may(Permission.MANAGE_PROGRAMMES, catalogue_office(db, actor, office).code)
    except ValidationError:
        return False


def require_catalogue(db: Database, actor: Actor, office: str | None = None) -> Office:
    """``may_edit_catalogue``, or ``PermissionDenied`` saying why; the office whose catalogue it is."""
    require_admin(actor)
    chosen = catalogue_office(db, actor, office)
    if not actor.may(Permission.MANAGE_PROGRAMMES, chosen.code):
        raise PermissionDenied(
            f"Katalog program berlaku untuk seluruh {chosen.name}; hanya Admin Dinsos yang wilayah kerjanya "
            "mencakup seluruhnya yang dapat mengubahnya."
        )
    return chosen


def actor_by_username(db: Database, username: str) -> Actor:
    """The actor of an active account, for commands run ``--as`` a named user (so maker-checker is real)."""
    with db.read() as conn:
        row = user_store.by_username(conn, username.strip())
    found = auth.actor_for_user(db, int(row["id"])) if row is not None else None
    if found is None:
        raise NotFound(f"Pengguna '{username}' tidak ditemukan atau tidak aktif.")
    return found


def list_programmes(db: Database, actor: Actor, *, active_only: bool = False) -> list[Programme]:
    """The catalogue of the actor's office (every office's the actor sees, for an account above them), each in the
    order it was created."""
    shown = [o.code for o in db.offices.touching(actor.area_code)]
    with db.read() as conn:
        return store.list_all(conn, shown, active_only=active_only)


def get_programme(db: Database, actor: Actor, code: str, *, office: str | None = None) -> Programme:
    """The programme ``code`` of an office's catalogue (``catalogue_office``)."""
    chosen = catalogue_office(db, actor, office)
    with db.read() as conn:
        row = store.get_by_code(conn, chosen.code, code.strip().upper())
    if row is None:
        raise NotFound(_NOT_FOUND)
    return row


def create_programme(
    db: Database, actor: Actor, values: Mapping[str, Any], *, office: str | None = None
) -> int:
    """Add a programme to an office's catalogue; returns its id."""
    chosen = require_catalogue(db, actor, office)
    with db.begin() as conn:
        spec = validate_programme(values, known_codes=store.codes(conn, chosen.code))
        if store.get_by_code(conn, chosen.code, spec.code) is not None:
            raise ConflictError(f"Kode program {spec.code} sudah ada.")
        programme_id = _insert(conn, actor, spec, chosen)
    return programme_id


def _insert(conn: sa.Connection, actor: Actor, spec: ProgrammeSpec, office: Office) -> int:
    at = now()
    programme_id = store.insert(
        conn,
        {
            **spec.as_row(),
            "office_code": office.code,
            "version": 1,
            "created_by": actor.username,
            "created_at": at,
            "updated_by": actor.username,
            "updated_at": at,
        },
    )
    audit.record(
        conn,
        actor,
        AuditAction.PROGRAMME_CREATE,
        "programme",
        programme_id,
        area_code=office.code,
        detail={"after": _plain(spec.as_row())},
    )
    return programme_id


def update_programme(
    db: Database,
    actor: Actor,
    code: str,
    version: int,
    changes: Mapping[str, Any],
    *,
    office: str | None = None,
) -> Programme:
    """Change editable fields (amounts, budget, quota, rules, exclusions…) of the programme at ``version``."""
    chosen = require_catalogue(db, actor, office)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise PermissionDenied(f"Kolom ini tidak dapat diubah: {', '.join(sorted(unknown))}.")
    with db.begin() as conn:
        row = store.get_by_code(conn, chosen.code, code.strip().upper(), lock=True)
        if row is None:
            raise NotFound(_NOT_FOUND)
        if int(row["version"]) != int(version):
            raise ConflictError(
                "Program ini sudah diubah orang lain sejak Anda membukanya. Muat ulang lalu ubah lagi."
            )
        before = {k: v for k, v in row.items() if k in ProgrammeSpec.__dataclass_fields__}
        spec = validate_programme({**before, **changes}, known_codes=store.codes(conn, chosen.code))
        after = spec.as_row()
        changed = {k: after[k] for k in after if _plain(after[k]) != _plain(before[k])}
        if not changed:
            return row
        if not store.update(
            conn, row["id"], version, {**changed, "updated_by": actor.username, "updated_at": now()}
        ):
            raise ConflictError(
                "Program ini sudah diubah orang lain sejak Anda membukanya. Muat ulang lalu ubah lagi."
            )
        audit.record(
            conn,
            actor,
            AuditAction.PROGRAMME_UPDATE,
            "programme",
            row["id"],
            area_code=chosen.code,
            detail={
                "before": {k: _plain(before[k]) for k in changed},
                "after": {k: _plain(v) for k, v in changed.items()},
            },
        )
        updated = store.get(conn, row["id"])
    assert updated is not None
    return updated


def seed_catalogue(db: Database, actor: Actor, *, office: str | None = None) -> list[str]:
    """Add the seed programmes missing from an office's catalogue, named after it (safe to run again: existing
    ones are left as edited)."""
    chosen = require_catalogue(db, actor, office)
    added: list[str] = []
    with db.begin() as conn:
        present = store.codes(conn, chosen.code)
        for spec in seed_specs(chosen.name):
            if spec.code not in present:
                _insert(conn, actor, spec, chosen)
                added.append(spec.code)
    return added


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value
