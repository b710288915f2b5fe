"""Queries over benefit cycles and their entitlements: the one INSERT … SELECT, blocking, digest, summaries.

Generation copies each kept candidate of ``tepat.store.candidates`` into
``entitlements`` together with the recipient's NIK, name, KK and address, so a
frozen cycle never changes when the registry does. The recipient of a family
programme is its living, active head, else its oldest living, active member; of a
person programme, the person.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from tepat.domain.cycles import FROZEN_STATES
from tepat.store.candidates import Scope, kept_filter, ranked_candidates
from tepat.store.schema import benefit_cycles, entitlements, families, members, programmes

DIGEST_COLUMNS = ("unit_key", "family_id", "member_id", "kk_number", "recipient_nik", "recipient_name", "kelurahan_code",
                  "kecamatan_code", "rw", "rt", "address", "desil", "rank", "level", "amount", "source")
"""What the frozen list's SHA-256 covers: every copied column but the payment state (which payments move on) and
the score (a float, whose text differs between backends; the rank it produced is covered)."""
_NULL = "\\N"
_SEPARATOR = "\x1f"
_RECIPIENT = members.alias("penerima")
ANALYZE_AFTER = 10_000


def insert_cycle(conn: sa.Connection, values: Mapping[str, Any]) -> int:
    return int(conn.execute(benefit_cycles.insert().values(**values).returning(benefit_cycles.c.id)).scalar_one())


def get_cycle(conn: sa.Connection, cycle_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    q = (sa.select(benefit_cycles, programmes.c.code.label("programme_code"), programmes.c.name.label("programme_name"),
                   programmes.c.unit)
         .join(programmes, programmes.c.id == benefit_cycles.c.programme_id)
         .where(benefit_cycles.c.id == cycle_id))
    if lock:
        q = q.with_for_update(of=benefit_cycles)
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def list_cycles(conn: sa.Connection, programme_id: int | None = None) -> list[dict[str, Any]]:
    q = (sa.select(benefit_cycles, programmes.c.code.label("programme_code"), programmes.c.name.label("programme_name"))
         .join(programmes, programmes.c.id == benefit_cycles.c.programme_id)
         .order_by(benefit_cycles.c.id.desc()))
    if programme_id is not None:
        q = q.where(benefit_cycles.c.programme_id == programme_id)
    return [dict(r) for r in conn.execute(q).mappings()]


def move(conn: sa.Connection, cycle_id: int, from_state: str, version: int, values: Mapping[str, Any]) -> bool:
    """Change a cycle still in ``from_state`` at ``version``; False when someone moved it first."""
    result = conn.execute(benefit_cycles.update().where(
        benefit_cycles.c.id == cycle_id, benefit_cycles.c.state == from_state, benefit_cycles.c.version == version,
    ).values(**values, version=version + 1))
    return result.rowcount == 1


def committed(conn: sa.Connection, programme_id: int, year: int, *, excluding: int | None = None) -> int:
    """Rupiah the programme's frozen cycles starting in ``year`` already committed."""
    q = sa.select(sa.func.coalesce(sa.func.sum(benefit_cycles.c.total_amount), 0)).where(
        benefit_cycles.c.programme_id == programme_id, benefit_cycles.c.state.in_([s.value for s in FROZEN_STATES]),
        benefit_cycles.c.period_start >= date(year, 1, 1), benefit_cycles.c.period_start <= date(year, 12, 31))
    if excluding is not None:
        q = q.where(benefit_cycles.c.id != excluding)
    return int(conn.execute(q).scalar_one())


# ----------------------------------------------------------------- generation


