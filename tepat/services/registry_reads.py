"""Reading the registry: one family (as it is, or as it was), a member, a NIK, searches and an area's listing. Every
read of personal data is audited (UU 27/2022)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from tepat.domain.access import Actor
from tepat.domain.audit_actions import AuditAction
from tepat.domain.disclosure import hidden_cells, shown
from tepat.domain.households import (
    age_on,
    deceased_but_active,
    lacks_active_head,
)
from tepat.domain.regions import Level, RegionIndex, level_of
from tepat.domain.registry_records import Family, Member
from tepat.errors import FieldError, NotFound, ValidationError
from tepat.services.office import working_area
from tepat.services.registry_access import record_read, require_personal, visible_family
from tepat.store import audit, versioning
from tepat.store import families as family_store
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.schema import families, members


class MemberView(Member):
    """A member as a family's page shows them: with their age on the view's day."""

    age: int


@dataclass(frozen=True)
class FamilyView:
    """A family and its members as one user may see them (now, or as of a date)."""

    family: Family
    members: list[MemberView]
    kelurahan_name: str
    kecamatan_name: str
    as_of: datetime | None = None

    @property
    def headless(self) -> bool:
        """No active head: the family is left out of benefit cycles until fixed."""
        return lacks_active_head(self.family["registry_status"], self.members)

    @property
    def deceased_active(self) -> list[Mapping[str, Any]]:
        return deceased_but_active(self.members)


@dataclass(frozen=True)
class AreaListing:
    """A region and its children (kecamatan, kelurahan, or the RWs of a kelurahan) with counts."""

    region_code: str
    region_name: str
    level: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    families: int | None = None  # the region's totals (None when hidden)
    members: int | None = None


def _view(regions: RegionIndex, fam: Family, mems: Sequence[Member], as_of: datetime | None) -> FamilyView:
    day = (as_of or now()).date()
    shown = [cast(MemberView, m) for m in mems]  # each read for this view alone: its age is added in place
    for m in shown:
        m["age"] = age_on(m["birth_date"], day)
    return FamilyView(
        family=fam,
        members=shown,
        kelurahan_name=regions.name(fam["kelurahan_code"]),
        kecamatan_name=regions.name(fam["kecamatan_code"]),
        as_of=as_of,
    )


def get_family(db: Database, actor: Actor, family_id: int, *, as_of: datetime | None = None) -> FamilyView:
    """A family with its members, now or as it was at ``as_of``; the read is audited."""
    with db.read() as conn:
        current = visible_family(conn, actor, family_id)
        if as_of is None:
            view = _view(db.regions, current, family_store.members_of(conn, family_id), None)
        else:
            versions = versioning.as_of(conn, families, lambda t: t.c.id == family_id, as_of)
            if not versions:
                raise NotFound("Keluarga ini belum terdaftar pada tanggal tersebut")
            mems = versioning.as_of(conn, members, lambda t: t.c.family_id == family_id, as_of)
            then = [family_store.member_of(m) for m in sorted(mems, key=lambda m: m["id"])]
            view = _view(db.regions, family_store.family_of(versions[0]), then, as_of)
    record_read(
        db,
        actor,
        AuditAction.FAMILY_READ,
        family_id,
        current["kelurahan_code"],
        **({"as_of": as_of.isoformat()} if as_of else {}),
    )
    return view


def get_member(db: Database, actor: Actor, member_id: int) -> Member:
    """One member (current version), if their family is inside the actor's area; the read is audited."""
    with db.read() as conn:
        member = family_store.get_member(conn, member_id)
        if member is None:
            raise NotFound("Anggota tidak ditemukan")
        fam = visible_family(conn, actor, member["family_id"])
    record_read(
        db, actor, AuditAction.MEMBER_READ, member["family_id"], fam["kelurahan_code"], member_id=member_id
    )
    return member


