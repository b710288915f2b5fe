"""Queries over the family aggregate: ``families`` with their ``members``.

Every listing takes the caller's area (a region-code prefix) so that no query
can return a family outside it.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tepat.domain.nik import Nik
from tepat.store.areas import within
from tepat.store.schema import families, members


def in_area(area_code: str, column: sa.ColumnElement[str] | None = None) -> sa.ColumnElement[bool]:
    """A family's ``kelurahan_code`` (or ``column``) lies inside ``area_code`` (``""`` = everywhere): ``within``,
    with the families table's own kecamatan column (indexed) for a kecamatan area."""
    if column is None and area_code.count(".") == 2:
        return families.c.kecamatan_code == area_code
    return within(families.c.kelurahan_code if column is None else column, area_code)


# Statements on hot paths (a page view, a NIK lookup) are built once and only bound per call.
_FAMILY = sa.select(families).where(families.c.id == sa.bindparam("family_id"))
_MEMBERS = (
    sa.select(members)
    .where(members.c.family_id == sa.bindparam("family_id"))
    .order_by(sa.case((members.c.relationship == "kepala_keluarga", 0), else_=1), members.c.id)
)
_ACTIVE_MEMBERS = _MEMBERS.where(members.c.status == "aktif")
_MEMBER = sa.select(members).where(members.c.id == sa.bindparam("member_id"))
_ACTIVE_BY_NIK = sa.select(members).where(members.c.nik == sa.bindparam("nik"), members.c.status == "aktif")

_FAMILY_KEYS = tuple(families.c.keys())
_MEMBER_KEYS = tuple(members.c.keys())
_by_nik = members.alias("by_nik")
# One statement for the NIK lookup: the family of the active member with this NIK and all its members, head first.
_FAMILY_BY_NIK = (
    sa.select(families, members)
    .select_from(
        _by_nik.join(families, families.c.id == _by_nik.c.family_id).join(
            members, members.c.family_id == families.c.id
        )
    )
    # Constants written into the SQL, not bound: SQLite re-prepares a statement on every execution when a
    # bound value decides whether a partial index (here ``uq_members_active_nik``) may be used.
    .where(_by_nik.c.nik == sa.bindparam("nik"), _by_nik.c.status == sa.literal_column("'aktif'"))
    .order_by(
        sa.case(
            (members.c.relationship == sa.literal_column("'kepala_keluarga'"), sa.literal_column("0")),
            else_=sa.literal_column("1"),
        ),
        members.c.id,
    )
)


@dataclass(frozen=True)
class DriverConnection:
    """A pooled DBAPI connection with its dialect, for ``DriverQuery``."""

    dbapi: Any
    dialect: sa.Dialect
    pooled: Any = None  # the pool's proxy, to throw a dead connection away


