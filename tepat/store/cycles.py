"""Queries over benefit cycles and their entitlements: the one INSERT … SELECT, blocking, digest, summaries.

Generation copies each kept candidate of ``tepat.store.candidates`` into
``entitlements`` together with the recipient's NIK, name, KK and address, so a
frozen cycle never changes when the registry does. The recipient of a family
programme is its living, active head, else its oldest living, active member; of a
person programme, the person.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from tepat.domain.cycles import FROZEN_STATES, Cycle
from tepat.domain.entitlements import EntitlementState
from tepat.store.areas import containing, join_on
from tepat.store.areas import within as inside
from tepat.store.bulk import refresh_statistics
from tepat.store.candidates import RECIPIENT as _RECIPIENT
from tepat.store.candidates import Scope, fixed_amount, kept_filter, ranked_candidates, recipient_of_family
from tepat.store.payability import block_unpayable
from tepat.store.payment_states import entitlement_columns, entitlement_state, entitlement_state_in
from tepat.store.schema import benefit_cycles, entitlements, programmes

DIGEST_COLUMNS = (
    "unit_key",
    "family_id",
    "member_id",
    "kk_number",
    "recipient_nik",
    "recipient_name",
    "kelurahan_code",
    "kecamatan_code",
    "rw",
    "rt",
    "address",
    "desil",
    "rank",
    "level",
    "amount",
    "source",
)
"""What the frozen list's SHA-256 covers: every copied column but the payment state (which payments move on) and
the score (a float, whose text differs between backends; the rank it produced is covered)."""
_NULL = "\\N"
_SEPARATOR = "\x1f"


def insert_cycle(conn: sa.Connection, values: Mapping[str, Any]) -> int:
    return int(
        conn.execute(benefit_cycles.insert().values(**values).returning(benefit_cycles.c.id)).scalar_one()
    )


def with_programme(*extra: sa.ColumnElement[Any]) -> sa.Select[Any]:
    """Benefit cycles with their programme's ``programme_code`` and ``programme_name`` (and ``extra`` of its
    columns): how every reader of a cycle names it."""
    return sa.select(
        benefit_cycles,
        programmes.c.code.label("programme_code"),
        programmes.c.name.label("programme_name"),
        *extra,
    ).join(programmes, programmes.c.id == benefit_cycles.c.programme_id)


def get_cycle(conn: sa.Connection, cycle_id: int, *, lock: bool = False) -> Cycle | None:
    q = with_programme(programmes.c.unit).where(benefit_cycles.c.id == cycle_id)
    if lock:
        q = q.with_for_update(of=benefit_cycles)
    row = conn.execute(q).mappings().first()
    return Cycle.from_row(row) if row else None


def list_cycles(conn: sa.Connection, programme_ids: Sequence[int] | None = None) -> list[Cycle]:
    """Every cycle, newest first (of these programmes only, when given)."""
    q = with_programme().order_by(benefit_cycles.c.id.desc())
    if programme_ids is not None:
        q = q.where(benefit_cycles.c.programme_id.in_(list(programme_ids)))
    return [Cycle.from_row(r) for r in conn.execute(q).mappings()]


def count_in_state(
    conn: sa.Connection,
    state: str,
    *,
    within: str,
    overlapping: bool = False,
    not_submitted_by: str | None = None,
) -> int:
    """How many cycles in ``state`` cover ``within`` or a region inside it (``overlapping``: or a region containing it,
    as a city cycle does a kecamatan's payments); optionally leaving out those one user submitted (they may not
    approve them)."""
    area = benefit_cycles.c.area_code
    where = inside(area, within)
    if overlapping:
        where = sa.or_(where, containing(area, within))
    q = sa.select(sa.func.count()).select_from(benefit_cycles).where(benefit_cycles.c.state == state, where)
    if not_submitted_by is not None:
        q = q.where(
            sa.or_(benefit_cycles.c.submitted_by.is_(None), benefit_cycles.c.submitted_by != not_submitted_by)
        )
    return int(conn.execute(q).scalar_one())


def move(
    conn: sa.Connection, cycle_id: int, from_state: str, version: int, values: Mapping[str, Any]
) -> bool:
    """Change a cycle still in ``from_state`` at ``version``; False when someone moved it first."""
    result = conn.execute(
        benefit_cycles.update()
        .where(
            benefit_cycles.c.id == cycle_id,
            benefit_cycles.c.state == from_state,
            benefit_cycles.c.version == version,
        )
        .values(**values, version=version + 1)
    )
    return result.rowcount == 1


def committed(conn: sa.Connection, programme_id: int, year: int, *, excluding: int | None = None) -> int:
    """Rupiah the programme's frozen cycles starting in ``year`` already committed."""
    q = sa.select(sa.func.coalesce(sa.func.sum(benefit_cycles.c.total_amount), 0)).where(
        benefit_cycles.c.programme_id == programme_id,
        benefit_cycles.c.state.in_([s.value for s in FROZEN_STATES]),
        benefit_cycles.c.period_start >= date(year, 1, 1),
        benefit_cycles.c.period_start <= date(year, 12, 31),
    )
    if excluding is not None:
        q = q.where(benefit_cycles.c.id != excluding)
    return int(conn.execute(q).scalar_one())


