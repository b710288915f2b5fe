"""Queries of the duplicate search (issue 15): the records compared, the models, the pairs and their decisions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from tepat.domain.entitlements import EntitlementState
from tepat.domain.households import RegistryStatus
from tepat.domain.linkage import PairDecision
from tepat.store.areas import containing, join_on, within
from tepat.store.payment_states import entitlement_state
from tepat.store.schema import duplicate_pairs, entitlements, families, linkage_models, member_merges, members

_COMPARED = (
    members.c.id.label("unique_id"),
    members.c.version,
    members.c.nik,
    members.c.name,
    members.c.birth_date,
    members.c.sex,
    families.c.kk_number,
    families.c.kelurahan_code,
    families.c.rw,
    families.c.rt,
)


_L, _R = members.alias("l"), members.alias("r")
_FL, _FR = families.alias("fl"), families.alias("fr")
# (aliases: a pair's left and right member and their families)


def compared_records(conn: sa.Connection, area_code: str) -> pl.DataFrame:
    """The active members of the active families in the area, with what the search compares."""
    q = (
        sa.select(*_COMPARED)
        .join(families, join_on(members.c.family_id, families.c.id))
        .where(
            members.c.status == RegistryStatus.AKTIF.value,
            families.c.registry_status == RegistryStatus.AKTIF.value,
            within(families.c.kelurahan_code, area_code),
        )
        .order_by(members.c.id)
    )
    rows = conn.execute(q).all()
    schema = {
        "unique_id": pl.Int64,
        "version": pl.Int64,
        "nik": pl.String,
        "name": pl.String,
        "birth_date": pl.String,
        "sex": pl.String,
        "kk_number": pl.String,
        "kelurahan_code": pl.String,
        "rw": pl.Int64,
        "rt": pl.Int64,
    }
    return pl.DataFrame(
        [(*r[:4], r[4].isoformat() if r[4] is not None else None, *r[5:]) for r in rows],
        schema=schema,
        orient="row",
    )


def last_model(conn: sa.Connection, area_code: str) -> dict[str, Any] | None:
    """The latest search over the area or a region containing it."""
    covering = containing(linkage_models.c.area_code, area_code)
    q = (
        sa.select(
            linkage_models.c.id,
            linkage_models.c.area_code,
            linkage_models.c.records,
            linkage_models.c.pairs,
            linkage_models.c.created_by,
            linkage_models.c.created_at,
        )
        .where(covering)
        .order_by(linkage_models.c.id.desc())
        .limit(1)
    )
    row = conn.execute(q).mappings().first()
    return dict(row) if row is not None else None


def insert_model(conn: sa.Connection, values: dict[str, Any]) -> int:
    return int(
        conn.execute(linkage_models.insert().values(**values).returning(linkage_models.c.id)).scalar_one()
    )


def save_pairs(
    conn: sa.Connection,
    model_id: int,
    found: Sequence[dict[str, Any]],
    at: datetime,
    area_code: str,
) -> dict[str, int]:
    """Put this run's pairs (of records in ``area_code``) in the queue. A pair already decided keeps its decision
    while both records keep the versions it was decided on; a pair whose record changed is asked again. Undecided
    pairs of the area that this run no longer finds leave the queue. New and renewed pairs are written in one
    statement each. Counts: ``baru``, ``diperbarui``, ``tetap`` (decided, unchanged), ``dihapus``."""
    in_area = (
        sa.select(duplicate_pairs)
        .join(_L, _L.c.id == duplicate_pairs.c.member_l)
        .join(_FL, _FL.c.id == _L.c.family_id)
        .where(within(_FL.c.kelurahan_code, area_code))
    )
    known = {(r.member_l, r.member_r): r for r in conn.execute(in_area)}
    undecided = {"decision": PairDecision.BELUM.value, "decided_by": None, "decided_at": None, "note": None}
    new, renewed, kept = [], [], 0
    for pair in found:
        old = known.pop((pair["member_l"], pair["member_r"]), None)
        values = {**pair, "model_id": model_id, "found_at": at, **undecided}
        if old is None:
            new.append(values)
        elif old.decision != PairDecision.BELUM.value and (old.version_l, old.version_r) == (
            pair["version_l"],
            pair["version_r"],
        ):
            kept += 1  # decided on these very records: never asked again
        else:
            renewed.append({"pair_id": old.id, **{f"v_{k}": v for k, v in values.items()}})
    if new:
        conn.execute(duplicate_pairs.insert(), new)
    if renewed:
        columns = [c.removeprefix("v_") for c in renewed[0] if c != "pair_id"]
        conn.execute(
            duplicate_pairs.update()
            .where(duplicate_pairs.c.id == sa.bindparam("pair_id"))
            .values({c: sa.bindparam(f"v_{c}") for c in columns}),
            renewed,
        )
    gone = [r.id for r in known.values() if r.decision == PairDecision.BELUM.value]
    if gone:
        conn.execute(duplicate_pairs.delete().where(duplicate_pairs.c.id.in_(gone)))
    return {"baru": len(new), "diperbarui": len(renewed), "tetap": kept, "dihapus": len(gone)}


def _side(m: Any, f: Any, suffix: str) -> list[sa.ColumnElement[Any]]:
    return [
        m.c.id.label(f"member_{suffix}"),
        m.c.nik.label(f"nik_{suffix}"),
        m.c.name.label(f"name_{suffix}"),
        m.c.birth_date.label(f"birth_date_{suffix}"),
        m.c.sex.label(f"sex_{suffix}"),
        m.c.family_id.label(f"family_{suffix}"),
        f.c.kk_number.label(f"kk_{suffix}"),
        f.c.kelurahan_code.label(f"kelurahan_{suffix}"),
        f.c.rw.label(f"rw_{suffix}"),
        f.c.rt.label(f"rt_{suffix}"),
    ]


def pairs(
    conn: sa.Connection, area_code: str, *, decision: str | None, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    """Pairs whose two records both lie in the area, most probable first, with both records side by side."""
    q = (
        sa.select(
            duplicate_pairs.c.id,
            duplicate_pairs.c.match_probability,
            duplicate_pairs.c.match_weight,
            duplicate_pairs.c.evidence,
            duplicate_pairs.c.decision,
            duplicate_pairs.c.decided_by,
            duplicate_pairs.c.decided_at,
            duplicate_pairs.c.note,
            duplicate_pairs.c.model_id,
            *_side(_L, _FL, "l"),
            *_side(_R, _FR, "r"),
        )
        .join(_L, _L.c.id == duplicate_pairs.c.member_l)
        .join(_FL, _FL.c.id == _L.c.family_id)
        .join(_R, _R.c.id == duplicate_pairs.c.member_r)
        .join(_FR, _FR.c.id == _R.c.family_id)
        .where(within(_FL.c.kelurahan_code, area_code), within(_FR.c.kelurahan_code, area_code))
        .order_by(duplicate_pairs.c.match_probability.desc(), duplicate_pairs.c.id)
        .limit(limit)
        .offset(offset)
    )
    if decision is not None:
        q = q.where(duplicate_pairs.c.decision == decision)
    return [dict(r) for r in conn.execute(q).mappings()]


def pair(conn: sa.Connection, pair_id: int) -> dict[str, Any] | None:
    """One pair with the kelurahan of each record (to check the reader's area) and each record's version now."""
    q = (
        sa.select(
            duplicate_pairs,
            _FL.c.kelurahan_code.label("kelurahan_l"),
            _FR.c.kelurahan_code.label("kelurahan_r"),
            _L.c.version.label("now_version_l"),
            _R.c.version.label("now_version_r"),
        )
        .join(_L, _L.c.id == duplicate_pairs.c.member_l)
        .join(_FL, _FL.c.id == _L.c.family_id)
        .join(_R, _R.c.id == duplicate_pairs.c.member_r)
        .join(_FR, _FR.c.id == _R.c.family_id)
        .where(duplicate_pairs.c.id == pair_id)
    )
    row = conn.execute(q).mappings().first()
    return dict(row) if row is not None else None


def decide(conn: sa.Connection, pair_id: int, decision: str, by: str, at: datetime, note: str | None) -> None:
    conn.execute(
        duplicate_pairs.update()
        .where(duplicate_pairs.c.id == pair_id)
        .values(decision=decision, decided_by=by, decided_at=at, note=note)
    )


# ----------------------------------------------------------------- merges


def paid_entitlements(conn: sa.Connection, member_id: int, family_id: int | None) -> int:
    """Paid entitlements of a person (or, given, of their whole family): a merge touching one needs a checker."""
    whose = entitlements.c.member_id == member_id
    if family_id is not None:
        whose = sa.or_(whose, entitlements.c.family_id == family_id)
    q = (
        sa.select(sa.func.count())
        .select_from(entitlements)
        .where(whose, entitlement_state(entitlements.c) == EntitlementState.DIBAYAR.value)
    )
    return int(conn.execute(q).scalar_one())


def others_active_in_family(conn: sa.Connection, family_id: int, member_id: int) -> int:
    q = (
        sa.select(sa.func.count())
        .select_from(members)
        .where(
            members.c.family_id == family_id,
            members.c.status == RegistryStatus.AKTIF.value,
            members.c.id != member_id,
        )
    )
    return int(conn.execute(q).scalar_one())


def kelurahan_of_member(conn: sa.Connection, member_id: int) -> str:
    q = sa.select(families.c.kelurahan_code).join(members, join_on(members.c.family_id, families.c.id))
    return str(conn.execute(q.where(members.c.id == member_id)).scalar_one())


def insert_merge(conn: sa.Connection, values: dict[str, Any]) -> int:
    return int(
        conn.execute(member_merges.insert().values(**values).returning(member_merges.c.id)).scalar_one()
    )


def merge(conn: sa.Connection, merge_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(member_merges).where(member_merges.c.id == merge_id)).mappings().first()
    return dict(row) if row is not None else None


def update_merge(conn: sa.Connection, merge_id: int, expected_state: str, values: dict[str, Any]) -> bool:
    """Move a merge on from ``expected_state``; ``False`` when someone else moved it first."""
    done = conn.execute(
        member_merges.update()
        .where(member_merges.c.id == merge_id, member_merges.c.state == expected_state)
        .values(**values)
    )
    return done.rowcount == 1


def merges(
    conn: sa.Connection, area_code: str, *, states: Sequence[str], limit: int = 100
) -> list[dict[str, Any]]:
    """Merges whose records both lie in the area, newest first, with both people's names and NIKs."""
    q = (
        sa.select(
            member_merges,
            _L.c.name.label("survivor_name"),
            _L.c.nik.label("survivor_nik"),
            _R.c.name.label("merged_name"),
            _R.c.nik.label("merged_nik"),
            _FL.c.kelurahan_code.label("survivor_kelurahan"),
            _FR.c.kelurahan_code.label("merged_kelurahan"),
        )
        .join(_L, _L.c.id == member_merges.c.survivor_id)
        .join(_FL, _FL.c.id == _L.c.family_id)
        .join(_R, _R.c.id == member_merges.c.merged_id)
        .join(_FR, _FR.c.id == _R.c.family_id)
        .where(
            member_merges.c.state.in_(states),
            within(_FL.c.kelurahan_code, area_code),
            within(_FR.c.kelurahan_code, area_code),
        )
        .order_by(member_merges.c.id.desc())
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(q).mappings()]
