"""The programme catalogue: list, read, create and edit (admin, version-checked, audited), and the seed.

Every staff role reads the catalogue; only Admin Dinsos changes it. An edit names
the version it was made on, so two admins never overwrite each other silently,
and the audit record keeps the values before and after.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.domain.programmes import EDITABLE, ProgrammeSpec, validate_programme
from tepat.domain.programmes import seed_catalogue as seed_specs
from tepat.errors import ConflictError, NotFound, PermissionDenied
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


def may_edit_catalogue(db: Database, actor: Actor) -> bool:
    """Whether ``actor`` may add to or change the catalogue: an admin whose area holds every office of this database
    (``Offices.area``). The catalogue is theirs all: a kecamatan's admin, or one office's in a province's database,
    would otherwise change the amount, budget or rule every other area's cycles are made from."""
    return actor.may(Permission.MANAGE_PROGRAMMES, db.offices.area)


def require_catalogue(db: Database, actor: Actor) -> None:
    """``may_edit_catalogue``, or ``PermissionDenied`` saying why."""
    require_admin(actor)
    if not may_edit_catalogue(db, actor):
        area = db.offices.area
        whole = db.regions.name(area) if area else "Indonesia"
        raise PermissionDenied(
            f"Katalog program berlaku untuk seluruh {whole}; hanya Admin Dinsos yang wilayah kerjanya mencakup "
            "seluruhnya yang dapat mengubahnya."
        )


def actor_by_username(db: Database, username: str) -> Actor:
    """The actor of an active account, for commands run ``--as`` a named user (so maker-checker is real)."""
    with db.read() as conn:
        row = user_store.by_username(conn, username.strip())
    found = auth.actor_for_user(db, int(row["id"])) if row is not None else None
    if found is None:
        raise NotFound(f"Pengguna '{username}' tidak ditemukan atau tidak aktif.")
    return found


def list_programmes(db: Database, actor: Actor, *, active_only: bool = False) -> list[dict[str, Any]]:
    """The catalogue, in the order it was created."""
    with db.read() as conn:
        return store.list_all(conn, active_only=active_only)


def get_programme(db: Database, actor: Actor, code: str) -> dict[str, Any]:
    with db.read() as conn:
        row = store.get_by_code(conn, code.strip().upper())
    if row is None:
        raise NotFound(_NOT_FOUND)
    return row


def create_programme(db: Database, actor: Actor, values: Mapping[str, Any]) -> int:
    """Add a programme to the catalogue; returns its id."""
    require_catalogue(db, actor)
    with db.begin() as conn:
        spec = validate_programme(values, known_codes=store.codes(conn))
        if store.get_by_code(conn, spec.code) is not None:
            raise ConflictError(f"Kode program {spec.code} sudah ada.")
        programme_id = _insert(conn, actor, spec)
    return programme_id


def _insert(conn: sa.Connection, actor: Actor, spec: ProgrammeSpec) -> int:
    at = now()
    programme_id = store.insert(
        conn,
        {
            **spec.as_row(),
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
        detail={"after": _plain(spec.as_row())},
    )
    return programme_id


def update_programme(
    db: Database, actor: Actor, code: str, version: int, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Change editable fields (amounts, budget, quota, rules, exclusions…) of the programme at ``version``."""
    require_catalogue(db, actor)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise PermissionDenied(f"Kolom ini tidak dapat diubah: {', '.join(sorted(unknown))}.")
    with db.begin() as conn:
        row = store.get_by_code(conn, code.strip().upper(), lock=True)
        if row is None:
            raise NotFound(_NOT_FOUND)
        if int(row["version"]) != int(version):
            raise ConflictError(
                "Program ini sudah diubah orang lain sejak Anda membukanya. Muat ulang lalu ubah lagi."
            )
        before = {k: row[k] for k in ProgrammeSpec.__dataclass_fields__}
        spec = validate_programme({**before, **changes}, known_codes=store.codes(conn))
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
            detail={
                "before": {k: _plain(before[k]) for k in changed},
                "after": {k: _plain(v) for k, v in changed.items()},
            },
        )
        updated = store.get(conn, row["id"])
    assert updated is not None
    return updated


def seed_catalogue(db: Database, actor: Actor) -> list[str]:
    """Add the seed programmes that are missing (safe to run again: existing ones are left as edited)."""
    require_catalogue(db, actor)
    added: list[str] = []
    with db.begin() as conn:
        present = store.codes(conn)
        for spec in seed_specs(db.offices.primary.name):
            if spec.code not in present:
                _insert(conn, actor, spec)
                added.append(spec.code)
    return added


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value