def generate(conn: sa.Connection, cycle_id: int, scope: Scope, at: datetime) -> tuple[int, int]:
    """Replace the cycle's entitlements with the kept candidates (one INSERT … SELECT); returns (count, total)."""
    conn.execute(entitlements.delete().where(entitlements.c.cycle_id == cycle_id))
    if conn.dialect.name == "postgresql":
        # compiling this one big statement with JIT costs seconds and saves none: it is I/O and index probes
        conn.exec_driver_sql("SET LOCAL jit = off")
    inserted = conn.execute(entitlements.insert().from_select(_INSERT_COLUMNS, _entitlement_rows(cycle_id, scope, at))
                            .returning(entitlements.c.amount))
    amounts = [a for (a,) in inserted]  # counted from the insert itself: no second pass over the rows
    analyze(conn, len(amounts))
    return len(amounts), int(sum(amounts))


_INSERT_COLUMNS = ["cycle_id", "unit_key", "family_id", "member_id", "kk_number", "recipient_nik", "recipient_name",
                   "kelurahan_code", "kecamatan_code", "rw", "rt", "address", "desil", "score", "rank", "level", "amount",
                   "source", "state", "updated_at"]


def recipient_of_family(family_id: sa.ColumnElement[Any] | None = None) -> sa.ScalarSelect[Any]:
    """The family's living, active head, else its oldest living, active member.

    Correlated to ``family_id`` (default ``families.id`` of the enclosing query).
    """
    fid = families.c.id if family_id is None else family_id
    return (
        sa.select(members.c.id)
        .where(members.c.family_id == fid, members.c.status == "aktif", members.c.life_status == "hidup")
        .order_by(sa.case((members.c.relationship == "kepala_keluarga", 0), else_=1), members.c.birth_date, members.c.id)
        .limit(1)
        .correlate_except(members)
        .scalar_subquery()
    )


def _entitlement_rows(cycle_id: int, scope: Scope, at: datetime) -> sa.Select[Any]:
    """The kept candidates with their recipient (looked up after the cut, once per kept unit) and copied details."""
    ranked = ranked_candidates(scope).subquery("peringkat")
    person = scope.programme["unit"] == "orang"
    recipient = ranked.c.member_id if person else recipient_of_family(ranked.c.family_id)
    kept = (sa.select(ranked, recipient.label("recipient_id"))
            .where(*kept_filter(scope, ranked)).subquery("terpilih"))
    k = kept.c
    source = kept.outerjoin(_RECIPIENT, _RECIPIENT.c.id == k.recipient_id)
    return sa.select(
        sa.literal(cycle_id, sa.Integer), k.unit_key, k.family_id, _RECIPIENT.c.id, k.kk_number,
        _RECIPIENT.c.nik, _RECIPIENT.c.name, k.kelurahan_code, k.kecamatan_code, k.rw, k.rt, k.address,
        k.desil, k.score, k.rank, k.level, k.amount, k.source,
        sa.literal("terjadwal", sa.String), sa.literal(at, sa.DateTime(timezone=True)),
    ).select_from(source)


# ----------------------------------------------------------------- approval


def digest_line() -> sa.ColumnElement[str]:
    """One entitlement's digest columns as text, built by the database (integers and text only, so the same
    characters on both backends): fields joined by U+001F, a missing value as ``\\N``."""
    parts = [sa.func.coalesce(sa.cast(entitlements.c[name], sa.String), _NULL) for name in DIGEST_COLUMNS]
    line = parts[0]
    for part in parts[1:]:
        line = line + _SEPARATOR + part
    return line