# ----------------------------------------------------------------- generation


def generate(conn: sa.Connection, cycle_id: int, scope: Scope, at: datetime) -> tuple[int, int]:
    """Replace the cycle's entitlements with the kept candidates (one INSERT … SELECT); returns (count, total).

    The count is the insert's own row count; with one amount for everyone the total is count × amount, otherwise
    (education aid by school level) the amounts come back from the insert (``RETURNING``): no second pass either way.
    """
    conn.execute(entitlements.delete().where(entitlements.c.cycle_id == cycle_id))
    if conn.dialect.name == "postgresql":
        # compiling this one big statement with JIT costs seconds and saves none: it is I/O and index probes
        conn.exec_driver_sql("SET LOCAL jit = off")
    insert = entitlements.insert().from_select(_INSERT_COLUMNS, _entitlement_rows(cycle_id, scope, at))
    amount = fixed_amount(scope.programme)
    if amount is not None:
        count = int(
            conn.execute(insert.execution_options(preserve_rowcount=True)).rowcount
        )  # -1 on psycopg without
        total = count * amount
    else:
        amounts = [a for (a,) in conn.execute(insert.returning(entitlements.c.amount))]
        count, total = len(amounts), int(sum(amounts))
    refresh_statistics(conn, "entitlements", rows=count)  # the approval's join is planned on them
    return count, total


_INSERT_COLUMNS = [
    "cycle_id",
    "unit_key",
    "family_id",
    "member_id",
    "kk_number",
    "recipient_nik",
    "recipient_name",
    "kelurahan_code",
    "kecamatan_code",
    "rw",
    "rt",
    "address",
    "desil",
    "score",
    "rank",
    "level",
    "amount",
    "source",
    "state",
    "updated_at",
    "office_code",
]


def _entitlement_rows(cycle_id: int, scope: Scope, at: datetime) -> sa.Select[Any]:
    """The kept candidates with their recipient and copied details.

    Without a quota or budget every candidate is kept, and the recipient is found in the candidates' own pass
    (in registry order); with a cut, after it, once per kept unit.
    """
    every = scope.quota is None and scope.budget is None
    ranked = ranked_candidates(scope, running_total=False, recipient=every).subquery("peringkat")
    if every:
        k = ranked.c
        return sa.select(*_copied(cycle_id, k, k.recipient_id, k.recipient_nik, k.recipient_name, at))
    person = scope.programme["unit"] == "orang"
    recipient = ranked.c.member_id if person else recipient_of_family(ranked.c.family_id)
    kept = (
        sa.select(ranked, recipient.label("recipient_id"))
        .where(*kept_filter(scope, ranked))
        .subquery("terpilih")
    )
    k = kept.c
    source = kept.outerjoin(
        _RECIPIENT, sa.and_(_RECIPIENT.c.id == k.recipient_id, join_on(_RECIPIENT.c.family_id, k.family_id))
    )
    payee = _RECIPIENT.c
    return sa.select(*_copied(cycle_id, k, payee.id, payee.nik, payee.name, at)).select_from(source)


def _copied(
    cycle_id: int, k: Any, member_id: Any, nik: Any, name: Any, at: datetime
) -> list[sa.ColumnElement[Any]]:
    """The columns of ``_INSERT_COLUMNS``, in order."""
    return [
        sa.literal(cycle_id, sa.Integer),
        k.unit_key,
        k.family_id,
        member_id,
        k.kk_number,
        nik,
        name,
        k.kelurahan_code,
        k.kecamatan_code,
        k.rw,
        k.rt,
        k.address,
        k.desil,
        k.score,
        k.rank,
        k.level,
        k.amount,
        k.source,
        sa.literal(EntitlementState.TERJADWAL.value, sa.String),
        sa.literal(at, sa.DateTime(timezone=True)),
        k.office_code,
    ]


# ----------------------------------------------------------------- approval


def digest_line(dialect: str) -> sa.ColumnElement[str]:
    """One entitlement's digest columns as text, built by the database (integers and text only, so the same
    characters on both backends): fields joined by U+001F, a missing value as ``\\N``.

    On SQLite one ``printf`` builds the line (half the time of fifteen ``||`` with a ``CAST`` each, which allocate
    a string per step); elsewhere the concatenation. Both give the same characters.
    """
    if dialect == "sqlite":
        fields = [sa.func.ifnull(entitlements.c[name], _NULL) for name in DIGEST_COLUMNS]
        return sa.func.printf(_SEPARATOR.join(["%s"] * len(fields)), *fields, type_=sa.String)
    parts = [sa.func.coalesce(sa.cast(entitlements.c[name], sa.String), _NULL) for name in DIGEST_COLUMNS]
    line: sa.ColumnElement[str] = parts[0]
    for part in parts[1:]:
        line = line + _SEPARATOR + part
    return line