def find_by_nik(db: Database, actor: Actor, nik: str) -> FamilyView:
    """The family of the active member with this NIK; the read is audited.

    The hot path of the registry: one statement on the driver, outside any transaction (no
    write lock on SQLite, no BEGIN/ROLLBACK on PostgreSQL); the audit record goes to the
    buffered read log (``audit.record_read``: written within a second, on dispose and at
    exit) instead of a write transaction per lookup.
    """
    require_personal(actor)
    regions = db.regions  # loaded before the read: the first load reads through its own connection
    found = family_store.family_by_active_nik(db, nik)
    if found is None or not actor.in_area(found[0]["kelurahan_code"]):
        raise NotFound("NIK tidak ditemukan")
    fam, mems = found
    audit.record_read(
        db,
        actor,
        AuditAction.FAMILY_READ,
        "family",
        fam["id"],
        area_code=fam["kelurahan_code"],
        detail={"by": "nik"},
    )
    return _view(regions, fam, mems, None)


def _with_names(db: Database, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for r in rows:
        r["kelurahan_name"] = db.regions.name(r["kelurahan_code"])
    return rows


def search_families(
    db: Database, actor: Actor, query: str, *, limit: int = 50, page: int = 1
) -> list[dict[str, Any]]:
    """One page of the families in the actor's area matching a NIK, a KK number or the words of a name (all of them,
    in one member's name); each row names the member who matched."""
    require_personal(actor)
    text = query.strip()
    if len(text) < 3:
        raise ValidationError(
            "Ketik paling sedikit 3 huruf nama, atau NIK/KK 16 digit", [FieldError("q", "Terlalu pendek")]
        )
    with db.read() as conn:
        hits = _with_names(
            db, family_store.search(conn, actor.area_code, text, limit, (max(page, 1) - 1) * limit)
        )
    record_read(
        db, actor, AuditAction.FAMILY_SEARCH, None, actor.area_code, query=text, page=page, results=len(hits)
    )
    return hits


def list_families(
    db: Database,
    actor: Actor,
    kelurahan_code: str,
    *,
    rw: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> list[dict[str, Any]]:
    """One page of the families of a kelurahan (optionally one RW)."""
    require_personal(actor)
    if not actor.in_area(kelurahan_code):
        raise NotFound("Wilayah tidak ditemukan")
    with db.read() as conn:
        rows = family_store.list_in(
            conn, actor.area_code, kelurahan_code, rw, (max(page, 1) - 1) * per_page, per_page
        )
    record_read(db, actor, AuditAction.FAMILY_LIST, None, kelurahan_code, rw=rw, page=page, results=len(rows))
    return _with_names(db, rows)


def browse_area(
    db: Database, actor: Actor, region_code: str | None = None, *, min_cell_size: int
) -> AreaListing:
    """Counts of active families and members for the children of a region inside the actor's area; for a role that
    may not read the records, small cells are hidden (``tepat.domain.disclosure``: ``None`` counts)."""
    code = region_code or working_area(db, actor)
    region = db.regions.get(code)
    if region is None or not (actor.in_area(code) or code in _ancestors_in_view(actor)):
        raise NotFound("Wilayah tidak ditemukan")
    level = level_of(code)
    with db.read() as conn:
        if level is Level.KELURAHAN:
            counts = family_store.counts_by(conn, actor.area_code, "rw", within=code)
            rows = [
                {"code": rw, "name": f"RW {rw:02d}", "families": f, "members": m}
                for rw, (f, m) in sorted(counts.items())
            ]
        else:
            key = "kecamatan_code" if level is Level.KABKOTA else "kelurahan_code"
            counts = family_store.counts_by(conn, actor.area_code, key, within=code)
            rows = [
                {
                    "code": child.code,
                    "name": child.name,
                    "families": counts.get(child.code, (0, 0))[0],
                    "members": counts.get(child.code, (0, 0))[1],
                }
                for child in db.regions.children(code)
                if actor.in_area(child.code)
            ]
    families, members = sum(r["families"] for r in rows), sum(r["members"] for r in rows)
    if not actor.sees_personal_data:
        hidden = hidden_cells({r["code"]: r["families"] for r in rows}, min_cell_size)
        rows = [{**r, "families": None, "members": None} if r["code"] in hidden else r for r in rows]
        if shown(families, min_cell_size) is None:
            families = members = None
    return AreaListing(
        region_code=code,
        region_name=region.name,
        level=level.value,
        rows=rows,
        families=families,
        members=members,
    )


def _ancestors_in_view(actor: Actor) -> set[str]:
    parts = actor.area_code.split(".") if actor.area_code else []
    return {".".join(parts[:i]) for i in range(1, len(parts))}