def freeze(conn: sa.Connection, cycle_id: int, at: datetime, batch: int = 50_000) -> tuple[int, str]:
    """Block the unpayable and digest the list in one ordered pass; returns (blocked, SHA-256).

    Unpayable: the recipient died (``meninggal``), is inactive, or the family is
    inactive (``nonaktif``). The pass reads each entitlement's digest line with
    its recipient's and family's current status (primary-key probes); the few
    found are then updated by id.
    """
    e = entitlements.c
    q = (sa.select(digest_line(), e.id, e.state, members.c.id, members.c.life_status, members.c.status,
                   families.c.registry_status)
         .select_from(entitlements.outerjoin(members, members.c.id == e.member_id)
                      .join(families, families.c.id == e.family_id))
         .where(e.cycle_id == cycle_id).order_by(e.rank, e.unit_key).execution_options(yield_per=batch))
    h = hashlib.sha256()
    found: list[dict[str, Any]] = []
    for part in conn.execute(q).partitions():
        h.update(("\n".join(r[0] for r in part) + "\n").encode())
        for line, entitlement_id, state, member, life, status, family_status in part:
            if state == "terjadwal" and (member is None or life == "meninggal" or status != "aktif"
                                         or family_status != "aktif"):
                found.append({"e_id": entitlement_id, "e_reason": "meninggal" if life == "meninggal" else "nonaktif"})
    if found:
        conn.execute(
            entitlements.update()
            .where(e.id == sa.bindparam("e_id"), e.state == "terjadwal")
            .values(state="diblokir", block_reason=sa.bindparam("e_reason"), updated_at=at),
            found,
        )
    return len(found), h.hexdigest()


def analyze(conn: sa.Connection, rows: int) -> None:
    """Fresh planner statistics after a large generation (PostgreSQL plans the approval's join on them)."""
    if rows >= ANALYZE_AFTER and conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE entitlements")


def snapshot_digest(conn: sa.Connection, cycle_id: int, batch: int = 50_000) -> str:
    """The SHA-256 of the list as it is now, computed exactly as ``freeze`` did (to verify a frozen cycle)."""
    q = (sa.select(digest_line()).where(entitlements.c.cycle_id == cycle_id)
         .order_by(entitlements.c.rank, entitlements.c.unit_key).execution_options(yield_per=batch))
    h = hashlib.sha256()
    for part in conn.execute(q).partitions():
        h.update(("\n".join(r[0] for r in part) + "\n").encode())
    return h.hexdigest()


def counts(conn: sa.Connection, cycle_id: int) -> dict[str, int]:
    """Entitlements per state."""
    q = sa.select(entitlements.c.state, sa.func.count()).where(entitlements.c.cycle_id == cycle_id).group_by(entitlements.c.state)
    return {str(s): int(n) for s, n in conn.execute(q)}


def not_final(conn: sa.Connection, cycle_id: int, final: frozenset[str]) -> int:
    q = sa.select(sa.func.count()).where(entitlements.c.cycle_id == cycle_id, entitlements.c.state.not_in(sorted(final)))
    return int(conn.execute(q).scalar_one())


def by_kelurahan(conn: sa.Connection, cycle_id: int, area: sa.ColumnElement[bool]) -> list[dict[str, Any]]:
    """Per kelurahan: entitlements, total rupiah, blocked, paid (count and rupiah)."""
    e = entitlements.c
    q = (sa.select(e.kecamatan_code, e.kelurahan_code, sa.func.count().label("count"),
                   sa.func.sum(e.amount).label("total"),
                   sa.func.sum(sa.case((e.state == "diblokir", 1), else_=0)).label("blocked"),
                   sa.func.sum(sa.case((e.state == "dibayar", 1), else_=0)).label("paid"),
                   sa.func.sum(sa.case((e.state == "dibayar", e.amount), else_=0)).label("paid_total"))
         .where(e.cycle_id == cycle_id, area).group_by(e.kecamatan_code, e.kelurahan_code)
         .order_by(e.kecamatan_code, e.kelurahan_code))
    return [{k: (int(v) if k not in ("kecamatan_code", "kelurahan_code") else v) for k, v in r.items()}
            for r in conn.execute(q).mappings()]


def page(conn: sa.Connection, cycle_id: int, area: sa.ColumnElement[bool], offset: int, limit: int) -> list[dict[str, Any]]:
    q = (sa.select(entitlements).where(entitlements.c.cycle_id == cycle_id, area)
         .order_by(entitlements.c.rank, entitlements.c.unit_key).offset(offset).limit(limit))
    return [dict(r) for r in conn.execute(q).mappings()]