def freeze(conn: sa.Connection, cycle_id: int, at: datetime) -> tuple[int, str]:
    """Block the unpayable (``payability``: one rule for approval, batches and registry changes) and digest the list;
    returns (blocked, SHA-256). The digest does not cover the payment state, so it is the same before or after."""
    blocked = block_unpayable(conn, at, cycle_id=cycle_id, states=(EntitlementState.TERJADWAL.value,))
    return blocked, snapshot_digest(conn, cycle_id)


def snapshot_digest(conn: sa.Connection, cycle_id: int, batch: int = 50_000) -> str:
    """The SHA-256 of the list's digest lines in (rank, unit key) order, newline-terminated (see ``digest_line``).

    Generation inserts the list in rank order, so the cycle's rows are read in id order — a forward scan of the
    id range, no sort — while checking that (rank, unit key) only grows; should it not (a list written some other
    way), the digest is computed again from a read sorted by the database.
    """
    e = entitlements.c
    lo, hi = conn.execute(sa.select(sa.func.min(e.id), sa.func.max(e.id)).where(e.cycle_id == cycle_id)).one()
    line = digest_line(conn.dialect.name)
    if lo is not None:
        # ``cycle_id + 0``: a test on each row of the id range, not a reason to read through the cycle's index
        in_id_order = (
            sa.select(line, e.rank, e.unit_key)
            .where(e.id.between(lo, hi), (e.cycle_id + 0) == cycle_id)
            .order_by(e.id)
        )
        digest = _digest(conn, in_id_order, batch)
        if digest is not None:
            return digest
    in_rank_order = (
        sa.select(line, e.rank, e.unit_key).where(e.cycle_id == cycle_id).order_by(e.rank, e.unit_key)
    )
    return _digest(conn, in_rank_order, batch, check=False) or ""


def _digest(conn: sa.Connection, q: sa.Select[Any], batch: int, *, check: bool = True) -> str | None:
    """SHA-256 of the query's lines; None when ``check`` and (rank, unit key) does not grow from row to row."""
    h = hashlib.sha256()
    previous: tuple[int, int] = (-1, -1)
    for part in conn.execute(q.execution_options(yield_per=batch)).partitions():
        if check:
            for _, rank, unit_key in part:
                if rank is None or (rank, unit_key) <= previous:
                    return None
                previous = (rank, unit_key)
        h.update(("\n".join(r[0] for r in part) + "\n").encode())
    return h.hexdigest()


def counts(conn: sa.Connection, cycle_id: int) -> dict[str, int]:
    """Entitlements per state (as they are now)."""
    state = entitlement_state(entitlements.c)
    q = sa.select(state, sa.func.count()).where(entitlements.c.cycle_id == cycle_id).group_by(state)
    return {str(s): int(n) for s, n in conn.execute(q)}


def move_entitlements(
    conn: sa.Connection, cycle_id: int, from_state: str, to_state: str, at: datetime
) -> int:
    """Every entitlement of the cycle in ``from_state`` to ``to_state`` (a service cycle's coverage starting or
    ending); returns how many."""
    e = entitlements.c
    result = conn.execute(
        entitlements.update()
        .where(e.cycle_id == cycle_id, e.state == from_state)
        .values(state=to_state, updated_at=at)
    )
    return int(result.rowcount or 0)


def not_final(conn: sa.Connection, cycle_id: int, final: frozenset[str]) -> int:
    q = sa.select(sa.func.count()).where(
        entitlements.c.cycle_id == cycle_id, sa.not_(entitlement_state_in(entitlements.c, final))
    )
    return int(conn.execute(q).scalar_one())


def by_kelurahan(conn: sa.Connection, cycle_id: int, area: sa.ColumnElement[bool]) -> list[dict[str, Any]]:
    """Per kelurahan: entitlements, total rupiah, blocked, paid (count and rupiah)."""
    e = entitlements.c
    state = entitlement_state(e)
    q = (
        sa.select(
            e.kecamatan_code,
            e.kelurahan_code,
            sa.func.count().label("count"),
            sa.func.sum(e.amount).label("total"),
            sa.func.sum(sa.case((e.state == EntitlementState.DIBLOKIR.value, 1), else_=0)).label("blocked"),
            sa.func.sum(sa.case((state == EntitlementState.DIBAYAR.value, 1), else_=0)).label("paid"),
            sa.func.sum(sa.case((state == EntitlementState.DIBAYAR.value, e.amount), else_=0)).label(
                "paid_total"
            ),
        )
        .where(e.cycle_id == cycle_id, area)
        .group_by(e.kecamatan_code, e.kelurahan_code)
        .order_by(e.kecamatan_code, e.kelurahan_code)
    )
    return [
        {k: (int(v) if k not in ("kecamatan_code", "kelurahan_code") else v) for k, v in r.items()}
        for r in conn.execute(q).mappings()
    ]


def page(
    conn: sa.Connection, cycle_id: int, area: sa.ColumnElement[bool], offset: int, limit: int
) -> list[dict[str, Any]]:
    q = (
        sa.select(*entitlement_columns())
        .where(entitlements.c.cycle_id == cycle_id, area)
        .order_by(entitlements.c.rank, entitlements.c.unit_key)
        .offset(offset)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(q).mappings()]