class DriverQuery:
    """A Core SELECT compiled once per dialect and run on the driver's own cursor.

    For the hottest read (the NIK lookup) SQLAlchemy's per-execution work (execution
    context, result metadata, row objects) costs more than the indexed query itself.
    This runs the same SQL text on the DBAPI cursor and converts the values with the
    column types' own result processors, so rows come back exactly as through Core. The
    connection comes from ``single_statement_reader``: a single SELECT needs no transaction.
    """

    def __init__(self, statement: sa.Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[
            str, tuple[str, dict[str, Any], tuple[str, ...] | None, list[tuple[int, Any]]]
        ] = {}

    def _for(
        self, dialect: sa.Dialect
    ) -> tuple[str, dict[str, Any], tuple[str, ...] | None, list[tuple[int, Any]]]:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            c = self.statement.compile(dialect=dialect)
            converters = [
                col.type.dialect_impl(dialect).result_processor(dialect, None)
                for col in self.statement.selected_columns
            ]
            processors = [(i, p) for i, p in enumerate(converters) if p is not None]
            order = tuple(c.positiontup) if c.positional and c.positiontup is not None else None
            fixed = {
                name: b.value for name, b in c.binds.items() if not b.required
            }  # the statement's own literals
            compiled = self._compiled[dialect.name] = (c.string, fixed, order, processors)
        return compiled

    def rows(self, conn: DriverConnection, params: dict[str, Any]) -> list[Any]:
        """The result rows as sequences of column values, in the statement's column order."""
        sql, fixed, order, processors = self._for(conn.dialect)
        values = {**fixed, **params}
        bound = tuple(values[name] for name in order) if order is not None else values
        cursor = conn.dbapi.cursor()
        try:
            cursor.execute(sql, bound)
            raw = cursor.fetchall()
        finally:
            cursor.close()
        if not processors:
            return list(raw)
        out = []
        for r in raw:
            row = list(r)
            for i, convert in processors:
                if row[i] is not None:
                    row[i] = convert(row[i])
            out.append(row)
        return out


_FAMILY_BY_NIK_QUERY = DriverQuery(_FAMILY_BY_NIK)


_READERS: weakref.WeakKeyDictionary[sa.Engine, sa.Engine] = weakref.WeakKeyDictionary()


def _reader_engine(engine: sa.Engine) -> sa.Engine:
    """The pool the lookups use: on PostgreSQL a small one of its own, without the pre-ping.

    The main engine pings every connection it hands out (one more round trip, as long as the
    lookup itself); here a connection that turns out dead is thrown away and the lookup is run
    once more on a fresh one instead (``single_statement_reader``). Disposed with the main engine.
    """
    if engine.dialect.name != "postgresql":
        return engine
    reader = _READERS.get(engine)
    if reader is None:
        reader = _READERS[engine] = sa.create_engine(
            engine.url,
            connect_args={"options": "-c timezone=UTC"},
            pool_size=2,
            max_overflow=8,  # as tepat.store.engine
            isolation_level="AUTOCOMMIT",  # one SELECT needs no transaction: no BEGIN/ROLLBACK round trips
        )
        sa.event.listen(engine, "engine_disposed", lambda _engine: reader.dispose())
    return reader


@contextmanager
def single_statement_reader(engine: sa.Engine) -> Iterator[DriverConnection]:
    """A pooled driver connection for ``DriverQuery`` reads outside any transaction.

    One SELECT sees one consistent snapshot by itself, so no transaction is opened: on
    SQLite the driver already runs in autocommit mode (Core, which would emit ``BEGIN``,
    is bypassed); on PostgreSQL the lookup pool's connections are in autocommit, which
    saves the ``BEGIN`` and ``ROLLBACK`` round trips. ``raw_connection()`` skips Core's
    ``Connection`` wrapper, which costs more than the lookup on SQLite.
    """
    pooled = _reader_engine(engine).raw_connection()
    try:
        yield DriverConnection(pooled.driver_connection, engine.dialect, pooled)
    finally:
        pooled.close()


def get(conn: sa.Connection, family_id: int) -> dict[str, Any] | None:
    row = conn.execute(_FAMILY, {"family_id": family_id}).mappings().first()
    return dict(row) if row else None


def members_of(conn: sa.Connection, family_id: int, *, include_inactive: bool = True) -> list[dict[str, Any]]:
    """The family's members, head first."""
    q = _MEMBERS if include_inactive else _ACTIVE_MEMBERS
    return [dict(r) for r in conn.execute(q, {"family_id": family_id}).mappings()]


def get_member(conn: sa.Connection, member_id: int) -> dict[str, Any] | None:
    row = conn.execute(_MEMBER, {"member_id": member_id}).mappings().first()
    return dict(row) if row else None


def active_member_by_nik(conn: sa.Connection, nik: str) -> dict[str, Any] | None:
    row = conn.execute(_ACTIVE_BY_NIK, {"nik": nik}).mappings().first()
    return dict(row) if row else None


def read_rows(engine: sa.Engine, query: DriverQuery, params: dict[str, Any]) -> list[Any]:
    """Run ``query`` on a connection of the lookup pool; once more on a fresh one if the first was dead."""
    for attempt in (1, 2):
        with single_statement_reader(engine) as conn:
            try:
                return query.rows(conn, params)
            except engine.dialect.loaded_dbapi.Error as exc:
                if attempt == 2 or not engine.dialect.is_disconnect(exc, conn.dbapi, None):
                    raise
                conn.pooled.invalidate()  # e.g. the server restarted since this connection was last used
    raise AssertionError("unreachable")


def family_by_active_nik(engine: sa.Engine, nik: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The family of the active member with this NIK and all its members (head first), in one statement."""
    rows = read_rows(engine, _FAMILY_BY_NIK_QUERY, {"nik": nik})
    if not rows:
        return None
    split = len(_FAMILY_KEYS)
    family = dict(zip(_FAMILY_KEYS, rows[0][:split], strict=True))
    return family, [dict(zip(_MEMBER_KEYS, row[split:], strict=True)) for row in rows]


def active_family_by_kk(conn: sa.Connection, kk_number: str) -> dict[str, Any] | None:
    q = sa.select(families).where(families.c.kk_number == kk_number, families.c.registry_status == "aktif")
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def head_name() -> sa.ScalarSelect[Any]:
    """The name of the family's active head (the first, should a family have two), correlated to ``families``."""
    return (
        sa.select(members.c.name)
        .where(
            members.c.family_id == families.c.id,
            members.c.relationship == "kepala_keluarga",
            members.c.status == "aktif",
        )
        .order_by(members.c.id)
        .limit(1)
        .scalar_subquery()
    )


def _summary_query(area_code: str) -> sa.Select[Any]:
    head = head_name()
    count = (
        sa.select(sa.func.count())
        .where(members.c.family_id == families.c.id, members.c.status == "aktif")
        .scalar_subquery()
    )
    return sa.select(
        families.c.id,
        families.c.kk_number,
        families.c.kelurahan_code,
        families.c.rw,
        families.c.rt,
        families.c.address,
        families.c.registry_status,
        families.c.verification_status,
        head.label("head_name"),
        count.label("member_count"),
    ).where(in_area(area_code))


def _like(word: str) -> str:
    return "%" + word.upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(
    conn: sa.Connection, area_code: str, query: str, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    """Families in the area whose KK or a member's NIK is ``query``, or one of whose members has every word of it in
    their name; each with ``matched_name``, the first member who matched."""
    text = query.strip()
    if Nik.looks_like(text):  # (a KK number looks the same: both are matched)
        matches = (
            sa.select(members.c.family_id, sa.func.min(members.c.id).label("member_id"))
            .where(members.c.nik == text)
            .group_by(members.c.family_id)
            .subquery()
        )
        cond = sa.or_(families.c.kk_number == text, families.c.id.in_(sa.select(matches.c.family_id)))
    else:
        words = [sa.func.upper(members.c.name).like(_like(word), escape="\\") for word in text.split()]
        matches = (
            sa.select(members.c.family_id, sa.func.min(members.c.id).label("member_id"))
            .where(*words)
            .group_by(members.c.family_id)
            .subquery()
        )
        cond = families.c.id.in_(sa.select(matches.c.family_id))
    matched = (
        sa.select(members.c.name)
        .join(matches, matches.c.member_id == members.c.id)
        .where(matches.c.family_id == families.c.id)
        .scalar_subquery()
    )
    q = (
        _summary_query(area_code)
        .add_columns(matched.label("matched_name"))
        .where(cond)
        .order_by(families.c.kelurahan_code, families.c.rw, families.c.rt, families.c.id)
    )
    return [dict(r) for r in conn.execute(q.offset(offset).limit(limit)).mappings()]


def list_in(
    conn: sa.Connection, area_code: str, kelurahan_code: str, rw: int | None, offset: int, limit: int
) -> list[dict[str, Any]]:
    q = _summary_query(area_code).where(families.c.kelurahan_code == kelurahan_code)
    if rw is not None:
        q = q.where(families.c.rw == rw)
    q = q.order_by(families.c.rw, families.c.rt, families.c.id).offset(offset).limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


def counts_by(
    conn: sa.Connection, area_code: str, key: str, within: str | None = None
) -> dict[Any, tuple[int, int]]:
    """Active families and members per ``key`` (``kecamatan_code``, ``kelurahan_code`` or ``rw``): two grouped scans."""
    group = families.c[key]
    where = [in_area(area_code), families.c.registry_status == "aktif"]
    if within is not None:
        where.append(in_area(within))
    family_counts = sa.select(group, sa.func.count()).where(*where).group_by(group)
    member_counts = (
        sa.select(group, sa.func.count())
        .select_from(members.join(families, members.c.family_id == families.c.id))
        .where(*where, members.c.status == "aktif")
        .group_by(group)
    )
    people = {row[0]: int(row[1]) for row in conn.execute(member_counts)}
    return {row[0]: (int(row[1]), people.get(row[0], 0)) for row in conn.execute(family_counts)}


def _touched_by(import_id: int) -> sa.CompoundSelect[tuple[int]]:
    """Ids of the families an import created or changed, or one of whose members it created or changed."""
    return sa.union(
        sa.select(families.c.id).where(families.c.import_id == import_id),
        sa.select(members.c.family_id).where(members.c.import_id == import_id),
    )


def headless_after_import(conn: sa.Connection, import_id: int) -> list[str]:
    """KK numbers of the active families an import touched that have no active head (kepala keluarga)."""
    head = (
        sa.select(members.c.id)
        .where(
            members.c.family_id == families.c.id,
            members.c.relationship == "kepala_keluarga",
            members.c.status == "aktif",
        )
        .exists()
    )
    q = (
        sa.select(families.c.kk_number)
        .where(
            families.c.id.in_(_touched_by(import_id).scalar_subquery()),
            families.c.registry_status == "aktif",
            ~head,
        )
        .order_by(families.c.kk_number)
    )
    return list(conn.execute(q).scalars())


def deceased_active_after_import(conn: sa.Connection, import_id: int) -> list[str]:
    """NIKs of the members an import created or changed who are recorded as dead but still active."""
    q = (
        sa.select(members.c.nik)
        .where(
            members.c.import_id == import_id,
            members.c.life_status == "meninggal",
            members.c.status == "aktif",
        )
        .order_by(members.c.nik)
    )
    return list(conn.execute(q).scalars())
